/*
 * Unit tests of Trino version ordering: one row per pair.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "version.h"

struct order_case {
	const char *older;
	const char *newer;
};

static const struct order_case order_cases[] = {
        {"446", "447"},
        {"99", "447"},           /* numeric, not lexical */
        {"447-SNAPSHOT", "447"}, /* a snapshot precedes its release */
        {"447", "448-SNAPSHOT"},
        {"354", "354-161-g84416f6"}, /* git describe: commits after the tag */
        {"354-12-gabc", "354-161-g84416f6"},
        {"423-e", "423-e.3"},    /* Starburst STS before its LTS patches */
        {"423-e.3", "423-e.10"}, /* patch numbers compare as numbers */
        {"413-e.10", "423-e.3"},
        {"<unknown>", "1"}, /* no number sorts lowest */
        {"", "<unknown>"},
};

static void test_ordering_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(order_cases) / sizeof(order_cases[0]); i++) {
		const struct order_case *c = &order_cases[i];
		if (version_compare(c->older, c->newer) >= 0)
			fail_msg("'%s' should be older than '%s'", c->older, c->newer);
		if (version_compare(c->newer, c->older) <= 0)
			fail_msg("'%s' should be newer than '%s'", c->newer, c->older);
	}
}

static void test_equal_and_major(void **state)
{
	(void)state;
	assert_int_equal(version_compare("447", "447"), 0);
	assert_int_equal(version_compare("423-e.3", "423-e.3"), 0);
	assert_int_equal(version_major("423-e.3"), 423);
	assert_int_equal(version_major("448-SNAPSHOT"), 448);
	assert_int_equal(version_major("<unknown>"), -1);
	assert_int_equal(version_major(""), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_ordering_table),
	        cmocka_unit_test(test_equal_and_major),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
