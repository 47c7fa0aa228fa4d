/*
 * Cutover runner: the imperative shell around rules/cutover.c. Every event
 * goes through step(): facts are gathered, the state machine decides, the new
 * state is persisted before anything is carried out, the transition is
 * journaled, then the actions run (LB switches are asynchronous: their result
 * comes back as another event).
 */
#include "cutover_runner.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "alerts.h"
#include "backend_health.h"
#include "degradation.h"
#include "drain.h"
#include "drain_status.h"
#include "failure_ratio.h"
#include "ha.h"
#include "journal.h"
#include "log.h"
#include "request_journal.h"
#include "rollback_target.h"
#include "state_file.h"
#include "switch_accounting.h"
#include "text_cut.h"

struct cutover_runner {
	struct collector *collector;
	struct cutover_state state;
	struct watch_settings watch;
	struct detector detector;
	struct drain_state drain; /* of the old cluster (state.other) */
	struct lb_driver lb;      /* .impl NULL: no driver */
	int64_t next_poll_ms;
	bool polling;
	bool switch_in_flight;    /* asked of the driver, not answered yet */
	bool recovering;          /* started in SWITCHING or ROLLING_BACK: the LB is read first */
	struct event *first_read; /* at start: the LB read once, without waiting for a tick */
	struct gate_result gate;
	int64_t next_checkpoint_ms;
	char lb_problem_cluster[64]; /* "" when the last switch worked */
	char lb_problem[600];
	char lb_warning_cluster[64]; /* "" unless the last switch worked but left a problem */
	char lb_warning[800];
	char degraded_why[CUTOVER_TEXT_LEN];
	struct detector_checkpoint saved; /* the evidence last written */
	struct cutover_counters counters;
	char switch_from[64];      /* the switch under way: where users were */
	int64_t switch_started_ms; /* and when it was asked for (monotonic) */

	struct switch_accounting losses; /* what each switch cost */

	/*
	 * With [ha]: actions wait until the state that decided them is in etcd
	 * (each batch with the number of the save it waits for), and a new
	 * leader acts on nothing until it has read the LB once (takeover).
	 */
	struct pending_actions {
		struct cutover_action actions[CUTOVER_MAX_ACTIONS];
		size_t count;
		uint64_t seq;
	} pending[16];
	size_t pending_count;
	uint64_t last_save_seq, saved_seq;
	bool takeover;
};

const double switch_bucket_bounds[SWITCH_BUCKETS] = {0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};

static const char *const rollback_cause_names[] = {
        [ROLLBACK_DEGRADED] = "degraded",
        [ROLLBACK_MANUAL] = "manual",
        [ROLLBACK_EXTERNAL] = "external",
};
_Static_assert(sizeof(rollback_cause_names) / sizeof(rollback_cause_names[0]) ==
                       ROLLBACK_CAUSE_COUNT,
               "a name for every rollback cause");

const char *rollback_cause_name(enum rollback_cause cause)
{
	return cause < ROLLBACK_CAUSE_COUNT ? rollback_cause_names[cause] : "?";
}

/* The counter of switches FROM -> TO, added when new; NULL when the table is full. */
static struct switch_count *switch_count_of(struct cutover_counters *c, const char *from,
                                            const char *to)
{
	for (size_t i = 0; i < c->switch_pairs; i++)
		if (strcmp(c->switches[i].from, from) == 0 && strcmp(c->switches[i].to, to) == 0)
			return &c->switches[i];
	if (c->switch_pairs == SWITCH_PAIRS)
		return NULL;
	struct switch_count *s = &c->switches[c->switch_pairs++];
	snprintf(s->from, sizeof(s->from), "%s", from);
	snprintf(s->to, sizeof(s->to), "%s", to);
	return s;
}

/* A switch we asked for finished: its count by result and its duration. */
static void count_switch(struct cutover_runner *r, const char *to, bool ok, int64_t now_ms)
{
	struct cutover_counters *c = &r->counters;
	struct switch_count *pair = switch_count_of(c, r->switch_from, to);
	if (pair != NULL) {
		pair->ok += ok;
		pair->failed += !ok;
	}
	double seconds = (double)(now_ms - r->switch_started_ms) / 1000.0;
	c->duration_count++;
	c->duration_sum_seconds += seconds;
	for (int i = 0; i < SWITCH_BUCKETS; i++)
		if (seconds <= switch_bucket_bounds[i])
			c->duration_buckets[i]++;
}

/* A transition that takes users off the watched cluster: counted by its cause. */
static void count_rollback(struct cutover_runner *r, const struct cutover_event *event,
                           enum cutover_phase to)
{
	enum cutover_phase from = r->state.phase;
	if (to == PHASE_ROLLING_BACK && from != PHASE_ROLLING_BACK)
		r->counters.rollbacks[event->kind == EVENT_ROLLBACK ? ROLLBACK_MANUAL
		                                                    : ROLLBACK_DEGRADED]++;
	else if (to == PHASE_ROLLED_BACK && from == PHASE_WATCHING)
		r->counters.rollbacks[ROLLBACK_EXTERNAL]++;
}

/* Writes the state and, during a watch, the detector's evidence. */
static void persist(struct cutover_runner *r, const struct cutover_state *state,
                    struct clock_now now)
{
	struct detector_checkpoint checkpoint = {0};
	if (state->phase == PHASE_WATCHING)
		detector_checkpoint_take(&r->detector, &checkpoint);
	struct ha *ha = r->collector->ha;
	if (ha != NULL) {
		char *text = state_file_encode(state, &checkpoint, now);
		if (text == NULL) {
			log_error("cannot encode the cutover state");
			return;
		}
		r->last_save_seq = ha_save(ha, text, now.mono_ms);
		r->saved = checkpoint;
		return;
	}
	char err[512];
	if (state_file_save(r->collector->config.collector.state_dir, state, &checkpoint, now, err,
	                    sizeof(err)) != 0)
		log_error("cannot persist the cutover state: %s", err);
	else
		r->saved = checkpoint;
}

static const struct cluster_settings *settings_of(const struct collector *c, const char *name)
{
	for (size_t i = 0; i < c->cluster_count; i++)
		if (strcmp(c->clusters[i].name, name) == 0)
			return &c->clusters[i];
	return NULL;
}

/* CLUSTER's live coordinator (rules/findings.h); NULL when none or not configured. */
static const struct fleet_node *coordinator_of(const struct collector *c, const char *cluster,
                                               int64_t now_ms)
{
	const struct cluster_settings *s = settings_of(c, cluster);
	return s != NULL ? cluster_live_coordinator(&c->fleet, s, now_ms) : NULL;
}

static void baseline_of(const struct cutover_runner *r, const char *cluster, int64_t now_ms,
                        struct baseline *b)
{
	memset(b, 0, sizeof(*b));
	const struct fleet_node *coordinator = coordinator_of(r->collector, cluster, now_ms);
	if (coordinator != NULL)
		baseline_from_samples(coordinator, now_ms,
		                      r->collector->config.watch.baseline_window_ms,
		                      r->watch.failure_types, b);
}

/* What the state machine needs to know about EVENT now. */
static void gather_facts(struct cutover_runner *r, const struct cutover_event *event,
                         struct clock_now now, struct cutover_facts *f)
{
	struct collector *c = r->collector;
	int64_t now_ms = now.mono_ms;
	memset(f, 0, sizeof(*f));
	f->now_ms = now_ms;
	f->dry_run = c->config.watch.dry_run;
	f->manual_lb = r->lb.impl == NULL;
	f->watch_ms = c->config.watch.duration_ms;
	f->target_known = settings_of(c, event->cluster) != NULL;
	baseline_of(r, r->state.active, now_ms, &f->baseline);
	f->gate = &r->gate;
	memset(&r->gate, 0, sizeof(r->gate));
	r->gate.pass = true;
	if (event->kind == EVENT_CUTOVER && f->target_known) {
		const struct cluster_settings *target = settings_of(c, event->cluster);
		gate_evaluate(&c->fleet, target, &c->findings,
		              watch_tolerated_p0(&r->watch, &f->baseline),
		              c->config.watch.window_ms, r->watch.failure_types, now_ms, &r->gate);
		/* the LB must hold the target HEALTHY, or it would route no users there */
		char why[900];
		if (c->backend_health != NULL &&
		    lb_health_problem(backend_health_view(c->backend_health), &c->fleet, target,
		                      now_ms, why, sizeof(why)))
			gate_add_failure(&r->gate, why);
	}
	if (event->kind == EVENT_CUTOVER && !c->findings_ready)
		gate_close_during_grace(&r->gate, findings_grace_ms(c->clusters, c->cluster_count) -
		                                          (now_ms - c->started_ms));
	/* the watched cluster and the one to fall back on */
	if (r->state.phase == PHASE_WATCHING) {
		const struct fleet_node *coordinator = coordinator_of(c, r->state.active, now_ms);
		const struct counter_sample *latest =
		        coordinator != NULL ? fleet_sample(coordinator, 0) : NULL;
		if (latest != NULL)
			detector_feed(&r->detector, latest);
		bool seeing =
		        coordinator != NULL && coordinator->has_counters &&
		        coordinator->counters_state == TRINOGUARD__V1__COUNTER_STATE__COUNTERS_OK;
		f->verdict = detector_check(&r->detector, seeing, now_ms);
		if (f->verdict != VERDICT_HEALTHY)
			detector_explain(&r->detector, f->explanation, sizeof(f->explanation));
		f->verdict = watch_verdict(f->verdict, &c->findings, r->state.active,
		                           f->explanation, sizeof(f->explanation));
	}
	f->switch_in_flight = r->switch_in_flight;
	for (size_t i = 0; i < c->cluster_count; i++)
		if (strcmp(c->clusters[i].name, event->cluster) != 0) {
			snprintf(f->standby_of_event, sizeof(f->standby_of_event), "%s",
			         c->clusters[i].name);
			break;
		}
	switch_accounting_observe(&r->losses, c, now);
	drain_observe(&r->drain, &c->fleet, c->clusters, c->cluster_count, r->state.other, now_ms);
	f->previous_busy = !drain_done(&r->drain, c->config.watch.drain_quiet_ms, now_ms,
	                               f->previous_busy_why, sizeof(f->previous_busy_why));
	f->previous_healthy = rollback_target_fit(&c->fleet, c->clusters, c->cluster_count,
	                                          &c->findings, r->state.other, now_ms,
	                                          f->previous_problem, sizeof(f->previous_problem));
}

static void journal_alert(struct cutover_runner *r, const struct cutover_action *a,
                          struct clock_now now)
{
	journal_append(r->collector->journal, now.unix_ms,
	               json_pack("{s:s,s:s,s:s,s:s,s:s}", "type", "alert", "name", a->name,
	                         "severity", severity_name(a->severity), "cluster", a->cluster,
	                         "summary", a->text));
	enum log_level level = a->severity >= SEVERITY_ERROR     ? LOG_LEVEL_ERROR
	                       : a->severity == SEVERITY_WARNING ? LOG_LEVEL_WARN
	                                                         : LOG_LEVEL_INFO;
	log_msg(level, "%s: %s", a->name, a->text);
	struct alert alert;
	alert_from_event(r->collector->config.collector.environment, a->name, a->severity,
	                 a->cluster, a->text, now.unix_ms, &alert);
	alerts_publish(r->collector->alerts, &alert, now);
	alerts_flush(r->collector->alerts, now);
}

static void on_switched(bool ok, const char *error, void *arg);
static void run_actions(struct cutover_runner *r, const struct cutover_action *actions,
                        size_t count, struct clock_now now);
static void defer_actions(struct cutover_runner *r, const struct cutover_result *result);

/* What the state machine makes of EVENT now; nothing is changed yet. */
static void decide(struct cutover_runner *r, const struct cutover_event *event,
                   struct clock_now now, struct cutover_result *result)
{
	struct cutover_facts facts;
	gather_facts(r, event, now, &facts);
	cutover_step(&r->state, event, &facts, result);
}

/* Carries a decision out: persists, journals, acts. */
static void apply(struct cutover_runner *r, const struct cutover_event *event, struct clock_now now,
                  const struct cutover_result *result)
{
	struct collector *c = r->collector;
	if (result->changed) {
		count_rollback(r, event, result->next.phase);
		if (r->state.active[0] != '\0' && strcmp(result->next.active, r->state.active) != 0)
			switch_accounting_switched(&r->losses, c, r->state.active,
			                           result->next.active,
			                           result->next.phase == PHASE_ROLLED_BACK, now);
		persist(r, &result->next, now);
		if (result->next.phase != r->state.phase ||
		    strcmp(result->next.active, r->state.active) != 0)
			journal_append(c->journal, now.unix_ms,
			               json_pack("{s:s,s:s,s:s,s:s,s:s,s:s}", "type", "transition",
			                         "from", cutover_phase_name(r->state.phase), "to",
			                         cutover_phase_name(result->next.phase), "active",
			                         result->next.active, "other", result->next.other,
			                         "reason", result->next.reason));
		r->state = result->next;
	}
	if (c->ha != NULL && r->saved_seq < r->last_save_seq && result->action_count > 0) {
		defer_actions(r, result);
	} else {
		run_actions(r, result->actions, result->action_count, now);
	}
	journal_sync(c->journal);
}

/* Runs ACTIONS, decided by a state that is saved. */
static void run_actions(struct cutover_runner *r, const struct cutover_action *actions,
                        size_t count, struct clock_now now)
{
	struct collector *c = r->collector;
	for (size_t i = 0; i < count; i++) {
		const struct cutover_action *a = &actions[i];
		switch (a->kind) {
		case ACTION_ALERT:
			journal_alert(r, a, now);
			break;
		case ACTION_START_WATCH:
			detector_start(&r->detector, &r->watch, &r->state.baseline);
			break;
		case ACTION_SWITCH_LB:
			journal_append(c->journal, now.unix_ms,
			               json_pack("{s:s,s:s}", "type", "lb-switch-start", "cluster",
			                         a->cluster));
			if (r->lb.impl == NULL) {
				/* the rules ask people to switch when there is no driver */
				log_error("no [lb] driver to switch the load balancer to %s",
				          a->cluster);
				break;
			}
			snprintf(r->switch_from, sizeof(r->switch_from), "%s", r->state.active);
			r->switch_started_ms = now.mono_ms;
			r->switch_in_flight = true;
			r->lb_warning_cluster[0] = '\0'; /* a new switch: its own warnings */
			r->lb.switch_to(r->lb.impl, a->cluster, on_switched, r);
			break;
		}
	}
}

/* Whether this collector steps the cutover: always alone, with [ha] only as the leader. */
static bool acting(const struct cutover_runner *r, struct clock_now now)
{
	const struct ha *ha = r->collector->ha;
	return ha == NULL || (ha_acting(ha, now.mono_ms) && !r->takeover);
}

static void step(struct cutover_runner *r, const struct cutover_event *event, struct clock_now now,
                 struct cutover_result *result)
{
	if (!acting(r, now)) {
		memset(result, 0, sizeof(*result));
		return; /* another collector leads: the state comes from etcd */
	}
	decide(r, event, now, result);
	apply(r, event, now, result);
}

/* Keeps the actions of RESULT until the save they wait for is in etcd. */
static void defer_actions(struct cutover_runner *r, const struct cutover_result *result)
{
	if (r->pending_count == sizeof(r->pending) / sizeof(r->pending[0])) {
		log_error("etcd: too many actions wait for the state to be saved: the oldest are "
		          "dropped");
		memmove(&r->pending[0], &r->pending[1],
		        (r->pending_count - 1) * sizeof(r->pending[0]));
		r->pending_count--;
	}
	struct pending_actions *p = &r->pending[r->pending_count++];
	memcpy(p->actions, result->actions, result->action_count * sizeof(p->actions[0]));
	p->count = result->action_count;
	p->seq = r->last_save_seq;
}

/* The actions that waited, dropped: the state they came from is not etcd's. */
static void drop_pending(struct cutover_runner *r, struct clock_now now, const char *why)
{
	for (size_t i = 0; i < r->pending_count; i++)
		for (size_t j = 0; j < r->pending[i].count; j++) {
			const struct cutover_action *a = &r->pending[i].actions[j];
			log_warn("not carried out (%s): %s %s", why,
			         a->kind == ACTION_SWITCH_LB ? "switch the LB to" : "action on",
			         a->cluster);
			journal_append(r->collector->journal, now.unix_ms,
			               json_pack("{s:s,s:s,s:s}", "type", "ha-dropped", "cluster",
			                         a->cluster, "why", why));
		}
	r->pending_count = 0;
}

void cutover_runner_ha_saved(struct cutover_runner *r, uint64_t seq, bool ok)
{
	struct clock_now now = collector_clock(r->collector);
	if (!ok) {
		drop_pending(r, now, "the state could not be written to etcd");
		return;
	}
	if (seq > r->saved_seq)
		r->saved_seq = seq;
	size_t done = 0;
	while (done < r->pending_count && r->pending[done].seq <= r->saved_seq)
		done++;
	struct pending_actions ready[sizeof(r->pending) / sizeof(r->pending[0])];
	memcpy(ready, r->pending, done * sizeof(ready[0]));
	memmove(&r->pending[0], &r->pending[done],
	        (r->pending_count - done) * sizeof(r->pending[0]));
	r->pending_count -= done;
	for (size_t i = 0; i < done; i++)
		run_actions(r, ready[i].actions, ready[i].count, now);
	journal_sync(r->collector->journal);
}

static void on_first_read(evutil_socket_t fd, short what, void *arg);

/* Reads the LB once, from the loop, before acting: at start and at a takeover. */
static int schedule_first_read(struct cutover_runner *r)
{
	static const struct timeval no_delay = {0, 0};
	if (r->first_read == NULL &&
	    (r->first_read = evtimer_new(r->collector->base, on_first_read, r)) == NULL)
		return -1;
	return evtimer_add(r->first_read, &no_delay);
}

void cutover_runner_ha_state(struct cutover_runner *r, const char *text, size_t len, bool takeover)
{
	struct clock_now now = collector_clock(r->collector);
	drop_pending(r, now, "the state was read from etcd again");
	if (text != NULL) {
		struct cutover_state state;
		struct detector_checkpoint checkpoint;
		char err[512];
		if (state_file_decode(text, len, "etcd's cutover state", now, &state, &checkpoint,
		                      err, sizeof(err)) != 0) {
			log_error("%s: %s", err,
			          takeover ? "the leader keeps its own state and writes it over"
			                   : "the mirror keeps the last state it could read");
		} else {
			bool watch_changed =
			        state.phase == PHASE_WATCHING &&
			        (r->state.phase != PHASE_WATCHING ||
			         strcmp(state.active, r->state.active) != 0 || takeover);
			r->state = state;
			if (watch_changed || state.phase != PHASE_WATCHING)
				detector_start(&r->detector, &r->watch, &r->state.baseline);
			if (state.phase == PHASE_WATCHING)
				detector_checkpoint_restore(&r->detector, &checkpoint);
			r->saved = checkpoint;
		}
	}
	if (!takeover)
		return;
	log_info("leading: cutover state %s, active %s; reading the LB before acting",
	         cutover_phase_name(r->state.phase),
	         r->state.active[0] ? r->state.active : "(none)");
	journal_append(r->collector->journal, now.unix_ms,
	               json_pack("{s:s,s:s,s:s,s:b}", "type", "ha-takeover", "phase",
	                         cutover_phase_name(r->state.phase), "active", r->state.active,
	                         "found", text != NULL));
	journal_sync(r->collector->journal);
	r->switch_in_flight = false;
	if (text == NULL)
		persist(r, &r->state, now); /* the first leader: etcd gets the state we had */
	r->recovering = r->state.phase == PHASE_SWITCHING || r->state.phase == PHASE_ROLLING_BACK;
	r->takeover = true;
	if (schedule_first_read(r) != 0) {
		log_error(
		        "cannot schedule the LB read of the takeover: acting on the state as read");
		r->takeover = false;
	}
}

json_t *cutover_runner_ha_carry_out(struct cutover_runner *r, const struct ha_request *request,
                                    int *status)
{
	return cutover_runner_request(r, request->kind, request->cluster, request->force,
	                              request->reason, request->by, collector_clock(r->collector),
	                              status);
}

bool cutover_runner_acting(const struct cutover_runner *r, struct clock_now now)
{
	return acting(r, now);
}

void cutover_runner_lb_retrying(struct cutover_runner *r, const char *reason, struct clock_now now)
{
	journal_append(r->collector->journal, now.unix_ms,
	               json_pack("{s:s,s:s,s:s}", "type", "lb-attempt", "cluster", r->state.other,
	                         "error", reason));
}

void cutover_runner_lb_note(struct cutover_runner *r, const char *note, struct clock_now now)
{
	journal_append(r->collector->journal, now.unix_ms,
	               json_pack("{s:s,s:s,s:s}", "type", "lb-note", "cluster", r->state.other,
	                         "note", note));
}

void cutover_runner_lb_warning(struct cutover_runner *r, const char *warning, struct clock_now now)
{
	snprintf(r->lb_warning_cluster, sizeof(r->lb_warning_cluster), "%s", r->state.other);
	snprintf(r->lb_warning, sizeof(r->lb_warning), "%s", warning);
	journal_append(r->collector->journal, now.unix_ms,
	               json_pack("{s:s,s:s,s:s}", "type", "lb-warning", "cluster", r->state.other,
	                         "warning", warning));
}

bool cutover_runner_lb_warning_open(const struct cutover_runner *r, const char **cluster,
                                    const char **why)
{
	*cluster = r->lb_warning_cluster;
	*why = r->lb_warning;
	return r->lb_warning_cluster[0] != '\0';
}

/* The driver finished a switch we asked for (from the driver's callback). */
static void on_switched(bool ok, const char *error, void *arg)
{
	struct cutover_runner *r = arg;
	struct clock_now now = collector_clock(r->collector);
	struct cutover_event event = {.kind = EVENT_LB_RESULT, .ok = ok};
	r->switch_in_flight = false;
	/* an open finding until a later switch works */
	snprintf(r->lb_problem_cluster, sizeof(r->lb_problem_cluster), "%s",
	         ok ? "" : r->state.other);
	snprintf(r->lb_problem, sizeof(r->lb_problem), "%s", ok || error == NULL ? "" : error);
	snprintf(event.cluster, sizeof(event.cluster), "%s", r->state.other);
	text_copy(event.text, sizeof(event.text), error);
	count_switch(r, event.cluster, ok, now.mono_ms);
	journal_append(r->collector->journal, now.unix_ms,
	               json_pack("{s:s,s:s,s:b,s:s}", "type", "lb-switch", "cluster", event.cluster,
	                         "ok", ok, "error", error != NULL ? error : ""));
	struct cutover_result result;
	step(r, &event, now, &result);
}

/* The driver read where the LB points. */
static void on_current(const char *cluster, const char *error, void *arg)
{
	struct cutover_runner *r = arg;
	r->polling = false;
	r->takeover = false; /* read once: a new leader acts from now on */
	if (cluster == NULL)
		log_msg(r->recovering ? LOG_LEVEL_WARN : LOG_LEVEL_DEBUG,
		        "cannot read the LB's target: %s", error);
	if (cluster == NULL && !r->recovering)
		return;
	/* the state machine decides what a reading means in every phase */
	struct cutover_event event = {.kind = r->recovering ? EVENT_RECOVER : EVENT_LB_OBSERVED};
	r->recovering = false;
	snprintf(event.cluster, sizeof(event.cluster), "%s", cluster != NULL ? cluster : "");
	struct cutover_result result;
	step(r, &event, collector_clock(r->collector), &result);
}

/*
 * Woken once, from the loop, right after the start when the saved state is
 * SWITCHING or ROLLING_BACK (a crash cut a switch off) or no active cluster
 * is known yet (first start without initial_active): the LB is read without
 * waiting for the start-up grace, and what it says settles the state. A
 * driver that cannot tell settles a recovery on "unreadable".
 */
static void on_first_read(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct cutover_runner *r = arg;
	if (r->lb.current != NULL && !r->polling) {
		r->polling = true;
		r->lb.current(r->lb.impl, on_current, r);
	} else if (r->recovering || r->takeover) {
		on_current(NULL, "the [lb] driver cannot tell", r);
	}
}

struct cutover_runner *cutover_runner_new(struct collector *collector,
                                          const struct lb_driver *driver, char *err, size_t err_len)
{
	struct cutover_runner *r = calloc(1, sizeof(*r));
	if (r == NULL) {
		snprintf(err, err_len, "out of memory");
		return NULL;
	}
	r->collector = collector;
	const struct watch_section *w = &collector->config.watch;
	r->watch = (struct watch_settings){
	        .max_failure_ratio = w->max_failure_ratio,
	        .baseline_factor = w->baseline_factor,
	        .detect_factor = w->detect_factor,
	        .evidence_threshold = w->evidence_threshold,
	        .user_error_factor = w->user_error_factor,
	        .failure_types = w->failure_type_bits,
	        .sustain_ms = w->sustain_ms,
	};
	bool found = false;
	struct detector_checkpoint checkpoint;
	if (state_file_load(collector->config.collector.state_dir, collector_clock(collector),
	                    &r->state, &checkpoint, &found, err, err_len) != 0) {
		free(r);
		return NULL;
	}
	if (!found) {
		const char *active = collector->config.collector.initial_active;
		const char *standby = "";
		for (size_t i = 0; i < collector->cluster_count; i++)
			if (active == NULL || strcmp(collector->clusters[i].name, active) != 0) {
				standby = collector->clusters[i].name;
				break;
			}
		cutover_state_init(&r->state, active, standby);
	} else {
		log_info("cutover state: %s, active %s%s", cutover_phase_name(r->state.phase),
		         r->state.active[0] ? r->state.active : "(none)",
		         r->state.phase == PHASE_WATCHING ? ", resuming the watch" : "");
	}
	/* A watch interrupted by a restart goes on with its remaining time and the
	 * evidence checkpointed at most a second before the stop. */
	detector_start(&r->detector, &r->watch, &r->state.baseline);
	if (found && r->state.phase == PHASE_WATCHING)
		detector_checkpoint_restore(&r->detector, &checkpoint);
	/* every pair of clusters from the start, so rate() sees the first switch */
	for (size_t i = 0; i < collector->cluster_count; i++)
		for (size_t j = 0; j < collector->cluster_count; j++)
			if (i != j)
				(void)switch_count_of(&r->counters, collector->clusters[i].name,
				                      collector->clusters[j].name);
	switch_accounting_init(&r->losses, collector);
	r->lb = *driver;
	r->recovering = found &&
	                (r->state.phase == PHASE_SWITCHING || r->state.phase == PHASE_ROLLING_BACK);
	/* with [ha], the leader reads the LB when it takes over, not before */
	if (collector->ha == NULL && (r->recovering || r->state.active[0] == '\0') &&
	    schedule_first_read(r) != 0) {
		snprintf(err, err_len, "cannot schedule the first read of the LB");
		if (r->first_read != NULL)
			event_free(r->first_read);
		free(r);
		return NULL;
	}
	return r;
}

void cutover_runner_free(struct cutover_runner *r)
{
	if (r == NULL)
		return;
	if (r->first_read != NULL)
		event_free(r->first_read);
	if (r->lb.impl != NULL)
		r->lb.free(r->lb.impl);
	free(r);
}

void cutover_runner_tick(struct cutover_runner *r, struct clock_now now)
{
	int64_t now_ms = now.mono_ms;
	if (!acting(r, now))
		return; /* a follower mirrors etcd's state; a new leader first reads the LB */
	struct cutover_event tick = {.kind = EVENT_TICK};
	struct cutover_result result;
	step(r, &tick, now, &result);
	/* the evidence, once a second at most, when it changed */
	if (r->state.phase == PHASE_WATCHING && now_ms >= r->next_checkpoint_ms) {
		struct detector_checkpoint now_evidence;
		detector_checkpoint_take(&r->detector, &now_evidence);
		if (!detector_checkpoint_equal(&now_evidence, &r->saved))
			persist(r, &r->state, now);
		r->next_checkpoint_ms = now_ms + 1000;
	}
	if (r->lb.current != NULL && !r->polling && now_ms >= r->next_poll_ms) {
		r->polling = true;
		r->next_poll_ms = now_ms + r->collector->config.lb.poll_ms;
		r->lb.current(r->lb.impl, on_current, r);
	}
}

json_t *cutover_runner_request(struct cutover_runner *r, enum cutover_event_kind kind,
                               const char *cluster, bool force, const char *reason, const char *by,
                               struct clock_now now, int *status)
{
	if (!acting(r, now)) {
		/* the leader lost its lease, or is reading the LB after taking over */
		*status = 503;
		return json_pack(
		        "{s:s}", "error",
		        "this collector does not lead right now: ask again in a few seconds");
	}
	struct cutover_event event = {.kind = kind, .force = force};
	snprintf(event.cluster, sizeof(event.cluster), "%s", cluster != NULL ? cluster : "");
	text_copy(event.text, sizeof(event.text), reason);
	struct cutover_result result;
	decide(r, &event, now, &result);
	const struct gate_result *gate = kind == EVENT_CUTOVER && !r->gate.pass ? &r->gate : NULL;
	journal_append(r->collector->journal, now.unix_ms,
	               request_journal_event(&event, by, &result, gate));
	apply(r, &event, now, &result);
	*status = result.status;
	return request_answer_json(&result, &r->state, gate);
}

json_t *cutover_runner_status(const struct cutover_runner *r, struct clock_now now)
{
	const struct cutover_state *s = &r->state;
	json_t *out = json_pack("{s:s,s:s,s:s,s:b,s:b,s:s}", "phase", cutover_phase_name(s->phase),
	                        "active", s->active, "other", s->other, "paused", s->paused,
	                        "dry_run", r->collector->config.watch.dry_run, "reason", s->reason);
	json_t *last_switch = switch_accounting_status(&r->losses, now);
	if (last_switch != NULL)
		json_object_set_new(out, "last_switch", last_switch);
	if (s->phase == PHASE_WATCHING) {
		int64_t left = s->until_ms - now.mono_ms;
		const struct detector *d = &r->detector;
		char explanation[512];
		detector_explain(d, explanation, sizeof(explanation));
		json_object_set_new(
		        out, "watch",
		        json_pack("{s:I,s:{s:f,s:f,s:f,s:f},s:{s:b,s:f,s:f,s:f},s:s}",
		                  "seconds_left", (json_int_t)(left > 0 ? left / 1000 : 0),
		                  "failures", "score", d->failures.score, "threshold",
		                  d->failures.threshold, "p0", d->failures.p0, "estimated_ratio",
		                  d->failures.queries
		                          ? (double)d->failures.failed / (double)d->failures.queries
		                          : 0.0,
		                  "user_errors", "enabled", d->user_channel, "score",
		                  d->user_errors.score, "threshold", d->user_errors.threshold, "p0",
		                  d->user_errors.p0, "explanation", explanation));
		json_object_set_new(out, "drain",
		                    drain_status_json(&r->drain, s->other,
		                                      r->collector->config.watch.drain_quiet_ms,
		                                      now));
	}
	return out;
}

bool cutover_runner_degraded(struct cutover_runner *r, const char **cluster, const char **why)
{
	if (r->state.phase != PHASE_WATCHING || r->detector.verdict == VERDICT_HEALTHY)
		return false;
	detector_explain(&r->detector, r->degraded_why, sizeof(r->degraded_why));
	*cluster = r->state.active;
	*why = r->degraded_why;
	return true;
}

void cutover_runner_metrics(const struct cutover_runner *r, struct clock_now now,
                            struct cutover_metrics *out)
{
	int64_t left = r->state.until_ms - now.mono_ms;
	*out = (struct cutover_metrics){
	        .counters = &r->counters,
	        .losses = &r->losses,
	        .phase = r->state.phase,
	        .paused = r->state.paused,
	        .watching = r->state.phase == PHASE_WATCHING,
	        .failure_score = r->detector.failures.score,
	        .user_score = r->detector.user_errors.score,
	        .threshold = r->detector.failures.threshold,
	        .seconds_left = r->state.phase == PHASE_WATCHING && left > 0 ? left / 1000 : 0,
	};
}

bool cutover_runner_lb_problem(const struct cutover_runner *r, const char **cluster,
                               const char **why)
{
	*cluster = r->lb_problem_cluster;
	*why = r->lb_problem;
	return r->lb_problem_cluster[0] != '\0';
}

const struct lb_driver *cutover_runner_driver(const struct cutover_runner *r)
{
	return &r->lb;
}

const char *cutover_runner_active(const struct cutover_runner *r)
{
	return r->state.active;
}
