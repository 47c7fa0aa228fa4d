/*
 * The generic webhook sink: every field of the alert as flat JSON, POSTed to
 * url with the section's header.NAME headers (for a token, a team, ...).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alert_payload.h"
#include "alert_sinks.h"

json_t *alert_webhook_body(const struct alert *alert, const struct alert_links *links)
{
	const char *status_url = links != NULL ? links->status_url : NULL;
	char runbook[1024];
	json_t *body = json_object();
	if (body == NULL)
		return NULL;
	char when[40];
	alert_format_time(alert->at_unix_ms, when, sizeof(when));
	int rc = 0;
	rc |= alert_json_set_clean(body, "dedup_key", alert->dedup_key, ALERT_KEY_LEN - 1);
	rc |= json_object_set_new(body, "state", json_string(alert_state_name(alert->state)));
	rc |= json_object_set_new(body, "severity", json_string(severity_name(alert->severity)));
	rc |= alert_json_set_clean(body, "environment", alert->environment, 255);
	rc |= alert_json_set_clean(body, "rule", alert->rule, 255);
	rc |= alert_json_set_clean(body, "cluster", alert->cluster, 255);
	rc |= alert_json_set_clean(body, "subject", alert->subject, 1024);
	rc |= alert_json_set_clean(body, "summary", alert->summary, 4000);
	rc |= json_object_set_new(body, "at", json_string(when));
	if (status_url != NULL && status_url[0] != '\0')
		rc |= alert_json_set_clean(body, "status_url", status_url, 2048);
	if (links != NULL &&
	    alert_runbook_url(links->runbook_base, alert->rule, runbook, sizeof(runbook)))
		rc |= alert_json_set_clean(body, "runbook_url", runbook, 2048);
	if (rc != 0) {
		json_decref(body);
		return NULL;
	}
	return body;
}

static int webhook_check(const struct alert_section *section, const char **key, char *why,
                         size_t why_len)
{
	(void)key;
	if (section->url == NULL) {
		snprintf(why, why_len, "a webhook sink needs url");
		return -1;
	}
	return 0;
}

static int webhook_open(const struct alert_section *section, struct alert_sink_target *out,
                        char *why, size_t why_len)
{
	out->url = section->url != NULL ? strdup(section->url) : NULL;
	if (out->url == NULL) {
		snprintf(why, why_len, "out of memory");
		return -1;
	}
	return 0;
}

static json_t *webhook_body(const struct alert_sink_context *context, const struct alert *alert,
                            int64_t started_unix_ms)
{
	(void)started_unix_ms;
	struct alert_links links = {context->status_url, context->runbook_base};
	return alert_webhook_body(alert, &links);
}

const struct alert_sink_backend alert_sink_webhook = {
        .name = "webhook",
        .check = webhook_check,
        .open = webhook_open,
        .body = webhook_body,
};
