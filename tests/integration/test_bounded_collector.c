/*
 * The collector under a low descriptor limit and a crowd of slow API
 * clients: started with RLIMIT_NOFILE 256 (inherited from this process,
 * which lowers its own soft limit only around the spawn), 400 clients that
 * connect and trickle a request one byte at a time, then green fails in
 * mid-watch. The automatic rollback still goes through the real HAProxy, the
 * log stays short, the collector does not spin (its CPU time over the siege,
 * from /proc, a generous bound), and /metrics shows the bounds it hit.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "harness.h"
#include "stack.h"

#define TOKEN        "0123456789abcdef-test-token"
#define SLOW_CLIENTS 400
#define FD_LIMIT     256

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

static bool no_findings(void *arg)
{
	(void)arg;
	char url[128];
	snprintf(url, sizeof(url), "%s/v1/status", fx.api);
	char *body = harness_get_ok(url);
	json_t *s = body != NULL ? json_loads(body, 0, NULL) : NULL;
	free(body);
	bool ok = s != NULL && json_array_size(json_object_get(s, "findings")) == 0 &&
	          !json_is_true(json_object_get(s, "warming_up"));
	json_decref(s);
	return ok;
}

static long long metric(const char *sample)
{
	char url[128];
	snprintf(url, sizeof(url), "%s/metrics", fx.api);
	char *body = harness_get_ok(url);
	long long value = -1;
	size_t len = strlen(sample);
	for (char *line = body; line != NULL && *line != '\0';) {
		if (strncmp(line, sample, len) == 0 && line[len] == ' ')
			value = atoll(line + len + 1);
		char *next = strchr(line, '\n');
		line = next != NULL ? next + 1 : NULL;
	}
	free(body);
	return value;
}

/* The collector's user + system CPU time in seconds, from /proc/PID/stat. */
static double cpu_seconds(pid_t pid)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	char *stat = harness_read_file(path);
	assert_non_null(stat);
	char *after_name = strrchr(stat, ')'); /* the command may hold spaces */
	unsigned long utime = 0, stime = 0;
	/* fields 3..15 after the name: state ppid pgrp session tty tpgid flags minflt
	 * cminflt majflt cmajflt utime stime */
	assert_int_equal(sscanf(after_name + 2,
	                        "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &utime,
	                        &stime),
	                 2);
	free(stat);
	return (double)(utime + stime) / (double)sysconf(_SC_CLK_TCK);
}

static size_t log_lines(void)
{
	char *text = harness_read_file("collector.log");
	size_t lines = 0;
	for (char *p = text; p != NULL && *p != '\0'; p++)
		lines += *p == '\n';
	free(text);
	return lines;
}

struct siege {
	int fds[SLOW_CLIENTS];
	long long last_trickle_ms;
};

/* Starts SLOW_CLIENTS connections to the API, each sending half a request. */
static void siege_start(struct siege *siege)
{
	struct sockaddr_in api = {.sin_family = AF_INET, .sin_port = htons((uint16_t)fx.api_port)};
	inet_pton(AF_INET, "127.0.0.1", &api.sin_addr);
	for (int i = 0; i < SLOW_CLIENTS; i++) {
		siege->fds[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		assert_true(siege->fds[i] >= 0);
		/* in progress for those the collector does not accept yet */
		connect(siege->fds[i], (struct sockaddr *)&api, sizeof(api));
	}
	siege->last_trickle_ms = 0;
}

/* One more byte on every connection, every 500 ms: each byte would restart a
 * per-read timeout. */
static void siege_trickle(struct siege *siege)
{
	long long now = harness_now_ms();
	if (now - siege->last_trickle_ms < 500)
		return;
	siege->last_trickle_ms = now;
	static const char request[] = "GET /v1/status HTTP/1.1\r\nHost: x\r\nX-Slow: ";
	for (int i = 0; i < SLOW_CLIENTS; i++) {
		if (siege->fds[i] < 0)
			continue;
		ssize_t sent = send(siege->fds[i], request, sizeof(request) - 1, MSG_NOSIGNAL);
		if (sent < 0 && errno != EAGAIN && errno != ENOTCONN && errno != EINPROGRESS) {
			close(siege->fds[i]); /* closed by the collector: open another */
			siege->fds[i] = -1;
		}
	}
}

static void siege_end(struct siege *siege)
{
	for (int i = 0; i < SLOW_CLIENTS; i++)
		if (siege->fds[i] >= 0)
			close(siege->fds[i]);
}

struct served_wait {
	struct siege *siege;
	const char *node;
};

/* Whether HAProxy sends users to NODE, trickling the siege meanwhile. */
static bool served_by_under_siege(void *arg)
{
	struct served_wait *w = arg;
	siege_trickle(w->siege);
	char *got = stack_served_by(&fx);
	bool ok = strcmp(got, w->node) == 0;
	free(got);
	return ok;
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

static int setup(void **state)
{
	(void)state;
	dir = harness_tmpdir("tg-bounded-test");
	if (dir == NULL || chdir(dir) != 0 || stack_start(&fx, &options) != 0)
		return -1;
	/* again, under the limit: a child inherits this process's rlimits */
	harness_stop(fx.collector, 5000);
	struct rlimit ours, low;
	if (getrlimit(RLIMIT_NOFILE, &ours) != 0)
		return -1;
	low = ours;
	low.rlim_cur = FD_LIMIT;
	if (setrlimit(RLIMIT_NOFILE, &low) != 0)
		return -1;
	int rc = stack_start_collector(&fx, &options);
	if (setrlimit(RLIMIT_NOFILE, &ours) != 0 || rc != 0)
		return -1;
	return stack_wait_phase(&fx, "STEADY", NULL, 15000) &&
	                       harness_wait_until(no_findings, NULL, 15000)
	               ? 0
	               : -1;
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

static void test_rollback_goes_through_a_siege_of_slow_clients(void **state)
{
	(void)state;
	assert_int_equal(post("/v1/cutover", "{\"to\":\"green\",\"reason\":\"upgrade\"}"), 202);
	assert_true(stack_wait_phase(&fx, "WATCHING", NULL, 10000));
	struct siege siege;
	siege_start(&siege);
	siege_trickle(&siege);
	size_t lines_before = log_lines();
	double cpu_before = cpu_seconds(fx.collector);
	long long started_ms = harness_now_ms();
	/* green fails: the rollback must reach HAProxy while the API is besieged */
	assert_int_equal(stack_control(fx.green_control, "green-coord",
	                               "{\"fail_ratio\":0.5,\"error_type\":\"INTERNAL_ERROR\"}"),
	                 200);
	struct served_wait blue = {&siege, "blue-coord"};
	assert_true(harness_wait_until(served_by_under_siege, &blue, 60000));
	/* hold the siege a while longer: request_timeout (10 s) passes for the first ones */
	long long hold_until = harness_now_ms() + 12000;
	struct served_wait hold = {&siege, "nobody"};
	while (harness_now_ms() < hold_until)
		harness_wait_until(served_by_under_siege, &hold,
		                   (int)(hold_until - harness_now_ms()));
	double wall = (double)(harness_now_ms() - started_ms) / 1000.0;
	double cpu = cpu_seconds(fx.collector) - cpu_before;
	size_t lines = log_lines() - lines_before;
	siege_end(&siege);
	print_message("siege of %d slow clients, %.1f s: collector CPU %.2f s, %zu log lines\n",
	              SLOW_CLIENTS, wall, cpu, lines);
	/* the loop spun at 97 % without the bounds; a generous bound, not a timing race */
	assert_true(cpu < 0.5 * wall);
	assert_true(lines < 200);
	assert_true(stack_wait_phase(&fx, "ROLLED_BACK", NULL, 20000));
	assert_true(metric("trino_guard_api_connection_cap_reached_total") >= 1);
	assert_true(metric("trino_guard_api_request_timeouts_total") >= 1);
	assert_int_equal(metric("trino_guard_api_max_connections"), 64);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_rollback_goes_through_a_siege_of_slow_clients),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
