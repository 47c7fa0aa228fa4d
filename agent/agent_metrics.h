/*
 * The agent's own /metrics (Prometheus text format), served by evhttp on an
 * opt-in address ([agent] metrics_port, loopback unless metrics_address says
 * otherwise): what the agent sent, how its polls of Trino went, process_*.
 */
#ifndef TG_AGENT_METRICS_H
#define TG_AGENT_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "poller.h"

struct event_base;
struct evbuffer;
struct agent_metrics_server;

/* The agent's counters over the process's life (a SIGHUP keeps them). */
struct agent_counters {
	uint64_t reports_sent;         /* queued for at least one connected collector */
	uint64_t reports_dropped;      /* no collector connected, or the socket's queue was full */
	uint64_t reports_failed;       /* not built, or one the collector's checks would reject */
	int64_t last_poll_duration_ms; /* the last cycle's start to its report; -1: none yet */
	struct poll_counts polls;
};

/* What one scrape shows: the counters and the state of the moment. */
struct agent_metrics_view {
	const struct agent_counters *counters;
	int64_t started_unix_ms;
	size_t collectors_connected;
	size_t collector_endpoints;
	int trino_up; /* the last /v1/info poll succeeded: 1, else 0 */
};

/* Appends every family to OUT. */
void agent_metrics_write(const struct agent_metrics_view *view, struct evbuffer *out);

/* Fills VIEW for a scrape; ARG is the one given to agent_metrics_server_new. */
typedef void agent_metrics_view_fn(void *arg, struct agent_metrics_view *view);

/*
 * Listens on ADDRESS:PORT (a numeric IPv4 or IPv6 address) on BASE and answers
 * GET /metrics from what VIEW_FN fills. NULL with ERR naming the address.
 */
struct agent_metrics_server *agent_metrics_server_new(struct event_base *base, const char *address,
                                                      int port, agent_metrics_view_fn *view_fn,
                                                      void *arg, char *err, size_t err_len);

/* Stops listening. NULL is a no-op. */
void agent_metrics_server_free(struct agent_metrics_server *server);

#endif
