/*
 * The Alertmanager sink: API v2 (POST /api/v2/alerts). Alertmanager forgets
 * an alert that is not sent again within its resolve_timeout, so the firing
 * set is re-sent every `resend`; an event shows for EVENT_TTL_MS and then
 * resolves by itself.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alert_payload.h"
#include "alert_sinks.h"

#define EVENT_TTL_MS 300000 /* how long an event shows in Alertmanager */

json_t *alert_alertmanager_body(const struct alert *alert, int64_t started_unix_ms,
                                const struct alert_links *links, int64_t event_ttl_ms)
{
	const char *generator_url = links != NULL ? links->status_url : NULL;
	char runbook[1024];
	bool has_runbook = links != NULL && alert_runbook_url(links->runbook_base, alert->rule,
	                                                      runbook, sizeof(runbook));
	json_t *item = json_object(), *labels = json_object(), *annotations = json_object();
	json_t *array = json_array();
	int rc = (item && labels && annotations && array) ? 0 : -1;
	if (rc == 0) {
		rc |= json_array_append(array, item);
		rc |= json_object_set(item, "labels", labels);
		rc |= json_object_set(item, "annotations", annotations);
		rc |= alert_json_set_clean(labels, "alertname", alert->rule, 255);
		rc |= alert_json_set_clean(labels, "environment", alert->environment, 255);
		rc |= alert_json_set_clean(labels, "cluster", alert->cluster, 255);
		if (alert->subject[0] != '\0')
			rc |= alert_json_set_clean(labels, "subject", alert->subject, 1024);
		rc |= json_object_set_new(labels, "severity",
		                          json_string(severity_name(alert->severity)));
		rc |= json_object_set_new(labels, "service", json_string("trino-guard"));
		rc |= alert_json_set_clean(annotations, "summary", alert->summary, 4000);
		rc |= alert_json_set_clean(annotations, "dedup_key", alert->dedup_key,
		                           ALERT_KEY_LEN - 1);
		if (has_runbook)
			rc |= alert_json_set_clean(annotations, "runbook_url", runbook, 2048);
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
			rc |= alert_json_set_clean(item, "generatorURL", generator_url, 2048);
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

static int alertmanager_check(const struct alert_section *section, const char **key, char *why,
                              size_t why_len)
{
	(void)key;
	if (section->url == NULL) {
		snprintf(why, why_len, "an alertmanager sink needs url");
		return -1;
	}
	return 0;
}

/* URL + "/api/v2/alerts", with one slash between. */
static int alertmanager_open(const struct alert_section *section, struct alert_sink_target *out,
                             char *why, size_t why_len)
{
	const char *base = section->url != NULL ? section->url : "";
	size_t len = strlen(base) + 32;
	out->url = malloc(len);
	if (out->url == NULL) {
		snprintf(why, why_len, "out of memory");
		return -1;
	}
	const char *slash = base[0] != '\0' && base[strlen(base) - 1] == '/' ? "" : "/";
	snprintf(out->url, len, "%s%sapi/v2/alerts", base, slash);
	return 0;
}

static json_t *alertmanager_body(const struct alert_sink_context *context,
                                 const struct alert *alert, int64_t started_unix_ms)
{
	struct alert_links links = {context->status_url, context->runbook_base};
	return alert_alertmanager_body(alert, started_unix_ms, &links, EVENT_TTL_MS);
}

const struct alert_sink_backend alert_sink_alertmanager = {
        .name = "alertmanager",
        .check = alertmanager_check,
        .open = alertmanager_open,
        .body = alertmanager_body,
        .resends_firing = true,
};
