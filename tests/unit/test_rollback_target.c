/*
 * Which node is a cluster's live coordinator (its agent live and its Trino
 * answering), and whether users may go back to a cluster in a rollback: one
 * row per case, each refusal with its reason.
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
#include "rollback_target.h"

#define MAX_NODES 4
#define STARTING  TRINOGUARD__V1__NODE_STATE__STATE_STARTING

struct coordinator_case {
	const char *name;
	struct node_spec nodes[MAX_NODES];
	const char *expected; /* the node id, NULL: none */
};

static const struct coordinator_case coordinator_cases[] = {
        {"a live coordinator whose Trino answers is the coordinator",
         {{"b-coord", "b", COORD, "446", ACTIVE, 0, 0, NULL, C_OK, -1}},
         "b-coord"},
        {"a coordinator whose Trino is UNREACHABLE is not live",
         {{"b-coord", "b", COORD, NULL, UNREACHABLE, 0, 0, NULL, 0, -1}},
         NULL},
        {"a coordinator that reports no Trino version is not live",
         {{"b-coord", "b", COORD, NULL, ACTIVE, 0, 0, NULL, 0, -1}},
         NULL},
        {"a coordinator whose agent went quiet is not live",
         {{"b-coord", "b", COORD, "446", ACTIVE, 10000, 0, NULL, C_OK, -1}},
         NULL},
        {"a coordinator that answers while STARTING is the coordinator, ACTIVE or not",
         {{"b-coord", "b", COORD, "446", STARTING, 0, 1000, NULL, 0, -1}},
         "b-coord"},
        {"a worker is no coordinator",
         {{"b-w1", "b", WORKER, "446", ACTIVE, 0, 0, NULL, 0, -1}},
         NULL},
        {"another cluster's coordinator is not this cluster's",
         {{"g-coord", "g", COORD, "447", ACTIVE, 0, 0, NULL, C_OK, -1}},
         NULL},
        {"an unreachable coordinator first in order does not hide the live one",
         {{"b-coord-1", "b", COORD, NULL, UNREACHABLE, 0, 0, NULL, 0, -1},
          {"b-coord-2", "b", COORD, "446", ACTIVE, 0, 0, NULL, C_OK, -1}},
         "b-coord-2"},
};

static void test_live_coordinator(void **state)
{
	(void)state;
	struct cluster_settings b = {.name = "b"};
	for (size_t c = 0; c < sizeof(coordinator_cases) / sizeof(coordinator_cases[0]); c++) {
		const struct coordinator_case *cc = &coordinator_cases[c];
		struct fleet fleet;
		fleet_init(&fleet);
		for (size_t i = 0; i < MAX_NODES && cc->nodes[i].id != NULL; i++)
			feed(&fleet, &cc->nodes[i]);
		const struct fleet_node *got = cluster_live_coordinator(&fleet, &b, NOW);
		const char *got_id = got != NULL ? got->node_id : "(none)";
		const char *expected_id = cc->expected != NULL ? cc->expected : "(none)";
		if (strcmp(got_id, expected_id) != 0)
			fail_msg("case '%s': got %s, expected %s", cc->name, got_id, expected_id);
		fleet_cleanup(&fleet);
	}
}

#define B_COORD                                                                                    \
	{                                                                                          \
		"b-coord", "b", COORD, "446", ACTIVE, 0, 0, NULL, C_OK, -1                         \
	}
#define B_WORKER(n)                                                                                \
	{                                                                                          \
		"b-w" n, "b", WORKER, "446", ACTIVE, 0, 0, NULL, 0, -1                             \
	}

struct target_case {
	const char *name;
	struct node_spec nodes[MAX_NODES];
	const char *cluster;       /* the rollback target */
	enum finding_kind finding; /* an open finding ... */
	const char *finding_on;    /* ... on this cluster; NULL: no finding */
	bool fit;
	const char *why; /* the refusal, exactly */
};

/* b and g are configured, each wanting 2 workers. */
static const struct target_case target_cases[] = {
        {.name = "a live ACTIVE coordinator and enough live ACTIVE workers: fit",
         .nodes = {B_COORD, B_WORKER("1"), B_WORKER("2")},
         .cluster = "b",
         .fit = true,
         .why = ""},
        {.name = "nothing to fall back on: not fit, nothing to say",
         .nodes = {B_COORD, B_WORKER("1"), B_WORKER("2")},
         .cluster = "",
         .why = ""},
        {.name = "a cluster no longer configured has no live ACTIVE coordinator",
         .nodes = {{"x-coord", "x", COORD, "446", ACTIVE, 0, 0, NULL, C_OK, -1}},
         .cluster = "x",
         .why = "x has no live ACTIVE coordinator"},
        {.name = "no coordinator reporting",
         .nodes = {B_WORKER("1"), B_WORKER("2")},
         .cluster = "b",
         .why = "b has no live ACTIVE coordinator"},
        {.name = "a coordinator whose agent went quiet",
         .nodes = {{"b-coord", "b", COORD, "446", ACTIVE, 10000, 0, NULL, C_OK, -1},
                   B_WORKER("1"),
                   B_WORKER("2")},
         .cluster = "b",
         .why = "b has no live ACTIVE coordinator"},
        {.name = "a coordinator whose Trino is UNREACHABLE",
         .nodes = {{"b-coord", "b", COORD, NULL, UNREACHABLE, 0, 0, NULL, 0, -1},
                   B_WORKER("1"),
                   B_WORKER("2")},
         .cluster = "b",
         .why = "b has no live ACTIVE coordinator"},
        {.name = "a coordinator said ACTIVE but reporting no Trino version",
         .nodes = {{"b-coord", "b", COORD, NULL, ACTIVE, 0, 0, NULL, 0, -1},
                   B_WORKER("1"),
                   B_WORKER("2")},
         .cluster = "b",
         .why = "b has no live ACTIVE coordinator"},
        {.name = "a coordinator that answers but is DRAINING",
         .nodes = {{"b-coord", "b", COORD, "446", DRAINING, 0, 1000, NULL, 0, -1},
                   B_WORKER("1"),
                   B_WORKER("2")},
         .cluster = "b",
         .why = "b has no live ACTIVE coordinator"},
        {.name = "too few workers: a quiet one and a draining one do not count",
         .nodes = {B_COORD,
                   B_WORKER("1"),
                   {"b-w2", "b", WORKER, "446", ACTIVE, 10000, 0, NULL, 0, -1},
                   {"b-w3", "b", WORKER, "446", DRAINING, 0, 1000, NULL, 0, -1}},
         .cluster = "b",
         .why = "b has 1 live ACTIVE workers, 2 required"},
        {.name = "mixed versions on the target",
         .nodes = {B_COORD, B_WORKER("1"), B_WORKER("2")},
         .cluster = "b",
         .finding = FINDING_MIXED_VERSION,
         .finding_on = "b",
         .why = "b runs mixed versions (b-w1 runs Trino 445)"},
        {.name = "mixed versions on the other cluster do not refuse",
         .nodes = {B_COORD, B_WORKER("1"), B_WORKER("2")},
         .cluster = "b",
         .finding = FINDING_MIXED_VERSION,
         .finding_on = "g",
         .fit = true,
         .why = ""},
        {.name = "config drift on the target does not refuse",
         .nodes = {B_COORD, B_WORKER("1"), B_WORKER("2")},
         .cluster = "b",
         .finding = FINDING_CONFIG_DRIFT,
         .finding_on = "b",
         .fit = true,
         .why = ""},
};

static void test_rollback_target(void **state)
{
	(void)state;
	struct cluster_settings clusters[2] = {{.name = "b", .min_workers = 2},
	                                       {.name = "g", .min_workers = 2}};
	for (size_t c = 0; c < sizeof(target_cases) / sizeof(target_cases[0]); c++) {
		const struct target_case *tc = &target_cases[c];
		struct fleet fleet;
		fleet_init(&fleet);
		for (size_t i = 0; i < MAX_NODES && tc->nodes[i].id != NULL; i++)
			feed(&fleet, &tc->nodes[i]);
		struct finding open = {.kind = tc->finding};
		if (tc->finding_on != NULL) {
			snprintf(open.cluster, sizeof(open.cluster), "%s", tc->finding_on);
			snprintf(open.summary, sizeof(open.summary), "%s-w1 runs Trino 445",
			         tc->finding_on);
		}
		struct finding_list findings = {&open, tc->finding_on != NULL ? 1 : 0, 1};
		char why[512] = "left over";
		bool fit = rollback_target_fit(&fleet, clusters, 2, &findings, tc->cluster, NOW,
		                               why, sizeof(why));
		if (fit != tc->fit || strcmp(why, tc->why) != 0)
			fail_msg("case '%s':\n  got      %s '%s'\n  expected %s '%s'", tc->name,
			         fit ? "fit" : "not fit", why, tc->fit ? "fit" : "not fit",
			         tc->why);
		fleet_cleanup(&fleet);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_live_coordinator),
	        cmocka_unit_test(test_rollback_target),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
