/*
 * The cutover runner inside a real collector (collector_start) with a fake
 * clock and a fake load-balancer driver: the gate decides whether the driver
 * is called; the switch's result starts a watch that ends exactly when fake
 * time passes its duration; a degraded green is switched back to blue by the
 * runner itself; a failed switch opens lb-switch-failed; an LB moved outside
 * trino-guard is followed; a second collector on the same state_dir resumes
 * the watch with its deadline and evidence.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <event2/event.h>

#include "collector_fixture.h"
#include "cutover_runner.h"
#include "journal.h"

#define WATCH_MS 60000
#define SETTINGS "[watch]\nduration = 1m\n"

/* A load balancer that does what the test says, when it says. */
static struct fake_lb {
	struct event *answer; /* delivers current()'s answer from the loop */
	char pointing_at[64]; /* what current() answers */
	lb_current_done_fn current_done;
	void *current_arg;
	size_t switch_calls;
	char target[64];               /* of the last switch asked for */
	lb_switch_done_fn switch_done; /* NULL: no switch under way */
	void *switch_arg;
} lb;

static void fake_switch_to(void *impl, const char *cluster, lb_switch_done_fn done, void *arg)
{
	struct fake_lb *fake = impl;
	fake->switch_calls++;
	snprintf(fake->target, sizeof(fake->target), "%s", cluster);
	fake->switch_done = done;
	fake->switch_arg = arg;
}

static void fake_current(void *impl, lb_current_done_fn done, void *arg)
{
	static const struct timeval now = {0, 0};
	struct fake_lb *fake = impl;
	fake->current_done = done;
	fake->current_arg = arg;
	evtimer_add(fake->answer, &now);
}

static void on_answer(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct fake_lb *fake = arg;
	lb_current_done_fn done = fake->current_done;
	fake->current_done = NULL;
	if (done != NULL)
		done(fake->pointing_at, NULL, fake->current_arg);
}

static void fake_free(void *impl)
{
	struct fake_lb *fake = impl;
	fake->current_done = NULL;
	fake->switch_done = NULL;
	evtimer_del(fake->answer);
}

static struct lb_driver fake_driver = {&lb, fake_switch_to, fake_current, fake_free};

/* The switch under way ends, OK or with ERROR; a working one moves the LB. */
static void fake_finish(bool ok, const char *error)
{
	lb_switch_done_fn done = lb.switch_done;
	assert_non_null(done);
	lb.switch_done = NULL;
	if (ok)
		snprintf(lb.pointing_at, sizeof(lb.pointing_at), "%s", lb.target);
	done(ok, error, lb.switch_arg);
}

static struct collector_fixture fx;

/* Blue and green, a coordinator and a worker each, reporting every fake second. */
static const struct {
	const char *id, *cluster;
	bool coordinator;
	const char *version;
} nodes[] = {
        {"blue-coord", "blue", true, "446"},
        {"blue-worker", "blue", false, "446"},
        {"green-coord", "green", true, "447"},
        {"green-worker", "green", false, "447"},
};
#define NODE_COUNT (sizeof(nodes) / sizeof(nodes[0]))

static struct {
	uint64_t seq[NODE_COUNT];
	uint64_t completed[NODE_COUNT], failed[NODE_COUNT]; /* cumulative, coordinators */
	unsigned green_failed_per_100;                      /* of each second's 100 queries */
	const char *silent;                                 /* a node that stopped reporting */
} traffic;

static void report_all(void)
{
	for (size_t i = 0; i < NODE_COUNT; i++) {
		if (traffic.silent != NULL && strcmp(traffic.silent, nodes[i].id) == 0)
			continue;
		struct report_fixture r;
		fixture_report(&r, nodes[i].id, nodes[i].cluster, nodes[i].coordinator,
		               nodes[i].version, ++traffic.seq[i]);
		if (nodes[i].coordinator) {
			bool green = strcmp(nodes[i].cluster, "green") == 0;
			traffic.completed[i] += 100;
			traffic.failed[i] += green ? traffic.green_failed_per_100 : 1;
			QueryCounters *c = &r.counters;
			c->completed = traffic.completed[i];
			c->failed = c->internal = traffic.failed[i];
			c->external = c->insufficient_resources = 0;
			c->user_error = c->canceled = c->abandoned = 0;
		}
		assert_int_not_equal(
		        fleet_update(&fx.collector.fleet, &r.report, fixture_now.mono_ms),
		        FLEET_NO_MEMORY);
	}
}

static bool current_answered(void *arg)
{
	(void)arg;
	return lb.current_done == NULL;
}

/* One tick at the fake clock's now, and the LB's answer to the poll it sent. */
static void tick(void)
{
	collector_tick(&fx.collector, fixture_now);
	assert_true(fixture_run_until(&fx, current_answered, NULL, 2000));
}

/* SECONDS fake seconds of reports and ticks. */
static void run_seconds(int seconds)
{
	for (int i = 0; i < seconds; i++) {
		fixture_advance(1000);
		report_all();
		tick();
	}
}

static enum cutover_phase phase(void)
{
	struct cutover_metrics m;
	cutover_runner_metrics(fx.collector.cutover, fixture_now, &m);
	return m.phase;
}

static double failure_score(void)
{
	struct cutover_metrics m;
	cutover_runner_metrics(fx.collector.cutover, fixture_now, &m);
	return m.failure_score;
}

static const struct cutover_counters *counters(void)
{
	struct cutover_metrics m;
	cutover_runner_metrics(fx.collector.cutover, fixture_now, &m);
	return m.counters;
}

/* Switches FROM -> TO that ended OK (or failed), as /metrics counts them. */
static uint64_t switches(const char *from, const char *to, bool ok)
{
	const struct cutover_counters *c = counters();
	for (size_t i = 0; i < c->switch_pairs; i++)
		if (strcmp(c->switches[i].from, from) == 0 && strcmp(c->switches[i].to, to) == 0)
			return ok ? c->switches[i].ok : c->switches[i].failed;
	fail_msg("no switch counter %s -> %s", from, to);
	return 0;
}

static const struct finding *finding(const char *key)
{
	for (size_t i = 0; i < fx.collector.findings.count; i++)
		if (strcmp(fx.collector.findings.items[i].key, key) == 0)
			return &fx.collector.findings.items[i];
	return NULL;
}

/* How many journal events have TYPE (and NAME, for alerts). */
static size_t journaled(const char *type, const char *name)
{
	json_t *events = journal_since(fx.collector.journal, 0, 10000);
	size_t i, count = 0;
	json_t *event;
	json_array_foreach(events, i, event)
	{
		const char *t = json_string_value(json_object_get(event, "type"));
		const char *n = json_string_value(json_object_get(event, "name"));
		count += strcmp(t, type) == 0 &&
		         (name == NULL || (n != NULL && strcmp(n, name) == 0));
	}
	json_decref(events);
	return count;
}

static int request(enum cutover_event_kind kind, const char *cluster, bool force,
                   json_t **answer_out)
{
	int status = 0;
	json_t *answer = cutover_runner_request(fx.collector.cutover, kind, cluster, force,
	                                        "upgrade to 447", fixture_now, &status);
	if (answer_out != NULL)
		*answer_out = answer;
	else
		json_decref(answer);
	return status;
}

/* A collector whose findings have warmed up, the LB on blue, the fleet healthy. */
static void start(void)
{
	assert_int_equal(fixture_init(&fx), 0);
	memset(&lb, 0, sizeof(lb));
	lb.answer = evtimer_new(fx.base, on_answer, &lb);
	assert_non_null(lb.answer);
	snprintf(lb.pointing_at, sizeof(lb.pointing_at), "blue");
	memset(&traffic, 0, sizeof(traffic));
	assert_int_equal(fixture_start(&fx, SETTINGS, false, &fake_driver), 0);
	run_seconds(6);
	assert_true(fx.collector.findings_ready);
	assert_int_equal(fx.collector.findings.count, 0);
	assert_int_equal(phase(), PHASE_STEADY);
	assert_string_equal(collector_active_cluster(&fx.collector), "blue");
}

static void finish(void)
{
	fixture_stop(&fx); /* frees the driver: no answer is left armed */
	event_free(lb.answer);
	fixture_cleanup(&fx);
}

static int setup(void **state)
{
	(void)state;
	start();
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	finish();
	return 0;
}

/* Requests a cutover to green and lets the LB report the switch done. */
static void cut_over_to_green(void)
{
	assert_int_equal(request(EVENT_CUTOVER, "green", false, NULL), 202);
	fixture_advance(300); /* the switch takes a while */
	fake_finish(true, NULL);
	assert_int_equal(phase(), PHASE_WATCHING);
}

static const struct gate_case {
	const char *name;
	const char *to;
	bool force;
	unsigned green_failed_per_100; /* before the request */
	const char *silent;            /* a green node that stopped reporting */
	int status;
	size_t switch_calls;
	enum cutover_phase phase;
	const char *failed_check; /* in failed_checks, or NULL */
} gate_cases[] = {
        {"a healthy green passes the gate and the driver is called", "green", false, 0, NULL, 202,
         1, PHASE_SWITCHING, NULL},
        {"a green failing 30 % of its queries is refused, the LB untouched", "green", false, 30,
         NULL, 409, 0, PHASE_STEADY, "failure ratio of green"},
        {"a green with a silent worker is refused", "green", false, 0, "green-worker", 409, 0,
         PHASE_STEADY, "node-stale"},
        {"a failing green may be forced past the gate", "green", true, 30, NULL, 202, 1,
         PHASE_SWITCHING, NULL},
        {"a cluster without a section is refused", "purple", false, 0, NULL, 400, 0, PHASE_STEADY,
         NULL},
        {"the active cluster is refused", "blue", false, 0, NULL, 400, 0, PHASE_STEADY, NULL},
};

static void test_the_gate_decides_whether_the_driver_is_called(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(gate_cases) / sizeof(gate_cases[0]); i++) {
		const struct gate_case *c = &gate_cases[i];
		print_message("%s\n", c->name);
		start();
		traffic.green_failed_per_100 = c->green_failed_per_100;
		traffic.silent = c->silent;
		run_seconds(10);
		json_t *answer;
		assert_int_equal(request(EVENT_CUTOVER, c->to, c->force, &answer), c->status);
		assert_int_equal(lb.switch_calls, c->switch_calls);
		if (c->switch_calls > 0)
			assert_string_equal(lb.target, c->to);
		assert_int_equal(phase(), c->phase);
		json_t *checks = json_object_get(answer, "failed_checks");
		if (c->failed_check != NULL) {
			char *text = json_dumps(checks, 0);
			assert_non_null(text);
			assert_non_null(strstr(text, c->failed_check));
			free(text);
		}
		json_decref(answer);
		finish();
	}
}

static void test_the_switch_starts_a_watch_that_ends_on_the_fake_clock(void **state)
{
	(void)state;
	assert_int_equal(request(EVENT_CUTOVER, "green", false, NULL), 202);
	assert_int_equal(phase(), PHASE_SWITCHING);
	tick(); /* the LB is polled meanwhile: still blue, which is no news */
	assert_int_equal(phase(), PHASE_SWITCHING);
	fixture_advance(300);
	int64_t switched_unix_ms = fixture_now.unix_ms;
	fake_finish(true, NULL);
	assert_int_equal(phase(), PHASE_WATCHING);
	assert_string_equal(collector_active_cluster(&fx.collector), "green");
	assert_int_equal(journaled("alert", "cutover"), 1);
	assert_int_equal(switches("blue", "green", true), 1);
	assert_int_equal(switches("green", "blue", true), 0);
	/* asked for, then answered 300 fake ms later: in the (0.25, 0.5] bucket */
	assert_int_equal(counters()->duration_count, 1);
	assert_int_equal(counters()->duration_buckets[2], 0);
	assert_int_equal(counters()->duration_buckets[3], 1);

	/* the fake clock alone moves the watch: one fake minute, no real one */
	run_seconds(WATCH_MS / 1000 - 1);
	fixture_advance(999);
	report_all();
	tick();
	assert_int_equal(fixture_now.unix_ms, switched_unix_ms + WATCH_MS - 1);
	assert_int_equal(phase(), PHASE_WATCHING);
	fixture_advance(1);
	tick();
	assert_int_equal(phase(), PHASE_STEADY);
	assert_string_equal(collector_active_cluster(&fx.collector), "green");
	assert_int_equal(journaled("alert", "stable"), 1);
	assert_int_equal(lb.switch_calls, 1);
}

static void test_a_degraded_green_is_switched_back_to_blue(void **state)
{
	(void)state;
	cut_over_to_green();
	run_seconds(5);
	assert_int_equal(phase(), PHASE_WATCHING);
	assert_int_equal(lb.switch_calls, 1);

	traffic.green_failed_per_100 = 30; /* green's coordinator counts failures now */
	for (int i = 0; i < 10 && lb.switch_calls == 1; i++)
		run_seconds(1);
	assert_int_equal(lb.switch_calls, 2);
	assert_string_equal(lb.target, "blue");
	assert_int_equal(phase(), PHASE_ROLLING_BACK);
	assert_int_equal(journaled("alert", "rollback"), 1);

	fixture_advance(200);
	fake_finish(true, NULL);
	assert_int_equal(phase(), PHASE_ROLLED_BACK);
	assert_string_equal(collector_active_cluster(&fx.collector), "blue");
	assert_int_equal(journaled("alert", "rolled-back"), 1);
	assert_int_equal(counters()->rollbacks[ROLLBACK_DEGRADED], 1);
	assert_int_equal(counters()->rollbacks[ROLLBACK_MANUAL], 0);
	assert_int_equal(switches("green", "blue", true), 1);
	run_seconds(3); /* nothing more to do */
	assert_int_equal(lb.switch_calls, 2);
}

static void test_a_failed_switch_opens_lb_switch_failed(void **state)
{
	(void)state;
	assert_int_equal(request(EVENT_CUTOVER, "green", false, NULL), 202);
	fake_finish(false, "haproxy: connection refused");
	assert_int_equal(phase(), PHASE_STEADY);
	assert_string_equal(collector_active_cluster(&fx.collector), "blue");
	assert_int_equal(journaled("alert", "lb-switch-failed"), 1);
	assert_int_equal(switches("blue", "green", false), 1);
	assert_int_equal(switches("blue", "green", true), 0);
	run_seconds(1);
	const struct finding *f = finding("lb-switch-failed/green");
	assert_non_null(f);
	assert_int_equal(f->severity, SEVERITY_CRITICAL);
	assert_non_null(strstr(f->summary, "haproxy: connection refused"));
	assert_int_equal(journaled("finding-opened", NULL), 1);

	/* a switch that works closes it */
	cut_over_to_green();
	run_seconds(1);
	assert_null(finding("lb-switch-failed/green"));
	assert_int_equal(journaled("finding-closed", NULL), 1);
}

static void test_an_external_cutover_is_followed(void **state)
{
	(void)state;
	snprintf(lb.pointing_at, sizeof(lb.pointing_at), "green"); /* moved by hand */
	run_seconds(1);
	assert_int_equal(phase(), PHASE_WATCHING);
	assert_string_equal(collector_active_cluster(&fx.collector), "green");
	assert_int_equal(journaled("alert", "external-cutover"), 1);
	assert_int_equal(lb.switch_calls, 0);

	snprintf(lb.pointing_at, sizeof(lb.pointing_at), "blue"); /* and back */
	run_seconds(1);
	assert_int_equal(phase(), PHASE_ROLLED_BACK);
	assert_string_equal(collector_active_cluster(&fx.collector), "blue");
	assert_int_equal(journaled("alert", "external-rollback"), 1);
	assert_int_equal(lb.switch_calls, 0);
	assert_int_equal(counters()->rollbacks[ROLLBACK_EXTERNAL], 1);
	assert_int_equal(counters()->duration_count, 0); /* it made no switch itself */
}

static void test_a_restarted_collector_resumes_the_watch(void **state)
{
	(void)state;
	cut_over_to_green();
	int64_t switched_unix_ms = fixture_now.unix_ms;
	traffic.green_failed_per_100 = 10; /* evidence, under the threshold */
	run_seconds(4);
	double evidence = failure_score();
	assert_true(evidence > 1.0);
	assert_int_equal(phase(), PHASE_WATCHING);

	fixture_stop(&fx);
	fixture_advance(2000); /* down for two seconds */
	assert_int_equal(fixture_start(&fx, SETTINGS, false, &fake_driver), 0);
	assert_int_equal(phase(), PHASE_WATCHING);
	assert_string_equal(collector_active_cluster(&fx.collector), "green");
	assert_true(failure_score() == evidence);
	assert_int_equal(journaled("transition", NULL), 2); /* the first collector's */

	/* the watch ends at its first deadline, not a minute after the restart */
	traffic.green_failed_per_100 = 0;
	while (fixture_now.unix_ms + 1000 < switched_unix_ms + WATCH_MS)
		run_seconds(1);
	fixture_advance(switched_unix_ms + WATCH_MS - 1 - fixture_now.unix_ms);
	tick();
	assert_int_equal(phase(), PHASE_WATCHING);
	fixture_advance(1);
	tick();
	assert_int_equal(phase(), PHASE_STEADY);
	assert_int_equal(journaled("alert", "stable"), 1);
	assert_int_equal(lb.switch_calls, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_the_gate_decides_whether_the_driver_is_called),
	        cmocka_unit_test_setup_teardown(
	                test_the_switch_starts_a_watch_that_ends_on_the_fake_clock, setup,
	                teardown),
	        cmocka_unit_test_setup_teardown(test_a_degraded_green_is_switched_back_to_blue,
	                                        setup, teardown),
	        cmocka_unit_test_setup_teardown(test_a_failed_switch_opens_lb_switch_failed, setup,
	                                        teardown),
	        cmocka_unit_test_setup_teardown(test_an_external_cutover_is_followed, setup,
	                                        teardown),
	        cmocka_unit_test_setup_teardown(test_a_restarted_collector_resumes_the_watch, setup,
	                                        teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
