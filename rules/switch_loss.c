/*
 * Lost-query accounting's bookkeeping (switch_loss.h). Why this delta and
 * nothing else: the failed polls of a plain switch land on the new cluster,
 * which answers 404 "Query not found" without counting anything, and the
 * load balancer's statistics count answers per backend and status class,
 * not per path, so the only per-query trace a lost query leaves is the old
 * coordinator's AbandonedQueries when query.client.timeout fires. A query
 * POSTed to the old cluster whose first poll reached the new one never ran
 * and is counted nowhere (Trino's RunningQueries and AbandonedQueries skip
 * queries never submitted): the accounting undercounts by those.
 */
#include "switch_loss.h"

#include <stdio.h>
#include <string.h>

void switch_loss_book_init(struct switch_loss_book *book)
{
	memset(book, 0, sizeof(*book));
}

/* A free slot: unused, else the oldest settled, else the oldest. */
static struct switch_loss *free_slot(struct switch_loss_book *book)
{
	if (book->used < SWITCH_LOSS_SLOTS)
		return &book->entries[book->used++];
	struct switch_loss *oldest = NULL, *oldest_settled = NULL;
	for (size_t i = 0; i < SWITCH_LOSS_SLOTS; i++) {
		struct switch_loss *e = &book->entries[i];
		if (oldest == NULL || e->switched_ms < oldest->switched_ms)
			oldest = e;
		if (e->settled &&
		    (oldest_settled == NULL || e->switched_ms < oldest_settled->switched_ms))
			oldest_settled = e;
	}
	return oldest_settled != NULL ? oldest_settled : oldest;
}

struct switch_loss *switch_loss_begin(struct switch_loss_book *book, const char *from,
                                      const char *to, bool rollback,
                                      const struct counter_sample *latest, int64_t settle_ms,
                                      int64_t now_ms, int64_t now_unix_ms)
{
	for (size_t i = 0; i < book->used; i++) {
		struct switch_loss *e = &book->entries[i];
		if (!e->settled && strcmp(e->from, from) == 0) {
			(void)switch_loss_observe(e, latest, now_ms);
			if (e->settle_at_ms > now_ms) {
				e->settle_at_ms = now_ms; /* settles at its next observation */
				e->cut_short = true;
			}
		}
	}
	struct switch_loss *e = free_slot(book);
	memset(e, 0, sizeof(*e));
	snprintf(e->from, sizeof(e->from), "%s", from);
	snprintf(e->to, sizeof(e->to), "%s", to);
	e->rollback = rollback;
	e->switched_ms = now_ms;
	e->switched_unix_ms = now_unix_ms;
	e->settle_at_ms = now_ms + settle_ms;
	if (latest != NULL) {
		e->baseline_known = true;
		e->baseline = e->last = latest->abandoned;
	}
	book->latest = (size_t)(e - book->entries);
	return e;
}

bool switch_loss_observe(struct switch_loss *e, const struct counter_sample *latest, int64_t now_ms)
{
	if (e->settled)
		return false;
	if (latest != NULL && latest->received_ms <= e->settle_at_ms) {
		if (!e->baseline_known) {
			e->baseline_known = true;
			e->baseline = e->last = latest->abandoned;
		} else if (latest->abandoned < e->last) {
			/* Trino's counters start over with its JVM */
			e->before_reset += e->last - e->baseline;
			e->baseline = 0;
			e->last = latest->abandoned;
		} else {
			e->last = latest->abandoned;
		}
		e->lost_queries = e->before_reset + (e->last - e->baseline);
	}
	if (now_ms < e->settle_at_ms)
		return false;
	e->settled = true;
	return true;
}

const struct switch_loss *switch_loss_latest(const struct switch_loss_book *book)
{
	return book->used > 0 ? &book->entries[book->latest] : NULL;
}
