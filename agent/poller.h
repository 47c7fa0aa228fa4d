/*
 * Polls the local Trino on the daemon's loop: /v1/info, /v1/info/state and,
 * on a coordinator, the query counters (/metrics, falling back to JMX) and,
 * when asked, its coordinator id by a probe query (coordinator_probe.h) and
 * the query list (/v1/query). One
 * request of each kind at a time; a hung Trino never delays anything else.
 */
#ifndef TG_POLLER_H
#define TG_POLLER_H

#include <stdbool.h>
#include <stdint.h>

#include "agent_config.h"
#include "query_list.h"
#include "trino_parse.h"

struct event_base;
struct http_client;
struct poller;

/* What the agent knows of its Trino, as of the latest answers. */
struct poll_snapshot {
	bool have_info;           /* some /v1/info answer was ever understood */
	struct trino_info info;   /* the latest understood one */
	bool info_ok;             /* the latest /v1/info poll succeeded */
	char info_error[512];     /* why it did not */
	int64_t info_answered_ms; /* monotonic time of the latest success */
	bool state_ok;
	char state[32];     /* /v1/info/state */
	int counters_state; /* TRINOGUARD__V1__COUNTER_STATE__* */
	char counters_error[512];
	struct trino_counters counters;
	const char *counters_source;  /* "metrics" or "jmx" */
	struct query_list query_list; /* [trino] query_list = on, coordinators only */
};

/* The Trino endpoints the agent asks, for counting requests and errors. */
enum poll_endpoint {
	POLL_ENDPOINT_INFO,    /* /v1/info */
	POLL_ENDPOINT_STATE,   /* /v1/info/state */
	POLL_ENDPOINT_METRICS, /* /metrics */
	POLL_ENDPOINT_JMX,     /* /v1/jmx (the counters and node count before 429) */
	POLL_ENDPOINT_QUERIES, /* /v1/query ([trino] query_list = on) */
	POLL_ENDPOINT_COUNT
};

/*
 * Requests per endpoint, and those that failed: no answer (refused, timed out),
 * a status other than 200, or a 200 the agent cannot parse. A /metrics 200
 * without the counters (Trino before 429) is an answer, not an error.
 */
struct poll_counts {
	uint64_t requests[POLL_ENDPOINT_COUNT];
	uint64_t errors[POLL_ENDPOINT_COUNT];
};

/*
 * Reads credential files named by CONFIG. Returns NULL with ERR (never the
 * secret). COUNTS, borrowed and outliving the poller, is added to.
 */
struct poller *poller_new(struct http_client *http, const struct agent_config *config,
                          struct poll_counts *counts, char *err, size_t err_len);
void poller_free(struct poller *poller);

/*
 * Starts a poll cycle at NOW_MS. DONE(ARG) runs once every request the cycle
 * started has answered (or failed); it may run before this returns when none
 * could start.
 */
void poller_start_cycle(struct poller *poller, int64_t now_ms, void (*done)(void *arg), void *arg);

/* Borrowed: valid until the next answer arrives. */
const struct poll_snapshot *poller_snapshot(const struct poller *poller);

/* When a /v1/info request is in flight, when it started (monotonic ms); else -1. */
int64_t poller_info_pending_since(const struct poller *poller);

#endif
