/*
 * rules/lb_health.c, table-driven: what the gate says of a switch target and
 * which lb-backend-unhealthy findings open, from the agents' view of each
 * cluster and what the load balancer (Trino Gateway) holds its backend for.
 * The 477+ cluster the gateway holds UNHEALTHY while its agents report ACTIVE
 * is told why (the METRICS/JMX monitor's pre-477 MBean); readiness since a
 * moment (the driver's question after an activate) is checked too.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "findings.h"
#include "fleet.h"
#include "fleet_fixture.h"
#include "lb_health.h"

#define GRACE_MS 180000

struct health_case {
	const char *name;
	const char *green_version; /* NULL: green's coordinator's Trino is unreachable */
	const char
	        *green_status; /* what the gateway says of green; NULL: unreadable; "-": not read */
	int64_t status_for_ms; /* for how long */
	bool blocks;           /* the gate refuses a switch to green */
	const char *why;       /* a part of the gate's line ("" when it passes) */
	const char *finding;   /* severity of lb-backend-unhealthy/green, or "" for none */
};

static const struct health_case cases[] = {
        {"a HEALTHY backend passes", "447", "HEALTHY", GRACE_MS * 2, false, "", ""},
        {"477+ UNHEALTHY while ACTIVE: the MBean the METRICS/JMX monitor wants", "479", "UNHEALTHY",
         GRACE_MS, true, "Trino 479 has no MBean trino.metadata:name=DiscoveryNodeManager",
         "warning"},
        {"the fix is named", "477", "UNHEALTHY", GRACE_MS, true,
         "set clusterStatsConfiguration.monitorType INFO_API, or with METRICS set "
         "monitor.metricMinimumValues to trino_node_name_CoordinatorNodeManager_ActiveNodeCount",
         "warning"},
        {"pre-477 UNHEALTHY while ACTIVE: no known cause, the gateway's log", "476", "UNHEALTHY",
         GRACE_MS, true, "its monitor cannot reach the coordinator or judges it down", "warning"},
        {"a Starburst 477 release is 477+", "477-e.1", "UNHEALTHY", GRACE_MS, true,
         "Trino 477-e.1 has no MBean", "warning"},
        {"PENDING refuses the switch but is no finding within the grace", "447", "PENDING",
         GRACE_MS - 1, true, "holds backend green PENDING, not HEALTHY", ""},
        {"PENDING past the grace opens the finding", "447", "PENDING", GRACE_MS, true,
         "until its next health round", "warning"},
        {"UNKNOWN (main, after a deactivate) refuses the switch", "447", "UNKNOWN", 1000, true,
         "holds backend green UNKNOWN", ""},
        {"an unreadable state refuses the switch and says why", "447", NULL, GRACE_MS, true,
         "cannot read the state of backend green: GET /api/public/backends/green/state: HTTP 503",
         "warning"},
        {"not read yet refuses the switch", "447", "-", 0, true, "was not read yet", ""},
        {"a cluster that is not ready is no finding, and no MBean hint", NULL, "UNHEALTHY",
         GRACE_MS, true, "holds backend green UNHEALTHY, not HEALTHY", ""},
};

static void build_fleet(struct fleet *fleet, const char *green_version)
{
	fleet_init(fleet);
	struct node_spec blue = {"b-coord", "blue", COORD, "476", ACTIVE, 0, 0, NULL, C_OK, -1};
	struct node_spec green = {"g-coord",
	                          "green",
	                          COORD,
	                          green_version,
	                          green_version != NULL ? ACTIVE : UNREACHABLE,
	                          0,
	                          60000,
	                          NULL,
	                          C_OK,
	                          -1};
	feed(fleet, &blue);
	feed(fleet, &green);
}

static void test_lb_health_cases(void **state)
{
	(void)state;
	const struct cluster_settings clusters[] = {{.name = "blue", .min_workers = 0},
	                                            {.name = "green", .min_workers = 0}};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct health_case *c = &cases[i];
		struct fleet fleet;
		build_fleet(&fleet, c->green_version);
		struct lb_health h = {.lb = "trino-gateway"};
		assert_int_equal(lb_health_record(&h, "blue", "blue", "HEALTHY", NULL, 0), 0);
		if (c->green_status == NULL || strcmp(c->green_status, "-") != 0) {
			int64_t since = NOW - c->status_for_ms;
			/* two readings in a row: the spell starts at the first */
			assert_int_equal(
			        lb_health_record(&h, "green", "green", c->green_status,
			                         "GET /api/public/backends/green/state: HTTP 503",
			                         since),
			        0);
			assert_int_equal(
			        lb_health_record(&h, "green", "green", c->green_status,
			                         "GET /api/public/backends/green/state: HTTP 503",
			                         NOW),
			        0);
		}
		char why[1024] = "";
		bool blocks = lb_health_problem(&h, &fleet, &clusters[1], NOW, why, sizeof(why));
		if (blocks != c->blocks || strstr(why, c->why) == NULL)
			fail_msg("%s: blocks %d, why '%s'", c->name, blocks, why);
		assert_false(lb_health_problem(&h, &fleet, &clusters[0], NOW, why, sizeof(why)));
		struct finding_list list = {0};
		assert_int_equal(
		        lb_health_findings(&h, &fleet, clusters, 2, "blue", GRACE_MS, NOW, &list),
		        0);
		const char *severity = list.count == 1 ? severity_name(list.items[0].severity) : "";
		if (list.count > 1 || strcmp(severity, c->finding) != 0)
			fail_msg("%s: %zu findings, severity '%s'", c->name, list.count, severity);
		if (list.count == 1) {
			assert_string_equal(list.items[0].key, "lb-backend-unhealthy/green");
			if (strstr(list.items[0].summary, c->why) == NULL)
				fail_msg("%s: summary '%s'", c->name, list.items[0].summary);
		}
		finding_list_free(&list);
		fleet_cleanup(&fleet);
	}
}

static void test_on_the_active_cluster_it_is_an_error(void **state)
{
	(void)state;
	const struct cluster_settings clusters[] = {{.name = "blue"}, {.name = "green"}};
	struct fleet fleet;
	build_fleet(&fleet, "479");
	struct lb_health h = {.lb = "trino-gateway"};
	lb_health_record(&h, "green", "green", "UNHEALTHY", NULL, NOW - GRACE_MS);
	struct finding_list list = {0};
	assert_int_equal(lb_health_findings(&h, &fleet, clusters, 2, "green", GRACE_MS, NOW, &list),
	                 0);
	assert_int_equal(list.count, 1);
	assert_int_equal(list.items[0].severity, SEVERITY_ERROR);
	finding_list_free(&list);
	fleet_cleanup(&fleet);
}

static void test_a_status_change_restarts_the_grace(void **state)
{
	(void)state;
	struct lb_health h = {0};
	lb_health_record(&h, "green", "green", "UNHEALTHY", NULL, 1000);
	lb_health_record(&h, "green", "green", "UNHEALTHY", NULL, 5000);
	assert_int_equal(h.backends[0].status_since_ms, 1000);
	lb_health_record(&h, "green", "green", "PENDING", NULL, 7000);
	assert_int_equal(h.backends[0].status_since_ms, 7000);
	lb_health_record(&h, "green", "green", NULL, "timeout", 8000);
	assert_int_equal(h.backends[0].status_since_ms, 8000);
	assert_string_equal(h.backends[0].error, "timeout");
}

static void test_no_lb_health_no_problem(void **state)
{
	(void)state;
	const struct cluster_settings green = {.name = "green"};
	struct fleet fleet;
	build_fleet(&fleet, "479");
	struct lb_health h = {0}; /* a driver that judges no health: nothing recorded */
	char why[256];
	assert_false(lb_health_problem(&h, &fleet, &green, NOW, why, sizeof(why)));
	fleet_cleanup(&fleet);
}

static void test_ready_since(void **state)
{
	(void)state;
	const struct cluster_settings green = {.name = "green"};
	struct fleet fleet;
	build_fleet(&fleet, "479"); /* green's last report at NOW */
	assert_true(lb_health_cluster_ready(&fleet, &green, NOW - 1, NOW));
	assert_false(lb_health_cluster_ready(&fleet, &green, NOW, NOW)); /* not after it */
	fleet_cleanup(&fleet);
	build_fleet(&fleet, NULL); /* unreachable */
	assert_false(lb_health_cluster_ready(&fleet, &green, 0, NOW));
	fleet_cleanup(&fleet);
}

static void test_too_many_backends_is_refused(void **state)
{
	(void)state;
	struct lb_health h = {0};
	char name[16];
	for (int i = 0; i < LB_HEALTH_MAX_BACKENDS; i++) {
		snprintf(name, sizeof(name), "c%d", i);
		assert_int_equal(lb_health_record(&h, name, name, "HEALTHY", NULL, 0), 0);
	}
	assert_int_equal(lb_health_record(&h, "one-more", "one-more", "HEALTHY", NULL, 0), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_lb_health_cases),
	        cmocka_unit_test(test_on_the_active_cluster_it_is_an_error),
	        cmocka_unit_test(test_a_status_change_restarts_the_grace),
	        cmocka_unit_test(test_no_lb_health_no_problem),
	        cmocka_unit_test(test_ready_since),
	        cmocka_unit_test(test_too_many_backends_is_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
