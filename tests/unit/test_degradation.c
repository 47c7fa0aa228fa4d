/*
 * The degradation detector on synthetic counter series: little traffic with a
 * few failures is no rollback; a burst is caught within a few queries; a late
 * fault as fast as one at cutover; a bad baseline raises p0 and p1; a counter
 * reset starts a new series; the user-error channel; blindness; the one-line
 * explanation; the tolerated ratio; a watched cluster turned incomplete or
 * mixed; checkpoints compared field by field.
 */
#include <math.h>
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

struct p0_case {
	const char *name;
	double max_failure_ratio, baseline_factor;
	struct baseline baseline;
	double expected;
};

static const struct p0_case p0_cases[] = {
        {"a baseline that saw no query: the floor", 0.05, 3, {0, 0, 0}, 0.05},
        {"a clean baseline x factor under the floor: the floor", 0.05, 3, {100000, 100, 0}, 0.05},
        {"baseline 2 % x 2 = 4 % is under a 5 % floor: the floor", 0.05, 2, {1000, 20, 0}, 0.05},
        {"baseline 2 % x 3 = 6 % is above a 5 % floor: baseline x factor",
         0.05,
         3,
         {1000, 20, 0},
         0.06},
        {"a bad baseline raises p0 far above the floor", 0.05, 3, {100000, 4000, 0}, 0.12},
        {"a lower floor lets a clean baseline count", 0.001, 3, {100000, 100, 0}, 0.003},
};

static void test_the_tolerated_ratio(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(p0_cases) / sizeof(p0_cases[0]); i++) {
		const struct p0_case *c = &p0_cases[i];
		struct watch_settings settings;
		watch_settings_default(&settings);
		settings.max_failure_ratio = c->max_failure_ratio;
		settings.baseline_factor = c->baseline_factor;
		double p0 = watch_tolerated_p0(&settings, &c->baseline);
		/* the watch starts from the same p0 the gate is given */
		struct detector d;
		detector_start(&d, &settings, &c->baseline);
		if (fabs(p0 - c->expected) > 1e-12 || fabs(d.failures.p0 - p0) > 1e-12)
			fail_msg("case '%s': p0 %.6f, the detector's %.6f, expected %.6f", c->name,
			         p0, d.failures.p0, c->expected);
	}
}

struct watch_verdict_case {
	const char *name;
	enum verdict detector; /* the detector's own verdict */
	struct {
		enum finding_kind kind;
		const char *cluster; /* NULL: the end of the list */
	} open[4];                   /* the open findings, in key order */
	enum verdict expected;       /* for the watched cluster g */
	const char *why;             /* "": the detector's explanation stands */
};

static const struct watch_verdict_case watch_verdict_cases[] = {
        {"no finding: healthy stays healthy", VERDICT_HEALTHY, {{0}}, VERDICT_HEALTHY, ""},
        {"g turned mixed: blind, in the finding's words",
         VERDICT_HEALTHY,
         {{FINDING_MIXED_VERSION, "g"}},
         VERDICT_BLIND,
         "mixed-version on g"},
        {"g turned incomplete: blind, in the finding's words",
         VERDICT_HEALTHY,
         {{FINDING_CLUSTER_INCOMPLETE, "g"}},
         VERDICT_BLIND,
         "cluster-incomplete on g"},
        {"the other cluster mixed or incomplete: g stays healthy",
         VERDICT_HEALTHY,
         {{FINDING_CLUSTER_INCOMPLETE, "b"}, {FINDING_MIXED_VERSION, "b"}},
         VERDICT_HEALTHY,
         ""},
        {"other findings on g are no blindness",
         VERDICT_HEALTHY,
         {{FINDING_CONFIG_DRIFT, "g"}, {FINDING_NODE_STALE, "g"}, {FINDING_TRINO_DOWN, "g"}},
         VERDICT_HEALTHY,
         ""},
        {"both on g: the first in key order explains",
         VERDICT_HEALTHY,
         {{FINDING_CLUSTER_INCOMPLETE, "g"}, {FINDING_MIXED_VERSION, "g"}},
         VERDICT_BLIND,
         "cluster-incomplete on g"},
        {"the detector's failures verdict stands, with its own explanation",
         VERDICT_FAILURES,
         {{FINDING_MIXED_VERSION, "g"}},
         VERDICT_FAILURES,
         ""},
        {"the detector's user-error verdict stands too",
         VERDICT_USER_ERRORS,
         {{FINDING_CLUSTER_INCOMPLETE, "g"}},
         VERDICT_USER_ERRORS,
         ""},
};

static void test_a_watched_cluster_turned_incomplete_or_mixed_is_degraded(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(watch_verdict_cases) / sizeof(watch_verdict_cases[0]); i++) {
		const struct watch_verdict_case *c = &watch_verdict_cases[i];
		struct finding items[4];
		struct finding_list findings = {items, 0, 4};
		for (size_t k = 0; k < 4 && c->open[k].cluster != NULL; k++) {
			struct finding *f = &items[findings.count++];
			memset(f, 0, sizeof(*f));
			f->kind = c->open[k].kind;
			snprintf(f->cluster, sizeof(f->cluster), "%s", c->open[k].cluster);
			snprintf(f->summary, sizeof(f->summary), "%s on %s",
			         finding_kind_name(c->open[k].kind), c->open[k].cluster);
		}
		char why[256] = "";
		enum verdict got = watch_verdict(c->detector, &findings, "g", why, sizeof(why));
		if (got != c->expected || strcmp(why, c->why) != 0)
			fail_msg("case '%s': got verdict %d '%s', expected %d '%s'", c->name, got,
			         why, c->expected, c->why);
	}
}

/* Flips the lowest bit of the first byte at OFFSET: a different value of any scalar field. */
static void flip(void *object, size_t offset)
{
	((unsigned char *)object)[offset] ^= 1;
}

/* The same evidence over PADDING bytes. */
static void fill_checkpoint(struct detector_checkpoint *c, int padding)
{
	memset(c, padding, sizeof(*c));
	c->present = true;
	c->failure_score = 12.5;
	c->user_score = 0.75;
	c->failure_queries = 400;
	c->failure_failed = 90;
	c->user_queries = 400;
	c->user_failed = 3;
	c->verdict = VERDICT_FAILURES;
}

static void test_checkpoints_compare_field_by_field(void **state)
{
	(void)state;
	struct detector_checkpoint a, b;
	fill_checkpoint(&a, 0x00);
	fill_checkpoint(&b, 0xa5);
	assert_true(detector_checkpoint_equal(&a, &b)); /* padding is no evidence */
	static const struct {
		const char *field;
		size_t offset;
	} fields[] = {
	        {"present", offsetof(struct detector_checkpoint, present)},
	        {"failure_score", offsetof(struct detector_checkpoint, failure_score)},
	        {"user_score", offsetof(struct detector_checkpoint, user_score)},
	        {"failure_queries", offsetof(struct detector_checkpoint, failure_queries)},
	        {"failure_failed", offsetof(struct detector_checkpoint, failure_failed)},
	        {"user_queries", offsetof(struct detector_checkpoint, user_queries)},
	        {"user_failed", offsetof(struct detector_checkpoint, user_failed)},
	        {"verdict", offsetof(struct detector_checkpoint, verdict)},
	};
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		struct detector_checkpoint changed = b;
		flip(&changed, fields[i].offset);
		if (detector_checkpoint_equal(&a, &changed) ||
		    detector_checkpoint_equal(&changed, &a))
			fail_msg("a different %s compares equal", fields[i].field);
	}
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
	        cmocka_unit_test(test_the_tolerated_ratio),
	        cmocka_unit_test(test_a_watched_cluster_turned_incomplete_or_mixed_is_degraded),
	        cmocka_unit_test(test_checkpoints_compare_field_by_field),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
