/*
 * A whole collector inside a unit test: collector_start() on a config
 * written to a temp dir (ingest on an ipc:// socket there, CURVE off unless
 * the test says otherwise, the API on an ephemeral loopback port, state_dir
 * in the temp dir) with a fake clock the test moves by hand, and the
 * reports the test feeds, built like report_fixture.h does.
 */
#ifndef TG_COLLECTOR_FIXTURE_H
#define TG_COLLECTOR_FIXTURE_H

#include <stdbool.h>
#include <stdint.h>

#include "collector.h"
#include "report_fixture.h"

/* Where the fake clock starts: any monotonic origin; the wall clock at the fixture's stamp. */
#define FIXTURE_MONO_START_MS 5000000LL
#define FIXTURE_UNIX_START_MS FIXTURE_SENT_MS

/* The fake clock: the collector reads nothing else (collector_hooks.read_clock). */
extern struct clock_now fixture_now;
struct clock_now fixture_clock(void);
/* Moves both clocks forward by MS. */
void fixture_advance(int64_t ms);

struct collector_fixture {
	char *dir; /* the temp dir, removed by fixture_cleanup() */
	char listen[320];
	struct event_base *base;
	struct event *wake; /* bounds each loop pass while waiting */
	struct collector collector;
	bool running;
	bool no_initial_active; /* set after fixture_init: the base config names no active cluster */
};

/*
 * Makes the temp dir and the loop and resets the fake clock. 0 or -1.
 * Collectors started on F share the dir, so a second one finds the first's state.
 */
int fixture_init(struct collector_fixture *f);

/*
 * Starts a collector on F's dir with the base config (clusters blue, initial
 * active, and green, each min_workers 1 and stale_after 5s) and then EXTRA,
 * more INI text in which "%DIR%" stands for the temp dir. CURVE is off unless
 * CURVE. LB, when not NULL, replaces the [lb] driver (the collector owns it
 * once started). 0, or -1 with the reason printed.
 */
int fixture_start(struct collector_fixture *f, const char *extra, bool curve, struct lb_driver *lb);

/* Stops the collector (the dir and the loop stay). */
void fixture_stop(struct collector_fixture *f);

/* Stops what runs, frees the loop, removes the dir. */
void fixture_cleanup(struct collector_fixture *f);

/*
 * Runs F's loop one pass at a time (each bounded by a 2 ms wake timer, so
 * nothing spins and nothing sleeps blind) until COND(ARG) holds or
 * TIMEOUT_MS of real time pass. True when COND held. The deadline is real
 * time: it only bounds the test; the collector sees the fake clock alone.
 */
bool fixture_run_until(struct collector_fixture *f, bool (*cond)(void *arg), void *arg,
                       int timeout_ms);

/* The port the API was bound to, or -1. */
int fixture_api_port(const struct collector_fixture *f);

/* The path NAME in F's dir, in OUT. */
void fixture_path(const struct collector_fixture *f, const char *name, char *out, size_t out_len);

/*
 * A report of NODE_ID in CLUSTER (coordinator or worker, Trino VERSION,
 * ACTIVE) with SEQ, stamped at the fake wall clock. Coordinators carry the
 * fixture's counters, workers none. Strings point at the arguments.
 */
void fixture_report(struct report_fixture *r, const char *node_id, const char *cluster,
                    bool coordinator, const char *version, uint64_t seq);

#endif
