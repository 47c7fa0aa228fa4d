/*
 * Integration tests of trino-sim's control API (real processes on
 * 127.0.0.1): every fault takes effect and is undone, and bad control
 * requests change nothing; and PUT /v1/info/state moves a node as Trino's
 * does.
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

#include "harness.h"
#include "sim_fixture.h"

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
	         "%s/metrics?name[]=trino_node_name_CoordinatorNodeManager_ActiveNodeCount",
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

/* PUT /v1/info/state as Trino answers it, one request per row, in order. */
static const struct {
	const char *name;
	struct sim *sim;
	int node;                /* 0: the coordinator */
	const char *const *user; /* headers */
	const char *body;
	long status;
	const char *text;  /* the answer's body */
	const char *after; /* GET /v1/info/state then, NULL: not asked */
} state_puts[] = {
        {"no user: 401", &fx.green, 1, NULL, "\"SHUTTING_DOWN\"", 401,
         "Basic authentication or X-Trino-User must be sent", "ACTIVE"},
        {"a user the access control denies: 403", &fx.old, 1, trino_user, "\"SHUTTING_DOWN\"", 403,
         "Management only resource", "ACTIVE"},
        {"a worker shuts down: 200, empty", &fx.green, 1, trino_user, "\"SHUTTING_DOWN\"", 200, "",
         "SHUTTING_DOWN"},
        {"asked again: 200, nothing changes", &fx.green, 1, trino_user, "\"SHUTTING_DOWN\"", 200,
         "", "SHUTTING_DOWN"},
        {"the coordinator refuses", &fx.green, 0, trino_user, "\"SHUTTING_DOWN\"", 500,
         "Cannot shutdown coordinator", "ACTIVE"},
        {"before 468 ACTIVE is no transition", &fx.blue, 1, trino_user, "\"ACTIVE\"", 400,
         "Invalid state transition to ACTIVE", "ACTIVE"},
        {"before 468 no drain", &fx.blue, 1, trino_user, "\"DRAINING\"", 400,
         "Invalid state transition to DRAINING", "ACTIVE"},
        {"before 468 a worker shuts down too", &fx.blue, 1, trino_user, "\"SHUTTING_DOWN\"", 200,
         "", "SHUTTING_DOWN"},
        {"468+ drains a worker", &fx.green, 2, trino_user, "\"DRAINING\"", 200, "", "DRAINING"},
        {"and undoes it", &fx.green, 2, trino_user, "\"ACTIVE\"", 200, "", "ACTIVE"},
        {"not a state", &fx.green, 2, trino_user, "\"LEAVING\"", 400, "Invalid state LEAVING",
         "ACTIVE"},
        {"not a JSON string", &fx.green, 2, trino_user, "SHUTTING_DOWN", 400,
         "Invalid state (none)", "ACTIVE"},
};

static void test_state_put(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(state_puts) / sizeof(state_puts[0]); i++) {
		char url[128];
		snprintf(url, sizeof(url), "http://127.0.0.1:%d/v1/info/state",
		         state_puts[i].sim->port_base + state_puts[i].node);
		const char *headers[3] = {"Content-Type: application/json", NULL, NULL};
		if (state_puts[i].user != NULL)
			headers[1] = state_puts[i].user[0];
		struct harness_response response;
		harness_http("PUT", url, headers, state_puts[i].body, 2000, &response);
		print_message("%s\n", state_puts[i].name);
		assert_int_equal(response.status, state_puts[i].status);
		assert_string_equal(response.body != NULL ? response.body : "", state_puts[i].text);
		harness_response_free(&response);
		json_t *now =
		        node_url_json(state_puts[i].sim, state_puts[i].node, "/v1/info/state");
		assert_string_equal(json_string_value(now), state_puts[i].after);
		json_decref(now);
	}
	must_post(&fx.green, "green-worker-1", "{\"state\":\"ACTIVE\"}");
	must_post(&fx.blue, "blue-worker-1", "{\"state\":\"ACTIVE\"}");
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

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_version_fault),
	        cmocka_unit_test(test_state_fault),
	        cmocka_unit_test(test_state_put),
	        cmocka_unit_test(test_down_fault),
	        cmocka_unit_test(test_hang_fault),
	        cmocka_unit_test(test_slow_fault),
	        cmocka_unit_test(test_restart_fault),
	        cmocka_unit_test(test_counters_fault),
	        cmocka_unit_test(test_config_set_fault),
	        cmocka_unit_test(test_bad_control_requests_change_nothing),
	};
	return cmocka_run_group_tests(tests, sim_fixture_setup, sim_fixture_teardown);
}
