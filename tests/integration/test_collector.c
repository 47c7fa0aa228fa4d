/*
 * End to end: trino-sim clusters, one agent per node and the collector, CURVE
 * on. Both clusters visible; mixed-version within 3 s and closed after the
 * fix (config drift: test_config_drift_e2e); a stopped agent goes stale; refused
 * counters; an unknown key, a report claiming another node's id, a key
 * speaking for another cluster or role and a plaintext publisher are all
 * kept out and counted; oversized reports are counted (too_large up to 1 MiB,
 * a dropped connection beyond it) and logged; a key removed at SIGHUP loses
 * its connection; SIGHUP applies what can change live and names the rest; a
 * role's key admits any node id of its cluster and role only; /metrics
 * passes promtool;
 * API errors; the journal survives a restart; bad configs are refused.
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
#include <sys/wait.h>
#include <unistd.h>
#include <zmq.h>

#include "collector_e2e_fixture.h"
#include "curve_keys.h"
#include "harness.h"

static void test_both_clusters_are_visible(void **state)
{
	(void)state;
	json_t *status = get_json("/v1/status");
	assert_non_null(status);
	assert_string_equal(json_string_value(json_object_get(status, "environment")), "test");
	assert_string_equal(json_string_value(json_object_get(status, "active")), "blue");
	json_t *clusters = json_object_get(status, "clusters");
	assert_int_equal(json_array_size(clusters), 2);
	json_t *blue = json_array_get(clusters, 0), *green = json_array_get(clusters, 1);
	assert_string_equal(json_string_value(json_object_get(blue, "name")), "blue");
	assert_string_equal(json_string_value(json_object_get(blue, "reference_version")), "446");
	assert_int_equal(json_integer_value(json_object_get(blue, "nodes_live")), 2);
	assert_true(json_is_true(json_object_get(blue, "active")));
	assert_string_equal(json_string_value(json_object_get(green, "reference_version")), "447");
	assert_int_equal(json_integer_value(json_object_get(green, "nodes_live")), 3);
	assert_int_equal(
	        json_integer_value(json_object_get(json_object_get(green, "versions"), "447")), 3);
	json_t *ratio = json_object_get(green, "failure_ratio");
	assert_true(json_is_object(ratio));
	assert_true(json_integer_value(json_object_get(ratio, "queries")) >= 0);
	json_decref(status);

	json_t *nodes = get_json("/v1/nodes");
	assert_int_equal(json_array_size(nodes), 5);
	json_t *first = json_array_get(nodes, 0);
	assert_string_equal(json_string_value(json_object_get(first, "node_id")), "blue-coord");
	assert_string_equal(json_string_value(json_object_get(first, "role")), "coordinator");
	assert_string_equal(json_string_value(json_object_get(first, "state")), "ACTIVE");
	assert_true(json_integer_value(json_object_get(first, "config_files")) >= 7);
	json_decref(nodes);
}

static void test_mixed_version_found_within_3s_and_closed_after_the_fix(void **state)
{
	(void)state;
	long long started = harness_now_ms();
	control(&fx.green, "green-worker-1", "{\"version\":\"446\"}");
	char summary[1024];
	expect_finding("mixed-version/green/green-worker-1", true, 3000, summary);
	long long found_after = harness_now_ms() - started;
	print_message("mixed-version found after %lld ms\n", found_after);
	assert_string_equal(summary, "green-worker-1 runs Trino 446, cluster green runs 447 (its "
	                             "coordinator's version)");
	control(&fx.green, "green-worker-1", "{\"version\":\"447\"}");
	expect_finding("mixed-version/green/green-worker-1", false, 3000, NULL);
	/* both moves are in the journal */
	json_t *events = get_json("/v1/events?since=0");
	size_t i;
	json_t *event;
	int opened = 0, closed = 0;
	json_array_foreach(json_object_get(events, "events"), i, event)
	{
		const char *key = json_string_value(json_object_get(event, "key"));
		const char *type = json_string_value(json_object_get(event, "type"));
		if (key == NULL || strcmp(key, "mixed-version/green/green-worker-1") != 0)
			continue;
		opened += strcmp(type, "finding-opened") == 0;
		closed += strcmp(type, "finding-closed") == 0;
	}
	json_decref(events);
	assert_int_equal(opened, 1);
	assert_int_equal(closed, 1);
}

static void test_stopped_agent_goes_stale(void **state)
{
	(void)state;
	harness_stop(fx.agents[4], 5000); /* blue-worker-1 */
	expect_finding("node-stale/blue/blue-worker-1", true, 4000, NULL);
	fx.agents[4] =
	        start_agent("blue-worker-1", "blue", fx.blue.port + 1, "blue-worker-1", true);
	expect_finding("node-stale/blue/blue-worker-1", false, 5000, NULL);
}

static void test_refused_counters_are_a_finding(void **state)
{
	(void)state;
	control(&fx.green, "green-coord", "{\"counters\":\"403\"}");
	char summary[1024];
	expect_finding("counters-unavailable/green/green-coord", true, 3000, summary);
	assert_non_null(strstr(summary, "forbidden"));
	assert_non_null(strstr(summary, "system information"));
	control(&fx.green, "green-coord", "{\"counters\":\"ok\"}");
	expect_finding("counters-unavailable/green/green-coord", false, 3000, NULL);
}

static bool node_known(const char *node_id)
{
	json_t *nodes = get_json("/v1/nodes");
	size_t i;
	json_t *node;
	bool found = false;
	json_array_foreach(nodes, i, node)
	{
		found = found ||
		        strcmp(json_string_value(json_object_get(node, "node_id")), node_id) == 0;
	}
	json_decref(nodes);
	return found;
}

static bool refused_some(void *arg)
{
	long long *before = arg;
	return metric("trino_guard_connections_refused_total") > *before;
}

static bool mismatch_counted(void *arg)
{
	(void)arg;
	return metric("trino_guard_reports_rejected_total{reason=\"identity_mismatch\"}") > 0;
}

static void test_unknown_key_is_refused_and_counted(void **state)
{
	(void)state;
	keygen("rogue");
	long long before = metric("trino_guard_connections_refused_total");
	pid_t rogue = start_agent("rogue-node", "green", fx.green.port + 1, "rogue", true);
	assert_true(harness_wait_until(refused_some, &before, 5000));
	assert_false(node_known("rogue-node"));
	harness_stop(rogue, 5000);
}

struct metric_wait {
	const char *sample;
	long long at_least;
};

static bool metric_reached(void *arg)
{
	const struct metric_wait *w = arg;
	return metric(w->sample) >= w->at_least;
}

static void test_report_claiming_another_node_is_dropped(void **state)
{
	(void)state;
	keygen("spare");
	allow("spare", "green", "worker", "spare-node");
	struct metric_wait reloaded = {"trino_guard_allowed_keys",
	                               metric("trino_guard_allowed_keys") + 1};
	kill(fx.collector, SIGHUP); /* re-read the allow-list */
	assert_true(harness_wait_until(metric_reached, &reloaded, 5000));
	/* allowed as spare-node, but claims to be green-coord */
	pid_t impostor = start_agent("green-coord", "green", fx.green.port, "spare", true);
	assert_true(harness_wait_until(mismatch_counted, NULL, 5000));
	harness_stop(impostor, 5000);
	json_t *nodes = get_json("/v1/nodes");
	size_t i;
	json_t *node;
	json_array_foreach(nodes, i, node)
	{
		if (strcmp(json_string_value(json_object_get(node, "node_id")), "green-coord") == 0)
			assert_non_null(strstr(json_string_value(json_object_get(node, "agent_id")),
			                       "green-coord@"));
	}
	json_decref(nodes);
}

static bool rejected_as(void *arg)
{
	char sample[128];
	snprintf(sample, sizeof(sample), "trino_guard_reports_rejected_total{reason=\"%s\"}",
	         (const char *)arg);
	return metric(sample) > 0;
}

static void test_key_bound_to_another_cluster_or_role_is_refused(void **state)
{
	(void)state;
	keygen("spoof");
	allow("spoof", "blue", "worker", "spoof-node");
	struct metric_wait reloaded = {"trino_guard_allowed_keys",
	                               metric("trino_guard_allowed_keys") + 1};
	kill(fx.collector, SIGHUP);
	assert_true(harness_wait_until(metric_reached, &reloaded, 30000));
	/* a blue worker's key, its own node id, speaking as green's coordinator:
	 * it would sort first and the watch would read its counters */
	pid_t spoof = start_agent("spoof-node", "green", fx.green.port, "spoof", true);
	assert_true(harness_wait_until(rejected_as, "cluster_mismatch", 30000));
	harness_stop(spoof, 5000);
	/* in its own cluster, but as the coordinator */
	spoof = start_agent("spoof-node", "blue", fx.blue.port, "spoof", true);
	assert_true(harness_wait_until(rejected_as, "role_mismatch", 30000));
	harness_stop(spoof, 5000);
	assert_false(node_known("spoof-node"));
}

static bool node_live_count(void *arg)
{
	json_t *status = get_json("/v1/status");
	json_t *blue = json_array_get(json_object_get(status, "clusters"), 0);
	bool reached = json_integer_value(json_object_get(blue, "nodes_live")) == *(int *)arg;
	json_decref(status);
	return reached;
}

static void test_removed_key_loses_its_connection_at_sighup(void **state)
{
	(void)state;
	const char *key = "keys/blue/worker/blue-worker-1.pub", *away = "blue-worker-1.pub.away";
	long long refused = metric("trino_guard_connections_refused_total");
	assert_int_equal(rename(key, away), 0);
	kill(fx.collector, SIGHUP);
	struct metric_wait closed = {"trino_guard_connections_closed_total", 1};
	assert_true(harness_wait_until(metric_reached, &closed, 30000));
	/* the agent reconnects at once and its handshake is refused now */
	assert_true(harness_wait_until(refused_some, &refused, 30000));
	int one = 1;
	assert_true(harness_wait_until(node_live_count, &one, 30000));

	assert_int_equal(rename(away, key), 0);
	kill(fx.collector, SIGHUP);
	int two = 2;
	assert_true(harness_wait_until(node_live_count, &two, 60000));
}

struct log_wait {
	const char *path;
	const char *text;
};

static bool log_says(void *arg)
{
	const struct log_wait *w = arg;
	char *log = harness_read_file(w->path);
	bool found = log != NULL && strstr(log, w->text) != NULL;
	free(log);
	return found;
}

static json_int_t green_min_workers(void)
{
	json_t *status = get_json("/v1/status");
	json_int_t value = -1;
	size_t i;
	json_t *cluster;
	json_array_foreach(json_object_get(status, "clusters"), i, cluster)
	{
		if (strcmp(json_string_value(json_object_get(cluster, "name")), "green") == 0)
			value = json_integer_value(json_object_get(cluster, "min_workers"));
	}
	json_decref(status);
	return value;
}

static bool green_min_workers_is(void *arg)
{
	return green_min_workers() == *(json_int_t *)arg;
}

/* TEXT with FROM replaced by TO (once); a new string. */
static char *replaced(const char *text, const char *from, const char *to)
{
	const char *at = strstr(text, from);
	assert_non_null(at);
	size_t head = (size_t)(at - text), len = strlen(text) - strlen(from) + strlen(to) + 1;
	char *out = malloc(len);
	assert_non_null(out);
	snprintf(out, len, "%.*s%s%s", (int)head, text, to, at + strlen(from));
	return out;
}

static void wait_collector_log(const char *text)
{
	struct log_wait said = {"collector.log", text};
	if (!harness_wait_until(log_says, &said, 30000)) {
		char *log = harness_read_file("collector.log");
		fail_msg("collector.log never said \"%s\":\n%s", text, log != NULL ? log : "");
	}
}

/*
 * SIGHUP reads all of collector.ini again: a cluster's min_workers changes
 * live (status shows it), a changed tick and a new [watch] duration are
 * named as not applied with the reason, and an invalid file changes nothing
 * and names its line; the collector runs on throughout.
 */
static void test_sighup_applies_what_can_change_live_and_names_the_rest(void **state)
{
	(void)state;
	char *original = harness_read_file("collector.ini");
	assert_non_null(original);
	char *step = replaced(original, "[cluster.green]\nmin_workers = 2\n",
	                      "[cluster.green]\nmin_workers = 3\n");
	char *retimed = replaced(step, "tick = 100ms\n", "tick = 200ms\n");
	free(step);
	char changed[2048];
	snprintf(changed, sizeof(changed), "%s[watch]\nduration = 10m\n", retimed);
	free(retimed);
	assert_int_equal(harness_write_file("collector.ini", changed), 0);
	kill(fx.collector, SIGHUP);
	json_int_t three = 3;
	assert_true(harness_wait_until(green_min_workers_is, &three, 30000));
	wait_collector_log("SIGHUP: [cluster.green] min_workers applied");
	wait_collector_log("SIGHUP: [collector] tick changed, not applied: the tick timer is armed "
	                   "at start; restart the collector to apply it");
	wait_collector_log("SIGHUP: [watch] duration changed, not applied: the watch's settings");
	wait_collector_log("1 change(s) applied, 2 not applied");

	/* an invalid file: nothing applied, the line named */
	assert_int_equal(harness_write_file("collector.ini", "[collector]\ntik = 1s\n"), 0);
	kill(fx.collector, SIGHUP);
	wait_collector_log("collector.ini:2: unknown key 'tik' in [collector]; nothing applied");
	assert_int_equal(green_min_workers(), 3);
	assert_true(harness_alive(fx.collector));

	/* back as it was, for the tests after this one */
	assert_int_equal(harness_write_file("collector.ini", original), 0);
	free(original);
	kill(fx.collector, SIGHUP);
	json_int_t two = 2;
	assert_true(harness_wait_until(green_min_workers_is, &two, 30000));
}

static void test_plaintext_publisher_gets_nothing_in(void **state)
{
	(void)state;
	struct metric_wait others = {"trino_guard_reports_accepted_total",
	                             metric("trino_guard_reports_accepted_total") + 1};
	pid_t plain = start_agent("plain-node", "green", fx.green.port + 2, "rogue", false);
	/* the agent says its handshake failed: it tried, and was kept out */
	struct log_wait kept_out = {"agent-plain-node-rogue.log", "handshake failing"};
	assert_true(harness_wait_until(log_says, &kept_out, 10000));
	assert_false(node_known("plain-node"));
	harness_stop(plain, 5000);
	/* the other agents go on being accepted */
	assert_true(harness_wait_until(metric_reached, &others, 5000));
}

/* A CURVE publisher under KEY_NAME's pair, connected to the collector. */
static void *raw_publisher(void *context, const char *key_name)
{
	char server[41], public_key[41], secret[41], path[128], err[256];
	snprintf(path, sizeof(path), "%s.pub", key_name);
	assert_int_equal(curve_key_read_public(path, public_key, err, sizeof(err)), 0);
	snprintf(path, sizeof(path), "%s.key", key_name);
	assert_int_equal(curve_key_read_secret(path, secret, err, sizeof(err)), 0);
	assert_int_equal(curve_key_read_public("server.pub", server, err, sizeof(err)), 0);
	void *pub = zmq_socket(context, ZMQ_PUB);
	assert_non_null(pub);
	assert_int_equal(zmq_setsockopt(pub, ZMQ_CURVE_SERVERKEY, server, 41), 0);
	assert_int_equal(zmq_setsockopt(pub, ZMQ_CURVE_PUBLICKEY, public_key, 41), 0);
	assert_int_equal(zmq_setsockopt(pub, ZMQ_CURVE_SECRETKEY, secret, 41), 0);
	char endpoint[64];
	snprintf(endpoint, sizeof(endpoint), "tcp://127.0.0.1:%d", fx.zmq_port);
	assert_int_equal(zmq_connect(pub, endpoint), 0);
	return pub;
}

struct oversized_send {
	void *pub;
	size_t bytes;
	const char *sample;
	long long before;
};

/* Sends one message of BYTES (a PUB drops what it sends before the collector
 * subscribes: the wait re-sends) and says whether SAMPLE has moved. */
static bool oversized_counted(void *arg)
{
	struct oversized_send *s = arg;
	char *bytes = calloc(1, s->bytes);
	assert_non_null(bytes);
	memset(bytes, 0x0a, s->bytes);
	zmq_send(s->pub, bytes, s->bytes, ZMQ_DONTWAIT);
	free(bytes);
	return metric(s->sample) > s->before;
}

static void test_oversized_reports_are_counted_and_logged(void **state)
{
	(void)state;
	keygen("big");
	allow("big", "green", "worker", "big-node");
	struct metric_wait reloaded = {"trino_guard_allowed_keys",
	                               metric("trino_guard_allowed_keys") + 1};
	kill(fx.collector, SIGHUP);
	assert_true(harness_wait_until(metric_reached, &reloaded, 30000));
	void *context = zmq_ctx_new();
	void *pub = raw_publisher(context, "big");
	/* over 64 KiB: it arrives, is rejected as too_large, the connection stays */
	struct oversized_send big = {pub, 100 * 1024,
	                             "trino_guard_reports_rejected_total{reason=\"too_large\"}", 0};
	big.before = metric(big.sample);
	assert_true(harness_wait_until(oversized_counted, &big, 30000));
	/* over what libzmq takes: it drops the connection, which the monitor sees */
	struct oversized_send huge = {pub, 2 * 1024 * 1024, "trino_guard_agent_disconnects_total",
	                              0};
	huge.before = metric(huge.sample);
	assert_true(harness_wait_until(oversized_counted, &huge, 30000));
	struct log_wait logged = {"collector.log", "sent a message over"};
	assert_true(harness_wait_until(log_says, &logged, 5000));
	int linger = 0;
	zmq_setsockopt(pub, ZMQ_LINGER, &linger, sizeof(linger));
	zmq_close(pub);
	zmq_ctx_term(context);
}

static void test_metrics_pass_promtool(void **state)
{
	(void)state;
	char command[512];
	snprintf(command, sizeof(command),
	         "curl -sf %s/metrics > metrics.txt && promtool check metrics < metrics.txt "
	         "> promtool.txt 2>&1",
	         fx.api);
	int rc = system(command);
	if (rc != 0) {
		char *out = harness_read_file("promtool.txt");
		fail_msg("promtool check metrics failed (%d): %s", rc, out);
	}
	char *text = harness_read_file("metrics.txt");
	assert_non_null(strstr(text, "trino_guard_nodes{cluster=\"green\",liveness=\"live\"} 3\n"));
	assert_non_null(strstr(text, "trino_guard_node_info{cluster=\"blue\",node=\"blue-coord\","
	                             "role=\"coordinator\",version=\"446\"} 1\n"));
	/* a state is a value, never a label that churns the node's series */
	assert_non_null(strstr(text, "trino_guard_node_state{cluster=\"blue\",node=\"blue-coord\","
	                             "state=\"ACTIVE\"} 1\n"));
	assert_non_null(strstr(text, "trino_guard_node_state{cluster=\"blue\",node=\"blue-coord\","
	                             "state=\"DRAINING\"} 0\n"));
	assert_non_null(strstr(text,
	                       "trino_guard_node_last_report_timestamp_seconds{cluster=\"blue\","
	                       "node=\"blue-coord\"} 1"));
	assert_null(strstr(text, "findings_open"));
	assert_null(strstr(text, "_age_seconds"));
	assert_non_null(strstr(text, "trino_guard_build_info{version=\""));
	assert_non_null(strstr(text, "trino_guard_switches_total{from=\"blue\",to=\"green\","
	                             "result=\"ok\"} 0\n"));
	assert_non_null(strstr(text, "trino_guard_rollbacks_total{cause=\"degraded\"} 0\n"));
	assert_non_null(strstr(text, "# TYPE trino_guard_switch_duration_seconds histogram\n"));
	assert_non_null(strstr(text, "# TYPE process_cpu_seconds_total counter\n"));
	assert_non_null(strstr(text, "\nprocess_resident_memory_bytes "));
	assert_non_null(strstr(text, "\nprocess_open_fds "));
	assert_non_null(strstr(text, "\nprocess_start_time_seconds 1"));
	/* the sim's coordinators finish queries: green's successes are counted */
	assert_non_null(strstr(text, "trino_guard_queries_total{cluster=\"green\","
	                             "outcome=\"succeeded\"} "));
	assert_null(strstr(text, "trino_guard_queries_total{cluster=\"green\","
	                         "outcome=\"succeeded\"} 0\n"));
	assert_non_null(strstr(text, "# TYPE trino_guard_tick_duration_seconds histogram\n"));
	assert_non_null(strstr(text, "trino_guard_cutover_phase{phase=\"STEADY\"} 1\n"));
	assert_non_null(strstr(text, "trino_guard_active_cluster{cluster=\"blue\"} 1\n"));
	free(text);
}

static void expect_api_error(const char *method, const char *path, long status)
{
	char url[256];
	snprintf(url, sizeof(url), "%s%s", fx.api, path);
	struct harness_response response;
	harness_http(method, url, NULL, NULL, 3000, &response);
	if (response.status != status)
		fail_msg("%s %s: %ld, expected %ld", method, path, response.status, status);
	json_t *body = json_loads(response.body, 0, NULL);
	if (!json_is_string(json_object_get(body, "error")))
		fail_msg("%s %s: not a JSON error: %s", method, path, response.body);
	json_decref(body);
	harness_response_free(&response);
}

static void test_api_errors_are_json(void **state)
{
	(void)state;
	expect_api_error("GET", "/v2/status", 404);
	expect_api_error("GET", "/v1/status/", 404);
	expect_api_error("GET", "/v1/events?since=abc", 400);
	expect_api_error("GET", "/v1/events?limit=0", 400);
	expect_api_error("GET", "/v1/events?sinse=3", 400);
	expect_api_error("POST", "/v1/status", 405);
	json_t *events = get_json("/v1/events?since=0&limit=1");
	assert_int_equal(json_array_size(json_object_get(events, "events")), 1);
	json_int_t last = json_integer_value(json_object_get(events, "last_id"));
	json_decref(events);
	char path[64];
	snprintf(path, sizeof(path), "/v1/events?since=%lld", (long long)last);
	events = get_json(path);
	assert_int_equal(json_array_size(json_object_get(events, "events")), 0);
	json_decref(events);
}

static void test_journal_survives_a_restart(void **state)
{
	(void)state;
	json_t *before = get_json("/v1/events?since=0");
	json_int_t last = json_integer_value(json_object_get(before, "last_id"));
	json_decref(before);
	assert_true(last > 1);
	harness_kill9(fx.collector);
	char *journal = harness_read_file("state/journal.jsonl");
	assert_non_null(strstr(journal, "\"type\":\"finding-opened\""));
	free(journal);
	assert_int_equal(start_collector(), 0);
	json_t *after = get_json("/v1/events?since=0&limit=10000");
	json_t *list = json_object_get(after, "events");
	/* the old events are back, and new ids continue after them */
	assert_true(json_array_size(list) >= (size_t)last);
	json_t *newest = json_array_get(list, json_array_size(list) - 1);
	assert_true(json_integer_value(json_object_get(newest, "id")) > last);
	assert_string_equal(json_string_value(json_object_get(newest, "type")),
	                    "collector-started");
	json_decref(after);
	assert_true(harness_wait_until(no_findings, NULL, 10000));
}

static void test_bad_configs_are_refused(void **state)
{
	(void)state;
	mkdir("empty-keys", 0755);
	struct {
		const char *text;
		int exit_code;
		const char *message;
	} cases[] = {
	        {"[collector]\ntik = 1s\n", 2, "bad.ini:2: unknown key 'tik' in [collector]"},
	        {"[collector]\ncurve = on\n[cluster.g]\n", 2,
	         "bad.ini:2: [collector] secret_key_file is required with curve on"},
	        {"[collector]\ncurve = off\n[api]\nlisten = 0.0.0.0:7601\n[cluster.g]\n", 2,
	         "bad.ini:4: [api] listening on 0.0.0.0 (not loopback) requires token_file"},
	        {"[collector]\ncurve = off\n", 2, "no [cluster.NAME] section"},
	        {"[collector]\ncurve = off\ninitial_active = red\n[cluster.g]\n", 2,
	         "initial_active 'red' is not a [cluster.NAME] section"},
	        {"[collector]\nsecret_key_file = server.key\nallowed_keys_dir = empty-keys\n"
	         "state_dir = state2\nlisten = tcp://127.0.0.1:1\n[api]\nlisten = 127.0.0.1:0\n"
	         "[cluster.g]\n",
	         1, "holds no <cluster>/<role>/<node-id>.pub file"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		harness_write_file("bad.ini", cases[i].text);
		unlink("bad.log");
		const char *argv[] = {TG_COLLECTOR_BIN, "-c", "bad.ini", NULL};
		pid_t pid = harness_spawn(argv, "bad.log");
		int status = harness_wait_exit(pid, 30000); /* a deadline: exits at once */
		char *output = harness_read_file("bad.log");
		if (!WIFEXITED(status) || WEXITSTATUS(status) != cases[i].exit_code ||
		    strstr(output, cases[i].message) == NULL)
			fail_msg("case %zu: exit %d: %s", i, WEXITSTATUS(status), output);
		free(output);
	}
}

/* Runs trino-guardctl with ARGS; returns its exit code and output (caller frees). */
static int ctl(const char *const *args, char **output)
{
	const char *argv[16] = {TG_CTL_BIN};
	size_t n = 1;
	for (size_t i = 0; args[i] != NULL && n < 15; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	unlink("ctl.out");
	pid_t pid = harness_spawn(argv, "ctl.out");
	int status = harness_wait_exit(pid, 10000);
	*output = harness_read_file("ctl.out");
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void test_ctl_status_nodes_events_and_exit_codes(void **state)
{
	(void)state;
	char *out;
	const char *status_args[] = {"--url", fx.api, "status", NULL};
	assert_int_equal(ctl(status_args, &out), 0); /* nothing open */
	assert_non_null(strstr(out, "environment test, active cluster blue"));
	assert_non_null(strstr(out, "green"));
	assert_non_null(strstr(out, "447:3"));
	assert_non_null(strstr(out, "no open findings"));
	assert_null(strstr(out, "\033[")); /* not a terminal: no colour */
	free(out);

	control(&fx.green, "green-worker-2", "{\"version\":\"448\"}");
	expect_finding("mixed-version/green/green-worker-2", true, 3000, NULL);
	assert_int_equal(ctl(status_args, &out), 1); /* findings open */
	assert_non_null(strstr(out, "OPEN FINDINGS"));
	assert_non_null(strstr(out, "critical  mixed-version/green/green-worker-2"));
	free(out);
	const char *json_args[] = {"--url", fx.api, "--json", "status", NULL};
	assert_int_equal(ctl(json_args, &out), 1);
	json_t *parsed = json_loads(out, 0, NULL);
	assert_non_null(parsed);
	/* with it, node-hidden: the coordinator no longer counts the odd node */
	assert_non_null(finding(parsed, "mixed-version/green/green-worker-2"));
	json_decref(parsed);
	free(out);
	control(&fx.green, "green-worker-2", "{\"version\":\"447\"}");
	expect_finding("mixed-version/green/green-worker-2", false, 3000, NULL);

	const char *nodes_args[] = {"--url", fx.api, "nodes", NULL};
	assert_int_equal(ctl(nodes_args, &out), 0);
	assert_non_null(strstr(out, "green-worker-2"));
	assert_non_null(strstr(out, "coordinator"));
	free(out);
	const char *events_args[] = {"--url", fx.api, "events", "--after-id", "1", NULL};
	assert_int_equal(ctl(events_args, &out), 0);
	assert_non_null(strstr(out, "finding-closed   mixed-version/green/green-worker-2"));
	free(out);

	/* a collector that is not there is an error, not "all is well" */
	char dead[64];
	snprintf(dead, sizeof(dead), "http://127.0.0.1:%d", harness_port_range(1));
	const char *dead_args[] = {"--url", dead, "status", NULL};
	assert_int_equal(ctl(dead_args, &out), 2);
	free(out);
	const char *bad_args[] = {"frobnicate", NULL};
	assert_int_equal(ctl(bad_args, &out), 2);
	free(out);
}

static void test_ctl_keygen_and_check_config(void **state)
{
	(void)state;
	char *out;
	const char *keygen_args[] = {"keygen", "ctl-made", NULL};
	assert_int_equal(ctl(keygen_args, &out), 0);
	free(out);
	struct stat st;
	assert_int_equal(stat("ctl-made.key", &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	char key[41], err[256];
	assert_int_equal(curve_key_read_public("ctl-made.pub", key, err, sizeof(err)), 0);
	assert_int_equal(ctl(keygen_args, &out), 2); /* never overwrites */
	free(out);

	const char *good_collector[] = {"check-config", "collector.ini", NULL};
	assert_int_equal(ctl(good_collector, &out), 0);
	assert_non_null(strstr(out, "OK (collector config: "));
	free(out);
	const char *example[] = {"check-config", TG_SOURCE_DIR "/deploy/examples/collector.ini",
	                         NULL};
	/* the documented example stays a valid file (1, not 2): only its keys are not here */
	assert_int_equal(ctl(example, &out), 1);
	assert_non_null(strstr(out, "secret_key_file: "));
	free(out);
	const char *good_agent[] = {"check-config", "agent-blue-coord-blue-coord.ini", NULL};
	assert_int_equal(ctl(good_agent, &out), 0);
	assert_non_null(strstr(out, "OK (agent config: "));
	free(out);
	harness_write_file("typo.ini", "[agent]\ncluster = g\nintervall = 1s\n");
	const char *bad_agent[] = {"check-config", "typo.ini", NULL};
	assert_int_equal(ctl(bad_agent, &out), 2);
	assert_non_null(strstr(out, "typo.ini:3: unknown key 'intervall' in [agent]"));
	free(out);
}

static bool node_is(const char *node_id, const char *cluster, const char *role)
{
	json_t *nodes = get_json("/v1/nodes");
	size_t i;
	json_t *node;
	bool found = false;
	json_array_foreach(nodes, i, node)
	{
		found = found ||
		        (strcmp(json_string_value(json_object_get(node, "node_id")), node_id) ==
		                 0 &&
		         strcmp(json_string_value(json_object_get(node, "cluster")), cluster) ==
		                 0 &&
		         strcmp(json_string_value(json_object_get(node, "role")), role) == 0);
	}
	json_decref(nodes);
	return found;
}

static bool pod_is_blue_worker(void *arg)
{
	return node_is(arg, "blue", "worker");
}

static long long rejected(const char *reason)
{
	char sample[128];
	snprintf(sample, sizeof(sample), "trino_guard_reports_rejected_total{reason=\"%s\"}",
	         reason);
	return metric(sample);
}

/* Starts an agent with the pods' key and waits until REASON's count passes BEFORE. */
static void expect_pod_refused(const char *node_id, const char *cluster, int port,
                               const char *reason)
{
	char sample[128];
	snprintf(sample, sizeof(sample), "trino_guard_reports_rejected_total{reason=\"%s\"}",
	         reason);
	struct metric_wait more = {sample, rejected(reason) + 1};
	pid_t agent = start_agent(node_id, cluster, port, "pods", true);
	assert_true(harness_wait_until(metric_reached, &more, 30000));
	harness_stop(agent, 5000);
	assert_false(node_known(node_id));
}

/*
 * Kubernetes: one key for every worker pod of blue, as keys/blue/worker.pub.
 * Any node id is admitted as a worker of blue; the same key is refused as
 * blue's coordinator, as a worker of green, and under a node id the fleet
 * holds as blue's coordinator.
 */
static void test_role_key_admits_any_node_id_of_its_cluster_and_role_only(void **state)
{
	(void)state;
	keygen("pods");
	char *pub = harness_read_file("pods.pub");
	assert_non_null(pub);
	assert_int_equal(harness_write_file("keys/blue/worker.pub", pub), 0);
	free(pub);
	struct metric_wait reloaded = {"trino_guard_allowed_keys",
	                               metric("trino_guard_allowed_keys") + 1};
	kill(fx.collector, SIGHUP);
	assert_true(harness_wait_until(metric_reached, &reloaded, 30000));

	/* two pods with names no one knew ahead, both blue workers */
	int worker_port = fx.blue.port + 1;
	pid_t first = start_agent("trino-worker-7f9c4-x2lpq", "blue", worker_port, "pods", true);
	pid_t second = start_agent("trino-worker-7f9c4-9zkdm", "blue", worker_port, "pods", true);
	assert_true(harness_wait_until(pod_is_blue_worker, "trino-worker-7f9c4-x2lpq", 30000));
	assert_true(harness_wait_until(pod_is_blue_worker, "trino-worker-7f9c4-9zkdm", 30000));
	harness_stop(first, 5000);
	harness_stop(second, 5000);

	expect_pod_refused("trino-coordinator-0", "blue", fx.blue.port, "role_mismatch");
	expect_pod_refused("trino-worker-green-1", "green", fx.green.port + 1, "cluster_mismatch");
	/* blue's coordinator's own node id, as a worker: the fleet has it as the coordinator */
	long long before = rejected("identity_mismatch");
	pid_t spoof = start_agent("blue-coord", "blue", worker_port, "pods", true);
	struct metric_wait more = {
	        "trino_guard_reports_rejected_total{reason=\"identity_mismatch\"}", before + 1};
	assert_true(harness_wait_until(metric_reached, &more, 30000));
	harness_stop(spoof, 5000);
	assert_true(node_is("blue-coord", "blue", "coordinator"));

	unlink("keys/blue/worker.pub");
	kill(fx.collector, SIGHUP);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_both_clusters_are_visible),
	        cmocka_unit_test(test_mixed_version_found_within_3s_and_closed_after_the_fix),
	        cmocka_unit_test(test_stopped_agent_goes_stale),
	        cmocka_unit_test(test_refused_counters_are_a_finding),
	        cmocka_unit_test(test_unknown_key_is_refused_and_counted),
	        cmocka_unit_test(test_report_claiming_another_node_is_dropped),
	        cmocka_unit_test(test_key_bound_to_another_cluster_or_role_is_refused),
	        cmocka_unit_test(test_removed_key_loses_its_connection_at_sighup),
	        cmocka_unit_test(test_sighup_applies_what_can_change_live_and_names_the_rest),
	        cmocka_unit_test(test_plaintext_publisher_gets_nothing_in),
	        cmocka_unit_test(test_oversized_reports_are_counted_and_logged),
	        cmocka_unit_test(test_metrics_pass_promtool),
	        cmocka_unit_test(test_api_errors_are_json),
	        cmocka_unit_test(test_journal_survives_a_restart),
	        cmocka_unit_test(test_bad_configs_are_refused),
	        cmocka_unit_test(test_ctl_status_nodes_events_and_exit_codes),
	        cmocka_unit_test(test_ctl_keygen_and_check_config),
	        cmocka_unit_test(test_role_key_admits_any_node_id_of_its_cluster_and_role_only),
	};
	return cmocka_run_group_tests(tests, collector_e2e_setup, collector_e2e_teardown);
}
