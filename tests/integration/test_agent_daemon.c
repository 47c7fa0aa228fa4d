/*
 * trino-guard-agent as a daemon, against trino-sim and a stand-in collector
 * with CURVE on: a collector that appears late or refuses the key first,
 * --dump, --check-config, the example config, and SIGHUP; what the agent
 * logs of an endpoint that is not a collector and of its Trino going down.
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
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent_fixture.h"
#include "harness.h"

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
	         0, "OK (agent config: cluster g, node n)"},
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
	assert_non_null(strstr(output, "OK (agent config: cluster blue, node green-worker-1)"));
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

/* What the agent's log holds now (a fresh string, caller frees; "" before it exists). */
static char *agent_log(const char *node)
{
	char log[512];
	snprintf(log, sizeof(log), "%s/agent-%s.log", fx.dir, node);
	char *text = harness_read_file(log);
	return text != NULL ? text : strdup("");
}

static size_t count_lines_with(const char *text, const char *needle)
{
	size_t n = 0;
	for (const char *p = strstr(text, needle); p != NULL; p = strstr(p + 1, needle))
		n++;
	return n;
}

struct log_has {
	const char *node;
	const char *needle;
};

static bool log_has(void *arg)
{
	const struct log_has *want = arg;
	char *text = agent_log(want->node);
	bool found = strstr(text, want->needle) != NULL;
	free(text);
	return found;
}

/* Waits for NEEDLE in NODE's log; fails the test with the log when it does not come. */
static void wait_log(const char *node, const char *needle)
{
	struct log_has want = {node, needle};
	if (harness_wait_until(log_has, &want, 30000))
		return;
	char *text = agent_log(node);
	fail_msg("no '%s' in the log of %s within 30 s:\n%s", needle, node, text);
	free(text);
}

/*
 * A process on PORT that accepts every connection and closes it at once,
 * as a port of some other service does to a ZeroMQ greeting. Stopped by PID.
 */
static pid_t start_closing_listener(int port)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
	assert_int_equal(listen(fd, 16), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		for (;;) {
			int conn = accept(fd, NULL, NULL);
			if (conn >= 0)
				close(conn);
		}
	}
	close(fd);
	return pid;
}

static void test_logs_an_endpoint_that_never_handshakes(void **state)
{
	(void)state;
	int port = harness_port_range(1);
	pid_t listener = start_closing_listener(port);
	char endpoint[64], first[128], fourth[160], third[160];
	snprintf(endpoint, sizeof(endpoint), "tcp://127.0.0.1:%d", port);
	pid_t agent = start_agent("green-coord", &fx.green, 0, "200ms", endpoint, NULL);
	snprintf(first, sizeof(first), "collector %s: connected, but no ZeroMQ handshake",
	         endpoint);
	snprintf(fourth, sizeof(fourth), "collector %s: still connected, but no ZeroMQ handshake",
	         endpoint);
	wait_log("green-coord", first);
	wait_log("green-coord", "4 connections without a handshake");
	harness_stop(agent, 5000);
	kill(listener, SIGKILL);
	waitpid(listener, NULL, 0);
	char *text = agent_log("green-coord");
	/* once, then at the 2nd and 4th connection: never a line per retry */
	snprintf(third, sizeof(third), "3 connections without a handshake");
	assert_int_equal(count_lines_with(text, first), 1);
	assert_int_equal(count_lines_with(text, fourth), 2);
	assert_null(strstr(text, third));
	free(text);
}

static void test_logs_trino_going_down_and_coming_back_once_each(void **state)
{
	(void)state;
	pid_t agent = start_agent("old-coord", &fx.old, 0, "200ms", NULL, NULL);
	wait_log("old-coord", "answers: version 423-e.3, coordinator");
	control(&fx.old, "old-coord", "{\"down\":true}");
	wait_log("old-coord", "is not answering");
	/* several polls while it is down: still one line */
	report_receiver_drain(fx.receiver);
	for (int i = 0; i < 5; i++)
		report_free(next_from("old-coord", 5000));
	control(&fx.old, "old-coord", "{\"down\":false}");
	wait_log("old-coord", "answers again: version 423-e.3, coordinator");
	for (int i = 0; i < 3; i++)
		report_free(next_from("old-coord", 5000));
	harness_stop(agent, 5000);
	char *text = agent_log("old-coord");
	assert_int_equal(count_lines_with(text, "is not answering"), 1);
	assert_int_equal(count_lines_with(text, "answers again"), 1);
	assert_int_equal(count_lines_with(text, " answers: version"), 1);
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_agent_started_before_the_collector_delivers),
	        cmocka_unit_test(test_reconnects_after_the_key_is_allowed),
	        cmocka_unit_test(test_dump_decodes_with_protoc),
	        cmocka_unit_test(test_check_config),
	        cmocka_unit_test(test_example_config_is_valid),
	        cmocka_unit_test(test_sighup_rereads_the_config),
	        cmocka_unit_test(test_logs_an_endpoint_that_never_handshakes),
	        cmocka_unit_test(test_logs_trino_going_down_and_coming_back_once_each),
	};
	return cmocka_run_group_tests(tests, agent_fixture_setup, agent_fixture_teardown);
}
