/*
 * The fleet table: per node, the last valid report and when it arrived (the
 * collector's monotonic clock), plus each coordinator's recent counter
 * samples. Pure: the collector passes `now`; nothing here reads a clock.
 */
#ifndef TG_FLEET_H
#define TG_FLEET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "report_codec.h"

#define FLEET_ID_LEN      128
#define FLEET_CLUSTER_LEN 64
#define FLEET_TEXT_LEN    256
#define FLEET_SAMPLES     4096 /* per coordinator: 13 min at 200 ms, over an hour at 1 s */

/* One key of a .properties file: its name and a digest of its line, never its value. */
struct fleet_key_digest {
	char *key;
	uint8_t digest[REPORT_KEY_DIGEST_BYTES];
};

struct fleet_digest {
	char *path;
	uint8_t sha256[32];
	bool ok; /* false: the agent could not read the file */
	/* every key, sorted by name, when keys_listed (an older agent sends none) */
	bool keys_listed;
	struct fleet_key_digest *keys;
	size_t key_count;
};

/* One report's cumulative counters, as received. */
struct counter_sample {
	int64_t received_ms;
	uint64_t uptime_ms;
	uint64_t boot_key; /* changes with the agent's boot, so a new agent starts a new series */
	uint64_t completed;
	uint64_t failed;
	uint64_t user_error;
	uint64_t internal;
	uint64_t external;
	uint64_t insufficient_resources;
	uint64_t canceled;
	uint64_t abandoned;
};

struct fleet_node {
	char node_id[FLEET_ID_LEN];
	char cluster[FLEET_CLUSTER_LEN];
	char agent_id[FLEET_ID_LEN];
	uint8_t boot_id[REPORT_BOOT_ID_BYTES];
	uint64_t seq;
	int64_t received_ms;  /* monotonic, collector's clock */
	int64_t sent_unix_ms; /* the agent's clock, for display */
	/* the agent's clock less the collector's when the last report came (transit
	 * included): only for the clock-skew finding; ordering is by received_ms */
	int64_t clock_offset_ms;
	uint32_t interval_ms;
	int role;  /* TRINOGUARD__V1__NODE_ROLE__* */
	int state; /* TRINOGUARD__V1__NODE_STATE__* */
	char version[FLEET_ID_LEN];
	char environment[FLEET_ID_LEN];
	char error[FLEET_TEXT_LEN];
	bool has_uptime;
	uint64_t uptime_ms;
	int64_t not_active_since_ms; /* first report of the current non-ACTIVE spell; -1 when ACTIVE */
	struct fleet_digest *digests;
	size_t digest_count;
	size_t config_files_total; /* more files than DIGEST_COUNT matched; 0: all reported */
	/* counters */
	bool has_counters;
	int counters_state; /* TRINOGUARD__V1__COUNTER_STATE__* */
	char counters_error[FLEET_TEXT_LEN];
	int64_t active_nodes; /* the coordinator's ActiveNodeCount, -1 when unknown */
	char active_nodes_from[FLEET_TEXT_LEN]; /* the metric or MBean it came from */
	int64_t running;                        /* RunningQueries, -1 when unknown */
	int64_t queued;                         /* QueuedQueries, -1 when unknown */
	char coordinator_id[16];                /* /v1/info coordinatorId (477+), "" when none */
	char coordinator_id_from[8];            /* "info", "probe" (before 477) or "" */
	/* the query list ([trino] query_list = on): unfinished queries and the
	 * oldest one's elapsed time as of received_ms; -1 when not reported */
	int64_t unfinished_queries;
	int64_t oldest_query_elapsed_ms;
	char query_list_error[FLEET_TEXT_LEN]; /* why the agent could not read it */
	struct counter_sample *samples;        /* ring, allocated for coordinators */
	size_t sample_start;
	size_t sample_count;
};

struct fleet {
	struct fleet_node **nodes; /* sorted by node_id */
	size_t count;
	size_t capacity;
};

enum fleet_result {
	FLEET_ACCEPTED,  /* newer report of a known boot */
	FLEET_NEW_BOOT,  /* first report of a node, or of a restarted agent */
	FLEET_DUPLICATE, /* same boot, seq not newer: dropped */
	FLEET_NO_MEMORY,
};

void fleet_init(struct fleet *fleet);
void fleet_cleanup(struct fleet *fleet);

/* Records REPORT received at NOW_MS. The report is copied; the caller keeps it. */
enum fleet_result fleet_update(struct fleet *fleet, const NodeReport *report, int64_t now_ms);

/* Borrowed: valid until the next fleet_update or fleet_forget. */
const struct fleet_node *fleet_find(const struct fleet *fleet, const char *node_id);

/* Records how far NODE_ID's clock was off (its clock_offset_ms); nothing for an unknown node. */
void fleet_note_clock_offset(struct fleet *fleet, const char *node_id, int64_t offset_ms);

/* Drops nodes not heard from since before OLDER_THAN_MS. Returns how many. */
size_t fleet_forget(struct fleet *fleet, int64_t older_than_ms);

/* The I-th most recent counter sample of NODE (0 = the latest), or NULL. */
const struct counter_sample *fleet_sample(const struct fleet_node *node, size_t i);

#endif
