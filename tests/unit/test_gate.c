/*
 * The cutover gate, one row per case: a healthy target passes; no node
 * reporting, a blocking finding, or the target's own failure ratio read at its
 * live coordinator refuse it, every failing check listed; a coordinator whose
 * Trino does not answer is refused through the findings it opens; a node
 * still starting refuses it by name.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "failure_ratio.h"
#include "findings.h"
#include "fleet.h"
#include "fleet_fixture.h"
#include "gate.h"

#define MAX_NODES 4

/* Two reports of the coordinator of g, a second apart, COMPLETED and INTERNAL apart. */
struct traffic {
	uint64_t completed, internal;
};

struct gate_case {
	const char *name;
	struct node_spec nodes[MAX_NODES];
	struct traffic traffic; /* of g-coord, before its NODES report; {0}: none */
	bool pass;
	/* the failing checks joined by '|', each line cut before its first ':' */
	const char *failed;
};

#define G_COORD                                                                                    \
	{                                                                                          \
		"g-coord", "g", COORD, "447", ACTIVE, 0, 0, NULL, C_OK, -1                         \
	}
#define G_WORKER(n)                                                                                \
	{                                                                                          \
		"g-w" n, "g", WORKER, "447", ACTIVE, 0, 0, NULL, 0, -1                             \
	}

static const struct gate_case gate_cases[] = {
        {.name = "a healthy target with little failing traffic passes",
         .nodes = {G_COORD, G_WORKER("1"), G_WORKER("2")},
         .traffic = {1000, 10},
         .pass = true,
         .failed = ""},
        {.name = "a target with no node reporting is refused",
         .nodes = {{"b-coord", "b", COORD, "446", ACTIVE, 0, 0, NULL, C_OK, -1}},
         .failed = "cluster g has no node reporting"},
        {.name = "a blocking finding on the target is listed",
         .nodes = {G_COORD, G_WORKER("1"), {"g-w2", "g", WORKER, "446", ACTIVE, 0, 0, NULL, 0, -1}},
         .failed = "mixed-version"},
        {.name = "findings on the other cluster do not block",
         .nodes = {G_COORD,
                   G_WORKER("1"),
                   G_WORKER("2"),
                   {"b-w1", "b", WORKER, "445", ACTIVE, 0, 0, NULL, 0, -1}},
         .pass = true,
         .failed = ""},
        {.name = "the target's own failures, read at its live coordinator, refuse it",
         .nodes = {G_COORD, G_WORKER("1"), G_WORKER("2")},
         .traffic = {100, 50},
         .failed = "failure ratio of g is 50.0 % over 100 queries (99 % lower bound 37.5 %), not "
                   "under the tolerated 5.0 %"},
        {.name = "a coordinator whose Trino does not answer is refused as incomplete",
         .nodes = {{"g-coord", "g", COORD, NULL, UNREACHABLE, 0, 0, NULL, 0, -1},
                   G_WORKER("1"),
                   G_WORKER("2")},
         .traffic = {100, 50},
         .failed = "cluster-incomplete"},
        {.name = "a worker still starting refuses the target, naming it",
         .nodes = {G_COORD,
                   G_WORKER("1"),
                   G_WORKER("2"),
                   {"g-w3", "g", WORKER, "447", TRINOGUARD__V1__NODE_STATE__STATE_STARTING, 0, 0,
                    NULL, 0, -1}},
         .failed = "g-w3 is STARTING"},
};

/* The coordinator's counters at NOW - 3 s and NOW - 2 s, before its last report. */
static void feed_traffic(struct fleet *fleet, struct traffic traffic)
{
	struct node_spec spec = G_COORD;
	for (int i = 0; i < 2; i++) {
		struct built_report b;
		build(&b, &spec, (uint64_t)(10 + i), 1);
		b.report.has_trino_uptime_ms = 1;
		b.report.trino_uptime_ms = 100000 + 1000 * (uint64_t)i;
		b.counters.has_completed = 1;
		b.counters.completed = i == 0 ? 0 : traffic.completed;
		b.counters.internal = i == 0 ? 0 : traffic.internal;
		b.counters.failed = b.counters.internal;
		assert_int_equal(fleet_update(fleet, &b.report, NOW - 3000 + 1000 * i),
		                 i == 0 ? FLEET_NEW_BOOT : FLEET_ACCEPTED);
	}
}

static void test_gate_table(void **state)
{
	(void)state;
	struct cluster_settings clusters[2] = {
	        {.name = "g", .min_workers = 2, .down_grace_ms = 10000},
	        {.name = "b", .min_workers = 0, .down_grace_ms = 10000},
	};
	for (size_t c = 0; c < sizeof(gate_cases) / sizeof(gate_cases[0]); c++) {
		const struct gate_case *gc = &gate_cases[c];
		struct fleet fleet;
		fleet_init(&fleet);
		if (gc->traffic.completed > 0)
			feed_traffic(&fleet, gc->traffic);
		for (size_t i = 0; i < MAX_NODES && gc->nodes[i].id != NULL; i++) {
			struct node_spec spec = gc->nodes[i];
			struct built_report b;
			build(&b, &spec, 20, 1); /* newer than the traffic's reports */
			assert_int_not_equal(fleet_update(&fleet, &b.report, NOW), FLEET_NO_MEMORY);
		}
		struct finding_list findings = {0};
		assert_int_equal(findings_evaluate(&fleet, clusters, 2, "b", NOW, &findings), 0);
		struct gate_result out;
		gate_evaluate(&fleet, &clusters[0], &findings, 0.05, 60000, FAILURE_TYPES_DEFAULT,
		              NOW, &out);
		char failed[2048] = "";
		for (size_t i = 0; i < out.failed_count; i++) {
			size_t used = strlen(failed);
			const char *colon = strchr(out.failed[i], ':');
			int len = colon != NULL ? (int)(colon - out.failed[i])
			                        : (int)strlen(out.failed[i]);
			snprintf(failed + used, sizeof(failed) - used, "%s%.*s", i ? "|" : "", len,
			         out.failed[i]);
		}
		if (out.pass != gc->pass || strcmp(failed, gc->failed) != 0)
			fail_msg("case '%s':\n  got      %s '%s'\n  expected %s '%s'", gc->name,
			         out.pass ? "pass" : "refused", failed,
			         gc->pass ? "pass" : "refused", gc->failed);
		finding_list_free(&findings);
		fleet_cleanup(&fleet);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_gate_table),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
