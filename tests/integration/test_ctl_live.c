/*
 * trino-guardctl commands that go on against a real collector: events
 * --follow prints each new event once and says, one line each, when the
 * collector goes away and when it is back (a restart); status --watch
 * redraws until interrupted and exits 0; with no [lb] driver a cutover and a
 * rollback wait for confirm-switch (status says "switch it by hand now") and
 * nothing says users moved before the operator does.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ctl_fixture.h"
#include "harness.h"

static void test_events_follow_prints_each_event_once_across_a_restart(void **state)
{
	(void)state;
	setenv("TRINO_GUARD_TOKEN_FILE", "api.token", 1);
	post_resume("follow-before");
	unlink("follow.out");
	unlink("follow.err");
	const char *argv[] = {TG_CTL_BIN, "--url",      fx.api,  "events",
	                      "--follow", "--interval", "200ms", NULL};
	pid_t follower = harness_spawn_split(argv, "follow.out", "follow.err");
	assert_true(follower > 0);
	wait_for("follow.out", "follow-before", 1);
	post_resume("follow-while-up");
	wait_for("follow.out", "follow-while-up", 1);

	assert_true(WIFEXITED(harness_stop(fx.collector, 10000)));
	wait_for("follow.err", "lost the collector: GET ", 1);
	assert_int_equal(start_collector(), 0);
	wait_for("follow.err", "answers again", 1);
	post_resume("follow-after-restart");
	wait_for("follow.out", "follow-after-restart", 1);

	int status = harness_stop(follower, 10000);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	char *out = harness_read_file("follow.out");
	char *err = harness_read_file("follow.err");
	assert_non_null(out);
	assert_non_null(err);
	const char *once[] = {"follow-before", "follow-while-up", "follow-after-restart",
	                      "collector-started"};
	for (size_t i = 0; i < sizeof(once) / sizeof(once[0]); i++)
		if (count_in(out, once[i]) != (i == 3 ? 2 : 1))
			fail_msg("'%s' printed %d times:\n%s", once[i], count_in(out, once[i]),
			         out);
	/* one line for the outage, however many looks failed */
	assert_int_equal(count_in(err, "lost the collector"), 1);
	assert_int_equal(count_in(err, "answers again"), 1);
	free(out);
	free(err);
}

static void test_status_watch_redraws_until_interrupted(void **state)
{
	(void)state;
	unlink("watch.out");
	const char *argv[] = {TG_CTL_BIN, "--url",      fx.api,  "status",
	                      "--watch",  "--interval", "200ms", NULL};
	pid_t watcher = harness_spawn_split(argv, "watch.out", "watch.err");
	assert_true(watcher > 0);
	wait_for("watch.out", "trino-guardctl status --watch: ", 3);
	wait_for("watch.out", "CLUSTER      ACTIVE", 3);
	assert_true(harness_alive(watcher));
	kill(watcher, SIGINT);
	int status = harness_wait_exit(watcher, 10000);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

static void test_no_driver_waits_for_the_switch_by_hand(void **state)
{
	(void)state;
	setenv("TRINO_GUARD_TOKEN_FILE", "api.token", 1);
	const char *cutover[] = {"--url", fx.api, "cutover", "--to", "green", "--force", NULL};
	expect_ctl(0, "switch the load balancer from blue to green by hand now", cutover);
	const char *status[] = {"--url", fx.api, "status", NULL};
	expect_ctl(0, "cutover: SWITCHING, active blue", status);
	expect_ctl(0, "NO [lb] DRIVER: switch the load balancer from blue to green by hand now",
	           status);
	/* nothing said users moved before anyone did */
	const char *events[] = {"--url", fx.api, "events", NULL};
	struct run before = ctl(events);
	expect_in(before.out, "switch-by-hand: no [lb] driver: switch the load balancer", "events");
	if (strstr(before.out, "the LB sends users to green") != NULL)
		fail_msg("users said to be on green before the switch:\n%s", before.out);
	run_free(&before);
	const char *wrong[] = {"--url", fx.api, "confirm-switch", "--to", "blue", NULL};
	expect_ctl(2, "the switch awaited is to green, not blue", wrong);

	const char *confirm[] = {
	        "--url", fx.api, "confirm-switch", "--reason", "haproxy map edited", NULL};
	expect_ctl(0, "confirmed by hand: users are on green; watching it", confirm);
	expect_ctl(0, "cutover: WATCHING, active green", status);
	expect_ctl(2, "nothing to confirm: no switch by hand is awaited", confirm);
	struct run after = ctl(events);
	expect_in(after.out, "cutover (confirmed by hand): the LB sends users to green", "events");
	expect_in(after.out, "confirm-switch", "events");
	run_free(&after);

	/* a rollback waits for the switch back the same way */
	const char *rollback[] = {"--url", fx.api, "rollback", "--force", NULL};
	expect_ctl(0, "switch the load balancer from green back to blue by hand", rollback);
	expect_ctl(0, "cutover: ROLLING_BACK, active green", status);
	expect_ctl(0, "confirmed by hand: rolled back, users are on blue again", confirm);
	struct run rolled = ctl(events);
	expect_in(rolled.out, "rolled back (confirmed by hand): the LB sends users to blue again",
	          "events");
	run_free(&rolled);
	expect_ctl(0, "cutover: ROLLED_BACK, active blue", status);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup(test_events_follow_prints_each_event_once_across_a_restart,
	                               no_token),
	        cmocka_unit_test_setup(test_status_watch_redraws_until_interrupted, no_token),
	        cmocka_unit_test_setup(test_no_driver_waits_for_the_switch_by_hand, no_token),
	};
	return cmocka_run_group_tests(tests, ctl_fixture_setup, ctl_fixture_teardown);
}
