/*
 * The request bodies each alert sink sends (reference: protocols.md §2):
 * PagerDuty Events API v2, Alertmanager API v2, Slack incoming webhooks and
 * our generic webhook, each built in its sink's file (sink_pagerduty.c, ...).
 * Every string is cleaned to well-formed UTF-8 and cut to the sink's limit
 * before it goes into JSON, since jansson refuses invalid UTF-8 and an alert
 * must never be dropped for its text.
 */
#ifndef TG_ALERT_PAYLOAD_H
#define TG_ALERT_PAYLOAD_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "alert.h"

/* Where an alert links to; each NULL for none. */
struct alert_links {
	const char *status_url;   /* the collector's /v1/status */
	const char *runbook_base; /* the README's runbook: "#<anchor>" is added per rule */
};

/* The runbook section of RULE under BASE into OUT; false (OUT "") without a BASE. */
bool alert_runbook_url(const char *base, const char *rule, char *out, size_t out_len);

struct pagerduty_fields {
	const char *routing_key;
	const char *source;    /* the collector's host name */
	const char *component; /* "trino" when NULL */
	struct alert_links links;
};

/*
 * The Events v2 body: "trigger" for a firing alert or an event (summary cut
 * to 1024 bytes), "resolve" with only the key for a resolved one; a change
 * (alert_is_change) is a Change Event instead, for /v2/change/enqueue. The
 * status and the runbook are in links and custom_details. New reference, or
 * NULL when out of memory.
 */
json_t *alert_pagerduty_body(const struct alert *alert, const struct pagerduty_fields *fields);

/*
 * The Alertmanager body: an array with one alert. Labels: alertname (the
 * rule), environment, cluster, subject (when there is one), severity,
 * service="trino-guard"; annotations: summary, dedup_key, runbook_url. A resolved alert
 * carries endsAt = when it closed; an event ends EVENT_TTL_MS after it
 * happened, so it shows for a while and then resolves by itself.
 */
json_t *alert_alertmanager_body(const struct alert *alert, int64_t started_unix_ms,
                                const struct alert_links *links, int64_t event_ttl_ms);

/* The Slack body: {"text": "..."} with the severity, the summary, the key and the links. */
json_t *alert_slack_body(const struct alert *alert, const struct alert_links *links);

/* Our generic webhook body: every field of the alert, flat, and the links. */
json_t *alert_webhook_body(const struct alert *alert, const struct alert_links *links);

/* Sets KEY of OBJECT to TEXT cleaned to at most MAX_BYTES bytes of UTF-8. 0, or -1. */
int alert_json_set_clean(json_t *object, const char *key, const char *text, size_t max_bytes);

/* RFC 3339 UTC with milliseconds, "2026-11-24T19:00:00.000Z", into OUT (>= 25 bytes). */
void alert_format_time(int64_t unix_ms, char *out, size_t out_len);

#endif
