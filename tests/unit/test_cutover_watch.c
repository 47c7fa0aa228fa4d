/*
 * The cutover state machine over several steps of a watch: a rollback refused
 * because the old cluster is unhealthy pages once, then rolls back when it
 * can; a restart in mid-watch keeps the deadline; a failed rollback is tried
 * again only after a pause, not on every tick.
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

static void test_unhealthy_blue_pages_once_then_rolls_back_when_it_can(void **state)
{
	(void)state;
	struct cutover_state s;
	cutover_state_init(&s, "green", "blue");
	s.phase = PHASE_WATCHING;
	s.until_ms = T0 + WATCH;
	struct cutover_event tick = {.kind = EVENT_TICK};
	struct gate_result gate = {.pass = true};
	struct cutover_facts f = {.now_ms = T0 + 1000,
	                          .watch_ms = WATCH,
	                          .gate = &gate,
	                          .verdict = VERDICT_FAILURES,
	                          .previous_healthy = false};
	struct cutover_result r;
	cutover_step(&s, &tick, &f, &r);
	assert_int_equal(r.action_count, 1);
	assert_non_null(strstr(r.actions[0].text, "green degraded and blue unavailable"));
	s = r.next;
	f.now_ms += 1000;
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
	s.since_ms = T0;
	s.until_ms = T0 + WATCH;
	struct cutover_event tick = {.kind = EVENT_TICK};
	struct gate_result gate = {.pass = true};
	struct cutover_facts f = {.now_ms = T0 + WATCH - 1,
	                          .watch_ms = WATCH,
	                          .gate = &gate,
	                          .previous_healthy = true};
	struct cutover_result r;
	cutover_step(&s, &tick, &f, &r);
	assert_int_equal(r.next.phase, PHASE_WATCHING); /* the remaining time, not a new watch */
	f.now_ms = T0 + WATCH;
	cutover_step(&s, &tick, &f, &r);
	assert_int_equal(r.next.phase, PHASE_STEADY);
	assert_non_null(strstr(r.actions[0].text, "blue may be shut down"));
}

static void test_a_failed_rollback_is_retried_after_a_pause(void **state)
{
	(void)state;
	struct cutover_state s;
	cutover_state_init(&s, "green", "blue");
	s.phase = PHASE_WATCHING;
	s.since_ms = T0;
	s.until_ms = T0 + WATCH;
	struct cutover_event tick = {.kind = EVENT_TICK};
	struct cutover_event failed = {.kind = EVENT_LB_RESULT, .cluster = "blue", .ok = false};
	struct gate_result gate = {.pass = true};
	struct cutover_facts f = {.now_ms = T0 + 60000,
	                          .watch_ms = WATCH,
	                          .gate = &gate,
	                          .verdict = VERDICT_FAILURES,
	                          .previous_healthy = true};
	struct cutover_result r;
	cutover_step(&s, &tick, &f, &r); /* degraded: roll back */
	assert_int_equal(r.next.phase, PHASE_ROLLING_BACK);
	s = r.next;
	f.now_ms += 200;
	cutover_step(&s, &failed, &f, &r); /* the LB refused */
	assert_int_equal(r.next.phase, PHASE_WATCHING);
	s = r.next;
	int64_t failed_at = f.now_ms;
	/* every tick of the pause: no new attempt, no new page */
	for (f.now_ms = failed_at; f.now_ms < failed_at + CUTOVER_RETRY_MS; f.now_ms += 100) {
		cutover_step(&s, &tick, &f, &r);
		if (r.next.phase != PHASE_WATCHING || r.action_count != 0)
			fail_msg("%lld ms after the failed rollback: %s with %zu action(s)",
			         (long long)(f.now_ms - failed_at),
			         cutover_phase_name(r.next.phase), r.action_count);
	}
	/* the pause over: the next attempt */
	f.now_ms = failed_at + CUTOVER_RETRY_MS;
	cutover_step(&s, &tick, &f, &r);
	assert_int_equal(r.next.phase, PHASE_ROLLING_BACK);
	assert_int_equal(r.actions[0].kind, ACTION_SWITCH_LB);
	assert_string_equal(r.actions[0].cluster, "blue");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_unhealthy_blue_pages_once_then_rolls_back_when_it_can),
	        cmocka_unit_test(test_restart_in_mid_watch_keeps_the_deadline),
	        cmocka_unit_test(test_a_failed_rollback_is_retried_after_a_pause),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
