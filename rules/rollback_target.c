/*
 * The rollback target check: everything a cluster needs before the load
 * balancer sends users back to it, each refusal with its reason.
 */
#include "rollback_target.h"

#include <stdio.h>
#include <string.h>

static const struct cluster_settings *settings_of(const struct cluster_settings *clusters,
                                                  size_t cluster_count, const char *name)
{
	for (size_t i = 0; i < cluster_count; i++)
		if (strcmp(clusters[i].name, name) == 0)
			return &clusters[i];
	return NULL;
}

bool rollback_target_fit(const struct fleet *fleet, const struct cluster_settings *clusters,
                         size_t cluster_count, const struct finding_list *findings,
                         const char *cluster, int64_t now_ms, char *why, size_t why_len)
{
	snprintf(why, why_len, "%s", "");
	if (cluster[0] == '\0')
		return false;
	const struct cluster_settings *s = settings_of(clusters, cluster_count, cluster);
	const struct fleet_node *coordinator =
	        s != NULL ? cluster_live_coordinator(fleet, s, now_ms) : NULL;
	if (coordinator == NULL || coordinator->state != TRINOGUARD__V1__NODE_STATE__STATE_ACTIVE) {
		snprintf(why, why_len, "%s has no live ACTIVE coordinator", cluster);
		return false;
	}
	int64_t workers = 0;
	for (size_t i = 0; i < fleet->count; i++) {
		const struct fleet_node *n = fleet->nodes[i];
		if (strcmp(n->cluster, cluster) == 0 &&
		    n->role != TRINOGUARD__V1__NODE_ROLE__ROLE_COORDINATOR &&
		    n->state == TRINOGUARD__V1__NODE_STATE__STATE_ACTIVE && node_live(n, s, now_ms))
			workers++;
	}
	if (workers < s->min_workers) {
		snprintf(why, why_len, "%s has %lld live ACTIVE workers, %lld required", cluster,
		         (long long)workers, (long long)s->min_workers);
		return false;
	}
	for (size_t i = 0; i < findings->count; i++) {
		const struct finding *f = &findings->items[i];
		if (f->kind == FINDING_MIXED_VERSION && strcmp(f->cluster, cluster) == 0) {
			snprintf(why, why_len, "%s runs mixed versions (%s)", cluster, f->summary);
			return false;
		}
	}
	return true;
}
