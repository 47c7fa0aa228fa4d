/*
 * The cutover runner where a restart or a first start meets it: the gate
 * during the start-up grace, the active cluster learnt from the LB at the
 * first start, and a collector that comes back in the middle of a switch or
 * a rollback (it reads the LB, settles, journals and pages what it found), a
 * saved state about a cluster no longer configured (refused at start);
 * and text cut to fit (a long non-ASCII reason, a long version) cut at a
 * character, so that it still encodes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "cutover_fixture.h"
#include "cutover_runner.h"
#include "state_file.h"

/* Reports from every node for SECONDS fake seconds, without a tick (the grace). */
static void report_seconds(int seconds)
{
	for (int i = 0; i < seconds; i++) {
		fixture_advance(1000);
		report_all();
	}
}

static void test_the_gate_is_closed_during_the_start_up_grace(void **state)
{
	(void)state;
	cutover_fixture_init();
	traffic.green_worker_version = "446"; /* mixed: green's coordinator runs 447 */
	assert_int_equal(fixture_start(&fx, CUTOVER_FIXTURE_SETTINGS, false, &fake_driver), 0);
	report_seconds(1);
	assert_false(fx.collector.findings_ready);
	json_t *answer;
	assert_int_equal(request(EVENT_CUTOVER, "green", false, &answer), 409);
	char *text = json_dumps(answer, 0);
	assert_non_null(strstr(text, "start-up grace"));
	free(text);
	json_decref(answer);
	assert_int_equal(lb.switch_calls, 0);
	assert_int_equal(phase(), PHASE_STEADY);

	/* after the grace, the gate has findings to read: mixed is refused, healthy passes */
	run_seconds(6);
	assert_true(fx.collector.findings_ready);
	assert_int_equal(request(EVENT_CUTOVER, "green", false, &answer), 409);
	text = json_dumps(answer, 0);
	assert_non_null(strstr(text, "mixed-version"));
	assert_null(strstr(text, "start-up grace"));
	free(text);
	json_decref(answer);
	traffic.green_worker_version = NULL;
	run_seconds(1);
	assert_int_equal(request(EVENT_CUTOVER, "green", false, NULL), 202);
	assert_int_equal(lb.switch_calls, 1);
	finish();
}

static bool first_read_done(void *arg)
{
	(void)arg;
	return lb.current_calls > 0 && lb.current_done == NULL;
}

/* First start without initial_active: the LB's target is where users are, never a cutover. */
static void test_the_first_start_learns_the_active_cluster_from_the_lb(void **state)
{
	(void)state;
	static const char *const lb_on[] = {"blue", "green"};
	for (size_t i = 0; i < 2; i++) {
		cutover_fixture_init();
		fx.no_initial_active = true;
		snprintf(lb.pointing_at, sizeof(lb.pointing_at), "%s", lb_on[i]);
		assert_int_equal(fixture_start(&fx, CUTOVER_FIXTURE_SETTINGS, false, &fake_driver),
		                 0);
		/* read at once, not after the grace */
		assert_true(fixture_run_until(&fx, first_read_done, NULL, 5000));
		assert_string_equal(collector_active_cluster(&fx.collector), lb_on[i]);
		run_seconds(8);
		assert_int_equal(phase(), PHASE_STEADY);
		assert_string_equal(collector_active_cluster(&fx.collector), lb_on[i]);
		assert_int_equal(journaled("alert", "external-cutover"), 0);
		const char *other = i == 0 ? "green" : "blue";
		assert_int_equal(request(EVENT_CUTOVER, other, false, NULL), 202);
		assert_string_equal(lb.target, other);
		finish();
	}
}

/* The collector goes down (its state on disk stays) and a new one starts on the same dir. */
static void restart(void)
{
	fixture_stop(&fx);
	fixture_advance(2000);
	size_t reads = lb.current_calls;
	assert_int_equal(fixture_start(&fx, CUTOVER_FIXTURE_SETTINGS, false, &fake_driver), 0);
	lb.current_calls = reads;
}

static size_t calls_before;

static bool switch_asked(void *arg)
{
	(void)arg;
	return lb.switch_calls > calls_before;
}

static bool settled(void *arg)
{
	(void)arg;
	return phase() != PHASE_SWITCHING && phase() != PHASE_ROLLING_BACK;
}

static void test_a_restart_mid_cutover_with_the_lb_moved_finishes_the_cutover(void **state)
{
	(void)state;
	assert_int_equal(request(EVENT_CUTOVER, "green", false, NULL), 202);
	snprintf(lb.pointing_at, sizeof(lb.pointing_at), "green"); /* done, never answered */
	calls_before = lb.switch_calls;
	restart();
	assert_int_equal(phase(), PHASE_SWITCHING);
	assert_true(fixture_run_until(&fx, switch_asked, NULL, 5000));
	assert_string_equal(lb.target, "green"); /* made again: the map file agrees too */
	assert_int_equal(journaled("alert", "cutover-resumed"), 1);
	fake_finish(true, NULL);
	assert_int_equal(phase(), PHASE_WATCHING);
	assert_string_equal(collector_active_cluster(&fx.collector), "green");
}

static void test_a_restart_mid_cutover_with_the_lb_untouched_ends_it(void **state)
{
	(void)state;
	assert_int_equal(request(EVENT_CUTOVER, "green", false, NULL), 202);
	calls_before = lb.switch_calls; /* the LB still says blue */
	restart();
	assert_true(fixture_run_until(&fx, settled, NULL, 5000));
	assert_int_equal(phase(), PHASE_STEADY);
	assert_string_equal(collector_active_cluster(&fx.collector), "blue");
	assert_int_equal(lb.switch_calls, calls_before);
	assert_int_equal(journaled("alert", "cutover-interrupted"), 1);
	run_seconds(6); /* the grace */
	assert_int_equal(request(EVENT_CUTOVER, "green", false, NULL), 202);
}

static void test_a_restart_mid_rollback_makes_the_rollback_again(void **state)
{
	(void)state;
	cut_over_to_green();
	run_seconds(2);
	assert_int_equal(request(EVENT_ROLLBACK, NULL, false, NULL), 202);
	assert_int_equal(phase(), PHASE_ROLLING_BACK);
	calls_before = lb.switch_calls; /* cut off: users are still on green */
	restart();
	assert_true(fixture_run_until(&fx, switch_asked, NULL, 5000));
	assert_string_equal(lb.target, "blue");
	assert_int_equal(journaled("alert", "rollback-resumed"), 1);
	fake_finish(true, NULL);
	assert_int_equal(phase(), PHASE_ROLLED_BACK);
	assert_string_equal(collector_active_cluster(&fx.collector), "blue");
}

/* Whether TEXT is well-formed UTF-8 as jansson takes it: it makes a JSON string. */
static bool encodes(const char *text)
{
	json_t *value = json_string(text);
	json_decref(value);
	return value != NULL;
}

/* A reason of 1000 bytes of "é" is cut at a character, and goes everywhere it should. */
static void test_a_long_non_ascii_reason_round_trips(void **state)
{
	(void)state;
	char reason[1001];
	for (size_t i = 0; i < 1000; i += 2)
		memcpy(reason + i, "\xc3\xa9", 2);
	reason[1000] = '\0';
	int status = 0;
	json_t *answer = cutover_runner_request(fx.collector.cutover, EVENT_CUTOVER, "green", false,
	                                        reason, NULL, fixture_now, &status);
	json_decref(answer);
	assert_int_equal(status, 202);
	fake_finish(true, NULL);
	assert_int_equal(phase(), PHASE_WATCHING);
	json_t *status_json = cutover_runner_status(fx.collector.cutover, fixture_now);
	assert_non_null(status_json);
	const char *saved = json_string_value(json_object_get(status_json, "reason"));
	assert_non_null(saved);
	assert_true(strlen(saved) > 400);
	json_decref(status_json);
	assert_int_equal(journaled("transition", NULL), 2);
	/* and it is in the state file a restart reads */
	fixture_stop(&fx);
	assert_int_equal(fixture_start(&fx, CUTOVER_FIXTURE_SETTINGS, false, &fake_driver), 0);
	assert_int_equal(phase(), PHASE_WATCHING);
	assert_string_equal(collector_active_cluster(&fx.collector), "green");
}

/* A version of 128 bytes ending in "é" is cut at a character: the node stays and encodes. */
static void test_a_long_version_is_cut_at_a_character(void **state)
{
	(void)state;
	char version[129];
	memset(version, '4', 126);
	memcpy(version + 126, "\xc3\xa9", 2);
	version[128] = '\0';
	struct report_fixture r;
	fixture_report(&r, "green-worker", "green", false, version, 1000);
	assert_int_not_equal(fleet_update(&fx.collector.fleet, &r.report, fixture_now.mono_ms),
	                     FLEET_NO_MEMORY);
	const struct fleet_node *node = NULL;
	for (size_t i = 0; i < fx.collector.fleet.count; i++)
		if (strcmp(fx.collector.fleet.nodes[i]->node_id, "green-worker") == 0)
			node = fx.collector.fleet.nodes[i];
	assert_non_null(node);
	assert_true(strlen(node->version) >= 120);
	assert_true(encodes(node->version));
}

/*
 * A cutover.json about a cluster the config does not have (renamed, removed)
 * stops the start: switching to or watching a cluster nobody describes is a
 * guess. The same state with the configured names starts.
 */
static void test_a_state_about_an_unknown_cluster_stops_the_start(void **state)
{
	(void)state;
	fixture_stop(&fx);
	char state_dir[512], err[512];
	fixture_path(&fx, "state", state_dir, sizeof(state_dir));
	struct cutover_state saved;
	cutover_state_init(&saved, "red", "blue");
	assert_int_equal(state_file_save(state_dir, &saved, NULL, fixture_now, err, sizeof(err)),
	                 0);
	assert_int_equal(fixture_start(&fx, CUTOVER_FIXTURE_SETTINGS, false, &fake_driver), -1);
	assert_false(fx.running);
	cutover_state_init(&saved, "green", "blue");
	assert_int_equal(state_file_save(state_dir, &saved, NULL, fixture_now, err, sizeof(err)),
	                 0);
	assert_int_equal(fixture_start(&fx, CUTOVER_FIXTURE_SETTINGS, false, &fake_driver), 0);
	assert_string_equal(collector_active_cluster(&fx.collector), "green");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_the_gate_is_closed_during_the_start_up_grace),
	        cmocka_unit_test(test_the_first_start_learns_the_active_cluster_from_the_lb),
	        cmocka_unit_test_setup_teardown(test_a_long_non_ascii_reason_round_trips, setup,
	                                        teardown),
	        cmocka_unit_test_setup_teardown(test_a_long_version_is_cut_at_a_character, setup,
	                                        teardown),
	        cmocka_unit_test_setup_teardown(
	                test_a_restart_mid_cutover_with_the_lb_moved_finishes_the_cutover, setup,
	                teardown),
	        cmocka_unit_test_setup_teardown(
	                test_a_restart_mid_cutover_with_the_lb_untouched_ends_it, setup, teardown),
	        cmocka_unit_test_setup_teardown(
	                test_a_restart_mid_rollback_makes_the_rollback_again, setup, teardown),
	        cmocka_unit_test_setup_teardown(
	                test_a_state_about_an_unknown_cluster_stops_the_start, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
