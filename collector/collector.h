/*
 * The collector daemon's state, shared by its parts (ingest, tick, API):
 * the config, the fleet table, the open findings, the journal, counters.
 * One instance per process, owned by main.c; everything runs on its loop.
 */
#ifndef TG_COLLECTOR_H
#define TG_COLLECTOR_H

#include <stdbool.h>
#include <stdint.h>

#include "collector_config.h"
#include "findings.h"
#include "fleet.h"

struct cutover_runner;
struct event_base;
struct ingest;
struct journal;

#define TICK_BUCKETS 12

struct tick_stats {
	uint64_t count;
	double sum_seconds;
	double last_seconds;
	uint64_t buckets[TICK_BUCKETS]; /* cumulative counts per bound in tick_bucket_bounds */
};

extern const double tick_bucket_bounds[TICK_BUCKETS];

struct collector {
	struct event_base *base;
	const char *config_path;
	struct collector_config config;
	struct cluster_settings clusters[COLLECTOR_MAX_CLUSTERS];
	size_t cluster_count;
	char active_cluster[64]; /* "" when none is known yet */
	struct fleet fleet;
	struct finding_list findings; /* open now, sorted by key */
	bool findings_ready;          /* false during the start-up grace */
	int64_t started_ms;           /* monotonic */
	int64_t started_unix_ms;
	struct ingest *ingest;
	struct journal *journal;
	struct cutover_runner *cutover;
	struct alerts *alerts; /* the alert feed; NULL until started */
	struct tick_stats ticks;
	char *api_token; /* NULL: write calls need no token */
};

/* The collector's monotonic clock and wall clock in milliseconds. */
int64_t collector_now_ms(void);
int64_t collector_unix_ms(void);

#endif
