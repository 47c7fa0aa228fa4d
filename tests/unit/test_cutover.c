/*
 * The cutover state machine, one row per transition: gate refused (every
 * failing check listed), cutover, LB failure, watch expiry, degradation ->
 * rollback, rollback refused because the old cluster is unhealthy, manual
 * rollback, a failed rollback retried after a pause, pause and dry run
 * (decision alerted, LB untouched), external cutover, the first sight of the
 * LB, a restart in the middle of a switch or a rollback, force taking over a
 * switch nothing runs any more; and states compared
 * field by field. Sequences of a watch are in test_cutover_watch.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "cutover.h"

#define T0    1795515330000LL
#define WATCH (30 * 60 * 1000LL)

enum { GATE_OK, GATE_FAILS };

/* Times are offsets from T0. A field left out is 0, false, "" or GATE_OK. */
struct row {
	const char *name;
	struct {
		enum cutover_phase phase;
		const char *active, *other;
		bool paused;
		int64_t until_offset; /* the watch's end */
		int64_t retry_offset; /* no rollback attempt before this; 0: none */
	} from;
	struct {
		enum cutover_event_kind kind;
		const char *cluster;
		bool force, ok;
	} event;
	struct {
		int gate;
		enum verdict verdict;
		bool previous_unfit; /* the cluster to fall back on cannot take users */
		bool previous_busy;  /* the drain gate: the old cluster still serves queries */
		bool drain_shutdown; /* the drain action is configured */
		bool dry_run;
		int64_t now_offset;
		bool in_flight;      /* a switch we asked for has not answered */
		const char *standby; /* the first cluster other than the event's */
	} facts;
	struct {
		enum cutover_phase phase;
		const char *active, *other;
		int status;
		const char *actions;  /* "switch:green alert:cutover watch:green", in order */
		int64_t retry_offset; /* the next state's pause; 0: not checked */
	} expect;
};

static const struct row rows[] = {
        {.name = "cutover refused by the gate",
         .from = {.phase = PHASE_STEADY, .active = "blue", .other = "green"},
         .event = {.kind = EVENT_CUTOVER, .cluster = "green"},
         .facts = {.gate = GATE_FAILS},
         .expect = {.phase = PHASE_STEADY, .active = "blue", .other = "green", .status = 409}},
        {.name = "cutover forced past the gate",
         .from = {.phase = PHASE_STEADY, .active = "blue", .other = "green"},
         .event = {.kind = EVENT_CUTOVER, .cluster = "green", .force = true},
         .facts = {.gate = GATE_FAILS},
         .expect = {.phase = PHASE_SWITCHING,
                    .active = "blue",
                    .other = "green",
                    .status = 202,
                    .actions = "switch:green"}},
        {.name = "cutover starts the switch",
         .from = {.phase = PHASE_STEADY, .active = "blue", .other = "green"},
         .event = {.kind = EVENT_CUTOVER, .cluster = "green"},
         .expect = {.phase = PHASE_SWITCHING,
                    .active = "blue",
                    .other = "green",
                    .status = 202,
                    .actions = "switch:green"}},
        {.name = "cutover to the active cluster is a bad request",
         .from = {.phase = PHASE_STEADY, .active = "blue", .other = "green"},
         .event = {.kind = EVENT_CUTOVER, .cluster = "blue"},
         .expect = {.phase = PHASE_STEADY, .active = "blue", .other = "green", .status = 400}},
        {.name = "cutover while paused: alerted, LB untouched",
         .from = {.phase = PHASE_STEADY, .active = "blue", .other = "green", .paused = true},
         .event = {.kind = EVENT_CUTOVER, .cluster = "green"},
         .expect = {.phase = PHASE_STEADY,
                    .active = "blue",
                    .other = "green",
                    .status = 409,
                    .actions = "alert:cutover-held"}},
        {.name = "cutover in dry run: alerted, LB untouched",
         .from = {.phase = PHASE_STEADY, .active = "blue", .other = "green"},
         .event = {.kind = EVENT_CUTOVER, .cluster = "green"},
         .facts = {.dry_run = true},
         .expect = {.phase = PHASE_STEADY,
                    .active = "blue",
                    .other = "green",
                    .status = 409,
                    .actions = "alert:cutover-held"}},
        {.name = "the LB switched: the watch starts",
         .from = {.phase = PHASE_SWITCHING, .active = "blue", .other = "green"},
         .event = {.kind = EVENT_LB_RESULT, .cluster = "green", .ok = true},
         .expect = {.phase = PHASE_WATCHING,
                    .active = "green",
                    .other = "blue",
                    .status = 200,
                    .actions = "watch:green alert:cutover"}},
        {.name = "the LB switch failed: users stay, page",
         .from = {.phase = PHASE_SWITCHING, .active = "blue", .other = "green"},
         .event = {.kind = EVENT_LB_RESULT, .cluster = "green"},
         .expect = {.phase = PHASE_STEADY,
                    .active = "blue",
                    .other = "green",
                    .status = 200,
                    .actions = "alert:lb-switch-failed"}},
        {.name = "a second request during the switch is refused",
         .from = {.phase = PHASE_SWITCHING, .active = "blue", .other = "green"},
         .event = {.kind = EVENT_CUTOVER, .cluster = "green"},
         .expect = {.phase = PHASE_SWITCHING, .active = "blue", .other = "green", .status = 409}},
        {.name = "healthy watch, time left: nothing",
         .from = {.phase = PHASE_WATCHING,
                  .active = "green",
                  .other = "blue",
                  .until_offset = WATCH},
         .event = {.kind = EVENT_TICK},
         .facts = {.now_offset = 60000},
         .expect = {.phase = PHASE_WATCHING, .active = "green", .other = "blue", .status = 200}},
        {.name = "watch expiry: steady with the roles swapped",
         .from = {.phase = PHASE_WATCHING,
                  .active = "green",
                  .other = "blue",
                  .until_offset = WATCH},
         .event = {.kind = EVENT_TICK},
         .facts = {.now_offset = WATCH},
         .expect = {.phase = PHASE_STEADY,
                    .active = "green",
                    .other = "blue",
                    .status = 200,
                    .actions = "alert:stable"}},
        {.name = "watch expiry with the drain action: stable, then blue's workers shut down",
         .from = {.phase = PHASE_WATCHING,
                  .active = "green",
                  .other = "blue",
                  .until_offset = WATCH},
         .event = {.kind = EVENT_TICK},
         .facts = {.now_offset = WATCH, .drain_shutdown = true},
         .expect = {.phase = PHASE_STEADY,
                    .active = "green",
                    .other = "blue",
                    .status = 200,
                    .actions = "alert:stable shutdown:blue"}},
        {.name = "the drain action waits for the drain gate like stable",
         .from = {.phase = PHASE_WATCHING,
                  .active = "green",
                  .other = "blue",
                  .until_offset = WATCH},
         .event = {.kind = EVENT_TICK},
         .facts = {.now_offset = WATCH + 60000, .previous_busy = true, .drain_shutdown = true},
         .expect = {.phase = PHASE_WATCHING, .active = "green", .other = "blue", .status = 200}},
        {.name = "watch expiry while blue still runs queries: no stable yet (drain gate)",
         .from = {.phase = PHASE_WATCHING,
                  .active = "green",
                  .other = "blue",
                  .until_offset = WATCH},
         .event = {.kind = EVENT_TICK},
         .facts = {.now_offset = WATCH + 60000, .previous_busy = true},
         .expect = {.phase = PHASE_WATCHING, .active = "green", .other = "blue", .status = 200}},
        {.name = "degradation: roll back",
         .from = {.phase = PHASE_WATCHING,
                  .active = "green",
                  .other = "blue",
                  .until_offset = WATCH},
         .event = {.kind = EVENT_TICK},
         .facts = {.verdict = VERDICT_FAILURES, .now_offset = 60000},
         .expect = {.phase = PHASE_ROLLING_BACK,
                    .active = "green",
                    .other = "blue",
                    .status = 200,
                    .actions = "switch:blue alert:rollback"}},
        {.name = "blindness is degradation too",
         .from = {.phase = PHASE_WATCHING,
                  .active = "green",
                  .other = "blue",
                  .until_offset = WATCH},
         .event = {.kind = EVENT_TICK},
         .facts = {.verdict = VERDICT_BLIND, .now_offset = 60000},
         .expect = {.phase = PHASE_ROLLING_BACK,
                    .active = "green",
                    .other = "blue",
                    .status = 200,
                    .actions = "switch:blue alert:rollback"}},
        {.name = "degraded but blue unhealthy: no switch, page",
         .from = {.phase = PHASE_WATCHING,
                  .active = "green",
                  .other = "blue",
                  .until_offset = WATCH},
         .event = {.kind = EVENT_TICK},
         .facts = {.verdict = VERDICT_FAILURES, .previous_unfit = true, .now_offset = 60000},
         .expect = {.phase = PHASE_WATCHING,
                    .active = "green",
                    .other = "blue",
                    .status = 200,
                    .actions = "alert:rollback-refused"}},
        {.name = "degraded while paused: page, LB untouched",
         .from = {.phase = PHASE_WATCHING,
                  .active = "green",
                  .other = "blue",
                  .paused = true,
                  .until_offset = WATCH},
         .event = {.kind = EVENT_TICK},
         .facts = {.verdict = VERDICT_FAILURES, .now_offset = 60000},
         .expect = {.phase = PHASE_WATCHING,
                    .active = "green",
                    .other = "blue",
                    .status = 200,
                    .actions = "alert:degraded"}},
        {.name = "degraded in dry run: page, LB untouched",
         .from = {.phase = PHASE_WATCHING,
                  .active = "green",
                  .other = "blue",
                  .until_offset = WATCH},
         .event = {.kind = EVENT_TICK},
         .facts = {.verdict = VERDICT_FAILURES, .dry_run = true, .now_offset = 60000},
         .expect = {.phase = PHASE_WATCHING,
                    .active = "green",
                    .other = "blue",
                    .status = 200,
                    .actions = "alert:degraded"}},
        {.name = "manual rollback",
         .from = {.phase = PHASE_WATCHING,
                  .active = "green",
                  .other = "blue",
                  .until_offset = WATCH},
         .event = {.kind = EVENT_ROLLBACK},
         .facts = {.now_offset = 60000},
         .expect = {.phase = PHASE_ROLLING_BACK,
                    .active = "green",
                    .other = "blue",
                    .status = 202,
                    .actions = "switch:blue alert:rollback"}},
        {.name = "manual rollback into an unhealthy blue is refused",
         .from = {.phase = PHASE_WATCHING,
                  .active = "green",
                  .other = "blue",
                  .until_offset = WATCH},
         .event = {.kind = EVENT_ROLLBACK},
         .facts = {.previous_unfit = true, .now_offset = 60000},
         .expect = {.phase = PHASE_WATCHING, .active = "green", .other = "blue", .status = 409}},
        {.name = "manual rollback forced into an unhealthy blue",
         .from = {.phase = PHASE_WATCHING,
                  .active = "green",
                  .other = "blue",
                  .until_offset = WATCH},
         .event = {.kind = EVENT_ROLLBACK, .force = true},
         .facts = {.previous_unfit = true, .now_offset = 60000},
         .expect = {.phase = PHASE_ROLLING_BACK,
                    .active = "green",
                    .other = "blue",
                    .status = 202,
                    .actions = "switch:blue alert:rollback"}},
        {.name = "rollback switched: rolled back",
         .from = {.phase = PHASE_ROLLING_BACK,
                  .active = "green",
                  .other = "blue",
                  .until_offset = WATCH},
         .event = {.kind = EVENT_LB_RESULT, .cluster = "blue", .ok = true},
         .facts = {.verdict = VERDICT_FAILURES, .now_offset = 61000},
         .expect = {.phase = PHASE_ROLLED_BACK,
                    .active = "blue",
                    .other = "green",
                    .status = 200,
                    .actions = "alert:rolled-back"}},
        {.name = "rollback switch failed: back to watching, retried",
         .from = {.phase = PHASE_ROLLING_BACK,
                  .active = "green",
                  .other = "blue",
                  .until_offset = WATCH},
         .event = {.kind = EVENT_LB_RESULT, .cluster = "blue"},
         .facts = {.verdict = VERDICT_FAILURES, .now_offset = 61000},
         .expect = {.phase = PHASE_WATCHING,
                    .active = "green",
                    .other = "blue",
                    .status = 200,
                    .actions = "alert:lb-switch-failed",
                    .retry_offset = 61000 + CUTOVER_RETRY_MS}},
        {.name = "still degraded within the pause after a failed rollback: no new attempt yet",
         .from = {.phase = PHASE_WATCHING,
                  .active = "green",
                  .other = "blue",
                  .until_offset = WATCH,
                  .retry_offset = 66000},
         .event = {.kind = EVENT_TICK},
         .facts = {.verdict = VERDICT_FAILURES, .now_offset = 65999},
         .expect = {.phase = PHASE_WATCHING, .active = "green", .other = "blue", .status = 200}},
        {.name = "still degraded when the pause is over: the rollback is tried again",
         .from = {.phase = PHASE_WATCHING,
                  .active = "green",
                  .other = "blue",
                  .until_offset = WATCH,
                  .retry_offset = 66000},
         .event = {.kind = EVENT_TICK},
         .facts = {.verdict = VERDICT_FAILURES, .now_offset = 66000},
         .expect = {.phase = PHASE_ROLLING_BACK,
                    .active = "green",
                    .other = "blue",
                    .status = 200,
                    .actions = "switch:blue alert:rollback"}},
        {.name = "a new cutover after a rollback",
         .from = {.phase = PHASE_ROLLED_BACK, .active = "blue", .other = "green"},
         .event = {.kind = EVENT_CUTOVER, .cluster = "green"},
         .expect = {.phase = PHASE_SWITCHING,
                    .active = "blue",
                    .other = "green",
                    .status = 202,
                    .actions = "alert:rollback-over switch:green"}},
        {.name = "rollback with no watch is refused",
         .from = {.phase = PHASE_STEADY, .active = "blue", .other = "green"},
         .event = {.kind = EVENT_ROLLBACK},
         .expect = {.phase = PHASE_STEADY, .active = "blue", .other = "green", .status = 409}},
        {.name = "external cutover: the watch starts anyway",
         .from = {.phase = PHASE_STEADY, .active = "blue", .other = "green"},
         .event = {.kind = EVENT_LB_OBSERVED, .cluster = "green"},
         .expect = {.phase = PHASE_WATCHING,
                    .active = "green",
                    .other = "blue",
                    .status = 200,
                    .actions = "watch:green alert:external-cutover"}},
        {.name = "the LB where it should be: nothing",
         .from = {.phase = PHASE_STEADY, .active = "blue", .other = "green"},
         .event = {.kind = EVENT_LB_OBSERVED, .cluster = "blue"},
         .expect = {.phase = PHASE_STEADY, .active = "blue", .other = "green", .status = 200}},
        {.name = "the LB moved back by hand during the watch",
         .from = {.phase = PHASE_WATCHING,
                  .active = "green",
                  .other = "blue",
                  .until_offset = WATCH},
         .event = {.kind = EVENT_LB_OBSERVED, .cluster = "blue"},
         .facts = {.now_offset = 60000},
         .expect = {.phase = PHASE_ROLLED_BACK,
                    .active = "blue",
                    .other = "green",
                    .status = 200,
                    .actions = "alert:external-rollback"}},
        {.name = "first start: the LB's target becomes active, never an external cutover",
         .from = {.phase = PHASE_STEADY, .active = "", .other = "blue"},
         .event = {.kind = EVENT_LB_OBSERVED, .cluster = "blue"},
         .facts = {.standby = "green"},
         .expect = {.phase = PHASE_STEADY, .active = "blue", .other = "green", .status = 200}},
        {.name = "restart mid-cutover, the LB still on the old cluster: interrupted",
         .from = {.phase = PHASE_SWITCHING, .active = "blue", .other = "green"},
         .event = {.kind = EVENT_RECOVER, .cluster = "blue"},
         .expect = {.phase = PHASE_STEADY,
                    .active = "blue",
                    .other = "green",
                    .status = 200,
                    .actions = "alert:cutover-interrupted"}},
        {.name = "restart mid-cutover, the LB on the target: the switch again",
         .from = {.phase = PHASE_SWITCHING, .active = "blue", .other = "green"},
         .event = {.kind = EVENT_RECOVER, .cluster = "green"},
         .expect = {.phase = PHASE_SWITCHING,
                    .active = "blue",
                    .other = "green",
                    .status = 200,
                    .actions = "switch:green alert:cutover-resumed"}},
        {.name = "restart mid-cutover, the LB unreadable: the switch again",
         .from = {.phase = PHASE_SWITCHING, .active = "blue", .other = "green"},
         .event = {.kind = EVENT_RECOVER, .cluster = ""},
         .expect = {.phase = PHASE_SWITCHING,
                    .active = "blue",
                    .other = "green",
                    .status = 200,
                    .actions = "switch:green alert:cutover-resumed"}},
        {.name = "restart mid-rollback, the LB still on the failed cluster: the rollback again",
         .from = {.phase = PHASE_ROLLING_BACK, .active = "green", .other = "blue"},
         .event = {.kind = EVENT_RECOVER, .cluster = "green"},
         .expect = {.phase = PHASE_ROLLING_BACK,
                    .active = "green",
                    .other = "blue",
                    .status = 200,
                    .actions = "switch:blue alert:rollback-resumed"}},
        {.name = "restart mid-rollback, the LB back already: the switch again settles it",
         .from = {.phase = PHASE_ROLLING_BACK, .active = "green", .other = "blue"},
         .event = {.kind = EVENT_RECOVER, .cluster = "blue"},
         .expect = {.phase = PHASE_ROLLING_BACK,
                    .active = "green",
                    .other = "blue",
                    .status = 200,
                    .actions = "switch:blue alert:rollback-resumed"}},
        {.name = "a forced cutover while our switch runs is refused",
         .from = {.phase = PHASE_SWITCHING, .active = "blue", .other = "green"},
         .event = {.kind = EVENT_CUTOVER, .cluster = "green", .force = true},
         .facts = {.in_flight = true},
         .expect = {.phase = PHASE_SWITCHING, .active = "blue", .other = "green", .status = 409}},
        {.name = "a forced cutover takes over a switch nothing runs",
         .from = {.phase = PHASE_SWITCHING, .active = "blue", .other = "green"},
         .event = {.kind = EVENT_CUTOVER, .cluster = "green", .force = true},
         .expect = {.phase = PHASE_SWITCHING,
                    .active = "blue",
                    .other = "green",
                    .status = 202,
                    .actions = "switch:green"}},
        {.name = "a forced rollback takes over a rollback nothing runs",
         .from = {.phase = PHASE_ROLLING_BACK, .active = "green", .other = "blue"},
         .event = {.kind = EVENT_ROLLBACK, .force = true},
         .expect = {.phase = PHASE_ROLLING_BACK,
                    .active = "green",
                    .other = "blue",
                    .status = 202,
                    .actions = "switch:blue"}},
        {.name = "an LB reading while our switch runs is no news",
         .from = {.phase = PHASE_SWITCHING, .active = "blue", .other = "green"},
         .event = {.kind = EVENT_LB_OBSERVED, .cluster = "blue"},
         .facts = {.in_flight = true},
         .expect = {.phase = PHASE_SWITCHING, .active = "blue", .other = "green", .status = 200}},
};

static const char *text(const char *s)
{
	return s != NULL ? s : "";
}

static void describe_actions(const struct cutover_result *r, char *out, size_t len)
{
	out[0] = '\0';
	for (size_t i = 0; i < r->action_count; i++) {
		const struct cutover_action *a = &r->actions[i];
		size_t used = strlen(out);
		const char *kind = a->kind == ACTION_SWITCH_LB        ? "switch"
		                   : a->kind == ACTION_ALERT          ? "alert"
		                   : a->kind == ACTION_DRAIN_SHUTDOWN ? "shutdown"
		                                                      : "watch";
		snprintf(out + used, len - used, "%s%s:%s", i ? " " : "", kind,
		         a->kind == ACTION_ALERT ? a->name : a->cluster);
	}
}

static void test_transition_table(void **state)
{
	(void)state;
	struct gate_result gate_ok = {.pass = true};
	struct gate_result gate_fails = {
	        .pass = false,
	        .failed_count = 2,
	        .failed = {"mixed-version: green-worker-1 runs 446",
	                   "config-drift: catalog/tpch.properties differs"}};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct row *row = &rows[i];
		struct cutover_state s;
		cutover_state_init(&s, row->from.active, row->from.other);
		s.phase = row->from.phase;
		s.paused = row->from.paused;
		s.since_ms = T0;
		s.until_ms = T0 + row->from.until_offset;
		s.retry_ms = row->from.retry_offset != 0 ? T0 + row->from.retry_offset : 0;
		struct cutover_event e = {
		        .kind = row->event.kind, .force = row->event.force, .ok = row->event.ok};
		snprintf(e.cluster, sizeof(e.cluster), "%s", text(row->event.cluster));
		snprintf(e.text, sizeof(e.text), "%s", "from the test");
		struct cutover_facts f = {
		        .now_ms = T0 + row->facts.now_offset,
		        .dry_run = row->facts.dry_run,
		        .watch_ms = WATCH,
		        .target_known = true,
		        .gate = row->facts.gate == GATE_OK ? &gate_ok : &gate_fails,
		        .verdict = row->facts.verdict,
		        .previous_healthy = !row->facts.previous_unfit,
		        .switch_in_flight = row->facts.in_flight,
		        .previous_busy = row->facts.previous_busy,
		        .drain_shutdown = row->facts.drain_shutdown,
		};
		snprintf(f.standby_of_event, sizeof(f.standby_of_event), "%s",
		         text(row->facts.standby));
		snprintf(f.explanation, sizeof(f.explanation), "failures 50.0 %% vs 6.0 %%");
		snprintf(f.previous_problem, sizeof(f.previous_problem), "no live coordinator");
		struct cutover_result r;
		cutover_step(&s, &e, &f, &r);
		char actions[512];
		describe_actions(&r, actions, sizeof(actions));
		int64_t retry_offset = r.next.retry_ms - T0;
		if (r.next.phase != row->expect.phase ||
		    strcmp(r.next.active, row->expect.active) != 0 ||
		    strcmp(r.next.other, row->expect.other) != 0 ||
		    r.status != row->expect.status ||
		    strcmp(actions, text(row->expect.actions)) != 0 ||
		    (row->expect.retry_offset != 0 && retry_offset != row->expect.retry_offset))
			fail_msg("row '%s':\n  got      %s(active=%s, other=%s) %d [%s] retry %lld "
			         "%s\n"
			         "  expected %s(active=%s, other=%s) %d [%s] retry %lld",
			         row->name, cutover_phase_name(r.next.phase), r.next.active,
			         r.next.other, r.status, actions, (long long)retry_offset, r.answer,
			         cutover_phase_name(row->expect.phase), row->expect.active,
			         row->expect.other, row->expect.status, text(row->expect.actions),
			         (long long)row->expect.retry_offset);
	}
}

static void test_refused_gate_lists_every_check(void **state)
{
	(void)state;
	struct gate_result gate = {.pass = false, .failed_count = 2};
	snprintf(gate.failed[0], sizeof(gate.failed[0]), "mixed-version: x");
	snprintf(gate.failed[1], sizeof(gate.failed[1]), "config-drift: y");
	struct cutover_state s;
	cutover_state_init(&s, "blue", "green");
	struct cutover_event e = {.kind = EVENT_CUTOVER, .cluster = "green"};
	struct cutover_facts f = {.now_ms = T0, .target_known = true, .gate = &gate};
	struct cutover_result r;
	cutover_step(&s, &e, &f, &r);
	assert_int_equal(r.status, 409);
	assert_string_equal(r.answer, "cutover to green refused: 2 check(s) failed");
	assert_false(r.changed);
}

static void test_pause_and_resume(void **state)
{
	(void)state;
	struct cutover_state s;
	cutover_state_init(&s, "blue", "green");
	struct cutover_event pause = {.kind = EVENT_PAUSE}, resume = {.kind = EVENT_RESUME};
	struct cutover_facts f = {.now_ms = T0};
	struct cutover_result r;
	cutover_step(&s, &pause, &f, &r);
	assert_true(r.next.paused);
	assert_true(r.changed);
	/* each is a change the pager hears of, once */
	assert_int_equal(r.action_count, 1);
	assert_string_equal(r.actions[0].name, "pause");
	assert_int_equal(r.actions[0].severity, SEVERITY_INFO);
	struct cutover_state paused = r.next;
	cutover_step(&paused, &pause, &f, &r);
	assert_int_equal(r.action_count, 0);
	cutover_step(&paused, &resume, &f, &r);
	assert_false(r.next.paused);
	assert_int_equal(r.action_count, 1);
	assert_string_equal(r.actions[0].name, "resume");
}

/* A watching state over PADDING bytes, its strings short in longer arrays. */
static void fill_state(struct cutover_state *s, int padding)
{
	memset(s, padding, sizeof(*s));
	s->phase = PHASE_WATCHING;
	snprintf(s->active, sizeof(s->active), "green");
	snprintf(s->other, sizeof(s->other), "blue");
	s->since_ms = T0;
	s->until_ms = T0 + WATCH;
	s->baseline = (struct baseline){.queries = 1000, .failed = 20, .user_errors = 5};
	s->paused = false;
	s->degraded_alerted = true;
	s->retry_ms = T0 + 5000;
	snprintf(s->reason, sizeof(s->reason), "upgrade to 447");
}

/* Flips the lowest bit of the first byte at OFFSET: a different value of any field. */
static void flip(void *object, size_t offset)
{
	((unsigned char *)object)[offset] ^= 1;
}

static void test_states_compare_field_by_field(void **state)
{
	(void)state;
	struct cutover_state a, b;
	fill_state(&a, 0x00);
	fill_state(&b, 0xa5); /* other padding, other bytes after each string's end */
	assert_true(cutover_state_equal(&a, &b));
	static const struct {
		const char *field;
		size_t offset;
	} fields[] = {
	        {"phase", offsetof(struct cutover_state, phase)},
	        {"active", offsetof(struct cutover_state, active)},
	        {"other", offsetof(struct cutover_state, other)},
	        {"since_ms", offsetof(struct cutover_state, since_ms)},
	        {"until_ms", offsetof(struct cutover_state, until_ms)},
	        {"baseline.queries", offsetof(struct cutover_state, baseline.queries)},
	        {"baseline.failed", offsetof(struct cutover_state, baseline.failed)},
	        {"baseline.user_errors", offsetof(struct cutover_state, baseline.user_errors)},
	        {"paused", offsetof(struct cutover_state, paused)},
	        {"degraded_alerted", offsetof(struct cutover_state, degraded_alerted)},
	        {"retry_ms", offsetof(struct cutover_state, retry_ms)},
	        {"reason", offsetof(struct cutover_state, reason)},
	};
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		struct cutover_state changed = b;
		flip(&changed, fields[i].offset);
		if (cutover_state_equal(&a, &changed) || cutover_state_equal(&changed, &a))
			fail_msg("a different %s compares equal", fields[i].field);
	}
	/* a string that is a prefix of the other differs */
	struct cutover_state shorter = b;
	shorter.reason[7] = '\0'; /* "upgrade" */
	assert_false(cutover_state_equal(&a, &shorter));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_transition_table),
	        cmocka_unit_test(test_refused_gate_lists_every_check),
	        cmocka_unit_test(test_pause_and_resume),
	        cmocka_unit_test(test_states_compare_field_by_field),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
