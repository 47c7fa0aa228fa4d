/*
 * The cutover runner's insides, shared by its files only: cutover_runner.c
 * (the steps and the LB), cutover_ha.c (etcd's side) and cutover_view.c
 * (status and metrics). Nothing else includes this.
 */
#ifndef TG_CUTOVER_RUNNER_IMPL_H
#define TG_CUTOVER_RUNNER_IMPL_H

#include <stdbool.h>
#include <stdint.h>

#include "collector.h"
#include "cutover.h"
#include "cutover_counters.h"
#include "cutover_pending.h"
#include "degradation.h"
#include "drain.h"
#include "drain_shutdown.h"
#include "gate.h"
#include "lb.h"
#include "switch_accounting.h"
#include "traffic_shift.h"

struct cutover_runner {
	struct collector *collector;
	struct cutover_state state;
	struct watch_settings watch;
	struct detector detector;
	struct drain_state drain;        /* of the old cluster (state.other) */
	struct drain_shutdown *shutdown; /* [watch] drain_shutdown_command; NULL: off */
	struct lb_driver lb;             /* .impl NULL: no driver */
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

	/* a switch by hand awaited: users' traffic read for its move ("" from: not counting) */
	struct traffic_shift traffic;
	struct traffic_shift_settings traffic_settings; /* [lb.none] */
	char traffic_why[CUTOVER_TEXT_LEN];             /* what it shows so far */

	/*
	 * With [ha]: actions wait until the state that decided them is in etcd
	 * (each batch with the number of the save it waits for), and a new
	 * leader acts on nothing until it has read the LB once (takeover).
	 */
	struct cutover_pending pending;
	uint64_t last_save_seq, saved_seq;
	bool takeover;
};

/* Writes STATE (to cutover.json, or with [ha] to etcd) and the watch's evidence. */
void runner_persist(struct cutover_runner *r, const struct cutover_state *state,
                    struct clock_now now);

/* Carries out ACTIONS, decided by a state that is saved. */
void runner_run_actions(struct cutover_runner *r, const struct cutover_action *actions,
                        size_t count, struct clock_now now);

/* Whether this collector steps the cutover: always alone, with [ha] only as the leader. */
bool runner_acting(const struct cutover_runner *r, struct clock_now now);

/* Reads the LB once, from the loop, before acting: at start and at a takeover. 0 or -1. */
int runner_schedule_first_read(struct cutover_runner *r);

#endif
