/*
 * rules/leadership.c through whole lives of a lease: grant then campaign,
 * winning and keeping it alive a third of the TTL after each renewal; losing
 * to another holder and trying again; keep-alives that fail until the lease
 * may be gone (the leader stops acting before that, never after); a lease
 * etcd let go; a late answer; etcd silent for a TTL.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "leadership.h"

#define TTL_MS 5000
#define MARGIN 1000

/* A fresh collector "c1" that has won: lease 7 granted by a request sent at 0. */
static void lead(struct leadership *l)
{
	leadership_init(l, "c1", TTL_MS);
	assert_int_equal(leadership_next(l, 0), STEP_GRANT);
	assert_int_equal(leadership_next(l, 1), STEP_NONE); /* one request at a time */
	leadership_granted(l, 7, 5, 0, 10);
	assert_int_equal(leadership_next(l, 10), STEP_CAMPAIGN);
	assert_false(leadership_may_act(l, 10, MARGIN));
	leadership_campaigned(l, true, NULL, 0, 10, 20);
	assert_int_equal(l->role, ROLE_LEADER);
	assert_string_equal(l->leader, "c1");
	assert_int_equal(l->terms, 1);
}

static void test_win_and_renew(void **state)
{
	(void)state;
	struct leadership l;
	lead(&l);
	assert_true(leadership_may_act(&l, 20, MARGIN));
	assert_int_equal(leadership_next(&l, 20), STEP_NONE);
	assert_int_equal(leadership_next(&l, 1666), STEP_NONE);
	assert_int_equal(leadership_next(&l, 1667), STEP_KEEPALIVE); /* a third of 5 s after 0 */
	leadership_renewed(&l, 5, 1667, 1670);
	assert_int_equal(l.lease_until_ms, 6667);
	assert_true(leadership_may_act(&l, 5666, MARGIN));
	assert_int_equal(leadership_next(&l, 3300), STEP_NONE);
	assert_int_equal(leadership_next(&l, 3334), STEP_KEEPALIVE);
}

static void test_keepalives_fail_until_the_lease_may_be_gone(void **state)
{
	(void)state;
	struct leadership l;
	lead(&l);
	int64_t t = 1667;
	for (; t < 5000; t += 200) {
		enum leadership_step step = leadership_next(&l, t);
		if (step == STEP_NONE)
			continue;
		assert_int_equal(step, STEP_KEEPALIVE);
		leadership_failed(&l, "127.0.0.1:2379: connection refused", t + 5);
	}
	assert_string_equal(l.last_error, "127.0.0.1:2379: connection refused");
	/* acts until the margin before 0 + 5 s, not a moment later */
	assert_true(leadership_may_act(&l, 3999, MARGIN));
	assert_false(leadership_may_act(&l, 4000, MARGIN));
	assert_int_equal(l.role, ROLE_LEADER);
	/* past the lease's end it is a follower that needs a new lease */
	assert_int_equal(leadership_next(&l, 5000), STEP_GRANT);
	assert_int_equal(l.role, ROLE_FOLLOWER);
	assert_int_equal(l.lease_id, 0);
	assert_string_equal(l.leader, "");
	assert_false(leadership_may_act(&l, 5000, 0));
}

static void test_a_late_answer_still_counts_from_when_it_was_sent(void **state)
{
	(void)state;
	struct leadership l;
	lead(&l);
	assert_int_equal(leadership_next(&l, 1667), STEP_KEEPALIVE);
	/* no verdict while the keep-alive is out: may_act runs out on its own */
	assert_false(leadership_may_act(&l, 4500, MARGIN));
	leadership_renewed(&l, 5, 1667, 4500);
	assert_true(leadership_may_act(&l, 4500, MARGIN));
	assert_int_equal(l.lease_until_ms, 6667);
}

static void test_lost_to_another_collector(void **state)
{
	(void)state;
	struct leadership l;
	leadership_init(&l, "c2", TTL_MS);
	assert_int_equal(leadership_next(&l, 0), STEP_GRANT);
	leadership_granted(&l, 9, 5, 0, 10);
	assert_int_equal(leadership_next(&l, 10), STEP_CAMPAIGN);
	leadership_campaigned(&l, false, "c1", 7, 10, 20);
	assert_int_equal(l.role, ROLE_FOLLOWER);
	assert_string_equal(l.leader, "c1");
	assert_false(leadership_may_act(&l, 20, 0));
	assert_int_equal(leadership_next(&l, 500), STEP_NONE);
	assert_int_equal(leadership_next(&l, 520), STEP_CAMPAIGN); /* every TTL/10 */
	leadership_campaigned(&l, false, "c1", 7, 520, 530);
	/* its own lease is kept alive too, to be ready to take over */
	assert_int_equal(leadership_next(&l, 1667), STEP_KEEPALIVE);
	leadership_renewed(&l, 5, 1667, 1670);
	assert_int_equal(leadership_next(&l, 2170), STEP_CAMPAIGN);
	leadership_campaigned(&l, true, NULL, 0, 2170, 2180);
	assert_int_equal(l.role, ROLE_LEADER);
	assert_string_equal(l.leader, "c2");
	assert_true(leadership_may_act(&l, 2180, MARGIN));
}

static void test_our_own_lease_holding_the_key_is_a_win(void **state)
{
	(void)state;
	/* the campaign's answer was lost and it was sent again */
	struct leadership l;
	leadership_init(&l, "c1", TTL_MS);
	leadership_next(&l, 0);
	leadership_granted(&l, 7, 5, 0, 10);
	leadership_next(&l, 10);
	leadership_campaigned(&l, false, "c1", 7, 10, 20);
	assert_int_equal(l.role, ROLE_LEADER);
	/* a key of an earlier life of ours, on a lease we no longer renew, is not */
	leadership_init(&l, "c1", TTL_MS);
	leadership_next(&l, 0);
	leadership_granted(&l, 8, 5, 0, 10);
	leadership_next(&l, 10);
	leadership_campaigned(&l, false, "c1", 7, 10, 20);
	assert_int_equal(l.role, ROLE_FOLLOWER);
	assert_false(leadership_may_act(&l, 20, 0));
}

static void test_a_lease_etcd_let_go(void **state)
{
	(void)state;
	struct leadership l;
	lead(&l);
	assert_int_equal(leadership_next(&l, 1667), STEP_KEEPALIVE);
	leadership_renewed(&l, 0, 1667, 1670);
	assert_int_equal(l.role, ROLE_FOLLOWER);
	assert_false(leadership_may_act(&l, 1670, 0));
	assert_string_equal(l.last_error, "etcd says our lease has expired");
	assert_int_equal(leadership_next(&l, 1670), STEP_GRANT);
}

/* A guarded write showed the leader key held by another: we stop leading, whatever our lease says. */
static void test_deposed_by_what_etcd_shows(void **state)
{
	(void)state;
	struct leadership l;
	lead(&l);
	assert_true(leadership_may_act(&l, 100, MARGIN));
	leadership_deposed(&l, "c2", 100);
	assert_false(leadership_may_act(&l, 100, MARGIN));
	assert_int_equal(l.role, ROLE_FOLLOWER);
	assert_string_equal(l.leader, "c2");
	assert_int_equal(leadership_next(&l, 100), STEP_CAMPAIGN); /* the lease is still ours */
	leadership_campaigned(&l, false, "c2", 9, 100, 110);
	assert_false(leadership_may_act(&l, 120, MARGIN));
}

static void test_etcd_silent_for_a_ttl(void **state)
{
	(void)state;
	struct leadership l;
	leadership_init(&l, "c1", TTL_MS);
	assert_false(leadership_etcd_lost(&l, 4999, 0));
	assert_true(leadership_etcd_lost(&l, 5000, 0)); /* never answered since start */
	leadership_next(&l, 5000);
	leadership_granted(&l, 7, 5, 5000, 5010);
	assert_false(leadership_etcd_lost(&l, 10009, 0));
	assert_true(leadership_etcd_lost(&l, 10010, 0));
	/* a refusal is not an answer that counts as etcd being there */
	leadership_failed(&l, "HTTP 503", 10010);
	assert_true(leadership_etcd_lost(&l, 10010, 0));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_win_and_renew),
	        cmocka_unit_test(test_keepalives_fail_until_the_lease_may_be_gone),
	        cmocka_unit_test(test_a_late_answer_still_counts_from_when_it_was_sent),
	        cmocka_unit_test(test_lost_to_another_collector),
	        cmocka_unit_test(test_our_own_lease_holding_the_key_is_a_win),
	        cmocka_unit_test(test_a_lease_etcd_let_go),
	        cmocka_unit_test(test_etcd_silent_for_a_ttl),
	        cmocka_unit_test(test_deposed_by_what_etcd_shows),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
