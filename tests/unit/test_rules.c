/*
 * The collector's pure rules: the fleet table (duplicates, boots, forgetting),
 * every guardrail rule and its edges (one row per case), each rule's severity
 * on the cluster users are on and on the standby, the failure ratio
 * window and its Wilson interval, and the diff of two ticks.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "failure_ratio.h"
#include "findings.h"
#include "fleet.h"
#include "fleet_fixture.h"

#define MAX_NODES 6

struct rule_case {
	const char *name;
	struct node_spec nodes[MAX_NODES];
	int64_t min_workers;
	const char *expected; /* finding keys, sorted, joined by '|' */
};

#define COORD_447(cl)                                                                              \
	{                                                                                          \
		cl "-coord", cl, COORD, "447", ACTIVE, 0, 0, NULL, C_OK, -1                        \
	}
#define WORKER_447(cl, n)                                                                          \
	{                                                                                          \
		cl "-w" n, cl, WORKER, "447", ACTIVE, 0, 0, NULL, 0, -1                            \
	}

static const struct rule_case rule_cases[] = {
        {"healthy cluster has no findings",
         {COORD_447("g"), WORKER_447("g", "1"), WORKER_447("g", "2")},
         2,
         ""},
        {"a worker on another version",
         {COORD_447("g"),
          WORKER_447("g", "1"),
          {"g-w2", "g", WORKER, "446", ACTIVE, 0, 0, NULL, 0, -1}},
         2,
         "mixed-version/g/g-w2"},
        {"the coordinator's version is the reference even in a minority",
         {{"g-coord", "g", COORD, "446", ACTIVE, 0, 0, NULL, C_OK, -1},
          WORKER_447("g", "1"),
          WORKER_447("g", "2")},
         2,
         "mixed-version/g/g-w1|mixed-version/g/g-w2"},
        {"no coordinator: the most common version is the reference",
         {WORKER_447("g", "1"),
          WORKER_447("g", "2"),
          {"g-w3", "g", WORKER, "446", ACTIVE, 0, 0, NULL, 0, -1}},
         0,
         "cluster-incomplete/g|mixed-version/g/g-w3"},
        {"version tie without a coordinator: the higher wins",
         {{"g-w1", "g", WORKER, "446", ACTIVE, 0, 0, NULL, 0, -1}, WORKER_447("g", "2")},
         0,
         "cluster-incomplete/g|mixed-version/g/g-w1"},
        {"Starburst versions compare whole",
         {{"g-coord", "g", COORD, "423-e.3", ACTIVE, 0, 0, NULL, C_OK, -1},
          {"g-w1", "g", WORKER, "423-e.3", ACTIVE, 0, 0, NULL, 0, -1},
          {"g-w2", "g", WORKER, "423-e.4", ACTIVE, 0, 0, NULL, 0, -1}},
         2,
         "mixed-version/g/g-w2"},
        {"a stale node is stale, not mixed",
         {COORD_447("g"),
          WORKER_447("g", "1"),
          {"g-w2", "g", WORKER, "446", ACTIVE, 10000, 0, NULL, 0, -1}},
         2,
         "cluster-incomplete/g|node-stale/g/g-w2"},
        {"the active cluster with no node at all is absent, not incomplete",
         {WORKER_447("x", "1")},
         0,
         "cluster-absent/g"},
        {"one node only, no workers required", {COORD_447("g")}, 0, ""},
        {"too few workers", {COORD_447("g"), WORKER_447("g", "1")}, 2, "cluster-incomplete/g"},
        {"catalogs are compared across roles",
         {{"g-coord", "g", COORD, "447", ACTIVE, 0, 0, "catalog/tpch.properties=aa", C_OK, -1},
          {"g-w1", "g", WORKER, "447", ACTIVE, 0, 0, "catalog/tpch.properties=aa", 0, -1},
          {"g-w2", "g", WORKER, "447", ACTIVE, 0, 0, "catalog/tpch.properties=bb", 0, -1}},
         2,
         "config-drift/g/catalog/tpch.properties"},
        {"config.properties may differ between roles",
         {{"g-coord", "g", COORD, "447", ACTIVE, 0, 0, "config.properties=aa", C_OK, -1},
          {"g-w1", "g", WORKER, "447", ACTIVE, 0, 0, "config.properties=bb", 0, -1},
          {"g-w2", "g", WORKER, "447", ACTIVE, 0, 0, "config.properties=bb", 0, -1}},
         2,
         ""},
        {"config.properties must match within a role",
         {{"g-coord", "g", COORD, "447", ACTIVE, 0, 0, "config.properties=aa", C_OK, -1},
          {"g-w1", "g", WORKER, "447", ACTIVE, 0, 0, "config.properties=bb", 0, -1},
          {"g-w2", "g", WORKER, "447", ACTIVE, 0, 0, "config.properties=cc", 0, -1}},
         2,
         "config-drift/g/worker/config.properties"},
        {"a catalog missing on one node is drift",
         {{"g-coord", "g", COORD, "447", ACTIVE, 0, 0, "catalog/hive.properties=aa", C_OK, -1},
          {"g-w1", "g", WORKER, "447", ACTIVE, 0, 0, "catalog/hive.properties=aa", 0, -1},
          {"g-w2", "g", WORKER, "447", ACTIVE, 0, 0, "", 0, -1}},
         2,
         "config-drift/g/catalog/hive.properties"},
        {"an unreadable file differs from a readable one",
         {COORD_447("g"),
          {"g-w1", "g", WORKER, "447", ACTIVE, 0, 0, "jvm.config=aa", 0, -1},
          {"g-w2", "g", WORKER, "447", ACTIVE, 0, 0, "jvm.config=!", 0, -1}},
         2,
         "config-drift/g/worker/jvm.config"},
        {"Trino down past the grace",
         {COORD_447("g"),
          WORKER_447("g", "1"),
          {"g-w2", "g", WORKER, NULL, UNREACHABLE, 0, 20000, NULL, 0, -1}},
         2,
         "cluster-incomplete/g|trino-down/g/g-w2"},
        {"Trino down within the grace: only the cluster is short",
         {COORD_447("g"),
          WORKER_447("g", "1"),
          {"g-w2", "g", WORKER, NULL, UNREACHABLE, 0, 5000, NULL, 0, -1}},
         2,
         "cluster-incomplete/g"},
        {"a draining worker is not ACTIVE either",
         {COORD_447("g"),
          WORKER_447("g", "1"),
          {"g-w2", "g", WORKER, "447", DRAINING, 0, 30000, NULL, 0, -1}},
         1,
         "trino-down/g/g-w2"},
        {"the coordinator's counters are forbidden",
         {{"g-coord", "g", COORD, "447", ACTIVE, 0, 0, NULL, C_403, -1}, WORKER_447("g", "1")},
         1,
         "counters-unavailable/g/g-coord"},
        {"the coordinator sees fewer nodes than agents report",
         {{"g-coord", "g", COORD, "447", ACTIVE, 0, 0, NULL, C_OK, 2},
          WORKER_447("g", "1"),
          WORKER_447("g", "2")},
         2,
         "node-hidden/g"},
        {"the coordinator sees more nodes than agents report",
         {{"g-coord", "g", COORD, "447", ACTIVE, 0, 0, NULL, C_OK, 4},
          WORKER_447("g", "1"),
          WORKER_447("g", "2")},
         2,
         "node-unguarded/g"},
        {"clusters are judged apart: blue on 446, green on 447",
         {COORD_447("g"),
          WORKER_447("g", "1"),
          {"b-coord", "b", COORD, "446", ACTIVE, 0, 0, NULL, C_OK, -1},
          {"b-w1", "b", WORKER, "446", ACTIVE, 0, 0, NULL, 0, -1}},
         1,
         ""},
};

static void keys_of(const struct finding_list *list, char *out, size_t len)
{
	out[0] = '\0';
	for (size_t i = 0; i < list->count; i++) {
		size_t used = strlen(out);
		snprintf(out + used, len - used, "%s%s", i ? "|" : "", list->items[i].key);
	}
}

static void test_rule_table(void **state)
{
	(void)state;
	for (size_t c = 0; c < sizeof(rule_cases) / sizeof(rule_cases[0]); c++) {
		const struct rule_case *rc = &rule_cases[c];
		struct fleet fleet;
		fleet_init(&fleet);
		for (size_t i = 0; i < MAX_NODES && rc->nodes[i].id != NULL; i++)
			feed(&fleet, &rc->nodes[i]);
		struct cluster_settings clusters[2] = {
		        {.min_workers = rc->min_workers, .down_grace_ms = 10000},
		        {.min_workers = rc->min_workers, .down_grace_ms = 10000},
		};
		snprintf(clusters[0].name, sizeof(clusters[0].name), "g");
		snprintf(clusters[1].name, sizeof(clusters[1].name), "b");
		struct finding_list findings = {0};
		assert_int_equal(findings_evaluate(&fleet, clusters, 2, "g", NOW,
		                                   &findings) /* b is the standby */,
		                 0);
		char keys[2048];
		keys_of(&findings, keys, sizeof(keys));
		if (strcmp(keys, rc->expected) != 0) {
			for (size_t i = 0; i < findings.count; i++)
				print_message("  %s: %s\n", findings.items[i].key,
				              findings.items[i].summary);
			fail_msg("case '%s':\n  got      '%s'\n  expected '%s'", rc->name, keys,
			         rc->expected);
		}
		finding_list_free(&findings);
		fleet_cleanup(&fleet);
	}
}

static void test_truncated_config_is_a_finding(void **state)
{
	(void)state;
	struct fleet fleet = {0}; /* fleet_init's */
	struct node_spec coord = COORD_447("g"), worker = WORKER_447("g", "1");
	feed(&fleet, &coord);
	worker.digests = "config.properties=aa;jvm.config=bb";
	struct built_report b;
	build(&b, &worker, 2, 1);
	b.report.has_config_files_total = 1;
	b.report.config_files_total = 600;
	assert_int_equal(fleet_update(&fleet, &b.report, NOW), FLEET_NEW_BOOT);
	struct cluster_settings cluster = {.name = "g", .min_workers = 1, .down_grace_ms = 10000};
	struct finding_list findings = {0};
	assert_int_equal(findings_evaluate(&fleet, &cluster, 1, "g", NOW, &findings), 0);
	assert_int_equal(findings.count, 1);
	assert_string_equal(findings.items[0].key, "config-truncated/g/g-w1");
	assert_int_equal(findings.items[0].severity, SEVERITY_WARNING);
	assert_non_null(strstr(findings.items[0].summary, "g-w1 has 600 config files: 2 are"));
	finding_list_free(&findings);
	fleet_cleanup(&fleet);
}

static void test_summaries_name_what_matters(void **state)
{
	(void)state;
	struct fleet fleet;
	fleet_init(&fleet);
	struct node_spec nodes[] = {
	        {"g-coord", "g", COORD, "447", ACTIVE, 0, 0, "catalog/tpch.properties=aa", C_OK,
	         -1},
	        {"g-w1", "g", WORKER, "446", ACTIVE, 0, 0, "catalog/tpch.properties=bb", 0, -1},
	        {"g-w2", "g", WORKER, "447", ACTIVE, 0, 0, "catalog/tpch.properties=aa", 0, -1},
	};
	for (size_t i = 0; i < 3; i++)
		feed(&fleet, &nodes[i]);
	struct cluster_settings settings = {.name = "g", .min_workers = 2};
	struct finding_list findings = {0};
	assert_int_equal(findings_evaluate(&fleet, &settings, 1, "g", NOW, &findings), 0);
	assert_int_equal(findings.count, 2);
	assert_string_equal(findings.items[0].summary,
	                    "catalog/tpch.properties differs between nodes of g: "
	                    "aaaaaaaa: g-coord, g-w2; bbbbbbbb: g-w1");
	assert_int_equal(findings.items[0].severity, SEVERITY_WARNING);
	assert_string_equal(findings.items[1].summary,
	                    "g-w1 runs Trino 446, cluster g runs 447 (its coordinator's version)");
	assert_int_equal(findings.items[1].severity, SEVERITY_CRITICAL);
	char reference[64];
	cluster_reference_version(&fleet, &settings, NOW, reference, sizeof(reference));
	assert_string_equal(reference, "447");
	finding_list_free(&findings);
	fleet_cleanup(&fleet);
}

/*
 * What pages: each rule's severity on the cluster users are on and on the
 * standby (README, "Findings"). trino-down and cluster-incomplete weigh by
 * role; the others are the same wherever they happen.
 */
struct severity_case {
	const char *name;
	enum finding_kind kind; /* the finding the nodes of g open */
	struct node_spec nodes[MAX_NODES];
	int64_t min_workers;
	enum severity on_users_cluster, on_standby;
};

static const struct severity_case severity_cases[] = {
        {"trino-down pages where users are, warns on the standby",
         FINDING_TRINO_DOWN,
         {COORD_447("g"), {"g-w1", "g", WORKER, "447", DRAINING, 0, 30000, NULL, 0, -1}},
         0,
         SEVERITY_CRITICAL,
         SEVERITY_WARNING},
        {"cluster-incomplete pages where users are, warns on the standby",
         FINDING_CLUSTER_INCOMPLETE,
         {COORD_447("g"), WORKER_447("g", "1")},
         2,
         SEVERITY_CRITICAL,
         SEVERITY_WARNING},
        {"mixed-version is critical on either cluster",
         FINDING_MIXED_VERSION,
         {COORD_447("g"), {"g-w1", "g", WORKER, "446", ACTIVE, 0, 0, NULL, 0, -1}},
         1,
         SEVERITY_CRITICAL,
         SEVERITY_CRITICAL},
        {"config-drift is a warning on either cluster",
         FINDING_CONFIG_DRIFT,
         {COORD_447("g"),
          {"g-w1", "g", WORKER, "447", ACTIVE, 0, 0, "jvm.config=aa", 0, -1},
          {"g-w2", "g", WORKER, "447", ACTIVE, 0, 0, "jvm.config=bb", 0, -1}},
         2,
         SEVERITY_WARNING,
         SEVERITY_WARNING},
        {"node-stale is a warning on either cluster",
         FINDING_NODE_STALE,
         {COORD_447("g"),
          WORKER_447("g", "1"),
          {"g-w2", "g", WORKER, "447", ACTIVE, 10000, 0, NULL, 0, -1}},
         1,
         SEVERITY_WARNING,
         SEVERITY_WARNING},
        {"counters-unavailable is a warning on either cluster",
         FINDING_COUNTERS_UNAVAILABLE,
         {{"g-coord", "g", COORD, "447", ACTIVE, 0, 0, NULL, C_403, -1}},
         0,
         SEVERITY_WARNING,
         SEVERITY_WARNING},
        {"node-hidden is a warning on either cluster",
         FINDING_NODE_HIDDEN,
         {{"g-coord", "g", COORD, "447", ACTIVE, 0, 0, NULL, C_OK, 1}, WORKER_447("g", "1")},
         1,
         SEVERITY_WARNING,
         SEVERITY_WARNING},
        {"node-unguarded is a warning on either cluster",
         FINDING_NODE_UNGUARDED,
         {{"g-coord", "g", COORD, "447", ACTIVE, 0, 0, NULL, C_OK, 3}, WORKER_447("g", "1")},
         1,
         SEVERITY_WARNING,
         SEVERITY_WARNING},
};

static void test_severity_by_rule_and_role(void **state)
{
	(void)state;
	for (size_t c = 0; c < sizeof(severity_cases) / sizeof(severity_cases[0]); c++) {
		const struct severity_case *sc = &severity_cases[c];
		struct fleet fleet;
		fleet_init(&fleet);
		for (size_t i = 0; i < MAX_NODES && sc->nodes[i].id != NULL; i++)
			feed(&fleet, &sc->nodes[i]);
		struct cluster_settings clusters[2] = {
		        {.name = "g", .min_workers = sc->min_workers, .down_grace_ms = 10000},
		        {.name = "b", .min_workers = sc->min_workers, .down_grace_ms = 10000},
		};
		/* users on g, then on b (g the standby) */
		const char *users_on[2] = {"g", "b"};
		const enum severity expected[2] = {sc->on_users_cluster, sc->on_standby};
		for (int role = 0; role < 2; role++) {
			struct finding_list findings = {0};
			assert_int_equal(findings_evaluate(&fleet, clusters, 2, users_on[role], NOW,
			                                   &findings),
			                 0);
			const struct finding *found = NULL;
			for (size_t i = 0; i < findings.count; i++)
				if (findings.items[i].kind == sc->kind &&
				    strcmp(findings.items[i].cluster, "g") == 0)
					found = &findings.items[i];
			if (found == NULL || found->severity != expected[role])
				fail_msg("case '%s', users on %s: got %s, expected %s", sc->name,
				         users_on[role],
				         found != NULL ? severity_name(found->severity)
				                       : "no finding",
				         severity_name(expected[role]));
			finding_list_free(&findings);
		}
		fleet_cleanup(&fleet);
	}
}

static void test_fleet_drops_old_reports_and_accepts_new_boots(void **state)
{
	(void)state;
	struct fleet fleet;
	fleet_init(&fleet);
	struct node_spec spec = COORD_447("g");
	struct built_report b;
	build(&b, &spec, 5, 1);
	assert_int_equal(fleet_update(&fleet, &b.report, 100), FLEET_NEW_BOOT);
	assert_int_equal(fleet_update(&fleet, &b.report, 200), FLEET_DUPLICATE);
	build(&b, &spec, 4, 1);
	assert_int_equal(fleet_update(&fleet, &b.report, 300), FLEET_DUPLICATE);
	assert_int_equal(fleet_find(&fleet, "g-coord")->received_ms, 100);
	build(&b, &spec, 6, 1);
	assert_int_equal(fleet_update(&fleet, &b.report, 400), FLEET_ACCEPTED);
	/* the agent restarted: seq starts over under a new boot id */
	build(&b, &spec, 1, 2);
	assert_int_equal(fleet_update(&fleet, &b.report, 500), FLEET_NEW_BOOT);
	assert_int_equal(fleet_find(&fleet, "g-coord")->seq, 1);

	/* a node moving between clusters follows its latest report */
	struct node_spec moved = spec;
	moved.cluster = "b";
	build(&b, &moved, 2, 2);
	assert_int_equal(fleet_update(&fleet, &b.report, 600), FLEET_ACCEPTED);
	assert_string_equal(fleet_find(&fleet, "g-coord")->cluster, "b");

	/* many nodes stay sorted and findable */
	for (int i = 0; i < 200; i++) {
		char id[32];
		snprintf(id, sizeof(id), "node-%03d", (i * 37) % 200);
		struct node_spec s = {id, "g", WORKER, "447", ACTIVE, 0, 0, NULL, 0, -1};
		build(&b, &s, 1, 3);
		fleet_update(&fleet, &b.report, 1000 + i);
	}
	assert_int_equal(fleet.count, 201);
	assert_non_null(fleet_find(&fleet, "node-123"));
	assert_null(fleet_find(&fleet, "node-999"));
	assert_int_equal(fleet_forget(&fleet, 1100),
	                 101); /* g-coord and node ids fed before 1100 */
	assert_null(fleet_find(&fleet, "g-coord"));
	assert_int_equal(fleet.count, 100);
	fleet_cleanup(&fleet);
}

/* Feeds a coordinator sample with the given cumulative counters at T. */
static void sample(struct fleet *fleet, int64_t t, uint64_t seq, int boot, uint64_t uptime,
                   uint64_t completed, uint64_t internal, uint64_t user_error)
{
	struct node_spec spec = COORD_447("g");
	struct built_report b;
	build(&b, &spec, seq, boot);
	b.report.has_trino_uptime_ms = 1;
	b.report.trino_uptime_ms = uptime;
	QueryCounters *c = &b.counters;
	c->has_completed = 1;
	c->completed = completed;
	c->internal = internal;
	c->user_error = user_error;
	c->failed = internal + user_error;
	fleet_update(fleet, &b.report, t);
}

static void test_failure_ratio_window(void **state)
{
	(void)state;
	struct fleet fleet;
	fleet_init(&fleet);
	struct ratio_window w;

	/* zero traffic */
	sample(&fleet, 1000, 1, 1, 1000, 50, 5, 0);
	sample(&fleet, 2000, 2, 1, 2000, 50, 5, 0);
	const struct fleet_node *node = fleet_find(&fleet, "g-coord");
	failure_ratio_window(node, 2000, 60000, FAILURE_TYPES_DEFAULT, &w);
	assert_int_equal(w.queries, 0);
	assert_true(w.ratio == 0 && w.lower == 0 && w.upper == 1);

	/* 100 queries, 10 internal failures, 7 user errors not counted by default */
	sample(&fleet, 3000, 3, 1, 3000, 150, 10, 3);
	sample(&fleet, 4000, 4, 1, 4000, 150 + 50, 15, 7);
	failure_ratio_window(node, 4000, 60000, FAILURE_TYPES_DEFAULT, &w);
	assert_int_equal(w.queries, 150);
	assert_int_equal(w.failed, 10);
	failure_ratio_window(node, 4000, 60000, FAILURE_TYPES_DEFAULT | FAILURE_USER_ERROR, &w);
	assert_int_equal(w.failed, 17);

	/* a Trino restart: counters back near 0; that delta is not counted */
	sample(&fleet, 5000, 5, 1, 500, 10, 1, 0);
	sample(&fleet, 6000, 6, 1, 1500, 20, 1, 0);
	failure_ratio_window(node, 6000, 60000, FAILURE_TYPES_DEFAULT, &w);
	assert_int_equal(w.queries, 160);
	assert_int_equal(w.failed, 10);

	/* a new agent boot starts a new series too */
	sample(&fleet, 7000, 1, 2, 2500, 30, 3, 0);
	failure_ratio_window(node, 7000, 60000, FAILURE_TYPES_DEFAULT, &w);
	assert_int_equal(w.queries, 160);

	/* the window leaves old samples out: a delta counts when its newer sample
	 * is inside (4500, 7000]: 5000 is a restart, 6000 adds 10, 7000 a new boot */
	failure_ratio_window(node, 7000, 2500, FAILURE_TYPES_DEFAULT, &w);
	assert_int_equal(w.queries, 10);
	assert_int_equal(w.failed, 0);
	fleet_cleanup(&fleet);
}

static void test_wilson_interval(void **state)
{
	(void)state;
	double lower, upper;
	wilson_interval(100, 10, WILSON_Z_99, &lower, &upper);
	assert_true(lower > 0.046025 && lower < 0.046027);
	assert_true(upper > 0.203750 && upper < 0.203752);
	wilson_interval(10, 0, WILSON_Z_99, &lower, &upper);
	assert_true(lower == 0 && upper > 0.39 && upper < 0.41);
	wilson_interval(5, 5, WILSON_Z_99, &lower, &upper);
	assert_true(upper == 1 && lower > 0.4);
}

static int opened_count, closed_count;
static char opened_keys[256], closed_keys[256];

static void on_opened(const struct finding *f, void *arg)
{
	(void)arg;
	opened_count++;
	strncat(opened_keys, f->key, sizeof(opened_keys) - strlen(opened_keys) - 1);
}

static void on_closed(const struct finding *f, void *arg)
{
	(void)arg;
	closed_count++;
	strncat(closed_keys, f->key, sizeof(closed_keys) - strlen(closed_keys) - 1);
}

static void test_diff_of_two_ticks(void **state)
{
	(void)state;
	struct finding a = {.key = "a"}, b = {.key = "b"}, c = {.key = "c"};
	struct finding old_items[] = {a, b};
	struct finding new_items[] = {b, c};
	struct finding_list old_list = {old_items, 2, 2}, new_list = {new_items, 2, 2};
	findings_diff(&old_list, &new_list, on_opened, on_closed, NULL);
	assert_int_equal(opened_count, 1);
	assert_int_equal(closed_count, 1);
	assert_string_equal(opened_keys, "c");
	assert_string_equal(closed_keys, "a");
}

static void test_collector_findings_join_the_sorted_list(void **state)
{
	(void)state;
	struct fleet fleet;
	fleet_init(&fleet);
	struct node_spec down = {"g-coord", "g", COORD, NULL, UNREACHABLE, 0, 60000, NULL, 0, -1};
	feed(&fleet, &down);
	struct cluster_settings settings = {.name = "g", .down_grace_ms = 5000};
	struct finding_list findings = {0};
	assert_int_equal(findings_evaluate(&fleet, &settings, 1, "g", NOW, &findings), 0);
	assert_int_equal(findings_add_degraded(&findings, "g", "failure ratio 0.40 (CUSUM 16.0)"),
	                 0);
	assert_int_equal(findings_add_lb_failure(&findings, "g", "haproxy: timeout"), 0);
	assert_int_equal(findings.count, 4);
	const struct finding *degraded = NULL, *lb = NULL;
	for (size_t i = 0; i < findings.count; i++) {
		if (findings.items[i].kind == FINDING_DEGRADED)
			degraded = &findings.items[i];
		if (findings.items[i].kind == FINDING_LB_SWITCH_FAILED)
			lb = &findings.items[i];
		if (i > 0)
			assert_true(strcmp(findings.items[i - 1].key, findings.items[i].key) < 0);
	}
	assert_non_null(degraded);
	assert_non_null(lb);
	assert_string_equal(degraded->key, "degraded/g");
	assert_int_equal(degraded->severity, SEVERITY_CRITICAL);
	assert_string_equal(degraded->summary,
	                    "g is degraded during its watch: failure ratio 0.40 (CUSUM 16.0)");
	assert_int_equal(lb->severity, SEVERITY_CRITICAL);
	finding_list_free(&findings);
	fleet_cleanup(&fleet);
}

/* No finding before every agent had time to report once: the longest stale_after, at least 3 s. */
static void test_start_up_grace(void **state)
{
	(void)state;
	struct cluster_settings clusters[2] = {{.name = "b"}, {.name = "g"}};
	assert_false(findings_warmed_up(clusters, 2, 2999));
	assert_true(findings_warmed_up(clusters, 2, 3000));
	clusters[1].stale_after_ms = 10000;
	assert_false(findings_warmed_up(clusters, 2, 9999));
	assert_true(findings_warmed_up(clusters, 2, 10000));
	clusters[1].stale_after_ms = 500; /* shorter than the default: the default holds */
	assert_false(findings_warmed_up(clusters, 2, 2999));

	/* no agent yet: nothing at all until absent_from, then a warning, never critical */
	struct fleet empty;
	fleet_init(&empty);
	struct finding_list out = {0};
	clusters[0].absent_from_ms = 60000;
	clusters[1].absent_from_ms = 60000;
	assert_int_equal(findings_evaluate(&empty, clusters, 2, "b", 59999, &out), 0);
	assert_int_equal(out.count, 0);
	assert_int_equal(findings_evaluate(&empty, clusters, 2, "b", 60000, &out), 0);
	assert_int_equal(out.count, 1); /* the standby "g" may be absent */
	assert_string_equal(out.items[0].key, "cluster-absent/b");
	assert_int_equal(out.items[0].severity, SEVERITY_WARNING);
	finding_list_free(&out);
}

static void test_failure_type_names(void **state)
{
	(void)state;
	assert_int_equal(failure_type_parse("internal"), FAILURE_INTERNAL);
	assert_int_equal(failure_type_parse("external"), FAILURE_EXTERNAL);
	assert_int_equal(failure_type_parse("insufficient_resources"),
	                 FAILURE_INSUFFICIENT_RESOURCES);
	assert_int_equal(failure_type_parse("user_error"), FAILURE_USER_ERROR);
	assert_int_equal(failure_type_parse("INTERNAL"), 0);
	assert_int_equal(failure_type_parse(""), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_rule_table),
	        cmocka_unit_test(test_summaries_name_what_matters),
	        cmocka_unit_test(test_severity_by_rule_and_role),
	        cmocka_unit_test(test_truncated_config_is_a_finding),
	        cmocka_unit_test(test_fleet_drops_old_reports_and_accepts_new_boots),
	        cmocka_unit_test(test_failure_ratio_window),
	        cmocka_unit_test(test_wilson_interval),
	        cmocka_unit_test(test_diff_of_two_ticks),
	        cmocka_unit_test(test_collector_findings_join_the_sorted_list),
	        cmocka_unit_test(test_start_up_grace),
	        cmocka_unit_test(test_failure_type_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
