/*
 * rules/traffic_shift.c, one scenario per row: the coordinators of blue
 * (the old cluster) and green (the target) report their counters step by
 * step, and each step says whether the traffic is seen moved and why. A
 * witnessed move counts; an idle blue, a trickle of direct queries to green,
 * a blue that stops reporting or restarts, and gauge jitter do not.
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
#include "traffic_shift.h"

static const struct cluster_settings clusters[2] = {
        {.name = "blue", .stale_after_ms = 3000},
        {.name = "green", .stale_after_ms = 3000},
};

static const struct traffic_shift_settings settings = {.min_queries = 10, .quiet_ms = 5000};

/* One coordinator's report: finished queries and the running gauge; NO_REPORT: silent. */
struct reading {
	int64_t completed; /* NO_REPORT: the coordinator sends nothing at this step */
	int64_t running;
	int boot; /* the agent's boot: another value is a restart */
};

#define NO_REPORT (-1)
#define MAX_STEPS 12

struct step {
	int64_t at_ms;
	struct reading blue, green;
	bool moved;
	const char *why; /* a part of what traffic_shift_moved says */
};

struct scenario {
	const char *name;
	struct step steps[MAX_STEPS]; /* up to the first with at_ms < 0 */
};

#define B(c, r)                                                                                    \
	{                                                                                          \
		c, r, 1                                                                            \
	}
#define END                                                                                        \
	{                                                                                          \
		.at_ms = -1                                                                        \
	}
#define SILENT                                                                                     \
	{                                                                                          \
		NO_REPORT, 0, 1                                                                    \
	}
#define RESTART(c)                                                                                 \
	{                                                                                          \
		c, 0, 2                                                                            \
	}
#define NOT_YET(...) false, __VA_ARGS__

static const struct scenario scenarios[] = {
        {"users move: blue busy, then only draining and quiet; green takes its queries",
         {{0, B(100, 5), B(0, 0), NOT_YET("blue has taken no new query")},
          {1000, B(110, 5), B(0, 0),
           NOT_YET("green took 0 of 10 new queries while blue took "
                   "none for 0 s of 5 s")},
          /* blue's running queries finish: admitted stays 115 */
          {2000, B(115, 0), B(5, 1), NOT_YET("green took 6 of 10")},
          {4000, B(115, 0), B(12, 0), NOT_YET("blue took none for 3 s of 5 s")},
          {6000, B(115, 0), B(20, 0), true, "green took 20 new queries and blue none for 5 s"},
          END}},
        {"blue was idle all along (a quiet night): green's direct queries prove nothing",
         {{0, B(100, 0), B(0, 0), NOT_YET("blue has taken no new query")},
          {1000, B(100, 0), B(50, 0), NOT_YET("blue has taken no new query")},
          {9000, B(100, 0), B(100, 0),
           NOT_YET("blue has taken no new query since the switch "
                   "was asked")},
          END}},
        {"a trickle of direct queries to green while users stay on blue never adds up",
         {{0, B(100, 0), B(0, 0), NOT_YET("")},
          {1000, B(101, 0), B(3, 0), NOT_YET("")},
          {2000, B(102, 0), B(6, 0), NOT_YET("")},
          {3000, B(103, 0), B(9, 0), NOT_YET("")},
          {4000, B(104, 0), B(12, 0), NOT_YET("")},
          {5000, B(105, 0), B(15, 0), NOT_YET("")},
          {6000, B(106, 0), B(18, 0), NOT_YET("green took 0 of 10")},
          {7000, B(106, 0), B(21, 0), NOT_YET("green took 3 of 10")},
          END}},
        {"green's queries while blue still takes some are not counted",
         {{0, B(100, 0), B(0, 0), NOT_YET("")},
          {1000, B(150, 0), B(100, 0), NOT_YET("green took 0 of 10")},
          {7000, B(150, 0), B(105, 0), NOT_YET("green took 5 of 10")},
          {8000, B(150, 0), B(110, 0), true, "green took 10 new queries and blue none for 7 s"},
          END}},
        {"blue stops reporting: not quiet while unseen",
         {{0, B(100, 0), B(0, 0), NOT_YET("")},
          {1000, B(110, 0), B(0, 0), NOT_YET("")},
          {2000, SILENT, B(20, 0), NOT_YET("")},
          {8000, SILENT, B(40, 0), NOT_YET("green took 0 of 10")},
          {9000, B(110, 0), B(60, 0),
           NOT_YET("green took 20 of 10 new queries while blue "
                   "took none for 1 s of 5 s")},
          {13000, B(110, 0), B(80, 0), true, "green took 40 new queries and blue none for 5 s"},
          END}},
        {"blue restarts (its counters start over): not quiet at the restart",
         {{0, B(100, 0), B(0, 0), NOT_YET("")},
          {1000, B(110, 0), B(0, 0), NOT_YET("")},
          {5000, RESTART(0), B(20, 0), NOT_YET("green took 0 of 10")},
          {9000, RESTART(0), B(40, 0), NOT_YET("blue took none for 4 s of 5 s")},
          {10000, RESTART(0), B(50, 0), true, "green took 30 new queries and blue none for 5 s"},
          END}},
        {"green's gauge jitter counts once",
         {{0, B(100, 5), B(0, 10), NOT_YET("")},
          {1000, B(110, 0), B(0, 10), NOT_YET("")},
          {2000, B(110, 0), B(0, 15), NOT_YET("green took 5 of 10")},
          {3000, B(110, 0), B(0, 12), NOT_YET("green took 5 of 10")},
          {4000, B(110, 0), B(0, 15), NOT_YET("green took 5 of 10")},
          {7000, B(110, 0), B(4, 11), NOT_YET("green took 5 of 10")},
          END}},
};

/* Feeds one coordinator's READING at NOW_MS (seq counts its reports). */
static void report(struct fleet *fleet, const char *cluster, const struct reading *reading,
                   uint64_t seq, int64_t now_ms)
{
	if (reading->completed == NO_REPORT)
		return;
	char id[32];
	snprintf(id, sizeof(id), "%s-coord", cluster);
	struct node_spec spec = {.id = id,
	                         .cluster = cluster,
	                         .role = COORD,
	                         .version = "479",
	                         .state = ACTIVE,
	                         .counters_state = C_OK,
	                         .active_nodes = -1};
	struct built_report b;
	build(&b, &spec, seq, reading->boot);
	b.counters.has_completed = 1;
	b.counters.completed = (uint64_t)reading->completed;
	b.counters.has_running = 1;
	b.counters.running = (uint64_t)reading->running;
	b.counters.has_queued = 1;
	b.counters.queued = 0;
	assert_int_not_equal(fleet_update(fleet, &b.report, now_ms), FLEET_NO_MEMORY);
}

static void run_scenario(const struct scenario *sc)
{
	struct fleet fleet;
	fleet_init(&fleet);
	struct traffic_shift shift;
	traffic_shift_start(&shift, "blue", "green");
	for (size_t i = 0; i < MAX_STEPS && sc->steps[i].at_ms >= 0; i++) {
		const struct step *step = &sc->steps[i];
		report(&fleet, "blue", &step->blue, i + 1, step->at_ms);
		report(&fleet, "green", &step->green, i + 1, step->at_ms);
		traffic_shift_observe(&shift, &fleet, clusters, 2, step->at_ms);
		char why[256];
		bool moved = traffic_shift_moved(&shift, &settings, step->at_ms, why, sizeof(why));
		if (moved != step->moved || strstr(why, step->why) == NULL)
			fail_msg("'%s', step %zu at %lld ms: moved %d (expected %d), says '%s' "
			         "(expected '%s')",
			         sc->name, i, (long long)step->at_ms, moved, step->moved, why,
			         step->why);
	}
	fleet_cleanup(&fleet);
}

static void test_scenarios(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(scenarios) / sizeof(scenarios[0]); i++)
		run_scenario(&scenarios[i]);
}

/* traffic_queries = 0: the move is never taken from the traffic. */
static void test_off(void **state)
{
	(void)state;
	struct traffic_shift shift;
	traffic_shift_start(&shift, "blue", "green");
	shift.from_admitted = 100;
	shift.from_last_ms = 0;
	shift.to_after_from = 1000;
	struct traffic_shift_settings off = {.min_queries = 0, .quiet_ms = 5000};
	char why[256];
	assert_false(traffic_shift_moved(&shift, &off, 60000, why, sizeof(why)));
	assert_non_null(strstr(why, "traffic_queries = 0"));
	assert_true(traffic_shift_moved(&shift, &settings, 60000, why, sizeof(why)));
}

/* A new start forgets what was counted for the last switch. */
static void test_start_over(void **state)
{
	(void)state;
	struct traffic_shift shift;
	traffic_shift_start(&shift, "blue", "green");
	shift.from_admitted = 100;
	shift.to_after_from = 1000;
	traffic_shift_start(&shift, "green", "blue");
	char why[256];
	assert_false(traffic_shift_moved(&shift, &settings, 60000, why, sizeof(why)));
	assert_string_equal(shift.from, "green");
	assert_string_equal(shift.to, "blue");
	assert_non_null(strstr(why, "green has taken no new query"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_scenarios),
	        cmocka_unit_test(test_off),
	        cmocka_unit_test(test_start_over),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
