/*
 * The drain gate in /v1/status (cutover.drain): the old cluster's running and
 * queued queries, its oldest query's age, how long it has been quiet, and
 * what stable waits for.
 */
#ifndef TG_DRAIN_STATUS_H
#define TG_DRAIN_STATUS_H

#include <jansson.h>
#include <stdint.h>

#include "clock.h"
#include "drain.h"

/* A new object for DRAIN, the gate of CLUSTER with QUIET_MS (0: off), at NOW. */
json_t *drain_status_json(const struct drain_state *drain, const char *cluster, int64_t quiet_ms,
                          struct clock_now now);

#endif
