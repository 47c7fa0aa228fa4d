/*
 * The drain gate (docs/DESIGN.md §6): the old cluster "may be shut down"
 * (the stable event) only once its coordinator has reported zero running
 * and zero queued queries for a configured time; until then, how old its
 * oldest query is, when its agent reads the query list. Pure: time is a
 * parameter.
 */
#ifndef TG_DRAIN_H
#define TG_DRAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "findings.h"
#include "fleet.h"

struct drain_state {
	char cluster[FLEET_CLUSTER_LEN]; /* whose queries are counted */
	bool known;                      /* a live coordinator reported both gauges */
	int64_t running, queued;         /* its last report's, when known */
	int64_t quiet_since_ms;          /* since when both are 0; -1: not quiet */
	/* from the query list, when known: since when (monotonic) the oldest
	 * unfinished query has existed; -1: none, or the list is not read */
	int64_t oldest_query_since_ms;
	char query_list_error[FLEET_TEXT_LEN]; /* why the agent could not read it, "" */
};

/* Reads CLUSTER's live coordinator in FLEET at NOW_MS into STATE (a new cluster starts over). */
void drain_observe(struct drain_state *state, const struct fleet *fleet,
                   const struct cluster_settings *clusters, size_t cluster_count,
                   const char *cluster, int64_t now_ms);

/*
 * Whether the cluster has been quiet for QUIET_MS by NOW_MS (QUIET_MS 0: the
 * gate is off, always true); else says why in WHY ("blue still runs 3
 * queries and queues 0").
 */
bool drain_done(const struct drain_state *state, int64_t quiet_ms, int64_t now_ms, char *why,
                size_t why_len);

#endif
