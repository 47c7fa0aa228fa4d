/*
 * The PagerDuty sink: Events API v2 (reference: protocols.md §2). A finding
 * triggers and resolves one incident under its dedup key; an event triggers
 * one. The routing key is a secret, read from routing_key_file.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alert_payload.h"
#include "alert_sinks.h"
#include "secret_file.h"

#define PAGERDUTY_EVENTS_URL  "https://events.pagerduty.com/v2/enqueue"
#define PAGERDUTY_SUMMARY_MAX 1024

json_t *alert_pagerduty_body(const struct alert *alert, const struct pagerduty_fields *fields)
{
	json_t *body = json_object();
	if (body == NULL)
		return NULL;
	int rc = 0;
	rc |= alert_json_set_clean(body, "routing_key", fields->routing_key, 64);
	rc |= alert_json_set_clean(body, "dedup_key", alert->dedup_key, ALERT_KEY_LEN - 1);
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
	rc |= alert_json_set_clean(payload, "summary", alert->summary, PAGERDUTY_SUMMARY_MAX);
	rc |= alert_json_set_clean(payload, "source", fields->source, 255);
	rc |= json_object_set_new(payload, "severity", json_string(severity_name(alert->severity)));
	rc |= json_object_set_new(payload, "timestamp", json_string(timestamp));
	rc |= alert_json_set_clean(payload, "component",
	                           fields->component ? fields->component : "trino", 255);
	rc |= alert_json_set_clean(payload, "group", alert->cluster, 255);
	rc |= alert_json_set_clean(payload, "class", alert->rule, 255);
	json_t *details = json_object();
	rc |= json_object_set_new(payload, "custom_details", details);
	if (details != NULL) {
		rc |= alert_json_set_clean(details, "environment", alert->environment, 255);
		rc |= alert_json_set_clean(details, "cluster", alert->cluster, 255);
		if (alert->subject[0] != '\0')
			rc |= alert_json_set_clean(details, "subject", alert->subject, 1024);
		rc |= json_object_set_new(details, "kind",
		                          json_string(alert_state_name(alert->state)));
	}
	rc |= json_object_set_new(body, "client", json_string("trino-guard"));
	if (fields->status_url != NULL && fields->status_url[0] != '\0') {
		rc |= alert_json_set_clean(body, "client_url", fields->status_url, 2048);
		json_t *link = json_object();
		rc |= json_object_set_new(body, "links", json_pack("[o]", link));
		if (link != NULL) {
			rc |= alert_json_set_clean(link, "href", fields->status_url, 2048);
			rc |= json_object_set_new(link, "text", json_string("trino-guard status"));
		}
	}
	if (rc != 0 || details == NULL) {
		json_decref(body);
		return NULL;
	}
	return body;
}

static int pagerduty_check(const struct alert_section *section, const char **key, char *why,
                           size_t why_len)
{
	(void)key;
	if (section->routing_key_file == NULL) {
		snprintf(why, why_len, "a pagerduty sink needs routing_key_file");
		return -1;
	}
	return 0;
}

static int pagerduty_open(const struct alert_section *section, struct alert_sink_target *out,
                          char *why, size_t why_len)
{
	out->routing_key = secret_file_read(section->routing_key_file, why, why_len);
	if (out->routing_key == NULL)
		return -1;
	out->url = strdup(section->url != NULL ? section->url : PAGERDUTY_EVENTS_URL);
	if (out->url == NULL) {
		snprintf(why, why_len, "out of memory");
		return -1;
	}
	return 0;
}

static json_t *pagerduty_body(const struct alert_sink_context *context, const struct alert *alert,
                              int64_t started_unix_ms)
{
	(void)started_unix_ms; /* an incident has its own start */
	const struct alert_section *s = context->settings;
	struct pagerduty_fields fields = {
	        .routing_key = context->target->routing_key,
	        .source = s->source != NULL ? s->source : context->host_name,
	        .component = s->component,
	        .status_url = context->status_url,
	};
	return alert_pagerduty_body(alert, &fields);
}

const struct alert_sink_backend alert_sink_pagerduty = {
        .name = "pagerduty",
        .check = pagerduty_check,
        .open = pagerduty_open,
        .body = pagerduty_body,
};
