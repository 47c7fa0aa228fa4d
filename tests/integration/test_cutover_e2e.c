/*
 * End to end through a real HAProxy: trino-sim blue (446) and green (447),
 * an agent per node, the collector with the haproxy driver. The gate refuses
 * a mixed green; writes need the token; a cutover moves traffic and starts
 * the watch; injected green failures roll it back (HAProxy and the map file
 * on blue again, the state ROLLED_BACK); a collector killed -9 in mid-watch
 * resumes it and still rolls back; a map changed by hand starts a watch;
 * green degraded while blue is down: no switch, a critical alert.
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
#include <unistd.h>

#include "harness.h"
#include "stack.h"

#define TOKEN "0123456789abcdef-test-token"

static struct stack fx;
static char *dir;

static const struct stack_options options = {
        .blue_version = "446",
        .green_version = "447",
        .workers = 1,
        .agent_interval = "200ms",
        .tick = "100ms",
        .token = TOKEN "\n",
        .sim_bin = TG_SIM_BIN,
        .agent_bin = TG_AGENT_BIN,
        .collector_bin = TG_COLLECTOR_BIN,
        .haproxy_bin = TG_HAPROXY_BIN,
};

static void control(int port, const char *node, const char *body)
{
	long status = stack_control(port, node, body);
	if (status != 200)
		fail_msg("control %s %s: %ld", node, body, status);
}

static json_t *status(void)
{
	char url[128];
	snprintf(url, sizeof(url), "%s/v1/status", fx.api);
	char *body = harness_get_ok(url);
	json_t *value = body != NULL ? json_loads(body, 0, NULL) : NULL;
	free(body);
	return value;
}

static bool no_findings(void *arg)
{
	(void)arg;
	json_t *s = status();
	bool ok = s != NULL && json_array_size(json_object_get(s, "findings")) == 0 &&
	          !json_is_true(json_object_get(s, "warming_up"));
	json_decref(s);
	return ok;
}

static long post(const char *path, const char *body, bool with_token, json_t **answer)
{
	char url[128];
	snprintf(url, sizeof(url), "%s%s", fx.api, path);
	const char *headers[] = {"Authorization: Bearer " TOKEN, NULL};
	struct harness_response r;
	harness_http("POST", url, with_token ? headers : NULL, body, 5000, &r);
	if (answer != NULL)
		*answer = json_loads(r.body, 0, NULL);
	harness_response_free(&r);
	return r.status;
}

static void expect_served_by(const char *node)
{
	char *got = stack_served_by(&fx);
	assert_string_equal(got, node);
	free(got);
}

static int setup(void **state)
{
	(void)state;
	dir = harness_tmpdir("tg-cutover-test");
	if (dir == NULL || chdir(dir) != 0 || stack_start(&fx, &options) != 0)
		return -1;
	if (!harness_wait_until(no_findings, NULL, 15000)) {
		print_error("findings stayed open at start (see %s)\n", dir);
		return -1;
	}
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	harness_stop_all();
	if (getenv("TG_KEEP_TEST_DIR") == NULL && chdir("/") == 0)
		harness_rmrf(dir);
	free(dir);
	return 0;
}

static bool has_finding(void *arg)
{
	json_t *s = status();
	size_t i;
	json_t *f;
	bool found = false;
	json_array_foreach(json_object_get(s, "findings"), i, f)
	{
		found = found || strcmp(json_string_value(json_object_get(f, "key")), arg) == 0;
	}
	json_decref(s);
	return found;
}

static void test_gate_refuses_a_mixed_green_and_writes_need_the_token(void **state)
{
	(void)state;
	assert_true(stack_wait_phase(&fx, "STEADY", "blue", 5000));
	expect_served_by("blue-coord");
	assert_int_equal(post("/v1/cutover", "{\"to\":\"green\"}", false, NULL), 401);
	control(fx.green_control, "green-worker-1", "{\"version\":\"446\"}");
	assert_true(harness_wait_until(has_finding, "mixed-version/green/green-worker-1", 5000));
	json_t *answer = NULL;
	assert_int_equal(
	        post("/v1/cutover", "{\"to\":\"green\",\"reason\":\"upgrade\"}", true, &answer),
	        409);
	char *checks = json_dumps(json_object_get(answer, "failed_checks"), 0);
	assert_non_null(strstr(checks, "mixed-version: green-worker-1 runs Trino 446"));
	free(checks);
	json_decref(answer);
	expect_served_by("blue-coord");
	assert_int_equal(post("/v1/cutover", "{\"to\":\"green\",\"bogus\":1}", true, NULL), 400);
	control(fx.green_control, "green-worker-1", "{\"version\":\"447\"}");
	assert_true(harness_wait_until(no_findings, NULL, 5000));
}

static void test_cutover_then_degradation_rolls_back(void **state)
{
	(void)state;
	assert_int_equal(
	        post("/v1/cutover", "{\"to\":\"green\",\"reason\":\"upgrade\"}", true, NULL), 202);
	assert_true(stack_wait_phase(&fx, "WATCHING", "green", 5000));
	expect_served_by("green-coord");
	char *map = harness_read_file("active.map");
	assert_string_equal(map, "active bk_green\n");
	free(map);
	control(fx.green_control, "green-coord",
	        "{\"fail_ratio\":0.5,\"error_type\":\"INTERNAL_ERROR\"}");
	assert_true(stack_wait_phase(&fx, "ROLLED_BACK", "blue", 10000));
	expect_served_by("blue-coord");
	map = harness_read_file("active.map");
	assert_string_equal(map, "active bk_blue\n");
	free(map);
	char *journal = harness_read_file("state/journal.jsonl");
	assert_non_null(strstr(journal, "\"name\":\"rolled-back\""));
	assert_non_null(strstr(journal, "failures"));
	assert_non_null(strstr(journal, "vs tolerated 5.0 %"));
	free(journal);
	control(fx.green_control, "green-coord", "{\"fail_ratio\":0}");
}

static void test_kill9_in_mid_watch_still_rolls_back(void **state)
{
	(void)state;
	assert_true(harness_wait_until(no_findings, NULL, 5000));
	/* Green's last minute may still hold enough of the failures just injected
	 * for the gate to refuse; if it does, that must be the reason. */
	json_t *answer = NULL;
	long code = post("/v1/cutover", "{\"to\":\"green\"}", true, &answer);
	if (code == 409) {
		char *checks = json_dumps(json_object_get(answer, "failed_checks"), 0);
		assert_non_null(strstr(checks, "failure ratio of green"));
		free(checks);
		code = post("/v1/cutover", "{\"to\":\"green\",\"force\":true}", true, NULL);
	}
	json_decref(answer);
	assert_int_equal(code, 202);
	assert_true(stack_wait_phase(&fx, "WATCHING", "green", 5000));
	/* the detector's evidence is checkpointed into the state file during the watch */
	long long until = harness_now_ms() + 3000;
	char *saved = NULL;
	while (harness_now_ms() < until) {
		free(saved);
		saved = harness_read_file("state/cutover.json");
		if (saved != NULL && strstr(saved, "\"detector\"") != NULL)
			break;
		usleep(100000);
	}
	assert_non_null(strstr(saved, "\"failure_score\""));
	free(saved);
	harness_kill9(fx.collector);
	assert_int_equal(stack_start_collector(&fx, &options), 0);
	assert_true(
	        stack_wait_phase(&fx, "WATCHING", "green", 5000)); /* resumed from the state file */
	expect_served_by("green-coord");
	control(fx.green_control, "green-coord",
	        "{\"fail_ratio\":0.5,\"error_type\":\"INTERNAL_ERROR\"}");
	assert_true(stack_wait_phase(&fx, "ROLLED_BACK", "blue", 15000));
	expect_served_by("blue-coord");
	control(fx.green_control, "green-coord", "{\"fail_ratio\":0}");
}

static void test_map_changed_by_hand_starts_a_watch(void **state)
{
	(void)state;
	char command[512];
	snprintf(command, sizeof(command),
	         "echo 'set map %s/active.map active bk_green' | socat stdio "
	         "unix-connect:%s/admin.sock"
	         " > /dev/null",
	         fx.dir, fx.dir);
	assert_int_equal(system(command), 0);
	assert_true(stack_wait_phase(&fx, "WATCHING", "green", 5000));
	char *journal = harness_read_file("state/journal.jsonl");
	assert_non_null(strstr(journal, "\"name\":\"external-cutover\""));
	free(journal);
}

static void test_green_degraded_and_blue_down_no_switch(void **state)
{
	(void)state;
	assert_true(stack_wait_phase(&fx, "WATCHING", "green", 1000));
	control(fx.blue_control, "blue-coord", "{\"down\":true}");
	assert_true(harness_wait_until(has_finding, "cluster-incomplete/blue", 5000));
	control(fx.green_control, "green-coord",
	        "{\"fail_ratio\":0.5,\"error_type\":\"INTERNAL_ERROR\"}");
	long long until = harness_now_ms() + 3000;
	char *journal = NULL;
	while (harness_now_ms() < until) {
		free(journal);
		journal = harness_read_file("state/journal.jsonl");
		if (strstr(journal, "\"name\":\"rollback-refused\"") != NULL)
			break;
		usleep(100000);
	}
	assert_non_null(strstr(journal, "green degraded and blue unavailable"));
	free(journal);
	/* and it stays visible as a critical finding while users are on degraded green */
	assert_true(harness_wait_until(has_finding, "degraded/green", 3000));
	assert_true(stack_wait_phase(&fx, "WATCHING", "green",
	                             1000)); /* no switch into a dead cluster */
	expect_served_by("green-coord");
	control(fx.green_control, "green-coord", "{\"fail_ratio\":0}");
	control(fx.blue_control, "blue-coord", "{\"down\":false}");
}

static void test_lb_down_is_a_journaled_failure_and_an_open_finding(void **state)
{
	(void)state;
	/* back to steady on blue first */
	assert_int_equal(post("/v1/rollback", "{\"force\":true}", true, NULL), 202);
	assert_true(stack_wait_phase(&fx, "ROLLED_BACK", "blue", 10000));
	harness_stop(fx.haproxy, 5000); /* the runtime API socket is gone */
	long code = post("/v1/cutover", "{\"to\":\"green\",\"force\":true}", true, NULL);
	assert_int_equal(code, 202);
	assert_true(harness_wait_until(has_finding, "lb-switch-failed/green", 10000));
	assert_true(stack_wait_phase(&fx, "STEADY", "blue", 1000)); /* users were never moved */
	char *journal = harness_read_file("state/journal.jsonl");
	assert_non_null(
	        strstr(journal, "\"type\":\"lb-switch\",\"cluster\":\"green\",\"ok\":false"));
	assert_non_null(strstr(journal, "\"name\":\"lb-switch-failed\""));
	assert_non_null(
	        strstr(journal, "\"type\":\"lb-attempt\",\"cluster\":\"green\"")); /* retries */
	free(journal);
	char url[128];
	snprintf(url, sizeof(url), "%s/healthz", fx.api);
	char *health = harness_get_ok(url);
	assert_non_null(health); /* no crash */
	free(health);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_gate_refuses_a_mixed_green_and_writes_need_the_token),
	        cmocka_unit_test(test_cutover_then_degradation_rolls_back),
	        cmocka_unit_test(test_kill9_in_mid_watch_still_rolls_back),
	        cmocka_unit_test(test_map_changed_by_hand_starts_a_watch),
	        cmocka_unit_test(test_green_degraded_and_blue_down_no_switch),
	        cmocka_unit_test(test_lb_down_is_a_journaled_failure_and_an_open_finding),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
