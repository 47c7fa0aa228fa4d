/*
 * A switch by hand seen without confirm-switch, end to end: trino-sim blue
 * and green with their background traffic, an agent per node, the collector
 * with [lb] driver = none and [lb.none] reading the LB with a command (cat of
 * a file the test writes, absent at first: unreadable) and taking evidence
 * from the traffic. A cutover waits while both clusters take queries and
 * starts its watch by itself once blue takes none and green does ("seen in
 * the traffic"); a rollback by hand and the next cutover end when the LB
 * read names their target ("seen on the LB"). The journal says how.
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
#include <unistd.h>

#include "harness.h"
#include "stack.h"
#include "stack_queries.h"

#define TOKEN "0123456789abcdef-test-token"

static struct stack fx;
static char *dir;
static char lb_sections[1024];

static struct stack_options options = {
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
        .lb_sections = lb_sections,
};

/* What status says of the switch by hand awaited (seen_when); "" when none is. */
static void seen_when(char *out, size_t len)
{
	char url[128];
	snprintf(url, sizeof(url), "%s/v1/status", fx.api);
	char *body = harness_get_ok(url);
	json_t *s = body != NULL ? json_loads(body, 0, NULL) : NULL;
	free(body);
	json_t *by_hand = json_object_get(json_object_get(s, "cutover"), "switch_by_hand");
	const char *text = json_string_value(json_object_get(by_hand, "seen_when"));
	snprintf(out, len, "%s", text != NULL ? text : "");
	json_decref(s);
}

/* True once status says something other than PHASE (given as the arg). */
static bool phase_left(void *arg)
{
	char phase[32] = "", active[64] = "";
	return stack_phase(&fx, phase, sizeof(phase), active, sizeof(active)) &&
	       strcmp(phase, arg) != 0;
}

/* True once seen_when shows the traffic read: "<to> took N of 20 new queries". */
static bool traffic_read(void *arg)
{
	char text[1024];
	seen_when(text, sizeof(text));
	char expect[128];
	snprintf(expect, sizeof(expect), "the traffic shows the move (%s took ", (const char *)arg);
	return strstr(text, expect) != NULL && strstr(text, "of 20 new queries") != NULL;
}

static long post(const char *path, const char *body)
{
	return stack_api_post(&fx, TOKEN, path, body);
}

static void expect_journal(const char *text)
{
	char *journal = harness_read_file("state/journal.jsonl");
	if (journal == NULL || strstr(journal, text) == NULL)
		fail_msg("the journal has no '%s':\n%s", text, journal != NULL ? journal : "");
	free(journal);
}

/* What the LB "points at" for [lb.none] current_command. */
static void lb_points_at(const char *cluster)
{
	char path[600];
	snprintf(path, sizeof(path), "%s/lb-target", dir);
	assert_int_equal(harness_write_file(path, cluster), 0);
}

static int setup(void **state)
{
	(void)state;
	dir = harness_tmpdir("tg-by-hand-test");
	if (dir == NULL || chdir(dir) != 0)
		return -1;
	snprintf(lb_sections, sizeof(lb_sections),
	         "[lb]\ndriver = none\npoll = 200ms\n"
	         "[lb.none]\ncurrent_command = cat %s/lb-target\ncurrent_timeout = 2s\n"
	         "traffic_queries = 20\ntraffic_quiet = 2s\n",
	         dir);
	if (stack_start(&fx, &options) != 0)
		return -1;
	if (!stack_wait_ready(&fx, 0, 15000)) {
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

static void test_the_traffic_moving_starts_the_watch(void **state)
{
	(void)state;
	assert_true(stack_wait_phase(&fx, "STEADY", "blue", 5000));
	assert_int_equal(post("/v1/cutover", "{\"to\":\"green\",\"reason\":\"upgrade\"}"), 202);
	assert_true(stack_wait_phase(&fx, "SWITCHING", "blue", 2000));
	expect_journal(
	        "confirm-switch (POST /v1/cutover/confirm); or wait: it is seen by itself "
	        "once the LB read names green or the traffic moves there; users stay on blue");
	/* both clusters take queries (the LB unreadable): the move is not seen */
	assert_true(harness_wait_until(traffic_read, "green", 5000));
	assert_false(harness_wait_until(phase_left, "SWITCHING", 3000));
	char text[1024];
	seen_when(text, sizeof(text));
	assert_non_null(strstr(text, "the LB read by [lb.none] names it, or once the traffic"));
	/* users leave blue: it takes no new query, green goes on taking them */
	assert_int_equal(stack_control(fx.blue_control, "blue-coord", "{\"qps\":0}"), 200);
	assert_true(stack_wait_phase(&fx, "WATCHING", "green", 10000));
	expect_journal("cutover (seen in the traffic: green took ");
	expect_journal(" new queries and blue none for 2 s): the LB sends users to green");
}

/*
 * A switch by hand awaited in PHASE with users on FROM (the traffic read,
 * showing nothing decisive) ends in NEXT on TO once the LB read names TO;
 * the journal says JOURNAL.
 */
static void lb_read_ends_the_wait(const char *phase, const char *from, const char *to,
                                  const char *next, const char *journal)
{
	assert_true(stack_wait_phase(&fx, phase, from, 2000));
	assert_true(harness_wait_until(traffic_read, (void *)to, 5000));
	char line[64];
	snprintf(line, sizeof(line), "%s\n", to);
	lb_points_at(line);
	assert_true(stack_wait_phase(&fx, next, to, 5000));
	expect_journal(journal);
}

static void test_the_lb_read_ends_a_rollback_and_a_cutover_by_hand(void **state)
{
	(void)state;
	assert_true(stack_wait_phase(&fx, "WATCHING", "green", 1000));
	/* blue takes no query: the traffic cannot show the move back */
	assert_int_equal(post("/v1/rollback", "{\"force\":true,\"reason\":\"drill\"}"), 202);
	lb_read_ends_the_wait("ROLLING_BACK", "green", "blue", "ROLLED_BACK",
	                      "rolled back (seen on the LB): the LB sends users to blue again");
	/* both take queries: the traffic cannot show the move */
	assert_int_equal(stack_control(fx.blue_control, "blue-coord", "{\"qps\":100}"), 200);
	assert_true(stack_wait_ready(&fx, 0, 10000));
	assert_int_equal(post("/v1/cutover", "{\"to\":\"green\",\"force\":true}"), 202);
	lb_read_ends_the_wait("SWITCHING", "blue", "green", "WATCHING",
	                      "cutover (seen on the LB): the LB sends users to green (was blue)");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_the_traffic_moving_starts_the_watch),
	        cmocka_unit_test(test_the_lb_read_ends_a_rollback_and_a_cutover_by_hand),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
