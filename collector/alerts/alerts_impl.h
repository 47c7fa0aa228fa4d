/*
 * The alert feed's state, shared by its files (alerts.c delivers,
 * alerts_headers.c keeps the sinks' request headers, alerts_view.c reads
 * the state for the status, the metrics and the findings). Not for other
 * modules: they use alerts.h.
 */
#ifndef TG_ALERTS_IMPL_H
#define TG_ALERTS_IMPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alert_policy.h"
#include "alert_sinks.h"
#include "alerts.h"
#include "collector_config.h"
#include "request_headers.h"

struct alert_spool;
struct event;
struct event_base;
struct http_client;
struct journal;

struct sink {
	struct alerts *owner;
	const struct alert_section *settings;
	const struct alert_sink_backend *backend;
	struct alert_sink_target target;
	struct request_headers extra;                 /* header.NAME and header_file.NAME */
	const char *headers[REQUEST_HEADERS_MAX + 2]; /* Content-Type, EXTRA's, NULL */
	struct alert_spool *spool;                    /* NULL for a sink that writes (log) */
	bool in_flight;
	uint64_t in_flight_seq; /* the entry being sent (a full spool may drop it meanwhile) */
	bool head_done;     /* in_flight_seq was delivered or given up; its mark is not written */
	bool dropping;      /* in an overflow episode: said once until the queue drains */
	bool spool_failing; /* the last sync failed (a full or failing disk) */
	int attempts;
	struct event *retry_timer;
	struct event *resend_timer;
	uint64_t sent, retried, failed, dropped;
};

struct alerts {
	struct event_base *base;
	struct http_client *http;
	struct journal *journal;
	const char *environment;
	const char *status_url;   /* NULL when [api] public_url is unset */
	const char *runbook_base; /* [alerts] runbook_url, borrowed from the config; or NULL */
	char status_url_buffer[1024];
	char host_name[256];
	struct sink sinks[COLLECTOR_MAX_ALERT_SINKS];
	size_t sink_count;
	/* held findings, the firing set (kept in firing_path across restarts), the reconcile */
	struct alert_policy policy;
	char firing_path[1024];
	bool firing_dirty;
	bool firing_save_failed; /* retried at every flush until it works */
	char firing_why[1200];
	char firing_corrupt[2600]; /* "" unless the file found at start did not parse */
};

/*
 * SINK's headers from its section (sink->settings), header_file.NAME read
 * now: "Content-Type: application/json" and the section's. 0, or -1 with ERR.
 */
int alerts_sink_headers_open(struct sink *sink, char *err, size_t err_len);

#endif
