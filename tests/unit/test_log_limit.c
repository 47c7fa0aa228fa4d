/*
 * The per-kind log limiter: a burst passes, the rest of the window is held
 * back and counted, the next window's first line says how many were held.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "log_limit.h"

static void test_a_burst_passes_and_the_rest_is_counted(void **state)
{
	(void)state;
	struct log_limit limit;
	log_limit_init(&limit, 3, 1000);
	uint64_t held = 99;
	for (int i = 0; i < 3; i++) {
		assert_true(log_limit_allow(&limit, 5000 + i, &held));
		assert_int_equal(held, 0);
	}
	for (int i = 0; i < 1000; i++)
		assert_false(log_limit_allow(&limit, 5100, &held));
	assert_int_equal(limit.suppressed_total, 1000);
	/* the window turns: the first line says how many were held back */
	assert_true(log_limit_allow(&limit, 6000, &held));
	assert_int_equal(held, 1000);
	assert_true(log_limit_allow(&limit, 6001, &held));
	assert_int_equal(held, 0);
	assert_int_equal(limit.suppressed_total, 1000);
}

static void test_a_clock_going_back_starts_a_window(void **state)
{
	(void)state;
	struct log_limit limit;
	log_limit_init(&limit, 1, 60000);
	assert_true(log_limit_allow(&limit, 100000, NULL));
	assert_false(log_limit_allow(&limit, 100001, NULL));
	assert_true(log_limit_allow(&limit, 50, NULL));
}

static void test_zero_burst_and_interval_still_let_one_through(void **state)
{
	(void)state;
	struct log_limit limit;
	log_limit_init(&limit, 0, 0);
	assert_true(log_limit_allow(&limit, 7, NULL));
	assert_false(log_limit_allow(&limit, 7, NULL));
	assert_true(log_limit_allow(&limit, 8, NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_a_burst_passes_and_the_rest_is_counted),
	        cmocka_unit_test(test_a_clock_going_back_starts_a_window),
	        cmocka_unit_test(test_zero_burst_and_interval_still_let_one_through),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
