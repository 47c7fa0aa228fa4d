/*
 * The dashboard at GET / in a real browser: the whole stack (trino-sim blue
 * 446 and green 447, agents, HAProxy, the collector) driven through a mixed
 * version, a cutover and a rollback; at each step headless Chromium loads the
 * page, runs its script against the live API and dumps the DOM it built,
 * whose text (tags stripped: what the browser shows) must say what happened;
 * a screenshot of each step is saved under the build dir
 * (TG_SCREENSHOT_DIR/dashboard-N-STEP.png).
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

/* The page's text as Chromium rendered it: the DOM after its script ran, tags stripped. */
static char *rendered_text(void)
{
	char command[1024];
	snprintf(command, sizeof(command),
	         "chromium --headless --no-sandbox --disable-gpu --disable-dev-shm-usage "
	         "--user-data-dir=%s/chromium --virtual-time-budget=5000 --dump-dom "
	         "http://127.0.0.1:%d/ > dom.html 2> chromium.log",
	         dir, fx.api_port);
	if (system(command) != 0)
		return NULL;
	char *dom = harness_read_file("dom.html");
	if (dom == NULL)
		return NULL;
	/* the script and style are the page's source, not what it shows */
	char *script = strstr(dom, "<script");
	if (script != NULL)
		*script = '\0';
	char *style = strstr(dom, "<style"), *style_end = style ? strstr(style, "</style>") : NULL;
	if (style != NULL && style_end != NULL)
		memmove(style, style_end + 8, strlen(style_end + 8) + 1);
	size_t out = 0;
	bool in_tag = false;
	for (size_t i = 0; dom[i] != '\0'; i++) {
		if (dom[i] == '<')
			in_tag = true;
		else if (dom[i] == '>') {
			in_tag = false;
			dom[out++] = ' ';
		} else if (!in_tag)
			dom[out++] = dom[i];
	}
	dom[out] = '\0';
	return dom;
}

static void screenshot(const char *name)
{
	mkdir(TG_SCREENSHOT_DIR, 0755);
	char command[1024];
	snprintf(command, sizeof(command),
	         "chromium --headless --no-sandbox --disable-gpu --disable-dev-shm-usage "
	         "--user-data-dir=%s/chromium --virtual-time-budget=5000 --hide-scrollbars "
	         "--window-size=1400,1100 --screenshot=%s/%s.png http://127.0.0.1:%d/ "
	         ">> chromium.log 2>&1",
	         dir, TG_SCREENSHOT_DIR, name, fx.api_port);
	assert_int_equal(system(command), 0);
	char path[512];
	snprintf(path, sizeof(path), "%s/%s.png", TG_SCREENSHOT_DIR, name);
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_true(st.st_size > 1000);
	print_message("screenshot %s\n", path);
}

/* The rendered page says every one of the NULL-terminated WORDS (retried: the stack moves). */
static void expect_page_says(const char *const *words)
{
	char *text = NULL;
	const char *missing = NULL;
	long long deadline = harness_now_ms() + 60000;
	do {
		free(text);
		text = rendered_text();
		missing = text == NULL ? "(chromium failed; see chromium.log)" : NULL;
		for (size_t i = 0; text != NULL && words[i] != NULL && missing == NULL; i++)
			if (strstr(text, words[i]) == NULL)
				missing = words[i];
	} while (missing != NULL && harness_now_ms() < deadline);
	if (missing != NULL)
		fail_msg("the page does not say '%s': %s", missing, text != NULL ? text : "");
	free(text);
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
	(void)arg;
	return post("/v1/cutover", "{\"to\":\"green\",\"reason\":\"upgrade to 447\"}") == 202;
}

static int setup(void **state)
{
	(void)state;
	dir = harness_tmpdir("tg-dashboard-test");
	if (dir == NULL || chdir(dir) != 0)
		return -1;
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

static void test_the_page_is_served_self_contained(void **state)
{
	(void)state;
	char url[128];
	snprintf(url, sizeof(url), "%s/", fx.api);
	struct harness_response r;
	harness_http("GET", url, NULL, NULL, 5000, &r);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, "fetch(\"/v1/status\")"));
	assert_null(strstr(r.body, "src=\"http")); /* no external asset */
	assert_null(strstr(r.body, "href=\"http"));
	harness_response_free(&r);
}

static void test_mixed_version_then_cutover_then_rollback(void **state)
{
	(void)state;
	/* 1: a mixed green, both clusters side by side, blue active */
	assert_int_equal(stack_control(fx.green_control, "green-worker-1", "{\"version\":\"446\"}"),
	                 200);
	const char *mixed[] = {"phase",          "STEADY",    "users on",
	                       "blue",           "green",     "ACTIVE",
	                       "green-worker-1", "MIXED",     "mixed-version/green/green-worker-1",
	                       "Trino 447",      "Trino 446", "Last events",
	                       "finding-opened", NULL};
	expect_page_says(mixed);
	screenshot("dashboard-1-mixed-version");

	/* 2: fixed, cut over: the watch, its countdown, the evidence against its threshold */
	assert_int_equal(stack_control(fx.green_control, "green-worker-1", "{\"version\":\"447\"}"),
	                 200);
	assert_true(harness_wait_until(cutover_accepted, NULL, 30000));
	assert_true(stack_wait_phase(&fx, "WATCHING", "green", 30000));
	const char *watching[] = {"WATCHING", "watching green", "left", "of threshold", "p0",
	                          "failure ratio", "queries in 60", "transition", "SWITCHING",
	                          /* the coordinators' queries in flight, per cluster */
	                          "queries in flight: ", " running, ", " queued",
	                          /* who asked, and what came of it */
	                          "cutover green by ",
	                          "→ accepted: switching the LB from blue to green", NULL};
	expect_page_says(watching);
	screenshot("dashboard-2-cutover");

	/* 3: green fails: rolled back, the page says so */
	assert_int_equal(stack_control(fx.green_control, "green-coord",
	                               "{\"fail_ratio\":0.5,\"error_type\":\"INTERNAL_ERROR\"}"),
	                 200);
	assert_true(stack_wait_phase(&fx, "ROLLED_BACK", "blue", 30000));
	const char *rolled_back[] = {"ROLLED_BACK", "rolled-back",
	                             "rolling back from green to blue", NULL};
	expect_page_says(rolled_back);
	screenshot("dashboard-3-rollback");
	assert_int_equal(stack_control(fx.green_control, "green-coord", "{\"fail_ratio\":0}"), 200);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_the_page_is_served_self_contained),
	        cmocka_unit_test(test_mixed_version_then_cutover_then_rollback),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
