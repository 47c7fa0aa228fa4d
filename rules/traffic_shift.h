/*
 * Whether users' traffic has moved from one cluster to another, read from
 * the coordinators' reports: the evidence that a switch by hand ([lb] driver
 * = none) was made. Pure: the fleet and the time are parameters.
 *
 * A coordinator's admitted queries are its finished ones plus those running
 * and queued, all from one report: a query that finishes moves from running
 * to finished and leaves the sum alone, so old queries draining add nothing
 * and only new arrivals raise it. The sum's highest value is kept, so a
 * gauge's jitter never counts twice. The traffic has moved when
 *   - FROM was seen admitting a query after the switch was asked (the move
 *     was witnessed: a cluster that was idle anyway proves nothing),
 *   - FROM has admitted none for QUIET_MS since, and
 *   - TO admitted at least MIN_QUERIES, all of them after FROM's last one.
 * A trickle of direct queries to TO while users still reach FROM resets the
 * count at each of FROM's queries, so it never adds up. A coordinator that
 * stops reporting, or restarts (its counters start over), is not quiet.
 */
#ifndef TG_TRAFFIC_SHIFT_H
#define TG_TRAFFIC_SHIFT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "findings.h"
#include "fleet.h"

struct traffic_shift_settings {
	uint64_t min_queries; /* 0: traffic is never taken as evidence */
	int64_t quiet_ms;
};

/* One coordinator's admitted queries as last seen. */
struct traffic_side {
	bool seen;         /* HIGH holds a reading of this BOOT_KEY */
	uint64_t boot_key; /* the agent's boot: counters from another start over */
	uint64_t high;     /* the most admitted seen */
};

struct traffic_shift {
	char from[FLEET_CLUSTER_LEN], to[FLEET_CLUSTER_LEN];
	struct traffic_side from_side, to_side;
	uint64_t from_admitted; /* by FROM since the start */
	int64_t from_last_ms;   /* FROM's last new query (or lost sight); -1: none seen */
	uint64_t to_after_from; /* by TO since FROM's last new query */
};

/* Starts counting for a switch from FROM to TO (any count before is dropped). */
void traffic_shift_start(struct traffic_shift *shift, const char *from, const char *to);

/* Reads both coordinators' latest reports in FLEET at NOW_MS. */
void traffic_shift_observe(struct traffic_shift *shift, const struct fleet *fleet,
                           const struct cluster_settings *clusters, size_t cluster_count,
                           int64_t now_ms);

/*
 * Whether the traffic has moved from FROM to TO by NOW_MS under SETTINGS.
 * WHY says the evidence when true ("green took 25 new queries and blue none
 * for 60 s"), what is still missing when false.
 */
bool traffic_shift_moved(const struct traffic_shift *shift,
                         const struct traffic_shift_settings *settings, int64_t now_ms, char *why,
                         size_t why_len);

#endif
