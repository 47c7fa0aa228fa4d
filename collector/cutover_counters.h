/*
 * The cutover's counters for /metrics: LB switches by source, target and
 * result with their durations, and rollbacks by cause. Counted from the
 * collector's start; plain data, no I/O.
 */
#ifndef TG_CUTOVER_COUNTERS_H
#define TG_CUTOVER_COUNTERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "collector_config.h"
#include "cutover.h"

#define SWITCH_BUCKETS 10
extern const double switch_bucket_bounds[SWITCH_BUCKETS]; /* seconds */

enum rollback_cause {
	ROLLBACK_DEGRADED, /* the detector found the watched cluster degraded */
	ROLLBACK_MANUAL,   /* POST /v1/rollback */
	ROLLBACK_EXTERNAL, /* the LB was moved back outside trino-guard */
	ROLLBACK_CAUSE_COUNT,
};

const char *rollback_cause_name(enum rollback_cause cause);

#define SWITCH_PAIRS (COLLECTOR_MAX_CLUSTERS * 2)

/* LB switches by source and target ("" when the LB's target was unknown). */
struct switch_count {
	char from[64], to[64];
	uint64_t ok, failed;
};

/* Counters since the collector started, for /metrics. */
struct cutover_counters {
	struct switch_count switches[SWITCH_PAIRS];
	size_t switch_pairs;
	uint64_t duration_buckets[SWITCH_BUCKETS]; /* cumulative, per bound */
	uint64_t duration_count;
	double duration_sum_seconds;
	uint64_t rollbacks[ROLLBACK_CAUSE_COUNT];
};

/* The pair FROM -> TO counted from the start, so rate() sees its first switch. */
void cutover_counters_add_pair(struct cutover_counters *c, const char *from, const char *to);

/* A switch asked of the driver from FROM to TO finished (OK or not) after SECONDS. */
void cutover_counters_switched(struct cutover_counters *c, const char *from, const char *to,
                               bool ok, double seconds);

/* The phase went FROM -> TO, by an operator's rollback request (MANUAL) or not. */
void cutover_counters_transition(struct cutover_counters *c, bool manual, enum cutover_phase from,
                                 enum cutover_phase to);

#endif
