/*
 * The haproxy driver against a real HAProxy (Debian's), configured by the
 * test with a map-driven use_backend and one backend per trino-sim
 * coordinator: a switch moves traffic and rewrites the map file; a backend
 * with no server UP is refused; a missing socket is retried, then fails
 * without harm; a map changed by hand with socat is what current() reports;
 * with two instances and one stopped, the switch is reported as partial; a
 * map file that cannot be replaced is a warning, the switch made; without a
 * map file a switch is a runtime change.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <event2/event.h>
#include <jansson.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "lb_haproxy.h"

static struct {
	char *dir;
	int blue_port, green_port, blue_control, green_control;
	int frontend[3];
	char tcp_socket[64]; /* the first instance's runtime API over TCP too */
	pid_t haproxy[3];
	char socket[3][256];
	char map[256];
	char own_map[256]; /* the third instance's: map_files, one file per instance */
	struct event_base *base;
} fx;

static bool url_ok(void *arg)
{
	char *body = harness_get_ok(arg);
	free(body);
	return body != NULL;
}

static int start_sim(const char *name, int *port, int *control)
{
	int base = harness_port_range(2);
	*port = base;
	*control = base + 1;
	char p[16], c[16], url[64];
	snprintf(p, sizeof(p), "%d", base);
	snprintf(c, sizeof(c), "%d", base + 1);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/control", base + 1);
	const char *argv[] = {TG_SIM_BIN, "--cluster",      name, "--workers", "0", "--port-base",
	                      p,          "--control-port", c,    NULL};
	harness_spawn(argv, "/dev/null");
	return harness_wait_until(url_ok, url, 10000) ? 0 : -1;
}

static int start_haproxy(int index, const char *map)
{
	char cfg[512], text[2048], url[128];
	int ports = harness_port_range(2);
	fx.frontend[index] = ports;
	if (index == 0)
		snprintf(fx.tcp_socket, sizeof(fx.tcp_socket), "127.0.0.1:%d", ports + 1);
	snprintf(fx.socket[index], sizeof(fx.socket[index]), "%s/admin%d.sock", fx.dir, index);
	snprintf(cfg, sizeof(cfg), "%s/haproxy%d.cfg", fx.dir, index);
	snprintf(text, sizeof(text),
	         "global\n"
	         "    stats socket %s mode 600 level admin\n"
	         "%s%s%s"
	         "    stats timeout 30s\n"
	         "defaults\n"
	         "    mode http\n"
	         "    timeout connect 2s\n"
	         "    timeout client 10s\n"
	         "    timeout server 10s\n"
	         "frontend trino\n"
	         "    bind 127.0.0.1:%d\n"
	         "    use_backend %%[str(active),map(%s,bk_blue)]\n"
	         "backend bk_blue\n"
	         "    option httpchk GET /v1/info\n"
	         "    server blue 127.0.0.1:%d check inter 200ms fall 2 rise 1\n"
	         "backend bk_green\n"
	         "    option httpchk GET /v1/info\n"
	         "    server green 127.0.0.1:%d check inter 200ms fall 2 rise 1\n",
	         fx.socket[index], index == 0 ? "    stats socket ipv4@" : "",
	         index == 0 ? fx.tcp_socket : "", index == 0 ? " level admin\n" : "",
	         fx.frontend[index], map, fx.blue_port, fx.green_port);
	harness_write_file(cfg, text);
	char log[512];
	snprintf(log, sizeof(log), "%s/haproxy%d.log", fx.dir, index);
	const char *argv[] = {TG_HAPROXY_BIN, "-db", "-f", cfg, NULL};
	fx.haproxy[index] = harness_spawn(argv, log);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/v1/status", fx.frontend[index]);
	return harness_wait_until(url_ok, url, 10000) ? 0 : -1;
}

static int setup(void **state)
{
	(void)state;
	fx.dir = harness_tmpdir("tg-haproxy-test");
	if (fx.dir == NULL || start_sim("blue", &fx.blue_port, &fx.blue_control) != 0 ||
	    start_sim("green", &fx.green_port, &fx.green_control) != 0)
		return -1;
	snprintf(fx.map, sizeof(fx.map), "%s/active.map", fx.dir);
	harness_write_file(fx.map, "# which backend users get\nactive bk_blue\n");
	if (start_haproxy(0, fx.map) != 0 || start_haproxy(1, fx.map) != 0)
		return -1;
	fx.base = event_base_new();
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	event_base_free(fx.base);
	harness_stop_all();
	harness_rmrf(fx.dir);
	free(fx.dir);
	return 0;
}

/* Which sim answers through HAProxy instance INDEX. */
static char *served_by(int index)
{
	char url[128];
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/v1/status", fx.frontend[index]);
	char *body = harness_get_ok(url);
	if (body == NULL)
		return strdup("(no answer)");
	json_t *status = json_loads(body, 0, NULL);
	char *node = strdup(json_string_value(json_object_get(status, "nodeId")));
	json_decref(status);
	free(body);
	return node;
}

struct outcome {
	bool finished;
	bool ok;
	char error[2048];
	char cluster[64];
};

static void on_switched(bool ok, const char *error, void *arg)
{
	struct outcome *o = arg;
	o->finished = true;
	o->ok = ok;
	snprintf(o->error, sizeof(o->error), "%s", error != NULL ? error : "");
	event_base_loopbreak(fx.base);
}

static void on_current(const char *cluster, const char *error, void *arg)
{
	struct outcome *o = arg;
	o->finished = true;
	o->ok = cluster != NULL;
	snprintf(o->cluster, sizeof(o->cluster), "%s", cluster != NULL ? cluster : "");
	snprintf(o->error, sizeof(o->error), "%s", error != NULL ? error : "");
	event_base_loopbreak(fx.base);
}

static struct lb_haproxy *make_lb(size_t sockets, const char *first_socket, int retries)
{
	struct lb_haproxy_settings s = {
	        .socket_count = sockets,
	        .map_file = fx.map,
	        .key = "active",
	        .backends = {{"blue", "bk_blue"}, {"green", "bk_green"}},
	        .backend_count = 2,
	        .timeout_ms = 1000,
	        .retries = retries,
	};
	s.sockets[0] = first_socket != NULL ? first_socket : fx.socket[0];
	s.sockets[1] = fx.socket[1];
	char err[256];
	struct lb_haproxy *lb = lb_haproxy_new(fx.base, &s, err, sizeof(err));
	assert_non_null(lb);
	return lb;
}

static void run_until(struct outcome *o)
{
	harness_run_loop(fx.base, 15000);
	assert_true(o->finished);
}

static void control(int port, const char *body)
{
	char url[128];
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/control/%s", port,
	         port == fx.blue_control ? "blue-coord" : "green-coord");
	struct harness_response r;
	harness_http("POST", url, NULL, body, 3000, &r);
	assert_int_equal(r.status, 200);
	harness_response_free(&r);
}

static void test_switch_moves_traffic_and_rewrites_the_map_file(void **state)
{
	(void)state;
	char *node = served_by(0);
	assert_string_equal(node, "blue-coord");
	free(node);
	struct lb_haproxy *lb = make_lb(2, NULL, 2);
	struct outcome o = {0};
	lb_haproxy_switch(lb, "green", on_switched, &o);
	run_until(&o);
	if (!o.ok)
		fail_msg("switch failed: %s", o.error);
	for (int i = 0; i < 2; i++) {
		node = served_by(i);
		assert_string_equal(node, "green-coord");
		free(node);
	}
	char *map = harness_read_file(fx.map);
	assert_string_equal(map, "# which backend users get\nactive bk_green\n");
	free(map);
	struct outcome current = {0};
	lb_haproxy_current(lb, on_current, &current);
	run_until(&current);
	assert_string_equal(current.cluster, "green");
	lb_haproxy_free(lb);
}

static bool blue_down_in_haproxy(void *arg)
{
	(void)arg;
	char command[512];
	snprintf(command, sizeof(command),
	         "echo 'show stat bk_blue 4 -1' | socat stdio unix-connect:%s | grep -q ',DOWN,'",
	         fx.socket[0]);
	return system(command) == 0;
}

static void test_backend_without_a_server_up_is_refused(void **state)
{
	(void)state;
	control(fx.blue_control, "{\"down\":true}");
	assert_true(harness_wait_until(blue_down_in_haproxy, NULL, 5000));
	struct lb_haproxy *lb = make_lb(1, NULL, 1);
	struct outcome o = {0};
	lb_haproxy_switch(lb, "blue", on_switched, &o);
	run_until(&o);
	assert_false(o.ok);
	assert_non_null(strstr(o.error, "backend bk_blue has no server UP (DOWN)"));
	char *node = served_by(0);
	assert_string_equal(node, "green-coord"); /* nothing moved */
	free(node);
	char *map = harness_read_file(fx.map);
	assert_non_null(strstr(map, "active bk_green"));
	free(map);
	lb_haproxy_free(lb);
	control(fx.blue_control, "{\"down\":false}");
}

static void test_missing_socket_is_retried_then_fails(void **state)
{
	(void)state;
	char missing[300];
	snprintf(missing, sizeof(missing), "%s/no-such.sock", fx.dir);
	struct lb_haproxy *lb = make_lb(1, missing, 2);
	struct outcome o = {0};
	long long started = harness_now_ms();
	lb_haproxy_switch(lb, "blue", on_switched, &o);
	run_until(&o);
	long long took = harness_now_ms() - started;
	assert_false(o.ok);
	assert_non_null(strstr(o.error, "no-such.sock"));
	assert_true(took >= 200 + 400); /* two retries with backoff */
	lb_haproxy_free(lb);
}

static void test_map_changed_by_hand_is_seen(void **state)
{
	(void)state;
	char command[512];
	snprintf(command, sizeof(command),
	         "echo 'set map %s active bk_blue' | socat stdio unix-connect:%s > /dev/null",
	         fx.map, fx.socket[0]);
	assert_int_equal(system(command), 0);
	struct lb_haproxy *lb = make_lb(1, NULL, 0);
	struct outcome o = {0};
	lb_haproxy_current(lb, on_current, &o);
	run_until(&o);
	assert_string_equal(o.cluster, "blue");
	lb_haproxy_free(lb);
}

static void test_runtime_api_over_tcp(void **state)
{
	(void)state;
	struct lb_haproxy *lb = make_lb(1, fx.tcp_socket, 0);
	struct outcome o = {0};
	lb_haproxy_switch(lb, "green", on_switched, &o);
	run_until(&o);
	if (!o.ok)
		fail_msg("%s", o.error);
	struct outcome current = {0};
	lb_haproxy_current(lb, on_current, &current);
	run_until(&current);
	assert_string_equal(current.cluster, "green");
	lb_haproxy_free(lb);
}

static bool blue_up_in_haproxy(void *arg)
{
	(void)arg;
	char command[512];
	snprintf(command, sizeof(command),
	         "echo 'show stat bk_blue 4 -1' | socat stdio unix-connect:%s | grep -q ',UP,'",
	         fx.socket[0]);
	return system(command) == 0;
}

static char warning[1024];

static void on_warning(const char *text, void *arg)
{
	(void)arg;
	snprintf(warning, sizeof(warning), "%s", text);
}

/*
 * The map file's replacement cannot be written (its temp path is taken by a
 * directory, which stops root too): HAProxy did switch, and that is the
 * decision: the switch works, and a warning of its own says that a reload
 * would undo it; the map file is as it was.
 */
static void test_an_unwritable_map_file_is_a_warning_not_a_failed_switch(void **state)
{
	(void)state;
	assert_true(harness_wait_until(blue_up_in_haproxy, NULL, 5000));
	char tmp[300];
	snprintf(tmp, sizeof(tmp), "%s.trino-guard.tmp", fx.map);
	assert_int_equal(mkdir(tmp, 0700), 0);
	char *before = harness_read_file(fx.map);
	struct lb_haproxy_settings s = {
	        .socket_count = 1,
	        .sockets = {fx.socket[0]},
	        .map_file = fx.map,
	        .key = "active",
	        .backends = {{"blue", "bk_blue"}, {"green", "bk_green"}},
	        .backend_count = 2,
	        .timeout_ms = 1000,
	        .on_warning = on_warning,
	};
	char err[256];
	struct lb_haproxy *lb = lb_haproxy_new(fx.base, &s, err, sizeof(err));
	assert_non_null(lb);
	warning[0] = '\0';
	struct outcome o = {0};
	lb_haproxy_switch(lb, "blue", on_switched, &o);
	run_until(&o);
	assert_true(o.ok);
	assert_non_null(strstr(warning, "HAProxy switched to bk_blue, but the map file was not "
	                                "rewritten (a reload would undo the switch): "));
	assert_non_null(strstr(warning, ".trino-guard.tmp"));
	char *node = served_by(0);
	assert_string_equal(node, "blue-coord"); /* the runtime switch stands */
	free(node);
	char *after = harness_read_file(fx.map);
	assert_string_equal(after, before);
	free(after);
	free(before);
	assert_int_equal(rmdir(tmp), 0);
	lb_haproxy_free(lb);
}

/* Without map_file (the map named by map): runtime changes only, the file untouched. */
static void test_without_a_map_file_a_switch_is_a_runtime_change(void **state)
{
	(void)state;
	char *before = harness_read_file(fx.map);
	struct lb_haproxy_settings s = {
	        .socket_count = 1,
	        .sockets = {fx.socket[0]},
	        .map = fx.map,
	        .key = "active",
	        .backends = {{"blue", "bk_blue"}, {"green", "bk_green"}},
	        .backend_count = 2,
	        .timeout_ms = 1000,
	        .on_warning = on_warning,
	};
	char err[256];
	struct lb_haproxy *lb = lb_haproxy_new(fx.base, &s, err, sizeof(err));
	assert_non_null(lb);
	warning[0] = '\0';
	struct outcome o = {0};
	const char *to = strstr(before, "bk_green") != NULL ? "blue" : "green";
	lb_haproxy_switch(lb, to, on_switched, &o);
	run_until(&o);
	if (!o.ok)
		fail_msg("switch failed: %s", o.error);
	assert_string_equal(warning, "");
	struct outcome current = {0};
	lb_haproxy_current(lb, on_current, &current);
	run_until(&current);
	assert_string_equal(current.cluster, to);
	char *after = harness_read_file(fx.map);
	assert_string_equal(after, before);
	free(after);
	free(before);
	lb_haproxy_free(lb);
}

/*
 * Two HAProxy processes on one host, each with its own map file (map_files):
 * each instance's runtime map is named by its own file, both files are
 * rewritten; one that cannot be written is a warning naming it, the switch
 * still done on both.
 */
static void test_a_map_file_per_instance(void **state)
{
	(void)state;
	snprintf(fx.own_map, sizeof(fx.own_map), "%s/own.map", fx.dir);
	harness_write_file(fx.own_map, "active bk_blue\n");
	assert_int_equal(start_haproxy(2, fx.own_map), 0);
	struct lb_haproxy_settings s = {
	        .socket_count = 2,
	        .sockets = {fx.socket[0], fx.socket[2]},
	        .map_files = {fx.map, fx.own_map},
	        .map_file_count = 2,
	        .key = "active",
	        .backends = {{"blue", "bk_blue"}, {"green", "bk_green"}},
	        .backend_count = 2,
	        .timeout_ms = 1000,
	        .on_warning = on_warning,
	};
	char err[256];
	struct lb_haproxy *lb = lb_haproxy_new(fx.base, &s, err, sizeof(err));
	assert_non_null(lb);
	const char *targets[] = {"green", "blue"};
	for (int round = 0; round < 2; round++) {
		const char *to = targets[round];
		char tmp[300];
		snprintf(tmp, sizeof(tmp), "%s.trino-guard.tmp", fx.own_map);
		if (round == 1) /* the second file cannot be replaced */
			assert_int_equal(mkdir(tmp, 0700), 0);
		warning[0] = '\0';
		struct outcome o = {0};
		lb_haproxy_switch(lb, to, on_switched, &o);
		run_until(&o);
		if (!o.ok)
			fail_msg("switch to %s failed: %s", to, o.error);
		char expect[64];
		snprintf(expect, sizeof(expect), "%s-coord", to);
		for (int i = 0; i < 3; i += 2) {
			char *node = served_by(i);
			assert_string_equal(node, expect);
			free(node);
		}
		char row[64];
		snprintf(row, sizeof(row), "active bk_%s", to);
		char *shared = harness_read_file(fx.map);
		char *own = harness_read_file(fx.own_map);
		assert_non_null(strstr(shared, row));
		if (round == 0) {
			assert_non_null(strstr(own, row));
			assert_string_equal(warning, "");
		} else {
			assert_null(strstr(own, row)); /* still green: not rewritten */
			assert_non_null(strstr(warning, "own.map"));
			assert_int_equal(rmdir(tmp), 0);
		}
		free(shared);
		free(own);
	}
	struct outcome current = {0};
	lb_haproxy_current(lb, on_current, &current);
	run_until(&current);
	assert_string_equal(current.cluster, "blue");
	lb_haproxy_free(lb);
	harness_stop(fx.haproxy[2], 5000);
}

static void test_one_instance_down_is_a_partial_switch(void **state)
{
	(void)state;
	harness_stop(fx.haproxy[1], 5000);
	struct lb_haproxy *lb = make_lb(2, NULL, 1);
	struct outcome o = {0};
	lb_haproxy_switch(lb, "green", on_switched, &o);
	run_until(&o);
	assert_false(o.ok);
	assert_non_null(strstr(o.error, "partial switch to bk_green: 1 of 2 HAProxy instances "
	                                "failed"));
	assert_non_null(strstr(o.error, "admin1.sock"));
	char *node = served_by(0);
	assert_string_equal(node, "green-coord"); /* the live instance did switch */
	free(node);
	lb_haproxy_free(lb);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_switch_moves_traffic_and_rewrites_the_map_file),
	        cmocka_unit_test(test_backend_without_a_server_up_is_refused),
	        cmocka_unit_test(test_missing_socket_is_retried_then_fails),
	        cmocka_unit_test(test_map_changed_by_hand_is_seen),
	        cmocka_unit_test(test_runtime_api_over_tcp),
	        cmocka_unit_test(test_an_unwritable_map_file_is_a_warning_not_a_failed_switch),
	        cmocka_unit_test(test_without_a_map_file_a_switch_is_a_runtime_change),
	        cmocka_unit_test(test_a_map_file_per_instance),
	        cmocka_unit_test(test_one_instance_down_is_a_partial_switch),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
