/*
 * Unit tests for the table of alert sink types (collector/alerts/alert_sinks.c
 * and sink_*.c): a row for every type, named as the config choice names it;
 * each row's required keys; where each sends; and which sinks write instead
 * of sending.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "alert_sinks.h"

static void test_a_row_for_every_type_named_as_the_config_names_it(void **state)
{
	(void)state;
	assert_string_equal(alert_sink_type_names[ALERT_SINK_AUTO], "auto");
	assert_null(alert_sink_backend(ALERT_SINK_AUTO));
	for (int type = ALERT_SINK_AUTO + 1; type < ALERT_SINK_TYPE_COUNT; type++) {
		const struct alert_sink_backend *row = alert_sink_backend(type);
		assert_non_null(row);
		assert_non_null(alert_sink_type_names[type]);
		assert_string_equal(row->name, alert_sink_type_names[type]);
		assert_int_equal(alert_sink_type_named(row->name), type);
		/* a sink either sends a body over HTTP or writes in process */
		assert_true((row->body != NULL) != (row->write != NULL));
		assert_true((row->body != NULL) == (row->open != NULL));
	}
	assert_null(alert_sink_type_names[ALERT_SINK_TYPE_COUNT]);
	assert_null(alert_sink_backend(ALERT_SINK_TYPE_COUNT));
	assert_int_equal(alert_sink_type_named("auto"), ALERT_SINK_AUTO);
	assert_int_equal(alert_sink_type_named("oncall"), ALERT_SINK_AUTO);
	assert_int_equal(alert_sink_type_named(""), ALERT_SINK_AUTO);
	assert_true(alert_sink_backend(ALERT_SINK_ALERTMANAGER)->resends_firing);
	assert_false(alert_sink_backend(ALERT_SINK_PAGERDUTY)->resends_firing);
}

struct check_case {
	const char *name;
	enum alert_sink_type type;
	const char *url, *routing_key_file, *webhook_url_file;
	const char *want; /* the reason given; NULL: accepted */
};

static const struct check_case check_cases[] = {
        {"pagerduty needs its routing key file", ALERT_SINK_PAGERDUTY, NULL, NULL, NULL,
         "a pagerduty sink needs routing_key_file"},
        {"pagerduty has a default url", ALERT_SINK_PAGERDUTY, NULL, "/k", NULL, NULL},
        {"alertmanager needs a url", ALERT_SINK_ALERTMANAGER, NULL, NULL, NULL,
         "an alertmanager sink needs url"},
        {"alertmanager with a url", ALERT_SINK_ALERTMANAGER, "http://am:9093", NULL, NULL, NULL},
        {"slack needs its url file, not a url", ALERT_SINK_SLACK, "https://hooks.slack.com/x", NULL,
         NULL, "a slack sink needs webhook_url_file (the URL is a secret)"},
        {"slack with its url file", ALERT_SINK_SLACK, NULL, NULL, "/u", NULL},
        {"webhook needs a url", ALERT_SINK_WEBHOOK, NULL, NULL, NULL, "a webhook sink needs url"},
        {"webhook with a url", ALERT_SINK_WEBHOOK, "http://hook", NULL, NULL, NULL},
        {"log needs nothing", ALERT_SINK_LOG, NULL, NULL, NULL, NULL},
};

static void test_each_row_checks_its_required_keys(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(check_cases) / sizeof(check_cases[0]); i++) {
		const struct check_case *c = &check_cases[i];
		struct alert_section section = {.type = c->type};
		section.url = (char *)c->url;
		section.routing_key_file = (char *)c->routing_key_file;
		section.webhook_url_file = (char *)c->webhook_url_file;
		const struct alert_sink_backend *row = alert_sink_backend(c->type);
		const char *key = NULL;
		char why[256] = "";
		int rc = row->check != NULL ? row->check(&section, &key, why, sizeof(why)) : 0;
		if (c->want == NULL && rc != 0)
			fail_msg("%s: refused: %s", c->name, why);
		if (c->want != NULL && (rc != -1 || strcmp(why, c->want) != 0))
			fail_msg("%s: got %d '%s', want '%s'", c->name, rc, why, c->want);
	}
}

struct open_case {
	const char *name;
	enum alert_sink_type type;
	const char *url;
	const char *want_url;
};

static const struct open_case open_cases[] = {
        {"alertmanager: the v2 API under its url", ALERT_SINK_ALERTMANAGER, "http://am:9093",
         "http://am:9093/api/v2/alerts"},
        {"alertmanager: one slash after a url ending in one", ALERT_SINK_ALERTMANAGER,
         "http://am:9093/prefix/", "http://am:9093/prefix/api/v2/alerts"},
        {"webhook: its url as written", ALERT_SINK_WEBHOOK, "https://hook.example/a?b=c",
         "https://hook.example/a?b=c"},
};

static void test_where_each_row_sends(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(open_cases) / sizeof(open_cases[0]); i++) {
		const struct open_case *c = &open_cases[i];
		struct alert_section section = {.type = c->type};
		section.url = (char *)c->url;
		struct alert_sink_target target = {0};
		char why[256] = "";
		if (alert_sink_backend(c->type)->open(&section, &target, why, sizeof(why)) != 0)
			fail_msg("%s: %s", c->name, why);
		if (strcmp(target.url, c->want_url) != 0)
			fail_msg("%s: got %s, want %s", c->name, target.url, c->want_url);
		assert_null(target.routing_key);
		alert_sink_target_free(&target);
		assert_null(target.url);
	}
}

static void test_an_unreadable_secret_names_its_file(void **state)
{
	(void)state;
	struct alert_section pagerduty = {.type = ALERT_SINK_PAGERDUTY};
	pagerduty.routing_key_file = "/nonexistent/pagerduty.key";
	struct alert_section slack = {.type = ALERT_SINK_SLACK};
	slack.webhook_url_file = "/nonexistent/slack.url";
	const struct alert_section *sections[] = {&pagerduty, &slack};
	for (size_t i = 0; i < 2; i++) {
		struct alert_sink_target target = {0};
		char why[256] = "";
		const struct alert_sink_backend *row = alert_sink_backend(sections[i]->type);
		assert_int_equal(row->open(sections[i], &target, why, sizeof(why)), -1);
		assert_non_null(strstr(why, "/nonexistent/"));
		assert_non_null(strstr(why, "No such file"));
		alert_sink_target_free(&target);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_a_row_for_every_type_named_as_the_config_names_it),
	        cmocka_unit_test(test_each_row_checks_its_required_keys),
	        cmocka_unit_test(test_where_each_row_sends),
	        cmocka_unit_test(test_an_unreadable_secret_names_its_file),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
