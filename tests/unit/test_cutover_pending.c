/*
 * collector/cutover_pending.c: with [ha], action batches wait for the save
 * that decided them and leave in order once it (or a later save) is in etcd;
 * a full queue drops its oldest batch and says so.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "cutover_pending.h"

static void add(struct cutover_pending *q, const char *cluster, uint64_t seq)
{
	struct cutover_action a = {.kind = ACTION_SWITCH_LB};
	strcpy(a.cluster, cluster);
	assert_int_equal(cutover_pending_add(q, &a, 1, seq), 0);
}

static void test_batches_leave_in_order_with_their_save(void **state)
{
	(void)state;
	struct cutover_pending q = {0};
	struct cutover_pending_batch ready[CUTOVER_PENDING_BATCHES];
	add(&q, "green", 1);
	add(&q, "blue", 2);
	add(&q, "green", 2);
	assert_int_equal(cutover_pending_take(&q, 0, ready), 0);
	assert_int_equal(cutover_pending_take(&q, 1, ready), 1);
	assert_string_equal(ready[0].actions[0].cluster, "green");
	assert_int_equal(q.count, 2);
	/* a later save carries the earlier states with it */
	assert_int_equal(cutover_pending_take(&q, 5, ready), 2);
	assert_string_equal(ready[0].actions[0].cluster, "blue");
	assert_string_equal(ready[1].actions[0].cluster, "green");
	assert_int_equal(q.count, 0);
}

static void test_a_full_queue_drops_its_oldest(void **state)
{
	(void)state;
	struct cutover_pending q = {0};
	struct cutover_action a = {.kind = ACTION_ALERT};
	for (uint64_t i = 1; i <= CUTOVER_PENDING_BATCHES; i++)
		assert_int_equal(cutover_pending_add(&q, &a, 1, i), 0);
	assert_int_equal(cutover_pending_add(&q, &a, 1, 99), -1);
	assert_int_equal(q.count, CUTOVER_PENDING_BATCHES);
	assert_int_equal(q.batches[0].seq, 2);
	assert_int_equal(q.batches[CUTOVER_PENDING_BATCHES - 1].seq, 99);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_batches_leave_in_order_with_their_save),
	        cmocka_unit_test(test_a_full_queue_drops_its_oldest),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
