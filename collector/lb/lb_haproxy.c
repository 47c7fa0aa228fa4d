/*
 * The haproxy driver. A switch runs, per instance and in parallel, the steps
 * check -> set -> verify, each retried with a doubling backoff; when every
 * instance has finished, the map file is rewritten (only if all succeeded,
 * from its own event) and the caller hears once. HAProxy answers a
 * successful `set` with an empty line and an error with text (HAProxy's
 * management guide, doc/management.txt, "set map").
 */
#include "lb_haproxy.h"

#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "durable_file.h"
#include "haproxy_cli.h"
#include "lb_haproxy_routes.h"
#include "log.h"

enum step { STEP_CHECK, STEP_SET, STEP_VERIFY, STEP_DONE, STEP_FAILED };

struct instance {
	struct lb_haproxy *lb;
	char *socket;
	char *map; /* its runtime map's name */
	enum step step;
	int attempt;
	struct haproxy_request *request;
	struct event *retry_timer;
	char error[512];
};

struct lb_haproxy {
	struct event_base *base;
	char *map_files[LB_MAX_INSTANCES]; /* rewritten after each switch, each once */
	size_t map_file_count;             /* 0: none, runtime changes only */
	char *key;
	char *clusters[LB_MAX_BACKENDS];
	char *backends[LB_MAX_BACKENDS];
	size_t backend_count;
	int64_t timeout_ms;
	int retries;
	lb_retry_fn on_retry;
	void *on_retry_arg;
	lb_note_fn on_warning;
	struct instance instances[LB_MAX_INSTANCES];
	size_t instance_count;
	/* the switch in progress */
	bool busy;
	const char *target_backend;
	char target_cluster[64];
	size_t pending;
	lb_switch_done_fn done;
	void *arg;
	struct event *map_timer; /* rewrites the map file once every instance switched */
	/* the current() in progress */
	struct haproxy_request *current_request;
	size_t current_index;
	lb_current_done_fn current_done;
	void *current_arg;
	char current_errors[1024];
	struct lb_haproxy_routes *routes; /* NULL: no routing by query id */
};

static const char *backend_of(const struct lb_haproxy *lb, const char *cluster)
{
	for (size_t i = 0; i < lb->backend_count; i++)
		if (strcmp(lb->clusters[i], cluster) == 0)
			return lb->backends[i];
	return NULL;
}

static const char *cluster_of(const struct lb_haproxy *lb, const char *backend)
{
	for (size_t i = 0; i < lb->backend_count; i++)
		if (strcmp(lb->backends[i], backend) == 0)
			return lb->clusters[i];
	return NULL;
}

/* HAProxy's text without its trailing empty lines. */
static void trim(char *text)
{
	size_t len = strlen(text);
	while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == ' '))
		text[--len] = '\0';
}

/* `show stat <backend> 4 -1`: true when some server's status starts with UP. */
static bool some_server_up(const char *csv, char *states, size_t states_len)
{
	int status_column = -1;
	bool up = false;
	states[0] = '\0';
	const char *line = csv;
	while (line != NULL && *line != '\0') {
		const char *end = strchr(line, '\n');
		size_t len = end != NULL ? (size_t)(end - line) : strlen(line);
		char row[4096];
		if (len >= sizeof(row))
			len = sizeof(row) - 1;
		memcpy(row, line, len);
		row[len] = '\0';
		line = end != NULL ? end + 1 : NULL;
		int column = 0;
		bool header = row[0] == '#';
		/* strsep, not strtok: CSV fields may be empty, and must still count */
		char *rest = header ? row + 2 : row;
		for (char *field = strsep(&rest, ","); field != NULL;
		     field = strsep(&rest, ","), column++) {
			if (header && strcmp(field, "status") == 0)
				status_column = column;
			else if (!header && column == status_column) {
				up = up || strncmp(field, "UP", 2) == 0;
				size_t used = strlen(states);
				snprintf(states + used, states_len - used, "%s%s", used ? ", " : "",
				         field);
			}
		}
	}
	return up;
}

static void run_step(struct instance *in);

/*
 * The map file says what HAProxy serves after a reload: the key's row is
 * replaced (or added), every other row kept, and the file replaced durably
 * (durable_file.c: temp file, fsync, rename, fsync of the directory).
 */
static int rewrite_map_file(const struct lb_haproxy *lb, const char *path, char *why,
                            size_t why_len)
{
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);
	if (out == NULL) {
		snprintf(why, why_len, "%s: out of memory", path);
		return -1;
	}
	FILE *in_file = fopen(path, "r");
	char row[1024];
	size_t key_len = strlen(lb->key);
	bool replaced = false;
	while (in_file != NULL && fgets(row, sizeof(row), in_file) != NULL) {
		if (strncmp(row, lb->key, key_len) == 0 &&
		    (row[key_len] == ' ' || row[key_len] == '\t')) {
			if (!replaced)
				fprintf(out, "%s %s\n", lb->key, lb->target_backend);
			replaced = true;
		} else {
			fputs(row, out);
		}
	}
	if (in_file != NULL)
		(void)fclose(in_file); /* read only: nothing to lose */
	if (!replaced)
		fprintf(out, "%s %s\n", lb->key, lb->target_backend);
	int rc = fclose(out) == 0 ? durable_file_replace(path, text, len, 0644, why, why_len) : -1;
	if (rc != 0 && text == NULL)
		snprintf(why, why_len, "%s: out of memory", path);
	free(text);
	return rc;
}

/* Every map file rewritten; the failures' reasons in WHY. 0, or -1. */
static int rewrite_map_files(const struct lb_haproxy *lb, char *why, size_t why_len)
{
	int rc = 0;
	why[0] = '\0';
	for (size_t i = 0; i < lb->map_file_count; i++) {
		char one[512];
		if (rewrite_map_file(lb, lb->map_files[i], one, sizeof(one)) == 0)
			continue;
		size_t used = strlen(why);
		snprintf(why + used, why_len - used, "%s%s", used ? "; " : "", one);
		rc = -1;
	}
	return rc;
}

/*
 * The end of a switch every instance made. HAProxy serves the new backend:
 * that is the decision, so the switch worked even when the map file (the
 * map file's WHY, when not OK) could not be rewritten; that is a warning of
 * its own, for someone to fix before HAProxy is reloaded.
 */
static void report_map_file(struct lb_haproxy *lb, bool ok, const char *why)
{
	lb->busy = false;
	if (!ok) {
		char message[800];
		snprintf(message, sizeof(message),
		         "HAProxy switched to %s, but the map file was not rewritten (a reload "
		         "would undo the switch): %s",
		         lb->target_backend, why);
		log_warn("%s", message);
		if (lb->on_warning != NULL)
			lb->on_warning(message, lb->on_retry_arg);
	}
	lb->done(true, NULL, lb->arg);
}

/*
 * Woken by map_timer, armed with no delay by instance_finished once every
 * instance has switched and verified; touches the map file and the switch in
 * progress. The rewrite blocks the loop: reading a map file of a few rows,
 * writing its replacement and two fsyncs, a few milliseconds on a local disk
 * (tens on a loaded or network one), during which no report, API request or
 * other timer is served. That is acceptable because it happens once per
 * switch (a cutover or a rollback, never per tick), after HAProxy already
 * serves the new backend (users are not kept waiting on it), and in an event
 * of its own rather than deep inside the runtime API's answer callback: the
 * connection is closed first, and the loop takes its turn (events already
 * active run) before the disk work. A thread or a child process would remove
 * even this pause at the price of the locking the single loop spares us.
 */
static void on_map_timer(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct lb_haproxy *lb = arg;
	char why[1024] = "";
	bool ok = rewrite_map_files(lb, why, sizeof(why)) == 0;
	report_map_file(lb, ok, why);
}

static void instance_finished(struct instance *in)
{
	struct lb_haproxy *lb = in->lb;
	if (--lb->pending > 0)
		return;
	size_t failed = 0;
	char errors[2048] = "";
	for (size_t i = 0; i < lb->instance_count; i++) {
		struct instance *other = &lb->instances[i];
		if (other->step != STEP_FAILED)
			continue;
		failed++;
		size_t used = strlen(errors);
		snprintf(errors + used, sizeof(errors) - used, "%s%s", used ? "; " : "",
		         other->error);
	}
	if (failed == 0) {
		/* only now: a map file saying green while HAProxy says blue would lie */
		static const struct timeval no_delay = {0, 0};
		if (evtimer_add(lb->map_timer, &no_delay) == 0)
			return; /* on_map_timer reports, still busy until then */
		report_map_file(lb, false, "cannot schedule the rewrite (evtimer_add failed)");
		return;
	}
	lb->busy = false;
	char message[2300];
	if (failed < lb->instance_count) {
		snprintf(message, sizeof(message),
		         "partial switch to %s: %zu of %zu HAProxy instances failed: %s",
		         lb->target_backend, failed, lb->instance_count, errors);
	} else {
		snprintf(message, sizeof(message), "switch to %s failed: %s", lb->target_backend,
		         errors);
	}
	lb->done(false, message, lb->arg);
}

static void fail_or_retry(struct instance *in, const char *error)
{
	struct lb_haproxy *lb = in->lb;
	snprintf(in->error, sizeof(in->error), "%s", error);
	if (lb_retry_later(&in->attempt, lb->retries, in->retry_timer, lb->on_retry,
	                   lb->on_retry_arg, error))
		return;
	in->step = STEP_FAILED;
	instance_finished(in);
}

/* An answer to the current step of IN. */
static void on_answer(const char *output, const char *error, void *arg)
{
	struct instance *in = arg;
	struct lb_haproxy *lb = in->lb;
	in->request = NULL;
	if (output == NULL) {
		fail_or_retry(in, error);
		return;
	}
	char text[8192], why[8400];
	snprintf(text, sizeof(text), "%s", output);
	switch (in->step) {
	case STEP_CHECK: {
		char states[512];
		if (!some_server_up(text, states, sizeof(states))) {
			trim(text);
			snprintf(why, sizeof(why), "HAProxy %s: backend %s has no server UP (%s)",
			         in->socket, lb->target_backend, states[0] ? states : text);
			/* not worth retrying quickly: health checks take their time */
			in->attempt = lb->retries;
			fail_or_retry(in, why);
			return;
		}
		in->step = STEP_SET;
		break;
	}
	case STEP_SET:
		trim(text);
		if (text[0] != '\0') {
			snprintf(why, sizeof(why), "HAProxy %s: set map: %s", in->socket, text);
			fail_or_retry(in, why);
			return;
		}
		in->step = STEP_VERIFY;
		break;
	case STEP_VERIFY: {
		char expected[300];
		snprintf(expected, sizeof(expected), "value=\"%s\"", lb->target_backend);
		if (strstr(text, expected) == NULL) {
			trim(text);
			snprintf(why, sizeof(why), "HAProxy %s: get map says '%s', not %s",
			         in->socket, text, lb->target_backend);
			in->step = STEP_SET;
			fail_or_retry(in, why);
			return;
		}
		in->step = STEP_DONE;
		in->error[0] = '\0';
		instance_finished(in);
		return;
	}
	default:
		return;
	}
	run_step(in);
}

static void run_step(struct instance *in)
{
	struct lb_haproxy *lb = in->lb;
	char command[1024], err[512];
	switch (in->step) {
	case STEP_CHECK:
		snprintf(command, sizeof(command), "show stat %s 4 -1", lb->target_backend);
		break;
	case STEP_SET:
		snprintf(command, sizeof(command), "set map %s %s %s", in->map, lb->key,
		         lb->target_backend);
		break;
	case STEP_VERIFY:
		snprintf(command, sizeof(command), "get map %s %s", in->map, lb->key);
		break;
	default:
		return;
	}
	in->request = haproxy_command(lb->base, in->socket, command, lb->timeout_ms, on_answer, in,
	                              err, sizeof(err));
	if (in->request == NULL)
		fail_or_retry(in, err);
}

static void on_retry(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	run_step(arg);
}

struct lb_haproxy *lb_haproxy_new(struct event_base *base,
                                  const struct lb_haproxy_settings *settings, char *err,
                                  size_t err_len)
{
	if (settings->socket_count == 0 || settings->socket_count > LB_MAX_INSTANCES ||
	    (settings->map_file == NULL && settings->map == NULL &&
	     settings->map_file_count == 0) ||
	    (settings->map_file_count != 0 && settings->map_file_count != settings->socket_count) ||
	    settings->key == NULL || settings->backend_count == 0) {
		snprintf(err, err_len,
		         "haproxy driver: sockets, map_file (or map, or one of map_files per "
		         "socket), key and one backend per cluster are required");
		return NULL;
	}
	struct lb_haproxy *lb = calloc(1, sizeof(*lb));
	if (lb == NULL) {
		snprintf(err, err_len, "out of memory");
		return NULL;
	}
	lb->base = base;
	bool allocated = true;
	for (size_t i = 0; allocated && i < settings->map_file_count && i < LB_MAX_INSTANCES; i++) {
		bool seen = false; /* two instances may load one file: rewritten once */
		for (size_t j = 0; j < lb->map_file_count; j++)
			seen = seen || strcmp(lb->map_files[j], settings->map_files[i]) == 0;
		if (!seen &&
		    (lb->map_files[lb->map_file_count++] = strdup(settings->map_files[i])) == NULL)
			allocated = false;
	}
	if (settings->map_file_count == 0 && settings->map_file != NULL &&
	    (lb->map_files[lb->map_file_count++] = strdup(settings->map_file)) == NULL)
		allocated = false;
	if (lb->map_file_count == 0)
		log_warn("haproxy driver: no map_file: a switch changes HAProxy's runtime map %s "
		         "only, and a reload of HAProxy reverts it",
		         settings->map);
	lb->key = strdup(settings->key);
	lb->timeout_ms = settings->timeout_ms > 0 ? settings->timeout_ms : 2000;
	lb->retries = settings->retries;
	lb->on_retry = settings->on_retry;
	lb->on_retry_arg = settings->on_retry_arg;
	lb->on_warning = settings->on_warning;
	for (size_t i = 0; i < settings->backend_count && i < LB_MAX_BACKENDS; i++) {
		lb->clusters[i] = strdup(settings->backends[i].cluster);
		lb->backends[i] = strdup(settings->backends[i].backend);
		lb->backend_count++;
	}
	allocated = allocated && lb->key != NULL;
	for (size_t i = 0; i < lb->backend_count; i++)
		allocated = allocated && lb->clusters[i] != NULL && lb->backends[i] != NULL;
	for (size_t i = 0; i < settings->socket_count; i++) {
		struct instance *in = &lb->instances[i];
		in->lb = lb;
		in->socket = strdup(settings->sockets[i]);
		const char *map = settings->map != NULL          ? settings->map
		                  : i < settings->map_file_count ? settings->map_files[i]
		                                                 : settings->map_file;
		in->map = map != NULL ? strdup(map) : NULL;
		allocated = allocated && in->map != NULL;
		in->retry_timer = evtimer_new(base, on_retry, in);
		lb->instance_count++;
		allocated = allocated && in->socket != NULL && in->retry_timer != NULL;
	}
	lb->map_timer = evtimer_new(base, on_map_timer, lb);
	if (allocated && settings->query_id_map != NULL) {
		lb->routes = lb_haproxy_routes_new(
		        base, settings->sockets, settings->socket_count, settings->query_id_map,
		        lb->timeout_ms, (const char *const *)lb->clusters,
		        (const char *const *)lb->backends, lb->backend_count, err, err_len);
		allocated = lb->routes != NULL;
	}
	if (!allocated || lb->map_timer == NULL) {
		snprintf(err, err_len, "haproxy driver: out of memory");
		lb_haproxy_free(lb);
		return NULL;
	}
	return lb;
}

void lb_haproxy_free(struct lb_haproxy *lb)
{
	if (lb == NULL)
		return;
	for (size_t i = 0; i < lb->instance_count; i++) {
		haproxy_cancel(lb->instances[i].request);
		if (lb->instances[i].retry_timer != NULL)
			event_free(lb->instances[i].retry_timer);
		free(lb->instances[i].socket);
		free(lb->instances[i].map);
	}
	for (size_t i = 0; i < lb->backend_count; i++) {
		free(lb->clusters[i]);
		free(lb->backends[i]);
	}
	haproxy_cancel(lb->current_request);
	if (lb->map_timer != NULL)
		event_free(lb->map_timer); /* a rewrite still due is dropped, like a request */
	lb_haproxy_routes_free(lb->routes);
	for (size_t i = 0; i < lb->map_file_count; i++)
		free(lb->map_files[i]);
	free(lb->key);
	free(lb);
}

void lb_haproxy_switch(struct lb_haproxy *lb, const char *cluster, lb_switch_done_fn done,
                       void *arg)
{
	const char *backend = backend_of(lb, cluster);
	if (backend == NULL || lb->busy) {
		char why[256];
		snprintf(why, sizeof(why),
		         backend == NULL ? "no HAProxy backend for cluster %s"
		                         : "a switch is already in progress (%s)",
		         backend == NULL ? cluster : lb->target_cluster);
		done(false, why, arg);
		return;
	}
	lb->busy = true;
	lb->target_backend = backend;
	snprintf(lb->target_cluster, sizeof(lb->target_cluster), "%s", cluster);
	lb->done = done;
	lb->arg = arg;
	lb->pending = lb->instance_count;
	for (size_t i = 0; i < lb->instance_count; i++) {
		struct instance *in = &lb->instances[i];
		in->step = STEP_CHECK;
		in->attempt = 0;
		in->error[0] = '\0';
	}
	for (size_t i = 0; i < lb->instance_count; i++)
		run_step(&lb->instances[i]);
}

static void ask_current(struct lb_haproxy *lb);

static void on_current(const char *output, const char *error, void *arg)
{
	struct lb_haproxy *lb = arg;
	lb->current_request = NULL;
	const char *value = output != NULL ? strstr(output, "value=\"") : NULL;
	if (value != NULL) {
		char backend[256];
		size_t len = strcspn(value + 7, "\"");
		if (len >= sizeof(backend))
			len = sizeof(backend) - 1;
		memcpy(backend, value + 7, len);
		backend[len] = '\0';
		const char *cluster = cluster_of(lb, backend);
		char why[400];
		snprintf(why, sizeof(why), "HAProxy routes to backend %s, which is no cluster's",
		         backend);
		lb->current_done(cluster, cluster != NULL ? NULL : why, lb->current_arg);
		return;
	}
	size_t used = strlen(lb->current_errors);
	snprintf(lb->current_errors + used, sizeof(lb->current_errors) - used, "%s%s",
	         used ? "; " : "", error != NULL ? error : "get map: key not found");
	lb->current_index++;
	ask_current(lb);
}

static void ask_current(struct lb_haproxy *lb)
{
	while (lb->current_index < lb->instance_count) {
		char command[1024], err[512];
		snprintf(command, sizeof(command), "get map %s %s",
		         lb->instances[lb->current_index].map, lb->key);
		lb->current_request =
		        haproxy_command(lb->base, lb->instances[lb->current_index].socket, command,
		                        lb->timeout_ms, on_current, lb, err, sizeof(err));
		if (lb->current_request != NULL)
			return;
		size_t used = strlen(lb->current_errors);
		snprintf(lb->current_errors + used, sizeof(lb->current_errors) - used, "%s%s",
		         used ? "; " : "", err);
		lb->current_index++;
	}
	lb->current_done(NULL, lb->current_errors, lb->current_arg);
}

void lb_haproxy_current(struct lb_haproxy *lb, lb_current_done_fn done, void *arg)
{
	if (lb->current_request != NULL) {
		done(NULL, "a read of the LB is already in progress", arg);
		return;
	}
	lb->current_done = done;
	lb->current_arg = arg;
	lb->current_index = 0;
	lb->current_errors[0] = '\0';
	ask_current(lb);
}

static void driver_switch(void *impl, const char *cluster, lb_switch_done_fn done, void *arg)
{
	lb_haproxy_switch(impl, cluster, done, arg);
}

static void driver_current(void *impl, lb_current_done_fn done, void *arg)
{
	lb_haproxy_current(impl, done, arg);
}

static void driver_free(void *impl)
{
	lb_haproxy_free(impl);
}

static void driver_set_routes(void *impl, const struct lb_route *routes, size_t count)
{
	struct lb_haproxy *lb = impl;
	lb_haproxy_routes_set(lb->routes, routes, count);
}

struct lb_driver lb_haproxy_driver(struct lb_haproxy *lb)
{
	return (struct lb_driver){
	        .impl = lb,
	        .switch_to = driver_switch,
	        .current = driver_current,
	        .free = driver_free,
	        .set_routes = lb->routes != NULL ? driver_set_routes : NULL,
	};
}
