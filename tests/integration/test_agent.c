/*
 * trino-guard-agent against trino-sim, with CURVE on, received by a stand-in
 * collector: what the report carries (via /metrics and via JMX), digests that
 * follow real changes only, Trino down or hung, counters refused, and SIGTERM.
 * The agent as a daemon (its collector, command line, SIGHUP) is
 * test_agent_daemon.c's.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "agent_fixture.h"
#include "clock.h"
#include "harness.h"

static int64_t unix_ms(void)
{
	return clock_unix_ms();
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
	assert_false(r->counters->has_submitted); /* not asked for: nothing reads it */
	assert_true(r->counters->has_active_nodes);
	assert_int_equal(r->counters->active_nodes, 2);
	assert_null(r->coordinator_id); /* 447's /v1/info has none, and the probe is off */
	assert_non_null(digest_of(r, "catalog/tpch.properties"));
	assert_non_null(digest_of(r, "config.properties"));
	assert_true(digest_of(r, "jvm.config")->has_sha256);
	uint64_t seq = r->seq;
	report_free(r);
	r = next_from("green-coord", 2000);
	assert_non_null(r);
	assert_int_equal(r->seq, seq + 1);
	assert_null(r->coordinator_id); /* an interval later: no probe has answered either */
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
	while (unix_ms() - hung_at < 3000) {
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
	/*
	 * Bounds far from the figures (a gap of one interval, UNREACHABLE after
	 * about three) and far from what a poll blocked on the hang would give
	 * (the request timeout, 5 s): the machine is shared, and a timing figure
	 * is not what this test is for.
	 */
	if (largest_gap > 1500)
		fail_msg("reports stalled for %lld ms at a 200 ms interval",
		         (long long)largest_gap);
	assert_true(unreachable_at != 0);
	/* a /v1/info request unanswered for two intervals counts as no answer */
	if (unreachable_at - hung_at > 2500)
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

/* A field of the sim's coordinator in its control overview, as JSON; the caller decrefs. */
static json_t *sim_coordinator_field(const struct sim *sim, const char *field)
{
	char url[128];
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/control", sim->control_port);
	char *body = harness_get_ok(url);
	assert_non_null(body);
	json_t *overview = json_loads(body, 0, NULL);
	free(body);
	json_t *value = json_incref(
	        json_object_get(json_array_get(json_object_get(overview, "nodes"), 0), field));
	json_decref(overview);
	assert_non_null(value);
	return value;
}

static char expected_coordinator_id[16];

static bool carries_expected_id(const NodeReport *r)
{
	return r->coordinator_id != NULL && strcmp(r->coordinator_id, expected_coordinator_id) == 0;
}

static void read_sim_coordinator_id(const struct sim *sim)
{
	json_t *id = sim_coordinator_field(sim, "coordinator_id");
	snprintf(expected_coordinator_id, sizeof(expected_coordinator_id), "%s",
	         json_string_value(id));
	json_decref(id);
	assert_int_equal(strlen(expected_coordinator_id), 5);
}

/* No client query of the sim is queued or running (its background traffic aside). */
static bool no_statement_query(void *arg)
{
	json_t *queries = sim_coordinator_field(arg, "statement_queries");
	bool none = json_integer_value(json_object_get(queries, "running")) == 0 &&
	            json_integer_value(json_object_get(queries, "queued")) == 0;
	json_decref(queries);
	return none;
}

/*
 * Before 477 /v1/info has no coordinatorId; with the probe on, the agent
 * reads it from a probe query's id and reports it as a 477+ id, the query
 * is cancelled before it runs, and a coordinator restart (a new id) is
 * probed again.
 */
static void test_coordinator_id_probe_before_477(void **state)
{
	(void)state;
	read_sim_coordinator_id(&fx.green);
	pid_t agent = start_agent("green-coord", &fx.green, 0, "200ms", NULL,
	                          "coordinator_id_probe = on\nprobe_user = probe-tester");
	NodeReport *r = wait_report("green-coord", carries_expected_id, 10000);
	if (r == NULL)
		fail_msg("no report carries the sim's coordinator id %s", expected_coordinator_id);
	assert_string_equal(r->trino_version, "447");
	assert_string_equal(r->coordinator_id_from, "probe");
	report_free(r);
	assert_true(harness_wait_until(no_statement_query, &fx.green, 5000));
	char before[16];
	snprintf(before, sizeof(before), "%s", expected_coordinator_id);

	control(&fx.green, "green-coord", "{\"restart\":true}");
	read_sim_coordinator_id(&fx.green);
	assert_string_not_equal(expected_coordinator_id, before); /* 32^-5 to collide */
	r = wait_report("green-coord", carries_expected_id, 10000);
	if (r == NULL)
		fail_msg("the restarted coordinator's id %s never arrived",
		         expected_coordinator_id);
	report_free(r);
	/* the probe query never runs: no client query left behind, now or later */
	assert_true(harness_wait_until(no_statement_query, &fx.green, 5000));
	r = next_from("green-coord", 2000);
	assert_non_null(r);
	assert_true(carries_expected_id(r)); /* probed once per start: the id stays */
	report_free(r);
	assert_true(no_statement_query(&fx.green));
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
	        cmocka_unit_test(test_coordinator_id_probe_before_477),
	};
	return cmocka_run_group_tests(tests, agent_fixture_setup, agent_fixture_teardown);
}
