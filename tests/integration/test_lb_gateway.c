/*
 * The trino-gateway driver against the gateway stand-in
 * (tests/harness/gateway_standin.h) in both behaviours: as released (up to
 * 20: activate leaves /state as the last monitor round wrote it) and as on
 * main (PENDING on activate). Covered: nothing is deactivated before a
 * health round newer than the activate, or the target's agents, prove the
 * target HEALTHY, and the driver says which; a HEALTHY read that predates the
 * activate is not trusted; a 477+ backend under the METRICS or JMX monitor
 * never becomes HEALTHY and fails the switch with nothing deactivated; an
 * unknown backend fails at once; current(); every backend's health read; the
 * authorization header is sent.
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

#include "gateway_standin.h"
#include "harness.h"
#include "lb_gateway.h"

#define LOOP_DEADLINE_MS 30000 /* a loaded machine */

static struct {
	struct event_base *base;
	struct gateway_standin gateway;
	char note[1024];
	bool agents_ready;
	int64_t asked_since_ms;
} fx;

struct outcome {
	bool finished, ok;
	char text[1024];
};

static void on_switched(bool ok, const char *error, void *arg)
{
	struct outcome *o = arg;
	o->finished = true;
	o->ok = ok;
	snprintf(o->text, sizeof(o->text), "%s", error != NULL ? error : "");
	event_base_loopbreak(fx.base);
}

static void on_current(const char *cluster, const char *error, void *arg)
{
	struct outcome *o = arg;
	o->finished = true;
	o->ok = cluster != NULL;
	snprintf(o->text, sizeof(o->text), "%s", cluster != NULL ? cluster : error);
	event_base_loopbreak(fx.base);
}

static void on_note(const char *note, void *arg)
{
	(void)arg;
	snprintf(fx.note, sizeof(fx.note), "%s", note);
}

static bool cluster_ready(const char *cluster, int64_t since_ms, void *arg)
{
	(void)arg;
	fx.asked_since_ms = since_ms;
	return fx.agents_ready && strcmp(cluster, "green") == 0;
}

static void run(struct outcome *o)
{
	harness_run_loop(fx.base, LOOP_DEADLINE_MS);
	assert_true(o->finished);
}

/* The stand-in in MODE with MONITOR, blue active and green not, both up; rounds every PERIOD. */
static void start_gateway(enum gateway_standin_mode mode, enum gateway_standin_monitor monitor,
                          int64_t period_ms, int green_version)
{
	assert_int_equal(gateway_standin_start(&fx.gateway, fx.base, mode, monitor, period_ms), 0);
	gateway_standin_add(&fx.gateway, "blue", true, true, 446);
	gateway_standin_add(&fx.gateway, "green", false, true, green_version);
	gateway_standin_round(&fx.gateway); /* the rounds before the switch */
	fx.note[0] = '\0';
	fx.agents_ready = false;
	fx.asked_since_ms = -1;
}

static struct lb_driver make_driver(const char *green_backend, int64_t monitor_round_ms,
                                    int64_t healthy_timeout_ms)
{
	char url[64];
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/", fx.gateway.port);
	struct lb_gateway_settings s = {
	        .url = url,
	        .backends = {{"blue", "blue"}, {"green", green_backend}},
	        .backend_count = 2,
	        .authorization = "Basic YXBpOnNlY3JldA==",
	        .timeout_ms = 5000,
	        .retries = 1,
	        .healthy_timeout_ms = healthy_timeout_ms,
	        .poll_ms = 50,
	        .monitor_round_ms = monitor_round_ms,
	        .on_note = on_note,
	        .cluster_ready = cluster_ready,
	};
	char err[256];
	struct lb_gateway *lb = lb_gateway_new(fx.base, &s, err, sizeof(err));
	assert_non_null(lb);
	return lb_gateway_driver(lb);
}

/* The round counts at the activate and at the deactivate of the log. */
static void rounds_of_switch(unsigned *activated, unsigned *deactivated)
{
	assert_int_equal(sscanf(fx.gateway.log, "activate:green@%u deactivate:blue@%u", activated,
	                        deactivated),
	                 2);
}

/* Main's round comes once the driver has read PENDING twice after the activate. */
static void on_watch_reads(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	unsigned *reads_at_activate = arg;
	if (*reads_at_activate == 0 && strstr(fx.gateway.log, "activate:green") != NULL)
		*reads_at_activate = fx.gateway.state_reads + 1;
	if (*reads_at_activate != 0 && fx.gateway.state_reads >= *reads_at_activate + 1 &&
	    fx.gateway.rounds == 1)
		gateway_standin_round(&fx.gateway);
}

static void test_main_deactivates_after_pending_turns_healthy(void **state)
{
	(void)state;
	/* no time-based proof within the test: only PENDING -> HEALTHY can prove it */
	start_gateway(GATEWAY_MAIN, MONITOR_INFO_API, 0, 447);
	unsigned reads_at_activate = 0;
	struct event *watch =
	        event_new(fx.base, -1, EV_PERSIST, on_watch_reads, &reads_at_activate);
	struct timeval every = {0, 10000};
	event_add(watch, &every);
	struct lb_driver d = make_driver("green", 600000, 1200000);
	struct outcome o = {0};
	d.switch_to(d.impl, "green", on_switched, &o);
	run(&o);
	event_free(watch);
	if (!o.ok)
		fail_msg("%s", o.text);
	unsigned activated, deactivated;
	rounds_of_switch(&activated, &deactivated);
	assert_true(deactivated > activated);
	assert_non_null(strstr(fx.note, "health round newer than the activate"));
	assert_false(gateway_standin_find(&fx.gateway, "blue")->active);
	assert_true(gateway_standin_find(&fx.gateway, "green")->active);
	assert_string_equal(fx.gateway.authorization, "Basic YXBpOnNlY3JldA==");
	struct outcome c = {0};
	d.current(d.impl, on_current, &c);
	run(&c);
	assert_string_equal(c.text, "green");
	d.free(d.impl);
	gateway_standin_stop(&fx.gateway);
}

static void test_released_waits_for_a_round_newer_than_the_activate(void **state)
{
	(void)state;
	/* green reads HEALTHY at once (last round's); only after monitor_round is it proof */
	start_gateway(GATEWAY_RELEASED, MONITOR_INFO_API, 100, 447);
	struct lb_driver d = make_driver("green", 1000, 1200000);
	struct outcome o = {0};
	d.switch_to(d.impl, "green", on_switched, &o);
	run(&o);
	if (!o.ok)
		fail_msg("%s", o.text);
	unsigned activated, deactivated;
	rounds_of_switch(&activated, &deactivated);
	assert_true(deactivated > activated);
	assert_non_null(strstr(fx.note, "health round newer than the activate"));
	assert_true(fx.asked_since_ms >= 0); /* the agents were asked, and said no */
	d.free(d.impl);
	gateway_standin_stop(&fx.gateway);
}

static void test_released_stale_healthy_is_not_trusted(void **state)
{
	(void)state;
	/* green went down after the last round: /state still says HEALTHY */
	start_gateway(GATEWAY_RELEASED, MONITOR_INFO_API, 200, 447);
	gateway_standin_find(&fx.gateway, "green")->trino_up = false;
	struct lb_driver d = make_driver("green", 600000, 2000);
	struct outcome o = {0};
	d.switch_to(d.impl, "green", on_switched, &o);
	run(&o);
	assert_false(o.ok);
	assert_non_null(strstr(o.text, "backend green stayed UNHEALTHY"));
	assert_non_null(strstr(o.text, "nothing was deactivated"));
	assert_null(strstr(fx.gateway.log, "deactivate"));
	assert_true(gateway_standin_find(&fx.gateway, "blue")->active); /* blue keeps the users */
	d.free(d.impl);
	gateway_standin_stop(&fx.gateway);
}

static void test_released_agents_vouch_for_the_target(void **state)
{
	(void)state;
	/* no round comes during the switch; the agents report green ACTIVE since the activate */
	start_gateway(GATEWAY_RELEASED, MONITOR_INFO_API, 0, 447);
	fx.agents_ready = true;
	struct lb_driver d = make_driver("green", 600000, 1200000);
	struct outcome o = {0};
	d.switch_to(d.impl, "green", on_switched, &o);
	run(&o);
	if (!o.ok)
		fail_msg("%s", o.text);
	unsigned activated, deactivated;
	rounds_of_switch(&activated, &deactivated);
	assert_int_equal(deactivated, activated);
	assert_non_null(strstr(fx.note, "agents report its coordinator ACTIVE since the activate"));
	assert_true(fx.asked_since_ms > 0);
	d.free(d.impl);
	gateway_standin_stop(&fx.gateway);
}

/* A 477+ green under a monitor that looks for DiscoveryNodeManager, in MODE. */
static void metrics_monitor_case(enum gateway_standin_mode mode,
                                 enum gateway_standin_monitor monitor)
{
	start_gateway(mode, monitor, 200, 479);
	struct lb_driver d = make_driver("green", 500, 2000);
	struct outcome o = {0};
	d.switch_to(d.impl, "green", on_switched, &o);
	run(&o);
	assert_false(o.ok);
	assert_non_null(strstr(o.text, "backend green stayed UNHEALTHY"));
	assert_non_null(strstr(o.text, "nothing was deactivated"));
	assert_true(gateway_standin_find(&fx.gateway, "blue")->active);
	d.free(d.impl);
	gateway_standin_stop(&fx.gateway);
}

static void test_477_under_the_metrics_monitor_is_never_switched_to(void **state)
{
	(void)state;
	metrics_monitor_case(GATEWAY_RELEASED, MONITOR_METRICS);
	metrics_monitor_case(GATEWAY_MAIN, MONITOR_METRICS);
	metrics_monitor_case(GATEWAY_RELEASED, MONITOR_JMX);
}

static void test_an_unknown_backend_fails_at_once(void **state)
{
	(void)state;
	start_gateway(GATEWAY_RELEASED, MONITOR_INFO_API, 0, 447);
	struct lb_driver d = make_driver("greeen", 500, 2000);
	struct outcome o = {0};
	d.switch_to(d.impl, "green", on_switched, &o);
	run(&o);
	assert_false(o.ok);
	assert_non_null(strstr(o.text, "activate for greeen: HTTP 404: No cluster found with name: "
	                               "greeen, could not (de)activate"));
	assert_true(gateway_standin_find(&fx.gateway, "blue")->active);
	d.free(d.impl);
	gateway_standin_stop(&fx.gateway);
}

struct health {
	bool finished;
	char text[512];
};

static void on_health(const struct lb_backend_health *backends, size_t count, void *arg)
{
	struct health *h = arg;
	h->finished = true;
	for (size_t i = 0; i < count; i++) {
		size_t used = strlen(h->text);
		snprintf(h->text + used, sizeof(h->text) - used, "%s%s=%s", i ? " " : "",
		         backends[i].cluster,
		         backends[i].status != NULL ? backends[i].status : backends[i].error);
	}
	event_base_loopbreak(fx.base);
}

static void test_every_backends_health_is_read(void **state)
{
	(void)state;
	start_gateway(GATEWAY_RELEASED, MONITOR_METRICS, 0, 479);
	struct lb_driver d = make_driver("green", 500, 2000);
	assert_non_null(d.backend_health);
	struct health h = {0};
	d.backend_health(d.impl, on_health, &h);
	harness_run_loop(fx.base, LOOP_DEADLINE_MS);
	assert_true(h.finished);
	assert_string_equal(h.text, "blue=HEALTHY green=UNHEALTHY");
	d.free(d.impl);
	/* an unknown name: the gateway's empty 404 */
	d = make_driver("greeen", 500, 2000);
	struct health unknown = {0};
	d.backend_health(d.impl, on_health, &unknown);
	harness_run_loop(fx.base, LOOP_DEADLINE_MS);
	assert_string_equal(unknown.text,
	                    "blue=HEALTHY green=GET /api/public/backends/greeen/state: HTTP 404");
	d.free(d.impl);
	gateway_standin_stop(&fx.gateway);
}

static int setup(void **state)
{
	(void)state;
	fx.base = event_base_new();
	return fx.base != NULL ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	event_base_free(fx.base);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_main_deactivates_after_pending_turns_healthy),
	        cmocka_unit_test(test_released_waits_for_a_round_newer_than_the_activate),
	        cmocka_unit_test(test_released_stale_healthy_is_not_trusted),
	        cmocka_unit_test(test_released_agents_vouch_for_the_target),
	        cmocka_unit_test(test_477_under_the_metrics_monitor_is_never_switched_to),
	        cmocka_unit_test(test_an_unknown_backend_fails_at_once),
	        cmocka_unit_test(test_every_backends_health_is_read),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
