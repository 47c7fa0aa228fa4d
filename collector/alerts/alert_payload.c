/*
 * Alert request bodies for PagerDuty, Alertmanager, Slack and webhooks.
 */
#include "alert_payload.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "utf8.h"

#define PAGERDUTY_SUMMARY_MAX 1024

/* TEXT as a JSON string of at most MAX_BYTES bytes of well-formed UTF-8. */
static json_t *clean_string(const char *text, size_t max_bytes)
{
	char buffer[4096];
	utf8_clean_copy(text ? text : "", max_bytes, buffer, sizeof(buffer));
	return json_string(buffer);
}

static int set_clean(json_t *object, const char *key, const char *text, size_t max_bytes)
{
	return json_object_set_new(object, key, clean_string(text, max_bytes));
}

void alert_format_time(int64_t unix_ms, char *out, size_t out_len)
{
	time_t seconds = (time_t)(unix_ms / 1000);
	struct tm tm;
	gmtime_r(&seconds, &tm);
	char date[32];
	strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out, out_len, "%s.%03dZ", date, (int)(unix_ms % 1000));
}

json_t *alert_pagerduty_body(const struct alert *alert, const struct pagerduty_fields *fields)
{
	json_t *body = json_object();
	if (body == NULL)
		return NULL;
	int rc = 0;
	rc |= set_clean(body, "routing_key", fields->routing_key, 64);
	rc |= set_clean(body, "dedup_key", alert->dedup_key, ALERT_KEY_LEN - 1);
	if (alert->state == ALERT_RESOLVED) {
		rc |= json_object_set_new(body, "event_action", json_string("resolve"));
		if (rc != 0) {
			json_decref(body);
			return NULL;
		}
		return body;
	}
	rc |= json_object_set_new(body, "event_action", json_string("trigger"));
	json_t *payload = json_object();
	rc |= json_object_set_new(body, "payload", payload);
	if (payload == NULL) {
		json_decref(body);
		return NULL;
	}
	char timestamp[40];
	alert_format_time(alert->at_unix_ms, timestamp, sizeof(timestamp));
	rc |= set_clean(payload, "summary", alert->summary, PAGERDUTY_SUMMARY_MAX);
	rc |= set_clean(payload, "source", fields->source, 255);
	rc |= json_object_set_new(payload, "severity", json_string(severity_name(alert->severity)));
	rc |= json_object_set_new(payload, "timestamp", json_string(timestamp));
	rc |= set_clean(payload, "component", fields->component ? fields->component : "trino", 255);
	rc |= set_clean(payload, "group", alert->cluster, 255);
	rc |= set_clean(payload, "class", alert->rule, 255);
	json_t *details = json_object();
	rc |= json_object_set_new(payload, "custom_details", details);
	if (details != NULL) {
		rc |= set_clean(details, "environment", alert->environment, 255);
		rc |= set_clean(details, "cluster", alert->cluster, 255);
		if (alert->subject[0] != '\0')
			rc |= set_clean(details, "subject", alert->subject, 1024);
		rc |= json_object_set_new(details, "kind",
		                          json_string(alert_state_name(alert->state)));
	}
	rc |= json_object_set_new(body, "client", json_string("trino-guard"));
	if (fields->status_url != NULL && fields->status_url[0] != '\0') {
		rc |= set_clean(body, "client_url", fields->status_url, 2048);
		json_t *link = json_object();
		rc |= json_object_set_new(body, "links", json_pack("[o]", link));
		if (link != NULL) {
			rc |= set_clean(link, "href", fields->status_url, 2048);
			rc |= json_object_set_new(link, "text", json_string("trino-guard status"));
		}
	}
	if (rc != 0 || details == NULL) {
		json_decref(body);
		return NULL;
	}
	return body;
}

json_t *alert_alertmanager_body(const struct alert *alert, int64_t started_unix_ms,
                                const char *generator_url, int64_t event_ttl_ms)
{
	json_t *item = json_object(), *labels = json_object(), *annotations = json_object();
	json_t *array = json_array();
	int rc = (item && labels && annotations && array) ? 0 : -1;
	if (rc == 0) {
		rc |= json_array_append(array, item);
		rc |= json_object_set(item, "labels", labels);
		rc |= json_object_set(item, "annotations", annotations);
		rc |= set_clean(labels, "alertname", alert->rule, 255);
		rc |= set_clean(labels, "environment", alert->environment, 255);
		rc |= set_clean(labels, "cluster", alert->cluster, 255);
		if (alert->subject[0] != '\0')
			rc |= set_clean(labels, "subject", alert->subject, 1024);
		rc |= json_object_set_new(labels, "severity",
		                          json_string(severity_name(alert->severity)));
		rc |= json_object_set_new(labels, "service", json_string("trino-guard"));
		rc |= set_clean(annotations, "summary", alert->summary, 4000);
		rc |= set_clean(annotations, "dedup_key", alert->dedup_key, ALERT_KEY_LEN - 1);
		char when[40];
		alert_format_time(started_unix_ms, when, sizeof(when));
		rc |= json_object_set_new(item, "startsAt", json_string(when));
		if (alert->state != ALERT_FIRING) {
			int64_t ends = alert->state == ALERT_RESOLVED
			                       ? alert->at_unix_ms
			                       : alert->at_unix_ms + event_ttl_ms;
			if (ends < started_unix_ms)
				ends = started_unix_ms; /* Alertmanager refuses an end before the start */
			alert_format_time(ends, when, sizeof(when));
			rc |= json_object_set_new(item, "endsAt", json_string(when));
		}
		if (generator_url != NULL && generator_url[0] != '\0')
			rc |= set_clean(item, "generatorURL", generator_url, 2048);
	}
	json_decref(item);
	json_decref(labels);
	json_decref(annotations);
	if (rc != 0) {
		json_decref(array);
		return NULL;
	}
	return array;
}

json_t *alert_slack_body(const struct alert *alert, const char *status_url)
{
	char text[3000];
	const char *state = alert->state == ALERT_RESOLVED ? "RESOLVED" : "";
	snprintf(text, sizeof(text), "[%s]%s%s %s (%s)%s%s", severity_name(alert->severity),
	         state[0] ? " " : "", state, alert->summary, alert->dedup_key,
	         status_url && *status_url ? " " : "", status_url ? status_url : "");
	json_t *body = json_object();
	if (body == NULL || set_clean(body, "text", text, sizeof(text) - 1) != 0) {
		json_decref(body);
		return NULL;
	}
	return body;
}

json_t *alert_webhook_body(const struct alert *alert, const char *status_url)
{
	json_t *body = json_object();
	if (body == NULL)
		return NULL;
	char when[40];
	alert_format_time(alert->at_unix_ms, when, sizeof(when));
	int rc = 0;
	rc |= set_clean(body, "dedup_key", alert->dedup_key, ALERT_KEY_LEN - 1);
	rc |= json_object_set_new(body, "state", json_string(alert_state_name(alert->state)));
	rc |= json_object_set_new(body, "severity", json_string(severity_name(alert->severity)));
	rc |= set_clean(body, "environment", alert->environment, 255);
	rc |= set_clean(body, "rule", alert->rule, 255);
	rc |= set_clean(body, "cluster", alert->cluster, 255);
	rc |= set_clean(body, "subject", alert->subject, 1024);
	rc |= set_clean(body, "summary", alert->summary, 4000);
	rc |= json_object_set_new(body, "at", json_string(when));
	if (status_url != NULL && status_url[0] != '\0')
		rc |= set_clean(body, "status_url", status_url, 2048);
	if (rc != 0) {
		json_decref(body);
		return NULL;
	}
	return body;
}
