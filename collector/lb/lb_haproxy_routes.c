/*
 * The coordinator-id map on every HAProxy instance (lb_haproxy_routes.h).
 * Each instance syncs on its own: read the map (`show map FILE`, rows
 * "0x<ref> <key> <value>"), then send the differences as one line of
 * commands separated by ';', which HAProxy runs in order on one connection
 * (HAProxy's doc/management.txt, "Unix Socket commands"). A success prints
 * nothing, so any text in the answer is an error, logged. Syncing on every
 * tick also repairs a map a reload emptied.
 */
#include "lb_haproxy_routes.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "haproxy_cli.h"
#include "log.h"

#define ROUTES_MAX 64
#define ID_LEN     16

struct route_row {
	char id[ID_LEN];
	const char *backend; /* one of routes->backends */
};

struct routes_instance {
	struct lb_haproxy_routes *routes;
	char *socket;
	struct haproxy_request *request;
	bool applying; /* the request in flight sends changes (else it reads the map) */
	char last_error[512];
};

struct lb_haproxy_routes {
	struct event_base *base;
	char *map_file;
	int64_t timeout_ms;
	char *clusters[LB_MAX_ROUTE_BACKENDS];
	char *backends[LB_MAX_ROUTE_BACKENDS];
	size_t backend_count;
	struct route_row wanted[ROUTES_MAX];
	size_t wanted_count;
	struct routes_instance instances[LB_MAX_ROUTE_INSTANCES];
	size_t instance_count;
};

static const char *backend_of(const struct lb_haproxy_routes *routes, const char *cluster)
{
	for (size_t i = 0; i < routes->backend_count; i++)
		if (strcmp(routes->clusters[i], cluster) == 0)
			return routes->backends[i];
	return NULL;
}

/* Only ids of Trino's alphabet reach the runtime API: no spaces, no ';'. */
static bool id_ok(const char *id)
{
	size_t len = strlen(id);
	return len > 0 && len < ID_LEN && strspn(id, "abcdefghijklmnopqrstuvwxyz0123456789") == len;
}

/* A row's reference in `show map` as HAProxy prints it: 0x and hex digits. */
static bool ref_ok(const char *ref)
{
	size_t len = strlen(ref);
	return len > 2 && len < 40 && strncmp(ref, "0x", 2) == 0 &&
	       strspn(ref + 2, "0123456789abcdefABCDEF") == len - 2;
}

static void log_failure(struct routes_instance *in, const char *what)
{
	/* once per distinct error, not once per tick */
	if (strcmp(in->last_error, what) == 0)
		return;
	snprintf(in->last_error, sizeof(in->last_error), "%s", what);
	log_warn("HAProxy %s: query-id map %s: %s", in->socket, in->routes->map_file, what);
}

static const struct route_row *wanted_row(const struct lb_haproxy_routes *routes, const char *id)
{
	for (size_t i = 0; i < routes->wanted_count; i++)
		if (strcmp(routes->wanted[i].id, id) == 0)
			return &routes->wanted[i];
	return NULL;
}

/* Appends to COMMANDS what turns the map SHOWN into the wanted rows; false when nothing. */
static bool plan_changes(const struct lb_haproxy_routes *routes, const char *shown, char *commands,
                         size_t commands_len)
{
	bool seen[ROUTES_MAX] = {false};
	size_t used = 0;
	commands[0] = '\0';
	for (const char *line = shown; line != NULL && *line != '\0';) {
		const char *end = strchr(line, '\n');
		char row[512], ref[64], key[128], value[256];
		size_t len = end != NULL ? (size_t)(end - line) : strlen(line);
		snprintf(row, sizeof(row), "%.*s", (int)(len < sizeof(row) ? len : sizeof(row) - 1),
		         line);
		line = end != NULL ? end + 1 : NULL;
		if (sscanf(row, "%63s %127s %255s", ref, key, value) != 3)
			continue;
		const struct route_row *want = wanted_row(routes, key);
		if (want == NULL && !id_ok(key)) {
			/* not an id we would add: deleted by its reference, for a key
			 * holding ';' would end the command and start another */
			if (ref_ok(ref))
				used += (size_t)snprintf(commands + used, commands_len - used,
				                         "del map %s #%s;", routes->map_file, ref);
		} else if (want == NULL)
			used += (size_t)snprintf(commands + used, commands_len - used,
			                         "del map %s %s;", routes->map_file, key);
		else if (strcmp(want->backend, value) != 0)
			used += (size_t)snprintf(commands + used, commands_len - used,
			                         "set map %s %s %s;", routes->map_file, key,
			                         want->backend);
		if (want != NULL)
			seen[want - routes->wanted] = true;
		if (used >= commands_len)
			return false;
	}
	for (size_t i = 0; i < routes->wanted_count && used < commands_len; i++)
		if (!seen[i])
			used += (size_t)snprintf(commands + used, commands_len - used,
			                         "add map %s %s %s;", routes->map_file,
			                         routes->wanted[i].id, routes->wanted[i].backend);
	return used > 0 && used < commands_len;
}

static void on_answer(const char *output, const char *error, void *arg);

static void send_command(struct routes_instance *in, const char *command, bool applying)
{
	char err[512];
	in->applying = applying;
	in->request = haproxy_command(in->routes->base, in->socket, command, in->routes->timeout_ms,
	                              on_answer, in, err, sizeof(err));
	if (in->request == NULL)
		log_failure(in, err);
}

/* HAProxy answered a read of the map or the changes. */
static void on_answer(const char *output, const char *error, void *arg)
{
	struct routes_instance *in = arg;
	struct lb_haproxy_routes *routes = in->routes;
	in->request = NULL;
	if (output == NULL) {
		log_failure(in, error);
		return;
	}
	if (in->applying) {
		if (output[strspn(output, " \n")] != '\0') {
			char text[400];
			snprintf(text, sizeof(text), "%s", output);
			text[strcspn(text, "\n")] = '\0';
			log_failure(in, text);
			return;
		}
		if (in->last_error[0] != '\0')
			log_info("HAProxy %s: query-id map %s in sync again", in->socket,
			         routes->map_file);
		in->last_error[0] = '\0';
		return;
	}
	if (strncmp(output, "Unknown map", 11) == 0) {
		log_failure(in, "HAProxy has no such map (is it in haproxy.cfg?)");
		return;
	}
	char commands[ROUTES_MAX * 2 * 160];
	if (plan_changes(routes, output, commands, sizeof(commands)))
		send_command(in, commands, true);
}

void lb_haproxy_routes_set(struct lb_haproxy_routes *routes, const struct lb_route *rows,
                           size_t count)
{
	routes->wanted_count = 0;
	for (size_t i = 0; i < count && routes->wanted_count < ROUTES_MAX; i++) {
		const char *backend = backend_of(routes, rows[i].cluster);
		if (backend == NULL || !id_ok(rows[i].coordinator_id))
			continue;
		struct route_row *row = &routes->wanted[routes->wanted_count++];
		snprintf(row->id, sizeof(row->id), "%s", rows[i].coordinator_id);
		row->backend = backend;
	}
	char command[600];
	snprintf(command, sizeof(command), "show map %s", routes->map_file);
	for (size_t i = 0; i < routes->instance_count; i++)
		if (routes->instances[i].request == NULL)
			send_command(&routes->instances[i], command, false);
}

struct lb_haproxy_routes *lb_haproxy_routes_new(struct event_base *base, const char *const *sockets,
                                                size_t count, const char *map_file,
                                                int64_t timeout_ms, const char *const *clusters,
                                                const char *const *backends, size_t backend_count,
                                                char *err, size_t err_len)
{
	struct lb_haproxy_routes *routes = calloc(1, sizeof(*routes));
	if (routes == NULL) {
		snprintf(err, err_len, "haproxy driver: out of memory");
		return NULL;
	}
	routes->base = base;
	routes->timeout_ms = timeout_ms;
	routes->map_file = strdup(map_file);
	bool allocated = routes->map_file != NULL;
	for (size_t i = 0; i < backend_count && i < LB_MAX_ROUTE_BACKENDS; i++) {
		routes->clusters[i] = strdup(clusters[i]);
		routes->backends[i] = strdup(backends[i]);
		routes->backend_count++;
		allocated = allocated && routes->clusters[i] != NULL && routes->backends[i] != NULL;
	}
	for (size_t i = 0; i < count && i < LB_MAX_ROUTE_INSTANCES; i++) {
		routes->instances[i].routes = routes;
		routes->instances[i].socket = strdup(sockets[i]);
		routes->instance_count++;
		allocated = allocated && routes->instances[i].socket != NULL;
	}
	if (!allocated) {
		snprintf(err, err_len, "haproxy driver: out of memory");
		lb_haproxy_routes_free(routes);
		return NULL;
	}
	return routes;
}

void lb_haproxy_routes_free(struct lb_haproxy_routes *routes)
{
	if (routes == NULL)
		return;
	for (size_t i = 0; i < routes->instance_count; i++) {
		haproxy_cancel(routes->instances[i].request);
		free(routes->instances[i].socket);
	}
	for (size_t i = 0; i < routes->backend_count; i++) {
		free(routes->clusters[i]);
		free(routes->backends[i]);
	}
	free(routes->map_file);
	free(routes);
}
