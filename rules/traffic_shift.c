/*
 * The traffic evidence of a switch by hand (traffic_shift.h): each
 * coordinator's admitted queries counted from its reports, FROM's quiet and
 * TO's arrivals after it.
 */
#include "traffic_shift.h"

#include <stdio.h>
#include <string.h>

void traffic_shift_start(struct traffic_shift *shift, const char *from, const char *to)
{
	memset(shift, 0, sizeof(*shift));
	snprintf(shift->from, sizeof(shift->from), "%s", from);
	snprintf(shift->to, sizeof(shift->to), "%s", to);
	shift->from_last_ms = -1;
}

/* CLUSTER's admitted queries in *ADMITTED and its boot in *BOOT_KEY; false when unknown. */
static bool read_admitted(const struct fleet *fleet, const struct cluster_settings *clusters,
                          size_t cluster_count, const char *cluster, int64_t now_ms,
                          uint64_t *admitted, uint64_t *boot_key)
{
	const struct fleet_node *coordinator = NULL;
	for (size_t i = 0; i < cluster_count && coordinator == NULL; i++)
		if (strcmp(clusters[i].name, cluster) == 0)
			coordinator = cluster_live_coordinator(fleet, &clusters[i], now_ms);
	if (coordinator == NULL || !coordinator->has_counters ||
	    coordinator->counters_state != TRINOGUARD__V1__COUNTER_STATE__COUNTERS_OK ||
	    coordinator->running < 0 || coordinator->queued < 0)
		return false;
	const struct counter_sample *latest = fleet_sample(coordinator, 0);
	if (latest == NULL)
		return false;
	*admitted =
	        latest->completed + (uint64_t)coordinator->running + (uint64_t)coordinator->queued;
	*boot_key = latest->boot_key;
	return true;
}

/*
 * Folds one reading into SIDE: the queries admitted since the last one in
 * *NEW. False when the reading says nothing of the time since: the
 * coordinator is not seen, or its counters started over (a first reading
 * only sets the mark).
 */
static bool side_update(struct traffic_side *side, bool known, uint64_t admitted, uint64_t boot_key,
                        uint64_t *new_queries)
{
	*new_queries = 0;
	if (!known)
		return false;
	if (!side->seen || side->boot_key != boot_key) {
		bool first = !side->seen;
		side->seen = true;
		side->boot_key = boot_key;
		side->high = admitted;
		return first;
	}
	if (admitted > side->high) {
		*new_queries = admitted - side->high;
		side->high = admitted;
	}
	return true;
}

void traffic_shift_observe(struct traffic_shift *shift, const struct fleet *fleet,
                           const struct cluster_settings *clusters, size_t cluster_count,
                           int64_t now_ms)
{
	uint64_t admitted = 0, boot_key = 0, from_new = 0, to_new = 0;
	bool known = read_admitted(fleet, clusters, cluster_count, shift->from, now_ms, &admitted,
	                           &boot_key);
	bool from_seen = side_update(&shift->from_side, known, admitted, boot_key, &from_new);
	known = read_admitted(fleet, clusters, cluster_count, shift->to, now_ms, &admitted,
	                      &boot_key);
	side_update(&shift->to_side, known, admitted, boot_key, &to_new);
	if (!from_seen || from_new > 0) {
		/* FROM took queries, or may have unseen: TO's count starts after it */
		shift->from_admitted += from_new;
		shift->from_last_ms = now_ms;
		shift->to_after_from = 0;
		return;
	}
	shift->to_after_from += to_new;
}

bool traffic_shift_moved(const struct traffic_shift *shift,
                         const struct traffic_shift_settings *settings, int64_t now_ms, char *why,
                         size_t why_len)
{
	if (settings->min_queries == 0) {
		snprintf(why, why_len,
		         "traffic is not taken as evidence ([lb.none] traffic_queries = 0)");
		return false;
	}
	if (shift->from_admitted == 0) {
		snprintf(why, why_len, "%s has taken no new query since the switch was asked",
		         shift->from);
		return false;
	}
	int64_t quiet_ms = shift->from_last_ms >= 0 ? now_ms - shift->from_last_ms : 0;
	if (quiet_ms < settings->quiet_ms || shift->to_after_from < settings->min_queries) {
		snprintf(why, why_len,
		         "%s took %llu of %llu new queries while %s took none for %lld s of %lld s",
		         shift->to, (unsigned long long)shift->to_after_from,
		         (unsigned long long)settings->min_queries, shift->from,
		         (long long)(quiet_ms / 1000), (long long)(settings->quiet_ms / 1000));
		return false;
	}
	snprintf(why, why_len, "%s took %llu new queries and %s none for %lld s", shift->to,
	         (unsigned long long)shift->to_after_from, shift->from,
	         (long long)(quiet_ms / 1000));
	return true;
}
