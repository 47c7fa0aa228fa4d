/*
 * trino-sim's client protocol (docs/DESIGN.md §10) against one simulated
 * 479 cluster: a query's pages from POST to FINISHED with its id in Trino's
 * format ending in the coordinator's id, the counters moving exactly with
 * the queries served (submitted at the first poll, queued, running,
 * canceled, abandoned after the client timeout), 404 "Query not found" for
 * an unknown id and after a coordinator restart (which draws a new id), bad
 * requests refused, and the npm trino-client running queries unmodified.
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
#include <sys/stat.h>
#include <sys/wait.h>

#include "harness.h"

static struct {
	char *dir;
	int port, control_port;
	char url[64], control[64];
	pid_t sim;
} fx;

static const char *const user_header[] = {"X-Trino-User: tester", NULL};

static bool url_ok(void *arg)
{
	char *body = harness_get_ok(arg);
	free(body);
	return body != NULL;
}

static int setup(void **state)
{
	(void)state;
	fx.dir = harness_tmpdir("tg-sim-statement");
	fx.port = harness_port_range(3);
	fx.control_port = fx.port + 2;
	char p[16], c[16];
	snprintf(p, sizeof(p), "%d", fx.port);
	snprintf(c, sizeof(c), "%d", fx.control_port);
	snprintf(fx.url, sizeof(fx.url), "http://127.0.0.1:%d", fx.port);
	snprintf(fx.control, sizeof(fx.control), "http://127.0.0.1:%d/control", fx.control_port);
	const char *argv[] = {TG_SIM_BIN, "--cluster",           "blue", "--version",
	                      "479",      "--workers",           "1",    "--qps",
	                      "0",        "--port-base",         p,      "--control-port",
	                      c,          "--client-timeout-ms", "3000", NULL};
	char log[512];
	snprintf(log, sizeof(log), "%s/sim.log", fx.dir);
	fx.sim = harness_spawn(argv, log);
	return fx.sim > 0 && harness_wait_until(url_ok, fx.control, 30000) ? 0 : -1;
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
	assert_non_null(body);
	json_t *value = json_loads(body, JSON_DECODE_ANY, NULL);
	free(body);
	assert_non_null(value);
	return value;
}

/* The coordinator's query counter NAME as the control API shows it. */
static long long counter(const char *name)
{
	json_t *overview = get_json(fx.control);
	json_t *coordinator = json_array_get(json_object_get(overview, "nodes"), 0);
	json_t *value = json_object_get(json_object_get(coordinator, "query_counters"), name);
	assert_true(json_is_integer(value));
	long long n = json_integer_value(value);
	json_decref(overview);
	return n;
}

struct counter_goal {
	const char *name;
	long long value;
};

static bool counter_is(void *arg)
{
	const struct counter_goal *goal = arg;
	return counter(goal->name) == goal->value;
}

static void wait_counter(const char *name, long long value)
{
	struct counter_goal goal = {name, value};
	if (!harness_wait_until(counter_is, &goal, 30000))
		fail_msg("%s stayed %lld, expected %lld", name, counter(name), value);
}

static char *coordinator_id(void)
{
	char url[128];
	snprintf(url, sizeof(url), "%s/v1/info", fx.url);
	json_t *info = get_json(url);
	const char *id = json_string_value(json_object_get(info, "coordinatorId"));
	assert_non_null(id);
	char *copy = strdup(id);
	json_decref(info);
	return copy;
}

/* METHOD on URL; the page as JSON when it answered 200 (caller decrefs). */
static json_t *request_page(const char *method, const char *url, const char *body, long *status)
{
	struct harness_response r;
	assert_int_equal(harness_http(method, url, user_header, body, 30000, &r), 0);
	*status = r.status;
	json_t *page = r.status == 200 ? json_loads(r.body, 0, NULL) : NULL;
	harness_response_free(&r);
	return page;
}

static json_t *post_query(const char *sql)
{
	char url[128];
	long status;
	snprintf(url, sizeof(url), "%s/v1/statement", fx.url);
	json_t *page = request_page("POST", url, sql, &status);
	assert_int_equal(status, 200);
	assert_non_null(page);
	return page;
}

static const char *next_uri(const json_t *page)
{
	return json_string_value(json_object_get(page, "nextUri"));
}

static const char *page_state(const json_t *page)
{
	return json_string_value(json_object_get(json_object_get(page, "stats"), "state"));
}

/* Follows PAGE's nextUri until there is none; the rows seen; the last page in *LAST. */
static size_t follow(json_t *page, json_t **last)
{
	size_t rows = 0;
	while (next_uri(page) != NULL) {
		long status;
		json_t *next = request_page("GET", next_uri(page), NULL, &status);
		assert_int_equal(status, 200);
		json_t *data = json_object_get(next, "data");
		rows += json_is_array(data) ? json_array_size(data) : 0;
		json_decref(page);
		page = next;
	}
	*last = page;
	return rows;
}

static void test_query_runs_from_post_to_finished_with_trinos_id(void **state)
{
	(void)state;
	char *ccccc = coordinator_id();
	long long submitted = counter("submitted"), completed = counter("completed");
	json_t *page = post_query("SELECT n FROM t -- duration_ms=1200 rows=3");
	const char *id = json_string_value(json_object_get(page, "id"));
	regex_t format;
	assert_int_equal(regcomp(&format,
	                         "^20[0-9]{6}_[0-9]{6}_[0-9]{5}_[abcdefghijkmnpqrstuvwxyz2-9]{5}$",
	                         REG_EXTENDED | REG_NOSUB),
	                 0);
	assert_int_equal(regexec(&format, id, 0, NULL, 0), 0);
	regfree(&format);
	assert_string_equal(id + strlen(id) - 5, ccccc);
	assert_string_equal(page_state(page), "QUEUED");
	/* built from the Host the client used */
	char prefix[128];
	snprintf(prefix, sizeof(prefix), "http://127.0.0.1:%d/v1/statement/queued/%s/", fx.port,
	         id);
	assert_memory_equal(next_uri(page), prefix, strlen(prefix));
	/* the POST only registers it */
	assert_int_equal(counter("submitted"), submitted);

	json_t *last;
	assert_int_equal(follow(page, &last), 3);
	assert_string_equal(page_state(last), "FINISHED");
	assert_non_null(json_object_get(last, "columns"));
	assert_null(json_object_get(last, "error"));
	json_decref(last);
	assert_int_equal(counter("submitted"), submitted + 1);
	wait_counter("completed", completed + 1);
	assert_int_equal(counter("running"), 0);
	free(ccccc);
}

static void test_gauges_follow_queued_running_and_cancel(void **state)
{
	(void)state;
	long long canceled = counter("canceled"), failed = counter("failed");
	long long user_error = counter("user_error");
	json_t *page = post_query("SELECT 1 -- queued_ms=1500 duration_ms=60000");
	long status;
	json_t *queued = request_page("GET", next_uri(page), NULL, &status);
	assert_int_equal(status, 200);
	wait_counter("queued", 1);
	assert_int_equal(counter("running"), 0);
	wait_counter("running", 1);
	assert_int_equal(counter("queued"), 0);
	/* keep it alive past the client timeout while polling, then cancel */
	json_t *executing = request_page("GET", next_uri(queued), NULL, &status);
	assert_int_equal(status, 200);
	assert_string_equal(page_state(executing), "RUNNING");
	json_t *again = request_page("DELETE", next_uri(executing), NULL, &status);
	assert_int_equal(status, 204);
	assert_null(again);
	wait_counter("running", 0);
	assert_int_equal(counter("canceled"), canceled + 1);
	assert_int_equal(counter("failed"), failed + 1);
	assert_int_equal(counter("user_error"), user_error + 1);
	json_decref(page);
	json_decref(queued);
	json_decref(executing);
}

static void test_silent_client_abandons_its_query(void **state)
{
	(void)state;
	long long abandoned = counter("abandoned"), completed = counter("completed");
	json_t *page = post_query("SELECT 1 -- duration_ms=120000");
	long status;
	json_t *queued = request_page("GET", next_uri(page), NULL, &status);
	assert_int_equal(status, 200);
	wait_counter("running", 1);
	/* no poll for longer than --client-timeout-ms 3000 */
	wait_counter("abandoned", abandoned + 1);
	assert_int_equal(counter("running"), 0);
	assert_int_equal(counter("completed"), completed + 1);
	json_t *last = request_page("GET", next_uri(queued), NULL, &status);
	assert_int_equal(status, 200);
	assert_string_equal(page_state(last), "FAILED");
	assert_string_equal(
	        json_string_value(json_object_get(json_object_get(last, "error"), "errorName")),
	        "ABANDONED_QUERY");
	assert_null(next_uri(last));
	json_decref(page);
	json_decref(queued);
	json_decref(last);
}

static void test_unknown_id_and_restart_answer_query_not_found(void **state)
{
	(void)state;
	char url[256];
	snprintf(url, sizeof(url), "%s/v1/statement/executing/20261202_010203_00007_zzzzz/y00/3",
	         fx.url);
	struct harness_response r;
	assert_int_equal(harness_http("GET", url, user_header, NULL, 30000, &r), 0);
	assert_int_equal(r.status, 404);
	assert_string_equal(r.body, "Query not found");
	harness_response_free(&r);

	char *before = coordinator_id();
	json_t *page = post_query("SELECT 1 -- duration_ms=60000");
	char node[128];
	snprintf(node, sizeof(node), "%s/blue-coord", fx.control);
	assert_int_equal(harness_http("POST", node, NULL, "{\"restart\":true}", 30000, &r), 0);
	assert_int_equal(r.status, 200);
	harness_response_free(&r);
	char *after = coordinator_id();
	/* a new JVM draws a new id (a 32^-5 chance of the same one) */
	assert_string_not_equal(before, after);
	assert_int_equal(harness_http("GET", next_uri(page), user_header, NULL, 30000, &r), 0);
	assert_int_equal(r.status, 404);
	assert_string_equal(r.body, "Query not found");
	harness_response_free(&r);
	json_decref(page);
	free(before);
	free(after);
}

static void test_bad_requests_are_refused(void **state)
{
	(void)state;
	char url[128];
	struct harness_response r;
	long long submitted = counter("submitted");
	snprintf(url, sizeof(url), "%s/v1/statement", fx.url);
	assert_int_equal(harness_http("POST", url, user_header, "", 30000, &r), 0);
	assert_int_equal(r.status, 400);
	harness_response_free(&r);
	assert_int_equal(harness_http("POST", url, NULL, "SELECT 1", 30000, &r), 0);
	assert_int_equal(r.status, 401);
	harness_response_free(&r);
	/* a worker runs no statements */
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/v1/statement", fx.port + 1);
	assert_int_equal(harness_http("POST", url, user_header, "SELECT 1", 30000, &r), 0);
	assert_int_equal(r.status, 404);
	harness_response_free(&r);
	assert_int_equal(counter("submitted"), submitted);
	/* a behaviour word the sim cannot read fails the query as a user error */
	json_t *last;
	follow(post_query("SELECT 1 -- rows=many"), &last);
	assert_string_equal(page_state(last), "FAILED");
	assert_string_equal(
	        json_string_value(json_object_get(json_object_get(last, "error"), "errorType")),
	        "USER_ERROR");
	json_decref(last);
}

static bool exited(void *arg)
{
	return !harness_alive(*(pid_t *)arg);
}

/* The npm trino-client, installed by deploy/install-deps.sh, runs queries unmodified. */
static void test_real_client_runs_concurrent_queries(void **state)
{
	(void)state;
	struct stat st;
	if (TG_NODE_BIN[0] == '\0' ||
	    stat(TG_CLIENT_DIR "/node_modules/trino-client/package.json", &st) != 0) {
		print_message("npm trino-client not installed (deploy/install-deps.sh)\n");
		skip();
	}
	long long completed = counter("completed");
	char out[512];
	snprintf(out, sizeof(out), "%s/client.out", fx.dir);
	const char *argv[] = {TG_NODE_BIN, TG_CLIENT_DIR "/run_queries.js",
	                      "--server",  fx.url,
	                      "--queries", "5",
	                      "--sql",     "SELECT 1 -- duration_ms=2500 rows=2",
	                      NULL};
	pid_t client = harness_spawn_split(argv, out, NULL);
	assert_true(client > 0);
	assert_true(harness_wait_until(exited, &client, 60000));
	char *text = harness_read_file(out);
	assert_non_null(text);
	assert_non_null(
	        strstr(text, "{\"event\":\"summary\",\"queries\":5,\"finished\":5,\"failed\":0}"));
	free(text);
	wait_counter("completed", completed + 5);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_query_runs_from_post_to_finished_with_trinos_id),
	        cmocka_unit_test(test_gauges_follow_queued_running_and_cancel),
	        cmocka_unit_test(test_silent_client_abandons_its_query),
	        cmocka_unit_test(test_bad_requests_are_refused),
	        cmocka_unit_test(test_real_client_runs_concurrent_queries),
	        cmocka_unit_test(test_unknown_id_and_restart_answer_query_not_found),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
