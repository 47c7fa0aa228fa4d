/*
 * The collector daemon's state, shared by its parts (ingest, tick, API):
 * the config, the fleet table, the open findings, the journal, counters.
 * collector.c creates it, runs its tick and frees it; main.c only adds the
 * options, the signals and the loop, so tests drive a whole collector as a
 * library, with a fake clock and a fake load-balancer driver.
 */
#ifndef TG_COLLECTOR_H
#define TG_COLLECTOR_H

#include <stdbool.h>
#include <stdint.h>

#include "clock.h"
#include "collector_config.h"
#include "failure_ratio.h"
#include "findings.h"
#include "fleet.h"
#include "lb.h"
#include "query_routes.h"
#include "state_dir_health.h"

struct alerts;
struct backend_health;
struct cutover_runner;
struct event_base;
struct evhttp;
struct ha;
struct ingest;
struct api_limits;
struct journal;

#define TICK_BUCKETS 12

struct tick_stats {
	uint64_t count;
	double sum_seconds;
	double last_seconds;
	uint64_t buckets[TICK_BUCKETS]; /* cumulative counts per bound in tick_bucket_bounds */
};

extern const double tick_bucket_bounds[TICK_BUCKETS];

/* What a caller may replace; zero for the real thing. */
struct collector_hooks {
	struct clock_now (*read_clock)(void); /* NULL: clock_read() */
	/* NULL: the driver [lb] names. Owned by the collector once started. */
	struct lb_driver *lb;
};

struct collector {
	struct event_base *base;
	struct collector_config config; /* owned; freed by collector_stop() */
	struct cluster_settings clusters[COLLECTOR_MAX_CLUSTERS];
	size_t cluster_count;
	struct fleet fleet;
	struct finding_list findings; /* open now, sorted by key */
	bool findings_ready;          /* false during the start-up grace */
	int64_t started_ms;           /* monotonic */
	int64_t started_unix_ms;
	struct ingest *ingest;
	struct journal *journal;
	struct state_dir_health state_dir_health; /* whether saves into state_dir work */
	struct cutover_runner *cutover; /* holds the active cluster (cutover_runner_active) */
	struct ha *ha;                  /* [ha]: the election on etcd; NULL: one collector */
	bool ha_was_acting;             /* at the last tick, for the ha-role event */
	struct backend_health *backend_health; /* the LB's own health of each backend */
	struct alerts *alerts;
	struct evhttp *api;
	struct api_limits *api_limits; /* its connection cap, deadlines, descriptor reserve */
	struct tick_stats ticks;
	/* finished queries per cluster (index into clusters) and outcome, from counter deltas */
	uint64_t queries_total[COLLECTOR_MAX_CLUSTERS][QUERY_OUTCOME_COUNT];
	/* routing by query id: each coordinator's id, the map the LB gets, when last synced */
	struct query_routes query_routes;
	struct query_route_map query_route_map;
	int64_t routes_synced_ms;
	char *api_token; /* NULL: write calls need no token */
	struct clock_now (*read_clock)(void);
};

/*
 * Starts everything CONFIG (loaded, taken over) asks for on BASE: journal,
 * alert feed, ingest, cutover runner with its LB driver, HTTP API. 0, or -1
 * with ERR; on error collector_stop() still cleans up what was started.
 */
int collector_start(struct collector *collector, struct event_base *base,
                    struct collector_config *config, const struct collector_hooks *hooks, char *err,
                    size_t err_len);

/* Journals the stop and frees everything. Safe after a failed start. */
void collector_stop(struct collector *collector);

/* One evaluation of the rules and one step of the cutover at NOW. */
void collector_tick(struct collector *collector, struct clock_now now);

/* Re-reads the allow-list (SIGHUP). 0, or -1 with ERR (the old list is kept). */
int collector_reload(struct collector *collector, char *err, size_t err_len);

/* The collector's clock, read once by each callback at its start. */
struct clock_now collector_clock(const struct collector *collector);

/* The cluster the load balancer sends users to ("" when unknown). */
const char *collector_active_cluster(const struct collector *collector);

#endif
