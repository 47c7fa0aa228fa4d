/*
 * High availability with real processes: three collectors with [ha] on one
 * real etcd, two HAProxy instances switched as one, trino-sim blue and green
 * with an agent per node reporting to all three. One story, in order: one
 * leader at a time (the others say follower in status and /metrics); a
 * cutover asked of a follower moves both HAProxies; a pause asked of a
 * follower holds the leader (green degrades, nothing moves) until a resume,
 * asked of another follower, lets it roll back; the leader killed -9
 * mid-watch and green degrading: a follower takes over and rolls back; etcd
 * killed mid-watch: no switch while green fails, etcd-unreachable open on
 * every collector, and once etcd is back the watch resumes and rolls back;
 * a map file that cannot be rewritten: the switch is done, with a warning,
 * no false lb-switch-failed and no false external cutover. etcd's auth is
 * on throughout (the collectors log in with [ha] username and
 * password_file, and again after etcd's restart).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <jansson.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ha_stack.h"
#include "harness.h"

static struct ha_stack fx;
static char *dir;

static const struct stack_options options = HA_STACK_OPTIONS;

/* A follower of LEADER: the next live member after it. */
static int follower_of(int leader, int skip)
{
	for (int k = 1; k < HA_MEMBERS; k++) {
		int i = (leader + k) % HA_MEMBERS;
		if (i != skip && harness_alive(fx.members[i].pid))
			return i;
	}
	fail_msg("no follower of %d is alive", leader);
	return -1;
}

/* POSTs BODY to PATH on member I; the status, the answer in OUT (caller frees) unless NULL. */
static long post(int i, const char *path, const char *body, json_t **out)
{
	char url[160];
	snprintf(url, sizeof(url), "%s%s", fx.members[i].api, path);
	const char *headers[] = {"Content-Type: application/json", NULL};
	struct harness_response r;
	harness_http("POST", url, headers, body, 15000, &r);
	if (out != NULL)
		*out = r.body != NULL ? json_loads(r.body, 0, NULL) : NULL;
	long status = r.status;
	harness_response_free(&r);
	return status;
}

static void green_fails(double ratio)
{
	assert_int_equal(ha_stack_green_fails(&fx, ratio), 200);
}

static char *journals(void)
{
	return ha_stack_journals(NULL, NULL);
}

/* Whether member I's status lists an open finding of RULE. */
static bool finding_open(int i, const char *rule)
{
	json_t *status = ha_stack_status(&fx, i);
	json_t *findings = json_object_get(status, "findings");
	bool open = false;
	for (size_t k = 0; k < json_array_size(findings); k++) {
		const char *r =
		        json_string_value(json_object_get(json_array_get(findings, k), "rule"));
		open = open || (r != NULL && strcmp(r, rule) == 0);
	}
	json_decref(status);
	return open;
}

struct finding_goal {
	const char *rule;
	bool on_every_member;
};

static bool finding_everywhere(void *arg)
{
	const struct finding_goal *goal = arg;
	for (int i = 0; i < HA_MEMBERS; i++)
		if (finding_open(i, goal->rule) != goal->on_every_member)
			return false;
	return true;
}

static bool settled(void *arg)
{
	(void)arg;
	int leader = ha_stack_leader(&fx);
	if (leader < 0)
		return false;
	json_t *status = ha_stack_status(&fx, leader);
	bool ok = json_array_size(json_object_get(status, "findings")) == 0 &&
	          !json_is_true(json_object_get(status, "warming_up"));
	json_decref(status);
	return ok;
}

/* Waits until the journals say NEEDLE; false at the deadline. */
static bool journaled(void *arg)
{
	char *all = journals();
	bool found = strstr(all, arg) != NULL;
	free(all);
	return found;
}

/* Green healthy again, a forced cutover to it through member I, both HAProxies on green. */
static void watch_green_through(int i)
{
	green_fails(0);
	assert_true(harness_wait_until(settled, NULL, 30000));
	assert_int_equal(post(i, "/v1/cutover", "{\"to\":\"green\",\"force\":true}", NULL), 202);
	int leader = ha_stack_wait_leader(&fx, 10000);
	assert_true(ha_stack_wait_phase(&fx, leader, "WATCHING", "green", 15000));
	assert_true(ha_stack_wait_maps(&fx, "bk_green", 10000));
}

/* Whether every member's status names *LEADER's id as the leader (followers learn it in turn). */
static bool all_name_the_leader(void *arg)
{
	const char *id = fx.members[*(int *)arg].id;
	bool all = true;
	for (int i = 0; i < HA_MEMBERS && all; i++) {
		json_t *status = ha_stack_status(&fx, i);
		const char *leader =
		        json_string_value(json_object_get(json_object_get(status, "ha"), "leader"));
		all = leader != NULL && strcmp(leader, id) == 0;
		json_decref(status);
	}
	return all;
}

static void test_one_leader_the_others_follow(void **state)
{
	(void)state;
	int leader = ha_stack_wait_leader(&fx, 20000);
	assert_true(leader >= 0);
	assert_true(harness_wait_until(all_name_the_leader, &leader, 10000));
	for (int i = 0; i < HA_MEMBERS; i++) {
		json_t *status = ha_stack_status(&fx, i);
		json_t *ha = json_object_get(status, "ha");
		assert_string_equal(json_string_value(json_object_get(ha, "role")),
		                    i == leader ? "leader" : "follower");
		assert_string_equal(json_string_value(json_object_get(ha, "leader")),
		                    fx.members[leader].id);
		assert_string_equal(json_string_value(json_object_get(ha, "etcd")), "ok");
		json_decref(status);
		assert_true(ha_stack_metric(&fx, i, "trino_guard_ha_enabled") == 1);
		assert_true(ha_stack_metric(&fx, i, "trino_guard_ha_leader") == (i == leader));
		assert_true(ha_stack_metric(&fx, i, "trino_guard_ha_etcd_up") == 1);
	}
	assert_true(harness_wait_until(settled, NULL, 30000));
}

static void test_a_cutover_asked_of_a_follower_moves_both_haproxies(void **state)
{
	(void)state;
	int leader = ha_stack_wait_leader(&fx, 10000);
	int follower = follower_of(leader, -1);
	json_t *answer = NULL;
	assert_int_equal(post(follower, "/v1/cutover", "{\"to\":\"green\"}", &answer), 202);
	assert_string_equal(json_string_value(json_object_get(answer, "carried_out_by")),
	                    fx.members[leader].id);
	json_decref(answer);
	assert_true(ha_stack_wait_maps(&fx, "bk_green", 10000));
	assert_true(ha_stack_wait_phase(&fx, leader, "WATCHING", "green", 10000));
	/* the followers mirror the leader's state from etcd */
	for (int i = 0; i < HA_MEMBERS; i++)
		assert_true(ha_stack_wait_phase(&fx, i, "WATCHING", "green", 5000));
}

static bool held_as_paused(void *arg)
{
	(void)arg;
	char *all = journals();
	bool held = strstr(all, "paused: the LB is not touched") != NULL;
	free(all);
	return held;
}

static void test_a_pause_asked_of_a_follower_holds_the_leader(void **state)
{
	(void)state;
	int leader = ha_stack_wait_leader(&fx, 10000);
	int one = follower_of(leader, -1), other = follower_of(leader, one);
	assert_int_equal(post(one, "/v1/pause", "{\"reason\":\"ha test\"}", NULL), 200);
	json_t *status = ha_stack_status(&fx, leader);
	assert_true(json_is_true(json_object_get(json_object_get(status, "cutover"), "paused")));
	json_decref(status);
	green_fails(0.5);
	/* the leader sees green degrade and holds: the journal says so, both maps stay */
	assert_true(harness_wait_until(held_as_paused, NULL, 20000));
	char a[64], b[64];
	ha_stack_get_map(&fx, 0, a, sizeof(a));
	ha_stack_get_map(&fx, 1, b, sizeof(b));
	assert_string_equal(a, "bk_green");
	assert_string_equal(b, "bk_green");
	assert_int_equal(post(other, "/v1/resume", "{}", NULL), 200);
	assert_true(ha_stack_wait_maps(&fx, "bk_blue", 15000));
	assert_true(ha_stack_wait_phase(&fx, leader, "ROLLED_BACK", "blue", 10000));
}

static void test_the_leader_killed_mid_watch_a_follower_rolls_back(void **state)
{
	(void)state;
	int leader = ha_stack_wait_leader(&fx, 10000);
	watch_green_through(leader);
	harness_kill9(fx.members[leader].pid);
	green_fails(0.5);
	int next = ha_stack_wait_leader(&fx, 15000);
	assert_true(next >= 0);
	assert_int_not_equal(next, leader);
	assert_true(ha_stack_wait_maps(&fx, "bk_blue", 20000));
	assert_true(ha_stack_wait_phase(&fx, next, "ROLLED_BACK", "blue", 10000));
	char *all = journals();
	assert_non_null(strstr(all, "\"type\":\"ha-takeover\""));
	free(all);
	assert_int_equal(ha_stack_start_member(&fx, &options, leader), 0);
}

static bool some_map_moved(void *arg)
{
	(void)arg;
	return !ha_stack_maps_say(&fx, "bk_green");
}

static void test_etcd_down_mid_watch_no_switch_then_the_watch_resumes(void **state)
{
	(void)state;
	int leader = ha_stack_wait_leader(&fx, 15000);
	watch_green_through(leader);
	harness_kill9(fx.etcd.pid);
	green_fails(0.5);
	struct finding_goal goal = {"etcd-unreachable", true};
	assert_true(harness_wait_until(finding_everywhere, &goal, 15000));
	/* degraded long enough to roll back twice over, and nobody switched */
	assert_true(harness_wait_until(
	        journaled, "\"rule\":\"etcd-unreachable\",\"severity\":\"critical\"", 5000));
	assert_false(harness_wait_until(some_map_moved, NULL, 6000));
	assert_int_equal(etcd_server_restart(&fx.etcd), 0);
	assert_true(ha_stack_wait_maps(&fx, "bk_blue", 20000));
	leader = ha_stack_wait_leader(&fx, 10000);
	assert_true(ha_stack_wait_phase(&fx, leader, "ROLLED_BACK", "blue", 10000));
	goal.on_every_member = false;
	assert_true(harness_wait_until(finding_everywhere, &goal, 15000));
}

static void test_an_unwritable_map_file_is_a_switch_done_with_a_warning(void **state)
{
	(void)state;
	char tmp[600];
	snprintf(tmp, sizeof(tmp), "%s/a.map.trino-guard.tmp", fx.sims.dir);
	assert_int_equal(mkdir(tmp, 0700), 0);
	size_t seen[HA_MEMBERS];
	free(ha_stack_journals(NULL, seen));
	int leader = ha_stack_wait_leader(&fx, 10000);
	watch_green_through(follower_of(leader, -1));
	leader = ha_stack_wait_leader(&fx, 10000);
	assert_true(harness_wait_until(journaled, "\"rule\":\"lb-map-file-unwritable\"", 5000));
	assert_true(finding_open(leader, "lb-map-file-unwritable"));
	assert_false(finding_open(leader, "lb-switch-failed"));
	char *since = ha_stack_journals(seen, NULL);
	assert_non_null(strstr(since, "\"rule\":\"lb-map-file-unwritable\""));
	assert_null(strstr(since, "\"name\":\"lb-switch-failed\""));
	assert_null(strstr(since, "\"name\":\"external-cutover\""));
	assert_null(strstr(since, "\"ok\":false"));
	free(since);
	assert_int_equal(rmdir(tmp), 0);
}

static int setup(void **state)
{
	(void)state;
	if (!etcd_server_available()) {
		fprintf(stderr, "test_ha: etcd is not installed (deploy/install-deps.sh)\n");
		return -1;
	}
	dir = harness_tmpdir("tg-ha");
	if (dir == NULL || chdir(dir) != 0)
		return -1;
	if (ha_stack_start(&fx, &options, "2s", true) != 0) {
		fprintf(stderr, "test_ha: the stack did not start (see %s)\n", dir);
		return -1;
	}
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	harness_stop_all();
	if (getenv("TG_KEEP_TMP") == NULL)
		harness_rmrf(dir);
	free(dir);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_one_leader_the_others_follow),
	        cmocka_unit_test(test_a_cutover_asked_of_a_follower_moves_both_haproxies),
	        cmocka_unit_test(test_a_pause_asked_of_a_follower_holds_the_leader),
	        cmocka_unit_test(test_the_leader_killed_mid_watch_a_follower_rolls_back),
	        cmocka_unit_test(test_etcd_down_mid_watch_no_switch_then_the_watch_resumes),
	        cmocka_unit_test(test_an_unwritable_map_file_is_a_switch_done_with_a_warning),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
