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
#include "cutover_runner_impl.h"
#include "degradation.h"
#include "drain.h"
#include "drain_status.h"
#include "failure_ratio.h"
#include "ha.h"
#include "journal.h"
#include "lb_none.h"
#include "log.h"
#include "request_journal.h"
#include "rollback_target.h"
#include "state_file.h"
#include "switch_accounting.h"
#include "text_cut.h"

/* A switch we asked for finished: its count by result and its duration. */
static void count_switch(struct cutover_runner *r, const char *to, bool ok, int64_t now_ms)
{
	cutover_counters_switched(&r->counters, r->switch_from, to, ok,
	                          (double)(now_ms - r->switch_started_ms) / 1000.0);
}

/* A transition that takes users off the watched cluster: counted by its cause. */
static void count_rollback(struct cutover_runner *r, const struct cutover_event *event,
                           enum cutover_phase to)
{
	cutover_counters_transition(&r->counters, event->kind == EVENT_ROLLBACK, r->state.phase,
	                            to);
}

/* Writes the state and, during a watch, the detector's evidence. */
void runner_persist(struct cutover_runner *r, const struct cutover_state *state,
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
	bool saved = state_file_save(r->collector->config.collector.state_dir, state, &checkpoint,
	                             now, err, sizeof(err)) == 0;
	/* a failed save is retried at every tick (cutover_runner_tick) until it works */
	bool changed = state_dir_health_saved(&r->collector->state_dir_health, STATE_DIR_CUTOVER,
	                                      saved ? NULL : err);
	if (!saved && changed)
		log_error("cannot persist the cutover state: %s; retried at every tick", err);
	else if (saved && changed)
		log_info("the cutover state is saved again");
	if (saved)
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
	f->manual_lb = r->lb.switch_to == NULL; /* none, with or without a reader */
	f->hand_switch_read = f->manual_lb && r->lb.current != NULL;
	f->hand_switch_traffic = f->manual_lb && r->traffic_settings.min_queries > 0;
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
	f->drain_shutdown = r->shutdown != NULL && !c->config.watch.dry_run;
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
		runner_persist(r, &result->next, now);
		if (result->next.phase != r->state.phase)
			r->traffic.from[0] =
			        '\0'; /* a switch by hand awaited counts from its start */
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
		/*
		 * Only what leaves the collector waits for etcd: the watch's detector
		 * starts now, with the phase that just became WATCHING, or the ticks
		 * before the save would judge the new watch on the last one's evidence.
		 */
		struct cutover_action outward[CUTOVER_MAX_ACTIONS];
		size_t count = 0;
		for (size_t i = 0; i < result->action_count; i++) {
			if (result->actions[i].kind == ACTION_START_WATCH)
				runner_run_actions(r, &result->actions[i], 1, now);
			else
				outward[count++] = result->actions[i];
		}
		if (count > 0 &&
		    cutover_pending_add(&r->pending, outward, count, r->last_save_seq) != 0)
			log_error(
			        "etcd: too many actions wait for the state to be saved: the oldest "
			        "were dropped");
	} else {
		runner_run_actions(r, result->actions, result->action_count, now);
	}
	journal_sync(c->journal);
}

/* Runs ACTIONS, decided by a state that is saved. */
void runner_run_actions(struct cutover_runner *r, const struct cutover_action *actions,
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
			if (r->lb.switch_to == NULL) {
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
		case ACTION_DRAIN_SHUTDOWN:
			if (r->shutdown != NULL)
				drain_shutdown_start(r->shutdown, a->cluster, now);
			break;
		}
	}
}

/* Whether this collector steps the cutover: always alone, with [ha] only as the leader. */
bool runner_acting(const struct cutover_runner *r, struct clock_now now)
{
	const struct ha *ha = r->collector->ha;
	return ha == NULL || (ha_acting(ha, now.mono_ms) && !r->takeover);
}

static void step(struct cutover_runner *r, const struct cutover_event *event, struct clock_now now,
                 struct cutover_result *result)
{
	if (!runner_acting(r, now)) {
		memset(result, 0, sizeof(*result));
		return; /* another collector leads: the state comes from etcd */
	}
	decide(r, event, now, result);
	apply(r, event, now, result);
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

/* Reads the LB once, from the loop, before acting: at start and at a takeover. */
int runner_schedule_first_read(struct cutover_runner *r)
{
	static const struct timeval no_delay = {0, 0};
	if (r->first_read == NULL &&
	    (r->first_read = evtimer_new(r->collector->base, on_first_read, r)) == NULL)
		return -1;
	return evtimer_add(r->first_read, &no_delay);
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
				cutover_counters_add_pair(&r->counters, collector->clusters[i].name,
				                          collector->clusters[j].name);
	switch_accounting_init(&r->losses, collector);
	lb_none_traffic(&collector->config, &r->traffic_settings);
	if (w->drain_shutdown_command != NULL &&
	    (r->shutdown = drain_shutdown_new(collector->base, w->drain_shutdown_command,
	                                      w->drain_shutdown_timeout_ms, collector->journal, err,
	                                      err_len)) == NULL) {
		free(r);
		return NULL;
	}
	r->lb = *driver;
	r->recovering = found &&
	                (r->state.phase == PHASE_SWITCHING || r->state.phase == PHASE_ROLLING_BACK);
	/* with [ha], the leader reads the LB when it takes over, not before */
	if (collector->ha == NULL && (r->recovering || r->state.active[0] == '\0') &&
	    runner_schedule_first_read(r) != 0) {
		snprintf(err, err_len, "cannot schedule the first read of the LB");
		if (r->first_read != NULL)
			event_free(r->first_read);
		drain_shutdown_free(r->shutdown);
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
	drain_shutdown_free(r->shutdown);
	free(r);
}

/*
 * While a switch by hand is awaited, users' traffic is read from the
 * coordinators' reports at every tick; once it shows the move to the
 * target, the state machine hears it as it would hear the operator.
 */
static void follow_hand_switch_traffic(struct cutover_runner *r, struct clock_now now)
{
	const struct cutover_state *s = &r->state;
	struct collector *c = r->collector;
	if (r->lb.switch_to != NULL ||
	    (s->phase != PHASE_SWITCHING && s->phase != PHASE_ROLLING_BACK)) {
		r->traffic.from[0] = '\0';
		r->traffic_why[0] = '\0';
		return;
	}
	if (r->traffic.from[0] == '\0' || strcmp(r->traffic.from, s->active) != 0 ||
	    strcmp(r->traffic.to, s->other) != 0)
		traffic_shift_start(&r->traffic, s->active, s->other);
	traffic_shift_observe(&r->traffic, &c->fleet, c->clusters, c->cluster_count, now.mono_ms);
	if (!traffic_shift_moved(&r->traffic, &r->traffic_settings, now.mono_ms, r->traffic_why,
	                         sizeof(r->traffic_why)))
		return;
	struct cutover_event event = {.kind = EVENT_TRAFFIC_MOVED};
	snprintf(event.cluster, sizeof(event.cluster), "%s", s->other);
	text_copy(event.text, sizeof(event.text), r->traffic_why);
	struct cutover_result result;
	step(r, &event, now, &result);
}

void cutover_runner_tick(struct cutover_runner *r, struct clock_now now)
{
	int64_t now_ms = now.mono_ms;
	if (!runner_acting(r, now))
		return; /* a follower mirrors etcd's state; a new leader first reads the LB */
	struct cutover_event tick = {.kind = EVENT_TICK};
	struct cutover_result result;
	step(r, &tick, now, &result);
	follow_hand_switch_traffic(r, now);
	/* cutover.json catches up with the running state after a failed save */
	if (state_dir_health_failing(&r->collector->state_dir_health, STATE_DIR_CUTOVER))
		runner_persist(r, &r->state, now);
	/* the evidence, once a second at most, when it changed */
	if (r->state.phase == PHASE_WATCHING && now_ms >= r->next_checkpoint_ms) {
		struct detector_checkpoint now_evidence;
		detector_checkpoint_take(&r->detector, &now_evidence);
		if (!detector_checkpoint_equal(&now_evidence, &r->saved))
			runner_persist(r, &r->state, now);
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
	if (!runner_acting(r, now)) {
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
