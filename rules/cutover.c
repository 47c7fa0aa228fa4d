/*
 * The cutover state machine. One function per phase; each event either
 * moves the state, answers a request, or changes nothing. Actions are
 * described, never carried out here.
 */
#include "cutover.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "text_cut.h"

const char *cutover_phase_name(enum cutover_phase phase)
{
	static const char *const names[] = {"STEADY", "SWITCHING", "WATCHING", "ROLLING_BACK",
	                                    "ROLLED_BACK"};
	return (unsigned)phase < 5 ? names[phase] : "UNKNOWN";
}

void cutover_state_init(struct cutover_state *state, const char *active, const char *standby)
{
	memset(state, 0, sizeof(*state));
	state->phase = PHASE_STEADY;
	snprintf(state->active, sizeof(state->active), "%s", active != NULL ? active : "");
	snprintf(state->other, sizeof(state->other), "%s", standby != NULL ? standby : "");
}

/* Strings up to their end, the rest by value: a new field of the state needs its line here. */
bool cutover_state_equal(const struct cutover_state *a, const struct cutover_state *b)
{
	return a->phase == b->phase && strcmp(a->active, b->active) == 0 &&
	       strcmp(a->other, b->other) == 0 && a->since_ms == b->since_ms &&
	       a->until_ms == b->until_ms && a->baseline.queries == b->baseline.queries &&
	       a->baseline.failed == b->baseline.failed &&
	       a->baseline.user_errors == b->baseline.user_errors && a->paused == b->paused &&
	       a->degraded_alerted == b->degraded_alerted && a->retry_ms == b->retry_ms &&
	       strcmp(a->reason, b->reason) == 0;
}

static void answer(struct cutover_result *r, int status, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

static void answer(struct cutover_result *r, int status, const char *fmt, ...)
{
	r->status = status;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r->answer, sizeof(r->answer), fmt, ap);
	va_end(ap);
	text_cut_partial(r->answer);
}

static struct cutover_action *act(struct cutover_result *r, enum cutover_action_kind kind,
                                  const char *cluster)
{
	if (r->action_count == CUTOVER_MAX_ACTIONS)
		return NULL;
	struct cutover_action *a = &r->actions[r->action_count++];
	memset(a, 0, sizeof(*a));
	a->kind = kind;
	snprintf(a->cluster, sizeof(a->cluster), "%s", cluster);
	return a;
}

static void alert(struct cutover_result *r, enum severity severity, const char *name,
                  const char *cluster, const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void alert(struct cutover_result *r, enum severity severity, const char *name,
                  const char *cluster, const char *fmt, ...)
{
	struct cutover_action *a = act(r, ACTION_ALERT, cluster);
	if (a == NULL)
		return;
	a->severity = severity;
	snprintf(a->name, sizeof(a->name), "%s", name);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(a->text, sizeof(a->text), fmt, ap);
	va_end(ap);
	text_cut_partial(a->text);
}

static void move(struct cutover_result *r, enum cutover_phase phase, const char *active,
                 const char *other)
{
	char a[CUTOVER_NAME_LEN], o[CUTOVER_NAME_LEN];
	snprintf(a, sizeof(a), "%s", active); /* the arguments may point into r->next */
	snprintf(o, sizeof(o), "%s", other);
	r->next.phase = phase;
	snprintf(r->next.active, sizeof(r->next.active), "%s", a);
	snprintf(r->next.other, sizeof(r->next.other), "%s", o);
}

static bool holding_back(const struct cutover_state *s, const struct cutover_facts *f)
{
	return s->paused || f->dry_run;
}

static void start_watch(struct cutover_result *r, const char *active, const char *previous,
                        const struct cutover_facts *f, const struct baseline *baseline)
{
	move(r, PHASE_WATCHING, active, previous);
	r->next.since_ms = f->now_ms;
	r->next.until_ms = f->now_ms + f->watch_ms;
	r->next.baseline = *baseline;
	r->next.degraded_alerted = false;
	r->next.retry_ms = 0;
	act(r, ACTION_START_WATCH, active);
}

#define CONFIRM_HINT "then run trino-guardctl confirm-switch (POST /v1/cutover/confirm)"

/* "; or wait: it is seen by itself once ..." for what else ends a wait for TO; "" if nothing. */
static void hand_switch_also(const struct cutover_facts *f, const char *to, char *out,
                             size_t out_len)
{
	if (!f->hand_switch_read && !f->hand_switch_traffic)
		return;
	snprintf(out, out_len, "; or wait: it is seen by itself once %s%s%s",
	         f->hand_switch_read ? "the LB read names " : "", f->hand_switch_read ? to : "",
	         !f->hand_switch_traffic ? ""
	         : f->hand_switch_read   ? " or the traffic moves there"
	                                 : "the traffic moves there");
}

/*
 * No driver: nobody but the operator can move users, so the cutover waits
 * in SWITCHING and says so; the watch starts on their word, when the LB is
 * seen on the target or when the traffic moves there, never on a switch
 * nobody made.
 */
static void ask_for_hand_switch(struct cutover_result *r, const struct cutover_facts *f,
                                const char *from, const char *to)
{
	char also[160] = "";
	hand_switch_also(f, to, also, sizeof(also));
	alert(r, SEVERITY_WARNING, "switch-by-hand", to,
	      "no [lb] driver: switch the load balancer from %s to %s by hand now, " CONFIRM_HINT
	      "%s; users stay on %s until then and %s is not watched yet",
	      from[0] ? from : "(none)", to, also, from[0] ? from : "(none)", to);
	answer(r, 202,
	       "no [lb] driver: switch the load balancer from %s to %s by hand now, " CONFIRM_HINT
	       "; the watch starts then",
	       from[0] ? from : "(none)", to);
}

/* STEADY and ROLLED_BACK: the LB is where it should be; a cutover may start. */
static void on_resting(const struct cutover_state *s, const struct cutover_event *e,
                       const struct cutover_facts *f, struct cutover_result *r)
{
	switch (e->kind) {
	case EVENT_CUTOVER: {
		if (!f->target_known) {
			answer(r, 400, "no cluster '%s'", e->cluster);
			return;
		}
		if (strcmp(e->cluster, s->active) == 0) {
			answer(r, 400, "%s is already active", e->cluster);
			return;
		}
		if (!f->gate->pass && !e->force) {
			answer(r, 409, "cutover to %s refused: %zu check(s) failed", e->cluster,
			       f->gate->failed_count);
			return;
		}
		if (holding_back(s, f)) {
			answer(r, 409, "%s: the cutover to %s is journaled, the LB is not touched",
			       s->paused ? "paused" : "dry run", e->cluster);
			alert(r, SEVERITY_INFO, "cutover-held", e->cluster,
			      "%s: would switch the LB from %s to %s (%s)",
			      s->paused ? "paused" : "dry run", s->active[0] ? s->active : "(none)",
			      e->cluster, e->text);
			return;
		}
		char from[CUTOVER_NAME_LEN];
		snprintf(from, sizeof(from), "%s", s->active);
		if (s->phase == PHASE_ROLLED_BACK)
			/* the rollback's incident ends when the next attempt starts */
			alert(r, SEVERITY_CRITICAL, "rollback-over", s->other,
			      "a new cutover to %s starts: the rollback of %s is over", e->cluster,
			      s->other);
		move(r, PHASE_SWITCHING, from, e->cluster);
		r->next.baseline = f->baseline;
		snprintf(r->next.reason, sizeof(r->next.reason), "%s%s", e->text,
		         e->force && !f->gate->pass ? " (forced past the gate)" : "");
		text_cut_partial(r->next.reason);
		if (f->manual_lb) {
			ask_for_hand_switch(r, f, from, e->cluster);
			return;
		}
		act(r, ACTION_SWITCH_LB, e->cluster);
		answer(r, 202, "switching the LB from %s to %s", from[0] ? from : "(none)",
		       e->cluster);
		return;
	}
	case EVENT_ROLLBACK:
		answer(r, 409, "no watch in progress: nothing to roll back");
		return;
	case EVENT_LB_OBSERVED:
		if (s->active[0] == '\0') {
			/* first start without initial_active: the LB tells where users are */
			if (e->cluster[0] != '\0')
				move(r, s->phase, e->cluster, f->standby_of_event);
			return;
		}
		/* Someone moved the LB to the standby without us: watch it anyway. */
		if (e->cluster[0] != '\0' && strcmp(e->cluster, s->active) != 0 &&
		    strcmp(e->cluster, s->other) == 0) {
			char previous[CUTOVER_NAME_LEN];
			snprintf(previous, sizeof(previous), "%s", s->active);
			start_watch(r, e->cluster, previous, f, &f->baseline);
			snprintf(r->next.reason, sizeof(r->next.reason),
			         "the LB was moved to %s outside trino-guard", e->cluster);
			text_cut_partial(r->next.reason);
			alert(r, SEVERITY_WARNING, "external-cutover", e->cluster,
			      "the LB now sends users to %s (moved outside trino-guard); watching "
			      "it",
			      e->cluster);
		}
		return;
	default:
		return;
	}
}

/* Where the LB was found at a restart, for people. */
static void describe_reading(const char *cluster, char *out, size_t out_len)
{
	if (cluster[0] == '\0')
		snprintf(out, out_len, "cannot be read");
	else
		snprintf(out, out_len, "points at %s", cluster);
}

/*
 * A restart in SWITCHING(A -> B): the switch may or may not have happened.
 * With the LB still on A the cutover never took effect: back to STEADY, and
 * the operator asks again (the gate may say otherwise now). Anywhere else, or
 * unreadable, the switch to B is made again (switches are idempotent), so
 * the LB, the map file and the state agree, and a working switch starts the
 * watch that protects users.
 */
static void recover_switching(const struct cutover_state *s, const struct cutover_event *e,
                              struct cutover_result *r)
{
	char reading[CUTOVER_NAME_LEN + 16];
	describe_reading(e->cluster, reading, sizeof(reading));
	if (s->active[0] != '\0' && strcmp(e->cluster, s->active) == 0) {
		char active[CUTOVER_NAME_LEN], target[CUTOVER_NAME_LEN];
		snprintf(active, sizeof(active), "%s", s->active);
		snprintf(target, sizeof(target), "%s", s->other);
		move(r, PHASE_STEADY, active, target);
		alert(r, SEVERITY_WARNING, "cutover-interrupted", target,
		      "the collector restarted before the switch to %s was made; the LB still "
		      "sends users to %s; ask for the cutover again",
		      target, active);
		return;
	}
	act(r, ACTION_SWITCH_LB, s->other);
	alert(r, SEVERITY_WARNING, "cutover-resumed", s->other,
	      "the collector restarted during the switch from %s to %s; the LB %s; switching "
	      "it to %s again",
	      s->active[0] ? s->active : "(none)", s->other, reading, s->other);
}

/*
 * SWITCHING or ROLLING_BACK without a driver: the operator's confirmation,
 * the LB seen on the target, or users' traffic seen moving there, completes
 * the switch by hand; a restart
 * reminds; a rollback calls a cutover off. True when E was handled.
 */
static bool on_hand_switch(const struct cutover_state *s, const struct cutover_event *e,
                           const struct cutover_facts *f, struct cutover_result *r)
{
	bool cutover = s->phase == PHASE_SWITCHING;
	char from[CUTOVER_NAME_LEN], to[CUTOVER_NAME_LEN];
	snprintf(from, sizeof(from), "%s", s->active[0] ? s->active : "(none)");
	snprintf(to, sizeof(to), "%s", s->other);
	bool confirmed = e->kind == EVENT_CONFIRM;
	if (confirmed && e->cluster[0] != '\0' && strcmp(e->cluster, to) != 0) {
		answer(r, 400, "the switch awaited is to %s, not %s", to, e->cluster);
		return true;
	}
	bool on_target = strcmp(e->cluster, to) == 0;
	bool traffic = e->kind == EVENT_TRAFFIC_MOVED && on_target;
	if (confirmed || traffic || (e->kind == EVENT_LB_OBSERVED && on_target) ||
	    (e->kind == EVENT_RECOVER && on_target)) {
		char how[CUTOVER_TEXT_LEN / 2];
		snprintf(how, sizeof(how), "%s%s",
		         confirmed ? "confirmed by hand"
		         : traffic ? "seen in the traffic: "
		                   : "seen on the LB",
		         traffic ? e->text : "");
		text_cut_partial(how);
		if (cutover) {
			start_watch(r, to, s->active, f, &s->baseline);
			alert(r, SEVERITY_INFO, "cutover", to,
			      "cutover (%s): the LB sends users to %s (was %s); watching it for "
			      "%lld min",
			      how, to, from, (long long)(f->watch_ms / 60000));
		} else {
			move(r, PHASE_ROLLED_BACK, to, s->active);
			alert(r, SEVERITY_CRITICAL, "rolled-back", s->active,
			      "rolled back (%s): the LB sends users to %s again, off %s (%s)", how,
			      to, from, s->reason);
		}
		answer(r, 200, "%s: %susers are on %s%s", how, cutover ? "" : "rolled back, ", to,
		       cutover ? "; watching it" : " again");
		return true;
	}
	if (e->kind == EVENT_RECOVER) {
		alert(r, SEVERITY_WARNING, cutover ? "switch-by-hand" : "rollback", to,
		      "the collector restarted while waiting for the switch by hand from %s to "
		      "%s: switch the load balancer now if not done, " CONFIRM_HINT,
		      from, to);
		return true;
	}
	if (cutover && e->kind == EVENT_ROLLBACK) {
		move(r, PHASE_STEADY, s->active, to);
		alert(r, SEVERITY_WARNING, "cutover-called-off", to,
		      "the switch by hand to %s is called off: users stay on %s (%s)", to, from,
		      e->text);
		answer(r, 200, "the switch by hand to %s is called off; users stay on %s", to,
		       from);
		return true;
	}
	if (e->kind == EVENT_CUTOVER || e->kind == EVENT_ROLLBACK) {
		answer(r, 409,
		       "waiting for the switch by hand from %s to %s: switch the load "
		       "balancer, " CONFIRM_HINT "%s",
		       from, to, cutover ? "; or call it off with trino-guardctl rollback" : "");
		return true;
	}
	return false;
}

/* A request while SWITCHING or ROLLING_BACK: refused while our switch runs. */
static bool refuse_in_flight(const struct cutover_state *s, const struct cutover_event *e,
                             const struct cutover_facts *f, struct cutover_result *r)
{
	if (e->kind != EVENT_CUTOVER && e->kind != EVENT_ROLLBACK)
		return false;
	if (f->switch_in_flight || !e->force) {
		answer(r, 409, "a %s to %s is in progress%s",
		       s->phase == PHASE_SWITCHING ? "switch" : "rollback", s->other,
		       f->switch_in_flight ? "" : "; force takes over");
		return true;
	}
	return false;
}

static void on_switching(const struct cutover_state *s, const struct cutover_event *e,
                         const struct cutover_facts *f, struct cutover_result *r)
{
	if (f->manual_lb && on_hand_switch(s, e, f, r))
		return;
	if (refuse_in_flight(s, e, f, r))
		return;
	if (e->kind == EVENT_CUTOVER) {
		/* forced, nothing under way: a cutover from where users were */
		struct cutover_state resting = *s;
		resting.phase = PHASE_STEADY;
		on_resting(&resting, e, f, r);
		return;
	}
	if (e->kind == EVENT_ROLLBACK) {
		answer(r, 409, "no watch in progress: nothing to roll back; cut over with force");
		return;
	}
	if (e->kind == EVENT_RECOVER && !f->switch_in_flight) {
		recover_switching(s, e, r);
		return;
	}
	/* a reading while our switch runs may predate it: the switch's result decides */
	if (e->kind != EVENT_LB_RESULT || strcmp(e->cluster, s->other) != 0)
		return;
	char previous[CUTOVER_NAME_LEN], target[CUTOVER_NAME_LEN];
	snprintf(previous, sizeof(previous), "%s", s->active);
	snprintf(target, sizeof(target), "%s", s->other);
	if (e->ok) {
		start_watch(r, target, previous, f, &s->baseline);
		alert(r, SEVERITY_INFO, "cutover", target,
		      "cutover: the LB sends users to %s (was %s); watching it for %lld min",
		      target, previous[0] ? previous : "(none)", (long long)(f->watch_ms / 60000));
	} else {
		move(r, PHASE_STEADY, previous, target);
		alert(r, SEVERITY_CRITICAL, "lb-switch-failed", target,
		      "cutover to %s failed, users stay on %s: %s", target,
		      previous[0] ? previous : "(none)", e->text);
	}
}

static void begin_rollback(const struct cutover_state *s, const struct cutover_facts *f,
                           struct cutover_result *r, const char *why)
{
	char failed[CUTOVER_NAME_LEN], previous[CUTOVER_NAME_LEN];
	snprintf(failed, sizeof(failed), "%s", s->active);
	snprintf(previous, sizeof(previous), "%s", s->other);
	move(r, PHASE_ROLLING_BACK, failed, previous);
	snprintf(r->next.reason, sizeof(r->next.reason), "%s", why);
	text_cut_partial(r->next.reason);
	if (f->manual_lb) {
		char also[160] = "";
		hand_switch_also(f, previous, also, sizeof(also));
		alert(r, SEVERITY_CRITICAL, "rollback", failed,
		      "roll back by hand now: switch the load balancer from %s back to %s "
		      "(%s), " CONFIRM_HINT "%s; users are still on %s",
		      failed, previous, why, also, failed);
		return;
	}
	act(r, ACTION_SWITCH_LB, previous);
	alert(r, SEVERITY_CRITICAL, "rollback", failed, "rolling back from %s to %s: %s", failed,
	      previous, why);
}

static void on_watching(const struct cutover_state *s, const struct cutover_event *e,
                        const struct cutover_facts *f, struct cutover_result *r)
{
	switch (e->kind) {
	case EVENT_CUTOVER:
		answer(r, 409, "watching %s until it has proven itself; roll back or wait",
		       s->active);
		return;
	case EVENT_ROLLBACK:
		if (!f->previous_healthy && !e->force) {
			answer(r, 409, "%s is not healthy enough to take users back: %s", s->other,
			       f->previous_problem);
			return;
		}
		if (holding_back(s, f)) {
			answer(r, 409, "%s: the rollback is journaled, the LB is not touched",
			       s->paused ? "paused" : "dry run");
			alert(r, SEVERITY_WARNING, "rollback-held", s->active,
			      "%s: would roll back from %s to %s (%s)",
			      s->paused ? "paused" : "dry run", s->active, s->other, e->text);
			return;
		}
		char why[CUTOVER_TEXT_LEN];
		snprintf(why, sizeof(why), "rolled back by hand: %s",
		         e->text[0] ? e->text : "no reason given");
		begin_rollback(s, f, r, why);
		if (f->manual_lb)
			answer(r, 202,
			       "no [lb] driver: switch the load balancer from %s back to %s by "
			       "hand "
			       "now, " CONFIRM_HINT,
			       s->active, s->other);
		else
			answer(r, 202, "rolling back from %s to %s", s->active, s->other);
		return;
	case EVENT_LB_OBSERVED:
		if (strcmp(e->cluster, s->other) == 0) {
			move(r, PHASE_ROLLED_BACK, s->other, s->active);
			snprintf(r->next.reason, sizeof(r->next.reason),
			         "the LB was moved back to %s outside trino-guard", e->cluster);
			text_cut_partial(r->next.reason);
			alert(r, SEVERITY_WARNING, "external-rollback", e->cluster,
			      "the LB was moved back to %s outside trino-guard; watch ended",
			      e->cluster);
		}
		return;
	case EVENT_TICK:
		break;
	default:
		return;
	}
	if (f->verdict != VERDICT_HEALTHY) {
		if (f->now_ms < s->retry_ms)
			return;
		if (holding_back(s, f) || !f->previous_healthy) {
			if (s->degraded_alerted)
				return;
			r->next.degraded_alerted = true;
			if (holding_back(s, f))
				alert(r, SEVERITY_CRITICAL, "degraded", s->active,
				      "%s is degraded (%s); %s: the LB is not touched", s->active,
				      f->explanation, s->paused ? "paused" : "dry run");
			else
				alert(r, SEVERITY_CRITICAL, "rollback-refused", s->active,
				      "%s degraded and %s unavailable: %s degraded (%s), but %s "
				      "cannot take users back (%s); users stay on %s",
				      s->active, s->other, s->active, f->explanation, s->other,
				      f->previous_problem, s->active);
			return;
		}
		begin_rollback(s, f, r, f->explanation);
		return;
	}
	/* the watch is over, but users' queries may still run on the old cluster */
	if (f->now_ms >= s->until_ms && !f->previous_busy) {
		char stable[CUTOVER_NAME_LEN], old[CUTOVER_NAME_LEN];
		snprintf(stable, sizeof(stable), "%s", s->active);
		snprintf(old, sizeof(old), "%s", s->other);
		move(r, PHASE_STEADY, stable, old);
		alert(r, SEVERITY_INFO, "stable", stable,
		      "stable: %s passed its %lld min watch; %s may be shut down", stable,
		      (long long)((s->until_ms - s->since_ms) / 60000), old);
		if (f->drain_shutdown)
			act(r, ACTION_DRAIN_SHUTDOWN, old);
	}
}

static void on_rolling_back(const struct cutover_state *s, const struct cutover_event *e,
                            const struct cutover_facts *f, struct cutover_result *r)
{
	if (f->manual_lb && on_hand_switch(s, e, f, r))
		return;
	if (refuse_in_flight(s, e, f, r))
		return;
	if (e->kind == EVENT_CUTOVER) {
		answer(r, 409, "roll back first: users must be back on %s", s->other);
		return;
	}
	/*
	 * A restart cut the rollback off, or the operator forces it: it was
	 * decided, so the switch back is made again whatever the LB says (done
	 * or not, an idempotent switch makes the LB and the state agree).
	 */
	if ((e->kind == EVENT_RECOVER || e->kind == EVENT_ROLLBACK) && !f->switch_in_flight) {
		char reading[CUTOVER_NAME_LEN + 16];
		describe_reading(e->cluster, reading, sizeof(reading));
		act(r, ACTION_SWITCH_LB, s->other);
		if (e->kind == EVENT_ROLLBACK) {
			answer(r, 202, "rolling back from %s to %s again", s->active, s->other);
			return;
		}
		alert(r, SEVERITY_CRITICAL, "rollback-resumed", s->active,
		      "the collector restarted during the rollback from %s to %s; the LB %s; "
		      "switching it to %s again",
		      s->active, s->other, reading, s->other);
		return;
	}
	if (e->kind != EVENT_LB_RESULT || strcmp(e->cluster, s->other) != 0)
		return;
	char failed[CUTOVER_NAME_LEN], previous[CUTOVER_NAME_LEN];
	snprintf(failed, sizeof(failed), "%s", s->active);
	snprintf(previous, sizeof(previous), "%s", s->other);
	if (e->ok) {
		move(r, PHASE_ROLLED_BACK, previous, failed);
		alert(r, SEVERITY_CRITICAL, "rolled-back", failed,
		      "rolled back: the LB sends users to %s again, off %s (%s)", previous, failed,
		      s->reason);
	} else {
		/* Still degraded: the next tick tries again, after a pause. */
		move(r, PHASE_WATCHING, failed, previous);
		r->next.retry_ms = f->now_ms + CUTOVER_RETRY_MS;
		alert(r, SEVERITY_CRITICAL, "lb-switch-failed", previous,
		      "rollback to %s failed, users are still on degraded %s: %s; retrying",
		      previous, failed, e->text);
	}
}

void cutover_step(const struct cutover_state *state, const struct cutover_event *event,
                  const struct cutover_facts *facts, struct cutover_result *result)
{
	memset(result, 0, sizeof(*result));
	result->next = *state;
	result->status = 200;
	bool awaiting_hand = facts->manual_lb && (state->phase == PHASE_SWITCHING ||
	                                          state->phase == PHASE_ROLLING_BACK);
	if (event->kind == EVENT_CONFIRM && !awaiting_hand) {
		answer(result, 409, "nothing to confirm: %s",
		       facts->manual_lb ? "no switch by hand is awaited"
		                        : "the [lb] driver switches the load balancer");
	} else if (event->kind == EVENT_PAUSE || event->kind == EVENT_RESUME) {
		result->next.paused = event->kind == EVENT_PAUSE;
		answer(result, 200, "%s",
		       result->next.paused ? "paused: decisions are journaled and "
		                             "alerted, the LB is not touched"
		                           : "resumed");
		if (result->next.paused != state->paused)
			alert(result, SEVERITY_INFO, result->next.paused ? "pause" : "resume",
			      state->active, "%s%s%s",
			      result->next.paused ? "trino-guard paused: the LB is not touched"
			                          : "trino-guard resumed its automatic decisions",
			      event->text[0] ? ": " : "", event->text);
	} else {
		switch (state->phase) {
		case PHASE_STEADY:
		case PHASE_ROLLED_BACK:
			on_resting(state, event, facts, result);
			break;
		case PHASE_SWITCHING:
			on_switching(state, event, facts, result);
			break;
		case PHASE_WATCHING:
			on_watching(state, event, facts, result);
			break;
		case PHASE_ROLLING_BACK:
			on_rolling_back(state, event, facts, result);
			break;
		}
	}
	result->changed = !cutover_state_equal(&result->next, state);
}
