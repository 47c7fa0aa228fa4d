/*
 * trino-sim's model of the queries clients run through Trino's statement
 * protocol (docs/DESIGN.md §10; Trino's QueuedStatementResource and
 * ExecutingStatementResource): registered by a POST, submitted on the first
 * poll, queued, running, finished, failed, canceled or abandoned, counted in
 * the cluster's QueryManager counters as Trino counts them. No I/O and no
 * clock here: time is a parameter; sim_statement.c serves it over HTTP.
 */
#ifndef TG_SIM_QUERY_H
#define TG_SIM_QUERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sim_model.h"

#define SIM_MAX_QUERIES    1024
#define SIM_QUERY_ID_LEN   32 /* "yyyyMMdd_HHmmss_NNNNN_ccccc" and its NUL */
#define SIM_QUERY_SLUG_LEN 34 /* "y" and 32 hex digits */

/* Trino's client timeout (query.client.timeout) by default. */
#define SIM_DEFAULT_CLIENT_TIMEOUT_MS 300000

enum sim_query_state {
	SIM_QUERY_FREE,       /* an unused slot */
	SIM_QUERY_REGISTERED, /* POSTed, not yet polled: not counted anywhere */
	SIM_QUERY_QUEUED,     /* submitted, waiting for resources */
	SIM_QUERY_RUNNING,    /* running, or FINISHING: results not read yet */
	SIM_QUERY_FINISHED,
	SIM_QUERY_FAILED, /* failed, canceled or abandoned */
};

/*
 * What the SQL text asks of the simulated engine: words "key=value"
 * anywhere in it. "SELECT 1 -- queued_ms=500 duration_ms=8000 rows=3" waits
 * half a second in the queue, runs 8 s and returns 3 rows; "fail=EXTERNAL"
 * (or USER_ERROR, INTERNAL_ERROR, INSUFFICIENT_RESOURCES) fails it at its end.
 */
struct sim_query_behaviour {
	int64_t queued_ms;
	int64_t duration_ms;
	int rows;
	bool fails;
	enum sim_error_type error_type;
};

struct sim_query {
	enum sim_query_state state;
	uint32_t generation; /* changes whenever the slot is reused */
	char id[SIM_QUERY_ID_LEN];
	char slug[SIM_QUERY_SLUG_LEN];
	char user[64];
	struct sim_query_behaviour behaviour;
	uint64_t token;       /* of the next page */
	int64_t created_ms;   /* all times on the sim's monotonic clock */
	int64_t submitted_ms; /* 0 until the first poll */
	int64_t started_ms;   /* 0 until it runs */
	int64_t last_poll_ms; /* the client's last heartbeat */
	int64_t ended_ms;     /* 0 until it is FINISHED or FAILED */
	bool data_sent;       /* the page with the rows was served */
	char error_name[48];  /* failed: Trino's error code name */
	char error_type[32];  /* failed: USER_ERROR, INTERNAL_ERROR, ... */
	char error_text[160]; /* failed: the message */
};

struct sim_queries {
	struct sim_cluster *cluster; /* borrowed: whose counters the queries move */
	struct sim_query slots[SIM_MAX_QUERIES];
	uint32_t sequence; /* the NNNNN of the next id */
	int64_t client_timeout_ms;
	uint64_t rng_state;
};

void sim_queries_init(struct sim_queries *queries, struct sim_cluster *cluster,
                      int64_t client_timeout_ms, uint64_t seed);

/* Reads the behaviour asked by SQL; -1 with a reason in WHY for a bad word. */
int sim_query_behaviour_parse(const char *sql, struct sim_query_behaviour *out, char *why,
                              size_t why_len);

/*
 * Registers a query (a POST): its id is the wall time UNIX_MS in UTC, the
 * sequence and the coordinator's id. NULL when every slot holds a query
 * that is not final.
 */
struct sim_query *sim_query_register(struct sim_queries *queries,
                                     const struct sim_query_behaviour *behaviour, const char *user,
                                     int64_t unix_ms, int64_t now_ms);

/* The query with ID and SLUG; NULL when there is none (Trino's "Query not found"). */
struct sim_query *sim_query_find(struct sim_queries *queries, const char *id, const char *slug);

/* A poll of the query's nextUri: the client's heartbeat; the first one submits it. */
void sim_query_poll(struct sim_queries *queries, struct sim_query *query, int64_t now_ms);

/* Moves every query along to NOW_MS: queued ones start, ended ones fail, silent ones are
 * abandoned after the client timeout. */
void sim_queries_advance(struct sim_queries *queries, int64_t now_ms);

/* How long a poll may be held before it is answered (Trino's long poll, at most 1 s). */
int64_t sim_query_wait_ms(const struct sim_query *query, int64_t now_ms);

/* Whether the query's rows are ready for its next page. */
bool sim_query_rows_ready(const struct sim_query *query, int64_t now_ms);

/* The page after the rows was served: the query is FINISHED. */
void sim_query_finish(struct sim_queries *queries, struct sim_query *query, int64_t now_ms);

/* DELETE of its nextUri: a query not yet final is canceled (USER_CANCELED). */
void sim_query_cancel(struct sim_queries *queries, struct sim_query *query, int64_t now_ms);

/* A coordinator restart: every query is gone (their polls answer 404 from now on). */
void sim_queries_clear(struct sim_queries *queries);

/* Queries QUEUED and RUNNING right now, as QueuedQueries and RunningQueries count them. */
void sim_queries_gauges(const struct sim_queries *queries, uint64_t *queued, uint64_t *running);

const char *sim_query_state_name(const struct sim_query *query);

#endif
