/*
 * kill -9 at random moments of cutovers, watches and rollbacks, through a
 * real HAProxy driven by the haproxy driver and by the exec driver (socat on
 * HAProxy's runtime API, slow on purpose so that kills land mid-command).
 * After every kill a new collector must settle within 30 s (never stuck in
 * SWITCHING or ROLLING_BACK) with its active cluster where HAProxy sends
 * users (and, with the haproxy driver, the map file saying the same).
 * TG_KILL_LOOP_KILLS (default 10 per driver) runs longer; TG_KILL_LOOP_SEED
 * repeats a run (the seed is printed).
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
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "stack.h"

#define TOKEN "0123456789abcdef-test-token"

static struct stack fx;
static char *dir;
static unsigned seed;
static int kills;

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
};

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

struct agreement {
	char phase[32], active[64], backend[64];
	bool check_map_file;
	char map_file[128];
};

/* Settled (not SWITCHING or ROLLING_BACK) and HAProxy on the active cluster's backend. */
static bool settled_and_agreeing(void *arg)
{
	struct agreement *a = arg;
	if (!stack_phase(&fx, a->phase, sizeof(a->phase), a->active, sizeof(a->active)))
		return false;
	stack_get_map(&fx, a->backend, sizeof(a->backend));
	char *file = harness_read_file("active.map");
	snprintf(a->map_file, sizeof(a->map_file), "%s", file != NULL ? file : "");
	free(file);
	char expected[80], row[100];
	snprintf(expected, sizeof(expected), "bk_%s", a->active);
	snprintf(row, sizeof(row), "active %s\n", expected);
	return strcmp(a->phase, "SWITCHING") != 0 && strcmp(a->phase, "ROLLING_BACK") != 0 &&
	       strcmp(a->backend, expected) == 0 &&
	       (!a->check_map_file || strcmp(a->map_file, row) == 0);
}

/* One move of the game, chosen by the phase: a cutover, a rollback, or green failing. */
static const char *provoke(const char *phase, const char *active)
{
	if (strcmp(phase, "WATCHING") == 0) {
		if (rand_r(&seed) % 2 == 0) {
			post("/v1/rollback", "{\"force\":true,\"reason\":\"kill loop\"}");
			return "rollback";
		}
		stack_control(fx.green_control, "green-coord",
		              "{\"fail_ratio\":0.6,\"error_type\":\"INTERNAL_ERROR\"}");
		return "green failing";
	}
	const char *to = strcmp(active, "green") == 0 ? "blue" : "green";
	char body[128];
	snprintf(body, sizeof(body), "{\"to\":\"%s\",\"force\":true,\"reason\":\"kill loop\"}", to);
	post("/v1/cutover", body);
	return strcmp(to, "green") == 0 ? "cutover to green" : "cutover to blue";
}

static bool warmed_up(void *arg)
{
	(void)arg;
	char url[128];
	snprintf(url, sizeof(url), "%s/v1/status", fx.api);
	char *body = harness_get_ok(url);
	json_t *status = body != NULL ? json_loads(body, 0, NULL) : NULL;
	bool ok = status != NULL && json_is_false(json_object_get(status, "warming_up"));
	json_decref(status);
	free(body);
	return ok;
}

/* How many times the journal (every collector's) holds an alert NAME. */
static int journaled(const char *name)
{
	char *journal = harness_read_file("state/journal.jsonl");
	char needle[96];
	snprintf(needle, sizeof(needle), "\"name\":\"%s\"", name);
	int count = 0;
	for (const char *p = journal; p != NULL && (p = strstr(p, needle)) != NULL; p++)
		count++;
	free(journal);
	return count;
}

static void kill_loop(bool check_map_file)
{
	struct agreement a = {.check_map_file = check_map_file};
	if (!harness_wait_until(settled_and_agreeing, &a, 30000))
		fail_msg("not settled at the start: %s on %s, HAProxy on %s", a.phase, a.active,
		         a.backend);
	for (int k = 0; k < kills; k++) {
		/* a collector past its grace, so that a failing green can be rolled back */
		assert_true(harness_wait_until(warmed_up, NULL, 30000));
		const char *move = provoke(a.phase, a.active);
		/*
		 * The moment of the kill is the test's input: half the time within the
		 * first 40 ms (a switch through HAProxy's runtime API takes a few), else
		 * within 1.5 s (3 s for a failing green, so that it may be rolled back).
		 */
		unsigned window_ms = strcmp(move, "green failing") == 0 ? 3000 : 1500;
		if (rand_r(&seed) % 2 == 0)
			window_ms = 40;
		usleep((useconds_t)(rand_r(&seed) % window_ms) * 1000);
		harness_kill9(fx.collector);
		stack_control(fx.green_control, "green-coord", "{\"fail_ratio\":0}");
		assert_int_equal(stack_start_collector(&fx, &options), 0);
		if (!harness_wait_until(settled_and_agreeing, &a, 30000))
			fail_msg("kill %d (after '%s'): stuck or disagreeing after 30 s: %s on %s, "
			         "HAProxy on %s, map file '%s' (see %s)",
			         k + 1, move, a.phase, a.active, a.backend, a.map_file, dir);
		print_message("kill %d after '%s': %s on %s\n", k + 1, move, a.phase, a.active);
	}
	print_message("settled after restarts: %d cutover-interrupted, %d cutover-resumed, %d "
	              "rollback-resumed; %d rolled-back in all\n",
	              journaled("cutover-interrupted"), journaled("cutover-resumed"),
	              journaled("rollback-resumed"), journaled("rolled-back"));
}

/* A temp dir as the current directory, the stack in it with LB_SECTIONS (NULL: haproxy). */
static void start_stack(const char *lb_sections)
{
	options.lb_sections = lb_sections;
	assert_int_equal(stack_start(&fx, &options), 0);
}

static void enter_dir(char *cwd, size_t cwd_len)
{
	dir = harness_tmpdir("tg-kill-loop");
	assert_non_null(dir);
	assert_int_equal(chdir(dir), 0);
	assert_non_null(getcwd(cwd, cwd_len));
}

static void stop_stack(void)
{
	harness_stop_all();
	if (getenv("TG_KEEP_TEST_DIR") == NULL && chdir("/") == 0)
		harness_rmrf(dir);
	free(dir);
}

static void test_kill9_loop_with_the_haproxy_driver(void **state)
{
	(void)state;
	char cwd[512];
	enter_dir(cwd, sizeof(cwd));
	start_stack(NULL);
	kill_loop(true);
	stop_stack();
}

static void test_kill9_loop_with_the_exec_driver(void **state)
{
	(void)state;
	char cwd[512], sections[4096], script[2048];
	enter_dir(cwd, sizeof(cwd));
	/* HAProxy's runtime map, moved and read by shell scripts; the switch takes its time */
	snprintf(script, sizeof(script),
	         "sleep 0.4\n"
	         "out=$(echo \"set map %s/active.map active bk_$1\" | socat -t 2 stdio "
	         "unix-connect:%s/admin.sock) || exit 1\n"
	         "test -z \"$out\"\n",
	         cwd, cwd);
	assert_int_equal(harness_write_file("switch.sh", script), 0);
	snprintf(
	        script, sizeof(script),
	        "echo 'get map %s/active.map active' | socat -t 2 stdio unix-connect:%s/admin.sock "
	        "| sed -n 's/.*value=\"bk_\\(.*\\)\"/\\1/p'\n",
	        cwd, cwd);
	assert_int_equal(harness_write_file("current.sh", script), 0);
	snprintf(sections, sizeof(sections),
	         "[lb]\ndriver = exec\npoll = 300ms\ntimeout = 5s\nretries = 2\n"
	         "[lb.exec]\nswitch_command = sh %s/switch.sh {cluster}\n"
	         "current_command = sh %s/current.sh\n",
	         cwd, cwd);
	start_stack(sections);
	kill_loop(false);
	stop_stack();
}

int main(void)
{
	const char *text = getenv("TG_KILL_LOOP_KILLS");
	kills = text != NULL && atoi(text) > 0 ? atoi(text) : 10;
	text = getenv("TG_KILL_LOOP_SEED");
	seed = text != NULL ? (unsigned)strtoul(text, NULL, 10) : (unsigned)time(NULL);
	printf("kill loop: %d kills per driver, TG_KILL_LOOP_SEED=%u\n", kills, seed);
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_kill9_loop_with_the_haproxy_driver),
	        cmocka_unit_test(test_kill9_loop_with_the_exec_driver),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
