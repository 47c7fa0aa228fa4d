/*
 * The PagerDuty sink: Events API v2 (reference: protocols.md §2). A finding
 * triggers and resolves one incident under its dedup key; an event triggers
 * one (a rollback's two events share one key: one incident); a change
 * (cutover, stable, external-cutover, pause, resume) is a Change Event, sent
 * to /v2/change/enqueue on the same host, which opens no incident. The
 * routing key is a secret, read from routing_key_file: it is not in the
 * spooled body, but put in at each send, so a rotated key (a restart with a
 * new file) applies to alerts queued before.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alert_payload.h"
#include "alert_sinks.h"
#include "secret_file.h"

#define PAGERDUTY_EVENTS_URL  "https://events.pagerduty.com/v2/enqueue"
#define PAGERDUTY_SUMMARY_MAX 1024
#define PAGERDUTY_ENQUEUE     "/v2/enqueue"
#define PAGERDUTY_CHANGE      "/v2/change/enqueue"

/* links: the collector's status and the rule's runbook, those that are set. 0, or -1. */
static int set_links(json_t *body, json_t *details, const struct alert *alert,
                     const struct alert_links *links)
{
	json_t *list = json_array();
	int rc = list != NULL ? 0 : -1;
	char runbook[1024];
	if (list != NULL && links->status_url != NULL && links->status_url[0] != '\0')
		rc |= json_array_append_new(list, json_pack("{s:s,s:s}", "href", links->status_url,
		                                            "text", "trino-guard status"));
	if (list != NULL &&
	    alert_runbook_url(links->runbook_base, alert->rule, runbook, sizeof(runbook))) {
		rc |= json_array_append_new(
		        list, json_pack("{s:s,s:s}", "href", runbook, "text", "runbook"));
		rc |= alert_json_set_clean(details, "runbook_url", runbook, 2048);
	}
	rc |= json_object_set_new(body, "links", list);
	return rc;
}

/* A Change Event: what changed, when and where; no dedup key, no severity. */
static json_t *change_body(const struct alert *alert, const struct pagerduty_fields *fields)
{
	json_t *body = json_object(), *payload = json_object(), *details = json_object();
	int rc = body && payload && details ? 0 : -1;
	char timestamp[40];
	alert_format_time(alert->at_unix_ms, timestamp, sizeof(timestamp));
	rc |= alert_json_set_clean(body, "routing_key", fields->routing_key, 64);
	rc |= json_object_set(body, "payload", payload);
	rc |= alert_json_set_clean(payload, "summary", alert->summary, PAGERDUTY_SUMMARY_MAX);
	rc |= alert_json_set_clean(payload, "source", fields->source, 255);
	rc |= json_object_set_new(payload, "timestamp", json_string(timestamp));
	rc |= json_object_set(payload, "custom_details", details);
	rc |= alert_json_set_clean(details, "environment", alert->environment, 255);
	rc |= alert_json_set_clean(details, "cluster", alert->cluster, 255);
	rc |= alert_json_set_clean(details, "change", alert->rule, 255);
	rc |= set_links(body, details, alert, &fields->links);
	json_decref(payload);
	json_decref(details);
	if (rc != 0) {
		json_decref(body);
		return NULL;
	}
	return body;
}

json_t *alert_pagerduty_body(const struct alert *alert, const struct pagerduty_fields *fields)
{
	if (alert_is_change(alert))
		return change_body(alert, fields);
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
	const char *status_url = fields->links.status_url;
	if (status_url != NULL && status_url[0] != '\0')
		rc |= alert_json_set_clean(body, "client_url", status_url, 2048);
	if (details != NULL)
		rc |= set_links(body, details, alert, &fields->links);
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
	/* Change Events go to the same host: .../v2/enqueue -> .../v2/change/enqueue */
	size_t len = out->url != NULL ? strlen(out->url) : 0, tail = strlen(PAGERDUTY_ENQUEUE);
	if (out->url != NULL) {
		size_t base = len >= tail && strcmp(out->url + len - tail, PAGERDUTY_ENQUEUE) == 0
		                      ? len - tail
		                      : len;
		out->change_url = malloc(base + strlen(PAGERDUTY_CHANGE) + 1);
		if (out->change_url != NULL)
			snprintf(out->change_url, base + strlen(PAGERDUTY_CHANGE) + 1, "%.*s%s",
			         (int)base, out->url, PAGERDUTY_CHANGE);
	}
	if (out->url == NULL || out->change_url == NULL) {
		snprintf(why, why_len, "out of memory");
		return -1;
	}
	return 0;
}

/* A Change Event has no event_action; every other body has one. */
static const char *pagerduty_url_for(const struct alert_sink_target *target, const char *body)
{
	json_t *parsed = json_loads(body, 0, NULL);
	bool change = parsed != NULL && json_object_get(parsed, "event_action") == NULL;
	json_decref(parsed);
	return change ? target->change_url : target->url;
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
	        .links = {context->status_url, context->runbook_base},
	};
	json_t *body = alert_pagerduty_body(alert, &fields);
	/* the spool keeps no secret: pagerduty_sendable() puts the key in */
	json_object_del(body, "routing_key");
	return body;
}

/*
 * The spooled body with today's routing key. A spool written before the key
 * left the spool has one in each body: it is replaced, since the old key may
 * be the revoked one. A body that is no JSON object goes as it is (the
 * pager refuses it, and the refusal is journaled).
 */
static char *pagerduty_sendable(const struct alert_sink_target *target, const char *body)
{
	json_t *parsed = json_loads(body, 0, NULL);
	if (!json_is_object(parsed)) {
		json_decref(parsed);
		return strdup(body);
	}
	char *text = NULL;
	if (json_object_set_new(parsed, "routing_key", json_string(target->routing_key)) == 0)
		text = json_dumps(parsed, JSON_COMPACT);
	json_decref(parsed);
	return text;
}

const struct alert_sink_backend alert_sink_pagerduty = {
        .name = "pagerduty",
        .check = pagerduty_check,
        .open = pagerduty_open,
        .body = pagerduty_body,
        .url_for = pagerduty_url_for,
        .sendable = pagerduty_sendable,
        .takes_changes = true,
};
