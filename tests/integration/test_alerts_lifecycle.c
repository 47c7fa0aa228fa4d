/*
 * The alert feed's life across time and restarts (collector/alerts/ with
 * rules/alert_policy.c): a restart with undelivered alerts (delivered once
 * after), in process and with the real collector killed -9; what cleared
 * during a restart is resolved; a for delay holds a flapping finding;
 * Alertmanager re-sends what fires, startsAt kept from the first firing;
 * a real Alertmanager.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "alerts_fixture.h"
#include "clock.h"
#include "harness.h"

static void test_restart_delivers_what_was_left_once(void **state)
{
	(void)state;
	state_number++;
	struct setup s;
	start(&s, NULL);
	for (size_t i = 0; i < 6; i++)
		fx.answers[i] = 503;
	fx.answer_count = 6;
	publish_finding(&s, ALERT_FIRING);
	publish_finding(&s, ALERT_RESOLVED);
	run_for(1000);
	assert_int_equal(fx.body_count, 0);
	stop(&s); /* as a crash would: nothing delivered, both spooled */
	fx.answer_count = 0;
	start(&s, NULL);
	run_until(2, 10);
	assert_int_equal(fx.body_count, 2);
	json_t *first = json_loads(fx.bodies[0], 0, NULL);
	assert_string_equal(field(first, "event_action", NULL), "trigger");
	json_decref(first);
	/* a further while: nothing is sent twice */
	run_for(1500);
	assert_int_equal(fx.body_count, 2);
	stop(&s);
	forget_bodies();
}

static void test_what_cleared_during_a_restart_is_resolved(void **state)
{
	(void)state;
	state_number++;
	struct setup s;
	start(&s, NULL);
	struct finding still = mixed(), cleared = mixed();
	strcpy(cleared.key, "node-stale/green/green-worker-1");
	strcpy(cleared.subject, "green-worker-1");
	cleared.kind = FINDING_NODE_STALE;
	struct alert a;
	alert_from_finding("prod", &still, ALERT_FIRING, 1795546800123LL, &a);
	alerts_publish(s.alerts, &a, clock_read());
	alert_from_finding("prod", &cleared, ALERT_FIRING, 1795546800123LL, &a);
	alerts_publish(s.alerts, &a, clock_read());
	alerts_flush(s.alerts, clock_read());
	run_until(2, 10);
	assert_int_equal(fx.body_count, 2);
	stop(&s);

	/* after the restart only the first finding is open again */
	start(&s, NULL);
	alert_from_finding("prod", &still, ALERT_FIRING, 1795546900000LL, &a);
	alerts_publish(s.alerts, &a, clock_read());
	alerts_reconcile(s.alerts, clock_read());
	run_until(4, 10);
	assert_int_equal(fx.body_count, 4);
	json_t *again = json_loads(fx.bodies[2], 0, NULL);
	json_t *resolve = json_loads(fx.bodies[3], 0, NULL);
	assert_string_equal(field(again, "event_action", NULL), "trigger"); /* PagerDuty folds it */
	assert_string_equal(field(again, "dedup_key", NULL),
	                    "trino-guard/prod/mixed-version/green/green-worker-2");
	assert_string_equal(field(resolve, "event_action", NULL), "resolve");
	assert_string_equal(field(resolve, "dedup_key", NULL),
	                    "trino-guard/prod/node-stale/green/green-worker-1");
	json_decref(again);
	json_decref(resolve);
	alerts_reconcile(s.alerts, clock_read()); /* only once */
	run_for(500);
	assert_int_equal(fx.body_count, 4);
	stop(&s);

	/* and a third start has nothing left to resolve but the open finding */
	start(&s, NULL);
	alerts_reconcile(s.alerts, clock_read());
	run_until(5, 10);
	assert_int_equal(fx.body_count, 5);
	resolve = json_loads(fx.bodies[4], 0, NULL);
	assert_string_equal(field(resolve, "dedup_key", NULL),
	                    "trino-guard/prod/mixed-version/green/green-worker-2");
	json_decref(resolve);
	stop(&s);
	forget_bodies();
}

static void test_for_delay_holds_a_flapping_finding(void **state)
{
	(void)state;
	state_number++;
	struct setup s;
	start(&s, "[alerts]\nfor.mixed-version = 1s\n");
	int64_t now = (int64_t)time(NULL) * 1000;
	struct finding f = mixed();
	struct alert a;
	/* opens and closes within its delay: never sent */
	alert_from_finding("prod", &f, ALERT_FIRING, now, &a);
	alerts_publish(s.alerts, &a, clock_read());
	alerts_flush(s.alerts, clock_read());
	alert_from_finding("prod", &f, ALERT_RESOLVED, now + 200, &a);
	alerts_publish(s.alerts, &a, clock_read());
	alerts_flush(s.alerts, clock_read());
	run_for(1500);
	alerts_flush(s.alerts, clock_read());
	run_for(300);
	assert_int_equal(fx.body_count, 0);
	/* stays open past its delay: fires then, once */
	now = (int64_t)time(NULL) * 1000;
	alert_from_finding("prod", &f, ALERT_FIRING, now, &a);
	alerts_publish(s.alerts, &a, clock_read());
	alerts_flush(s.alerts, clock_read());
	run_for(300);
	assert_int_equal(fx.body_count, 0);
	for (int i = 0; i < 20 && fx.body_count == 0; i++) {
		run_for(200);
		alerts_flush(s.alerts, clock_read()); /* what the collector does every tick */
	}
	run_for(300);
	assert_int_equal(fx.body_count, 1);
	/* a rule without a delay fires at once */
	f.kind = FINDING_NODE_STALE;
	strcpy(f.key, "node-stale/green/green-worker-2");
	alert_from_finding("prod", &f, ALERT_FIRING, now, &a);
	alerts_publish(s.alerts, &a, clock_read());
	alerts_flush(s.alerts, clock_read());
	run_until(2, 5);
	assert_int_equal(fx.body_count, 2);
	stop(&s);
	forget_bodies();
}

static void test_alertmanager_resends_what_fires(void **state)
{
	(void)state;
	state_number++;
	struct setup s;
	char extra[256];
	snprintf(extra, sizeof(extra),
	         "[alert.alertmanager]\nurl = http://127.0.0.1:%d\nresend = 1s\nmin_severity = "
	         "info\n",
	         fx.port);
	start(&s, extra);
	publish_finding(&s, ALERT_FIRING);
	alerts_flush(s.alerts, clock_read());
	run_for(2600);
	/* pagerduty once; alertmanager at once and after each second */
	size_t firing = 0;
	for (size_t i = 0; i < fx.body_count; i++) {
		json_t *body = json_loads(fx.bodies[i], 0, NULL);
		json_t *item = json_array_get(body, 0);
		if (item != NULL) {
			assert_null(json_object_get(item, "endsAt"));
			assert_string_equal(field(item, "startsAt", NULL),
			                    "2026-11-24T19:00:00.123Z");
			firing++;
		}
		json_decref(body);
	}
	if (firing < 3)
		fail_msg("%zu alertmanager bodies of %zu, %d requests", firing, fx.body_count,
		         fx.requests);
	publish_finding(&s, ALERT_RESOLVED);
	alerts_flush(s.alerts, clock_read());
	run_for(300);
	size_t after_resolve = fx.body_count;
	run_for(1500); /* resolved: no longer re-sent */
	assert_int_equal(fx.body_count, after_resolve);
	json_t *last = json_loads(fx.bodies[fx.body_count - 1], 0, NULL);
	json_t *item = json_array_get(last, 0);
	if (item == NULL) { /* the pagerduty resolve came last */
		json_decref(last);
		last = json_loads(fx.bodies[fx.body_count - 2], 0, NULL);
		item = json_array_get(last, 0);
	}
	assert_non_null(json_object_get(item, "endsAt"));
	assert_string_equal(field(item, "startsAt", NULL), "2026-11-24T19:00:00.123Z");
	json_decref(last);
	stop(&s);
	forget_bodies();
}

/* The active alerts of the Alertmanager at AM_URL whose alertname is NAME. */
static json_t *am_alerts(const char *am_url, const char *name)
{
	char url[512];
	snprintf(url, sizeof(url), "%s/api/v2/alerts?filter=alertname%%3D%%22%s%%22", am_url, name);
	char *body = harness_get_ok(url);
	json_t *list = body ? json_loads(body, 0, NULL) : NULL;
	free(body);
	return list;
}

/* Delivers for a while, then asks Alertmanager, until it has WANT alerts named NAME. */
static json_t *wait_am(const char *am_url, const char *name, size_t want)
{
	for (int i = 0; i < 50; i++) {
		run_for(200);
		json_t *list = am_alerts(am_url, name);
		if (list != NULL && json_array_size(list) == want)
			return list;
		json_decref(list);
	}
	fail_msg("Alertmanager never showed %zu %s alert(s)", want, name);
	return NULL;
}

static void test_real_alertmanager(void **state)
{
	(void)state;
	state_number++;
	int am_port = harness_port_range(1);
	char am_dir[512], am_config[600], am_listen[64], am_url[128], am_log[600], am_storage[600];
	snprintf(am_dir, sizeof(am_dir), "%s/am", fx.dir);
	snprintf(am_config, sizeof(am_config), "%s/am.yml", fx.dir);
	snprintf(am_storage, sizeof(am_storage), "--storage.path=%s", am_dir);
	snprintf(am_log, sizeof(am_log), "%s/am.log", fx.dir);
	snprintf(am_listen, sizeof(am_listen), "--web.listen-address=127.0.0.1:%d", am_port);
	snprintf(am_url, sizeof(am_url), "http://127.0.0.1:%d", am_port);
	harness_write_file(am_config, "route:\n  receiver: sink\nreceivers:\n  - name: sink\n");
	char config_flag[700];
	snprintf(config_flag, sizeof(config_flag), "--config.file=%s", am_config);
	const char *argv[] = {
	        "/usr/bin/prometheus-alertmanager", config_flag, am_storage, am_listen,
	        "--cluster.listen-address=",        NULL};
	pid_t am = harness_spawn(argv, am_log);
	assert_true(am > 0);
	char ready[200];
	snprintf(ready, sizeof(ready), "%s/-/ready", am_url);
	bool up = false;
	for (int i = 0; i < 100 && !up; i++) {
		char *body = harness_get_ok(ready);
		up = body != NULL;
		free(body);
		if (!up)
			usleep(100000);
	}
	if (!up) {
		harness_stop(am, 2000);
		fail_msg("Alertmanager did not start; see %s", am_log);
	}

	char extra[256];
	snprintf(extra, sizeof(extra), "[alert.alertmanager]\nurl = %s\nmin_severity = info\n",
	         am_url);
	struct setup s;
	start(&s, extra);
	struct finding f = mixed();
	struct alert a;
	alert_from_finding("prod", &f, ALERT_FIRING, time(NULL) * 1000LL, &a);
	alerts_publish(s.alerts, &a, clock_read());
	alerts_flush(s.alerts, clock_read());
	json_t *list = wait_am(am_url, "mixed-version", 1);
	json_t *labels = json_object_get(json_array_get(list, 0), "labels");
	assert_string_equal(field(labels, "cluster", NULL), "green");
	assert_string_equal(field(labels, "subject", NULL), "green-worker-2");
	assert_string_equal(field(labels, "severity", NULL), "critical");
	assert_string_equal(field(labels, "environment", NULL), "prod");
	assert_string_equal(field(labels, "service", NULL), "trino-guard");
	assert_string_equal(
	        field(json_object_get(json_array_get(list, 0), "annotations"), "summary", NULL),
	        "green-worker-2 runs Trino 446, cluster green runs 447");
	json_decref(list);

	alert_from_finding("prod", &f, ALERT_RESOLVED, time(NULL) * 1000LL, &a);
	alerts_publish(s.alerts, &a, clock_read());
	alerts_flush(s.alerts, clock_read());
	json_decref(wait_am(am_url, "mixed-version", 0)); /* resolved alerts are not listed */

	alert_from_event(
	        "prod", "rollback", SEVERITY_CRITICAL, "green",
	        "rolling back from green to blue: internal failures 40.0 % vs tolerated 5.0 %",
	        time(NULL) * 1000LL, &a);
	alerts_publish(s.alerts, &a, clock_read());
	alerts_flush(s.alerts, clock_read());
	list = wait_am(am_url, "rollback", 1);
	assert_string_equal(
	        field(json_object_get(json_array_get(list, 0), "labels"), "cluster", NULL),
	        "green");
	json_decref(list);
	assert_int_equal(stats_of(&s, 1).failed, 0);
	stop(&s);
	harness_stop(am, 5000);
	forget_bodies();
}

/* Bodies received whose "rule" is RULE. */
static size_t bodies_with_rule(const char *rule)
{
	size_t n = 0;
	for (size_t i = 0; i < fx.body_count; i++) {
		json_t *body = json_loads(fx.bodies[i], 0, NULL);
		n += strcmp(field(body, "rule", NULL) ? field(body, "rule", NULL) : "", rule) == 0;
		json_decref(body);
	}
	return n;
}

static pid_t start_collector(const char *config_path, const char *log_path, int api_port)
{
	const char *argv[] = {TG_COLLECTOR_BIN, "-c", config_path, NULL};
	pid_t pid = harness_spawn(argv, log_path);
	assert_true(pid > 0);
	char url[128];
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/healthz", api_port);
	for (int i = 0; i < 100; i++) {
		char *body = harness_get_ok(url);
		free(body);
		if (body != NULL)
			return pid;
		run_for(50);
	}
	harness_stop(pid, 2000);
	fail_msg("the collector did not start; see %s", log_path);
	return -1;
}

static void test_collector_killed_with_undelivered_alerts(void **state)
{
	(void)state;
	int ports = harness_port_range(2);
	char config_path[600], log_path[600], text[2048];
	snprintf(config_path, sizeof(config_path), "%s/kill9.ini", fx.dir);
	snprintf(log_path, sizeof(log_path), "%s/kill9.log", fx.dir);
	snprintf(text, sizeof(text),
	         "[collector]\ncurve = off\nlisten = tcp://127.0.0.1:%d\nstate_dir = %s/kill9\n"
	         "environment = prod\ninitial_active = blue\ntick = 100ms\n"
	         "[api]\nlisten = 127.0.0.1:%d\n[cluster.blue]\n[cluster.green]\n"
	         "[alert.hook]\ntype = webhook\nurl = http://127.0.0.1:%d/hook\nmin_severity = "
	         "info\n",
	         ports, fx.dir, ports + 1, fx.port);
	harness_write_file(config_path, text);
	fx.fail_all = true;
	pid_t collector = start_collector(config_path, log_path, ports + 1);
	char url[128];
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/v1/cutover", ports + 1);
	struct harness_response response;
	assert_int_equal(harness_http("POST", url, NULL,
	                              "{\"to\":\"green\",\"force\":true,\"reason\":\"kill test\"}",
	                              5000, &response),
	                 0);
	long status = response.status;
	harness_response_free(&response);
	assert_int_equal(status, 202);
	/* no [lb] driver: the cutover event comes when the switch by hand is confirmed */
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/v1/cutover/confirm", ports + 1);
	assert_int_equal(harness_http("POST", url, NULL, "{}", 5000, &response), 0);
	status = response.status;
	harness_response_free(&response);
	assert_int_equal(status, 200);
	run_for(1500); /* the cutover event is refused (503) and retried */
	assert_true(fx.requests >= 1);
	assert_int_equal(fx.body_count, 0);
	harness_kill9(collector);

	fx.fail_all = false;
	collector = start_collector(config_path, log_path, ports + 1);
	for (int i = 0; i < 50 && bodies_with_rule("cutover") == 0; i++)
		run_for(200);
	run_for(1000);
	harness_stop(collector, 5000);
	/* the event is not made again after the restart: this one came from the spool */
	assert_int_equal(bodies_with_rule("cutover"), 1);
	forget_bodies();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_restart_delivers_what_was_left_once),
	        cmocka_unit_test(test_what_cleared_during_a_restart_is_resolved),
	        cmocka_unit_test(test_for_delay_holds_a_flapping_finding),
	        cmocka_unit_test(test_alertmanager_resends_what_fires),
	        cmocka_unit_test(test_real_alertmanager),
	        cmocka_unit_test(test_collector_killed_with_undelivered_alerts),
	};
	return cmocka_run_group_tests(tests, alerts_fixture_setup, alerts_fixture_teardown);
}
