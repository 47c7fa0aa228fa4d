/*
 * Routing by query id (docs/DESIGN.md §7): which coordinator id goes to
 * which cluster. Every Trino query id ends in the 5-character id of the
 * coordinator that created it, which 477+ publishes as `coordinatorId` in
 * /v1/info (trinodb/trino #23910); the agents report it and this table says
 * where a poll for each id must go. Pure: time is a parameter.
 */
#ifndef TG_QUERY_ROUTES_H
#define TG_QUERY_ROUTES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "findings.h"
#include "fleet.h"

#define QUERY_ROUTES_MAX          64
#define QUERY_ROUTE_ID_LEN        16
#define QUERY_ROUTES_MAX_CLUSTERS 16

/* One coordinator's id, kept per coordinator node. */
struct query_route_entry {
	char node_id[FLEET_ID_LEN];
	char cluster[FLEET_CLUSTER_LEN];
	char coordinator_id[QUERY_ROUTE_ID_LEN];
};

struct query_routes {
	struct query_route_entry entries[QUERY_ROUTES_MAX];
	size_t count;
};

/* One id -> cluster row of the map the load balancer gets. */
struct query_route {
	char coordinator_id[QUERY_ROUTE_ID_LEN];
	char cluster[FLEET_CLUSTER_LEN];
};

/* An id two clusters claim: routed nowhere (a poll for it is better refused than misrouted). */
struct query_route_conflict {
	char coordinator_id[QUERY_ROUTE_ID_LEN];
	char clusters[2][FLEET_CLUSTER_LEN];
};

struct query_route_map {
	struct query_route routes[QUERY_ROUTES_MAX];
	size_t count;
	struct query_route_conflict conflicts[QUERY_ROUTES_MAX];
	size_t conflict_count;
	/* clusters none of whose coordinators published an id (before 477, or not yet) */
	char without_id[QUERY_ROUTES_MAX_CLUSTERS][FLEET_CLUSTER_LEN];
	size_t without_id_count;
};

/*
 * Learns from FLEET at NOW_MS: a live coordinator of one of CLUSTERS adds
 * its id on first sight and replaces its own older id after a restart; a
 * coordinator that goes quiet keeps its id (its queries may still run), one
 * the fleet forgot loses it. Returns true when the table changed.
 */
bool query_routes_update(struct query_routes *routes, const struct fleet *fleet,
                         const struct cluster_settings *clusters, size_t cluster_count,
                         int64_t now_ms);

/* The map for the load balancer: every id one cluster alone claims, the conflicts besides. */
void query_routes_map(const struct query_routes *routes, const struct cluster_settings *clusters,
                      size_t cluster_count, struct query_route_map *out);

#endif
