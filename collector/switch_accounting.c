/*
 * Lost-query accounting in the collector (switch_accounting.h): reads the old
 * coordinator's newest counter sample for the pure book, and carries out
 * what a settled switch asks: a journal entry, a total, a page.
 */
#include "switch_accounting.h"

#include <stdio.h>
#include <string.h>

#include "alert.h"
#include "alerts.h"
#include "findings.h"
#include "journal.h"
#include "alert_payload.h"
#include "log.h"

static struct lost_query_count *pair_of(struct switch_accounting *a, const char *from,
                                        const char *to)
{
	for (size_t i = 0; i < a->pair_count; i++)
		if (strcmp(a->pairs[i].from, from) == 0 && strcmp(a->pairs[i].to, to) == 0)
			return &a->pairs[i];
	if (a->pair_count == LOST_QUERY_PAIRS)
		return NULL;
	struct lost_query_count *p = &a->pairs[a->pair_count++];
	snprintf(p->from, sizeof(p->from), "%s", from);
	snprintf(p->to, sizeof(p->to), "%s", to);
	p->lost_queries = 0;
	return p;
}

void switch_accounting_init(struct switch_accounting *a, const struct collector *c)
{
	memset(a, 0, sizeof(*a));
	switch_loss_book_init(&a->book);
	for (size_t i = 0; i < c->cluster_count; i++)
		for (size_t j = 0; j < c->cluster_count; j++)
			if (i != j)
				(void)pair_of(a, c->clusters[i].name, c->clusters[j].name);
}

/* The newest sample of CLUSTER's live coordinator, or NULL. */
static const struct counter_sample *latest_of(const struct collector *c, const char *cluster,
                                              int64_t now_ms)
{
	for (size_t i = 0; i < c->cluster_count; i++)
		if (strcmp(c->clusters[i].name, cluster) == 0) {
			const struct fleet_node *coordinator =
			        cluster_live_coordinator(&c->fleet, &c->clusters[i], now_ms);
			return coordinator != NULL ? fleet_sample(coordinator, 0) : NULL;
		}
	return NULL;
}

void switch_accounting_switched(struct switch_accounting *a, struct collector *c, const char *from,
                                const char *to, bool rollback, struct clock_now now)
{
	/* the earlier switch away from FROM ends here: settle and report it first */
	switch_accounting_observe(a, c, now);
	(void)switch_loss_begin(&a->book, from, to, rollback, latest_of(c, from, now.mono_ms),
	                        c->config.watch.loss_settle_ms, now.mono_ms, now.unix_ms);
	switch_accounting_observe(a, c, now);
}

static const char *kind_of(const struct switch_loss *e)
{
	return e->rollback ? "rollback" : "cutover";
}

/* ENTRY settled: its journal entry, its total, and a page when it lost any. */
static void report_settled(struct switch_accounting *a, struct collector *c,
                           const struct switch_loss *e, struct clock_now now)
{
	struct lost_query_count *pair = pair_of(a, e->from, e->to);
	if (pair != NULL)
		pair->lost_queries += e->lost_queries;
	char when[40];
	alert_format_time(e->switched_unix_ms, when, sizeof(when));
	journal_append(c->journal, now.unix_ms,
	               json_pack("{s:s,s:s,s:s,s:s,s:s,s:I,s:b,s:b}", "type", "switch-loss",
	                         "cluster", e->from, "to", e->to, "switch", kind_of(e),
	                         "switched_at", when, "lost_queries", (json_int_t)e->lost_queries,
	                         "counted", e->baseline_known, "cut_short", e->cut_short));
	if (!e->baseline_known)
		log_warn("the %s from %s to %s at %s: %s's AbandonedQueries never seen, its loss "
		         "is unknown",
		         kind_of(e), e->from, e->to, when, e->from);
	if (e->lost_queries == 0)
		return;
	char summary[600];
	snprintf(summary, sizeof(summary),
	         "the %s from %s to %s at %s lost %llu queries: %s abandoned them after their "
	         "clients' polls went to %s",
	         kind_of(e), e->from, e->to, when, (unsigned long long)e->lost_queries, e->from,
	         e->to);
	log_error("queries-lost: %s", summary);
	journal_append(c->journal, now.unix_ms,
	               json_pack("{s:s,s:s,s:s,s:s,s:s}", "type", "alert", "name", "queries-lost",
	                         "severity", severity_name(SEVERITY_ERROR), "cluster", e->from,
	                         "summary", summary));
	struct alert alert;
	alert_from_event(c->config.collector.environment, "queries-lost", SEVERITY_ERROR, e->from,
	                 summary, now.unix_ms, &alert);
	alerts_publish(c->alerts, &alert, now);
	alerts_flush(c->alerts, now);
}

void switch_accounting_observe(struct switch_accounting *a, struct collector *c,
                               struct clock_now now)
{
	for (size_t i = 0; i < a->book.used; i++) {
		struct switch_loss *e = &a->book.entries[i];
		if (e->settled)
			continue;
		if (switch_loss_observe(e, latest_of(c, e->from, now.mono_ms), now.mono_ms))
			report_settled(a, c, e, now);
	}
}

json_t *switch_accounting_status(const struct switch_accounting *a, struct clock_now now)
{
	const struct switch_loss *e = switch_loss_latest(&a->book);
	if (e == NULL)
		return NULL;
	char when[40];
	alert_format_time(e->switched_unix_ms, when, sizeof(when));
	int64_t left = e->settle_at_ms - now.mono_ms;
	json_t *out = json_pack("{s:s,s:s,s:s,s:s,s:I,s:b,s:b,s:I}", "from", e->from, "to", e->to,
	                        "switch", kind_of(e), "switched_at", when, "lost_queries",
	                        (json_int_t)e->lost_queries, "settled", e->settled, "counted",
	                        e->baseline_known, "settle_seconds_left",
	                        (json_int_t)(e->settled || left < 0 ? 0 : (left + 999) / 1000));
	return out;
}
