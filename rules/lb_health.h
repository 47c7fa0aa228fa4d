/*
 * The load balancer's own view of each cluster's health (docs/DESIGN.md §7),
 * set against the agents': a gateway routes only to a backend it holds
 * HEALTHY, so a ready cluster whose backend it does not hold HEALTHY would
 * take no users after a switch. Decides the gate's line for a switch target,
 * the lb-backend-unhealthy findings, and whether a cluster's agents report
 * it ready. Pure: the collector records what the LB said and passes `now`.
 */
#ifndef TG_LB_HEALTH_H
#define TG_LB_HEALTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "findings.h"
#include "fleet.h"

#define LB_HEALTH_MAX_BACKENDS 16

struct lb_backend_reading {
	char cluster[FLEET_CLUSTER_LEN];
	char backend[128];
	char status[32];         /* as the LB says it ("HEALTHY", ...); "" when unreadable */
	char error[256];         /* why it could not be read */
	int64_t status_since_ms; /* first of the readings in a row with this status */
};

struct lb_health {
	char lb[32]; /* the driver's name, for people; "" while nothing was read */
	struct lb_backend_reading backends[LB_HEALTH_MAX_BACKENDS];
	size_t count;
};

/*
 * Records that the LB said STATUS (NULL: unreadable, with ERROR) of CLUSTER's
 * BACKEND at NOW_MS. 0, or -1 when more than LB_HEALTH_MAX_BACKENDS.
 */
int lb_health_record(struct lb_health *h, const char *cluster, const char *backend,
                     const char *status, const char *error, int64_t now_ms);

/*
 * Do the agents report SETTINGS' cluster ready: its live coordinator ACTIVE,
 * in a report received after SINCE_MS?
 */
bool lb_health_cluster_ready(const struct fleet *fleet, const struct cluster_settings *settings,
                             int64_t since_ms, int64_t now_ms);

/*
 * Why the LB would send no users to TARGET's backend, in WHY: not HEALTHY in
 * its eyes (with the cause when one is known: a 477+ cluster its agents
 * report ACTIVE), or not read. False when HEALTHY, or when the LB judges no
 * health (nothing recorded).
 */
bool lb_health_problem(const struct lb_health *h, const struct fleet *fleet,
                       const struct cluster_settings *target, int64_t now_ms, char *why,
                       size_t why_len);

/*
 * Adds to LIST an lb-backend-unhealthy finding for every cluster its agents
 * report ready whose backend has not been HEALTHY in the LB's eyes for
 * GRACE_MS: an error on ACTIVE_CLUSTER (users are on it), a warning on the
 * others. LIST stays sorted. 0, or -1 when out of memory.
 */
int lb_health_findings(const struct lb_health *h, const struct fleet *fleet,
                       const struct cluster_settings *clusters, size_t cluster_count,
                       const char *active_cluster, int64_t grace_ms, int64_t now_ms,
                       struct finding_list *list);

#endif
