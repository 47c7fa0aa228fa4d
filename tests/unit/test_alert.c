/*
 * Unit tests for the alert model (rules/alert.c) and the sink bodies
 * (collector/alert_payload.c): dedup keys, severities, the exact PagerDuty,
 * Alertmanager, Slack and webhook JSON, and text that is too long or not
 * UTF-8.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "alert.h"
#include "alert_payload.h"
#include "summary.h"
#include "utf8.h"

#define AT 1795546800123LL /* 2026-11-24T19:00:00.123Z */

static struct finding mixed_version(void)
{
	struct finding f = {.kind = FINDING_MIXED_VERSION, .severity = SEVERITY_CRITICAL};
	strcpy(f.cluster, "green");
	strcpy(f.subject, "green-worker-2");
	strcpy(f.key, "mixed-version/green/green-worker-2");
	strcpy(f.summary, "green-worker-2 runs Trino 446, cluster green runs 447");
	return f;
}

/* BODY as compact JSON with sorted keys; frees BODY. */
static char *dump(json_t *body)
{
	assert_non_null(body);
	char *text = json_dumps(body, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(body);
	assert_non_null(text);
	return text;
}

static void test_finding_alerts_fire_and_resolve_under_one_key(void **state)
{
	(void)state;
	struct finding f = mixed_version();
	struct alert firing, resolved;
	alert_from_finding("prod", &f, ALERT_FIRING, AT, &firing);
	alert_from_finding("prod", &f, ALERT_RESOLVED, AT + 5000, &resolved);
	assert_string_equal(firing.dedup_key,
	                    "trino-guard/prod/mixed-version/green/green-worker-2");
	assert_string_equal(resolved.dedup_key, firing.dedup_key);
	assert_string_equal(firing.rule, "mixed-version");
	assert_int_equal(firing.severity, SEVERITY_CRITICAL);
	assert_int_equal(resolved.state, ALERT_RESOLVED);
	assert_string_equal(resolved.summary,
	                    "resolved: green-worker-2 runs Trino 446, cluster green runs 447");
}

static void test_long_keys_fit_pagerduty_and_stay_distinct(void **state)
{
	(void)state;
	struct finding a = mixed_version(), b = mixed_version();
	char path[400];
	memset(path, 'x', sizeof(path));
	/* a 3-byte character straddles the cut */
	memcpy(path + 230, "\xe2\x82\xac", 3);
	path[sizeof(path) - 1] = '\0';
	snprintf(a.key, sizeof(a.key), "config-drift/green/%s-a", path);
	snprintf(b.key, sizeof(b.key), "config-drift/green/%s-b", path);
	struct alert alert_a, alert_b;
	alert_from_finding("prod", &a, ALERT_FIRING, AT, &alert_a);
	alert_from_finding("prod", &b, ALERT_FIRING, AT, &alert_b);
	assert_true(strlen(alert_a.dedup_key) <= 255);
	assert_true(utf8_valid(alert_a.dedup_key, strlen(alert_a.dedup_key)));
	assert_string_not_equal(alert_a.dedup_key, alert_b.dedup_key);
	assert_memory_equal(alert_a.dedup_key, "trino-guard/prod/config-drift/green/xxx", 39);
	/* the same finding always gets the same key */
	struct alert again;
	alert_from_finding("prod", &a, ALERT_RESOLVED, AT, &again);
	assert_string_equal(again.dedup_key, alert_a.dedup_key);
}

static void test_actions_are_one_shot_events(void **state)
{
	(void)state;
	struct alert a;
	alert_from_event("prod", "rollback", SEVERITY_CRITICAL, "green",
	                 "rolling back from green to blue: internal failures 40.0 % vs tolerated "
	                 "5.0 %",
	                 AT, &a);
	assert_int_equal(a.state, ALERT_EVENT);
	assert_int_equal(a.severity, SEVERITY_CRITICAL);
	assert_string_equal(a.dedup_key, "trino-guard/prod/rollback/green");
	assert_string_equal(a.rule, "rollback");
	assert_string_equal(a.summary, "rolling back from green to blue: internal failures 40.0 % "
	                               "vs tolerated 5.0 %");
	alert_from_event("staging", "stable", SEVERITY_INFO, "green", "green is stable", AT, &a);
	assert_string_equal(a.dedup_key, "trino-guard/staging/stable/green");
	assert_int_equal(a.severity, SEVERITY_INFO);
}

static void test_severity_parse(void **state)
{
	(void)state;
	enum severity s;
	assert_int_equal(severity_parse("critical", &s), 0);
	assert_int_equal(s, SEVERITY_CRITICAL);
	assert_int_equal(severity_parse("info", &s), 0);
	assert_int_equal(s, SEVERITY_INFO);
	assert_int_equal(severity_parse("warn", &s), -1);
	assert_int_equal(severity_parse("", &s), -1);
	/* min_severity's choice list: a name for every severity, in enum order, then its end */
	for (int i = 0; i < SEVERITY_COUNT; i++) {
		assert_non_null(severity_names[i]);
		assert_int_equal(severity_parse(severity_names[i], &s), 0);
		assert_int_equal(s, i);
	}
	assert_null(severity_names[SEVERITY_COUNT]);
	assert_string_equal(severity_name(SEVERITY_COUNT), "unknown");
}

static const struct pagerduty_fields pd_fields = {
        .routing_key = "0123456789abcdef0123456789abcdef",
        .source = "collector-01",
        .links = {"http://collector-01:8080/v1/status", "https://docs.example/README.md"},
};
static const struct alert_links status_link = {"http://c:8080/v1/status",
                                               "https://docs.example/README.md"};
static const struct alert_links slack_link = {"http://c/v1/status", NULL};

static void test_pagerduty_trigger_and_resolve_bodies(void **state)
{
	(void)state;
	struct finding f = mixed_version();
	struct alert a;
	alert_from_finding("prod", &f, ALERT_FIRING, AT, &a);
	char *text = dump(alert_pagerduty_body(&a, &pd_fields));
	assert_string_equal(
	        text,
	        "{\"client\":\"trino-guard\",\"client_url\":\"http://collector-01:8080/v1/status\","
	        "\"dedup_key\":\"trino-guard/prod/mixed-version/green/green-worker-2\","
	        "\"event_action\":\"trigger\",\"links\":[{\"href\":\"http://collector-01:8080/v1/"
	        "status\",\"text\":\"trino-guard "
	        "status\"},{\"href\":\"https://docs.example/README.md#mixed-version\",\"text\":"
	        "\"runbook\"}],\"payload\":{\"class\":\"mixed-version\","
	        "\"component\":\"trino\",\"custom_details\":{\"cluster\":\"green\",\"environment\":"
	        "\"prod\",\"kind\":\"firing\",\"runbook_url\":\"https://docs.example/"
	        "README.md#mixed-version\",\"subject\":\"green-worker-2\"},\"group\":\"green\","
	        "\"severity\":\"critical\",\"source\":\"collector-01\",\"summary\":\"green-worker-"
	        "2 "
	        "runs Trino 446, cluster green runs "
	        "447\",\"timestamp\":\"2026-11-24T19:00:00.123Z\"},"
	        "\"routing_key\":\"0123456789abcdef0123456789abcdef\"}");
	free(text);
	alert_from_finding("prod", &f, ALERT_RESOLVED, AT, &a);
	text = dump(alert_pagerduty_body(&a, &pd_fields));
	assert_string_equal(text, "{\"dedup_key\":\"trino-guard/prod/mixed-version/green/"
	                          "green-worker-2\",\"event_action\":\"resolve\",\"routing_key\":"
	                          "\"0123456789abcdef0123456789abcdef\"}");
	free(text);
}

static void test_bad_text_never_drops_an_alert(void **state)
{
	(void)state;
	struct finding f = mixed_version();
	/* a node name in Latin-1 and a summary far over PagerDuty's 1024 */
	strcpy(f.subject, "caf\xe9-worker");
	memset(f.summary, 's', sizeof(f.summary) - 1);
	f.summary[sizeof(f.summary) - 1] = '\0';
	f.summary[10] = '\xff';
	struct alert a;
	alert_from_finding("prod", &f, ALERT_FIRING, AT, &a);
	json_t *body = alert_pagerduty_body(&a, &pd_fields);
	assert_non_null(body);
	const char *summary =
	        json_string_value(json_object_get(json_object_get(body, "payload"), "summary"));
	assert_non_null(summary);
	assert_true(strlen(summary) <= 1024);
	assert_memory_equal(summary + 10, "\xef\xbf\xbd", 3);
	const char *subject = json_string_value(json_object_get(
	        json_object_get(json_object_get(body, "payload"), "custom_details"), "subject"));
	assert_string_equal(subject, "caf\xef\xbf\xbd-worker");
	json_decref(body);
	body = alert_alertmanager_body(&a, AT, NULL, 0);
	assert_non_null(body);
	json_decref(body);
	body = alert_webhook_body(&a, NULL);
	assert_non_null(body);
	json_decref(body);
}

static void test_alertmanager_firing_resolved_and_event(void **state)
{
	(void)state;
	struct finding f = mixed_version();
	struct alert a;
	alert_from_finding("prod", &f, ALERT_FIRING, AT, &a);
	char *text = dump(alert_alertmanager_body(&a, AT, &status_link, 300000));
	assert_string_equal(
	        text,
	        "[{\"annotations\":{\"dedup_key\":\"trino-guard/prod/mixed-version/green/"
	        "green-worker-2\",\"runbook_url\":\"https://docs.example/README.md#mixed-version\","
	        "\"summary\":\"green-worker-2 runs Trino 446, cluster green "
	        "runs 447\"},\"generatorURL\":\"http://c:8080/v1/status\",\"labels\":{"
	        "\"alertname\":\"mixed-version\",\"cluster\":\"green\",\"environment\":\"prod\","
	        "\"service\":\"trino-guard\",\"severity\":\"critical\",\"subject\":"
	        "\"green-worker-2\"},\"startsAt\":\"2026-11-24T19:00:00.123Z\"}]");
	free(text);
	/* resolved: the same labels, with endsAt when it closed */
	alert_from_finding("prod", &f, ALERT_RESOLVED, AT + 60000, &a);
	json_t *body = alert_alertmanager_body(&a, AT, NULL, 300000);
	json_t *item = json_array_get(body, 0);
	assert_string_equal(json_string_value(json_object_get(item, "endsAt")),
	                    "2026-11-24T19:01:00.123Z");
	assert_string_equal(json_string_value(json_object_get(item, "startsAt")),
	                    "2026-11-24T19:00:00.123Z");
	assert_null(json_object_get(item, "generatorURL"));
	json_decref(body);
	/* an event ends by itself after the TTL; no subject label for a cluster event */
	alert_from_event("prod", "rollback", SEVERITY_CRITICAL, "green", "why", AT, &a);
	body = alert_alertmanager_body(&a, AT, NULL, 300000);
	item = json_array_get(body, 0);
	assert_string_equal(json_string_value(json_object_get(item, "endsAt")),
	                    "2026-11-24T19:05:00.123Z");
	assert_null(json_object_get(json_object_get(item, "labels"), "subject"));
	json_decref(body);
}

static void test_slack_and_webhook_bodies(void **state)
{
	(void)state;
	struct finding f = mixed_version();
	struct alert a;
	alert_from_finding("prod", &f, ALERT_RESOLVED, AT, &a);
	char *text = dump(alert_slack_body(&a, &slack_link));
	assert_string_equal(text,
	                    "{\"text\":\"[critical] RESOLVED resolved: green-worker-2 runs "
	                    "Trino 446, cluster green runs 447 (trino-guard/prod/mixed-version/"
	                    "green/green-worker-2) http://c/v1/status\"}");
	free(text);
	alert_from_event("prod", "cutover", SEVERITY_INFO, "green", "users moved to green: by hand",
	                 AT, &a);
	text = dump(alert_webhook_body(&a, NULL));
	assert_string_equal(text,
	                    "{\"at\":\"2026-11-24T19:00:00.123Z\",\"cluster\":\"green\","
	                    "\"dedup_key\":\"trino-guard/prod/cutover/green\",\"environment\":"
	                    "\"prod\",\"rule\":\"cutover\",\"severity\":\"info\",\"state\":"
	                    "\"event\",\"subject\":\"\",\"summary\":\"users moved to green: by "
	                    "hand\"}");
	free(text);
}

static void test_changes_and_one_incident_per_rollback(void **state)
{
	(void)state;
	struct alert a;
	/* a cutover is a Change Event: no event_action, no dedup key, links kept */
	alert_from_event("prod", "cutover", SEVERITY_INFO, "green", "cutover: users on green", AT,
	                 &a);
	assert_true(alert_is_change(&a));
	char *text = dump(alert_pagerduty_body(&a, &pd_fields));
	assert_string_equal(
	        text, "{\"links\":[{\"href\":\"http://collector-01:8080/v1/status\",\"text\":"
	              "\"trino-guard status\"},{\"href\":\"https://docs.example/"
	              "README.md#cutovers-and-changes\",\"text\":\"runbook\"}],\"payload\":{"
	              "\"custom_details\":{\"change\":\"cutover\",\"cluster\":\"green\","
	              "\"environment\":\"prod\",\"runbook_url\":\"https://docs.example/"
	              "README.md#cutovers-and-changes\"},\"source\":\"collector-01\",\"summary\":"
	              "\"cutover: users on green\",\"timestamp\":\"2026-11-24T19:00:00.123Z\"},"
	              "\"routing_key\":\"0123456789abcdef0123456789abcdef\"}");
	free(text);
	static const char *const changes[] = {"stable", "external-cutover", "pause", "resume"};
	for (size_t i = 0; i < 4; i++) {
		alert_from_event("prod", changes[i], SEVERITY_INFO, "green", "x", AT, &a);
		assert_true(alert_is_change(&a));
	}
	/* a rollback and its end are one incident under one key, not two */
	struct alert start, done, over;
	alert_from_event("prod", "rollback", SEVERITY_CRITICAL, "green", "rolling back", AT,
	                 &start);
	alert_from_event("prod", "rolled-back", SEVERITY_CRITICAL, "green", "rolled back", AT,
	                 &done);
	alert_from_event("prod", "rollback-over", SEVERITY_CRITICAL, "green", "next cutover", AT,
	                 &over);
	assert_false(alert_is_change(&start));
	assert_false(alert_is_change(&done));
	assert_string_equal(start.dedup_key, "trino-guard/prod/rollback/green");
	assert_string_equal(done.dedup_key, start.dedup_key);
	assert_string_equal(over.dedup_key, start.dedup_key);
	assert_int_equal(start.state, ALERT_EVENT);
	assert_int_equal(over.state, ALERT_RESOLVED);
	json_t *body = alert_pagerduty_body(&over, &pd_fields);
	assert_string_equal(json_string_value(json_object_get(body, "event_action")), "resolve");
	json_decref(body);
}

struct cut_case {
	const char *name;
	const char *text;
	size_t size;
	const char *expected;
};

static const struct cut_case cut_cases[] = {
        {"a summary that fits is kept whole", "green-worker-1 runs 446", 32,
         "green-worker-1 runs 446"},
        {"a long one ends on a word", "query counters of green-coord are unavailable", 32,
         "query counters of..."},
        {"never inside a parenthesis: cut before it",
         "counters are blind: Trino is starting (HTTP 503 Service Unavailable)", 48,
         "counters are blind: Trino is starting..."},
        {"a closed parenthesis is a word like any", "Trino is starting (HTTP 503) and more words",
         36, "Trino is starting (HTTP 503) and..."},
        {"one long word is cut at the limit", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 16,
         "aaaaaaaaaaaa..."},
        {"never inside a UTF-8 sequence",
         "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9", 16,
         "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9..."},
};

static void test_summaries_are_cut_on_a_word(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cut_cases) / sizeof(cut_cases[0]); i++) {
		char out[64];
		assert_true(cut_cases[i].size <= sizeof(out));
		summary_cut(cut_cases[i].text, out, cut_cases[i].size);
		if (strcmp(out, cut_cases[i].expected) != 0)
			fail_msg("%s: '%s', expected '%s'", cut_cases[i].name, out,
			         cut_cases[i].expected);
		assert_true(strlen(out) < cut_cases[i].size);
	}
	/* a resolved alert's "resolved: " prefix never cuts a full summary mid-word */
	struct finding f = {.kind = FINDING_COUNTERS_UNAVAILABLE, .severity = SEVERITY_WARNING};
	snprintf(f.key, sizeof(f.key), "counters-unavailable/green/green-coord");
	memset(f.summary, 'x', sizeof(f.summary) - 1);
	memcpy(f.summary + 1000, " (HTTP 503)", 11);
	struct alert alert;
	alert_from_finding("prod", &f, ALERT_RESOLVED, 0, &alert);
	assert_null(strchr(alert.summary, '('));
	assert_non_null(strstr(alert.summary, "..."));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_finding_alerts_fire_and_resolve_under_one_key),
	        cmocka_unit_test(test_long_keys_fit_pagerduty_and_stay_distinct),
	        cmocka_unit_test(test_actions_are_one_shot_events),
	        cmocka_unit_test(test_severity_parse),
	        cmocka_unit_test(test_pagerduty_trigger_and_resolve_bodies),
	        cmocka_unit_test(test_bad_text_never_drops_an_alert),
	        cmocka_unit_test(test_alertmanager_firing_resolved_and_event),
	        cmocka_unit_test(test_slack_and_webhook_bodies),
	        cmocka_unit_test(test_summaries_are_cut_on_a_word),
	        cmocka_unit_test(test_changes_and_one_incident_per_rollback),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
