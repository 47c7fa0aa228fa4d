/*
 * The agent itself against every release's contract fixtures, served on
 * 127.0.0.1 by trino-fixture-server (real processes): for each release and
 * situation (a coordinator, its /metrics with node annotations as labels, a
 * worker, a coordinator still starting, management refused) it reports the
 * version, role, state, counters and the active node count with the name it
 * came from; it asks /metrics only for the names it uses, and JMX only where
 * /metrics lacks the counters. With the coordinator-id probe on, the agent
 * reads 476's coordinator id from the statement fixture, once, and cancels
 * the query; on 477 it never probes.
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
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

enum situation { COORDINATOR, LABELS, WORKER, STARTING, REFUSED_401, REFUSED_403 };

struct agent_case {
	const char *release; /* the fixture dir */
	enum situation situation;
	const char *version;
	const char *state;
	const char *counters;    /* the counter state */
	const char *source;      /* where they came from, NULL: none */
	const char *active_from; /* the node count's name, NULL: none */
};

#define OLD_NODES  "trino.metadata:name=DiscoveryNodeManager"
#define OLD_METRIC "trino_metadata_name_DiscoveryNodeManager_ActiveNodeCount"
#define NEW_METRIC "trino_node_name_CoordinatorNodeManager_ActiveNodeCount"

static const struct agent_case cases[] = {
        {"423", COORDINATOR, "423", "ACTIVE", "ok", "jmx", OLD_NODES},
        {"423-e.3", COORDINATOR, "423-e.3", "ACTIVE", "ok", "jmx", OLD_NODES},
        {"423", WORKER, "423", "ACTIVE", "not_coordinator", NULL, NULL},
        {"423", STARTING, "423", "STARTING", "unavailable", NULL, NULL},
        {"455", COORDINATOR, "455", "ACTIVE", "ok", "metrics", OLD_METRIC},
        {"455", LABELS, "455", "ACTIVE", "ok", "metrics", OLD_METRIC},
        {"455", REFUSED_401, "455", "ACTIVE", "unauthorized", NULL, NULL},
        {"476", COORDINATOR, "476", "ACTIVE", "ok", "metrics", OLD_METRIC},
        {"476", REFUSED_403, "476", "ACTIVE", "forbidden", NULL, NULL},
        {"477", COORDINATOR, "477", "ACTIVE", "ok", "metrics", NEW_METRIC},
        {"477", LABELS, "477", "ACTIVE", "ok", "metrics", NEW_METRIC},
        {"478", COORDINATOR, "478", "ACTIVE", "ok", "metrics", NEW_METRIC},
        {"478", WORKER, "478", "ACTIVE", "not_coordinator", NULL, NULL},
        {"478", STARTING, "478", "STARTING", "unavailable", NULL, NULL},
        {"main", COORDINATOR, "484-SNAPSHOT", "ACTIVE", "ok", "metrics", NEW_METRIC},
        {"main", LABELS, "484-SNAPSHOT", "ACTIVE", "ok", "metrics", NEW_METRIC},
        {"main", STARTING, "484-SNAPSHOT", "STARTING", "unavailable", NULL, NULL},
};

static char *dir;

static bool exists(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0;
}

/* Adds PATH=DIR/FILE to ARGV when the fixture exists. */
static void route(const char **argv, int *argc, char store[][512], const char *release,
                  const char *path, const char *file)
{
	char fixture[400];
	snprintf(fixture, sizeof(fixture), "%s/%s/%s", TG_FIXTURE_DIR, release, file);
	if (!exists(fixture))
		return;
	snprintf(store[*argc], 512, "%s=%s", path, fixture);
	argv[*argc] = store[*argc];
	(*argc)++;
}

static pid_t start_server(const struct agent_case *c, int port, const char *log)
{
	static char store[16][512];
	static char port_text[16];
	const char *argv[20] = {TG_FIXTURE_SERVER_BIN, port_text, log};
	int argc = 3;
	snprintf(port_text, sizeof(port_text), "%d", port);
	const char *info = c->situation == WORKER     ? "info-worker.http"
	                   : c->situation == STARTING ? "info-starting.http"
	                                              : "info-coordinator.http";
	const char *metrics = c->situation == LABELS        ? "metrics-labels.http"
	                      : c->situation == STARTING    ? "metrics-503.http"
	                      : c->situation == REFUSED_401 ? "metrics-401.http"
	                      : c->situation == REFUSED_403 ? "metrics-403.http"
	                                                    : "metrics.http";
	route(argv, &argc, store, c->release, "/v1/info", info);
	route(argv, &argc, store, c->release, "/v1/info/state", "state-ACTIVE.http");
	route(argv, &argc, store, c->release, "/metrics", metrics);
	route(argv, &argc, store, c->release, "/v1/jmx/mbean/trino.execution:name=QueryManager",
	      "jmx-query-manager.http");
	bool renamed = strcmp(c->active_from != NULL ? c->active_from : "", NEW_METRIC) == 0 ||
	               strcmp(c->release, "477") == 0 || strcmp(c->release, "478") == 0;
	route(argv, &argc, store, c->release,
	      renamed ? "/v1/jmx/mbean/trino.node:name=CoordinatorNodeManager"
	              : "/v1/jmx/mbean/" OLD_NODES,
	      "jmx-node-manager.http");
	route(argv, &argc, store, c->release, "/v1/jmx/mbean/" OLD_NODES,
	      "jmx-old-node-manager.http");
	route(argv, &argc, store, c->release, "/v1/statement", "statement-queued.http");
	argv[argc] = NULL;
	char server_log[512];
	snprintf(server_log, sizeof(server_log), "%s.server", log);
	return harness_spawn(argv, server_log);
}

static bool answers(void *arg)
{
	char *body = harness_get_ok(arg);
	free(body);
	return body != NULL;
}

/* Writes the agent's ini for PORT, INTERVAL and EXTRA [trino] keys; returns its path (static). */
static const char *write_ini(int port, const char *interval, const char *extra)
{
	static char ini[512];
	char text[1024];
	snprintf(ini, sizeof(ini), "%s/agent.ini", dir);
	snprintf(text, sizeof(text),
	         "[agent]\ncluster = c\nnode_id = n\ninterval = %s\n"
	         "[trino]\nurl = http://127.0.0.1:%d\netc_dir = %s/etc\ntimeout = 10s\n%s"
	         "[collector]\nendpoints = tcp://127.0.0.1:1\ncurve = off\n",
	         interval, port, dir, extra);
	harness_write_file(ini, text);
	return ini;
}

/* Runs the agent once against PORT; returns its report as JSON. */
static json_t *agent_once(int port)
{
	char out[512];
	const char *ini = write_ini(port, "1s", "");
	snprintf(out, sizeof(out), "%s/report.json", dir);
	unlink(out);
	const char *argv[] = {TG_AGENT_BIN, "-c", ini, "--once", "--print", NULL};
	pid_t pid = harness_spawn_split(argv, out, NULL);
	int status = harness_wait_exit(pid, 30000);
	assert_true(WIFEXITED(status));
	char *json = harness_read_file(out);
	assert_non_null(json);
	json_t *report = json_loads(json, 0, NULL);
	if (report == NULL)
		fail_msg("not one JSON report: %s", json);
	free(json);
	return report;
}

static const char *text_of(json_t *object, const char *key)
{
	const char *value = json_string_value(json_object_get(object, key));
	return value != NULL ? value : "";
}

static void check_case(const struct agent_case *c)
{
	int port = harness_port_range(1);
	char log[512], url[128];
	snprintf(log, sizeof(log), "%s/requests-%s-%d.log", dir, c->release, (int)c->situation);
	pid_t server = start_server(c, port, log);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/v1/info", port);
	if (!harness_wait_until(answers, url, 30000)) {
		char server_log[600];
		snprintf(server_log, sizeof(server_log), "%s.server", log);
		fail_msg("the fixture server does not answer: %s", harness_read_file(server_log));
	}
	json_t *r = agent_once(port);
	harness_stop(server, 5000);
	json_t *counters = json_object_get(r, "counters");
	char *text = json_dumps(r, JSON_COMPACT);
	if (strcmp(text_of(r, "trino_version"), c->version) != 0 ||
	    strcmp(text_of(r, "state"), c->state) != 0 ||
	    strcmp(text_of(r, "role"), c->situation == WORKER ? "worker" : "coordinator") != 0 ||
	    strcmp(text_of(counters, "state"), c->counters) != 0 ||
	    strcmp(text_of(counters, "source"), c->source != NULL ? c->source : "") != 0 ||
	    strcmp(text_of(counters, "active_nodes_from"),
	           c->active_from != NULL ? c->active_from : "") != 0)
		fail_msg("%s situation %d: %s", c->release, (int)c->situation, text);
	free(text);
	if (c->source != NULL) {
		assert_int_equal(json_integer_value(json_object_get(counters, "failed")), 37);
		assert_int_equal(json_integer_value(json_object_get(counters, "completed")), 1538);
		assert_int_equal(json_integer_value(json_object_get(counters, "running")), 3);
		assert_int_equal(json_integer_value(json_object_get(counters, "active_nodes")), 3);
	}
	json_decref(r);
	/* the names it asked for: the ten it uses and the node count under both names */
	char *requests = harness_read_file(log);
	assert_non_null(requests);
	const char *metrics = strstr(requests, "GET /metrics?");
	if (c->situation != WORKER) {
		assert_non_null(metrics);
		int names = 0;
		for (const char *p = metrics;
		     (p = strstr(p, "name%5B%5D=")) != NULL && p < strchr(metrics, '\n'); p++)
			names++;
		assert_int_equal(names, 12);
		assert_null(strstr(requests, "SubmittedQueries"));
	}
	/* JMX only where /metrics lacks the counters */
	assert_int_equal(strstr(requests, "/v1/jmx/") != NULL,
	                 c->source != NULL && strcmp(c->source, "jmx") == 0);
	free(requests);
}

/* Starts the fixture server for C; its port, the request log's path in LOG. */
static int serve_case(const struct agent_case *c, char *log, size_t log_len, pid_t *server)
{
	int port = harness_port_range(1);
	char url[128];
	snprintf(log, log_len, "%s/requests-%s-%d.log", dir, c->release, (int)c->situation);
	*server = start_server(c, port, log);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/v1/info", port);
	if (!harness_wait_until(answers, url, 30000))
		fail_msg("the fixture server for %s does not answer", c->release);
	return port;
}

static size_t count_of(const char *text, const char *needle)
{
	size_t n = 0;
	for (const char *p = text; (p = strstr(p, needle)) != NULL; p++)
		n++;
	return n;
}

/* harness_wait_until condition: the file ARG holds five reports (lines). */
static bool five_reports(void *arg)
{
	char *text = harness_read_file(arg);
	bool enough = text != NULL && count_of(text, "\n") >= 5;
	free(text);
	return enough;
}

/*
 * The agent with the probe on against RELEASE's coordinator for five
 * reports: the last carries ID, and the server saw POSTS probes.
 */
static void check_probe(const char *release, const char *id, size_t posts)
{
	const struct agent_case c = {release, COORDINATOR, release, "ACTIVE", "ok", NULL, NULL};
	char log[512], out[512];
	pid_t server;
	int port = serve_case(&c, log, sizeof(log), &server);
	const char *ini = write_ini(port, "200ms", "coordinator_id_probe = on\n");
	snprintf(out, sizeof(out), "%s/reports-%s.json", dir, release);
	const char *argv[] = {TG_AGENT_BIN, "-c", ini, "--print", NULL};
	pid_t agent = harness_spawn_split(argv, out, NULL);
	bool reported = harness_wait_until(five_reports, out, 20000);
	harness_stop(agent, 5000);
	harness_stop(server, 5000);
	assert_true(reported);
	char *reports = harness_read_file(out);
	const char *last = strrchr(reports, '\n');
	while (last > reports && last[-1] != '\n')
		last--;
	json_t *r = json_loads(last, 0, NULL);
	assert_non_null(r);
	if (strcmp(text_of(r, "coordinator_id"), id) != 0)
		fail_msg("%s: the last report has coordinator id '%s', not '%s'", release,
		         text_of(r, "coordinator_id"), id);
	assert_string_equal(text_of(r, "coordinator_id_from"), posts > 0 ? "probe" : "info");
	json_decref(r);
	free(reports);
	char *requests = harness_read_file(log);
	assert_non_null(requests);
	/* one POST in five reports, and the DELETE of its queued nextUri */
	assert_int_equal(count_of(requests, "GET /v1/statement\n"), posts);
	assert_int_equal(
	        count_of(requests, "GET /v1/statement/queued/20260314_101503_00000_k3x9a/"), posts);
	free(requests);
}

static void test_coordinator_id_probe_on_the_fixtures(void **state)
{
	(void)state;
	check_probe("476", "k3x9a", 1); /* statement-queued.http's id */
	check_probe("477", "k3x9a", 0); /* /v1/info's coordinatorId: no probe */
}

static void test_agent_on_every_release(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		check_case(&cases[i]);
}

static int setup(void **state)
{
	(void)state;
	dir = harness_tmpdir("tg-fixtures-agent");
	if (dir == NULL)
		return -1;
	char etc[512];
	snprintf(etc, sizeof(etc), "%s/etc", dir);
	if (mkdir(etc, 0755) != 0)
		return -1;
	snprintf(etc, sizeof(etc), "%s/etc/config.properties", dir);
	harness_write_file(etc, "coordinator=true\n");
	return 0;
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
	        cmocka_unit_test(test_agent_on_every_release),
	        cmocka_unit_test(test_coordinator_id_probe_on_the_fixtures),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
