/*
 * The split of finished queries into disjoint outcomes behind
 * trino_guard_queries_total{cluster,outcome}: one row per case, each saying
 * which counters moved and what every outcome must have gained.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "failure_ratio.h"

struct outcome_case {
	const char *name;
	struct counter_sample from, to;
	uint64_t expected[QUERY_OUTCOME_COUNT];
};

/* completed, failed, user_error, internal, external, insufficient, canceled, abandoned */
#define SAMPLE(c, f, u, i, e, r, x, a)                                                             \
	{                                                                                          \
		.completed = (c), .failed = (f), .user_error = (u), .internal = (i),               \
		.external = (e), .insufficient_resources = (r), .canceled = (x), .abandoned = (a)  \
	}

static const struct outcome_case cases[] = {
        {"no traffic adds nothing",
         SAMPLE(10, 2, 1, 1, 0, 0, 0, 0),
         SAMPLE(10, 2, 1, 1, 0, 0, 0, 0),
         {0}},
        {"successes are completed minus failed",
         SAMPLE(10, 2, 1, 1, 0, 0, 0, 0),
         SAMPLE(110, 2, 1, 1, 0, 0, 0, 0),
         {[QUERY_SUCCEEDED] = 100}},
        {"each failure type lands in its own outcome",
         SAMPLE(0, 0, 0, 0, 0, 0, 0, 0),
         SAMPLE(20, 10, 4, 3, 2, 1, 0, 0),
         {[QUERY_SUCCEEDED] = 10,
          [QUERY_USER_ERROR] = 4,
          [QUERY_INTERNAL_ERROR] = 3,
          [QUERY_EXTERNAL_ERROR] = 2,
          [QUERY_INSUFFICIENT_RESOURCES] = 1}},
        {"canceled and abandoned are taken out of user errors",
         SAMPLE(0, 0, 0, 0, 0, 0, 0, 0),
         SAMPLE(10, 6, 6, 0, 0, 0, 3, 2),
         {[QUERY_SUCCEEDED] = 4,
          [QUERY_USER_ERROR] = 1,
          [QUERY_CANCELED] = 3,
          [QUERY_ABANDONED] = 2}},
        {"counters read a moment apart never wrap",
         SAMPLE(0, 0, 0, 0, 0, 0, 0, 0),
         SAMPLE(3, 5, 1, 4, 0, 0, 2, 0),
         {[QUERY_USER_ERROR] = 0, [QUERY_CANCELED] = 2, [QUERY_INTERNAL_ERROR] = 4}},
};

static void test_outcomes_by_case(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint64_t totals[QUERY_OUTCOME_COUNT] = {0};
		query_outcomes_add(&cases[i].from, &cases[i].to, totals);
		for (int o = 0; o < QUERY_OUTCOME_COUNT; o++)
			if (totals[o] != cases[i].expected[o])
				fail_msg("%s: %s is %llu, expected %llu", cases[i].name,
				         query_outcome_name((enum query_outcome)o),
				         (unsigned long long)totals[o],
				         (unsigned long long)cases[i].expected[o]);
	}
}

static void test_outcomes_accumulate_and_are_named(void **state)
{
	(void)state;
	uint64_t totals[QUERY_OUTCOME_COUNT] = {0};
	struct counter_sample a = SAMPLE(0, 0, 0, 0, 0, 0, 0, 0);
	struct counter_sample b = SAMPLE(5, 1, 0, 1, 0, 0, 0, 0);
	struct counter_sample c = SAMPLE(9, 1, 0, 1, 0, 0, 0, 0);
	query_outcomes_add(&a, &b, totals);
	query_outcomes_add(&b, &c, totals);
	assert_int_equal(totals[QUERY_SUCCEEDED], 8);
	assert_int_equal(totals[QUERY_INTERNAL_ERROR], 1);
	assert_string_equal(query_outcome_name(QUERY_SUCCEEDED), "succeeded");
	assert_string_equal(query_outcome_name(QUERY_INSUFFICIENT_RESOURCES),
	                    "insufficient_resources");
	assert_string_equal(query_outcome_name(QUERY_OUTCOME_COUNT), "?");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_outcomes_by_case),
	        cmocka_unit_test(test_outcomes_accumulate_and_are_named),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
