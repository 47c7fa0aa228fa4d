/*
 * The cutover state machine without a load-balancer driver ([lb] driver =
 * none): one row per transition. A cutover or a rollback asks people to
 * switch and never switches itself; the confirmation, the LB or the
 * traffic seen on the target ends the wait; a restart reminds; a rollback calls a cutover off;
 * a confirmation with nothing awaited, or with a driver, is refused. And no
 * alert says users moved before they did.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "cutover.h"

#define WATCH (30 * 60 * 1000LL)

struct row {
	const char *name;
	enum cutover_phase from;
	const char *active, *other;
	enum cutover_event_kind event;
	const char *cluster;
	bool with_driver;
	enum verdict verdict;
	enum cutover_phase phase;
	const char *expect_active, *expect_other;
	int status;
	const char *actions; /* "alert:cutover watch:green" */
};

static const struct row rows[] = {
        {"a cutover asks for the switch by hand and switches nothing", PHASE_STEADY, "blue",
         "green", EVENT_CUTOVER, "green", false, VERDICT_HEALTHY, PHASE_SWITCHING, "blue", "green",
         202, "alert:switch-by-hand"},
        {"the confirmation starts the watch", PHASE_SWITCHING, "blue", "green", EVENT_CONFIRM, "",
         false, VERDICT_HEALTHY, PHASE_WATCHING, "green", "blue", 200, "watch:green alert:cutover"},
        {"a confirmation naming the awaited cluster", PHASE_SWITCHING, "blue", "green",
         EVENT_CONFIRM, "green", false, VERDICT_HEALTHY, PHASE_WATCHING, "green", "blue", 200,
         "watch:green alert:cutover"},
        {"a confirmation naming another cluster is a bad request", PHASE_SWITCHING, "blue", "green",
         EVENT_CONFIRM, "blue", false, VERDICT_HEALTHY, PHASE_SWITCHING, "blue", "green", 400, ""},
        {"the LB seen on the target starts the watch", PHASE_SWITCHING, "blue", "green",
         EVENT_LB_OBSERVED, "green", false, VERDICT_HEALTHY, PHASE_WATCHING, "green", "blue", 200,
         "watch:green alert:cutover"},
        {"the LB still on the old cluster: still waiting", PHASE_SWITCHING, "blue", "green",
         EVENT_LB_OBSERVED, "blue", false, VERDICT_HEALTHY, PHASE_SWITCHING, "blue", "green", 200,
         ""},
        {"a restart while waiting reminds and switches nothing", PHASE_SWITCHING, "blue", "green",
         EVENT_RECOVER, "", false, VERDICT_HEALTHY, PHASE_SWITCHING, "blue", "green", 200,
         "alert:switch-by-hand"},
        {"a rollback calls the switch by hand off", PHASE_SWITCHING, "blue", "green",
         EVENT_ROLLBACK, "", false, VERDICT_HEALTHY, PHASE_STEADY, "blue", "green", 200,
         "alert:cutover-called-off"},
        {"another cutover while waiting is refused", PHASE_SWITCHING, "blue", "green",
         EVENT_CUTOVER, "green", false, VERDICT_HEALTHY, PHASE_SWITCHING, "blue", "green", 409, ""},
        {"degraded in the watch: roll back by hand, nothing switched", PHASE_WATCHING, "green",
         "blue", EVENT_TICK, "", false, VERDICT_FAILURES, PHASE_ROLLING_BACK, "green", "blue", 200,
         "alert:rollback"},
        {"a rollback asked for: by hand too", PHASE_WATCHING, "green", "blue", EVENT_ROLLBACK, "",
         false, VERDICT_HEALTHY, PHASE_ROLLING_BACK, "green", "blue", 202, "alert:rollback"},
        {"the rollback confirmed: rolled back", PHASE_ROLLING_BACK, "green", "blue", EVENT_CONFIRM,
         "", false, VERDICT_HEALTHY, PHASE_ROLLED_BACK, "blue", "green", 200, "alert:rolled-back"},
        {"the LB seen back on the old cluster: rolled back", PHASE_ROLLING_BACK, "green", "blue",
         EVENT_LB_OBSERVED, "blue", false, VERDICT_HEALTHY, PHASE_ROLLED_BACK, "blue", "green", 200,
         "alert:rolled-back"},
        {"a restart mid-rollback by hand reminds and switches nothing", PHASE_ROLLING_BACK, "green",
         "blue", EVENT_RECOVER, "", false, VERDICT_HEALTHY, PHASE_ROLLING_BACK, "green", "blue",
         200, "alert:rollback"},
        {"a confirmation with nothing awaited is refused", PHASE_STEADY, "blue", "green",
         EVENT_CONFIRM, "", false, VERDICT_HEALTHY, PHASE_STEADY, "blue", "green", 409, ""},
        {"a confirmation with a driver is refused", PHASE_SWITCHING, "blue", "green", EVENT_CONFIRM,
         "", true, VERDICT_HEALTHY, PHASE_SWITCHING, "blue", "green", 409, ""},
        {"with a driver the cutover switches", PHASE_STEADY, "blue", "green", EVENT_CUTOVER,
         "green", true, VERDICT_HEALTHY, PHASE_SWITCHING, "blue", "green", 202, "switch:green"},
        {"the traffic seen on the target starts the watch", PHASE_SWITCHING, "blue", "green",
         EVENT_TRAFFIC_MOVED, "green", false, VERDICT_HEALTHY, PHASE_WATCHING, "green", "blue", 200,
         "watch:green alert:cutover"},
        {"the traffic seen back on the old cluster: rolled back", PHASE_ROLLING_BACK, "green",
         "blue", EVENT_TRAFFIC_MOVED, "blue", false, VERDICT_HEALTHY, PHASE_ROLLED_BACK, "blue",
         "green", 200, "alert:rolled-back"},
        {"traffic on another cluster than the awaited one: still waiting", PHASE_SWITCHING, "blue",
         "green", EVENT_TRAFFIC_MOVED, "blue", false, VERDICT_HEALTHY, PHASE_SWITCHING, "blue",
         "green", 200, ""},
        {"traffic moving with a driver decides nothing", PHASE_SWITCHING, "blue", "green",
         EVENT_TRAFFIC_MOVED, "green", true, VERDICT_HEALTHY, PHASE_SWITCHING, "blue", "green", 200,
         ""},
        {"traffic moving while steady decides nothing", PHASE_STEADY, "blue", "green",
         EVENT_TRAFFIC_MOVED, "green", false, VERDICT_HEALTHY, PHASE_STEADY, "blue", "green", 200,
         ""},
};

static void describe_actions(const struct cutover_result *r, char *out, size_t len)
{
	out[0] = '\0';
	for (size_t i = 0; i < r->action_count; i++) {
		const struct cutover_action *a = &r->actions[i];
		size_t used = strlen(out);
		const char *kind = a->kind == ACTION_SWITCH_LB ? "switch"
		                   : a->kind == ACTION_ALERT   ? "alert"
		                                               : "watch";
		snprintf(out + used, len - used, "%s%s:%s", i ? " " : "", kind,
		         a->kind == ACTION_ALERT ? a->name : a->cluster);
	}
}

static void step_row(const struct row *row, struct cutover_result *r)
{
	static const struct gate_result gate_ok = {.pass = true};
	struct cutover_state s;
	cutover_state_init(&s, row->active, row->other);
	s.phase = row->from;
	struct cutover_event e = {.kind = row->event, .force = true};
	snprintf(e.cluster, sizeof(e.cluster), "%s", row->cluster);
	snprintf(e.text, sizeof(e.text), "from the test");
	struct cutover_facts f = {
	        .manual_lb = !row->with_driver,
	        .watch_ms = WATCH,
	        .target_known = true,
	        .gate = &gate_ok,
	        .verdict = row->verdict,
	        .previous_healthy = true,
	};
	snprintf(f.explanation, sizeof(f.explanation), "failures 50.0 %% vs 6.0 %%");
	cutover_step(&s, &e, &f, r);
}

static void test_transition_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct row *row = &rows[i];
		struct cutover_result r;
		step_row(row, &r);
		char actions[256];
		describe_actions(&r, actions, sizeof(actions));
		if (r.next.phase != row->phase || strcmp(r.next.active, row->expect_active) != 0 ||
		    strcmp(r.next.other, row->expect_other) != 0 || r.status != row->status ||
		    strcmp(actions, row->actions) != 0)
			fail_msg("row '%s':\n  got      %s(active=%s, other=%s) %d [%s] %s\n"
			         "  expected %s(active=%s, other=%s) %d [%s]",
			         row->name, cutover_phase_name(r.next.phase), r.next.active,
			         r.next.other, r.status, actions, r.answer,
			         cutover_phase_name(row->phase), row->expect_active,
			         row->expect_other, row->status, row->actions);
	}
}

/* What people read: a wait says what to do and never that users moved. */
static void test_what_the_alerts_say(void **state)
{
	(void)state;
	struct cutover_result r;
	step_row(&rows[0], &r);
	assert_int_equal(r.action_count, 1);
	assert_non_null(strstr(r.actions[0].text, "switch the load balancer from blue to green by "
	                                          "hand now"));
	assert_non_null(strstr(r.actions[0].text, "trino-guardctl confirm-switch"));
	assert_null(strstr(r.actions[0].text, "sends users to"));
	assert_non_null(strstr(r.answer, "by hand now"));
	step_row(&rows[1], &r);
	assert_non_null(strstr(r.actions[1].text, "cutover (confirmed by hand): the LB sends users "
	                                          "to green"));
	size_t traffic_rows = 0;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		if (rows[i].event != EVENT_TRAFFIC_MOVED || rows[i].from != PHASE_SWITCHING ||
		    rows[i].with_driver || rows[i].phase != PHASE_WATCHING)
			continue;
		step_row(&rows[i], &r);
		assert_non_null(strstr(r.actions[1].text, "cutover (seen in the traffic: from the "
		                                          "test): the LB sends users to green"));
		traffic_rows++;
	}
	assert_int_equal(traffic_rows, 1);
	/* what else ends the wait, when there is something */
	static const struct gate_result gate_ok = {.pass = true};
	struct cutover_state s;
	cutover_state_init(&s, "blue", "green");
	struct cutover_event e = {.kind = EVENT_CUTOVER, .cluster = "green"};
	struct cutover_facts f = {.manual_lb = true,
	                          .hand_switch_read = true,
	                          .hand_switch_traffic = true,
	                          .watch_ms = WATCH,
	                          .target_known = true,
	                          .gate = &gate_ok};
	cutover_step(&s, &e, &f, &r);
	assert_non_null(strstr(r.actions[0].text, "confirm-switch (POST /v1/cutover/confirm); or "
	                                          "wait: it is seen by itself once the LB read "
	                                          "names green or the traffic moves there; users "
	                                          "stay on blue"));
	f.hand_switch_read = false;
	cutover_step(&s, &e, &f, &r);
	assert_non_null(strstr(r.actions[0].text, "once the traffic moves there; users"));
	step_row(&rows[0], &r);
	assert_null(strstr(r.actions[0].text, "or wait"));
	step_row(&rows[9], &r);
	assert_non_null(
	        strstr(r.actions[0].text, "switch the load balancer from green back to blue"));
	assert_null(strstr(r.actions[0].text, "rolling back from"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_transition_table),
	        cmocka_unit_test(test_what_the_alerts_say),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
