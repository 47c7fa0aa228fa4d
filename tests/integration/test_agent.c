/*
 * trino-guard-agent against trino-sim, with CURVE on, received by a stand-in
 * collector: what the report carries (via /metrics and via JMX), digests that
 * follow real changes only, Trino down or hung, counters refused, a collector
 * that appears late or refuses the key first, --dump, --check-config,
 * SIGHUP and SIGTERM.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"

#include "curve_keys.h"
#include "harness.h"
#include "report_receiver.h"

struct sim {
	pid_t pid;
	int port;
	int control_port;
};

static struct {
	char *dir;
	struct sim green;   /* 447, one worker, /metrics */
	struct sim old;     /* 423-e.3: JMX only */
	struct sim guarded; /* 447 with --management-user guard */
	char server_public[41];
	char server_secret[41];
	struct report_receiver *receiver;
} fx;

static int64_t unix_ms(void)
{
	return clock_unix_ms();
}

static bool sim_ready(void *arg)
{
	struct sim *sim = arg;
	char url[128];
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/control", sim->control_port);
	char *body = harness_get_ok(url);
	free(body);
	return body != NULL;
}

static int start_sim(struct sim *sim, const char *name, const char *version, const char *workers,
                     const char *extra1, const char *extra2)
{
	int base = harness_port_range(4);
	if (base < 0)
		return -1;
	sim->port = base;
	sim->control_port = base + 3;
	char port[16], control[16], etc[512], log[512];
	snprintf(port, sizeof(port), "%d", sim->port);
	snprintf(control, sizeof(control), "%d", sim->control_port);
	snprintf(etc, sizeof(etc), "%s/etc", fx.dir);
	snprintf(log, sizeof(log), "%s/sim-%s.log", fx.dir, name);
	const char *argv[] = {
	        TG_SIM_BIN, "--cluster",   name,  "--version",      version, "--workers",
	        workers,    "--port-base", port,  "--control-port", control, "--etc-root",
	        etc,        "--qps",       "100", extra1,           extra2,  NULL};
	sim->pid = harness_spawn(argv, log);
	return harness_wait_until(sim_ready, sim, 10000) ? 0 : -1;
}

static void control(const struct sim *sim, const char *node, const char *body)
{
	char url[256];
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/control/%s", sim->control_port, node);
	struct harness_response response;
	harness_http("POST", url, NULL, body, 5000, &response);
	if (response.status != 200)
		fail_msg("control %s %s: %ld %s", node, body, response.status, response.body);
	harness_response_free(&response);
}

/* Writes keys for NODE (once) and returns the public key. */
static void agent_keys(const char *node, char public_key[41])
{
	char prefix[512], path[600], err[256];
	snprintf(prefix, sizeof(prefix), "%s/%s", fx.dir, node);
	snprintf(path, sizeof(path), "%s.pub", prefix);
	if (access(path, R_OK) != 0 && curve_keypair_write(prefix, err, sizeof(err)) != 0)
		fail_msg("keygen: %s", err);
	if (curve_key_read_public(path, public_key, err, sizeof(err)) != 0)
		fail_msg("%s", err);
}

/* Writes NODE's agent.ini; EXTRA goes into [trino]. Returns its path (static). */
static const char *write_agent_ini(const char *node, const struct sim *sim, int worker,
                                   const char *interval, const char *endpoint, const char *extra)
{
	char public_key[41];
	agent_keys(node, public_key);
	char ini[512], text[4096];
	snprintf(ini, sizeof(ini), "%s/%s.ini", fx.dir, node);
	snprintf(text, sizeof(text),
	         "[agent]\ncluster = test\ninterval = %s\n"
	         "[trino]\nurl = http://127.0.0.1:%d\netc_dir = etc/%s\ntimeout = 5s\n%s\n"
	         "[collector]\nendpoints = %s\nserver_public_key_file = server.pub\n"
	         "public_key_file = %s.pub\nsecret_key_file = %s.key\n",
	         interval, sim->port + worker, node, extra != NULL ? extra : "",
	         endpoint != NULL ? endpoint : report_receiver_endpoint(fx.receiver), node, node);
	harness_write_file(ini, text);
	static char path[512];
	snprintf(path, sizeof(path), "%s", ini);
	return path;
}

/* Writes NODE's agent.ini and starts the agent. */
static pid_t start_agent(const char *node, const struct sim *sim, int worker, const char *interval,
                         const char *endpoint, const char *extra)
{
	const char *ini = write_agent_ini(node, sim, worker, interval, endpoint, extra);
	char log[512];
	snprintf(log, sizeof(log), "%s/agent-%s.log", fx.dir, node);
	const char *argv[] = {TG_AGENT_BIN, "-c", ini, NULL};
	return harness_spawn(argv, log);
}

/* The next report from NODE_ID within TIMEOUT_MS, skipping other nodes'. */
static NodeReport *next_from(const char *node_id, int timeout_ms)
{
	long long deadline = harness_now_ms() + timeout_ms;
	while (harness_now_ms() < deadline) {
		NodeReport *report =
		        report_receiver_next(fx.receiver, (int)(deadline - harness_now_ms()));
		if (report == NULL)
			return NULL;
		if (strcmp(report->node_id, node_id) == 0)
			return report;
		report_free(report);
	}
	return NULL;
}

/* Waits for a report from NODE_ID that satisfies PRED. */
static NodeReport *wait_report(const char *node_id, bool (*pred)(const NodeReport *),
                               int timeout_ms)
{
	long long deadline = harness_now_ms() + timeout_ms;
	while (harness_now_ms() < deadline) {
		NodeReport *report = next_from(node_id, (int)(deadline - harness_now_ms()));
		if (report == NULL)
			return NULL;
		if (pred(report))
			return report;
		report_free(report);
	}
	return NULL;
}

static bool has_counters(const NodeReport *r)
{
	return r->counters != NULL && r->counters->has_completed && r->counters->completed > 0;
}

static bool has_counters_and_nodes(const NodeReport *r)
{
	return has_counters(r) && r->counters->has_active_nodes;
}

static const ConfigDigest *digest_of(const NodeReport *r, const char *path)
{
	for (size_t i = 0; i < r->n_config; i++)
		if (strcmp(r->config[i]->path, path) == 0)
			return r->config[i];
	return NULL;
}

static int setup(void **state)
{
	(void)state;
	fx.dir = harness_tmpdir("tg-agent-test");
	if (fx.dir == NULL || chdir(fx.dir) != 0)
		return -1;
	char prefix[512], err[256];
	snprintf(prefix, sizeof(prefix), "%s/server", fx.dir);
	if (curve_keypair_write(prefix, err, sizeof(err)) != 0 ||
	    curve_key_read_public("server.pub", fx.server_public, err, sizeof(err)) != 0 ||
	    curve_key_read_secret("server.key", fx.server_secret, err, sizeof(err)) != 0)
		return -1;
	fx.receiver = report_receiver_new("tcp://127.0.0.1:*", fx.server_secret, err, sizeof(err));
	if (fx.receiver == NULL)
		return -1;
	const char *nodes[] = {"green-coord", "green-worker-1", "old-coord", "guarded-coord"};
	for (size_t i = 0; i < 4; i++) {
		char public_key[41];
		agent_keys(nodes[i], public_key);
		report_receiver_allow(fx.receiver, public_key, nodes[i]);
	}
	if (start_sim(&fx.green, "green", "447", "1", NULL, NULL) != 0 ||
	    start_sim(&fx.old, "old", "423-e.3", "0", NULL, NULL) != 0 ||
	    start_sim(&fx.guarded, "guarded", "447", "0", "--management-user", "guard") != 0)
		return -1;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	harness_stop_all();
	report_receiver_free(fx.receiver);
	harness_rmrf(fx.dir);
	free(fx.dir);
	return 0;
}

static void test_report_carries_version_role_state_and_counters_via_metrics(void **state)
{
	(void)state;
	pid_t agent = start_agent("green-coord", &fx.green, 0, "200ms", NULL, NULL);
	NodeReport *r = wait_report("green-coord", has_counters, 10000);
	assert_non_null(r);
	assert_string_equal(r->cluster, "test");
	assert_string_equal(r->node_id, "green-coord"); /* node.id from node.properties */
	assert_string_equal(r->trino_version, "447");
	assert_string_equal(r->environment, "production");
	assert_int_equal(r->role, TRINOGUARD__V1__NODE_ROLE__ROLE_COORDINATOR);
	assert_int_equal(r->state, TRINOGUARD__V1__NODE_STATE__STATE_ACTIVE);
	assert_int_equal(r->interval_ms, 200);
	assert_int_equal(r->counters->state, TRINOGUARD__V1__COUNTER_STATE__COUNTERS_OK);
	assert_string_equal(r->counters->source, "metrics");
	assert_true(r->counters->submitted >= r->counters->completed);
	assert_true(r->counters->has_active_nodes);
	assert_int_equal(r->counters->active_nodes, 2);
	assert_non_null(digest_of(r, "catalog/tpch.properties"));
	assert_non_null(digest_of(r, "config.properties"));
	assert_true(digest_of(r, "jvm.config")->has_sha256);
	uint64_t seq = r->seq;
	report_free(r);
	r = next_from("green-coord", 2000);
	assert_non_null(r);
	assert_int_equal(r->seq, seq + 1);
	report_free(r);
	assert_int_equal(harness_stop(agent, 5000), 0); /* SIGTERM: a clean exit */
}

static void test_counters_via_jmx_before_429(void **state)
{
	(void)state;
	pid_t agent = start_agent("old-coord", &fx.old, 0, "200ms", NULL, NULL);
	/* Over JMX the node count is a second MBean, read after the counters. */
	NodeReport *r = wait_report("old-coord", has_counters_and_nodes, 10000);
	assert_non_null(r);
	assert_string_equal(r->trino_version, "423-e.3");
	assert_null(r->trino_node_id); /* /v1/info before 477 has no nodeId */
	assert_string_equal(r->counters->source, "jmx");
	assert_true(r->counters->has_active_nodes);
	assert_int_equal(r->counters->active_nodes, 1);
	report_free(r);
	harness_stop(agent, 5000);
}

static void test_worker_reports_no_counters(void **state)
{
	(void)state;
	pid_t agent = start_agent("green-worker-1", &fx.green, 1, "200ms", NULL, NULL);
	NodeReport *r = next_from("green-worker-1", 10000);
	for (int i = 0; r != NULL && r->counters == NULL && i < 10; i++) {
		report_free(r);
		r = next_from("green-worker-1", 2000);
	}
	assert_non_null(r);
	assert_int_equal(r->role, TRINOGUARD__V1__NODE_ROLE__ROLE_WORKER);
	assert_int_equal(r->counters->state,
	                 TRINOGUARD__V1__COUNTER_STATE__COUNTERS_NOT_COORDINATOR);
	report_free(r);
	harness_stop(agent, 5000);
}

static uint8_t tpch_digest[32];

static bool tpch_digest_differs(const NodeReport *r)
{
	const ConfigDigest *d = digest_of(r, "catalog/tpch.properties");
	return d != NULL && d->has_sha256 && memcmp(d->sha256.data, tpch_digest, 32) != 0;
}

static void test_digest_follows_values_not_order_or_comments(void **state)
{
	(void)state;
	pid_t agent = start_agent("green-worker-1", &fx.green, 1, "200ms", NULL, NULL);
	NodeReport *r = next_from("green-worker-1", 10000);
	assert_non_null(r);
	memcpy(tpch_digest, digest_of(r, "catalog/tpch.properties")->sha256.data, 32);
	report_free(r);

	/* reordered, commented, CRLF: the same content for Trino */
	char path[512];
	snprintf(path, sizeof(path), "%s/etc/green-worker-1/catalog/tpch.properties", fx.dir);
	harness_write_file(path, "# edited by hand\r\ntpch.splits-per-node = 4\r\n"
	                         "connector.name : tpch\r\n");
	long long until = harness_now_ms() + 1500;
	while (harness_now_ms() < until) {
		r = next_from("green-worker-1", 1000);
		assert_non_null(r);
		assert_false(tpch_digest_differs(r));
		report_free(r);
	}
	/* a changed value is drift */
	control(&fx.green, "green-worker-1",
	        "{\"config_set\":{\"file\":\"catalog/tpch.properties\","
	        "\"key\":\"tpch.splits-per-node\",\"value\":\"8\"}}");
	r = wait_report("green-worker-1", tpch_digest_differs, 3000);
	assert_non_null(r);
	report_free(r);
	harness_stop(agent, 5000);
}

static bool unreachable(const NodeReport *r)
{
	return r->state == TRINOGUARD__V1__NODE_STATE__STATE_UNREACHABLE;
}

static void test_trino_down_is_unreachable_within_two_intervals(void **state)
{
	(void)state;
	pid_t agent = start_agent("green-coord", &fx.green, 0, "500ms", NULL, NULL);
	NodeReport *r = wait_report("green-coord", has_counters, 10000);
	assert_non_null(r);
	report_free(r);
	int64_t down_at = unix_ms();
	control(&fx.green, "green-coord", "{\"down\":true}");
	r = wait_report("green-coord", unreachable, 5000);
	assert_non_null(r);
	assert_true(r->sent_unix_ms - down_at <= 2 * 500);
	assert_non_null(strstr(r->error, "connection refused"));
	/* role is still known, so the collector knows its coordinator is down */
	assert_int_equal(r->role, TRINOGUARD__V1__NODE_ROLE__ROLE_COORDINATOR);
	assert_int_equal(r->counters->state, TRINOGUARD__V1__COUNTER_STATE__COUNTERS_UNREACHABLE);
	report_free(r);
	control(&fx.green, "green-coord", "{\"down\":false}");
	harness_stop(agent, 5000);
}

static void test_hung_trino_never_delays_reports(void **state)
{
	(void)state;
	pid_t agent = start_agent("green-coord", &fx.green, 0, "200ms", NULL, NULL);
	NodeReport *r = wait_report("green-coord", has_counters, 10000);
	assert_non_null(r);
	report_free(r);
	control(&fx.green, "green-coord", "{\"hang\":true}");
	int64_t hung_at = unix_ms();
	int64_t last_sent = 0;
	int64_t largest_gap = 0;
	int64_t unreachable_at = 0;
	char error[256] = "";
	while (unix_ms() - hung_at < 2000) {
		r = next_from("green-coord", 1000);
		assert_non_null(r); /* a report every interval, hang or not */
		if (last_sent != 0 && r->sent_unix_ms - last_sent > largest_gap)
			largest_gap = r->sent_unix_ms - last_sent;
		last_sent = r->sent_unix_ms;
		if (unreachable(r) && unreachable_at == 0) {
			unreachable_at = r->sent_unix_ms;
			snprintf(error, sizeof(error), "%s", r->error);
		}
		report_free(r);
	}
	control(&fx.green, "green-coord", "{\"hang\":false}");
	harness_stop(agent, 5000);
	if (largest_gap > 300)
		fail_msg("reports stalled for %lld ms at a 200 ms interval",
		         (long long)largest_gap);
	assert_true(unreachable_at != 0);
	/* The request timeout is 5 s, but a /v1/info request unanswered for two
	 * intervals counts as no answer; it started up to one interval after the
	 * hang, and is reported at the next tick. */
	if (unreachable_at - hung_at > 4 * 200)
		fail_msg("UNREACHABLE only after %lld ms", (long long)(unreachable_at - hung_at));
	assert_non_null(strstr(error, "no answer"));
}

static bool counters_state_is(const NodeReport *r, int state)
{
	return r->counters != NULL && (int)r->counters->state == state;
}

static bool unauthorized(const NodeReport *r)
{
	return counters_state_is(r, TRINOGUARD__V1__COUNTER_STATE__COUNTERS_UNAUTHORIZED);
}

static bool forbidden(const NodeReport *r)
{
	return counters_state_is(r, TRINOGUARD__V1__COUNTER_STATE__COUNTERS_FORBIDDEN);
}

static void test_refused_counters_are_reported_as_such(void **state)
{
	(void)state;
	pid_t agent = start_agent("green-coord", &fx.green, 0, "200ms", NULL, NULL);
	control(&fx.green, "green-coord", "{\"counters\":\"401\"}");
	NodeReport *r = wait_report("green-coord", unauthorized, 5000);
	assert_non_null(r);
	assert_non_null(strstr(r->counters->error, "401"));
	assert_non_null(strstr(r->counters->error, "X-Trino-User"));
	assert_false(r->counters->has_completed);
	report_free(r);
	control(&fx.green, "green-coord", "{\"counters\":\"403\"}");
	r = wait_report("green-coord", forbidden, 5000);
	assert_non_null(r);
	assert_non_null(strstr(r->counters->error, "Management only resource"));
	report_free(r);
	control(&fx.green, "green-coord", "{\"counters\":\"ok\"}");
	r = wait_report("green-coord", has_counters, 5000);
	assert_non_null(r);
	report_free(r);
	harness_stop(agent, 5000);

	/* A cluster with management.user: our default user is refused, the right one reads. */
	agent = start_agent("guarded-coord", &fx.guarded, 0, "200ms", NULL, NULL);
	r = wait_report("guarded-coord", forbidden, 5000);
	assert_non_null(r);
	report_free(r);
	harness_stop(agent, 5000);
	agent = start_agent("guarded-coord", &fx.guarded, 0, "200ms", NULL, "user = guard");
	r = wait_report("guarded-coord", has_counters, 5000);
	assert_non_null(r);
	report_free(r);
	harness_stop(agent, 5000);
}

static void test_agent_started_before_the_collector_delivers(void **state)
{
	(void)state;
	int port = harness_port_range(1);
	char endpoint[64];
	snprintf(endpoint, sizeof(endpoint), "tcp://127.0.0.1:%d", port);
	pid_t agent = start_agent("green-worker-1", &fx.green, 1, "200ms", endpoint, NULL);
	usleep(1500 * 1000);
	char err[256];
	struct report_receiver *late =
	        report_receiver_new(endpoint, fx.server_secret, err, sizeof(err));
	assert_non_null(late);
	char public_key[41];
	agent_keys("green-worker-1", public_key);
	report_receiver_allow(late, public_key, "green-worker-1");
	NodeReport *r = report_receiver_next(late, 10000);
	assert_non_null(r);
	assert_string_equal(r->node_id, "green-worker-1");
	report_free(r);
	harness_stop(agent, 5000);
	report_receiver_free(late);
}

static void test_reconnects_after_the_key_is_allowed(void **state)
{
	(void)state;
	char public_key[41];
	agent_keys("green-worker-1", public_key);
	report_receiver_deny(fx.receiver, public_key);
	size_t refusals = report_receiver_refusals(fx.receiver);
	pid_t agent = start_agent("green-worker-1", &fx.green, 1, "200ms", NULL, NULL);
	assert_null(next_from("green-worker-1", 1500));
	assert_true(report_receiver_refusals(fx.receiver) > refusals);
	/* libzmq does not retry after a ZAP refusal; the agent's monitor does */
	report_receiver_allow(fx.receiver, public_key, "green-worker-1");
	NodeReport *r = next_from("green-worker-1", 15000);
	assert_non_null(r);
	report_free(r);
	harness_stop(agent, 5000);
	char log[512];
	snprintf(log, sizeof(log), "%s/agent-green-worker-1.log", fx.dir);
	char *text = harness_read_file(log);
	assert_non_null(strstr(text, "refused by the collector's allow-list"));
	free(text);
}

static void test_dump_decodes_with_protoc(void **state)
{
	(void)state;
	const char *ini = write_agent_ini("green-coord", &fx.green, 0, "200ms", NULL, NULL);
	char dump[512], command[2048];
	snprintf(dump, sizeof(dump), "%s/report.bin", fx.dir);
	const char *argv[] = {TG_AGENT_BIN, "-c", ini, "--once", "--dump", dump, NULL};
	pid_t pid = harness_spawn(argv, NULL);
	int status = harness_wait_exit(pid, 15000);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	snprintf(command, sizeof(command),
	         "'%s' --proto_path='%s' --decode=trinoguard.v1.NodeReport trino_guard.proto "
	         "< '%s' > '%s.txt'",
	         TG_PROTOC, TG_PROTO_DIR, dump, dump);
	assert_int_equal(system(command), 0);
	snprintf(command, sizeof(command), "%s.txt", dump);
	char *text = harness_read_file(command);
	assert_non_null(strstr(text, "node_id: \"green-coord\""));
	assert_non_null(strstr(text, "trino_version: \"447\""));
	assert_non_null(strstr(text, "state: COUNTERS_OK"));
	assert_non_null(strstr(text, "path: \"catalog/tpch.properties\""));
	free(text);
}

static void test_check_config(void **state)
{
	(void)state;
	char ini[512], log[512];
	snprintf(ini, sizeof(ini), "%s/check.ini", fx.dir);
	snprintf(log, sizeof(log), "%s/check.log", fx.dir);
	struct {
		const char *text;
		int exit_code;
		const char *message;
	} cases[] = {
	        {"[agent]\ncluster = g\nnode_id = n\n[collector]\nendpoints = tcp://127.0.0.1:1\n"
	         "curve = off\n",
	         0, "OK (cluster g, node n)"},
	        {"[agent]\ncluster = g\nnode_id = n\ntick = 1s\n", 2,
	         "check.ini:4: unknown key 'tick' in [agent]"},
	        {"[agent]\ncluster = g\nnode_id = n\n[trino]\nbasic_user = u\n"
	         "basic_password_file = p\n[collector]\nendpoints = tcp://x:1\ncurve = off\n",
	         2, "check.ini:5: [trino] credentials over plain http"},
	        {"[agent]\ncluster = g\nnode_id = n\n[collector]\nendpoints = tcp://x:1\n", 2,
	         "[collector] server_public_key_file is required with curve on"},
	        {"[agent]\ncluster = g\ninterval = 1\n", 2,
	         "check.ini:3: [agent] interval: '1' has no unit"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		harness_write_file(ini, cases[i].text);
		unlink(log);
		const char *argv[] = {TG_AGENT_BIN, "-c", ini, "--check-config", NULL};
		pid_t pid = harness_spawn(argv, log);
		int status = harness_wait_exit(pid, 5000);
		char *output = harness_read_file(log);
		if (!WIFEXITED(status) || WEXITSTATUS(status) != cases[i].exit_code ||
		    strstr(output, cases[i].message) == NULL)
			fail_msg("case %zu: exit %d, output: %s", i, WEXITSTATUS(status), output);
		free(output);
	}
}

static void test_example_config_is_valid(void **state)
{
	(void)state;
	/* deploy/examples/agent.ini, pointed at a real etc dir and real key files */
	char *text = harness_read_file(TG_SOURCE_DIR "/deploy/examples/agent.ini");
	assert_non_null(text);
	char etc[512], ini[512], log[512];
	snprintf(etc, sizeof(etc), "%s/etc/green-worker-1", fx.dir);
	snprintf(ini, sizeof(ini), "%s/example.ini", fx.dir);
	snprintf(log, sizeof(log), "%s/example.log", fx.dir);
	FILE *out = fopen(ini, "w");
	for (char *line = strtok(text, "\n"); line != NULL; line = strtok(NULL, "\n")) {
		if (strncmp(line, "etc_dir", 7) == 0)
			fprintf(out, "etc_dir = %s\n", etc);
		else if (strncmp(line, "server_public_key_file", 22) == 0)
			fprintf(out, "server_public_key_file = server.pub\n");
		else if (strncmp(line, "public_key_file", 15) == 0)
			fprintf(out, "public_key_file = green-worker-1.pub\n");
		else if (strncmp(line, "secret_key_file", 15) == 0)
			fprintf(out, "secret_key_file = green-worker-1.key\n");
		else
			fprintf(out, "%s\n", line);
	}
	fclose(out);
	free(text);
	const char *argv[] = {TG_AGENT_BIN, "-c", ini, "--check-config", NULL};
	pid_t pid = harness_spawn(argv, log);
	int status = harness_wait_exit(pid, 5000);
	char *output = harness_read_file(log);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		fail_msg("example config refused: %s", output);
	assert_non_null(strstr(output, "OK (cluster blue, node green-worker-1)"));
	free(output);
}

static bool interval_is_400(const NodeReport *r)
{
	return r->interval_ms == 400;
}

static void test_sighup_rereads_the_config(void **state)
{
	(void)state;
	pid_t agent = start_agent("green-worker-1", &fx.green, 1, "200ms", NULL, NULL);
	NodeReport *r = next_from("green-worker-1", 10000);
	assert_non_null(r);
	uint64_t boot_seq = r->seq;
	report_free(r);
	char ini[512];
	snprintf(ini, sizeof(ini), "%s/green-worker-1.ini", fx.dir);
	char *text = harness_read_file(ini);
	char *at = strstr(text, "interval = 200ms");
	assert_non_null(at);
	memcpy(at, "interval = 400ms", 16);
	harness_write_file(ini, text);
	free(text);
	kill(agent, SIGHUP);
	r = wait_report("green-worker-1", interval_is_400, 5000);
	assert_non_null(r);
	assert_true(r->seq > boot_seq); /* same boot: seq goes on */
	report_free(r);
	/* A broken config on SIGHUP keeps the old one running. */
	harness_write_file(ini, "[agent]\nbogus = 1\n");
	kill(agent, SIGHUP);
	usleep(300 * 1000);
	report_receiver_drain(fx.receiver);
	r = next_from("green-worker-1", 2000);
	assert_non_null(r);
	assert_int_equal(r->interval_ms, 400);
	report_free(r);
	assert_true(harness_alive(agent));
	harness_stop(agent, 5000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_report_carries_version_role_state_and_counters_via_metrics),
	        cmocka_unit_test(test_counters_via_jmx_before_429),
	        cmocka_unit_test(test_worker_reports_no_counters),
	        cmocka_unit_test(test_digest_follows_values_not_order_or_comments),
	        cmocka_unit_test(test_trino_down_is_unreachable_within_two_intervals),
	        cmocka_unit_test(test_hung_trino_never_delays_reports),
	        cmocka_unit_test(test_refused_counters_are_reported_as_such),
	        cmocka_unit_test(test_agent_started_before_the_collector_delivers),
	        cmocka_unit_test(test_reconnects_after_the_key_is_allowed),
	        cmocka_unit_test(test_dump_decodes_with_protoc),
	        cmocka_unit_test(test_check_config),
	        cmocka_unit_test(test_example_config_is_valid),
	        cmocka_unit_test(test_sighup_rereads_the_config),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
