/*
 * The cutover state machine, one row per transition: gate refused (every
 * failing check listed), cutover, LB failure, watch expiry, degradation ->
 * rollback, rollback refused because the old cluster is unhealthy (and then
 * paging continues once), manual rollback, pause and dry run (decision
 * alerted, LB untouched), external cutover, and a restart in mid-watch.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "cutover.h"

#define T0    1795515330000LL
#define WATCH (30 * 60 * 1000LL)

enum { GATE_OK, GATE_FAILS };

struct row {
	const char *name;
	/* state */
	enum cutover_phase phase;
	const char *active, *other;
	bool paused;
	int64_t until_offset; /* until = T0 + this (watching) */
	/* event */
	enum cutover_event_kind event;
	const char *cluster;
	bool force, ok;
	/* facts */
	int gate;
	enum verdict verdict;
	bool previous_healthy, dry_run;
	int64_t now_offset;
	/* expected */
	enum cutover_phase next_phase;
	const char *next_active, *next_other;
	int status;
	const char *actions; /* "switch:green alert:cutover watch:green", in order */
};

static const struct row rows[] = {
        {"cutover refused by the gate",
         PHASE_STEADY,
         "blue",
         "green",
         false,
         0,
         EVENT_CUTOVER,
         "green",
         false,
         false,
         GATE_FAILS,
         VERDICT_HEALTHY,
         true,
         false,
         0,
         PHASE_STEADY,
         "blue",
         "green",
         409,
         ""},
        {"cutover forced past the gate",
         PHASE_STEADY,
         "blue",
         "green",
         false,
         0,
         EVENT_CUTOVER,
         "green",
         true,
         false,
         GATE_FAILS,
         VERDICT_HEALTHY,
         true,
         false,
         0,
         PHASE_SWITCHING,
         "blue",
         "green",
         202,
         "switch:green"},
        {"cutover starts the switch",
         PHASE_STEADY,
         "blue",
         "green",
         false,
         0,
         EVENT_CUTOVER,
         "green",
         false,
         false,
         GATE_OK,
         VERDICT_HEALTHY,
         true,
         false,
         0,
         PHASE_SWITCHING,
         "blue",
         "green",
         202,
         "switch:green"},
        {"cutover to the active cluster is a bad request",
         PHASE_STEADY,
         "blue",
         "green",
         false,
         0,
         EVENT_CUTOVER,
         "blue",
         false,
         false,
         GATE_OK,
         VERDICT_HEALTHY,
         true,
         false,
         0,
         PHASE_STEADY,
         "blue",
         "green",
         400,
         ""},
        {"cutover while paused: alerted, LB untouched",
         PHASE_STEADY,
         "blue",
         "green",
         true,
         0,
         EVENT_CUTOVER,
         "green",
         false,
         false,
         GATE_OK,
         VERDICT_HEALTHY,
         true,
         false,
         0,
         PHASE_STEADY,
         "blue",
         "green",
         409,
         "alert:cutover-held"},
        {"cutover in dry run: alerted, LB untouched",
         PHASE_STEADY,
         "blue",
         "green",
         false,
         0,
         EVENT_CUTOVER,
         "green",
         false,
         false,
         GATE_OK,
         VERDICT_HEALTHY,
         true,
         true,
         0,
         PHASE_STEADY,
         "blue",
         "green",
         409,
         "alert:cutover-held"},
        {"the LB switched: the watch starts",
         PHASE_SWITCHING,
         "blue",
         "green",
         false,
         0,
         EVENT_LB_RESULT,
         "green",
         false,
         true,
         GATE_OK,
         VERDICT_HEALTHY,
         true,
         false,
         0,
         PHASE_WATCHING,
         "green",
         "blue",
         200,
         "watch:green alert:cutover"},
        {"the LB switch failed: users stay, page",
         PHASE_SWITCHING,
         "blue",
         "green",
         false,
         0,
         EVENT_LB_RESULT,
         "green",
         false,
         false,
         GATE_OK,
         VERDICT_HEALTHY,
         true,
         false,
         0,
         PHASE_STEADY,
         "blue",
         "green",
         200,
         "alert:lb-switch-failed"},
        {"a second request during the switch is refused",
         PHASE_SWITCHING,
         "blue",
         "green",
         false,
         0,
         EVENT_CUTOVER,
         "green",
         false,
         false,
         GATE_OK,
         VERDICT_HEALTHY,
         true,
         false,
         0,
         PHASE_SWITCHING,
         "blue",
         "green",
         409,
         ""},
        {"healthy watch, time left: nothing",
         PHASE_WATCHING,
         "green",
         "blue",
         false,
         WATCH,
         EVENT_TICK,
         "",
         false,
         false,
         GATE_OK,
         VERDICT_HEALTHY,
         true,
         false,
         60000,
         PHASE_WATCHING,
         "green",
         "blue",
         200,
         ""},
        {"watch expiry: steady with the roles swapped",
         PHASE_WATCHING,
         "green",
         "blue",
         false,
         WATCH,
         EVENT_TICK,
         "",
         false,
         false,
         GATE_OK,
         VERDICT_HEALTHY,
         true,
         false,
         WATCH,
         PHASE_STEADY,
         "green",
         "blue",
         200,
         "alert:stable"},
        {"degradation: roll back",
         PHASE_WATCHING,
         "green",
         "blue",
         false,
         WATCH,
         EVENT_TICK,
         "",
         false,
         false,
         GATE_OK,
         VERDICT_FAILURES,
         true,
         false,
         60000,
         PHASE_ROLLING_BACK,
         "green",
         "blue",
         200,
         "switch:blue alert:rollback"},
        {"blindness is degradation too",
         PHASE_WATCHING,
         "green",
         "blue",
         false,
         WATCH,
         EVENT_TICK,
         "",
         false,
         false,
         GATE_OK,
         VERDICT_BLIND,
         true,
         false,
         60000,
         PHASE_ROLLING_BACK,
         "green",
         "blue",
         200,
         "switch:blue alert:rollback"},
        {"degraded but blue unhealthy: no switch, page",
         PHASE_WATCHING,
         "green",
         "blue",
         false,
         WATCH,
         EVENT_TICK,
         "",
         false,
         false,
         GATE_OK,
         VERDICT_FAILURES,
         false,
         false,
         60000,
         PHASE_WATCHING,
         "green",
         "blue",
         200,
         "alert:rollback-refused"},
        {"degraded while paused: page, LB untouched",
         PHASE_WATCHING,
         "green",
         "blue",
         true,
         WATCH,
         EVENT_TICK,
         "",
         false,
         false,
         GATE_OK,
         VERDICT_FAILURES,
         true,
         false,
         60000,
         PHASE_WATCHING,
         "green",
         "blue",
         200,
         "alert:degraded"},
        {"degraded in dry run: page, LB untouched",
         PHASE_WATCHING,
         "green",
         "blue",
         false,
         WATCH,
         EVENT_TICK,
         "",
         false,
         false,
         GATE_OK,
         VERDICT_FAILURES,
         true,
         true,
         60000,
         PHASE_WATCHING,
         "green",
         "blue",
         200,
         "alert:degraded"},
        {"manual rollback",
         PHASE_WATCHING,
         "green",
         "blue",
         false,
         WATCH,
         EVENT_ROLLBACK,
         "",
         false,
         false,
         GATE_OK,
         VERDICT_HEALTHY,
         true,
         false,
         60000,
         PHASE_ROLLING_BACK,
         "green",
         "blue",
         202,
         "switch:blue alert:rollback"},
        {"manual rollback into an unhealthy blue is refused",
         PHASE_WATCHING,
         "green",
         "blue",
         false,
         WATCH,
         EVENT_ROLLBACK,
         "",
         false,
         false,
         GATE_OK,
         VERDICT_HEALTHY,
         false,
         false,
         60000,
         PHASE_WATCHING,
         "green",
         "blue",
         409,
         ""},
        {"manual rollback forced into an unhealthy blue",
         PHASE_WATCHING,
         "green",
         "blue",
         false,
         WATCH,
         EVENT_ROLLBACK,
         "",
         true,
         false,
         GATE_OK,
         VERDICT_HEALTHY,
         false,
         false,
         60000,
         PHASE_ROLLING_BACK,
         "green",
         "blue",
         202,
         "switch:blue alert:rollback"},
        {"rollback switched: rolled back",
         PHASE_ROLLING_BACK,
         "green",
         "blue",
         false,
         WATCH,
         EVENT_LB_RESULT,
         "blue",
         false,
         true,
         GATE_OK,
         VERDICT_FAILURES,
         true,
         false,
         61000,
         PHASE_ROLLED_BACK,
         "blue",
         "green",
         200,
         "alert:rolled-back"},
        {"rollback switch failed: back to watching, retried",
         PHASE_ROLLING_BACK,
         "green",
         "blue",
         false,
         WATCH,
         EVENT_LB_RESULT,
         "blue",
         false,
         false,
         GATE_OK,
         VERDICT_FAILURES,
         true,
         false,
         61000,
         PHASE_WATCHING,
         "green",
         "blue",
         200,
         "alert:lb-switch-failed"},
        {"a new cutover after a rollback",
         PHASE_ROLLED_BACK,
         "blue",
         "green",
         false,
         0,
         EVENT_CUTOVER,
         "green",
         false,
         false,
         GATE_OK,
         VERDICT_HEALTHY,
         true,
         false,
         0,
         PHASE_SWITCHING,
         "blue",
         "green",
         202,
         "switch:green"},
        {"rollback with no watch is refused",
         PHASE_STEADY,
         "blue",
         "green",
         false,
         0,
         EVENT_ROLLBACK,
         "",
         false,
         false,
         GATE_OK,
         VERDICT_HEALTHY,
         true,
         false,
         0,
         PHASE_STEADY,
         "blue",
         "green",
         409,
         ""},
        {"external cutover: the watch starts anyway",
         PHASE_STEADY,
         "blue",
         "green",
         false,
         0,
         EVENT_LB_OBSERVED,
         "green",
         false,
         false,
         GATE_OK,
         VERDICT_HEALTHY,
         true,
         false,
         0,
         PHASE_WATCHING,
         "green",
         "blue",
         200,
         "watch:green alert:external-cutover"},
        {"the LB where it should be: nothing",
         PHASE_STEADY,
         "blue",
         "green",
         false,
         0,
         EVENT_LB_OBSERVED,
         "blue",
         false,
         false,
         GATE_OK,
         VERDICT_HEALTHY,
         true,
         false,
         0,
         PHASE_STEADY,
         "blue",
         "green",
         200,
         ""},
        {"the LB moved back by hand during the watch",
         PHASE_WATCHING,
         "green",
         "blue",
         false,
         WATCH,
         EVENT_LB_OBSERVED,
         "blue",
         false,
         false,
         GATE_OK,
         VERDICT_HEALTHY,
         true,
         false,
         60000,
         PHASE_ROLLED_BACK,
         "blue",
         "green",
         200,
         "alert:external-rollback"},
};

static void describe_actions(const struct cutover_result *r, char *out, size_t len)
{
	out[0] = '\0';
	for (size_t i = 0; i < r->action_count; i++) {
		const struct cutover_action *a = &r->actions[i];
		size_t used = strlen(out);
		const char *kind = a->kind == ACTION_SWITCH_LB ? "switch"
		                   : a->kind == ACTION_ALERT   ? "alert"
		                                               : "watch";
		snprintf(out + used, len - used, "%s%s:%s", i ? " " : "", kind,
		         a->kind == ACTION_ALERT ? a->name : a->cluster);
	}
}

static void test_transition_table(void **state)
{
	(void)state;
	struct gate_result gate_ok = {.pass = true};
	struct gate_result gate_fails = {
	        .pass = false,
	        .failed_count = 2,
	        .failed = {"mixed-version: green-worker-1 runs 446",
	                   "config-drift: catalog/tpch.properties differs"}};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct row *row = &rows[i];
		struct cutover_state s;
		cutover_state_init(&s, row->active, row->other);
		s.phase = row->phase;
		s.paused = row->paused;
		s.since_unix_ms = T0;
		s.until_unix_ms = T0 + row->until_offset;
		struct cutover_event e = {.kind = row->event, .force = row->force, .ok = row->ok};
		snprintf(e.cluster, sizeof(e.cluster), "%s", row->cluster);
		snprintf(e.text, sizeof(e.text), "%s", "from the test");
		struct cutover_facts f = {
		        .now_unix_ms = T0 + row->now_offset,
		        .dry_run = row->dry_run,
		        .watch_ms = WATCH,
		        .target_known = true,
		        .gate = row->gate == GATE_OK ? &gate_ok : &gate_fails,
		        .verdict = row->verdict,
		        .previous_healthy = row->previous_healthy,
		};
		snprintf(f.explanation, sizeof(f.explanation), "failures 50.0 %% vs 6.0 %%");
		snprintf(f.previous_problem, sizeof(f.previous_problem), "no live coordinator");
		struct cutover_result r;
		cutover_step(&s, &e, &f, &r);
		char actions[512];
		describe_actions(&r, actions, sizeof(actions));
		if (r.next.phase != row->next_phase ||
		    strcmp(r.next.active, row->next_active) != 0 ||
		    strcmp(r.next.other, row->next_other) != 0 || r.status != row->status ||
		    strcmp(actions, row->actions) != 0)
			fail_msg("row '%s':\n  got      %s(active=%s, other=%s) %d [%s] %s\n"
			         "  expected %s(active=%s, other=%s) %d [%s]",
			         row->name, cutover_phase_name(r.next.phase), r.next.active,
			         r.next.other, r.status, actions, r.answer,
			         cutover_phase_name(row->next_phase), row->next_active,
			         row->next_other, row->status, row->actions);
	}
}

static void test_refused_gate_lists_every_check(void **state)
{
	(void)state;
	struct gate_result gate = {.pass = false, .failed_count = 2};
	snprintf(gate.failed[0], sizeof(gate.failed[0]), "mixed-version: x");
	snprintf(gate.failed[1], sizeof(gate.failed[1]), "config-drift: y");
	struct cutover_state s;
	cutover_state_init(&s, "blue", "green");
	struct cutover_event e = {.kind = EVENT_CUTOVER, .cluster = "green"};
	struct cutover_facts f = {.now_unix_ms = T0, .target_known = true, .gate = &gate};
	struct cutover_result r;
	cutover_step(&s, &e, &f, &r);
	assert_int_equal(r.status, 409);
	assert_string_equal(r.answer, "cutover to green refused: 2 check(s) failed");
	assert_false(r.changed);
}

static void test_unhealthy_blue_pages_once_then_rolls_back_when_it_can(void **state)
{
	(void)state;
	struct cutover_state s;
	cutover_state_init(&s, "green", "blue");
	s.phase = PHASE_WATCHING;
	s.until_unix_ms = T0 + WATCH;
	struct cutover_event tick = {.kind = EVENT_TICK};
	struct gate_result gate = {.pass = true};
	struct cutover_facts f = {.now_unix_ms = T0 + 1000,
	                          .watch_ms = WATCH,
	                          .gate = &gate,
	                          .verdict = VERDICT_FAILURES,
	                          .previous_healthy = false};
	struct cutover_result r;
	cutover_step(&s, &tick, &f, &r);
	assert_int_equal(r.action_count, 1);
	assert_non_null(strstr(r.actions[0].text, "green degraded and blue unavailable"));
	s = r.next;
	f.now_unix_ms += 1000;
	cutover_step(&s, &tick, &f, &r);
	assert_int_equal(r.action_count, 0); /* not every tick */
	s = r.next;
	f.previous_healthy = true; /* blue is back */
	cutover_step(&s, &tick, &f, &r);
	assert_int_equal(r.next.phase, PHASE_ROLLING_BACK);
}

static void test_restart_in_mid_watch_keeps_the_deadline(void **state)
{
	(void)state;
	/* the state as persisted before a crash, reloaded as is */
	struct cutover_state s;
	cutover_state_init(&s, "green", "blue");
	s.phase = PHASE_WATCHING;
	s.since_unix_ms = T0;
	s.until_unix_ms = T0 + WATCH;
	struct cutover_event tick = {.kind = EVENT_TICK};
	struct gate_result gate = {.pass = true};
	struct cutover_facts f = {.now_unix_ms = T0 + WATCH - 1,
	                          .watch_ms = WATCH,
	                          .gate = &gate,
	                          .previous_healthy = true};
	struct cutover_result r;
	cutover_step(&s, &tick, &f, &r);
	assert_int_equal(r.next.phase, PHASE_WATCHING); /* the remaining time, not a new watch */
	f.now_unix_ms = T0 + WATCH;
	cutover_step(&s, &tick, &f, &r);
	assert_int_equal(r.next.phase, PHASE_STEADY);
	assert_non_null(strstr(r.actions[0].text, "blue may be shut down"));
}

static void test_pause_and_resume(void **state)
{
	(void)state;
	struct cutover_state s;
	cutover_state_init(&s, "blue", "green");
	struct cutover_event pause = {.kind = EVENT_PAUSE}, resume = {.kind = EVENT_RESUME};
	struct cutover_facts f = {.now_unix_ms = T0};
	struct cutover_result r;
	cutover_step(&s, &pause, &f, &r);
	assert_true(r.next.paused);
	assert_true(r.changed);
	cutover_step(&r.next, &resume, &f, &r);
	assert_false(r.next.paused);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_transition_table),
	        cmocka_unit_test(test_refused_gate_lists_every_check),
	        cmocka_unit_test(test_unhealthy_blue_pages_once_then_rolls_back_when_it_can),
	        cmocka_unit_test(test_restart_in_mid_watch_keeps_the_deadline),
	        cmocka_unit_test(test_pause_and_resume),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
