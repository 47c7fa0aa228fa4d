/*
 * Clock steps against a whole collector with a fake clock (collector_fixture.h):
 * the wall clock is stepped by an hour either way while the monotonic one runs
 * on. A step forward does not end a watch early, a step back does not block
 * a rollback's retry for an hour, and a [alerts] for.RULE hold fires when its
 * delay has run on the monotonic clock, whichever way the wall clock went.
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
#define HOUR_MS  (3600 * 1000LL)

static int64_t seconds_left(void)
{
	struct cutover_metrics m;
	cutover_runner_metrics(fx.collector.cutover, fixture_now, &m);
	return m.seconds_left;
}

static void test_a_wall_step_forward_does_not_end_the_watch(void **state)
{
	(void)state;
	cut_over_to_green();
	int64_t switched_ms = fixture_now.mono_ms;
	run_seconds(10);
	fixture_now.unix_ms += HOUR_MS; /* NTP, or a person, steps the clock */
	run_seconds(1);
	assert_int_equal(phase(), PHASE_WATCHING);
	assert_int_equal(seconds_left(), (WATCH_MS - 11000) / 1000);
	fixture_now.unix_ms -= 2 * HOUR_MS; /* and back, an hour behind */
	while (fixture_now.mono_ms + 1000 < switched_ms + WATCH_MS)
		run_seconds(1);
	fixture_advance(switched_ms + WATCH_MS - 1 - fixture_now.mono_ms);
	tick();
	assert_int_equal(phase(), PHASE_WATCHING);
	fixture_advance(1);
	tick();
	assert_int_equal(phase(), PHASE_STEADY);
	assert_int_equal(journaled("alert", "stable"), 1);
}

static void test_a_wall_step_back_does_not_block_the_retry(void **state)
{
	(void)state;
	cut_over_to_green();
	run_seconds(5);
	traffic.green_failed_per_100 = 30;
	for (int i = 0; i < 10 && lb.switch_calls == 1; i++)
		run_seconds(1);
	assert_int_equal(phase(), PHASE_ROLLING_BACK);
	fake_finish(false, "haproxy: connection refused");
	assert_int_equal(phase(), PHASE_WATCHING);
	int64_t failed_ms = fixture_now.mono_ms;
	fixture_now.unix_ms -= HOUR_MS;
	for (int i = 0; i < 10 && lb.switch_calls == 2; i++)
		run_seconds(1);
	assert_int_equal(lb.switch_calls, 3); /* retried, after its pause, not an hour later */
	assert_true(fixture_now.mono_ms - failed_ms >= CUTOVER_RETRY_MS);
	assert_true(fixture_now.mono_ms - failed_ms <= CUTOVER_RETRY_MS + 1000);
	assert_int_equal(phase(), PHASE_ROLLING_BACK);
	fake_finish(true, NULL);
	assert_int_equal(phase(), PHASE_ROLLED_BACK);
}

static bool firing(const char *key)
{
	char path[1024];
	fixture_path(&fx, "state/alerts-firing.json", path, sizeof(path));
	FILE *file = fopen(path, "r");
	if (file == NULL)
		return false;
	char text[8192];
	size_t n = fread(text, 1, sizeof(text) - 1, file);
	fclose(file);
	text[n] = '\0';
	return strstr(text, key) != NULL;
}

/* green-worker goes silent; node-stale opens after stale_after (5 s) and is held 10 s more. */
static void hold_with_a_step(int64_t step_ms)
{
	cutover_fixture_init();
	assert_int_equal(fixture_start(&fx,
	                               CUTOVER_FIXTURE_SETTINGS
	                               "[alerts]\nfor.node-stale = 10s\n[alert.log]\n",
	                               false, &fake_driver),
	                 0);
	run_seconds(6);
	assert_true(fx.collector.findings_ready);
	traffic.silent = "green-worker";
	const char *key = "node-stale/green/green-worker";
	int64_t opened_ms = -1;
	for (int i = 0; i < 30 && opened_ms < 0; i++) {
		run_seconds(1);
		if (finding(key) != NULL)
			opened_ms = fixture_now.mono_ms;
	}
	assert_true(opened_ms >= 0);
	fixture_now.unix_ms += step_ms;
	while (fixture_now.mono_ms < opened_ms + 10000 - 1000) {
		run_seconds(1);
		if (firing(key))
			fail_msg("fired %lld ms after it opened, before its 10 s hold (step %lld "
			         "ms)",
			         (long long)(fixture_now.mono_ms - opened_ms), (long long)step_ms);
	}
	run_seconds(1);
	assert_true(firing(key));
	finish();
}

static void test_a_hold_fires_on_time_whichever_way_the_clock_steps(void **state)
{
	(void)state;
	hold_with_a_step(HOUR_MS);
	hold_with_a_step(-HOUR_MS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(test_a_wall_step_forward_does_not_end_the_watch,
	                                        setup, teardown),
	        cmocka_unit_test_setup_teardown(test_a_wall_step_back_does_not_block_the_retry,
	                                        setup, teardown),
	        cmocka_unit_test(test_a_hold_fires_on_time_whichever_way_the_clock_steps),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
