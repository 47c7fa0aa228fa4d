/*
 * What the alert feed shows of itself: whether its files can be written
 * and were read (for the findings), and each sink's counters.
 */
#include <stdio.h>

#include "alert_spool.h"
#include "alerts_impl.h"

bool alerts_spool_failing(const struct alerts *alerts, char *why, size_t why_len)
{
	for (size_t i = 0; alerts != NULL && i < alerts->sink_count; i++) {
		const struct sink *sink = &alerts->sinks[i];
		if (sink->spool == NULL || !sink->spool_failing)
			continue;
		snprintf(why, why_len, "sink %s: %zu alert(s) only in memory", sink->settings->name,
		         alert_spool_unwritten(sink->spool));
		return true;
	}
	return false;
}

bool alerts_firing_save_failing(const struct alerts *alerts, char *why, size_t why_len)
{
	if (alerts == NULL || !alerts->firing_save_failed)
		return false;
	snprintf(why, why_len, "%s", alerts->firing_why);
	return true;
}

bool alerts_firing_corrupt(const struct alerts *alerts, char *why, size_t why_len)
{
	if (alerts == NULL || alerts->firing_corrupt[0] == '\0')
		return false;
	snprintf(why, why_len, "%s", alerts->firing_corrupt);
	return true;
}

size_t alerts_sink_count(const struct alerts *alerts)
{
	return alerts != NULL ? alerts->sink_count : 0;
}

void alerts_sink_stats(const struct alerts *alerts, size_t index, int64_t now_unix_ms,
                       struct alert_sink_stats *out)
{
	const struct sink *sink = &alerts->sinks[index];
	out->name = sink->settings->name;
	out->type = sink->backend->name;
	out->sent = sink->sent;
	out->retried = sink->retried;
	out->failed = sink->failed;
	out->dropped = sink->dropped;
	out->queued = sink->spool ? alert_spool_count(sink->spool) : 0;
	const struct spool_entry *head = sink->spool ? alert_spool_head(sink->spool) : NULL;
	out->oldest_queued_ms = head != NULL ? now_unix_ms - head->queued_unix_ms : 0;
}
