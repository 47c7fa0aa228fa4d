/*
 * Clients' queries through the loopback stack: the npm client driver, its
 * outcomes, and the sims' and the collector's view of those queries.
 */
#include "stack_queries.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "harness.h"

static json_t *get_json(const char *url)
{
	char *body = harness_get_ok(url);
	json_t *value = body != NULL ? json_loads(body, 0, NULL) : NULL;
	free(body);
	return value;
}

bool stack_client_installed(const struct stack_client *client)
{
	char path[600];
	struct stat st;
	snprintf(path, sizeof(path), "%s/node_modules/trino-client/package.json",
	         client->client_dir);
	return client->node_bin != NULL && client->node_bin[0] != '\0' && stat(path, &st) == 0;
}

pid_t stack_client_start(const struct stack *s, const struct stack_client *client, int queries,
                         const char *sql, const char *out_path)
{
	char server[64], count[16], script[600];
	snprintf(server, sizeof(server), "http://127.0.0.1:%d", s->frontend);
	snprintf(count, sizeof(count), "%d", queries);
	snprintf(script, sizeof(script), "%s/run_queries.js", client->client_dir);
	const char *argv[] = {client->node_bin, script, "--server", server, "--queries", count,
	                      "--sql",          sql,    NULL};
	return harness_spawn_split(argv, out_path, NULL);
}

static bool exited(void *arg)
{
	return !harness_alive(*(pid_t *)arg);
}

bool stack_client_wait(pid_t pid, int timeout_ms)
{
	return harness_wait_until(exited, &pid, timeout_ms);
}

/* Counts one "done" RECORD of the driver into O. */
static void count_done(const json_t *record, const char *coordinator_id,
                       struct stack_client_outcomes *o)
{
	const char *id = json_string_value(json_object_get(record, "id"));
	const char *outcome = json_string_value(json_object_get(record, "outcome"));
	const char *error = json_string_value(json_object_get(record, "error"));
	o->done++;
	/* a query whose POST failed has no id: it ran nowhere */
	size_t id_len = id != NULL ? strlen(id) : 0;
	if (coordinator_id != NULL && (id_len < 5 || strcmp(id + id_len - 5, coordinator_id) != 0))
		o->off_cluster++;
	if (outcome != NULL && strcmp(outcome, "finished") == 0) {
		o->finished++;
		return;
	}
	o->failed++;
	if (error != NULL && strstr(error, "Query not found") != NULL)
		o->not_found++;
	if (o->error[0] == '\0')
		snprintf(o->error, sizeof(o->error), "%s: %s", id != NULL ? id : "(no id)",
		         error != NULL ? error : "(no error text)");
}

int stack_client_outcomes(const char *out_path, const char *coordinator_id,
                          struct stack_client_outcomes *o)
{
	memset(o, 0, sizeof(*o));
	char *text = harness_read_file(out_path);
	if (text == NULL)
		return -1;
	char *save = NULL;
	for (char *line = strtok_r(text, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save)) {
		json_t *record = json_loads(line, 0, NULL);
		const char *event = json_string_value(json_object_get(record, "event"));
		if (event != NULL && strcmp(event, "done") == 0)
			count_done(record, coordinator_id, o);
		json_decref(record);
	}
	free(text);
	return 0;
}

void stack_coordinator_id(int port, char *out, size_t len)
{
	char url[128];
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/v1/info", port);
	json_t *info = get_json(url);
	const char *id = json_string_value(json_object_get(info, "coordinatorId"));
	snprintf(out, len, "%s", id != NULL ? id : "");
	json_decref(info);
}

long long stack_statement_running(int control_port)
{
	char url[128];
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/control", control_port);
	json_t *overview = get_json(url);
	json_t *coordinator = json_array_get(json_object_get(overview, "nodes"), 0);
	json_t *running =
	        json_object_get(json_object_get(coordinator, "statement_queries"), "running");
	long long n = json_is_integer(running) ? json_integer_value(running) : -1;
	json_decref(overview);
	return n;
}

struct running_goal {
	int control_port;
	long long count;
};

static bool running_is(void *arg)
{
	const struct running_goal *goal = arg;
	return stack_statement_running(goal->control_port) == goal->count;
}

bool stack_wait_statement_running(int control_port, long long count, int timeout_ms)
{
	struct running_goal goal = {control_port, count};
	if (harness_wait_until(running_is, &goal, timeout_ms))
		return true;
	fprintf(stderr, "stack: %lld clients' queries running on port %d after %d ms, not %lld\n",
	        stack_statement_running(control_port), control_port, timeout_ms, count);
	return false;
}

struct ready_goal {
	const struct stack *stack;
	size_t routes;
	char last[512];
};

static bool ready(void *arg)
{
	struct ready_goal *goal = arg;
	char url[128];
	snprintf(url, sizeof(url), "%s/v1/status", goal->stack->api);
	json_t *s = get_json(url);
	json_t *findings = json_object_get(s, "findings");
	json_t *routes = json_object_get(json_object_get(s, "query_routes"), "routes");
	bool ok = s != NULL && json_array_size(findings) == 0 &&
	          !json_is_true(json_object_get(s, "warming_up")) &&
	          (goal->routes == 0 || json_object_size(routes) == goal->routes);
	char *text = json_dumps(findings, 0), *route_text = json_dumps(routes, 0);
	snprintf(goal->last, sizeof(goal->last), "findings %s, query routes %s",
	         text != NULL ? text : "-", route_text != NULL ? route_text : "-");
	free(route_text);
	free(text);
	json_decref(s);
	return ok;
}

bool stack_wait_ready(const struct stack *s, size_t routes, int timeout_ms)
{
	struct ready_goal goal = {.stack = s, .routes = routes};
	if (harness_wait_until(ready, &goal, timeout_ms))
		return true;
	fprintf(stderr, "stack: the collector not ready after %d ms (%zu routes wanted): %s\n",
	        timeout_ms, routes, goal.last);
	return false;
}

long stack_api_post(const struct stack *s, const char *token, const char *path, const char *body)
{
	char url[128], authorization[256];
	snprintf(url, sizeof(url), "%s%s", s->api, path);
	snprintf(authorization, sizeof(authorization), "Authorization: Bearer %s",
	         token != NULL ? token : "");
	const char *headers[] = {authorization, NULL};
	struct harness_response r;
	harness_http("POST", url, token != NULL ? headers : NULL, body, 30000, &r);
	harness_response_free(&r);
	return r.status;
}

int stack_switch_losses(const char *journal_path, struct stack_switch_loss *out, int max)
{
	char *text = harness_read_file(journal_path);
	if (text == NULL)
		return -1;
	int count = 0;
	char *save = NULL;
	for (char *line = strtok_r(text, "\n", &save); line != NULL && count < max;
	     line = strtok_r(NULL, "\n", &save)) {
		json_t *entry = json_loads(line, 0, NULL);
		const char *type = json_string_value(json_object_get(entry, "type"));
		if (type != NULL && strcmp(type, "switch-loss") == 0) {
			struct stack_switch_loss *e = &out[count++];
			const char *from = json_string_value(json_object_get(entry, "cluster"));
			const char *kind = json_string_value(json_object_get(entry, "switch"));
			snprintf(e->from, sizeof(e->from), "%s", from != NULL ? from : "");
			snprintf(e->kind, sizeof(e->kind), "%s", kind != NULL ? kind : "");
			e->lost_queries =
			        json_integer_value(json_object_get(entry, "lost_queries"));
			e->counted = json_is_true(json_object_get(entry, "counted"));
		}
		json_decref(entry);
	}
	free(text);
	return count;
}
