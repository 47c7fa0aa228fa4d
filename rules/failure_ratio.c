/*
 * Failure ratio windows over the fleet's counter samples.
 */
#include "failure_ratio.h"

#include <math.h>
#include <string.h>

uint64_t failure_delta(const struct counter_sample *from, const struct counter_sample *to,
                       unsigned types)
{
	uint64_t failed = 0;
	if (types & FAILURE_INTERNAL)
		failed += to->internal - from->internal;
	if (types & FAILURE_EXTERNAL)
		failed += to->external - from->external;
	if (types & FAILURE_INSUFFICIENT_RESOURCES)
		failed += to->insufficient_resources - from->insufficient_resources;
	if (types & FAILURE_USER_ERROR)
		failed += to->user_error - from->user_error;
	return failed;
}

bool same_series(const struct counter_sample *from, const struct counter_sample *to)
{
	return to->boot_key == from->boot_key && to->uptime_ms >= from->uptime_ms &&
	       to->completed >= from->completed && to->failed >= from->failed &&
	       to->internal >= from->internal && to->external >= from->external &&
	       to->insufficient_resources >= from->insufficient_resources &&
	       to->user_error >= from->user_error && to->canceled >= from->canceled &&
	       to->abandoned >= from->abandoned;
}

static const char *const query_outcome_names[] = {
        [QUERY_SUCCEEDED] = "succeeded",
        [QUERY_USER_ERROR] = "user_error",
        [QUERY_CANCELED] = "canceled",
        [QUERY_ABANDONED] = "abandoned",
        [QUERY_INTERNAL_ERROR] = "internal_error",
        [QUERY_EXTERNAL_ERROR] = "external_error",
        [QUERY_INSUFFICIENT_RESOURCES] = "insufficient_resources",
};
_Static_assert(sizeof(query_outcome_names) / sizeof(query_outcome_names[0]) == QUERY_OUTCOME_COUNT,
               "a name for every query outcome");

const char *query_outcome_name(enum query_outcome outcome)
{
	return outcome < QUERY_OUTCOME_COUNT ? query_outcome_names[outcome] : "?";
}

/* A - B, or 0 when the counters, read at slightly different moments, disagree. */
static uint64_t minus(uint64_t a, uint64_t b)
{
	return a > b ? a - b : 0;
}

void query_outcomes_add(const struct counter_sample *from, const struct counter_sample *to,
                        uint64_t totals[QUERY_OUTCOME_COUNT])
{
	uint64_t finished = to->completed - from->completed;
	uint64_t failed = to->failed - from->failed;
	uint64_t user = to->user_error - from->user_error;
	uint64_t canceled = to->canceled - from->canceled;
	uint64_t abandoned = to->abandoned - from->abandoned;
	totals[QUERY_SUCCEEDED] += minus(finished, failed);
	totals[QUERY_USER_ERROR] += minus(user, canceled + abandoned);
	totals[QUERY_CANCELED] += canceled;
	totals[QUERY_ABANDONED] += abandoned;
	totals[QUERY_INTERNAL_ERROR] += to->internal - from->internal;
	totals[QUERY_EXTERNAL_ERROR] += to->external - from->external;
	totals[QUERY_INSUFFICIENT_RESOURCES] +=
	        to->insufficient_resources - from->insufficient_resources;
}

void wilson_interval(uint64_t n, uint64_t f, double z, double *lower, double *upper)
{
	if (n == 0) {
		*lower = 0;
		*upper = 1;
		return;
	}
	double nn = (double)n;
	double p = (double)f / nn;
	double z2 = z * z;
	double denominator = 1 + z2 / nn;
	double center = (p + z2 / (2 * nn)) / denominator;
	double half = z * sqrt(p * (1 - p) / nn + z2 / (4 * nn * nn)) / denominator;
	*lower = center - half < 0 ? 0 : center - half;
	*upper = center + half > 1 ? 1 : center + half;
}

void failure_ratio_window(const struct fleet_node *node, int64_t now_ms, int64_t window_ms,
                          unsigned types, struct ratio_window *out)
{
	out->queries = 0;
	out->failed = 0;
	/* walk from the newest sample back; each pair (older, newer) is one delta */
	for (size_t i = 0;; i++) {
		const struct counter_sample *newer = fleet_sample(node, i);
		const struct counter_sample *older = fleet_sample(node, i + 1);
		if (newer == NULL || older == NULL || newer->received_ms <= now_ms - window_ms)
			break;
		if (newer->received_ms > now_ms || !same_series(older, newer))
			continue;
		out->queries += newer->completed - older->completed;
		out->failed += failure_delta(older, newer, types);
	}
	if (out->failed > out->queries)
		out->failed = out->queries; /* counters read at slightly different moments */
	out->ratio = out->queries > 0 ? (double)out->failed / (double)out->queries : 0;
	wilson_interval(out->queries, out->failed, WILSON_Z_99, &out->lower, &out->upper);
}

unsigned failure_type_parse(const char *name)
{
	/* the names of Trino's ErrorType, lower case */
	static const struct {
		enum failure_type type;
		const char *name;
	} types[] = {
	        {FAILURE_INTERNAL, "internal"},
	        {FAILURE_EXTERNAL, "external"},
	        {FAILURE_INSUFFICIENT_RESOURCES, "insufficient_resources"},
	        {FAILURE_USER_ERROR, "user_error"},
	};
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (strcmp(types[i].name, name) == 0)
			return (unsigned)types[i].type;
	return 0;
}
