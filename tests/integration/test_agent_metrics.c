/*
 * The agent's own /metrics ([agent] metrics_port), scraped from the real
 * agent polling trino-sim and publishing to a stand-in collector: promtool
 * accepts it; it counts reports sent, Trino poll errors by endpoint while the
 * sim is down, the last poll's duration, build_info and process_*; it listens
 * on loopback by default and answers nothing but /metrics; and an agent with
 * no collector to talk to counts its reports as dropped, not sent.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <unistd.h>

#include "agent_fixture.h"
#include "harness.h"

/* Starts NODE's agent with its /metrics on PORT, publishing to ENDPOINT (NULL: the receiver). */
static pid_t start_with_metrics(const char *node, const struct sim *sim, int worker, int port,
                                const char *endpoint)
{
	const char *ini = write_agent_ini(node, sim, worker, "200ms", endpoint, NULL);
	char *text = harness_read_file(ini);
	assert_non_null(text);
	char fresh[8192];
	const char *rest = strstr(text, "[agent]\n");
	assert_non_null(rest);
	snprintf(fresh, sizeof(fresh), "[agent]\nmetrics_port = %d\n%s", port,
	         rest + strlen("[agent]\n"));
	free(text);
	harness_write_file(ini, fresh);
	char log[512];
	snprintf(log, sizeof(log), "%s/agent-%s.log", fx.dir, node);
	const char *argv[] = {TG_AGENT_BIN, "-c", ini, NULL};
	return harness_spawn(argv, log);
}

/* The value of the sample SERIES ("name" or "name{labels}") in TEXT, or -1 when absent. */
static double sample(const char *text, const char *series)
{
	size_t len = strlen(series);
	for (const char *line = text; line != NULL && *line != '\0';) {
		if (strncmp(line, series, len) == 0 && line[len] == ' ')
			return strtod(line + len + 1, NULL);
		line = strchr(line, '\n');
		line = line != NULL ? line + 1 : NULL;
	}
	return -1;
}

struct scrape_goal {
	int port;
	const char *series;
	double at_least;
	char *last; /* the last scrape, kept for the failure message and the checks */
};

/* harness_wait_until condition: a scrape in which goal->series is at least goal->at_least. */
static bool scrape_reaches(void *arg)
{
	struct scrape_goal *goal = arg;
	char url[64];
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/metrics", goal->port);
	char *text = harness_get_ok(url);
	if (text == NULL)
		return false;
	free(goal->last);
	goal->last = text;
	return sample(text, goal->series) >= goal->at_least;
}

/* Waits for SERIES >= AT_LEAST on PORT and returns that scrape (caller frees). */
static char *wait_scrape(int port, const char *series, double at_least)
{
	struct scrape_goal goal = {.port = port, .series = series, .at_least = at_least};
	if (!harness_wait_until(scrape_reaches, &goal, 20000))
		fail_msg("%s never reached %g; last scrape:\n%s", series, at_least,
		         goal.last != NULL ? goal.last : "(none answered)");
	return goal.last;
}

static void expect_promtool_accepts(const char *text)
{
	harness_write_file("agent-metrics.txt", text);
	int rc = system("promtool check metrics < agent-metrics.txt > agent-promtool.txt 2>&1");
	if (rc != 0) {
		char *out = harness_read_file("agent-promtool.txt");
		fail_msg("promtool check metrics failed (%d): %s", rc, out);
	}
}

/* Whether a socket listens on 127.0.0.1:PORT (from /proc/net/tcp: 0100007F, state 0A). */
static bool listens_on_loopback_only(int port)
{
	char *table = harness_read_file("/proc/net/tcp");
	assert_non_null(table);
	char loopback[32], any[32];
	snprintf(loopback, sizeof(loopback), "0100007F:%04X 00000000:0000 0A", port);
	snprintf(any, sizeof(any), "00000000:%04X 00000000:0000 0A", port);
	bool ok = strstr(table, loopback) != NULL && strstr(table, any) == NULL;
	free(table);
	return ok;
}

static void test_metrics_of_a_polling_agent(void **state)
{
	(void)state;
	int port = harness_port_range(1);
	pid_t agent = start_with_metrics("green-coord", &fx.green, 0, port, NULL);
	char *text = wait_scrape(port, "trino_guard_agent_reports_sent_total", 3);
	expect_promtool_accepts(text);
	static const char *const families[] = {
	        "trino_guard_agent_build_info{version=\"" TG_VERSION "\"}",
	        "trino_guard_agent_reports_dropped_total",
	        "trino_guard_agent_reports_failed_total",
	        "trino_guard_agent_collectors_connected",
	        "trino_guard_agent_trino_requests_total{endpoint=\"/metrics\"}",
	        "trino_guard_agent_trino_poll_errors_total{endpoint=\"/v1/info\"}",
	        "trino_guard_agent_trino_up",
	        "trino_guard_agent_last_poll_duration_seconds",
	        "process_cpu_seconds_total",
	        "process_resident_memory_bytes",
	        "process_open_fds",
	        "process_start_time_seconds",
	};
	for (size_t i = 0; i < sizeof(families) / sizeof(families[0]); i++)
		if (sample(text, families[i]) < 0)
			fail_msg("no %s in:\n%s", families[i], text);
	assert_true(sample(text, "trino_guard_agent_build_info{version=\"" TG_VERSION "\"}") == 1);
	assert_true(sample(text, "trino_guard_agent_collectors_connected") == 1);
	assert_true(sample(text, "trino_guard_agent_trino_requests_total{endpoint=\"/metrics\"}") >
	            0);
	assert_true(
	        sample(text, "trino_guard_agent_trino_poll_errors_total{endpoint=\"/v1/info\"}") ==
	        0);
	assert_true(sample(text, "trino_guard_agent_last_poll_duration_seconds") >= 0);
	free(text);
	assert_true(listens_on_loopback_only(port));

	/* Trino down: the errors climb per endpoint and trino_up says so. */
	control(&fx.green, "green-coord", "{\"down\":true}");
	text = wait_scrape(port, "trino_guard_agent_trino_poll_errors_total{endpoint=\"/v1/info\"}",
	                   2);
	free(text);
	text = wait_scrape(
	        port, "trino_guard_agent_trino_poll_errors_total{endpoint=\"/v1/info/state\"}", 2);
	assert_true(sample(text, "trino_guard_agent_trino_up") == 0);
	free(text);
	control(&fx.green, "green-coord", "{\"down\":false}");
	text = wait_scrape(port, "trino_guard_agent_trino_up", 1);
	free(text);

	char url[64];
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/v1/status", port);
	struct harness_response response;
	assert_int_equal(harness_http("GET", url, NULL, NULL, 5000, &response), 0);
	assert_int_equal(response.status, 404);
	harness_response_free(&response);
	harness_stop(agent, 5000);
}

static void test_reports_with_no_collector_are_dropped(void **state)
{
	(void)state;
	int ports = harness_port_range(2);
	char endpoint[64];
	snprintf(endpoint, sizeof(endpoint), "tcp://127.0.0.1:%d", ports + 1); /* nobody */
	pid_t agent = start_with_metrics("green-worker-1", &fx.green, 1, ports, endpoint);
	char *text = wait_scrape(ports, "trino_guard_agent_reports_dropped_total", 3);
	assert_true(sample(text, "trino_guard_agent_reports_sent_total") == 0);
	assert_true(sample(text, "trino_guard_agent_collectors_connected") == 0);
	assert_true(sample(text, "trino_guard_agent_collector_endpoints") == 1);
	/* a worker asks no counters */
	assert_true(sample(text, "trino_guard_agent_trino_requests_total{endpoint=\"/metrics\"}") ==
	            0);
	free(text);
	harness_stop(agent, 5000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_metrics_of_a_polling_agent),
	        cmocka_unit_test(test_reports_with_no_collector_are_dropped),
	};
	return cmocka_run_group_tests(tests, agent_fixture_setup, agent_fixture_teardown);
}
