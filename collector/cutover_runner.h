/*
 * The collector's side of the cutover (docs/DESIGN.md §6-§7): keeps the cutover
 * state (persisted in state_dir), feeds the pure state machine with ticks,
 * operator requests and what the load balancer did or shows, carries out its
 * actions (LB switches through the driver, alerts into the journal and log)
 * and runs the degradation detector while a cluster is watched.
 */
#ifndef TG_CUTOVER_RUNNER_H
#define TG_CUTOVER_RUNNER_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "clock.h"
#include "collector.h"
#include "cutover.h"
#include "cutover_counters.h"
#include "lb.h"

struct cutover_runner;
struct ha_request;
struct switch_accounting;

/*
 * Loads the saved state (or starts STEADY on initial_active). DRIVER (copied;
 * .impl NULL for none) is the runner's once this succeeds, freed with it; on
 * failure (NULL with ERR) the caller still owns it.
 */
struct cutover_runner *cutover_runner_new(struct collector *collector,
                                          const struct lb_driver *driver, char *err,
                                          size_t err_len);
void cutover_runner_free(struct cutover_runner *runner);

/*
 * With [ha] (collector->ha, created after the runner and calling these):
 * etcd's state to mirror or, with TAKEOVER, to lead from (TEXT NULL: etcd
 * has none, ours is written); a follower's request to carry out; a save in
 * etcd (OK) or lost. Without [ha] none of them is called.
 */
void cutover_runner_ha_state(struct cutover_runner *runner, const char *text, size_t len,
                             bool takeover);
json_t *cutover_runner_ha_carry_out(struct cutover_runner *runner, const struct ha_request *request,
                                    int *status);
void cutover_runner_ha_saved(struct cutover_runner *runner, uint64_t seq, bool ok);

/* Whether this collector steps the cutover now (with [ha]: it leads, past its takeover). */
bool cutover_runner_acting(const struct cutover_runner *runner, struct clock_now now);

/* Once per tick, after the findings: the watch, the LB poll. */
void cutover_runner_tick(struct cutover_runner *runner, struct clock_now now);

/* The LB driver is about to retry a failed attempt: journaled as lb-attempt. */
void cutover_runner_lb_retrying(struct cutover_runner *runner, const char *reason,
                                struct clock_now now);

/* The LB driver says how a switch decided a step: journaled as lb-note. */
void cutover_runner_lb_note(struct cutover_runner *runner, const char *note, struct clock_now now);

/*
 * The switch under way worked but left WARNING (a map file not rewritten):
 * journaled as lb-warning, and an open finding until the next switch.
 */
void cutover_runner_lb_warning(struct cutover_runner *runner, const char *warning,
                               struct clock_now now);

/* That warning's cluster and text while open; false otherwise. */
bool cutover_runner_lb_warning_open(const struct cutover_runner *runner, const char **cluster,
                                    const char **why);

/*
 * An operator request (EVENT_CUTOVER, EVENT_ROLLBACK, EVENT_PAUSE,
 * EVENT_RESUME, EVENT_CONFIRM) from BY (who asked: "token from
 * 127.0.0.1:5000"; may be NULL), journaled with its outcome before what it
 * sets off. Returns the
 * answer as a new JSON object and its HTTP status.
 */
json_t *cutover_runner_request(struct cutover_runner *runner, enum cutover_event_kind kind,
                               const char *cluster, bool force, const char *reason, const char *by,
                               struct clock_now now, int *status);

/* The cutover part of /v1/status (new object). */
json_t *cutover_runner_status(const struct cutover_runner *runner, struct clock_now now);

/* The runner's LB driver (.impl NULL: none); borrowed. */
const struct lb_driver *cutover_runner_driver(const struct cutover_runner *runner);

/* When the last LB switch failed: its target in CLUSTER and the reason; false otherwise. */
bool cutover_runner_lb_problem(const struct cutover_runner *runner, const char **cluster,
                               const char **why);

struct cutover_metrics {
	const struct cutover_counters *counters; /* borrowed from the runner */
	const struct switch_accounting *losses;  /* borrowed from the runner */
	const struct drain_state *drain;         /* borrowed while watching, else NULL */
	enum cutover_phase phase;
	bool paused;
	bool watching;
	double failure_score, user_score, threshold;
	int64_t seconds_left;
};

/* Numbers for /metrics. */
void cutover_runner_metrics(const struct cutover_runner *runner, struct clock_now now,
                            struct cutover_metrics *out);

/* While a watched cluster is degraded (and users are still on it): which, and why. */
bool cutover_runner_degraded(struct cutover_runner *runner, const char **cluster, const char **why);

/*
 * While a switch by hand is awaited, what users' traffic shows of it so far
 * ("" otherwise); NULL when [lb.none] traffic_queries = 0 takes no evidence from it.
 */
const char *cutover_runner_hand_switch_traffic(const struct cutover_runner *runner);

/* The cluster the LB sends users to, as far as we know ("" if unknown). */
const char *cutover_runner_active(const struct cutover_runner *runner);

#endif
