/*
 * The LB's health of each backend against the agents' view of its cluster:
 * the gate's line, the lb-backend-unhealthy findings, and the known cause of
 * a ready cluster the gateway holds UNHEALTHY.
 */
#include "lb_health.h"

#include <stdio.h>
#include <string.h>

#include "version.h"

/*
 * Trino 477 replaced the MBean trino.metadata:name=DiscoveryNodeManager by
 * trino.node:name=CoordinatorNodeManager (trinodb/trino
 * core/trino-main/src/main/java/io/trino/node/CoordinatorNodeManager.java);
 * Trino Gateway's METRICS monitor requires the old one's ActiveNodeCount by
 * default (metricMinimumValues in gateway-ha/.../config/MonitorConfiguration.java)
 * and its JMX monitor queries the old MBean (ClusterStatsJmxMonitor.java),
 * both through tag 20 and on main at 8497b240; INFO_API reads /v1/info.
 */
#define FIRST_RELEASE_WITHOUT_DISCOVERY_MBEAN 477

int lb_health_record(struct lb_health *h, const char *cluster, const char *backend,
                     const char *status, const char *error, int64_t now_ms)
{
	struct lb_backend_reading *r = NULL;
	for (size_t i = 0; i < h->count; i++)
		if (strcmp(h->backends[i].cluster, cluster) == 0)
			r = &h->backends[i];
	if (r == NULL) {
		if (h->count == LB_HEALTH_MAX_BACKENDS)
			return -1;
		r = &h->backends[h->count++];
		memset(r, 0, sizeof(*r));
		snprintf(r->cluster, sizeof(r->cluster), "%s", cluster);
		r->status_since_ms = now_ms;
		r->status[0] = '\x01'; /* no reading matches: the first one starts the spell */
	}
	const char *now_status = status != NULL ? status : "";
	if (strcmp(r->status, now_status) != 0)
		r->status_since_ms = now_ms;
	snprintf(r->backend, sizeof(r->backend), "%s", backend);
	snprintf(r->status, sizeof(r->status), "%s", now_status);
	snprintf(r->error, sizeof(r->error), "%s", status == NULL && error != NULL ? error : "");
	return 0;
}

bool lb_health_cluster_ready(const struct fleet *fleet, const struct cluster_settings *settings,
                             int64_t since_ms, int64_t now_ms)
{
	const struct fleet_node *c = cluster_live_coordinator(fleet, settings, now_ms);
	return c != NULL && c->state == TRINOGUARD__V1__NODE_STATE__STATE_ACTIVE &&
	       c->received_ms > since_ms;
}

static const struct lb_backend_reading *reading_of(const struct lb_health *h, const char *cluster)
{
	for (size_t i = 0; i < h->count; i++)
		if (strcmp(h->backends[i].cluster, cluster) == 0)
			return &h->backends[i];
	return NULL;
}

/* Why R (not HEALTHY) is so, when the agents report the cluster READY on VERSION. */
static void explain(const char *lb, const struct lb_backend_reading *r, bool ready,
                    const char *version, char *why, size_t why_len)
{
	if (r->status[0] == '\0') {
		snprintf(why, why_len, "%s: cannot read the state of backend %s: %s", lb,
		         r->backend, r->error);
	} else if (strcmp(r->status, "UNHEALTHY") == 0 && ready &&
	           version_major(version) >= FIRST_RELEASE_WITHOUT_DISCOVERY_MBEAN) {
		snprintf(why, why_len,
		         "%s holds backend %s UNHEALTHY while the agents report its coordinator "
		         "ACTIVE: Trino %s has no MBean trino.metadata:name=DiscoveryNodeManager "
		         "(477 replaced it by trino.node:name=CoordinatorNodeManager), which the "
		         "gateway's METRICS monitor (default metricMinimumValues) and JMX monitor "
		         "look for; set clusterStatsConfiguration.monitorType INFO_API, or with "
		         "METRICS set monitor.metricMinimumValues to "
		         "trino_node_name_CoordinatorNodeManager_ActiveNodeCount: 1",
		         lb, r->backend, version);
	} else if (strcmp(r->status, "UNHEALTHY") == 0 && ready) {
		snprintf(why, why_len,
		         "%s holds backend %s UNHEALTHY while the agents report its coordinator "
		         "ACTIVE: its monitor cannot reach the coordinator or judges it down (see "
		         "the "
		         "gateway's log)",
		         lb, r->backend);
	} else {
		snprintf(why, why_len,
		         "%s holds backend %s %s, not HEALTHY: it routes no users there%s", lb,
		         r->backend, r->status,
		         strcmp(r->status, "PENDING") == 0 ? " until its next health round" : "");
	}
}

bool lb_health_problem(const struct lb_health *h, const struct fleet *fleet,
                       const struct cluster_settings *target, int64_t now_ms, char *why,
                       size_t why_len)
{
	if (h->lb[0] == '\0' && h->count == 0)
		return false;
	const struct lb_backend_reading *r = reading_of(h, target->name);
	if (r == NULL) {
		snprintf(why, why_len, "%s: the health of %s's backend was not read yet",
		         h->lb[0] ? h->lb : "the load balancer", target->name);
		return true;
	}
	if (strcmp(r->status, "HEALTHY") == 0)
		return false;
	char version[FLEET_ID_LEN];
	cluster_reference_version(fleet, target, now_ms, version, sizeof(version));
	explain(h->lb, r, lb_health_cluster_ready(fleet, target, 0, now_ms), version, why, why_len);
	return true;
}

int lb_health_findings(const struct lb_health *h, const struct fleet *fleet,
                       const struct cluster_settings *clusters, size_t cluster_count,
                       const char *active_cluster, int64_t grace_ms, int64_t now_ms,
                       struct finding_list *list)
{
	for (size_t i = 0; i < cluster_count; i++) {
		const struct cluster_settings *s = &clusters[i];
		const struct lb_backend_reading *r = reading_of(h, s->name);
		if (r == NULL || strcmp(r->status, "HEALTHY") == 0 ||
		    now_ms - r->status_since_ms < grace_ms ||
		    !lb_health_cluster_ready(fleet, s, 0, now_ms))
			continue;
		char version[FLEET_ID_LEN], why[900];
		cluster_reference_version(fleet, s, now_ms, version, sizeof(version));
		explain(h->lb, r, true, version, why, sizeof(why));
		bool active = active_cluster != NULL && strcmp(active_cluster, s->name) == 0;
		if (findings_add_lb_backend(list, s->name,
		                            active ? SEVERITY_ERROR : SEVERITY_WARNING, why) != 0)
			return -1;
	}
	return 0;
}
