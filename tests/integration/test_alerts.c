/*
 * The alert feed (collector/alerts/) against a PagerDuty stand-in and a
 * webhook receiver served by evhttp in this process. Covered: the exact
 * Events v2 trigger and resolve, in order; 429 with Retry-After retried;
 * 400 not retried (journaled, counted, the next alert still goes); a
 * receiver that is down for a while (spooled, delivered after); a restart
 * with undelivered alerts (delivered once after), in process and with the
 * real collector killed -9; what cleared during a restart is resolved; a
 * real Alertmanager; min_severity; the [alert.NAME] config checks; a spool
 * that cannot mark an alert delivered never has it sent twice; the time
 * comes from the caller; a retry waits as long as Retry-After asks.
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

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>

#include <arpa/inet.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <jansson.h>

#include "alerts.h"
#include "clock.h"
#include "harness.h"
#include "journal.h"

#define ROUTING_KEY "0123456789abcdef0123456789abcdef"
#define MAX_BODIES  32

static struct {
	struct event_base *base;
	struct evhttp *server;
	int port;
	char *dir;
	int answers[8]; /* the next statuses to answer with; 0: 202 */
	size_t answer_count;
	char *bodies[MAX_BODIES]; /* what arrived with a 2xx, in order */
	size_t body_count;
	int requests;
	int64_t arrived_mono_ms[16]; /* when each of the first requests arrived */
	const char *retry_after;     /* what a 429 carries; NULL: "1" */
	bool fail_all;               /* answer 503 to everything */
	size_t wait_for;             /* stop the loop once this many bodies arrived */
} fx;

static void on_request(struct evhttp_request *req, void *arg)
{
	(void)arg;
	if (fx.requests < 16)
		fx.arrived_mono_ms[fx.requests] = clock_mono_ms();
	fx.requests++;
	int status = fx.fail_all ? 503 : 202;
	if (fx.answer_count > 0) {
		status = fx.answers[0];
		memmove(fx.answers, fx.answers + 1, --fx.answer_count * sizeof(fx.answers[0]));
	}
	struct evbuffer *out = evbuffer_new();
	if (status == 429)
		evhttp_add_header(evhttp_request_get_output_headers(req), "Retry-After",
		                  fx.retry_after != NULL ? fx.retry_after : "1");
	if (status == 400)
		evbuffer_add_printf(out,
		                    "{\"status\":\"invalid event\",\"message\":\"Event object is "
		                    "invalid\"}");
	if (status >= 200 && status < 300 && fx.body_count < MAX_BODIES) {
		struct evbuffer *in = evhttp_request_get_input_buffer(req);
		size_t len = evbuffer_get_length(in);
		char *body = malloc(len + 1);
		evbuffer_remove(in, body, len);
		body[len] = '\0';
		fx.bodies[fx.body_count++] = body;
		evbuffer_add_printf(out,
		                    "{\"status\":\"success\",\"message\":\"Event processed\"}");
	}
	evhttp_send_reply(req, status, "x", out);
	evbuffer_free(out);
	if (fx.body_count >= fx.wait_for)
		event_base_loopbreak(fx.base);
}

static void serve(void)
{
	fx.server = evhttp_new(fx.base);
	assert_int_equal(evhttp_bind_socket(fx.server, "127.0.0.1", (uint16_t)fx.port), 0);
	evhttp_set_gencb(fx.server, on_request, NULL);
}

static void stop_serving(void)
{
	evhttp_free(fx.server);
	fx.server = NULL;
}

/* Runs the loop until MS pass or, once WANT bodies arrived, sooner. */
static void run_loop(int ms, size_t want)
{
	fx.wait_for = want;
	if (fx.body_count < want)
		harness_run_loop(fx.base, ms);
}

/* Runs the loop for MS milliseconds whatever arrives. */
static void run_for(int ms)
{
	run_loop(ms, SIZE_MAX);
}

/* Runs the loop until WANT bodies arrived or SECONDS passed, then lets the replies land. */
static void run_until(size_t want, int seconds)
{
	run_loop(seconds * 1000, want);
	run_for(200);
}

static void forget_bodies(void)
{
	for (size_t i = 0; i < fx.body_count; i++)
		free(fx.bodies[i]);
	fx.body_count = 0;
	fx.requests = 0;
}

struct setup {
	struct collector_config config;
	struct journal *journal;
	struct alerts *alerts;
};

static int state_number; /* a fresh state_dir per test; a restart keeps it */

static void start(struct setup *s, const char *extra)
{
	char path[512], key_path[512], text[4096];
	snprintf(key_path, sizeof(key_path), "%s/pagerduty.key", fx.dir);
	harness_write_file(key_path, ROUTING_KEY "\n");
	snprintf(text, sizeof(text),
	         "[collector]\ncurve = off\nstate_dir = %s/state-%d\nenvironment = prod\n"
	         "[api]\npublic_url = http://collector-01:7601\n"
	         "[cluster.blue]\n[cluster.green]\n"
	         "[alert.pagerduty]\nrouting_key_file = %s\nurl = "
	         "http://127.0.0.1:%d/v2/enqueue\nsource = collector-01\nmin_severity = warning\n"
	         "timeout = 2s\n%s",
	         fx.dir, state_number, key_path, fx.port, extra ? extra : "");
	snprintf(path, sizeof(path), "%s/collector.ini", fx.dir);
	harness_write_file(path, text);
	char err[512];
	memset(&s->config, 0, sizeof(s->config));
	if (collector_config_load(path, &s->config, err, sizeof(err)) != 0)
		fail_msg("config: %s", err);
	s->journal = journal_open(s->config.collector.state_dir, 1 << 20, 100, err, sizeof(err));
	assert_non_null(s->journal);
	s->alerts = alerts_new(fx.base, &s->config, s->journal, clock_read(), err, sizeof(err));
	if (s->alerts == NULL)
		fail_msg("alerts: %s", err);
}

static void stop(struct setup *s)
{
	alerts_free(s->alerts);
	journal_close(s->journal);
	collector_config_free(&s->config);
}

static struct finding mixed(void)
{
	struct finding f = {.kind = FINDING_MIXED_VERSION, .severity = SEVERITY_CRITICAL};
	strcpy(f.cluster, "green");
	strcpy(f.subject, "green-worker-2");
	strcpy(f.key, "mixed-version/green/green-worker-2");
	strcpy(f.summary, "green-worker-2 runs Trino 446, cluster green runs 447");
	return f;
}

static void publish_finding(struct setup *s, enum alert_state state)
{
	struct finding f = mixed();
	struct alert a;
	alert_from_finding("prod", &f, state, 1795546800123LL, &a);
	alerts_publish(s->alerts, &a, clock_read());
	alerts_flush(s->alerts, clock_read());
}

static const char *field(json_t *root, const char *a, const char *b)
{
	json_t *v = json_object_get(root, a);
	if (b != NULL)
		v = json_object_get(v, b);
	return json_string_value(v);
}

static struct alert_sink_stats stats_of(struct setup *s, size_t index)
{
	struct alert_sink_stats st;
	alerts_sink_stats(s->alerts, index, 0, &st);
	return st;
}

static void test_trigger_then_resolve_in_order_through_a_429(void **state)
{
	(void)state;
	state_number++;
	struct setup s;
	start(&s, NULL);
	fx.answers[0] = 429; /* the trigger is refused once; the resolve must still come second */
	fx.answer_count = 1;
	publish_finding(&s, ALERT_FIRING);
	publish_finding(&s, ALERT_RESOLVED);
	run_until(2, 20);
	assert_int_equal(fx.body_count, 2);
	assert_int_equal(fx.requests, 3);
	json_t *trigger = json_loads(fx.bodies[0], 0, NULL);
	json_t *resolve = json_loads(fx.bodies[1], 0, NULL);
	assert_string_equal(field(trigger, "event_action", NULL), "trigger");
	assert_string_equal(field(trigger, "routing_key", NULL), ROUTING_KEY);
	assert_string_equal(field(trigger, "dedup_key", NULL),
	                    "trino-guard/prod/mixed-version/green/green-worker-2");
	assert_string_equal(field(trigger, "payload", "summary"),
	                    "green-worker-2 runs Trino 446, cluster green runs 447");
	assert_string_equal(field(trigger, "payload", "severity"), "critical");
	assert_string_equal(field(trigger, "payload", "source"), "collector-01");
	assert_string_equal(field(trigger, "client_url", NULL),
	                    "http://collector-01:7601/v1/status");
	assert_string_equal(field(resolve, "event_action", NULL), "resolve");
	assert_string_equal(field(resolve, "dedup_key", NULL),
	                    "trino-guard/prod/mixed-version/green/green-worker-2");
	assert_null(json_object_get(resolve, "payload"));
	json_decref(trigger);
	json_decref(resolve);
	struct alert_sink_stats st = stats_of(&s, 0);
	assert_int_equal(st.sent, 2);
	assert_int_equal(st.retried, 1);
	assert_int_equal(st.queued, 0);
	stop(&s);
	forget_bodies();
}

static void test_bad_request_is_not_retried(void **state)
{
	(void)state;
	state_number++;
	struct setup s;
	start(&s, NULL);
	fx.answers[0] = 400;
	fx.answer_count = 1;
	publish_finding(&s, ALERT_FIRING);
	struct alert a;
	alert_from_event("prod", "rollback", SEVERITY_CRITICAL, "green",
	                 "rolling back from green to blue: failures 40 %", 1795546800123LL, &a);
	alerts_publish(s.alerts, &a, clock_read());
	alerts_flush(s.alerts, clock_read());
	run_until(1, 10);
	assert_int_equal(fx.requests, 2); /* the 400 once, then the rollback */
	assert_int_equal(fx.body_count, 1);
	json_t *body = json_loads(fx.bodies[0], 0, NULL);
	assert_string_equal(field(body, "dedup_key", NULL), "trino-guard/prod/rollback/green");
	json_decref(body);
	struct alert_sink_stats st = stats_of(&s, 0);
	assert_int_equal(st.failed, 1);
	assert_int_equal(st.retried, 0);
	json_t *events = journal_since(s.journal, 0, 100);
	bool journaled = false;
	for (size_t i = 0; i < json_array_size(events); i++) {
		json_t *e = json_array_get(events, i);
		journaled = journaled || (strcmp(field(e, "type", NULL), "alert-failed") == 0 &&
		                          json_integer_value(json_object_get(e, "status")) == 400);
	}
	json_decref(events);
	assert_true(journaled);
	stop(&s);
	forget_bodies();
}

static void test_receiver_down_for_a_while(void **state)
{
	(void)state;
	state_number++;
	struct setup s;
	start(&s, NULL);
	stop_serving();
	publish_finding(&s, ALERT_FIRING);
	run_for(2000); /* refused, retried with backoff */
	struct alert_sink_stats st = stats_of(&s, 0);
	assert_true(st.retried >= 1);
	assert_int_equal(st.queued, 1);
	assert_int_equal(st.sent, 0);
	serve();
	run_until(1, 15);
	assert_int_equal(fx.body_count, 1);
	assert_int_equal(stats_of(&s, 0).queued, 0);
	stop(&s);
	forget_bodies();
}

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
	strcpy(cleared.key, "trino-down/green/green-worker-1");
	strcpy(cleared.subject, "green-worker-1");
	cleared.kind = FINDING_TRINO_DOWN;
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
	                    "trino-guard/prod/trino-down/green/green-worker-1");
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
	f.kind = FINDING_TRINO_DOWN;
	strcpy(f.key, "trino-down/green/green-worker-2");
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

static void test_min_severity_and_a_second_sink(void **state)
{
	(void)state;
	struct setup s;
	char extra[256];
	snprintf(extra, sizeof(extra),
	         "[alert.hook]\ntype = webhook\nurl = http://127.0.0.1:%d/hook\nmin_severity = "
	         "info\n"
	         "header.X-Team = data-platform\n",
	         fx.port);
	start(&s, extra);
	struct alert a;
	alert_from_event("prod", "cutover", SEVERITY_INFO, "green", "users moved to green",
	                 1795546800123LL, &a);
	alerts_publish(s.alerts, &a, clock_read());
	alerts_flush(s.alerts, clock_read());
	run_until(1, 10);
	run_for(500);
	assert_int_equal(fx.body_count, 1); /* the webhook only: pagerduty wants warning+ */
	json_t *body = json_loads(fx.bodies[0], 0, NULL);
	assert_string_equal(field(body, "rule", NULL), "cutover");
	assert_string_equal(field(body, "state", NULL), "event");
	json_decref(body);
	assert_int_equal(stats_of(&s, 0).sent, 0);
	assert_int_equal(stats_of(&s, 1).sent, 1);
	assert_string_equal(stats_of(&s, 1).type, "webhook");
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

static void test_retry_waits_as_long_as_retry_after_asks(void **state)
{
	(void)state;
	state_number++;
	struct setup s;
	start(&s, NULL);
	fx.answers[0] = 429;
	fx.answer_count = 1;
	fx.retry_after = "2"; /* longer than the first backoff (0.5 to 1 s) */
	publish_finding(&s, ALERT_FIRING);
	run_until(1, 10);
	fx.retry_after = NULL;
	assert_int_equal(fx.body_count, 1);
	assert_int_equal(fx.requests, 2);
	/* a lower bound: the second attempt may come later, never sooner */
	int64_t waited_ms = fx.arrived_mono_ms[1] - fx.arrived_mono_ms[0];
	if (waited_ms < 2000)
		fail_msg("the retry came %lld ms after a 429 with Retry-After: 2",
		         (long long)waited_ms);
	assert_int_equal(stats_of(&s, 0).retried, 1);
	stop(&s);
	forget_bodies();
}

static void test_time_comes_from_the_caller(void **state)
{
	(void)state;
	state_number++;
	struct setup s;
	start(&s, NULL);
	stop_serving(); /* so the alert stays queued */
	struct clock_now now = {.mono_ms = clock_mono_ms(), .unix_ms = 1795546800000LL};
	struct finding f = mixed();
	struct alert a;
	alert_from_finding("prod", &f, ALERT_FIRING, now.unix_ms, &a);
	alerts_publish(s.alerts, &a, now);
	alerts_flush(s.alerts, now);
	struct alert_sink_stats st;
	alerts_sink_stats(s.alerts, 0, now.unix_ms + 5000, &st);
	assert_int_equal(st.queued, 1);
	assert_int_equal(st.oldest_queued_ms, 5000); /* queued at the NOW it was given */
	serve();
	run_until(1, 15);
	assert_int_equal(fx.body_count, 1);
	stop(&s);
	forget_bodies();
}

/* The descriptor this process has open on the file at PATH, or -1. */
static int descriptor_on(const char *path)
{
	char real[PATH_MAX], link[PATH_MAX], fd_path[64];
	if (realpath(path, real) == NULL)
		return -1;
	DIR *dir = opendir("/proc/self/fd");
	if (dir == NULL)
		return -1;
	int found = -1;
	for (struct dirent *d = readdir(dir); d != NULL && found < 0; d = readdir(dir)) {
		snprintf(fd_path, sizeof(fd_path), "/proc/self/fd/%s", d->d_name);
		ssize_t len = readlink(fd_path, link, sizeof(link) - 1);
		if (len <= 0)
			continue;
		link[len] = '\0';
		if (strcmp(link, real) == 0)
			found = atoi(d->d_name);
	}
	closedir(dir);
	return found;
}

static void test_a_spool_that_cannot_mark_never_sends_twice(void **state)
{
	(void)state;
	state_number++;
	struct setup s;
	start(&s, NULL);
	publish_finding(&s, ALERT_FIRING); /* spooled, synced, and the request is out */
	char path[600];
	snprintf(path, sizeof(path), "%s/state-%d/alerts-pagerduty.spool", fx.dir, state_number);
	int spool_fd = descriptor_on(path);
	assert_true(spool_fd >= 0);
	int saved = dup(spool_fd);
	int full = open("/dev/full", O_WRONLY);
	assert_true(saved >= 0 && full >= 0);
	/* from now on every write to the spool fails (ENOSPC): "delivered" cannot be marked */
	assert_int_equal(dup2(full, spool_fd), spool_fd);
	run_for(2500);
	assert_int_equal(fx.body_count, 1); /* delivered once, and not sent again */
	assert_int_equal(stats_of(&s, 0).queued, 1);
	/* the disk is back: the mark is written at the next try, and nothing more is sent */
	assert_int_equal(dup2(saved, spool_fd), spool_fd);
	close(saved);
	close(full);
	for (int i = 0; i < 50 && stats_of(&s, 0).queued > 0; i++)
		run_for(200);
	assert_int_equal(stats_of(&s, 0).queued, 0);
	assert_int_equal(fx.body_count, 1);
	publish_finding(&s, ALERT_RESOLVED); /* and the sink goes on */
	run_until(2, 10);
	assert_int_equal(fx.body_count, 2);
	stop(&s);
	forget_bodies();
}

static void expect_config_error(const char *text, const char *expected)
{
	char path[512], err[512];
	snprintf(path, sizeof(path), "%s/bad.ini", fx.dir);
	harness_write_file(path, text);
	struct collector_config config = {0};
	int rc = collector_config_load(path, &config, err, sizeof(err));
	collector_config_free(&config);
	assert_int_equal(rc, -1);
	if (strstr(err, expected) == NULL)
		fail_msg("got '%s', expected '%s'", err, expected);
}

static void test_config_checks(void **state)
{
	(void)state;
	expect_config_error(
	        "[collector]\ncurve = off\n[cluster.blue]\n[alert.oncall]\nurl = http://x\n",
	        "bad.ini:4: [alert.oncall] needs type = pagerduty");
	expect_config_error("[collector]\ncurve = "
	                    "off\n[cluster.blue]\n[alert.pagerduty]\nmin_severity = high\n",
	                    "bad.ini:5:");
	expect_config_error("[collector]\ncurve = off\n[cluster.blue]\n[alert.pagerduty]\n",
	                    "needs routing_key_file");
	expect_config_error("[collector]\ncurve = off\n[cluster.blue]\n[alert.slack]\n",
	                    "needs webhook_url_file");
	expect_config_error(
	        "[collector]\ncurve = off\n[cluster.blue]\n[alerts]\nfor.node-stale = soon\n",
	        "bad.ini:5: [alerts] for.node-stale:");
	expect_config_error(
	        "[collector]\ncurve = off\n[cluster.blue]\n[alert.am]\ntype = alertmanager\n",
	        "needs url");
	expect_config_error("[collector]\ncurve = off\n[cluster.blue]\n[alert.am]\ntype = "
	                    "alertmanager\nurl = alertmanager:9093\n",
	                    "bad.ini:6: [alert.am] url must start with http:// or https://");
	/* the for delays are parsed once, at load, into a table by rule */
	struct collector_config config = {0};
	char path[512], err[512];
	snprintf(path, sizeof(path), "%s/for.ini", fx.dir);
	harness_write_file(path,
	                   "[collector]\ncurve = off\n[cluster.blue]\n[alerts]\n"
	                   "for.mixed-version = 90s\nfor.degraded = 2m\nfor.no-such-rule = 1s\n");
	assert_int_equal(collector_config_load(path, &config, err, sizeof(err)), 0);
	assert_int_equal(config.alerting.for_delay_ms[FINDING_MIXED_VERSION], 90000);
	assert_int_equal(config.alerting.for_delay_ms[FINDING_DEGRADED], 120000);
	assert_int_equal(config.alerting.for_delay_ms[FINDING_TRINO_DOWN], 0);
	collector_config_free(&config);
	memset(&config, 0, sizeof(config));
	/* an unreadable secret names the file, never a content */
	snprintf(path, sizeof(path), "%s/secret.ini", fx.dir);
	char text[512];
	snprintf(text, sizeof(text),
	         "[collector]\ncurve = off\nstate_dir = "
	         "%s/state\n[cluster.blue]\n[alert.pagerduty]\n"
	         "routing_key_file = %s/missing.key\n",
	         fx.dir, fx.dir);
	harness_write_file(path, text);
	assert_int_equal(collector_config_load(path, &config, err, sizeof(err)), 0);
	assert_null(alerts_new(fx.base, &config, NULL, clock_read(), err, sizeof(err)));
	assert_non_null(strstr(err, "[alert.pagerduty]: "));
	assert_non_null(strstr(err, "missing.key: No such file"));
	collector_config_free(&config);
}

static int setup(void **state)
{
	(void)state;
	fx.base = event_base_new();
	fx.dir = harness_tmpdir("tg-alerts");
	fx.port = harness_port_range(1);
	if (fx.base == NULL || fx.dir == NULL || fx.port <= 0)
		return -1;
	serve();
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	if (fx.server != NULL)
		evhttp_free(fx.server);
	event_base_free(fx.base);
	char command[600];
	snprintf(command, sizeof(command), "rm -rf '%s'", fx.dir);
	free(fx.dir);
	return system(command);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_trigger_then_resolve_in_order_through_a_429),
	        cmocka_unit_test(test_bad_request_is_not_retried),
	        cmocka_unit_test(test_receiver_down_for_a_while),
	        cmocka_unit_test(test_restart_delivers_what_was_left_once),
	        cmocka_unit_test(test_what_cleared_during_a_restart_is_resolved),
	        cmocka_unit_test(test_for_delay_holds_a_flapping_finding),
	        cmocka_unit_test(test_alertmanager_resends_what_fires),
	        cmocka_unit_test(test_min_severity_and_a_second_sink),
	        cmocka_unit_test(test_real_alertmanager),
	        cmocka_unit_test(test_collector_killed_with_undelivered_alerts),
	        cmocka_unit_test(test_config_checks),
	        cmocka_unit_test(test_retry_waits_as_long_as_retry_after_asks),
	        cmocka_unit_test(test_a_spool_that_cannot_mark_never_sends_twice),
	        cmocka_unit_test(test_time_comes_from_the_caller),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
