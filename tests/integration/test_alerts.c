/*
 * The alert feed's delivery (collector/alerts/) against a PagerDuty stand-in
 * and a webhook receiver: the exact Events v2 trigger and resolve, in order,
 * through a 429; 400 not retried (journaled, counted, the next alert still
 * goes); a receiver that is down for a while (spooled, delivered after);
 * min_severity and a second sink; a retry waits as long as Retry-After
 * asks; a spool that cannot mark an alert delivered never has it sent
 * twice; a rotated routing key applies to alerts spooled before, in the
 * spool's old format too; the time comes from the caller; the [alert.NAME] config checks.
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
#include <sys/stat.h>

#include "alerts_fixture.h"
#include "clock.h"
#include "harness.h"

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

/* A fresh state_dir, the stand-in not serving, and one alert published into it for MS. */
static void publish_while_the_pager_is_away(struct setup *s, int ms)
{
	state_number++;
	start(s, NULL);
	stop_serving();
	publish_finding(s, ALERT_FIRING);
	run_for(ms);
}

static void test_receiver_down_for_a_while(void **state)
{
	(void)state;
	struct setup s;
	publish_while_the_pager_is_away(&s, 2000); /* refused, retried with backoff */
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

#define ROTATED_KEY "fedcba9876543210fedcba9876543210"

/*
 * The spool keeps no routing key: the sink puts the key of the day in at
 * each send. An alert queued while the pager is away, then a restart with a
 * rotated key file: it goes with the new key. A spool of the old format
 * (the key in each body) is delivered too, with the new key.
 */
static void test_a_rotated_routing_key_applies_to_queued_alerts(void **state)
{
	(void)state;
	struct setup s;
	publish_while_the_pager_is_away(&s, 300);
	assert_int_equal(stats_of(&s, 0).queued, 1);
	stop(&s);
	char path[600];
	snprintf(path, sizeof(path), "%s/state-%d/alerts-pagerduty.spool", fx.dir, state_number);
	char *spool = harness_read_file(path);
	assert_non_null(spool);
	assert_non_null(strstr(spool, "dedup_key"));
	assert_null(strstr(spool, ROUTING_KEY)); /* no secret on disk */
	free(spool);
	/* an entry as the spool wrote them before: the old key inside its body */
	FILE *f = fopen(path, "a");
	assert_non_null(f);
	fputs("{\"seq\":99,\"at\":1764547200000,\"key\":\"old\",\"body\":\"{\\\"routing_key\\\":"
	      "\\\"" ROUTING_KEY "\\\",\\\"dedup_key\\\":\\\"old\\\",\\\"event_action\\\":"
	      "\\\"resolve\\\"}\"}\n",
	      f);
	assert_int_equal(fclose(f), 0);

	routing_key = ROTATED_KEY;
	serve();
	start(&s, NULL);
	run_until(2, 15);
	routing_key = ROUTING_KEY;
	assert_int_equal(fx.body_count, 2);
	for (size_t i = 0; i < 2; i++) {
		json_t *body = json_loads(fx.bodies[i], 0, NULL);
		assert_non_null(body);
		assert_string_equal(field(body, "routing_key", NULL), ROTATED_KEY);
		json_decref(body);
	}
	json_t *old = json_loads(fx.bodies[1], 0, NULL);
	assert_string_equal(field(old, "dedup_key", NULL), "old");
	json_decref(old);
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
	alert_from_event("prod", "cutover-held", SEVERITY_INFO, "green", "paused: would switch",
	                 1795546800123LL, &a);
	alerts_publish(s.alerts, &a, clock_read());
	alerts_flush(s.alerts, clock_read());
	run_until(1, 10);
	run_for(500);
	assert_int_equal(fx.body_count, 1); /* the webhook only: pagerduty wants warning+ */
	json_t *body = json_loads(fx.bodies[0], 0, NULL);
	assert_string_equal(field(body, "rule", NULL), "cutover-held");
	assert_string_equal(field(body, "state", NULL), "event");
	json_decref(body);
	assert_int_equal(stats_of(&s, 0).sent, 0);
	assert_int_equal(stats_of(&s, 1).sent, 1);
	assert_string_equal(stats_of(&s, 1).type, "webhook");
	stop(&s);
	forget_bodies();
}

/* Writes TEXT into PATH, mode 0600: a secret file as the operator installs it. */
static void write_secret(const char *path, const char *text)
{
	assert_int_equal(harness_write_file(path, text), 0);
	assert_int_equal(chmod(path, 0600), 0);
}

/* Publishes an info event about CLUSTER, flushes, and waits for its body. */
static void send_event(struct setup *s, const char *cluster)
{
	struct alert a;
	alert_from_event("prod", "cutover-held", SEVERITY_INFO, cluster, "paused: would switch",
	                 1795546800123LL, &a);
	alerts_publish(s->alerts, &a, clock_read());
	alerts_flush(s->alerts, clock_read());
	run_until(fx.body_count + 1, 10);
}

/*
 * A webhook's header_file.Authorization: the request carries the file's
 * line; once the file is rotated, alerts_reload_headers (SIGHUP's) sends the
 * new one; a reload that finds the file unreadable fails and keeps it.
 */
static void test_a_header_file_is_sent_and_read_again(void **state)
{
	(void)state;
	state_number++;
	char token[512], extra[1024], err[1024] = "";
	snprintf(token, sizeof(token), "%s/hook.token", fx.dir);
	write_secret(token, "Bearer from-the-file\n");
	snprintf(extra, sizeof(extra),
	         "[alert.hook]\ntype = webhook\nurl = http://127.0.0.1:%d/hook\n"
	         "min_severity = info\nheader_file.Authorization = %s\n",
	         fx.port, token);
	struct setup s;
	start(&s, extra);
	send_event(&s, "green");
	assert_int_equal(fx.body_count, 1);
	assert_string_equal(fx.authorizations[0], "Bearer from-the-file");

	write_secret(token, "Bearer rotated\n");
	if (alerts_reload_headers(s.alerts, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	send_event(&s, "blue");
	assert_int_equal(fx.body_count, 2);
	assert_string_equal(fx.authorizations[1], "Bearer rotated");

	assert_int_equal(chmod(token, 0644), 0);
	assert_int_equal(alerts_reload_headers(s.alerts, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "[alert.hook] header_file.Authorization: "));
	assert_non_null(strstr(err, "is open to group or others"));
	send_event(&s, "green");
	assert_int_equal(fx.body_count, 3);
	assert_string_equal(fx.authorizations[2], "Bearer rotated");
	stop(&s);
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
	/* held by default: one node restarting is not a page */
	assert_int_equal(config.alerting.for_delay_ms[FINDING_TRINO_DOWN], 60000);
	assert_int_equal(config.alerting.for_delay_ms[FINDING_CLUSTER_INCOMPLETE], 60000);
	assert_int_equal(config.alerting.for_delay_ms[FINDING_NODE_STALE], 0);
	collector_config_free(&config);
	memset(&config, 0, sizeof(config));
	harness_write_file(path, "[collector]\ncurve = off\n[cluster.blue]\n[alerts]\n"
	                         "for.cluster-incomplete = 0s\n");
	assert_int_equal(collector_config_load(path, &config, err, sizeof(err)), 0);
	assert_int_equal(config.alerting.for_delay_ms[FINDING_CLUSTER_INCOMPLETE], 0);
	assert_int_equal(config.alerting.for_delay_ms[FINDING_TRINO_DOWN], 60000);
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

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_trigger_then_resolve_in_order_through_a_429),
	        cmocka_unit_test(test_bad_request_is_not_retried),
	        cmocka_unit_test(test_receiver_down_for_a_while),
	        cmocka_unit_test(test_a_rotated_routing_key_applies_to_queued_alerts),
	        cmocka_unit_test(test_min_severity_and_a_second_sink),
	        cmocka_unit_test(test_retry_waits_as_long_as_retry_after_asks),
	        cmocka_unit_test(test_a_spool_that_cannot_mark_never_sends_twice),
	        cmocka_unit_test(test_time_comes_from_the_caller),
	        cmocka_unit_test(test_a_header_file_is_sent_and_read_again),
	        cmocka_unit_test(test_config_checks),
	};
	return cmocka_run_group_tests(tests, alerts_fixture_setup, alerts_fixture_teardown);
}
