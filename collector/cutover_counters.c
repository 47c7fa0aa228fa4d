/*
 * cutover_counters.h: the tables behind trino_guard_switches_total, the
 * switch duration histogram and trino_guard_rollbacks_total.
 */
#include "cutover_counters.h"

#include <stdio.h>
#include <string.h>

const double switch_bucket_bounds[SWITCH_BUCKETS] = {0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};

static const char *const rollback_cause_names[] = {
        [ROLLBACK_DEGRADED] = "degraded",
        [ROLLBACK_MANUAL] = "manual",
        [ROLLBACK_EXTERNAL] = "external",
};
_Static_assert(sizeof(rollback_cause_names) / sizeof(rollback_cause_names[0]) ==
                       ROLLBACK_CAUSE_COUNT,
               "a name for every rollback cause");

const char *rollback_cause_name(enum rollback_cause cause)
{
	return cause < ROLLBACK_CAUSE_COUNT ? rollback_cause_names[cause] : "?";
}

/* The counter of switches FROM -> TO, added when new; NULL when the table is full. */
static struct switch_count *switch_count_of(struct cutover_counters *c, const char *from,
                                            const char *to)
{
	for (size_t i = 0; i < c->switch_pairs; i++)
		if (strcmp(c->switches[i].from, from) == 0 && strcmp(c->switches[i].to, to) == 0)
			return &c->switches[i];
	if (c->switch_pairs == SWITCH_PAIRS)
		return NULL;
	struct switch_count *s = &c->switches[c->switch_pairs++];
	snprintf(s->from, sizeof(s->from), "%s", from);
	snprintf(s->to, sizeof(s->to), "%s", to);
	return s;
}

void cutover_counters_add_pair(struct cutover_counters *c, const char *from, const char *to)
{
	(void)switch_count_of(c, from, to);
}

void cutover_counters_switched(struct cutover_counters *c, const char *from, const char *to,
                               bool ok, double seconds)
{
	struct switch_count *pair = switch_count_of(c, from, to);
	if (pair != NULL) {
		pair->ok += ok;
		pair->failed += !ok;
	}
	c->duration_count++;
	c->duration_sum_seconds += seconds;
	for (int i = 0; i < SWITCH_BUCKETS; i++)
		if (seconds <= switch_bucket_bounds[i])
			c->duration_buckets[i]++;
}

/* A transition that takes users off the watched cluster: counted by its cause. */
void cutover_counters_transition(struct cutover_counters *c, bool manual, enum cutover_phase from,
                                 enum cutover_phase to)
{
	if (to == PHASE_ROLLING_BACK && from != PHASE_ROLLING_BACK)
		c->rollbacks[manual ? ROLLBACK_MANUAL : ROLLBACK_DEGRADED]++;
	else if (to == PHASE_ROLLED_BACK && from == PHASE_WATCHING)
		c->rollbacks[ROLLBACK_EXTERNAL]++;
}
