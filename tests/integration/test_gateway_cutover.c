/*
 * A whole collector (in process, on a fake clock, fed blue 446 and green 447
 * reports) switching users through the real trino-gateway driver to the
 * gateway stand-in (tests/harness/gateway_standin.h), as released and as on
 * main: the backends' health is read at start; a cutover activates green and
 * deactivates blue only once green is proven HEALTHY (released: by green's
 * agents reporting after the activate; main: by the round that turns PENDING
 * into HEALTHY), said in the journal's lb-note; green failing in its watch
 * rolls back to blue the same way. A 479 green under the gateway's METRICS
 * (or JMX) monitor is held UNHEALTHY: lb-backend-unhealthy opens naming the
 * pre-477 MBean and the fix, and the gate refuses the cutover with that text.
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
#include <jansson.h>

#include "backend_health.h"
#include "cutover_fixture.h"
#include "cutover_runner.h"
#include "gateway_standin.h"
#include "journal.h"
#include "status.h"

#define DEADLINE_MS 30000 /* real time, a loaded machine */

static struct gateway_standin gateway;

/* The collector's config: the driver on the stand-in, a short health grace. */
static void start_collector(void)
{
	static char extra[1024];
	snprintf(extra, sizeof(extra),
	         CUTOVER_FIXTURE_SETTINGS "[lb]\ndriver = trino-gateway\npoll = 1s\ntimeout = 5s\n"
	                                  "health_grace = 10s\n"
	                                  "[lb.trino-gateway]\nurl = http://127.0.0.1:%d\n"
	                                  "backend.blue = blue\nbackend.green = green\n"
	                                  "health_poll = 100ms\nmonitor_round = 70s\n"
	                                  "healthy_timeout = 3m\n",
	         gateway.port);
	assert_int_equal(fixture_start(&fx, extra, false, NULL), 0);
}

static bool read_since(void *arg)
{
	return backend_health_reads(fx.collector.backend_health) > *(unsigned long *)arg;
}

/* One fake second: reports, a tick, and the gateway's answer to the health read it sent. */
static void second(void)
{
	fixture_advance(1000);
	report_all();
	unsigned long reads = backend_health_reads(fx.collector.backend_health);
	collector_tick(&fx.collector, fixture_now);
	assert_true(fixture_run_until(&fx, read_since, &reads, DEADLINE_MS));
}

/* The stand-in in MODE with MONITOR (rounds by hand), blue active; the collector warmed up. */
static void begin(enum gateway_standin_mode mode, enum gateway_standin_monitor monitor,
                  const char *green_version)
{
	cutover_fixture_init();
	traffic.green_version = green_version;
	assert_int_equal(gateway_standin_start(&gateway, fx.base, mode, monitor, 0), 0);
	gateway_standin_add(&gateway, "blue", true, true, 446);
	gateway_standin_add(&gateway, "green", false, true, atoi(green_version));
	gateway_standin_round(&gateway);
	start_collector();
	for (int i = 0; i < 6; i++)
		second();
	assert_true(fx.collector.findings_ready);
	assert_int_equal(phase(), PHASE_STEADY);
}

static void end(void)
{
	fixture_stop(&fx);
	gateway_standin_stop(&gateway);
	event_free(lb.answer);
	fixture_cleanup(&fx);
}

static bool logged(void *arg)
{
	return strstr(gateway.log, arg) != NULL;
}

static bool state_reads_reach(void *arg)
{
	return gateway.state_reads >= *(unsigned *)arg;
}

static bool phase_is(void *arg)
{
	return phase() == *(enum cutover_phase *)arg;
}

/* The journal's last lb-note (a new string), or NULL. */
static char *last_note(void)
{
	json_t *events = journal_since(fx.collector.journal, 0, 10000);
	size_t i;
	json_t *event;
	char *note = NULL;
	json_array_foreach(events, i, event)
	{
		const char *type = json_string_value(json_object_get(event, "type"));
		if (strcmp(type, "lb-note") == 0) {
			free(note);
			note = strdup(json_string_value(json_object_get(event, "note")));
		}
	}
	json_decref(events);
	return note;
}

/*
 * Waits until the driver activated CLUSTER, then lets it be proven: on
 * released gateways by its agents reporting after the activate, on main by
 * the next round. Then until PHASE.
 */
static void prove_and_wait(const char *cluster, enum cutover_phase until)
{
	char activated[64];
	snprintf(activated, sizeof(activated), "activate:%s", cluster);
	assert_true(fixture_run_until(&fx, logged, activated, DEADLINE_MS));
	if (gateway.mode == GATEWAY_MAIN) {
		/* the PENDING the activate set is read before any round */
		assert_string_equal(gateway_standin_find(&gateway, cluster)->status, "PENDING");
		unsigned reads = gateway.state_reads + 2;
		assert_true(fixture_run_until(&fx, state_reads_reach, &reads, DEADLINE_MS));
		assert_int_not_equal(phase(), until); /* PENDING proves nothing */
		gateway_standin_round(&gateway);
	} else {
		/* the driver reads the state once it has the activate's answer */
		unsigned reads = gateway.state_reads + 1;
		assert_true(fixture_run_until(&fx, state_reads_reach, &reads, DEADLINE_MS));
		assert_int_not_equal(phase(), until); /* a HEALTHY that may predate the activate */
		fixture_advance(1000);
		report_all();
	}
	assert_true(fixture_run_until(&fx, phase_is, &until, DEADLINE_MS));
}

static void cutover_and_rollback(enum gateway_standin_mode mode, const char *proof)
{
	begin(mode, MONITOR_INFO_API, "447");
	/* read at start: both backends, each journaled once */
	const struct lb_health *view = backend_health_view(fx.collector.backend_health);
	assert_int_equal(view->count, 2);
	assert_int_equal(journaled("lb-backend-health", NULL), 2);
	assert_int_equal(request(EVENT_CUTOVER, "green", false, NULL), 202);
	prove_and_wait("green", PHASE_WATCHING);
	char *note = last_note();
	assert_non_null(note);
	if (strstr(note, proof) == NULL)
		fail_msg("lb-note '%s' does not say '%s'", note, proof);
	free(note);
	assert_true(gateway_standin_find(&gateway, "green")->active);
	assert_false(gateway_standin_find(&gateway, "blue")->active);
	if (mode == GATEWAY_MAIN) /* blue UNKNOWN since its deactivate: a round sees it again */
		gateway_standin_round(&gateway);

	traffic.green_failed_per_100 = 30; /* green fails in its watch */
	for (int i = 0; i < 20 && phase() == PHASE_WATCHING; i++)
		second();
	assert_int_equal(phase(), PHASE_ROLLING_BACK);
	prove_and_wait("blue", PHASE_ROLLED_BACK);
	assert_true(gateway_standin_find(&gateway, "blue")->active);
	assert_false(gateway_standin_find(&gateway, "green")->active);
	note = last_note();
	if (strstr(note, proof) == NULL)
		fail_msg("rollback's lb-note '%s' does not say '%s'", note, proof);
	free(note);
	end();
}

static void test_released_cutover_and_rollback_proven_by_the_agents(void **state)
{
	(void)state;
	cutover_and_rollback(GATEWAY_RELEASED, "agents report its coordinator ACTIVE since");
}

static void test_main_cutover_and_rollback_proven_by_a_newer_round(void **state)
{
	(void)state;
	cutover_and_rollback(GATEWAY_MAIN, "health round newer than the activate");
}

/* A 479 green under MONITOR: told why at the finding and at the gate, in MODE. */
static void green_479_under(enum gateway_standin_mode mode, enum gateway_standin_monitor monitor)
{
	begin(mode, monitor, "479");
	for (int i = 0; i < 11; i++) /* past health_grace */
		second();
	const struct finding *f = finding("lb-backend-unhealthy/green");
	assert_non_null(f);
	assert_int_equal(f->severity, SEVERITY_WARNING);
	assert_non_null(strstr(f->summary, "Trino 479 has no MBean "
	                                   "trino.metadata:name=DiscoveryNodeManager"));
	assert_non_null(strstr(f->summary, "clusterStatsConfiguration.monitorType INFO_API"));
	assert_null(finding("lb-backend-unhealthy/blue"));
	/* /v1/status shows what the gateway holds each backend for */
	json_t *status = status_json(&fx.collector, fixture_now);
	json_t *green = json_array_get(json_object_get(status, "clusters"), 1);
	assert_string_equal(json_string_value(json_object_get(green, "name")), "green");
	json_t *backend = json_object_get(green, "lb_backend");
	assert_string_equal(json_string_value(json_object_get(backend, "status")), "UNHEALTHY");
	assert_string_equal(json_string_value(json_object_get(backend, "lb")), "trino-gateway");
	assert_true(json_integer_value(json_object_get(backend, "since_seconds")) >= 10);
	json_decref(status);
	json_t *answer;
	assert_int_equal(request(EVENT_CUTOVER, "green", false, &answer), 409);
	json_t *checks = json_object_get(answer, "failed_checks");
	bool told = false;
	size_t i;
	json_t *check;
	json_array_foreach(checks, i, check)
	{
		const char *line = json_string_value(check);
		told = told ||
		       (strstr(line, "holds backend green UNHEALTHY while the agents report "
		                     "its coordinator ACTIVE") != NULL &&
		        strstr(line,
		               "monitor.metricMinimumValues to "
		               "trino_node_name_CoordinatorNodeManager_ActiveNodeCount") != NULL);
	}
	if (!told)
		fail_msg("the gate does not say why: %s", json_dumps(checks, 0));
	json_decref(answer);
	assert_null(strstr(gateway.log, "activate")); /* the gateway was not touched */
	assert_int_equal(phase(), PHASE_STEADY);
	end();
}

static void test_479_under_the_metrics_monitor_is_explained(void **state)
{
	(void)state;
	green_479_under(GATEWAY_RELEASED, MONITOR_METRICS);
	green_479_under(GATEWAY_MAIN, MONITOR_METRICS);
	green_479_under(GATEWAY_RELEASED, MONITOR_JMX);
}

static void test_479_under_info_api_switches(void **state)
{
	(void)state;
	begin(GATEWAY_RELEASED, MONITOR_INFO_API, "479");
	for (int i = 0; i < 11; i++)
		second();
	assert_null(finding("lb-backend-unhealthy/green"));
	assert_int_equal(request(EVENT_CUTOVER, "green", false, NULL), 202);
	prove_and_wait("green", PHASE_WATCHING);
	end();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_released_cutover_and_rollback_proven_by_the_agents),
	        cmocka_unit_test(test_main_cutover_and_rollback_proven_by_a_newer_round),
	        cmocka_unit_test(test_479_under_the_metrics_monitor_is_explained),
	        cmocka_unit_test(test_479_under_info_api_switches),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
