/*
 * The degradation detector on synthetic counter series: little traffic with a
 * few failures is no rollback; a burst is caught within a few queries; a late
 * fault as fast as one at cutover; a bad baseline raises p0 and p1; a counter
 * reset starts a new series; the user-error channel; blindness; the one-line
 * explanation.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "degradation.h"
#include "failure_ratio.h"

/* A coordinator's cumulative counters, advanced by hand. */
struct series {
	struct counter_sample now;
};

static void advance(struct series *s, int64_t ms, uint64_t n, uint64_t internal,
                    uint64_t user_errors, uint64_t canceled)
{
	s->now.received_ms += ms;
	s->now.uptime_ms += (uint64_t)ms;
	s->now.completed += n;
	s->now.internal += internal;
	s->now.user_error += user_errors + canceled;
	s->now.canceled += canceled;
	s->now.failed += internal + user_errors + canceled;
}

static void start(struct detector *d, struct series *s, const struct baseline *baseline)
{
	struct watch_settings settings;
	watch_settings_default(&settings);
	detector_start(d, &settings, baseline);
	memset(s, 0, sizeof(*s));
	s->now.received_ms = 1000;
	s->now.uptime_ms = 100000;
	detector_feed(d, &s->now);
}

static const struct baseline clean_baseline = {100000, 100, 500}; /* 0.1 %, user 0.5 % */

static void test_cusum_steps(void **state)
{
	(void)state;
	struct cusum c;
	cusum_init(&c, 0.05, 0.10, 15);
	/* 2 failures of 3 queries: 2 ln 2 + ln(0.9/0.95) */
	assert_false(cusum_add(&c, 3, 2));
	assert_true(c.score > 1.32 && c.score < 1.34);
	/* healthy outcomes pull it back to the floor, and the evidence in view resets */
	for (int i = 0; i < 100; i++)
		cusum_add(&c, 1, 0);
	assert_true(c.score == 0);
	assert_int_equal(c.queries, 0);
	/* grouping does not matter: 40 queries with 20 failures at once or one by one */
	struct cusum a, b;
	cusum_init(&a, 0.05, 0.10, 1e9);
	cusum_init(&b, 0.05, 0.10, 1e9);
	cusum_add(&a, 40, 20);
	for (int i = 0; i < 20; i++) {
		cusum_add(&b, 1, 1);
		cusum_add(&b, 1, 0);
	}
	assert_true(a.score - b.score < 1e-9 && b.score - a.score < 1e-9);
}

static void test_low_traffic_with_a_few_failures_is_not_a_rollback(void **state)
{
	(void)state;
	struct detector d;
	struct series s;
	start(&d, &s, &clean_baseline);
	/* 6 queries a minute for 30 minutes, one internal failure every 10 minutes */
	for (int minute = 0; minute < 30; minute++) {
		for (int second = 0; second < 60; second += 10) {
			bool fail = minute % 10 == 9 && second == 50;
			advance(&s, 10000, 1, fail ? 1 : 0, 0, 0);
			detector_feed(&d, &s.now);
			assert_int_equal(detector_check(&d, true, s.now.received_ms),
			                 VERDICT_HEALTHY);
		}
	}
	/* even two failures in a row at the end are not enough evidence */
	advance(&s, 1000, 2, 2, 0, 0);
	detector_feed(&d, &s.now);
	assert_int_equal(detector_check(&d, true, s.now.received_ms), VERDICT_HEALTHY);
}

/* Queries fed one at a time at RATIO failures until degraded; returns how many it took. */
static int queries_until_degraded(struct detector *d, struct series *s, double ratio, int limit)
{
	double owed = 0;
	for (int q = 1; q <= limit; q++) {
		owed += ratio;
		uint64_t fail = owed >= 1 ? 1 : 0;
		owed -= (double)fail;
		advance(s, 10, 1, fail, 0, 0);
		detector_feed(d, &s->now);
		if (detector_check(d, true, s->now.received_ms) != VERDICT_HEALTHY)
			return q;
	}
	return -1;
}

static void test_a_burst_is_caught_within_a_few_queries(void **state)
{
	(void)state;
	struct detector d;
	struct series s;
	start(&d, &s, &clean_baseline);
	int taken = queries_until_degraded(&d, &s, 0.5, 1000);
	print_message("50 %% failures caught after %d queries\n", taken);
	assert_true(taken > 0 && taken <= 60);
	assert_int_equal(d.verdict, VERDICT_FAILURES);

	/* at 100 qps, reported every second: the first report does it */
	start(&d, &s, &clean_baseline);
	advance(&s, 1000, 100, 50, 0, 0);
	detector_feed(&d, &s.now);
	assert_int_equal(detector_check(&d, true, s.now.received_ms), VERDICT_FAILURES);
}

static void test_a_late_fault_is_caught_as_fast_as_an_early_one(void **state)
{
	(void)state;
	struct detector early, late;
	struct series s_early, s_late;
	start(&early, &s_early, &clean_baseline);
	int at_cutover = queries_until_degraded(&early, &s_early, 0.2, 100000);
	start(&late, &s_late, &clean_baseline);
	/* 20 minutes healthy at 1 % (100 qps) first: the score stays at its floor */
	for (int i = 0; i < 1200; i++) {
		advance(&s_late, 1000, 100, 1, 0, 0);
		detector_feed(&late, &s_late.now);
	}
	assert_int_equal(late.verdict, VERDICT_HEALTHY);
	int after_20_minutes = queries_until_degraded(&late, &s_late, 0.2, 100000);
	print_message("20 %% failures: %d queries at cutover, %d after 20 healthy minutes\n",
	              at_cutover, after_20_minutes);
	assert_true(at_cutover > 0 && after_20_minutes > 0);
	assert_true(after_20_minutes <= at_cutover + 10);
}

static void test_a_bad_baseline_raises_the_tolerated_ratio(void **state)
{
	(void)state;
	struct detector d;
	struct series s;
	/* blue failed 4 % of its queries: p0 = 12 %, p1 = 24 % */
	const struct baseline bad = {100000, 4000, 500};
	start(&d, &s, &bad);
	assert_true(d.failures.p0 > 0.1199 && d.failures.p0 < 0.1201);
	assert_true(d.failures.p1 > 0.2399 && d.failures.p1 < 0.2401);
	/* green at 10 %: worse than the 5 % floor, no worse than blue was; no rollback */
	assert_int_equal(queries_until_degraded(&d, &s, 0.10, 20000), -1);
	/* the same green against a clean blue is rolled back */
	start(&d, &s, &clean_baseline);
	assert_true(queries_until_degraded(&d, &s, 0.10, 20000) > 0);
}

static void test_a_counter_reset_starts_a_new_series(void **state)
{
	(void)state;
	struct detector d;
	struct series s;
	start(&d, &s, &clean_baseline);
	advance(&s, 1000, 1000, 5, 0, 0);
	detector_feed(&d, &s.now);
	/* the coordinator restarted: counters back near 0; no delta is taken across */
	struct counter_sample restarted = s.now;
	restarted.received_ms += 1000;
	restarted.uptime_ms = 500;
	restarted.completed = 3;
	restarted.internal = 0;
	restarted.failed = 0;
	detector_feed(&d, &restarted);
	assert_int_equal(d.series_resets, 1);
	assert_int_equal(detector_check(&d, true, restarted.received_ms), VERDICT_HEALTHY);
	/* and the next deltas count again */
	s.now = restarted;
	advance(&s, 1000, 100, 60, 0, 0);
	detector_feed(&d, &s.now);
	assert_int_equal(detector_check(&d, true, s.now.received_ms), VERDICT_FAILURES);
}

static void test_user_errors_have_their_own_channel(void **state)
{
	(void)state;
	struct detector d;
	struct series s;
	start(&d, &s, &clean_baseline); /* user p0 = max(1 %, 0.5 % x 3) = 1.5 % */
	assert_true(d.user_errors.p0 > 0.0149 && d.user_errors.p0 < 0.0151);
	/* cancels are user errors to Trino, not to us: 40 % cancels is no rollback */
	for (int i = 0; i < 60; i++) {
		advance(&s, 1000, 100, 0, 0, 40);
		detector_feed(&d, &s.now);
	}
	assert_int_equal(detector_check(&d, true, s.now.received_ms), VERDICT_HEALTHY);
	/* 30 % of queries failing with syntax errors after the upgrade is */
	advance(&s, 1000, 100, 0, 30, 0);
	detector_feed(&d, &s.now);
	advance(&s, 1000, 100, 0, 30, 0);
	detector_feed(&d, &s.now);
	assert_int_equal(detector_check(&d, true, s.now.received_ms), VERDICT_USER_ERRORS);
	char line[256];
	detector_explain(&d, line, sizeof(line));
	assert_non_null(strstr(line, "user errors 30.0 % vs tolerated 1.5 %"));
}

static void test_a_watch_that_cannot_see_is_degraded(void **state)
{
	(void)state;
	struct detector d;
	struct series s;
	start(&d, &s, &clean_baseline);
	assert_int_equal(detector_check(&d, false, 10000), VERDICT_HEALTHY);
	assert_int_equal(detector_check(&d, false, 14000), VERDICT_HEALTHY);
	assert_int_equal(detector_check(&d, true, 14500), VERDICT_HEALTHY); /* seen again */
	assert_int_equal(detector_check(&d, false, 15000), VERDICT_HEALTHY);
	assert_int_equal(detector_check(&d, false, 20000), VERDICT_BLIND); /* 5 s blind */
	char line[256];
	detector_explain(&d, line, sizeof(line));
	assert_non_null(strstr(line, "not visible for 5 s"));
	/* the verdict stays: a degraded watch does not heal itself */
	assert_int_equal(detector_check(&d, true, 21000), VERDICT_BLIND);
}

static void test_the_explanation_fits_one_line(void **state)
{
	(void)state;
	struct detector d;
	struct series s;
	start(&d, &s, &clean_baseline);
	advance(&s, 1000, 100, 50, 0, 0);
	detector_feed(&d, &s.now);
	char line[256];
	detector_explain(&d, line, sizeof(line));
	assert_string_equal(line,
	                    "internal+external+insufficient-resources failures 50.0 % vs "
	                    "tolerated 5.0 %, evidence 32.0/15"); /* 50 ln 2 + 50 ln(0.90/0.95) */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_cusum_steps),
	        cmocka_unit_test(test_low_traffic_with_a_few_failures_is_not_a_rollback),
	        cmocka_unit_test(test_a_burst_is_caught_within_a_few_queries),
	        cmocka_unit_test(test_a_late_fault_is_caught_as_fast_as_an_early_one),
	        cmocka_unit_test(test_a_bad_baseline_raises_the_tolerated_ratio),
	        cmocka_unit_test(test_a_counter_reset_starts_a_new_series),
	        cmocka_unit_test(test_user_errors_have_their_own_channel),
	        cmocka_unit_test(test_a_watch_that_cannot_see_is_degraded),
	        cmocka_unit_test(test_the_explanation_fits_one_line),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
