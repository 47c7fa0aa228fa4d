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

#include "curve_keys.h"
#include "harness.h"

#define TOKEN "0123456789abcdef-test-token"

static struct {
	char *dir;
	int blue, green, blue_control, green_control;
	int zmq_port, api_port, frontend;
	char api[64];
	pid_t collector;
} fx;

static bool url_ok(void *arg)
{
	char *body = harness_get_ok(arg);
	free(body);
	return body != NULL;
}

static int start_sim(const char *name, const char *version, int *port, int *control)
{
	int base = harness_port_range(3);
	*port = base;
	*control = base + 2;
	char p[16], c[16], url[64];
	snprintf(p, sizeof(p), "%d", base);
	snprintf(c, sizeof(c), "%d", base + 2);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/control", base + 2);
	const char *argv[] = {TG_SIM_BIN, "--cluster",      name,  "--version",
	                      version,    "--workers",      "1",   "--port-base",
	                      p,          "--control-port", c,     "--etc-root",
	                      "etc",      "--qps",          "100", NULL};
	harness_spawn(argv, "/dev/null");
	return harness_wait_until(url_ok, url, 10000) ? 0 : -1;
}

static void control(int port, const char *node, const char *body)
{
	char url[128];
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/control/%s", port, node);
	struct harness_response r;
	harness_http("POST", url, NULL, body, 3000, &r);
	if (r.status != 200)
		fail_msg("control %s: %ld %s", body, r.status, r.body);
	harness_response_free(&r);
}

/* NODE's key pair, allowed at the collector. */
static void allow_node(const char *node)
{
	char err[256];
	curve_keypair_write(node, err, sizeof(err));
	char from[64], to[128];
	snprintf(from, sizeof(from), "%s.pub", node);
	snprintf(to, sizeof(to), "keys/%s.pub", node);
	char *key = harness_read_file(from);
	harness_write_file(to, key);
	free(key);
}

static void agent(const char *node, const char *cluster, int port)
{
	char ini[128], text[1024];
	snprintf(ini, sizeof(ini), "%s.ini", node);
	snprintf(text, sizeof(text),
	         "[agent]\ncluster = %s\ninterval = 200ms\n[trino]\nurl = http://127.0.0.1:%d\n"
	         "etc_dir = etc/%s\n[collector]\nendpoints = tcp://127.0.0.1:%d\n"
	         "server_public_key_file = server.pub\npublic_key_file = %s.pub\n"
	         "secret_key_file = %s.key\n",
	         cluster, port, node, fx.zmq_port, node, node);
	harness_write_file(ini, text);
	const char *argv[] = {TG_AGENT_BIN, "-c", ini, NULL};
	harness_spawn(argv, "/dev/null");
}

static int start_collector(void)
{
	const char *argv[] = {TG_COLLECTOR_BIN, "-c", "collector.ini", NULL};
	fx.collector = harness_spawn(argv, "collector.log");
	char url[128];
	snprintf(url, sizeof(url), "%s/healthz", fx.api);
	return harness_wait_until(url_ok, url, 10000) ? 0 : -1;
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

struct phase_goal {
	const char *phase;
	const char *active;
};

static bool phase_is(void *arg)
{
	struct phase_goal *goal = arg;
	json_t *s = status();
	json_t *cutover = json_object_get(s, "cutover");
	bool ok = s != NULL &&
	          strcmp(json_string_value(json_object_get(cutover, "phase")), goal->phase) == 0 &&
	          strcmp(json_string_value(json_object_get(cutover, "active")), goal->active) == 0;
	json_decref(s);
	return ok;
}

static void expect_phase(const char *phase, const char *active, int timeout_ms)
{
	struct phase_goal goal = {phase, active};
	if (!harness_wait_until(phase_is, &goal, timeout_ms)) {
		json_t *s = status();
		char *text = json_dumps(json_object_get(s, "cutover"), 0);
		char *findings = json_dumps(json_object_get(s, "findings"), 0);
		fail_msg("not %s on %s after %d ms: %s; findings %s", phase, active, timeout_ms,
		         text, findings);
	}
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

static char *served_by(void)
{
	char url[128];
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/v1/status", fx.frontend);
	char *body = harness_get_ok(url);
	json_t *s = body != NULL ? json_loads(body, 0, NULL) : NULL;
	char *node = strdup(s != NULL ? json_string_value(json_object_get(s, "nodeId")) : "none");
	json_decref(s);
	free(body);
	return node;
}

static void expect_served_by(const char *node)
{
	char *got = served_by();
	assert_string_equal(got, node);
	free(got);
}

static int setup(void **state)
{
	(void)state;
	fx.dir = harness_tmpdir("tg-cutover-test");
	if (fx.dir == NULL || chdir(fx.dir) != 0 || mkdir("keys", 0755) != 0)
		return -1;
	if (start_sim("blue", "446", &fx.blue, &fx.blue_control) != 0 ||
	    start_sim("green", "447", &fx.green, &fx.green_control) != 0)
		return -1;
	int ports = harness_port_range(3);
	fx.zmq_port = ports;
	fx.api_port = ports + 1;
	fx.frontend = ports + 2;
	snprintf(fx.api, sizeof(fx.api), "http://127.0.0.1:%d", fx.api_port);
	char text[4096], err[256];
	harness_write_file("active.map", "active bk_blue\n");
	snprintf(text, sizeof(text),
	         "global\n    stats socket %s/admin.sock mode 600 level admin\n"
	         "defaults\n    mode http\n    timeout connect 2s\n    timeout client 10s\n"
	         "    timeout server 10s\n"
	         "frontend trino\n    bind 127.0.0.1:%d\n"
	         "    use_backend %%[str(active),map(%s/active.map,bk_blue)]\n"
	         "backend bk_blue\n    option httpchk GET /v1/info\n"
	         "    server blue 127.0.0.1:%d check inter 200ms fall 2 rise 1\n"
	         "backend bk_green\n    option httpchk GET /v1/info\n"
	         "    server green 127.0.0.1:%d check inter 200ms fall 2 rise 1\n",
	         fx.dir, fx.frontend, fx.dir, fx.blue, fx.green);
	harness_write_file("haproxy.cfg", text);
	const char *haproxy[] = {TG_HAPROXY_BIN, "-db", "-f", "haproxy.cfg", NULL};
	harness_spawn(haproxy, "haproxy.log");
	char url[128];
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/v1/status", fx.frontend);
	if (!harness_wait_until(url_ok, url, 10000)) {
		print_error("HAProxy did not start (see %s/haproxy.log)\n", fx.dir);
		return -1;
	}
	if (curve_keypair_write("server", err, sizeof(err)) != 0)
		return -1;
	harness_write_file("token", TOKEN "\n");
	snprintf(text, sizeof(text),
	         "[collector]\nlisten = tcp://127.0.0.1:%d\nsecret_key_file = server.key\n"
	         "allowed_keys_dir = keys\nstate_dir = state\ntick = 100ms\ninitial_active = blue\n"
	         "[api]\nlisten = 127.0.0.1:%d\ntoken_file = token\n"
	         "[watch]\nduration = 10m\nsustain = 2s\n"
	         "[lb]\ndriver = haproxy\npoll = 300ms\ntimeout = 1s\nretries = 2\n"
	         "[lb.haproxy]\nsockets = %s/admin.sock\nmap_file = %s/active.map\nkey = active\n"
	         "backend.blue = bk_blue\nbackend.green = bk_green\n"
	         "[cluster.blue]\nmin_workers = 1\nstale_after = 2s\ndown_grace = 2s\n"
	         "[cluster.green]\nmin_workers = 1\nstale_after = 2s\ndown_grace = 2s\n",
	         fx.zmq_port, fx.api_port, fx.dir, fx.dir);
	harness_write_file("collector.ini", text);
	allow_node("blue-coord");
	allow_node("blue-worker-1");
	allow_node("green-coord");
	allow_node("green-worker-1");
	if (start_collector() != 0) {
		print_error("the collector did not start (see %s/collector.log)\n", fx.dir);
		return -1;
	}
	agent("blue-coord", "blue", fx.blue);
	agent("blue-worker-1", "blue", fx.blue + 1);
	agent("green-coord", "green", fx.green);
	agent("green-worker-1", "green", fx.green + 1);
	if (!harness_wait_until(no_findings, NULL, 15000)) {
		print_error("findings stayed open at start (see %s)\n", fx.dir);
		return -1;
	}
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	harness_stop_all();
	if (getenv("TG_KEEP_TEST_DIR") == NULL && chdir("/") == 0)
		harness_rmrf(fx.dir);
	free(fx.dir);
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
	expect_phase("STEADY", "blue", 5000);
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
	expect_phase("WATCHING", "green", 5000);
	expect_served_by("green-coord");
	char *map = harness_read_file("active.map");
	assert_string_equal(map, "active bk_green\n");
	free(map);
	control(fx.green_control, "green-coord",
	        "{\"fail_ratio\":0.5,\"error_type\":\"INTERNAL_ERROR\"}");
	expect_phase("ROLLED_BACK", "blue", 10000);
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
	expect_phase("WATCHING", "green", 5000);
	harness_kill9(fx.collector);
	assert_int_equal(start_collector(), 0);
	expect_phase("WATCHING", "green", 5000); /* resumed from the state file */
	expect_served_by("green-coord");
	control(fx.green_control, "green-coord",
	        "{\"fail_ratio\":0.5,\"error_type\":\"INTERNAL_ERROR\"}");
	expect_phase("ROLLED_BACK", "blue", 15000);
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
	expect_phase("WATCHING", "green", 5000);
	char *journal = harness_read_file("state/journal.jsonl");
	assert_non_null(strstr(journal, "\"name\":\"external-cutover\""));
	free(journal);
}

static void test_green_degraded_and_blue_down_no_switch(void **state)
{
	(void)state;
	expect_phase("WATCHING", "green", 1000);
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
	expect_phase("WATCHING", "green", 1000); /* no switch into a dead cluster */
	expect_served_by("green-coord");
	control(fx.green_control, "green-coord", "{\"fail_ratio\":0}");
	control(fx.blue_control, "blue-coord", "{\"down\":false}");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_gate_refuses_a_mixed_green_and_writes_need_the_token),
	        cmocka_unit_test(test_cutover_then_degradation_rolls_back),
	        cmocka_unit_test(test_kill9_in_mid_watch_still_rolls_back),
	        cmocka_unit_test(test_map_changed_by_hand_starts_a_watch),
	        cmocka_unit_test(test_green_degraded_and_blue_down_no_switch),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
