/*
 * Integration tests of trino-sim (real processes on 127.0.0.1): its answers
 * have the reference's shapes for each pretended Trino version, management
 * endpoints authenticate like Trino, counters keep Trino's semantics, its etc
 * dirs look like Trino's and bad command lines exit non-zero. The control
 * API's faults are test_sim_faults.c's.
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
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "sim_fixture.h"

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

static void test_management_auth_like_trino(void **state)
{
	(void)state;
	char metrics[128], jmx[192], gone_jmx[192];
	snprintf(metrics, sizeof(metrics), "%s/metrics", fx.green.url);
	snprintf(jmx, sizeof(jmx), "%s/v1/jmx/mbean/trino.execution:name=QueryManager",
	         fx.blue.url);
	/* after 478 there is no JMX REST: 404 before any authentication */
	snprintf(gone_jmx, sizeof(gone_jmx), "%s/v1/jmx/mbean/trino.execution:name=QueryManager",
	         fx.green.url);
	expect_status(gone_jmx, NULL, 404, NULL);
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
	/* 477 on: the node count comes from the CoordinatorNodeManager, the old name is gone */
	assert_non_null(strstr(response.body,
	                       "\ntrino_node_name_CoordinatorNodeManager_ActiveNodeCount 3.0\n"));
	assert_null(strstr(response.body, "DiscoveryNodeManager"));
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

static void test_before_429_metrics_without_counters_and_jmx_answers(void **state)
{
	(void)state;
	char url[256];
	/* 423: /metrics answers, with the gauges and the node count but no counters */
	snprintf(url, sizeof(url), "%s/metrics", fx.blue.url);
	expect_status(url, NULL, 401, NULL);
	struct harness_response metrics;
	assert_int_equal(harness_http("GET", url, trino_user, NULL, 2000, &metrics), 0);
	assert_int_equal(metrics.status, 200);
	assert_non_null(
	        strstr(metrics.body, "\ntrino_execution_name_QueryManager_RunningQueries "));
	assert_null(strstr(metrics.body, "FailedQueries"));
	assert_non_null(strstr(metrics.body,
	                       "\ntrino_metadata_name_DiscoveryNodeManager_ActiveNodeCount 2.0\n"));
	harness_response_free(&metrics);

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
	        cmocka_unit_test(test_before_429_metrics_without_counters_and_jmx_answers),
	        cmocka_unit_test(test_counters_keep_trino_semantics_and_fail_ratio_applies),
	        cmocka_unit_test(test_etc_dirs_are_trino_style),
	        cmocka_unit_test(test_bad_command_lines_exit_non_zero),
	};
	return cmocka_run_group_tests(tests, sim_fixture_setup, sim_fixture_teardown);
}
