/*
 * trino-sim's model of one Trino cluster: its nodes with their versions,
 * states and injected faults, and the coordinator's cumulative query
 * counters, advanced by seeded Poisson arrivals with Trino's counting rules.
 * No I/O here: the HTTP side (sim_http.c) and the control API
 * (sim_control.c) read and change this model.
 */
#ifndef TG_SIM_MODEL_H
#define TG_SIM_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SIM_MAX_NODES 64
#define SIM_ID_LEN    64

enum sim_node_state {
	SIM_STATE_ACTIVE,
	SIM_STATE_DRAINING,
	SIM_STATE_DRAINED,
	SIM_STATE_SHUTTING_DOWN,
};

enum sim_error_type {
	SIM_ERROR_USER,
	SIM_ERROR_INTERNAL,
	SIM_ERROR_EXTERNAL,
	SIM_ERROR_INSUFFICIENT_RESOURCES,
};

/* How the management endpoints answer, whatever the credentials. */
enum sim_counters_mode {
	SIM_COUNTERS_OK,
	SIM_COUNTERS_401,
	SIM_COUNTERS_403,
	SIM_COUNTERS_404,
};

/* Trino's QueryManager counters (cumulative) and gauges. */
struct sim_counters {
	uint64_t submitted;
	uint64_t started;
	uint64_t completed; /* every final state, failures included */
	uint64_t failed;
	uint64_t user_error;
	uint64_t internal;
	uint64_t external;
	uint64_t insufficient_resources;
	uint64_t canceled;
	uint64_t abandoned;
	uint64_t running;
	uint64_t queued;
};

struct sim_node {
	char id[SIM_ID_LEN];
	bool coordinator;
	int index; /* 0: coordinator, i: worker i */
	int port;
	char version[64];
	enum sim_node_state state;
	bool down;     /* connection refused */
	bool hang;     /* accept, never answer */
	bool hidden;   /* answers, but the coordinator does not count it as active */
	bool starting; /* held in start-up: /v1/info "starting", management 503 */
	int64_t slow_ms;
	enum sim_counters_mode counters_mode;
	int64_t started_ms; /* on the sim's monotonic clock; uptime counts from here */
	char coordinator_id[6];
	char etc_dir[512];
};

struct sim_cluster {
	char name[SIM_ID_LEN];
	char environment[SIM_ID_LEN];
	char management_user[SIM_ID_LEN]; /* "": any user will do */
	int64_t startup_ms;               /* how long each (re)start takes */
	struct sim_node nodes[SIM_MAX_NODES];
	size_t node_count;
	/* traffic on the coordinator */
	double qps;
	double fail_ratio;
	enum sim_error_type error_type;
	double user_error_ratio;
	struct sim_counters counters;
	/* queries of the statement protocol (sim_query.c), added to the gauges */
	uint64_t statement_queued;
	uint64_t statement_running;
	uint64_t rng_state;
	double next_arrival_ms; /* -1: none scheduled */
};

/* Builds the cluster: node 0 the coordinator, then WORKERS workers on consecutive ports. */
void sim_cluster_init(struct sim_cluster *cluster, const char *name, const char *version,
                      int workers, int port_base, uint64_t seed, int64_t now_ms);

/* Advances the query generator to NOW_MS: every arrival due by then completes. */
void sim_cluster_advance(struct sim_cluster *cluster, int64_t now_ms);

/* Changes the arrival rate, rescheduling the next arrival from NOW_MS. */
void sim_cluster_set_qps(struct sim_cluster *cluster, double qps, int64_t now_ms);

/* A node restart: uptime from NOW_MS; on the coordinator, counters back to 0. */
void sim_node_restart(struct sim_cluster *cluster, struct sim_node *node, int64_t now_ms);

/* Whether NODE is still starting at NOW_MS: Trino's startup is not complete. */
bool sim_node_starting(const struct sim_cluster *cluster, const struct sim_node *node,
                       int64_t now_ms);

struct sim_node *sim_cluster_find(struct sim_cluster *cluster, const char *id);

/* Nodes the coordinator would count as active (ACTIVE and answering). */
int sim_cluster_active_nodes(const struct sim_cluster *cluster);

/* Trino's leading version number (447 for "447", 423 for "423-e.3"). */
int sim_version_number(const char *version);

const char *sim_state_name(enum sim_node_state state);
int sim_state_parse(const char *text, enum sim_node_state *state);
const char *sim_error_type_name(enum sim_error_type type);

/* Counts one failed query of error TYPE in C (failed and the type's counter). */
void sim_count_failure(struct sim_counters *c, enum sim_error_type type);
int sim_error_type_parse(const char *text, enum sim_error_type *type);
const char *sim_counters_mode_name(enum sim_counters_mode mode);
int sim_counters_mode_parse(const char *text, enum sim_counters_mode *mode);

/* airlift Duration.toString: 2 decimals in the largest unit >= 1 ("3.25d", "17.27ms"). */
void sim_format_duration(int64_t ms, char *out, size_t out_len);

#endif
