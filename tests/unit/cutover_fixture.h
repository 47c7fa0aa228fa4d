/*
 * The cutover runner's tests share this: a whole collector (collector_fixture.h)
 * with a fake load balancer that switches and answers when the test says,
 * blue and green fleets reporting every fake second with the traffic the
 * test sets, and helpers to tick, request and count journal events.
 */
#ifndef TG_CUTOVER_FIXTURE_H
#define TG_CUTOVER_FIXTURE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "collector_fixture.h"
#include "cutover.h"
#include "lb.h"

#define CUTOVER_FIXTURE_WATCH_MS 60000
#define CUTOVER_FIXTURE_SETTINGS "[watch]\nduration = 1m\n"

/* A load balancer that does what the test says, when it says. */
struct fake_lb {
	struct event *answer; /* delivers current()'s answer from the loop */
	char pointing_at[64]; /* what current() answers */
	lb_current_done_fn current_done;
	void *current_arg;
	size_t switch_calls;
	size_t current_calls;
	char target[64];               /* of the last switch asked for */
	lb_switch_done_fn switch_done; /* NULL: no switch under way */
	void *switch_arg;
};

extern struct fake_lb lb;
extern struct lb_driver fake_driver;
extern struct collector_fixture fx;

#define CUTOVER_FIXTURE_NODES 4
/* What blue's and green's coordinators count each fake second (100 queries each). */
extern struct cutover_traffic {
	uint64_t seq[CUTOVER_FIXTURE_NODES];
	uint64_t completed[CUTOVER_FIXTURE_NODES], failed[CUTOVER_FIXTURE_NODES];
	unsigned green_failed_per_100;    /* of each second's 100 queries */
	const char *silent;               /* a node that stopped reporting */
	const char *green_worker_version; /* NULL: green_version, like its coordinator */
	const char *green_version;        /* NULL: "447" */
} traffic;

/* The switch under way ends, OK or with ERROR; a working one moves the LB. */
void fake_finish(bool ok, const char *error);

/* Every node (but the silent one) reports once, at the fake clock's now. */
void report_all(void);

/* One tick at the fake clock's now, and the LB's answer to the poll it sent. */
void tick(void);

/* SECONDS fake seconds of reports and ticks. */
void run_seconds(int seconds);

enum cutover_phase phase(void);
double failure_score(void);
const struct finding *finding(const char *key);

/* How many journal events have TYPE (and NAME, for alerts). */
size_t journaled(const char *type, const char *name);

/* A request with the reason "upgrade to 447"; the answer into ANSWER_OUT if not NULL. */
int request(enum cutover_event_kind kind, const char *cluster, bool force, json_t **answer_out);

/* Resets the fake LB (pointing at blue) and the traffic, then fixture_init(). */
void cutover_fixture_init(void);

/* A collector whose findings have warmed up, the LB on blue, the fleet healthy. */
void start(void);

/* Stops the collector, frees the fake LB's event and the fixture. */
void finish(void);

/* cmocka setup and teardown around start() and finish(). */
int setup(void **state);
int teardown(void **state);

/* Requests a cutover to green and lets the LB report the switch done. */
void cut_over_to_green(void);

#endif
