/*
 * rules/drain.c, one step per row on one fleet: unknown gauges hold the
 * gate, running or queued queries hold it and restart the quiet time, zero
 * of both for the configured time opens it; 0 turns the gate off. And the
 * oldest query's age from the coordinator's query list.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "drain.h"
#include "fleet.h"
#include "fleet_fixture.h"

static const struct cluster_settings clusters[1] = {{.name = "blue", .stale_after_ms = 3000}};

/* A report SEQ of blue's coordinator, its counters OK or (COUNTED false) absent. */
static void build_blue(struct built_report *b, bool counted, uint64_t seq)
{
	struct node_spec spec = {.id = "blue-coord",
	                         .cluster = "blue",
	                         .role = COORD,
	                         .version = "479",
	                         .state = ACTIVE,
	                         .counters_state = counted ? C_OK : 0,
	                         .active_nodes = -1};
	build(b, &spec, seq, 1);
}

/* blue's coordinator reports RUNNING and QUEUED (-1: no counters) at NOW_MS. */
static void report(struct fleet *fleet, int64_t running, int64_t queued, uint64_t seq,
                   int64_t now_ms)
{
	struct built_report b;
	build_blue(&b, running >= 0, seq);
	if (running >= 0) {
		b.counters.has_running = 1;
		b.counters.running = (uint64_t)running;
		b.counters.has_queued = 1;
		b.counters.queued = (uint64_t)queued;
	}
	assert_int_not_equal(fleet_update(fleet, &b.report, now_ms), FLEET_NO_MEMORY);
}

static const struct {
	const char *name;
	int64_t running, queued; /* -1: no counters */
	int64_t at_ms;
	bool done;
	const char *why;
} steps[] = {
        {"gauges unknown: held", -1, 0, 0, false,
         "blue's running and queued queries are not known"},
        {"a query running: held", 1, 0, 1000, false, "blue still runs 1 queries and queues 0"},
        {"a query queued: held", 0, 2, 2000, false, "blue still runs 0 queries and queues 2"},
        {"quiet, not long enough", 0, 0, 3000, false, "blue has had no query for 0 s of 10 s"},
        {"still quiet, 9 s", 0, 0, 12000, false, "blue has had no query for 9 s of 10 s"},
        {"quiet for 10 s: open", 0, 0, 13000, true, ""},
        {"a new query closes it again", 1, 0, 14000, false,
         "blue still runs 1 queries and queues 0"},
};

static void test_drain_steps(void **state)
{
	(void)state;
	struct fleet fleet;
	fleet_init(&fleet);
	struct drain_state drain = {0};
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		report(&fleet, steps[i].running, steps[i].queued, i + 1, NOW + steps[i].at_ms);
		drain_observe(&drain, &fleet, clusters, 1, "blue", NOW + steps[i].at_ms);
		char why[200] = "";
		bool done = drain_done(&drain, 10000, NOW + steps[i].at_ms, why, sizeof(why));
		print_message("%s\n", steps[i].name);
		assert_int_equal(done, steps[i].done);
		assert_string_equal(why, steps[i].why);
		/* 0: the gate is off */
		assert_true(drain_done(&drain, 0, NOW + steps[i].at_ms, why, sizeof(why)));
	}
	fleet_cleanup(&fleet);
}

/* blue's coordinator with its query list: OLDEST_MS elapsed (-1: none) or ERROR. */
static void report_list(struct fleet *fleet, int64_t oldest_ms, const char *error, uint64_t seq,
                        int64_t now_ms)
{
	struct built_report b;
	build_blue(&b, true, seq);
	QueryList list = TRINOGUARD__V1__QUERY_LIST__INIT;
	list.error = (char *)error;
	if (error == NULL) {
		list.has_unfinished = 1;
		list.unfinished = oldest_ms >= 0;
		list.has_oldest_elapsed_ms = oldest_ms >= 0;
		list.oldest_elapsed_ms = oldest_ms >= 0 ? (uint64_t)oldest_ms : 0;
	}
	b.report.query_list = &list;
	assert_int_not_equal(fleet_update(fleet, &b.report, now_ms), FLEET_NO_MEMORY);
}

/*
 * The oldest query's creation is placed on the collector's clock from its
 * elapsed time at the report's arrival; a later report moves nothing for
 * the same query; none, an unreadable list or a lost coordinator shows none.
 */
static void test_oldest_query(void **state)
{
	(void)state;
	struct fleet fleet;
	fleet_init(&fleet);
	struct drain_state drain = {0};
	report_list(&fleet, 5000, NULL, 1, NOW + 1000);
	drain_observe(&drain, &fleet, clusters, 1, "blue", NOW + 1000);
	assert_int_equal(drain.oldest_query_since_ms, NOW - 4000);
	report_list(&fleet, 7000, NULL, 2, NOW + 3000);
	drain_observe(&drain, &fleet, clusters, 1, "blue", NOW + 3000);
	assert_int_equal(drain.oldest_query_since_ms, NOW - 4000);
	report_list(&fleet, -1, NULL, 3, NOW + 4000);
	drain_observe(&drain, &fleet, clusters, 1, "blue", NOW + 4000);
	assert_int_equal(drain.oldest_query_since_ms, -1);
	assert_string_equal(drain.query_list_error, "");
	report_list(&fleet, -1, "/v1/query: HTTP 403: Access Denied", 4, NOW + 5000);
	drain_observe(&drain, &fleet, clusters, 1, "blue", NOW + 5000);
	assert_int_equal(drain.oldest_query_since_ms, -1);
	assert_string_equal(drain.query_list_error, "/v1/query: HTTP 403: Access Denied");
	report_list(&fleet, 9000, NULL, 5, NOW + 6000);
	/* the coordinator goes silent past stale_after: its last list is no evidence */
	drain_observe(&drain, &fleet, clusters, 1, "blue", NOW + 6000 + 3001);
	assert_int_equal(drain.oldest_query_since_ms, -1);
	fleet_cleanup(&fleet);
}

int main(void)
{
	const struct CMUnitTest tests[] = {cmocka_unit_test(test_drain_steps),
	                                   cmocka_unit_test(test_oldest_query)};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
