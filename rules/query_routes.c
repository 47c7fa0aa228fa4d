/*
 * The coordinator-id routing table (query_routes.h). Entries are kept per
 * coordinator node, so a restart (a new id from the same node) replaces the
 * old id instead of piling up, and two clusters claiming one id is seen.
 */
#include "query_routes.h"

#include <stdio.h>
#include <string.h>

static struct query_route_entry *entry_of(struct query_routes *routes, const char *node_id)
{
	for (size_t i = 0; i < routes->count; i++)
		if (strcmp(routes->entries[i].node_id, node_id) == 0)
			return &routes->entries[i];
	return NULL;
}

static const struct cluster_settings *settings_of(const struct cluster_settings *clusters,
                                                  size_t cluster_count, const char *name)
{
	for (size_t i = 0; i < cluster_count; i++)
		if (strcmp(clusters[i].name, name) == 0)
			return &clusters[i];
	return NULL;
}

/* Drops the entries of nodes the fleet no longer holds. */
static bool drop_forgotten(struct query_routes *routes, const struct fleet *fleet)
{
	bool changed = false;
	size_t kept = 0;
	for (size_t i = 0; i < routes->count; i++) {
		if (fleet_find(fleet, routes->entries[i].node_id) == NULL) {
			changed = true;
			continue;
		}
		routes->entries[kept++] = routes->entries[i];
	}
	routes->count = kept;
	return changed;
}

bool query_routes_update(struct query_routes *routes, const struct fleet *fleet,
                         const struct cluster_settings *clusters, size_t cluster_count,
                         int64_t now_ms)
{
	bool changed = drop_forgotten(routes, fleet);
	for (size_t i = 0; i < fleet->count; i++) {
		const struct fleet_node *node = fleet->nodes[i];
		const struct cluster_settings *settings =
		        settings_of(clusters, cluster_count, node->cluster);
		if (settings == NULL || node->coordinator_id[0] == '\0' ||
		    node->role != TRINOGUARD__V1__NODE_ROLE__ROLE_COORDINATOR ||
		    !node_live(node, settings, now_ms))
			continue;
		struct query_route_entry *entry = entry_of(routes, node->node_id);
		if (entry == NULL) {
			if (routes->count == QUERY_ROUTES_MAX)
				continue;
			entry = &routes->entries[routes->count++];
			snprintf(entry->node_id, sizeof(entry->node_id), "%s", node->node_id);
		} else if (strcmp(entry->coordinator_id, node->coordinator_id) == 0 &&
		           strcmp(entry->cluster, node->cluster) == 0) {
			continue;
		}
		snprintf(entry->cluster, sizeof(entry->cluster), "%s", node->cluster);
		snprintf(entry->coordinator_id, sizeof(entry->coordinator_id), "%s",
		         node->coordinator_id);
		changed = true;
	}
	return changed;
}

/* The cluster other than CLUSTER that claims ID too, or NULL. */
static const char *other_claim(const struct query_routes *routes, const char *id,
                               const char *cluster)
{
	for (size_t i = 0; i < routes->count; i++) {
		const struct query_route_entry *e = &routes->entries[i];
		if (strcmp(e->coordinator_id, id) == 0 && strcmp(e->cluster, cluster) != 0)
			return e->cluster;
	}
	return NULL;
}

static bool mapped(const struct query_route_map *out, const char *id)
{
	for (size_t i = 0; i < out->count; i++)
		if (strcmp(out->routes[i].coordinator_id, id) == 0)
			return true;
	for (size_t i = 0; i < out->conflict_count; i++)
		if (strcmp(out->conflicts[i].coordinator_id, id) == 0)
			return true;
	return false;
}

static bool has_id(const struct query_routes *routes, const char *cluster)
{
	for (size_t i = 0; i < routes->count; i++)
		if (strcmp(routes->entries[i].cluster, cluster) == 0)
			return true;
	return false;
}

void query_routes_map(const struct query_routes *routes, const struct cluster_settings *clusters,
                      size_t cluster_count, struct query_route_map *out)
{
	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < routes->count; i++) {
		const struct query_route_entry *e = &routes->entries[i];
		if (mapped(out, e->coordinator_id))
			continue;
		const char *other = other_claim(routes, e->coordinator_id, e->cluster);
		if (other != NULL) {
			struct query_route_conflict *c = &out->conflicts[out->conflict_count++];
			snprintf(c->coordinator_id, sizeof(c->coordinator_id), "%s",
			         e->coordinator_id);
			snprintf(c->clusters[0], sizeof(c->clusters[0]), "%s", e->cluster);
			snprintf(c->clusters[1], sizeof(c->clusters[1]), "%s", other);
			continue;
		}
		struct query_route *r = &out->routes[out->count++];
		snprintf(r->coordinator_id, sizeof(r->coordinator_id), "%s", e->coordinator_id);
		snprintf(r->cluster, sizeof(r->cluster), "%s", e->cluster);
	}
	for (size_t i = 0; i < cluster_count && out->without_id_count < QUERY_ROUTES_MAX_CLUSTERS;
	     i++)
		if (!has_id(routes, clusters[i].name))
			snprintf(out->without_id[out->without_id_count++], FLEET_CLUSTER_LEN, "%s",
			         clusters[i].name);
}
