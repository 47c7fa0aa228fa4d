/*
 * The cutover runner's side of [ha] (collector/ha/ha.h calls these through
 * the collector): a follower mirrors etcd's state; a new leader takes the
 * state over, reads the LB before it acts, and carries out the requests
 * followers hand on; the actions that waited for a save run once etcd has
 * it, or are dropped when it does not.
 */
#include <stdio.h>
#include <string.h>

#include "cutover_runner.h"
#include "cutover_runner_impl.h"
#include "ha.h"
#include "journal.h"
#include "log.h"
#include "state_file.h"

/* The actions that waited, dropped: the state they came from is not etcd's. */
static void drop_pending(struct cutover_runner *r, struct clock_now now, const char *why)
{
	for (size_t i = 0; i < r->pending.count; i++)
		for (size_t j = 0; j < r->pending.batches[i].count; j++) {
			const struct cutover_action *a = &r->pending.batches[i].actions[j];
			log_warn("not carried out (%s): %s %s", why,
			         a->kind == ACTION_SWITCH_LB ? "switch the LB to" : "action on",
			         a->cluster);
			journal_append(r->collector->journal, now.unix_ms,
			               json_pack("{s:s,s:s,s:s}", "type", "ha-dropped", "cluster",
			                         a->cluster, "why", why));
		}
	r->pending.count = 0;
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
	struct cutover_pending_batch ready[CUTOVER_PENDING_BATCHES];
	size_t n = cutover_pending_take(&r->pending, r->saved_seq, ready);
	for (size_t i = 0; i < n; i++)
		runner_run_actions(r, ready[i].actions, ready[i].count, now);
	journal_sync(r->collector->journal);
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
		runner_persist(r, &r->state,
		               now); /* the first leader: etcd gets the state we had */
	r->recovering = r->state.phase == PHASE_SWITCHING || r->state.phase == PHASE_ROLLING_BACK;
	r->takeover = true;
	if (runner_schedule_first_read(r) != 0) {
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
	return runner_acting(r, now);
}
