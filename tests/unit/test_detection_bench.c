/*
 * The detection benchmark's own parts, so its figures rest on checked ground:
 * the Poisson draws have their law's mean and variance, the window rule's
 * statistic says what rules/'s Wilson interval says, the Bayes factor is the
 * mixture's integral, Flagger checks only at its interval, and every rule
 * speaks on a plain fault.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>

#include "detection_rules.h"
#include "detection_traffic.h"
#include "failure_ratio.h"

static const double faults[FAULT_COUNT] = {0.09, 0.12, 0.10, 0.50};

/* Sample mean and variance of many draws, against the law's (both equal the mean). */
static void poisson_has_its_moments(void **state)
{
	(void)state;
	const double means[] = {0.02, 0.6, 5, 9.99, 10, 60, 940};
	struct random_stream stream = {42};
	for (size_t m = 0; m < sizeof(means) / sizeof(means[0]); m++) {
		struct poisson_law law;
		poisson_law_init(&law, means[m]);
		const int draws = 200000;
		double sum = 0, squares = 0;
		for (int i = 0; i < draws; i++) {
			double k = (double)poisson_draw(&law, &stream);
			sum += k;
			squares += k * k;
		}
		double mean = sum / draws, variance = squares / draws - mean * mean;
		/* five standard errors of the mean; the variance within 3 % (+ a floor) */
		double tolerance = 5 * sqrt(means[m] / draws);
		if (fabs(mean - means[m]) > tolerance ||
		    fabs(variance - means[m]) > 0.03 * means[m] + 0.002)
			fail_msg("mean %g: drew mean %g, variance %g", means[m], mean, variance);
	}
}

static void window_statistic_is_wilson(void **state)
{
	(void)state;
	const double p0 = 0.06, zs[] = {WILSON_Z_99, 4.0, 5.5};
	for (uint64_t n = 1; n <= 400; n += 3) {
		for (uint64_t f = 0; f <= n; f++) {
			for (size_t i = 0; i < sizeof(zs) / sizeof(zs[0]); i++) {
				double lower, upper;
				wilson_interval(n, f, zs[i], &lower, &upper);
				double z = window_score_statistic(n, f, p0);
				/* equal up to rounding: skip the knife's edge */
				if (fabs(z - zs[i]) < 1e-9)
					continue;
				if ((lower > p0) != (z > zs[i]))
					fail_msg("n %llu f %llu z %g: lower %g, statistic %g",
					         (unsigned long long)n, (unsigned long long)f,
					         zs[i], lower, z);
			}
		}
	}
	assert_true(isinf(window_score_statistic(0, 0, p0)));
}

/* The integral of the Beta(1, (1-p0)/p0) prior times the likelihood ratio, by Simpson's rule. */
static double mixture_by_integration(double p0, double n, double f)
{
	double a = 1, b = (1 - p0) / p0;
	double norm = exp(lgamma(a) + lgamma(b) - lgamma(a + b));
	const int steps = 200000;
	double sum = 0;
	for (int i = 0; i <= steps; i++) {
		double p = (i + 0.5) / (steps + 1.0);
		double weight = (i == 0 || i == steps) ? 1 : (i % 2 ? 4 : 2);
		double log_ratio = f * log(p / p0) + (n - f) * log((1 - p) / (1 - p0));
		sum += weight * exp(log_ratio + (a - 1) * log(p) + (b - 1) * log(1 - p)) / norm;
	}
	return sum / (3.0 * (steps + 1.0));
}

static void bayes_factor_is_the_mixture(void **state)
{
	(void)state;
	struct rule_states states;
	assert_int_equal(rule_states_init(&states, 1.0, 0.06, 0.12, 15, faults), 0);
	struct rule_statistics s;
	rule_states_step(&states, 40, 9, &s);
	double expected = log(mixture_by_integration(0.06, 40, 9));
	assert_true(fabs(s.bayes_log - expected) < 1e-3);
	/* one-sided: at or below p0 it says nothing */
	rule_states_reset(&states);
	rule_states_step(&states, 100, 6, &s);
	assert_true(isinf(s.bayes_log) && s.bayes_log < 0);
	rule_states_cleanup(&states);
}

static void flagger_checks_at_its_interval(void **state)
{
	(void)state;
	struct rule_states states;
	assert_int_equal(rule_states_init(&states, 0.2, 0.06, 0.12, 15, faults), 0);
	struct rule_statistics s;
	int checks = 0;
	for (int step = 1; step <= 400; step++) { /* 80 s of reports every 200 ms */
		rule_states_step(&states, 10, step <= 100 ? 1 : 0, &s);
		if (!isinf(s.flagger_check)) {
			checks++;
			assert_int_equal(step % (FLAGGER_EVERY_S * 5), 0);
			if (step == 50) /* the first 10 s: 50 reports, 50 failed of 500 */
				assert_true(fabs(s.flagger_check - 0.1) < 1e-12);
			if (step == 400) /* the last 60 s: 300 reports, none failed */
				assert_true(s.flagger_check == 0);
		}
	}
	assert_int_equal(checks, 8);
	rule_states_cleanup(&states);
}

static void every_rule_speaks_on_a_plain_fault(void **state)
{
	(void)state;
	struct rule_states states;
	assert_int_equal(rule_states_init(&states, 1.0, 0.06, 0.12, 15, faults), 0);
	struct rule_statistics s = {0};
	for (int step = 0; step < 120; step++)
		rule_states_step(&states, 100, 50, &s);
	assert_true(s.ours_fired);
	assert_true(s.flagger_check > 0.4 || isinf(s.flagger_check));
	assert_true(s.window_held > 10);
	assert_true(s.bayes_log > 100);
	assert_true(s.oracle_score[3] > 1000);
	assert_true(fabs(bernoulli_kl(0.12, 0.06) - 0.02521) < 1e-4);
	rule_states_cleanup(&states);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(poisson_has_its_moments),
	        cmocka_unit_test(window_statistic_is_wilson),
	        cmocka_unit_test(bayes_factor_is_the_mixture),
	        cmocka_unit_test(flagger_checks_at_its_interval),
	        cmocka_unit_test(every_rule_speaks_on_a_plain_fault),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
