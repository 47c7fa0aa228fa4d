/*
 * No query lost at a switch (docs/DESIGN.md §7): the npm trino-client runs
 * long queries through a real HAProxy running deploy/haproxy/haproxy.cfg in
 * front of trino-sim blue (478) and green (479), with agents and the
 * collector's haproxy driver keeping the query-id map. Queries started on
 * blue before a cutover finish on blue; queries started on green after it
 * finish on green through the automatic rollback. With the plain map
 * (routing off) the same cutover fails every query in flight with "Query
 * not found", which is what routing exists to prevent. The lost-query
 * accounting counts each switch: 0 with routing, every query in flight with
 * the plain map (the client's failures, abandoned on blue by the sim's 5 s
 * client timeout). The drain gate holds stable back while a client's query
 * still runs on blue after the watch, and lets it through once the query
 * has ended and blue has been quiet for drain_quiet; meanwhile, with the
 * agents reading the query list, status and /metrics show that query's age
 * growing, and nothing once it has finished; and once stable is out, the
 * drain action's command sends SHUTTING_DOWN to blue's worker, which then
 * reports it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <jansson.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "stack.h"
#include "stack_queries.h"

#define TOKEN      "0123456789abcdef-test-token"
#define QUERIES    8
#define LONG_QUERY "SELECT 1 -- duration_ms=20000 rows=2"

static struct stack fx;
static char *dir;
static const struct stack_client client = {TG_NODE_BIN, TG_CLIENT_DIR};

static const struct stack_options routed = {
        .blue_version = "478",
        .green_version = "479",
        .workers = 1,
        .agent_interval = "200ms",
        .tick = "100ms",
        .token = TOKEN "\n",
        .sim_bin = TG_SIM_BIN,
        .agent_bin = TG_AGENT_BIN,
        .collector_bin = TG_COLLECTOR_BIN,
        .haproxy_bin = TG_HAPROXY_BIN,
        .haproxy_cfg = TG_SOURCE_DIR "/deploy/haproxy/haproxy.cfg",
        .query_routing = true,
        .qps = "20",
        .client_timeout_ms = "5000",
        .extra_watch = "loss_settle = 15s\n",
};

static json_t *get_json(const char *url)
{
	char *body = harness_get_ok(url);
	json_t *value = body != NULL ? json_loads(body, 0, NULL) : NULL;
	free(body);
	return value;
}

static json_t *status(void)
{
	char url[128];
	snprintf(url, sizeof(url), "%s/v1/status", fx.api);
	return get_json(url);
}

static long post(const char *path, const char *body)
{
	char url[128];
	snprintf(url, sizeof(url), "%s%s", fx.api, path);
	const char *headers[] = {"Authorization: Bearer " TOKEN, NULL};
	struct harness_response r;
	harness_http("POST", url, headers, body, 30000, &r);
	harness_response_free(&r);
	return r.status;
}

/* The collector knows both coordinators' ids and is ready for a cutover. */
static bool routes_known(void *arg)
{
	(void)arg;
	json_t *s = status();
	size_t routes =
	        json_object_size(json_object_get(json_object_get(s, "query_routes"), "routes"));
	bool ready = s != NULL && json_array_size(json_object_get(s, "findings")) == 0 &&
	             !json_is_true(json_object_get(s, "warming_up"));
	json_decref(s);
	return ready && routes == 2;
}

static bool ready(void *arg)
{
	(void)arg;
	json_t *s = status();
	bool ok = s != NULL && json_array_size(json_object_get(s, "findings")) == 0 &&
	          !json_is_true(json_object_get(s, "warming_up"));
	json_decref(s);
	return ok;
}

static pid_t start_queries(const char *out, int count, const char *sql)
{
	pid_t pid = stack_client_start(&fx, &client, count, sql, out);
	assert_true(pid > 0);
	return pid;
}

static pid_t start_client(const char *out)
{
	return start_queries(out, QUERIES, LONG_QUERY);
}

/* Waits for the client to end; its output (caller frees). */
static char *client_output(pid_t pid, const char *out)
{
	if (!stack_client_wait(pid, 90000))
		fail_msg("the client did not end");
	char *text = harness_read_file(out);
	assert_non_null(text);
	return text;
}

/* How many of the client's queries ended with OUTCOME; each id must end in SUFFIX. */
static int count_outcome(const char *text, const char *outcome, const char *suffix)
{
	int count = 0;
	char *copy = strdup(text);
	char *save = NULL;
	for (char *line = strtok_r(copy, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save)) {
		json_t *record = json_loads(line, 0, NULL);
		const char *event = json_string_value(json_object_get(record, "event"));
		if (event != NULL && strcmp(event, "done") == 0) {
			const char *id = json_string_value(json_object_get(record, "id"));
			assert_non_null(id);
			assert_string_equal(id + strlen(id) - 5, suffix);
			const char *got = json_string_value(json_object_get(record, "outcome"));
			if (strcmp(got, outcome) == 0)
				count++;
			else
				print_message("query %s: %s %s\n", id, got,
				              json_string_value(json_object_get(record, "error")));
		}
		json_decref(record);
	}
	free(copy);
	return count;
}

/* The latest switch, from FROM, has settled its lost-query count. */
static bool settled_from(void *arg)
{
	json_t *s = status();
	json_t *last = json_object_get(json_object_get(s, "cutover"), "last_switch");
	const char *from = json_string_value(json_object_get(last, "from"));
	bool ok = json_is_true(json_object_get(last, "settled")) && from != NULL &&
	          strcmp(from, arg) == 0;
	json_decref(s);
	return ok;
}

/* Waits for the latest switch (FROM -> TO) to settle; returns its lost_queries. */
static long long expect_settled(const char *from, const char *to)
{
	if (!harness_wait_until(settled_from, (void *)from, 30000)) {
		json_t *s = status();
		char *text = json_dumps(json_object_get(s, "cutover"), 0);
		fail_msg("the switch from %s did not settle: %s", from, text);
	}
	json_t *s = status();
	json_t *last = json_object_get(json_object_get(s, "cutover"), "last_switch");
	assert_string_equal(json_string_value(json_object_get(last, "to")), to);
	assert_true(json_is_true(json_object_get(last, "counted")));
	long long lost = json_integer_value(json_object_get(last, "lost_queries"));
	json_decref(s);
	return lost;
}

/* The journal's events of TYPE about CLUSTER (a new array). */
static json_t *journal_events(const char *type, const char *cluster)
{
	char url[160];
	snprintf(url, sizeof(url), "%s/v1/events?limit=10000", fx.api);
	json_t *all = get_json(url);
	json_t *out = json_array();
	size_t i;
	json_t *e;
	json_array_foreach(json_object_get(all, "events"), i, e)
	{
		const char *t = json_string_value(json_object_get(e, "type"));
		const char *c = json_string_value(json_object_get(e, "cluster"));
		if (t != NULL && c != NULL && strcmp(t, type) == 0 && strcmp(c, cluster) == 0)
			json_array_append(out, e);
	}
	json_decref(all);
	return out;
}

/* The one switch-loss event of a switch away from FROM, counted, with LOST queries. */
static void expect_journaled_loss(const char *from, long long lost)
{
	json_t *events = journal_events("switch-loss", from);
	assert_int_equal(json_array_size(events), 1);
	json_t *e = json_array_get(events, 0);
	assert_true(json_is_true(json_object_get(e, "counted")));
	assert_int_equal(json_integer_value(json_object_get(e, "lost_queries")), lost);
	json_decref(events);
}

/* /metrics has LINE exactly. */
static void expect_metric(const char *line)
{
	char url[128];
	snprintf(url, sizeof(url), "%s/metrics", fx.api);
	char *text = harness_get_ok(url);
	assert_non_null(text);
	char *at = strstr(text, line);
	if (at == NULL || (at != text && at[-1] != '\n') || at[strlen(line)] != '\n')
		fail_msg("no line '%s' in /metrics", line);
	free(text);
}

/* The value of the series named SERIES in /metrics; -1 when there is none. */
static double metric_value(const char *series)
{
	char url[128];
	snprintf(url, sizeof(url), "%s/metrics", fx.api);
	char *text = harness_get_ok(url);
	assert_non_null(text);
	double value = -1;
	for (const char *at = text; (at = strstr(at, series)) != NULL; at++)
		if ((at == text || at[-1] == '\n') && at[strlen(series)] == ' ') {
			value = strtod(at + strlen(series) + 1, NULL);
			break;
		}
	free(text);
	return value;
}

static int setup_stack(const struct stack_options *options)
{
	dir = harness_tmpdir("tg-no-lost");
	if (dir == NULL || chdir(dir) != 0 || stack_start(&fx, options) != 0)
		return -1;
	return 0;
}

static int setup_routed(void **state)
{
	(void)state;
	return setup_stack(&routed);
}

static int setup_plain(void **state)
{
	(void)state;
	struct stack_options plain = routed;
	plain.haproxy_cfg = NULL;
	plain.query_routing = false;
	return setup_stack(&plain);
}

static int setup_drain(void **state)
{
	(void)state;
	struct stack_options drain = routed;
	drain.watch_duration = "3s";
	drain.extra_watch = "loss_settle = 15s\ndrain_quiet = 4s\n"
	                    "drain_shutdown_command = sh ./drain-shutdown.sh {cluster}\n";
	drain.agent_trino = "query_list = on\n";
	return setup_stack(&drain);
}

static int teardown(void **state)
{
	(void)state;
	harness_stop_all();
	if (chdir("/") != 0)
		return -1;
	harness_rmrf(dir);
	free(dir);
	return 0;
}

static void skip_without_client(void)
{
	struct stat st;
	if (TG_NODE_BIN[0] == '\0' ||
	    stat(TG_CLIENT_DIR "/node_modules/trino-client/package.json", &st) != 0) {
		print_message("npm trino-client not installed (deploy/install-deps.sh)\n");
		skip();
	}
}

static void test_routing_keeps_queries_on_their_cluster_at_cutover_and_rollback(void **state)
{
	(void)state;
	skip_without_client();
	char blue_id[16], green_id[16];
	stack_coordinator_id(fx.blue, blue_id, sizeof(blue_id));
	stack_coordinator_id(fx.green, green_id, sizeof(green_id));
	if (!harness_wait_until(routes_known, NULL, 30000)) {
		json_t *s = status();
		char *routes = json_dumps(json_object_get(s, "query_routes"), 0);
		char *findings = json_dumps(json_object_get(s, "findings"), 0);
		fail_msg("the collector did not learn both coordinator ids: %s; findings %s",
		         routes, findings);
	}
	char out_blue[600], out_green[600];
	snprintf(out_blue, sizeof(out_blue), "%s/client-blue.out", dir);
	snprintf(out_green, sizeof(out_green), "%s/client-green.out", dir);

	pid_t on_blue = start_client(out_blue);
	assert_true(stack_wait_statement_running(fx.blue_control, QUERIES, 30000));
	assert_int_equal(post("/v1/cutover", "{\"to\":\"green\",\"reason\":\"test\"}"), 202);
	assert_true(stack_wait_phase(&fx, "WATCHING", "green", 30000));
	pid_t on_green = start_client(out_green);
	assert_true(stack_wait_statement_running(fx.green_control, QUERIES, 30000));
	/* blue's queries were in flight across the cutover */
	assert_int_equal(stack_statement_running(fx.blue_control), QUERIES);

	assert_int_equal(stack_control(fx.green_control, "green-coord",
	                               "{\"fail_ratio\":0.5,\"error_type\":\"INTERNAL_ERROR\"}"),
	                 200);
	assert_true(stack_wait_phase(&fx, "ROLLED_BACK", "blue", 30000));
	/* green's queries are in flight across the rollback */
	assert_int_equal(stack_statement_running(fx.green_control), QUERIES);

	char *blue_text = client_output(on_blue, out_blue);
	char *green_text = client_output(on_green, out_green);
	assert_int_equal(count_outcome(blue_text, "finished", blue_id), QUERIES);
	assert_int_equal(count_outcome(green_text, "finished", green_id), QUERIES);
	free(blue_text);
	free(green_text);
	/* the accounting counted both switches and found nothing lost */
	assert_int_equal(expect_settled("green", "blue"), 0);
	expect_journaled_loss("blue", 0);
	expect_journaled_loss("green", 0);
	json_t *pages = journal_events("alert", "blue");
	for (size_t i = 0; i < json_array_size(pages); i++)
		assert_string_not_equal(
		        json_string_value(json_object_get(json_array_get(pages, i), "name")),
		        "queries-lost");
	json_decref(pages);
	expect_metric("trino_guard_switch_lost_queries_total{from=\"blue\",to=\"green\"} 0");
	expect_metric("trino_guard_switch_lost_queries_total{from=\"green\",to=\"blue\"} 0");
}

static void test_plain_map_loses_every_query_in_flight(void **state)
{
	(void)state;
	skip_without_client();
	char blue_id[16];
	stack_coordinator_id(fx.blue, blue_id, sizeof(blue_id));
	char out[600];
	snprintf(out, sizeof(out), "%s/client-plain.out", dir);
	if (!harness_wait_until(ready, NULL, 30000))
		fail_msg("the collector did not become ready");
	pid_t on_blue = start_client(out);
	assert_true(stack_wait_statement_running(fx.blue_control, QUERIES, 30000));
	assert_int_equal(post("/v1/cutover", "{\"to\":\"green\",\"reason\":\"test\"}"), 202);
	assert_true(stack_wait_phase(&fx, "WATCHING", "green", 30000));
	char *text = client_output(on_blue, out);
	assert_int_equal(count_outcome(text, "failed", blue_id), QUERIES);
	assert_non_null(strstr(text, "Query not found"));
	free(text);
	/* the accounting counts what the client lost: blue abandoned them all */
	assert_int_equal(expect_settled("blue", "green"), QUERIES);
	expect_journaled_loss("blue", QUERIES);
	json_t *pages = journal_events("alert", "blue");
	bool paged = false;
	for (size_t i = 0; i < json_array_size(pages); i++) {
		json_t *page = json_array_get(pages, i);
		if (strcmp(json_string_value(json_object_get(page, "name")), "queries-lost") == 0) {
			paged = true;
			assert_non_null(strstr(json_string_value(json_object_get(page, "summary")),
			                       "the cutover from blue to green"));
		}
	}
	json_decref(pages);
	assert_true(paged);
	char line[128];
	snprintf(line, sizeof(line),
	         "trino_guard_switch_lost_queries_total{from=\"blue\",to=\"green\"} %d", QUERIES);
	expect_metric(line);
}

/* The drain section's oldest_query_age_seconds; -1 when it has none (or no drain). */
static long long oldest_query_age(void)
{
	json_t *s = status();
	json_t *drain = json_object_get(json_object_get(s, "cutover"), "drain");
	json_t *age = json_object_get(drain, "oldest_query_age_seconds");
	long long value = drain != NULL && age != NULL ? (long long)json_integer_value(age) : -1;
	json_decref(s);
	return value;
}

/* The oldest query's age is past *ARG seconds. */
static bool age_past(void *arg)
{
	return oldest_query_age() > *(const long long *)arg;
}

/* Blue is drained of the client's query while stable still waits for its quiet time. */
static bool finished_but_watching(void *arg)
{
	(void)arg;
	json_t *s = status();
	json_t *cutover = json_object_get(s, "cutover");
	json_t *drain = json_object_get(cutover, "drain");
	bool seen = drain != NULL && json_integer_value(json_object_get(drain, "running")) == 0 &&
	            json_object_get(drain, "oldest_query_age_seconds") == NULL;
	json_decref(s);
	return seen;
}

/* The state status shows for NODE ("" when it shows none). */
static void node_state(const char *node, char *out, size_t len)
{
	json_t *s = status();
	out[0] = '\0';
	json_t *cluster;
	size_t i, j;
	json_array_foreach(json_object_get(s, "clusters"), i, cluster)
	{
		json_t *n;
		json_array_foreach(
		        json_object_get(cluster, "nodes"), j,
		        n) if (strcmp(json_string_value(json_object_get(n, "node_id")), node) == 0)
		        snprintf(out, len, "%s", json_string_value(json_object_get(n, "state")));
	}
	json_decref(s);
}

/* The drain action ran for blue, and blue's worker reports SHUTTING_DOWN. */
static bool blue_shut_down(void *arg)
{
	(void)arg;
	json_t *s = status();
	json_t *shutdown = json_object_get(json_object_get(s, "cutover"), "drain_shutdown");
	const char *done = json_string_value(json_object_get(shutdown, "state"));
	bool ran = done != NULL && strcmp(done, "done") == 0 &&
	           strcmp(json_string_value(json_object_get(shutdown, "cluster")), "blue") == 0;
	json_decref(s);
	char state[32];
	node_state("blue-worker-1", state, sizeof(state));
	return ran && strcmp(state, "SHUTTING_DOWN") == 0;
}

/*
 * The operator's drain command for the test: PUT "SHUTTING_DOWN" to each of
 * the cluster's workers, as README's example does.
 */
static void write_drain_command(void)
{
	char text[1024];
	snprintf(text, sizeof(text),
	         "#!/bin/sh\n"
	         "[ \"$1\" = blue ] || { echo \"not blue: $1\"; exit 2; }\n"
	         "curl -sf -X PUT -H 'Content-Type: application/json' -H 'X-Trino-User: admin' "
	         "-d '\"SHUTTING_DOWN\"' http://127.0.0.1:%d/v1/info/state\n",
	         fx.blue + 1);
	harness_write_file("drain-shutdown.sh", text);
}

/* The watch is over and stable waits for blue's running queries. */
static bool held_by_drain(void *arg)
{
	(void)arg;
	json_t *s = status();
	json_t *cutover = json_object_get(s, "cutover");
	json_t *drain = json_object_get(cutover, "drain");
	const char *phase = json_string_value(json_object_get(cutover, "phase"));
	const char *why = json_string_value(json_object_get(drain, "waiting_for"));
	bool held = phase != NULL && strcmp(phase, "WATCHING") == 0 &&
	            json_integer_value(json_object_get(json_object_get(cutover, "watch"),
	                                               "seconds_left")) == 0 &&
	            json_integer_value(json_object_get(drain, "running")) >= 1 && why != NULL &&
	            strstr(why, "blue still runs") != NULL;
	json_decref(s);
	return held;
}

static void test_drain_gate_holds_stable_while_blue_runs_a_query(void **state)
{
	(void)state;
	skip_without_client();
	if (!harness_wait_until(routes_known, NULL, 30000))
		fail_msg("the collector did not learn both coordinator ids");
	char blue_id[16];
	stack_coordinator_id(fx.blue, blue_id, sizeof(blue_id));
	char out[600];
	snprintf(out, sizeof(out), "%s/client-drain.out", dir);
	write_drain_command();
	pid_t on_blue = start_queries(out, 1, "SELECT 1 -- duration_ms=12000 rows=2");
	assert_true(stack_wait_statement_running(fx.blue_control, 1, 30000));
	assert_int_equal(post("/v1/cutover", "{\"to\":\"green\",\"reason\":\"test\"}"), 202);
	assert_true(stack_wait_phase(&fx, "WATCHING", "green", 30000));
	/* users have left blue: only the client's query keeps it busy */
	assert_int_equal(stack_control(fx.blue_control, "blue-coord", "{\"qps\":0}"), 200);
	if (!harness_wait_until(held_by_drain, NULL, 30000)) {
		json_t *s = status();
		char *text = json_dumps(json_object_get(s, "cutover"), 0);
		fail_msg("the drain gate did not hold stable: %s", text);
	}
	/* held while the query still runs on blue, not merely late */
	assert_int_equal(stack_statement_running(fx.blue_control), 1);
	/* its age is shown and grows: the agents read blue's /v1/query */
	long long age = oldest_query_age();
	assert_true(age >= 0);
	if (!harness_wait_until(age_past, &age, 10000))
		fail_msg("the oldest query's age stayed at %lld s", age);
	double created =
	        metric_value("trino_guard_drain_oldest_query_timestamp_seconds{cluster=\"blue\"}");
	double now = (double)time(NULL);
	/* created at least AGE seconds ago, and not before the query was started */
	assert_true(created > 0 && created <= now - (double)age && created > now - 60);
	json_t *stable = journal_events("alert", "green");
	for (size_t i = 0; i < json_array_size(stable); i++)
		assert_string_not_equal(
		        json_string_value(json_object_get(json_array_get(stable, i), "name")),
		        "stable");
	json_decref(stable);
	char *text = client_output(on_blue, out);
	assert_int_equal(count_outcome(text, "finished", blue_id), 1);
	free(text);
	/* finished: no oldest query, while the quiet time still holds stable */
	if (!harness_wait_until(finished_but_watching, NULL, 10000)) {
		json_t *s = status();
		char *cutover = json_dumps(json_object_get(s, "cutover"), 0);
		fail_msg("the finished query's age is still shown: %s", cutover);
	}
	assert_true(metric_value("trino_guard_drain_oldest_query_timestamp_seconds{cluster="
	                         "\"blue\"}") < 0);
	assert_true(stack_wait_phase(&fx, "STEADY", "green", 30000));
	/* stable, with the drain action on: blue's workers were told to shut down */
	if (!harness_wait_until(blue_shut_down, NULL, 15000)) {
		json_t *s = status();
		char *cutover = json_dumps(json_object_get(s, "cutover"), 0);
		char worker[32];
		node_state("blue-worker-1", worker, sizeof(worker));
		fail_msg("blue-worker-1 is %s; cutover %s", worker, cutover);
	}
	json_t *ran = journal_events("drain-shutdown", "blue");
	assert_int_equal(json_array_size(ran), 1);
	assert_true(json_is_true(json_object_get(json_array_get(ran, 0), "ok")));
	json_decref(ran);
	char coordinator[32];
	node_state("blue-coord", coordinator, sizeof(coordinator));
	assert_string_equal(coordinator, "ACTIVE"); /* the command reached the workers only */
}

int main(void)
{
	const struct CMUnitTest routed_tests[] = {
	        cmocka_unit_test(
	                test_routing_keeps_queries_on_their_cluster_at_cutover_and_rollback),
	};
	const struct CMUnitTest plain_tests[] = {
	        cmocka_unit_test(test_plain_map_loses_every_query_in_flight),
	};
	const struct CMUnitTest drain_tests[] = {
	        cmocka_unit_test(test_drain_gate_holds_stable_while_blue_runs_a_query),
	};
	int failed = cmocka_run_group_tests_name("routed", routed_tests, setup_routed, teardown);
	failed += cmocka_run_group_tests_name("plain", plain_tests, setup_plain, teardown);
	failed += cmocka_run_group_tests_name("drain", drain_tests, setup_drain, teardown);
	return failed;
}
