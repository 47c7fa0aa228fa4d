/*
 * The Slack sink: an incoming webhook. Its URL is the secret (whoever has it
 * may post to the channel), so it is read from webhook_url_file and never
 * logged.
 */
#include <stdio.h>
#include <string.h>

#include "alert_payload.h"
#include "alert_sinks.h"
#include "secret_file.h"

json_t *alert_slack_body(const struct alert *alert, const struct alert_links *links)
{
	char text[3000], runbook[1024];
	const char *state = alert->state == ALERT_RESOLVED ? "RESOLVED" : "";
	const char *status_url = links != NULL ? links->status_url : NULL;
	bool has_runbook = links != NULL && alert_runbook_url(links->runbook_base, alert->rule,
	                                                      runbook, sizeof(runbook));
	snprintf(text, sizeof(text), "[%s]%s%s %s (%s)%s%s%s%s", severity_name(alert->severity),
	         state[0] ? " " : "", state, alert->summary, alert->dedup_key,
	         status_url && *status_url ? " " : "", status_url ? status_url : "",
	         has_runbook ? " runbook: " : "", has_runbook ? runbook : "");
	json_t *body = json_object();
	if (body == NULL || alert_json_set_clean(body, "text", text, sizeof(text) - 1) != 0) {
		json_decref(body);
		return NULL;
	}
	return body;
}

static int slack_check(const struct alert_section *section, const char **key, char *why,
                       size_t why_len)
{
	(void)key;
	if (section->webhook_url_file == NULL) {
		snprintf(why, why_len, "a slack sink needs webhook_url_file (the URL is a secret)");
		return -1;
	}
	return 0;
}

static int slack_open(const struct alert_section *section, struct alert_sink_target *out, char *why,
                      size_t why_len)
{
	out->url = secret_file_read(section->webhook_url_file, why, why_len);
	return out->url != NULL ? 0 : -1;
}

static json_t *slack_body(const struct alert_sink_context *context, const struct alert *alert,
                          int64_t started_unix_ms)
{
	(void)started_unix_ms;
	struct alert_links links = {context->status_url, context->runbook_base};
	return alert_slack_body(alert, &links);
}

const struct alert_sink_backend alert_sink_slack = {
        .name = "slack",
        .check = slack_check,
        .open = slack_open,
        .body = slack_body,
};
