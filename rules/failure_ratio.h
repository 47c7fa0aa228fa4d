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

/* Wilson score interval of F successes in N trials at Z; [0, 1] when N is 0. */
void wilson_interval(uint64_t n, uint64_t f, double z, double *lower, double *upper);

#endif
