/*
 * Integration tests of trino-sim (real processes on 127.0.0.1): its answers
 * have the reference's shapes for each pretended Trino version, management
 * endpoints authenticate like Trino, counters keep Trino's semantics, and
 * every fault of the control API takes effect; bad control requests change
 * nothing.
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
#include <regex.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

struct sim {
	pid_t pid;
	int port_base;
	int control_port;
	char url[64];     /* coordinator */
	char control[64]; /* control API */
};

struct fixture {
	char *dir;
	struct sim green; /* 479, 2 workers, etc dirs, 7 catalogs */
	struct sim blue;  /* 423: no /metrics counters, old /v1/info */
	struct sim old;   /* 447 with --management-user guard */
};

static struct fixture fx;

static const char *const trino_user[] = {"X-Trino-User: trino-guard", NULL};

static bool sim_ready(void *arg)
{
	struct sim *sim = arg;
	char *body = harness_get_ok(sim->control);
	free(body);
	return body != NULL;
}

static int start_sim(struct sim *sim, const char *name, const char *version, int workers,
                     const char *extra1, const char *extra2)
{
	sim->port_base = harness_port_range(workers + 2);
	if (sim->port_base < 0)
		return -1;
	sim->control_port = sim->port_base + workers + 1;
	char port[16], control[16], workers_text[16], etc[512], log[512];
	snprintf(port, sizeof(port), "%d", sim->port_base);
	snprintf(control, sizeof(control), "%d", sim->control_port);
	snprintf(workers_text, sizeof(workers_text), "%d", workers);
	snprintf(etc, sizeof(etc), "%s/etc-%s", fx.dir, name);
	snprintf(log, sizeof(log), "%s/sim-%s.log", fx.dir, name);
	const char *argv[24] = {
	        TG_SIM_BIN,   "--cluster",   name,  "--version",      version, "--workers",
	        workers_text, "--port-base", port,  "--control-port", control, "--etc-root",
	        etc,          "--qps",       "200", "--seed",         "7"};
	int argc = 17;
	if (extra1 != NULL)
		argv[argc++] = extra1;
	if (extra2 != NULL)
		argv[argc++] = extra2;
	argv[argc] = NULL;
	sim->pid = harness_spawn(argv, log);
	snprintf(sim->url, sizeof(sim->url), "http://127.0.0.1:%d", sim->port_base);
	snprintf(sim->control, sizeof(sim->control), "http://127.0.0.1:%d/control",
	         sim->control_port);
	return harness_wait_until(sim_ready, sim, 10000) ? 0 : -1;
}

static int setup(void **state)
{
	(void)state;
	fx.dir = harness_tmpdir("tg-sim-test");
	if (fx.dir == NULL)
		return -1;
	if (start_sim(&fx.green, "green", "479", 2, "--catalogs", "7") != 0 ||
	    start_sim(&fx.blue, "blue", "423-e.3", 1, NULL, NULL) != 0 ||
	    start_sim(&fx.old, "old", "447", 1, "--management-user", "guard") != 0)
		return -1;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	harness_stop_all();
	harness_rmrf(fx.dir);
	free(fx.dir);
	return 0;
}

static json_t *get_json(const char *url)
{
	char *body = harness_get_ok(url);
	if (body == NULL)
		fail_msg("GET %s did not answer 200", url);
	json_error_t error;
	json_t *value = json_loads(body, JSON_DECODE_ANY, &error);
	if (value == NULL)
		fail_msg("GET %s: not JSON (%s): %s", url, error.text, body);
	free(body);
	return value;
}

static json_t *node_url_json(const struct sim *sim, int index, const char *path)
{
	char url[256];
	snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", sim->port_base + index, path);
	return get_json(url);
}

static long post_control(const struct sim *sim, const char *node, const char *body, char **answer)
{
	char url[256];
	snprintf(url, sizeof(url), "%s/%s", sim->control, node);
	struct harness_response response;
	harness_http("POST", url, NULL, body, 5000, &response);
	if (answer != NULL)
		*answer = strdup(response.body != NULL ? response.body : "");
	harness_response_free(&response);
	return response.status;
}

static void must_post(const struct sim *sim, const char *node, const char *body)
{
	char *answer = NULL;
	long status = post_control(sim, node, body, &answer);
	if (status != 200)
		fail_msg("POST %s %s -> %ld %s", node, body, status, answer);
	free(answer);
}

static bool matches(const char *pattern, const char *text)
{
	regex_t re;
	assert_int_equal(regcomp(&re, pattern, REG_EXTENDED | REG_NOSUB), 0);
	bool ok = regexec(&re, text, 0, NULL, 0) == 0;
	regfree(&re);
	return ok;
}

/* ---- shapes ---- */

static void test_info_shapes_per_version(void **state)
{
	(void)state;
	json_t *coord = node_url_json(&fx.green, 0, "/v1/info");
	assert_string_equal(json_string_value(json_object_get(coord, "nodeId")), "green-coord");
	assert_string_equal(json_string_value(json_object_get(coord, "state")), "ACTIVE");
	assert_string_equal(json_string_value(json_object_get(json_object_get(coord, "nodeVersion"),
	                                                      "version")),
	                    "479");
	assert_true(json_is_true(json_object_get(coord, "coordinator")));
	assert_true(json_is_false(json_object_get(coord, "starting")));
	assert_string_equal(json_string_value(json_object_get(coord, "environment")), "production");
	assert_true(matches("^[a-km-np-z2-9]{5}$",
	                    json_string_value(json_object_get(coord, "coordinatorId"))));
	assert_true(matches("^[0-9]+\\.[0-9]{2}(ms|s|m|h|d)$",
	                    json_string_value(json_object_get(coord, "uptime"))));
	json_decref(coord);

	json_t *worker = node_url_json(&fx.green, 1, "/v1/info");
	assert_string_equal(json_string_value(json_object_get(worker, "nodeId")), "green-worker-1");
	assert_true(json_is_false(json_object_get(worker, "coordinator")));
	assert_null(json_object_get(worker, "coordinatorId")); /* coordinator only */
	json_decref(worker);

	/* Before 477: no nodeId, state or coordinatorId. */
	json_t *old = node_url_json(&fx.old, 0, "/v1/info");
	assert_null(json_object_get(old, "nodeId"));
	assert_null(json_object_get(old, "state"));
	assert_null(json_object_get(old, "coordinatorId"));
	assert_string_equal(
	        json_string_value(json_object_get(json_object_get(old, "nodeVersion"), "version")),
	        "447");
	json_decref(old);

	json_t *starburst = node_url_json(&fx.blue, 0, "/v1/info");
	assert_string_equal(json_string_value(json_object_get(
	                            json_object_get(starburst, "nodeVersion"), "version")),
	                    "423-e.3");
	json_decref(starburst);
}

static void test_state_is_a_bare_json_string(void **state)
{
	(void)state;
	char url[128];
	snprintf(url, sizeof(url), "%s/v1/info/state", fx.green.url);
	char *body = harness_get_ok(url);
	assert_non_null(body);
	assert_string_equal(body, "\"ACTIVE\"");
	free(body);
}

static void test_status_shape(void **state)
{
	(void)state;
	json_t *status = node_url_json(&fx.green, 2, "/v1/status");
	assert_string_equal(json_string_value(json_object_get(status, "nodeId")), "green-worker-2");
	assert_true(json_is_object(json_object_get(status, "nodeVersion")));
	assert_true(json_is_integer(json_object_get(
	        json_object_get(json_object_get(status, "memoryInfo"), "pool"), "maxBytes")));
	assert_true(json_is_integer(json_object_get(status, "heapAvailable")));
	assert_true(json_is_real(json_object_get(status, "processCpuLoad")));
	json_decref(status);

	char url[128];
	snprintf(url, sizeof(url), "%s/v1/status", fx.green.url);
	struct harness_response response;
	assert_int_equal(harness_http("HEAD", url, NULL, NULL, 2000, &response), 0);
	assert_int_equal(response.status, 200);
	harness_response_free(&response);
}

/* ---- management endpoints ---- */

static void expect_status(const char *url, const char *const *headers, long status,
                          const char *body)
{
	struct harness_response response;
	harness_http("GET", url, headers, NULL, 3000, &response);
	if (response.status != status)
		fail_msg("GET %s: %ld, expected %ld (%s)", url, response.status, status,
		         response.body);
	if (body != NULL && strcmp(response.body, body) != 0)
		fail_msg("GET %s: body '%s', expected '%s'", url, response.body, body);
	harness_response_free(&response);
}

static void test_management_auth_like_trino(void **state)
{
	(void)state;
	char metrics[128], jmx[192];
	snprintf(metrics, sizeof(metrics), "%s/metrics", fx.green.url);
	snprintf(jmx, sizeof(jmx), "%s/v1/jmx/mbean/trino.execution:name=QueryManager",
	         fx.green.url);
	expect_status(metrics, NULL, 401, "Basic authentication or X-Trino-User must be sent");
	expect_status(jmx, NULL, 401, "Basic authentication or X-Trino-User must be sent");
	const char *with_password[] = {"Authorization: Basic dXNlcjpzZWNyZXQ=",
	                               NULL}; /* user:secret */
	expect_status(metrics, with_password, 401,
	              "Password not allowed for insecure authentication");
	const char *basic_no_password[] = {"Authorization: Basic dXNlcg==", NULL}; /* user */
	expect_status(metrics, basic_no_password, 200, NULL);
	expect_status(metrics, trino_user, 200, NULL);
	expect_status(jmx, trino_user, 200, NULL);

	char old_metrics[128];
	snprintf(old_metrics, sizeof(old_metrics), "%s/metrics", fx.old.url);
	expect_status(old_metrics, trino_user, 403, "Management only resource");
	const char *guard[] = {"X-Trino-User: guard", NULL};
	expect_status(old_metrics, guard, 200, NULL);
}

static void test_metrics_are_openmetrics_with_the_name_filter(void **state)
{
	(void)state;
	char url[512];
	snprintf(url, sizeof(url),
	         "%s/metrics?name[]=trino_execution_name_QueryManager_CompletedQueries"
	         "&name%%5B%%5D=trino_execution_name_QueryManager_FailedQueries"
	         "&name[]=trino_execution_name_QueryManager_RunningQueries",
	         fx.green.url);
	struct harness_response response;
	assert_int_equal(harness_http("GET", url, trino_user, NULL, 2000, &response), 0);
	assert_int_equal(response.status, 200);
	const char *pattern = "^# TYPE trino_execution_name_QueryManager_CompletedQueries counter\n"
	                      "trino_execution_name_QueryManager_CompletedQueries [0-9]+\n"
	                      "# TYPE trino_execution_name_QueryManager_FailedQueries counter\n"
	                      "trino_execution_name_QueryManager_FailedQueries [0-9]+\n"
	                      "# TYPE trino_execution_name_QueryManager_RunningQueries gauge\n"
	                      "trino_execution_name_QueryManager_RunningQueries [0-9]+\\.[0-9]+\n"
	                      "# EOF\n$";
	if (!matches(pattern, response.body))
		fail_msg("unexpected /metrics body:\n%s", response.body);
	harness_response_free(&response);

	/* Unfiltered: all 13 QueryManager names and the active node count. */
	snprintf(url, sizeof(url), "%s/metrics", fx.green.url);
	assert_int_equal(harness_http("GET", url, trino_user, NULL, 2000, &response), 0);
	const char *names[] = {"SubmittedQueries",  "StartedQueries",
	                       "CompletedQueries",  "FailedQueries",
	                       "UserErrorFailures", "InternalFailures",
	                       "ExternalFailures",  "InsufficientResourcesFailures",
	                       "AbandonedQueries",  "CanceledQueries",
	                       "RunningQueries",    "QueuedQueries",
	                       "ProgressingQueries"};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		char line[128];
		snprintf(line, sizeof(line), "\ntrino_execution_name_QueryManager_%s ", names[i]);
		if (strstr(response.body, line) == NULL)
			fail_msg("missing %s", names[i]);
	}
	assert_non_null(strstr(response.body,
	                       "\ntrino_metadata_name_DiscoveryNodeManager_ActiveNodeCount 3.0\n"));
	harness_response_free(&response);

	/* A worker has no QueryManager. */
	snprintf(url, sizeof(url),
	         "http://127.0.0.1:%d/"
	         "metrics?name[]=trino_execution_name_QueryManager_FailedQueries",
	         fx.green.port_base + 1);
	assert_int_equal(harness_http("GET", url, trino_user, NULL, 2000, &response), 0);
	assert_string_equal(response.body, "# EOF\n");
	harness_response_free(&response);
}

static void test_before_429_metrics_404_and_jmx_answers(void **state)
{
	(void)state;
	char url[256];
	snprintf(url, sizeof(url), "%s/metrics", fx.blue.url);
	expect_status(url, trino_user, 404, NULL);

	snprintf(url, sizeof(url), "%s/v1/jmx/mbean/trino.execution:name=QueryManager",
	         fx.blue.url);
	struct harness_response response;
	assert_int_equal(harness_http("GET", url, trino_user, NULL, 2000, &response), 0);
	assert_int_equal(response.status, 200);
	json_t *mbean = json_loads(response.body, 0, NULL);
	harness_response_free(&response);
	assert_non_null(mbean);
	assert_string_equal(json_string_value(json_object_get(mbean, "objectName")),
	                    "trino.execution:name=QueryManager");
	json_t *attributes = json_object_get(mbean, "attributes");
	bool saw_completed = false, saw_nan = false, saw_running = false;
	size_t i;
	json_t *attribute;
	json_array_foreach(attributes, i, attribute)
	{
		const char *name = json_string_value(json_object_get(attribute, "name"));
		json_t *value = json_object_get(attribute, "value");
		if (strcmp(name, "CompletedQueries.TotalCount") == 0)
			saw_completed = json_is_integer(value);
		if (strcmp(name, "RunningQueries") == 0)
			saw_running = json_is_integer(value);
		if (strcmp(name, "ExecutionTime.AllTime.Avg") == 0)
			saw_nan = json_is_string(value) &&
			          strcmp(json_string_value(value), "NaN") == 0;
	}
	assert_true(saw_completed && saw_running && saw_nan);
	json_decref(mbean);

	/* One attribute: the bare value. */
	snprintf(url, sizeof(url),
	         "%s/v1/jmx/mbean/trino.execution:name=QueryManager/FailedQueries.TotalCount",
	         fx.blue.url);
	assert_int_equal(harness_http("GET", url, trino_user, NULL, 2000, &response), 0);
	assert_true(matches("^[0-9]+$", response.body));
	harness_response_free(&response);

	/* Percent-encoded object names work too; unknown MBeans and workers fail. */
	snprintf(url, sizeof(url), "%s/v1/jmx/mbean/trino.execution%%3Aname%%3DQueryManager",
	         fx.blue.url);
	expect_status(url, trino_user, 200, NULL);
	snprintf(url, sizeof(url), "%s/v1/jmx/mbean/trino.nothing:name=Here", fx.blue.url);
	expect_status(url, trino_user, 500, NULL);
	snprintf(url, sizeof(url),
	         "http://127.0.0.1:%d/v1/jmx/mbean/trino.execution:name=QueryManager",
	         fx.blue.port_base + 1);
	expect_status(url, trino_user, 500, NULL);
}

/* ---- counters ---- */

struct counters {
	long long submitted, completed, failed, user_error, internal, external, insufficient,
	        canceled, abandoned;
};

static struct counters read_counters(const struct sim *sim)
{
	json_t *control = get_json(sim->control);
	json_t *c = json_object_get(json_array_get(json_object_get(control, "nodes"), 0),
	                            "query_counters");
	struct counters out = {
	        json_integer_value(json_object_get(c, "submitted")),
	        json_integer_value(json_object_get(c, "completed")),
	        json_integer_value(json_object_get(c, "failed")),
	        json_integer_value(json_object_get(c, "user_error")),
	        json_integer_value(json_object_get(c, "internal")),
	        json_integer_value(json_object_get(c, "external")),
	        json_integer_value(json_object_get(c, "insufficient_resources")),
	        json_integer_value(json_object_get(c, "canceled")),
	        json_integer_value(json_object_get(c, "abandoned")),
	};
	json_decref(control);
	return out;
}

struct completed_goal {
	const struct sim *sim;
	long long at_least;
};

static bool completed_reached(void *arg)
{
	struct completed_goal *goal = arg;
	return read_counters(goal->sim).completed >= goal->at_least;
}

static void test_counters_keep_trino_semantics_and_fail_ratio_applies(void **state)
{
	(void)state;
	must_post(&fx.green, "green-coord",
	          "{\"qps\":2000,\"fail_ratio\":0.3,\"error_type\":\"INTERNAL_ERROR\","
	          "\"user_error_ratio\":0.2}");
	struct counters before = read_counters(&fx.green);
	struct completed_goal goal = {&fx.green, before.completed + 4000};
	assert_true(harness_wait_until(completed_reached, &goal, 15000));
	struct counters after = read_counters(&fx.green);
	must_post(&fx.green, "green-coord",
	          "{\"qps\":200,\"fail_ratio\":0,\"user_error_ratio\":0}");

	/* Completed counts every final state; the four types sum to Failed. */
	assert_int_equal(after.completed, after.submitted);
	assert_int_equal(after.failed,
	                 after.user_error + after.internal + after.external + after.insufficient);
	assert_true(after.canceled > 0 && after.canceled <= after.user_error);

	double n = (double)(after.completed - before.completed);
	double internal = (double)(after.internal - before.internal) / n;
	double user = (double)(after.user_error - before.user_error) / n;
	if (internal < 0.26 || internal > 0.34)
		fail_msg("internal failure ratio %.3f, expected about 0.30", internal);
	if (user < 0.16 || user > 0.24)
		fail_msg("user error ratio %.3f, expected about 0.20", user);

	/* Another error type goes to its own counter. */
	must_post(&fx.green, "green-coord",
	          "{\"qps\":2000,\"fail_ratio\":1,\"error_type\":\"EXTERNAL\"}");
	before = read_counters(&fx.green);
	goal.at_least = before.completed + 200;
	assert_true(harness_wait_until(completed_reached, &goal, 10000));
	after = read_counters(&fx.green);
	must_post(&fx.green, "green-coord", "{\"qps\":200,\"fail_ratio\":0}");
	assert_true(after.external - before.external >= 200);
	assert_int_equal(after.internal, before.internal);
}

/* ---- faults ---- */

static void test_version_fault(void **state)
{
	(void)state;
	must_post(&fx.green, "green-worker-1", "{\"version\":\"480\"}");
	json_t *info = node_url_json(&fx.green, 1, "/v1/info");
	assert_string_equal(
	        json_string_value(json_object_get(json_object_get(info, "nodeVersion"), "version")),
	        "480");
	json_decref(info);
	/* The coordinator no longer counts it as active (Trino 477+ marks it INVALID). */
	char url[256];
	snprintf(url, sizeof(url),
	         "%s/metrics?name[]=trino_metadata_name_DiscoveryNodeManager_ActiveNodeCount",
	         fx.green.url);
	struct harness_response response;
	harness_http("GET", url, trino_user, NULL, 2000, &response);
	assert_non_null(strstr(response.body, "ActiveNodeCount 2.0\n"));
	harness_response_free(&response);
	must_post(&fx.green, "green-worker-1", "{\"version\":\"479\"}");
}

static void test_state_fault(void **state)
{
	(void)state;
	must_post(&fx.green, "green-worker-2", "{\"state\":\"DRAINING\"}");
	json_t *node_state = node_url_json(&fx.green, 2, "/v1/info/state");
	assert_string_equal(json_string_value(node_state), "DRAINING");
	json_decref(node_state);
	json_t *info = node_url_json(&fx.green, 2, "/v1/info");
	assert_string_equal(json_string_value(json_object_get(info, "state")), "DRAINING");
	json_decref(info);
	must_post(&fx.green, "green-worker-2", "{\"state\":\"ACTIVE\"}");

	/* DRAINING needs Trino 468+, and a coordinator never drains. */
	char *answer = NULL;
	assert_int_equal(
	        post_control(&fx.blue, "blue-worker-1", "{\"state\":\"DRAINING\"}", &answer), 400);
	assert_non_null(strstr(answer, "468"));
	free(answer);
	assert_int_equal(post_control(&fx.green, "green-coord", "{\"state\":\"DRAINED\"}", NULL),
	                 400);
}

static void test_down_fault(void **state)
{
	(void)state;
	char url[128];
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/v1/info", fx.green.port_base + 1);
	must_post(&fx.green, "green-worker-1", "{\"down\":true}");
	struct harness_response response;
	assert_int_equal(harness_http("GET", url, NULL, NULL, 2000, &response), -1);
	assert_int_equal(response.status, 0);
	assert_non_null(strstr(response.error, "connect"));
	harness_response_free(&response);
	must_post(&fx.green, "green-worker-1", "{\"down\":false}");
	expect_status(url, NULL, 200, NULL);
}

static void test_hang_fault(void **state)
{
	(void)state;
	char url[128];
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/v1/info", fx.green.port_base + 2);
	must_post(&fx.green, "green-worker-2", "{\"hang\":true}");
	struct harness_response response;
	assert_int_equal(harness_http("GET", url, NULL, NULL, 500, &response), -1);
	assert_int_equal(response.status, 0);
	assert_true(response.seconds >= 0.45);
	harness_response_free(&response);
	must_post(&fx.green, "green-worker-2", "{\"hang\":false}");
	expect_status(url, NULL, 200, NULL);
}

static void test_slow_fault(void **state)
{
	(void)state;
	char url[128];
	snprintf(url, sizeof(url), "%s/v1/info", fx.green.url);
	must_post(&fx.green, "green-coord", "{\"slow_ms\":400}");
	struct harness_response response;
	assert_int_equal(harness_http("GET", url, NULL, NULL, 3000, &response), 0);
	assert_int_equal(response.status, 200);
	assert_true(response.seconds >= 0.38);
	harness_response_free(&response);
	must_post(&fx.green, "green-coord", "{\"slow_ms\":0}");
	assert_int_equal(harness_http("GET", url, NULL, NULL, 3000, &response), 0);
	assert_true(response.seconds < 0.3);
	harness_response_free(&response);
}

static void test_restart_fault(void **state)
{
	(void)state;
	struct completed_goal goal = {&fx.old, 50};
	assert_true(harness_wait_until(completed_reached, &goal, 10000));
	json_t *before = node_url_json(&fx.old, 0, "/v1/info");
	must_post(&fx.old, "old-coord", "{\"restart\":true}");
	struct counters after = read_counters(&fx.old);
	assert_true(after.completed < 50);
	json_t *info = node_url_json(&fx.old, 0, "/v1/info");
	const char *uptime = json_string_value(json_object_get(info, "uptime"));
	assert_true(matches("^[0-9.]+(ms|s)$", uptime));
	json_decref(before);
	json_decref(info);
}

static void test_counters_fault(void **state)
{
	(void)state;
	char url[128];
	snprintf(url, sizeof(url), "%s/metrics", fx.green.url);
	const char *modes[][2] = {{"401", "Basic authentication or X-Trino-User must be sent"},
	                          {"403", "Management only resource"},
	                          {"404", "Not Found"}};
	for (size_t i = 0; i < 3; i++) {
		char body[64];
		snprintf(body, sizeof(body), "{\"counters\":\"%s\"}", modes[i][0]);
		must_post(&fx.green, "green-coord", body);
		expect_status(url, trino_user, atol(modes[i][0]), modes[i][1]);
	}
	must_post(&fx.green, "green-coord", "{\"counters\":\"ok\"}");
	expect_status(url, trino_user, 200, NULL);
}

static void test_config_set_fault(void **state)
{
	(void)state;
	char path[512];
	snprintf(path, sizeof(path), "%s/etc-green/green-worker-2/catalog/tpch.properties", fx.dir);
	must_post(&fx.green, "green-worker-2",
	          "{\"config_set\":{\"file\":\"catalog/tpch.properties\","
	          "\"key\":\"tpch.splits-per-node\",\"value\":\"8\"}}");
	char *text = harness_read_file(path);
	assert_string_equal(text, "connector.name=tpch\ntpch.splits-per-node=8\n");
	free(text);
	must_post(&fx.green, "green-worker-2",
	          "{\"config_set\":{\"file\":\"catalog/tpch.properties\","
	          "\"key\":\"tpch.column-naming\",\"value\":\"STANDARD\"}}");
	text = harness_read_file(path);
	assert_string_equal(text, "connector.name=tpch\ntpch.splits-per-node=8\n"
	                          "tpch.column-naming=STANDARD\n");
	free(text);
}

static char *node_snapshot(const struct sim *sim, int index)
{
	json_t *control = get_json(sim->control);
	json_t *node = json_array_get(json_object_get(control, "nodes"), (size_t)index);
	json_object_del(node, "query_counters");
	char *text = json_dumps(node, JSON_SORT_KEYS);
	json_decref(control);
	return text;
}

static void test_bad_control_requests_change_nothing(void **state)
{
	(void)state;
	const char *bad_bodies[] = {
	        "not json",
	        "[1,2]",
	        "{\"version\":\"999\",\"bogus\":1}",
	        "{\"version\":\"999\",\"fail_ratio\":2}",
	        "{\"version\":\"999\",\"qps\":-1}",
	        "{\"version\":\"999\",\"slow_ms\":\"slow\"}",
	        "{\"version\":\"999\",\"state\":\"SLEEPING\"}",
	        "{\"version\":\"999\",\"counters\":\"500\"}",
	        "{\"version\":\"999\",\"down\":\"yes\"}",
	        "{\"version\":\"\"}",
	        "{\"version\":\"999\",\"config_set\":{\"file\":\"catalog/tpch.properties\"}}",
	        "{\"version\":\"999\",\"config_set\":{\"file\":\"../../x\",\"key\":\"a\","
	        "\"value\":\"b\"}}",
	        "{\"version\":\"999\",\"config_set\":{\"file\":\"catalog/none.properties\","
	        "\"key\":\"a\",\"value\":\"b\"}}",
	        "{\"version\":\"999\",\"config_set\":{\"file\":\"config.properties\","
	        "\"key\":\"a\\nb\",\"value\":\"b\"}}",
	        "{\"version\":\"999\",\"fail_ratio\":0.5}", /* traffic on a worker */
	};
	char path[512];
	snprintf(path, sizeof(path), "%s/etc-green/green-worker-1/config.properties", fx.dir);
	char *file_before = harness_read_file(path);
	char *before = node_snapshot(&fx.green, 1);
	for (size_t i = 0; i < sizeof(bad_bodies) / sizeof(bad_bodies[0]); i++) {
		char *answer = NULL;
		long status = post_control(&fx.green, "green-worker-1", bad_bodies[i], &answer);
		if (status != 400 || strstr(answer, "\"error\"") == NULL)
			fail_msg("body %s: %ld %s", bad_bodies[i], status, answer);
		free(answer);
		char *after = node_snapshot(&fx.green, 1);
		if (strcmp(before, after) != 0)
			fail_msg("body %s changed the node:\n%s\n%s", bad_bodies[i], before, after);
		free(after);
	}
	char *file_after = harness_read_file(path);
	assert_string_equal(file_before, file_after);
	free(file_before);
	free(file_after);
	free(before);
	assert_int_equal(post_control(&fx.green, "no-such-node", "{\"down\":true}", NULL), 404);
}

/* ---- etc dirs ---- */

static void test_etc_dirs_are_trino_style(void **state)
{
	(void)state;
	char path[512];
	snprintf(path, sizeof(path), "%s/etc-green/green-coord/config.properties", fx.dir);
	char *text = harness_read_file(path);
	char expected[512];
	snprintf(expected, sizeof(expected),
	         "coordinator=true\nnode-scheduler.include-coordinator=false\n"
	         "http-server.http.port=%d\ndiscovery.uri=http://127.0.0.1:%d\n",
	         fx.green.port_base, fx.green.port_base);
	assert_non_null(text);
	assert_memory_equal(text, expected, strlen(expected));
	free(text);

	snprintf(path, sizeof(path), "%s/etc-green/green-worker-2/config.properties", fx.dir);
	text = harness_read_file(path);
	snprintf(expected, sizeof(expected),
	         "coordinator=false\nhttp-server.http.port=%d\ndiscovery.uri=http://127.0.0.1:%d\n",
	         fx.green.port_base + 2, fx.green.port_base);
	assert_memory_equal(text, expected, strlen(expected));
	free(text);

	snprintf(path, sizeof(path), "%s/etc-green/green-worker-2/node.properties", fx.dir);
	text = harness_read_file(path);
	assert_string_equal(text, "node.environment=production\nnode.id=green-worker-2\n"
	                          "node.data-dir=/var/trino/data/green-worker-2\n");
	free(text);

	const char *files[] = {"jvm.config",
	                       "log.properties",
	                       "catalog/tpch.properties",
	                       "catalog/tpcds.properties",
	                       "catalog/memory.properties",
	                       "catalog/blackhole.properties",
	                       "catalog/jmx.properties",
	                       "catalog/hive_1.properties",
	                       "catalog/hive_2.properties"};
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "%s/etc-green/green-coord/%s", fx.dir, files[i]);
		if (access(path, R_OK) != 0)
			fail_msg("missing %s", path);
	}
	snprintf(path, sizeof(path), "%s/etc-green/green-coord/catalog/hive_3.properties", fx.dir);
	assert_int_not_equal(access(path, R_OK), 0); /* --catalogs 7: exactly seven */
}

static void test_bad_command_lines_exit_non_zero(void **state)
{
	(void)state;
	char log[512];
	snprintf(log, sizeof(log), "%s/bad.log", fx.dir);
	const char *no_cluster[] = {TG_SIM_BIN,       "--port-base", "20000",
	                            "--control-port", "20001",       NULL};
	pid_t pid = harness_spawn(no_cluster, log);
	int status = harness_wait_exit(pid, 5000);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 2);

	char port[16], control[16];
	snprintf(port, sizeof(port), "%d", fx.green.port_base); /* taken */
	snprintf(control, sizeof(control), "%d", harness_port_range(1));
	const char *port_taken[] = {TG_SIM_BIN, "--cluster",      "x",     "--port-base",
	                            port,       "--control-port", control, NULL};
	pid = harness_spawn(port_taken, log);
	status = harness_wait_exit(pid, 5000);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 1);
	char *text = harness_read_file(log);
	assert_non_null(strstr(text, "cannot listen on 127.0.0.1:"));
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_info_shapes_per_version),
	        cmocka_unit_test(test_state_is_a_bare_json_string),
	        cmocka_unit_test(test_status_shape),
	        cmocka_unit_test(test_management_auth_like_trino),
	        cmocka_unit_test(test_metrics_are_openmetrics_with_the_name_filter),
	        cmocka_unit_test(test_before_429_metrics_404_and_jmx_answers),
	        cmocka_unit_test(test_counters_keep_trino_semantics_and_fail_ratio_applies),
	        cmocka_unit_test(test_version_fault),
	        cmocka_unit_test(test_state_fault),
	        cmocka_unit_test(test_down_fault),
	        cmocka_unit_test(test_hang_fault),
	        cmocka_unit_test(test_slow_fault),
	        cmocka_unit_test(test_restart_fault),
	        cmocka_unit_test(test_counters_fault),
	        cmocka_unit_test(test_config_set_fault),
	        cmocka_unit_test(test_bad_control_requests_change_nothing),
	        cmocka_unit_test(test_etc_dirs_are_trino_style),
	        cmocka_unit_test(test_bad_command_lines_exit_non_zero),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
