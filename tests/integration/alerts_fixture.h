/*
 * The fixture test_alerts and test_alerts_lifecycle share: a PagerDuty
 * stand-in (also the webhook receiver) on 127.0.0.1, served by evhttp on
 * the tests' own loop, which answers with the statuses a test queues and
 * keeps the bodies it accepted; and an alert feed (with its journal) built
 * from a collector.ini written for the test.
 */
#ifndef TG_ALERTS_FIXTURE_H
#define TG_ALERTS_FIXTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "alerts.h"
#include "journal.h"

#define ROUTING_KEY "0123456789abcdef0123456789abcdef"
#define MAX_BODIES  32

struct evhttp;

struct alerts_fixture {
	struct event_base *base;
	struct evhttp *server;
	int port;
	char *dir;
	int answers[8]; /* the next statuses to answer with; 0: 202 */
	size_t answer_count;
	char *bodies[MAX_BODIES];         /* what arrived with a 2xx, in order */
	char *authorizations[MAX_BODIES]; /* each body's Authorization header; "" when none */
	size_t body_count;
	int requests;
	int64_t arrived_mono_ms[16]; /* when each of the first requests arrived */
	const char *retry_after;     /* what a 429 carries; NULL: "1" */
	bool fail_all;               /* answer 503 to everything */
	size_t wait_for;             /* stop the loop once this many bodies arrived */
};

/* The one fixture of the running test program, set up once for all its tests. */
extern struct alerts_fixture fx;

/* A fresh state_dir per test (bump it at the start); a restart keeps it. */
extern int state_number;

/* What start() writes into the routing key file: ROUTING_KEY unless a test rotates it. */
extern const char *routing_key;

struct setup {
	struct collector_config config;
	struct journal *journal;
	struct alerts *alerts;
};

/* cmocka group setup: the loop, a temp dir, the stand-in serving; -1 when one fails. */
int alerts_fixture_setup(void **state);
/* cmocka group teardown: stops serving, removes the temp dir. */
int alerts_fixture_teardown(void **state);

/* The stand-in starts (again) or stops answering on fx.port. */
void serve(void);
void stop_serving(void);

/* Runs the loop for MS milliseconds whatever arrives. */
void run_for(int ms);
/* Runs the loop until WANT bodies arrived or SECONDS passed, then lets the replies land. */
void run_until(size_t want, int seconds);
/* Frees the bodies received and zeroes the counts. */
void forget_bodies(void);

/*
 * Writes collector.ini (a pagerduty sink on the stand-in, min_severity
 * warning, plus EXTRA, which may be NULL) into state_number's dir and opens
 * its journal and alert feed into S.
 */
void start(struct setup *s, const char *extra);
void stop(struct setup *s);

/* A critical mixed-version finding on green-worker-2 of green. */
struct finding mixed(void);
/* Publishes mixed() in STATE and flushes. */
void publish_finding(struct setup *s, enum alert_state state);

/* The string at ROOT.A (or ROOT.A.B when B is not NULL), or NULL. Borrowed. */
const char *field(json_t *root, const char *a, const char *b);
/* Sink INDEX's counters. */
struct alert_sink_stats stats_of(struct setup *s, size_t index);

#endif
