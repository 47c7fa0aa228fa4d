/*
 * rules/query_routes.c, one row per step: a coordinator's id is added on
 * first sight, kept while its agent is quiet, replaced after a restart,
 * dropped once the fleet forgets the node; workers, ids of unknown clusters
 * and nodes without an id add nothing; an id two clusters claim is routed
 * nowhere and listed; a cluster with no id is named.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "fleet.h"
#include "fleet_fixture.h"
#include "query_routes.h"

static const struct cluster_settings clusters[2] = {
        {.name = "blue", .stale_after_ms = 3000},
        {.name = "green", .stale_after_ms = 3000},
};

/* Feeds one report of ID (of CLUSTER, ROLE) with COORDINATOR_ID at NOW_MS. */
static void report(struct fleet *fleet, const char *id, const char *cluster, int role,
                   const char *coordinator_id, uint64_t seq, int64_t now_ms)
{
	struct node_spec spec = {.id = id,
	                         .cluster = cluster,
	                         .role = role,
	                         .version = "479",
	                         .state = ACTIVE,
	                         .active_nodes = -1};
	struct built_report b;
	build(&b, &spec, seq, 1);
	b.report.coordinator_id = (char *)coordinator_id;
	assert_int_not_equal(fleet_update(fleet, &b.report, now_ms), FLEET_NO_MEMORY);
}

/* The map as "id=cluster,..." and conflicts as "!id,...", for one comparison per step. */
static void describe(const struct query_routes *routes, char *out, size_t len)
{
	struct query_route_map map;
	query_routes_map(routes, clusters, 2, &map);
	size_t used = 0;
	out[0] = '\0';
	for (size_t i = 0; i < map.count; i++)
		used += (size_t)snprintf(out + used, len - used, "%s=%s,",
		                         map.routes[i].coordinator_id, map.routes[i].cluster);
	for (size_t i = 0; i < map.conflict_count; i++)
		used += (size_t)snprintf(
		        out + used, len - used, "!%s(%s+%s),", map.conflicts[i].coordinator_id,
		        map.conflicts[i].clusters[0], map.conflicts[i].clusters[1]);
	for (size_t i = 0; i < map.without_id_count; i++)
		used += (size_t)snprintf(out + used, len - used, "-%s,", map.without_id[i]);
}

static void expect(const struct query_routes *routes, const char *want)
{
	char got[512];
	describe(routes, got, sizeof(got));
	assert_string_equal(got, want);
}

static void test_ids_follow_the_coordinators(void **state)
{
	(void)state;
	struct fleet fleet;
	fleet_init(&fleet);
	struct query_routes routes = {0};
	expect(&routes, "-blue,-green,");

	/* workers, unknown clusters and coordinators without an id add nothing */
	report(&fleet, "blue-worker-1", "blue", WORKER, "aaaaa", 1, NOW);
	report(&fleet, "red-coord", "red", COORD, "rrrrr", 1, NOW);
	report(&fleet, "green-coord", "green", COORD, NULL, 1, NOW);
	assert_false(query_routes_update(&routes, &fleet, clusters, 2, NOW));
	expect(&routes, "-blue,-green,");

	/* first sight */
	report(&fleet, "blue-coord", "blue", COORD, "bh8m3", 1, NOW);
	report(&fleet, "green-coord", "green", COORD, "g2k9x", 2, NOW);
	assert_true(query_routes_update(&routes, &fleet, clusters, 2, NOW));
	expect(&routes, "bh8m3=blue,g2k9x=green,");
	assert_false(query_routes_update(&routes, &fleet, clusters, 2, NOW + 100));

	/* a quiet agent keeps its id: its queries may still run */
	assert_false(query_routes_update(&routes, &fleet, clusters, 2, NOW + 60000));
	expect(&routes, "bh8m3=blue,g2k9x=green,");

	/* a restarted coordinator replaces its id */
	report(&fleet, "green-coord", "green", COORD, "zz7qp", 3, NOW + 61000);
	assert_true(query_routes_update(&routes, &fleet, clusters, 2, NOW + 61000));
	expect(&routes, "bh8m3=blue,zz7qp=green,");

	/* the id a second cluster claims goes nowhere */
	report(&fleet, "green-coord", "green", COORD, "bh8m3", 4, NOW + 62000);
	assert_true(query_routes_update(&routes, &fleet, clusters, 2, NOW + 62000));
	expect(&routes, "!bh8m3(blue+green),");

	/* a node the fleet forgot loses its id */
	assert_int_equal(fleet_forget(&fleet, NOW + 61500), 3); /* blue's, the worker, red's */
	assert_true(query_routes_update(&routes, &fleet, clusters, 2, NOW + 62000));
	expect(&routes, "bh8m3=green,-blue,");
	fleet_cleanup(&fleet);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_ids_follow_the_coordinators),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
