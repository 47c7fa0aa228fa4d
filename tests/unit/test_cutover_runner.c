/*
 * The cutover runner inside a real collector (collector_start) with a fake
 * clock and a fake load-balancer driver: the gate decides whether the driver
 * is called; the switch's result starts a watch that ends exactly when fake
 * time passes its duration; a degraded green is switched back to blue by the
 * runner itself; a failed switch opens lb-switch-failed; an LB moved outside
 * trino-guard is followed; a second collector on the same state_dir resumes
 * the watch with its deadline and evidence.
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

#include "cutover_fixture.h"
#include "cutover_runner.h"

#define WATCH_MS CUTOVER_FIXTURE_WATCH_MS
#define SETTINGS CUTOVER_FIXTURE_SETTINGS

static const struct cutover_counters *counters(void)
{
	struct cutover_metrics m;
	cutover_runner_metrics(fx.collector.cutover, fixture_now, &m);
	return m.counters;
}

/* Switches FROM -> TO that ended OK (or failed), as /metrics counts them. */
static uint64_t switches(const char *from, const char *to, bool ok)
{
	const struct cutover_counters *c = counters();
	for (size_t i = 0; i < c->switch_pairs; i++)
		if (strcmp(c->switches[i].from, from) == 0 && strcmp(c->switches[i].to, to) == 0)
			return ok ? c->switches[i].ok : c->switches[i].failed;
	fail_msg("no switch counter %s -> %s", from, to);
	return 0;
}

static const struct gate_case {
	const char *name;
	const char *to;
	bool force;
	unsigned green_failed_per_100; /* before the request */
	const char *silent;            /* a green node that stopped reporting */
	int status;
	size_t switch_calls;
	enum cutover_phase phase;
	const char *failed_check; /* in failed_checks, or NULL */
} gate_cases[] = {
        {"a healthy green passes the gate and the driver is called", "green", false, 0, NULL, 202,
         1, PHASE_SWITCHING, NULL},
        {"a green failing 30 % of its queries is refused, the LB untouched", "green", false, 30,
         NULL, 409, 0, PHASE_STEADY, "failure ratio of green"},
        {"a green with a silent worker is refused", "green", false, 0, "green-worker", 409, 0,
         PHASE_STEADY, "node-stale"},
        {"a failing green may be forced past the gate", "green", true, 30, NULL, 202, 1,
         PHASE_SWITCHING, NULL},
        {"a cluster without a section is refused", "purple", false, 0, NULL, 400, 0, PHASE_STEADY,
         NULL},
        {"the active cluster is refused", "blue", false, 0, NULL, 400, 0, PHASE_STEADY, NULL},
};

static void test_the_gate_decides_whether_the_driver_is_called(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(gate_cases) / sizeof(gate_cases[0]); i++) {
		const struct gate_case *c = &gate_cases[i];
		print_message("%s\n", c->name);
		start();
		traffic.green_failed_per_100 = c->green_failed_per_100;
		traffic.silent = c->silent;
		run_seconds(10);
		json_t *answer;
		assert_int_equal(request(EVENT_CUTOVER, c->to, c->force, &answer), c->status);
		assert_int_equal(lb.switch_calls, c->switch_calls);
		if (c->switch_calls > 0)
			assert_string_equal(lb.target, c->to);
		assert_int_equal(phase(), c->phase);
		json_t *checks = json_object_get(answer, "failed_checks");
		if (c->failed_check != NULL) {
			char *text = json_dumps(checks, 0);
			assert_non_null(text);
			assert_non_null(strstr(text, c->failed_check));
			free(text);
		}
		json_decref(answer);
		finish();
	}
}

static void test_the_switch_starts_a_watch_that_ends_on_the_fake_clock(void **state)
{
	(void)state;
	assert_int_equal(request(EVENT_CUTOVER, "green", false, NULL), 202);
	assert_int_equal(phase(), PHASE_SWITCHING);
	tick(); /* the LB is polled meanwhile: still blue, which is no news */
	assert_int_equal(phase(), PHASE_SWITCHING);
	fixture_advance(300);
	int64_t switched_unix_ms = fixture_now.unix_ms;
	fake_finish(true, NULL);
	assert_int_equal(phase(), PHASE_WATCHING);
	assert_string_equal(collector_active_cluster(&fx.collector), "green");
	assert_int_equal(journaled("alert", "cutover"), 1);
	assert_int_equal(switches("blue", "green", true), 1);
	assert_int_equal(switches("green", "blue", true), 0);
	/* asked for, then answered 300 fake ms later: in the (0.25, 0.5] bucket */
	assert_int_equal(counters()->duration_count, 1);
	assert_int_equal(counters()->duration_buckets[2], 0);
	assert_int_equal(counters()->duration_buckets[3], 1);

	/* the fake clock alone moves the watch: one fake minute, no real one */
	run_seconds(WATCH_MS / 1000 - 1);
	fixture_advance(999);
	report_all();
	tick();
	assert_int_equal(fixture_now.unix_ms, switched_unix_ms + WATCH_MS - 1);
	assert_int_equal(phase(), PHASE_WATCHING);
	fixture_advance(1);
	tick();
	assert_int_equal(phase(), PHASE_STEADY);
	assert_string_equal(collector_active_cluster(&fx.collector), "green");
	assert_int_equal(journaled("alert", "stable"), 1);
	assert_int_equal(lb.switch_calls, 1);
}

static void test_a_degraded_green_is_switched_back_to_blue(void **state)
{
	(void)state;
	cut_over_to_green();
	run_seconds(5);
	assert_int_equal(phase(), PHASE_WATCHING);
	assert_int_equal(lb.switch_calls, 1);

	traffic.green_failed_per_100 = 30; /* green's coordinator counts failures now */
	for (int i = 0; i < 10 && lb.switch_calls == 1; i++)
		run_seconds(1);
	assert_int_equal(lb.switch_calls, 2);
	assert_string_equal(lb.target, "blue");
	assert_int_equal(phase(), PHASE_ROLLING_BACK);
	assert_int_equal(journaled("alert", "rollback"), 1);

	fixture_advance(200);
	fake_finish(true, NULL);
	assert_int_equal(phase(), PHASE_ROLLED_BACK);
	assert_string_equal(collector_active_cluster(&fx.collector), "blue");
	assert_int_equal(journaled("alert", "rolled-back"), 1);
	assert_int_equal(counters()->rollbacks[ROLLBACK_DEGRADED], 1);
	assert_int_equal(counters()->rollbacks[ROLLBACK_MANUAL], 0);
	assert_int_equal(switches("green", "blue", true), 1);
	run_seconds(3); /* nothing more to do */
	assert_int_equal(lb.switch_calls, 2);
}

static void test_a_failed_switch_opens_lb_switch_failed(void **state)
{
	(void)state;
	assert_int_equal(request(EVENT_CUTOVER, "green", false, NULL), 202);
	fake_finish(false, "haproxy: connection refused");
	assert_int_equal(phase(), PHASE_STEADY);
	assert_string_equal(collector_active_cluster(&fx.collector), "blue");
	assert_int_equal(journaled("alert", "lb-switch-failed"), 1);
	assert_int_equal(switches("blue", "green", false), 1);
	assert_int_equal(switches("blue", "green", true), 0);
	run_seconds(1);
	const struct finding *f = finding("lb-switch-failed/green");
	assert_non_null(f);
	assert_int_equal(f->severity, SEVERITY_CRITICAL);
	assert_non_null(strstr(f->summary, "haproxy: connection refused"));
	assert_int_equal(journaled("finding-opened", NULL), 1);

	/* a switch that works closes it */
	cut_over_to_green();
	run_seconds(1);
	assert_null(finding("lb-switch-failed/green"));
	assert_int_equal(journaled("finding-closed", NULL), 1);
}

static void test_an_external_cutover_is_followed(void **state)
{
	(void)state;
	snprintf(lb.pointing_at, sizeof(lb.pointing_at), "green"); /* moved by hand */
	run_seconds(1);
	assert_int_equal(phase(), PHASE_WATCHING);
	assert_string_equal(collector_active_cluster(&fx.collector), "green");
	assert_int_equal(journaled("alert", "external-cutover"), 1);
	assert_int_equal(lb.switch_calls, 0);

	snprintf(lb.pointing_at, sizeof(lb.pointing_at), "blue"); /* and back */
	run_seconds(1);
	assert_int_equal(phase(), PHASE_ROLLED_BACK);
	assert_string_equal(collector_active_cluster(&fx.collector), "blue");
	assert_int_equal(journaled("alert", "external-rollback"), 1);
	assert_int_equal(lb.switch_calls, 0);
	assert_int_equal(counters()->rollbacks[ROLLBACK_EXTERNAL], 1);
	assert_int_equal(counters()->duration_count, 0); /* it made no switch itself */
}

static void test_a_restarted_collector_resumes_the_watch(void **state)
{
	(void)state;
	cut_over_to_green();
	int64_t switched_unix_ms = fixture_now.unix_ms;
	traffic.green_failed_per_100 = 10; /* evidence, under the threshold */
	run_seconds(4);
	double evidence = failure_score();
	assert_true(evidence > 1.0);
	assert_int_equal(phase(), PHASE_WATCHING);

	fixture_stop(&fx);
	fixture_advance(2000); /* down for two seconds */
	assert_int_equal(fixture_start(&fx, SETTINGS, false, &fake_driver), 0);
	assert_int_equal(phase(), PHASE_WATCHING);
	assert_string_equal(collector_active_cluster(&fx.collector), "green");
	assert_true(failure_score() == evidence);
	assert_int_equal(journaled("transition", NULL), 2); /* the first collector's */

	/* the watch ends at its first deadline, not a minute after the restart */
	traffic.green_failed_per_100 = 0;
	while (fixture_now.unix_ms + 1000 < switched_unix_ms + WATCH_MS)
		run_seconds(1);
	fixture_advance(switched_unix_ms + WATCH_MS - 1 - fixture_now.unix_ms);
	tick();
	assert_int_equal(phase(), PHASE_WATCHING);
	fixture_advance(1);
	tick();
	assert_int_equal(phase(), PHASE_STEADY);
	assert_int_equal(journaled("alert", "stable"), 1);
	assert_int_equal(lb.switch_calls, 1);
}

/* A switch that worked but left its map file behind is a switch, and a warning of its own. */
static void test_an_unwritable_map_file_is_a_warning_not_a_failed_switch(void **state)
{
	(void)state;
	assert_int_equal(request(EVENT_CUTOVER, "green", false, NULL), 202);
	cutover_runner_lb_warning(fx.collector.cutover,
	                          "HAProxy switched to bk_green, but the map file was not "
	                          "rewritten (a reload would undo the switch): read-only",
	                          fixture_now);
	fake_finish(true, NULL);
	assert_int_equal(phase(), PHASE_WATCHING);
	run_seconds(2);
	const struct finding *f = finding("lb-map-file-unwritable/green");
	assert_non_null(f);
	assert_int_equal(f->severity, SEVERITY_WARNING);
	assert_non_null(strstr(f->summary, "a reload would undo the switch"));
	assert_null(finding("lb-switch-failed/green"));
	assert_int_equal(journaled("alert", "lb-switch-failed"), 0);
	assert_int_equal(journaled("alert", "external-cutover"), 0);
	assert_int_equal(journaled("lb-warning", NULL), 1);
	assert_int_equal(phase(), PHASE_WATCHING);
	/* the next switch has warnings of its own: none */
	assert_int_equal(request(EVENT_ROLLBACK, NULL, false, NULL), 202);
	fake_finish(true, NULL);
	run_seconds(1);
	assert_null(finding("lb-map-file-unwritable/green"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_the_gate_decides_whether_the_driver_is_called),
	        cmocka_unit_test_setup_teardown(
	                test_the_switch_starts_a_watch_that_ends_on_the_fake_clock, setup,
	                teardown),
	        cmocka_unit_test_setup_teardown(test_a_degraded_green_is_switched_back_to_blue,
	                                        setup, teardown),
	        cmocka_unit_test_setup_teardown(test_a_failed_switch_opens_lb_switch_failed, setup,
	                                        teardown),
	        cmocka_unit_test_setup_teardown(test_an_external_cutover_is_followed, setup,
	                                        teardown),
	        cmocka_unit_test_setup_teardown(test_a_restarted_collector_resumes_the_watch, setup,
	                                        teardown),
	        cmocka_unit_test_setup_teardown(
	                test_an_unwritable_map_file_is_a_warning_not_a_failed_switch, setup,
	                teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
