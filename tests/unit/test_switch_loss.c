/*
 * rules/switch_loss.c: a switch's loss is the old coordinator's
 * AbandonedQueries delta over the settle window, one step per row; a
 * coordinator restart keeps what it counted, samples after the window do
 * not count, a missing first sample is taken when it comes, a second switch
 * away from the same cluster takes over its counting without counting any
 * query twice, and a full book reuses a settled slot first.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "switch_loss.h"

#define SETTLE 360000 /* 6 min */

static struct counter_sample sample(uint64_t abandoned, int64_t received_ms)
{
	return (struct counter_sample){.received_ms = received_ms, .abandoned = abandoned};
}

/* One observation: blue's newest sample (abandoned < 0: none) at AT_MS, and what it shows. */
static const struct {
	const char *name;
	int64_t abandoned; /* -1: no sample */
	int64_t received_ms, at_ms;
	uint64_t lost;
	bool settles_now;
} steps[] = {
        {"no query abandoned yet", 40, 1000, 1000, 0, false},
        {"no sample this tick: unchanged", -1, 0, 2000, 0, false},
        {"the client timeout fires for 3", 43, 300000, 300000, 3, false},
        {"the coordinator restarts: its 3 are kept", 0, 310000, 310000, 3, false},
        {"the new JVM abandons 2", 2, 320000, 320000, 5, false},
        {"a sample received after the window does not count", 9, SETTLE + 1, SETTLE + 1, 5, true},
        {"settled once: later calls change nothing", 20, SETTLE + 2, SETTLE + 2, 5, false},
};

static void test_switch_loss_steps(void **state)
{
	(void)state;
	struct switch_loss_book book;
	switch_loss_book_init(&book);
	assert_null(switch_loss_latest(&book));
	struct counter_sample at_switch = sample(40, 0);
	struct switch_loss *e = switch_loss_begin(&book, "blue", "green", false, &at_switch, SETTLE,
	                                          0, 1700000000000);
	assert_ptr_equal(switch_loss_latest(&book), e);
	assert_string_equal(e->from, "blue");
	assert_string_equal(e->to, "green");
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		print_message("%s\n", steps[i].name);
		struct counter_sample s =
		        sample((uint64_t)steps[i].abandoned, steps[i].received_ms);
		bool settled =
		        switch_loss_observe(e, steps[i].abandoned >= 0 ? &s : NULL, steps[i].at_ms);
		assert_int_equal(settled, steps[i].settles_now);
		assert_int_equal(e->lost_queries, steps[i].lost);
	}
	assert_true(e->settled);
	assert_false(e->cut_short);
}

/* The old coordinator was not reporting at the switch: its first sample is the baseline. */
static void test_switch_loss_baseline_later(void **state)
{
	(void)state;
	struct switch_loss_book book;
	switch_loss_book_init(&book);
	struct switch_loss *e = switch_loss_begin(&book, "green", "blue", true, NULL, SETTLE, 0, 0);
	assert_true(e->rollback);
	assert_false(e->baseline_known);
	struct counter_sample s = sample(7, 5000);
	assert_false(switch_loss_observe(e, &s, 5000));
	assert_int_equal(e->lost_queries, 0);
	s = sample(15, 6000);
	assert_false(switch_loss_observe(e, &s, 6000));
	assert_int_equal(e->lost_queries, 8);
}

/*
 * blue -> green, green -> blue, blue -> green within one window: the first
 * switch's count ends at the third, which counts blue's later abandons; the
 * rollback counts green's on its own.
 */
static void test_switch_loss_second_switch_takes_over(void **state)
{
	(void)state;
	struct switch_loss_book book;
	switch_loss_book_init(&book);
	struct counter_sample blue = sample(10, 0), green = sample(100, 0);
	struct switch_loss *first =
	        switch_loss_begin(&book, "blue", "green", false, &blue, SETTLE, 0, 0);
	struct switch_loss *back =
	        switch_loss_begin(&book, "green", "blue", true, &green, SETTLE, 1000, 1000);
	blue = sample(12, 2000);
	(void)switch_loss_observe(first, &blue, 2000);
	struct switch_loss *again =
	        switch_loss_begin(&book, "blue", "green", false, &blue, SETTLE, 3000, 3000);
	assert_true(first->cut_short);
	assert_false(back->cut_short);
	/* the first settles at its next look, with what it had at the third switch */
	blue = sample(20, 4000);
	assert_true(switch_loss_observe(first, &blue, 4000));
	assert_int_equal(first->lost_queries, 2);
	assert_false(switch_loss_observe(again, &blue, 4000));
	assert_int_equal(again->lost_queries, 8);
	green = sample(101, 4000);
	assert_false(switch_loss_observe(back, &green, 4000));
	assert_int_equal(back->lost_queries, 1);
	assert_ptr_equal(switch_loss_latest(&book), again);
}

/* A full book reuses the oldest settled slot, else the oldest. */
static void test_switch_loss_full_book(void **state)
{
	(void)state;
	struct switch_loss_book book;
	switch_loss_book_init(&book);
	char name[16];
	for (int i = 0; i < SWITCH_LOSS_SLOTS; i++) {
		snprintf(name, sizeof(name), "c%d", i);
		(void)switch_loss_begin(&book, name, "x", false, NULL, SETTLE, i, i);
	}
	(void)switch_loss_observe(&book.entries[5], NULL, SETTLE + 5);
	assert_true(book.entries[5].settled);
	struct switch_loss *e = switch_loss_begin(&book, "new", "x", false, NULL, SETTLE, 100, 100);
	assert_ptr_equal(e, &book.entries[5]);
	e = switch_loss_begin(&book, "newer", "x", false, NULL, SETTLE, 200, 200);
	assert_ptr_equal(e, &book.entries[0]);
	assert_string_equal(e->from, "newer");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_switch_loss_steps),
	        cmocka_unit_test(test_switch_loss_baseline_later),
	        cmocka_unit_test(test_switch_loss_second_switch_takes_over),
	        cmocka_unit_test(test_switch_loss_full_book),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
