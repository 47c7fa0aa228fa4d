/*
 * Query failure ratios from a coordinator's cumulative counters: the sum of
 * per-report deltas over a window, where a counter or uptime going down (a
 * Trino restart) or a new agent boot starts a new series, and the Wilson
 * score interval of the ratio. Pure.
 */
#ifndef TG_FAILURE_RATIO_H
#define TG_FAILURE_RATIO_H

#include <stdbool.h>
#include <stdint.h>

#include "fleet.h"

/* Which failure types count (docs/DESIGN.md §5: internal + external + insufficient by default). */
enum failure_type {
	FAILURE_INTERNAL = 1 << 0,
	FAILURE_EXTERNAL = 1 << 1,
	FAILURE_INSUFFICIENT_RESOURCES = 1 << 2,
	FAILURE_USER_ERROR = 1 << 3,
};

#define FAILURE_TYPES_DEFAULT (FAILURE_INTERNAL | FAILURE_EXTERNAL | FAILURE_INSUFFICIENT_RESOURCES)

/* The bit of a failure type named as in [watch] failure_types ("internal", ...), or 0. */
unsigned failure_type_parse(const char *name);

/* z for a two-sided 99 % interval */
#define WILSON_Z_99 2.5758293035489

struct ratio_window {
	uint64_t queries; /* finished queries (delta of Completed) */
	uint64_t failed;  /* of the counted types */
	double ratio;     /* failed / queries; 0 without traffic */
	double lower;     /* Wilson interval */
	double upper;
};

/* The failures of the counted TYPES between two samples. */
uint64_t failure_delta(const struct counter_sample *from, const struct counter_sample *to,
                       unsigned types);

/* True when TO continues FROM's series (same agent boot, no counter or uptime going down). */
bool same_series(const struct counter_sample *from, const struct counter_sample *to);

/* The ratio over samples received in (NOW_MS - WINDOW_MS, NOW_MS]. */
void failure_ratio_window(const struct fleet_node *node, int64_t now_ms, int64_t window_ms,
                          unsigned types, struct ratio_window *out);

/*
 * The finished queries between two samples of one series, split into
 * disjoint outcomes so that their sum is the delta of CompletedQueries
 * (reference: Completed counts every final state; Canceled and Abandoned are
 * user errors, and the four failure types sum to Failed).
 */
enum query_outcome {
	QUERY_SUCCEEDED,
	QUERY_USER_ERROR, /* other than canceled and abandoned */
	QUERY_CANCELED,
	QUERY_ABANDONED,
	QUERY_INTERNAL_ERROR,
	QUERY_EXTERNAL_ERROR,
	QUERY_INSUFFICIENT_RESOURCES,
	QUERY_OUTCOME_COUNT,
};

/* "succeeded", "user_error", ... as in trino_guard_queries_total{outcome}. */
const char *query_outcome_name(enum query_outcome outcome);

/* Adds the outcomes of the queries finished between FROM and TO (same_series) to TOTALS. */
void query_outcomes_add(const struct counter_sample *from, const struct counter_sample *to,
                        uint64_t totals[QUERY_OUTCOME_COUNT]);

/* Wilson score interval of F successes in N trials at Z; [0, 1] when N is 0. */
void wilson_interval(uint64_t n, uint64_t f, double z, double *lower, double *upper);

#endif
