/*
 * Pages to PagerDuty's conventions, end to end: the whole stack with a
 * PagerDuty sink (min_severity = error) pointed at pager-sim. A cutover, the
 * stable that ends its watch, a pause and a resume reach it as Change
 * Events, never as incidents; a rollback is exactly one incident, updated
 * when it is done and resolved when the next cutover starts; every payload
 * carries links and its runbook.
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
static int pager_port;
static char extra[1024];

static struct stack_options options = {
        .blue_version = "447",
        .green_version = "447",
        .workers = 1,
        .agent_interval = "200ms",
        .tick = "100ms",
        .watch_duration = "6s",
        .token = TOKEN "\n",
        .sim_bin = TG_SIM_BIN,
        .agent_bin = TG_AGENT_BIN,
        .collector_bin = TG_COLLECTOR_BIN,
        .haproxy_bin = TG_HAPROXY_BIN,
};

static json_t *pager_state(void)
{
	char url[128];
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/state", pager_port);
	char *body = harness_get_ok(url);
	json_t *value = body != NULL ? json_loads(body, 0, NULL) : NULL;
	free(body);
	return value;
}

static bool pager_up(void *arg)
{
	(void)arg;
	json_t *s = pager_state();
	json_decref(s);
	return s != NULL;
}

/* How many changes named ARG the pager has seen. */
static size_t changes_named(const char *name)
{
	json_t *s = pager_state();
	size_t i, count = 0;
	json_t *c;
	json_array_foreach(json_object_get(s, "changes"), i, c) count +=
	        strcmp(json_string_value(json_object_get(c, "change")), name) == 0;
	json_decref(s);
	return count;
}

static bool change_seen(void *arg)
{
	return changes_named(arg) > 0;
}

/* The incidents whose dedup key contains PART; the first into *FIRST (new reference). */
static size_t incidents_with(const char *part, json_t **first)
{
	json_t *s = pager_state();
	size_t i, count = 0;
	json_t *incident;
	if (first != NULL)
		*first = NULL;
	json_array_foreach(json_object_get(s, "incidents"), i, incident)
	{
		if (strstr(json_string_value(json_object_get(incident, "dedup_key")), part) == NULL)
			continue;
		if (count++ == 0 && first != NULL)
			*first = json_incref(incident);
	}
	json_decref(s);
	return count;
}

static void expect_no_violations(void)
{
	json_t *s = pager_state();
	json_t *violations = json_object_get(s, "violations");
	if (json_array_size(violations) > 0) {
		char *text = json_dumps(violations, JSON_INDENT(1));
		fail_msg("the pager saw payloads against the conventions: %s", text);
	}
	json_decref(s);
}

static long post(const char *path, const char *body)
{
	char url[128];
	snprintf(url, sizeof(url), "%s%s", fx.api, path);
	const char *headers[] = {"Authorization: Bearer " TOKEN, NULL};
	struct harness_response r;
	harness_http("POST", url, headers, body, 5000, &r);
	harness_response_free(&r);
	return r.status;
}

static bool cutover_accepted(void *arg)
{
	char body[128];
	snprintf(body, sizeof(body), "{\"to\":\"%s\",\"reason\":\"test\"}", (const char *)arg);
	return post("/v1/cutover", body) == 202;
}

static int setup(void **state)
{
	(void)state;
	dir = harness_tmpdir("tg-pager-test");
	if (dir == NULL || chdir(dir) != 0)
		return -1;
	pager_port = harness_port_range(1);
	char port[16];
	snprintf(port, sizeof(port), "%d", pager_port);
	const char *argv[] = {TG_PAGER_BIN, port, "1", NULL};
	if (pager_port < 0 || harness_spawn(argv, "pager.log") < 0 ||
	    !harness_wait_until(pager_up, NULL, 30000))
		return -1;
	if (harness_write_file("pd.key", "0123456789abcdef0123456789abcdef\n") != 0 ||
	    chmod("pd.key", 0600) != 0)
		return -1;
	snprintf(extra, sizeof(extra),
	         "[alerts]\nrunbook_url = https://docs.example/README.md\n"
	         "[alert.pagerduty]\nrouting_key_file = pd.key\n"
	         "url = http://127.0.0.1:%d/v2/enqueue\nmin_severity = error\n",
	         pager_port);
	options.extra_config = extra;
	return stack_start(&fx, &options);
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

static void test_changes_are_change_events(void **state)
{
	(void)state;
	assert_true(harness_wait_until(cutover_accepted, "green", 30000));
	assert_true(harness_wait_until(change_seen, "cutover", 30000));
	assert_true(stack_wait_phase(&fx, "STEADY", "green", 30000)); /* the 6 s watch passed */
	assert_true(harness_wait_until(change_seen, "stable", 30000));
	assert_int_equal(post("/v1/pause", "{\"reason\":\"maintenance\"}"), 200);
	assert_int_equal(post("/v1/resume", "{}"), 200);
	assert_true(harness_wait_until(change_seen, "resume", 30000));
	assert_int_equal(changes_named("pause"), 1);
	assert_int_equal(changes_named("cutover"), 1);
	/* none of them opened an incident */
	assert_int_equal(incidents_with("/", NULL), 0);
	expect_no_violations();
}

static bool rollback_done(void *arg)
{
	(void)arg;
	json_t *incident;
	bool done = incidents_with("rollback/blue", &incident) == 1 &&
	            json_integer_value(json_object_get(incident, "triggers")) == 2;
	json_decref(incident);
	return done;
}

static bool rollback_resolved(void *arg)
{
	(void)arg;
	json_t *incident;
	bool resolved = incidents_with("rollback/blue", &incident) == 1 &&
	                json_is_false(json_object_get(incident, "open"));
	json_decref(incident);
	return resolved;
}

static void test_a_rollback_is_one_incident(void **state)
{
	(void)state;
	assert_true(harness_wait_until(cutover_accepted, "blue", 30000));
	assert_true(stack_wait_phase(&fx, "WATCHING", "blue", 30000));
	assert_int_equal(stack_control(fx.blue_control, "blue-coord",
	                               "{\"fail_ratio\":0.5,\"error_type\":\"INTERNAL_ERROR\"}"),
	                 200);
	assert_true(stack_wait_phase(&fx, "ROLLED_BACK", "green", 30000));
	/* "rollback" and "rolled-back" under one key: one incident, two triggers */
	assert_true(harness_wait_until(rollback_done, NULL, 30000));
	assert_int_equal(incidents_with("/", NULL), 1);
	assert_int_equal(stack_control(fx.blue_control, "blue-coord", "{\"fail_ratio\":0}"), 200);
	/* the next cutover ends it */
	assert_true(harness_wait_until(cutover_accepted, "blue", 30000));
	assert_true(harness_wait_until(rollback_resolved, NULL, 30000));
	assert_int_equal(incidents_with("/", NULL), 1);
	expect_no_violations();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_changes_are_change_events),
	        cmocka_unit_test(test_a_rollback_is_one_incident),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
