/*
 * trino-sim follows the contract fixtures: for every release of
 * tests/fixtures/trino/ a trino-sim pretending to be that version (a real
 * process on 127.0.0.1) answers each endpoint with the fixture's status and
 * shape (the JSON keys in order with their types, the OpenMetrics names and
 * types, in order where the release's airlift answers in the request's order)
 * and the fixture's error texts, the query list included where a release has
 * its fixture. Values (uptime, counts, ids) are free. It
 * fails when either the sim or a fixture drifts.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <dirent.h>
#include <jansson.h>
#include <sys/stat.h>

#include "harness.h"
#include "trino_fixture.h"

static char *dir;

struct sim {
	char name[64];
	int port;
	int control_port;
	pid_t pid;
};

static const char *const user[] = {"X-Trino-User: trino-guard", NULL};
static const char *const guard[] = {"X-Trino-User: guard", NULL};

static bool sim_ready(void *arg)
{
	const struct sim *sim = arg;
	char url[128];
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/control", sim->control_port);
	char *body = harness_get_ok(url);
	free(body);
	return body != NULL;
}

/* A sim of VERSION with two workers and no traffic; management for the user guard only. */
static void start_sim(struct sim *sim, const char *version)
{
	sim->port = harness_port_range(4);
	sim->control_port = sim->port + 3;
	char port[16], control[16], log[512];
	snprintf(port, sizeof(port), "%d", sim->port);
	snprintf(control, sizeof(control), "%d", sim->control_port);
	snprintf(log, sizeof(log), "%s/sim-%s.log", dir, version);
	const char *argv[] = {TG_SIM_BIN, "--cluster",         "f",     "--version",
	                      version,    "--workers",         "2",     "--port-base",
	                      port,       "--control-port",    control, "--qps",
	                      "0",        "--management-user", "guard", NULL};
	sim->pid = harness_spawn(argv, log);
	assert_true(harness_wait_until(sim_ready, sim, 30000));
}

static void control(const struct sim *sim, const char *node, const char *body)
{
	char url[160];
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/control/%s", sim->control_port, node);
	struct harness_response response;
	assert_int_equal(harness_http("POST", url, NULL, body, 10000, &response), 0);
	if (response.status != 200)
		fail_msg("control %s %s: %ld %s", node, body, response.status, response.body);
	harness_response_free(&response);
}

static void get(const struct sim *sim, int node, const char *path, const char *const *headers,
                struct harness_response *response)
{
	char url[1024];
	snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", sim->port + node, path);
	assert_int_equal(harness_http("GET", url, headers, NULL, 10000, response), 0);
}

/* Whether A and B have the same shape: keys in order, types, arrays by their first element. */
static bool same_shape(json_t *a, json_t *b, char *where, size_t where_len)
{
	int ta = json_is_boolean(a) ? JSON_TRUE : (int)json_typeof(a);
	int tb = json_is_boolean(b) ? JSON_TRUE : (int)json_typeof(b);
	if (ta != tb)
		return false;
	if (json_is_object(a)) {
		void *ia = json_object_iter(a), *ib = json_object_iter(b);
		for (; ia != NULL && ib != NULL;
		     ia = json_object_iter_next(a, ia), ib = json_object_iter_next(b, ib)) {
			snprintf(where, where_len, "%s", json_object_iter_key(ia));
			if (strcmp(json_object_iter_key(ia), json_object_iter_key(ib)) != 0 ||
			    !same_shape(json_object_iter_value(ia), json_object_iter_value(ib),
			                where, where_len))
				return false;
		}
		return ia == NULL && ib == NULL;
	}
	if (json_is_array(a) && json_array_size(a) > 0 && json_array_size(b) > 0)
		return same_shape(json_array_get(a, 0), json_array_get(b, 0), where, where_len);
	return true;
}

static void expect_json_shape(const char *what, const struct trino_fixture *fixture,
                              const struct harness_response *answer)
{
	assert_int_equal(answer->status, fixture->status);
	json_t *want = json_loads(fixture->body, JSON_DECODE_ANY, NULL);
	json_t *got = json_loads(answer->body, JSON_DECODE_ANY, NULL);
	char where[128] = "";
	if (want == NULL || got == NULL || !same_shape(want, got, where, sizeof(where)))
		fail_msg("%s: the sim's shape differs at '%s':\n  fixture %s\n  sim     %s", what,
		         where, fixture->body, answer->body);
	json_decref(want);
	json_decref(got);
}

/* The "# TYPE" lines of an OpenMetrics body, one per line, in order ("name type\n"). */
static void type_lines(const char *body, char *out, size_t out_len)
{
	out[0] = '\0';
	for (const char *p = body; (p = strstr(p, "# TYPE ")) != NULL; p++) {
		const char *eol = strchr(p, '\n');
		size_t used = strlen(out);
		snprintf(out + used, out_len - used, "%.*s\n", (int)(eol - p - 7), p + 7);
	}
}

static int compare_lines(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* TEXT's lines sorted, for the releases whose order is the collection's. */
static void sort_lines(char *text)
{
	char *lines[64] = {NULL};
	size_t n = 0;
	for (char *line = strtok(text, "\n"); line != NULL && n < 64; line = strtok(NULL, "\n"))
		lines[n++] = strdup(line);
	qsort(lines, n, sizeof(lines[0]), compare_lines);
	text[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		strcat(text, lines[i]);
		strcat(text, "\n");
		free(lines[i]);
	}
}

/* The agent's own request: the ten counters it uses and the node count under both names. */
#define AGENT_METRICS                                                                              \
	"/metrics?name%5B%5D=trino_execution_name_QueryManager_CompletedQueries"                   \
	"&name%5B%5D=trino_execution_name_QueryManager_FailedQueries"                              \
	"&name%5B%5D=trino_execution_name_QueryManager_UserErrorFailures"                          \
	"&name%5B%5D=trino_execution_name_QueryManager_InternalFailures"                           \
	"&name%5B%5D=trino_execution_name_QueryManager_ExternalFailures"                           \
	"&name%5B%5D=trino_execution_name_QueryManager_InsufficientResourcesFailures"              \
	"&name%5B%5D=trino_execution_name_QueryManager_CanceledQueries"                            \
	"&name%5B%5D=trino_execution_name_QueryManager_AbandonedQueries"                           \
	"&name%5B%5D=trino_execution_name_QueryManager_RunningQueries"                             \
	"&name%5B%5D=trino_execution_name_QueryManager_QueuedQueries"                              \
	"&name%5B%5D=trino_metadata_name_DiscoveryNodeManager_ActiveNodeCount"                     \
	"&name%5B%5D=trino_node_name_CoordinatorNodeManager_ActiveNodeCount"

static void expect_metrics(const struct sim *sim, const struct trino_fixture *fixture, bool ordered)
{
	struct harness_response answer;
	get(sim, 0, AGENT_METRICS, guard, &answer);
	assert_int_equal(answer.status, fixture->status);
	static char want[4096], got[4096];
	type_lines(fixture->body, want, sizeof(want));
	type_lines(answer.body, got, sizeof(got));
	if (!ordered) {
		sort_lines(want);
		sort_lines(got);
	}
	if (strcmp(want, got) != 0)
		fail_msg("%s /metrics:\n  fixture\n%s  sim\n%s", sim->name, want, got);
	harness_response_free(&answer);
}

static void expect_error(const char *what, const struct trino_fixture *fixture,
                         const struct harness_response *answer)
{
	if (answer->status != fixture->status || strcmp(answer->body, fixture->body) != 0)
		fail_msg("%s: fixture %d '%s', sim %ld '%s'", what, fixture->status, fixture->body,
		         answer->status, answer->body);
}

static bool load(const char *release, const char *file, struct trino_fixture *fixture)
{
	char path[512], err[256];
	snprintf(path, sizeof(path), "%s/%s/%s", TG_FIXTURE_DIR, release, file);
	struct stat st;
	if (stat(path, &st) != 0)
		return false;
	if (trino_fixture_load(NULL, path, fixture, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	return true;
}

/* The node-manager MBean a fixture names ("objectName"), into OUT. */
static void object_name(const struct trino_fixture *fixture, char *out, size_t out_len)
{
	json_t *mbean = json_loads(fixture->body, 0, NULL);
	snprintf(out, out_len, "%s", json_string_value(json_object_get(mbean, "objectName")));
	json_decref(mbean);
}

static void check_jmx(const struct sim *sim, const char *release)
{
	struct trino_fixture f;
	struct harness_response answer;
	if (load(release, "jmx-query-manager.http", &f)) {
		get(sim, 0, "/v1/jmx/mbean/trino.execution:name=QueryManager", guard, &answer);
		if (f.status == 200)
			expect_json_shape("QueryManager MBean", &f, &answer);
		else
			expect_error("JMX", &f, &answer);
		harness_response_free(&answer);
		trino_fixture_cleanup(&f);
	}
	if (load(release, "jmx-node-manager.http", &f)) {
		char name[128], path[256];
		object_name(&f, name, sizeof(name));
		snprintf(path, sizeof(path), "/v1/jmx/mbean/%s", name);
		get(sim, 0, path, guard, &answer);
		expect_json_shape("node-manager MBean", &f, &answer);
		assert_non_null(strstr(answer.body, name));
		harness_response_free(&answer);
		trino_fixture_cleanup(&f);
	}
	if (load(release, "jmx-old-node-manager.http", &f)) {
		get(sim, 0, "/v1/jmx/mbean/trino.metadata:name=DiscoveryNodeManager", guard,
		    &answer);
		expect_error("old node-manager MBean", &f, &answer);
		harness_response_free(&answer);
		trino_fixture_cleanup(&f);
	}
}

static void check_info(const struct sim *sim, const char *release, const char *file, int node)
{
	struct trino_fixture f;
	struct harness_response answer;
	assert_true(load(release, file, &f));
	get(sim, node, "/v1/info", NULL, &answer);
	expect_json_shape(file, &f, &answer);
	harness_response_free(&answer);
	trino_fixture_cleanup(&f);
}

static void check_states(const struct sim *sim, const char *release)
{
	static const char *const states[] = {"ACTIVE", "DRAINING", "DRAINED", "SHUTTING_DOWN"};
	for (size_t i = 0; i < 4; i++) {
		char file[64], body[64];
		snprintf(file, sizeof(file), "state-%s.http", states[i]);
		struct trino_fixture f;
		if (!load(release, file, &f))
			continue;
		snprintf(body, sizeof(body), "{\"state\":\"%s\"}", states[i]);
		control(sim, "f-worker-1", body);
		struct harness_response answer;
		get(sim, 1, "/v1/info/state", NULL, &answer);
		expect_error(file, &f, &answer); /* the same status and the same bare string */
		harness_response_free(&answer);
		trino_fixture_cleanup(&f);
	}
	control(sim, "f-worker-1", "{\"state\":\"ACTIVE\"}");
}

static void check_refusals(const struct sim *sim, const char *release)
{
	struct trino_fixture f;
	struct harness_response answer;
	assert_true(load(release, "metrics-401.http", &f));
	get(sim, 0, "/metrics", NULL, &answer);
	expect_error("401", &f, &answer);
	harness_response_free(&answer);
	trino_fixture_cleanup(&f);
	assert_true(load(release, "metrics-403.http", &f));
	get(sim, 0, "/metrics", user, &answer);
	expect_error("403", &f, &answer);
	harness_response_free(&answer);
	trino_fixture_cleanup(&f);
}

static void check_starting(const struct sim *sim, const char *release)
{
	control(sim, "f-coord", "{\"starting\":true}");
	check_info(sim, release, "info-starting.http", 0);
	struct trino_fixture f;
	struct harness_response answer;
	assert_true(load(release, "metrics-503.http", &f));
	get(sim, 0, "/metrics", guard, &answer);
	expect_error("503", &f, &answer);
	harness_response_free(&answer);
	trino_fixture_cleanup(&f);
	control(sim, "f-coord", "{\"starting\":false}");
}

/*
 * /v1/query where the release has a fixture of it: a query submitted (POSTed,
 * then its queued nextUri polled once) is listed in the fixture's shape, the
 * first entry of each a running query; and no user, no list.
 */
static void check_query_list(const struct sim *sim, const char *release)
{
	struct trino_fixture f;
	if (!load(release, "query-list.http", &f))
		return;
	char url[128];
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/v1/statement", sim->port);
	struct harness_response answer;
	assert_int_equal(harness_http("POST", url, user, "SELECT 1 -- duration_ms=60000 rows=1",
	                              10000, &answer),
	                 0);
	json_t *posted = json_loads(answer.body, 0, NULL);
	harness_response_free(&answer);
	const char *next = json_string_value(json_object_get(posted, "nextUri"));
	assert_non_null(next);
	assert_int_equal(harness_http("GET", next, user, NULL, 10000, &answer), 0);
	harness_response_free(&answer);
	json_decref(posted);
	get(sim, 0, "/v1/query", guard, &answer);
	expect_json_shape("query-list.http", &f, &answer);
	harness_response_free(&answer);
	get(sim, 0, "/v1/query", NULL, &answer);
	assert_int_equal(answer.status, 401);
	harness_response_free(&answer);
	trino_fixture_cleanup(&f);
}

static void check_release(const char *release)
{
	struct trino_fixture f;
	assert_true(load(release, "info-coordinator.http", &f));
	json_t *info = json_loads(f.body, 0, NULL);
	struct sim sim;
	snprintf(sim.name, sizeof(sim.name), "%s",
	         json_string_value(
	                 json_object_get(json_object_get(info, "nodeVersion"), "version")));
	json_decref(info);
	trino_fixture_cleanup(&f);
	start_sim(&sim, sim.name);
	check_info(&sim, release, "info-coordinator.http", 0);
	check_info(&sim, release, "info-worker.http", 1);
	check_states(&sim, release);
	assert_true(load(release, "metrics.http", &f));
	/* airlift 420 on (main) answers in collection order, older ones name by name */
	expect_metrics(&sim, &f, strcmp(release, "main") != 0);
	trino_fixture_cleanup(&f);
	check_jmx(&sim, release);
	check_refusals(&sim, release);
	check_starting(&sim, release);
	check_query_list(&sim, release);
	harness_stop(sim.pid, 10000);
}

static void test_sim_matches_every_release(void **state)
{
	(void)state;
	DIR *root = opendir(TG_FIXTURE_DIR);
	assert_non_null(root);
	struct dirent *entry;
	size_t releases = 0;
	while ((entry = readdir(root)) != NULL) {
		if (entry->d_name[0] == '.' || strcmp(entry->d_name, "SOURCES") == 0)
			continue;
		check_release(entry->d_name);
		releases++;
	}
	closedir(root);
	assert_true(releases >= 7);
}

static int setup(void **state)
{
	(void)state;
	dir = harness_tmpdir("tg-sim-fixtures");
	return dir != NULL ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	harness_stop_all();
	harness_rmrf(dir);
	free(dir);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_sim_matches_every_release),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
