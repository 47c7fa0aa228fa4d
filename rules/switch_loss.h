/*
 * Lost-query accounting (docs/DESIGN.md §6): what each switch of the load
 * balancer cost. A query in flight on the old cluster whose polls went
 * elsewhere is orphaned there, and Trino fails it as abandoned once its
 * client has not polled for query.client.timeout (default 5m), counting it
 * in AbandonedQueries. A switch's loss is therefore the old coordinator's
 * AbandonedQueries delta over a settle window longer than that timeout.
 * Pure: time is a parameter; the samples are the fleet's (rules/fleet.h).
 */
#ifndef TG_SWITCH_LOSS_H
#define TG_SWITCH_LOSS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fleet.h"

#define SWITCH_LOSS_SLOTS 16 /* one open per old cluster, so at least the cluster count */

struct switch_loss {
	char from[FLEET_CLUSTER_LEN]; /* the old cluster, whose abandoned queries are counted */
	char to[FLEET_CLUSTER_LEN];
	bool rollback;            /* a rollback (automatic or manual), else a cutover */
	int64_t switched_ms;      /* monotonic, when the LB was seen to point at TO */
	int64_t switched_unix_ms; /* the same, for people */
	int64_t settle_at_ms;     /* samples received until then count; it settles then */
	bool baseline_known;      /* a sample of FROM's coordinator was seen */
	uint64_t baseline;        /* AbandonedQueries at the switch (or first seen after it) */
	uint64_t last;            /* AbandonedQueries in the latest sample counted */
	uint64_t before_reset;    /* abandoned counted in series a coordinator restart ended */
	uint64_t lost_queries;    /* so far; final once settled */
	bool settled;
	bool cut_short; /* a later switch away from FROM took over its counting */
};

struct switch_loss_book {
	struct switch_loss entries[SWITCH_LOSS_SLOTS];
	size_t used;   /* entries[0..used) hold switches */
	size_t latest; /* index of the latest switch, when used > 0 */
};

void switch_loss_book_init(struct switch_loss_book *book);

/*
 * The LB now points at TO instead of FROM (at NOW_MS, NOW_UNIX_MS): starts
 * counting FROM's abandoned queries for SETTLE_MS from LATEST, the newest
 * sample of FROM's coordinator (NULL: none yet; the first one seen is the
 * baseline). An earlier switch away from FROM still counting is counted up
 * to LATEST and ends now (cut_short), so no abandoned query counts twice:
 * it belongs to the latest switch away from its cluster. Returns the new
 * entry (borrowed from BOOK). When every slot counts, the oldest is reused.
 */
struct switch_loss *switch_loss_begin(struct switch_loss_book *book, const char *from,
                                      const char *to, bool rollback,
                                      const struct counter_sample *latest, int64_t settle_ms,
                                      int64_t now_ms, int64_t now_unix_ms);

/*
 * Counts LATEST (FROM's coordinator's newest sample, NULL when none) into
 * ENTRY if it was received before the settle time. A counter that went down
 * is a restarted coordinator: what it counted is kept and its new series
 * counts from 0. Returns true once, at the call that settles ENTRY (NOW_MS
 * at or past its settle time).
 */
bool switch_loss_observe(struct switch_loss *entry, const struct counter_sample *latest,
                         int64_t now_ms);

/* The latest switch, or NULL before the first. Borrowed from BOOK. */
const struct switch_loss *switch_loss_latest(const struct switch_loss_book *book);

#endif
