/*
 * The fake load balancer, the fleets' traffic and the helpers of the cutover
 * runner's tests (cutover_fixture.h).
 */
#include "cutover_fixture.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <event2/event.h>

#include "cutover_runner.h"
#include "journal.h"

struct fake_lb lb;
struct collector_fixture fx;
struct cutover_traffic traffic;

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
	fake->current_calls++;
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
		done(fake->pointing_at[0] ? fake->pointing_at : NULL,
		     fake->pointing_at[0] ? NULL : "the LB does not answer", fake->current_arg);
}

static void fake_free(void *impl)
{
	struct fake_lb *fake = impl;
	fake->current_done = NULL;
	fake->switch_done = NULL;
	evtimer_del(fake->answer);
}

struct lb_driver fake_driver = {
        .impl = &lb, .switch_to = fake_switch_to, .current = fake_current, .free = fake_free};

void fake_finish(bool ok, const char *error)
{
	lb_switch_done_fn done = lb.switch_done;
	assert_non_null(done);
	lb.switch_done = NULL;
	if (ok)
		snprintf(lb.pointing_at, sizeof(lb.pointing_at), "%s", lb.target);
	done(ok, error, lb.switch_arg);
}

/* Blue and green, a coordinator and a worker each, reporting every fake second. */
static const struct {
	const char *id, *cluster;
	bool coordinator;
	const char *version;
} nodes[CUTOVER_FIXTURE_NODES] = {
        {"blue-coord", "blue", true, "446"},
        {"blue-worker", "blue", false, "446"},
        {"green-coord", "green", true, "447"},
        {"green-worker", "green", false, "447"},
};

void report_all(void)
{
	for (size_t i = 0; i < CUTOVER_FIXTURE_NODES; i++) {
		if (traffic.silent != NULL && strcmp(traffic.silent, nodes[i].id) == 0)
			continue;
		bool green = strcmp(nodes[i].cluster, "green") == 0;
		const char *version = green && !nodes[i].coordinator && traffic.green_worker_version
		                              ? traffic.green_worker_version
		                      : green && traffic.green_version ? traffic.green_version
		                                                       : nodes[i].version;
		struct report_fixture r;
		fixture_report(&r, nodes[i].id, nodes[i].cluster, nodes[i].coordinator, version,
		               ++traffic.seq[i]);
		if (nodes[i].coordinator) {
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

void tick(void)
{
	collector_tick(&fx.collector, fixture_now);
	assert_true(fixture_run_until(&fx, current_answered, NULL, 2000));
}

void run_seconds(int seconds)
{
	for (int i = 0; i < seconds; i++) {
		fixture_advance(1000);
		report_all();
		tick();
	}
}

enum cutover_phase phase(void)
{
	struct cutover_metrics m;
	cutover_runner_metrics(fx.collector.cutover, fixture_now, &m);
	return m.phase;
}

double failure_score(void)
{
	struct cutover_metrics m;
	cutover_runner_metrics(fx.collector.cutover, fixture_now, &m);
	return m.failure_score;
}

const struct finding *finding(const char *key)
{
	for (size_t i = 0; i < fx.collector.findings.count; i++)
		if (strcmp(fx.collector.findings.items[i].key, key) == 0)
			return &fx.collector.findings.items[i];
	return NULL;
}

size_t journaled(const char *type, const char *name)
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

int request(enum cutover_event_kind kind, const char *cluster, bool force, json_t **answer_out)
{
	int status = 0;
	json_t *answer = cutover_runner_request(fx.collector.cutover, kind, cluster, force,
	                                        "upgrade to 447", "test", fixture_now, &status);
	if (answer_out != NULL)
		*answer_out = answer;
	else
		json_decref(answer);
	return status;
}

void cutover_fixture_init(void)
{
	assert_int_equal(fixture_init(&fx), 0);
	memset(&lb, 0, sizeof(lb));
	lb.answer = evtimer_new(fx.base, on_answer, &lb);
	assert_non_null(lb.answer);
	snprintf(lb.pointing_at, sizeof(lb.pointing_at), "blue");
	memset(&traffic, 0, sizeof(traffic));
}

void start(void)
{
	cutover_fixture_init();
	assert_int_equal(fixture_start(&fx, CUTOVER_FIXTURE_SETTINGS, false, &fake_driver), 0);
	run_seconds(6);
	assert_true(fx.collector.findings_ready);
	assert_int_equal(fx.collector.findings.count, 0);
	assert_int_equal(phase(), PHASE_STEADY);
	assert_string_equal(collector_active_cluster(&fx.collector), "blue");
}

void finish(void)
{
	fixture_stop(&fx); /* frees the driver: no answer is left armed */
	event_free(lb.answer);
	fixture_cleanup(&fx);
}

int setup(void **state)
{
	(void)state;
	start();
	return 0;
}

int teardown(void **state)
{
	(void)state;
	finish();
	return 0;
}

void cut_over_to_green(void)
{
	assert_int_equal(request(EVENT_CUTOVER, "green", false, NULL), 202);
	fixture_advance(300); /* the switch takes a while */
	fake_finish(true, NULL);
	assert_int_equal(phase(), PHASE_WATCHING);
}
