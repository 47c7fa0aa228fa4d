/*
 * The coordinator-id probe ([trino] coordinator_id_probe): for a coordinator
 * whose /v1/info has no coordinatorId (Trino before 477), the id is read from
 * the id of a query it registers, POST /v1/statement "SELECT 1", which is then
 * cancelled before its first poll, so it is never submitted: it never runs,
 * moves no counter and fires no event. Probed at the first answer and again
 * only after the coordinator restarted (its uptime shows it).
 */
#ifndef TG_COORDINATOR_PROBE_H
#define TG_COORDINATOR_PROBE_H

#include <stdbool.h>
#include <stdint.h>

#include "trino_parse.h"

struct http_client;
struct coordinator_probe;

/* How the probe reaches and authenticates to Trino: the poller's own settings. */
struct coordinator_probe_target {
	const char *base_url;      /* without a trailing slash */
	const char *user;          /* sent as X-Trino-User; copied */
	const char *bearer_header; /* "Authorization: Bearer ..." or NULL */
	const char *basic_user;    /* or NULL */
	const char *basic_password;
	const char *ca_file; /* or NULL */
	int64_t timeout_ms;
};

/*
 * TARGET's other strings are borrowed and must outlive the probe, as must HTTP.
 * Free the probe after the HTTP client (which cancels its requests). NULL
 * when out of memory.
 */
struct coordinator_probe *coordinator_probe_new(struct http_client *http,
                                                const struct coordinator_probe_target *target);
void coordinator_probe_free(struct coordinator_probe *probe);

/*
 * A /v1/info answer was understood: INFO, answered at ANSWERED_MS (monotonic).
 * Forgets the id when the coordinator restarted; starts a probe when this
 * coordinator has no id yet and none is in flight (and a failed probe's
 * back-off is over); fills INFO's empty coordinator_id with the probed one.
 */
void coordinator_probe_update(struct coordinator_probe *probe, struct trino_info *info,
                              int64_t answered_ms);

/* The id of the coordinator now running, as probed; NULL while unknown. Borrowed. */
const char *coordinator_probe_id(const struct coordinator_probe *probe);

/*
 * Whether a coordinator that had been up UPTIME_BEFORE_MS, started at
 * START_BEFORE_MS (monotonic, from an earlier answer), is a new process now
 * that it says UPTIME_NOW_MS, making its start START_NOW_MS. An uptime only
 * grows while the JVM lives; a start that moved later than the rounding of
 * Trino's Duration text (2 digits: under 1%) and a second of latency allow
 * means a restart whose small uptimes the agent did not see.
 */
bool coordinator_probe_restarted(int64_t uptime_before_ms, int64_t start_before_ms,
                                 int64_t uptime_now_ms, int64_t start_now_ms);

#endif
