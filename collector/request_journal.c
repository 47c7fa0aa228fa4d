/*
 * The journal's record of a request and the API's answer to it, built from
 * the state machine's decision (rules/cutover.h) and the gate's checks.
 */
#include "request_journal.h"

#include <stdio.h>

const char *request_name(enum cutover_event_kind kind)
{
	switch (kind) {
	case EVENT_CUTOVER:
		return "cutover";
	case EVENT_ROLLBACK:
		return "rollback";
	case EVENT_PAUSE:
		return "pause";
	case EVENT_RESUME:
		return "resume";
	case EVENT_CONFIRM:
		return "confirm-switch";
	default:
		return "?";
	}
}

const char *request_outcome(int status)
{
	return status >= 400 ? "refused" : status == 202 ? "accepted" : "done";
}

static json_t *checks_json(const struct gate_result *gate)
{
	json_t *checks = json_array();
	for (size_t i = 0; checks != NULL && i < gate->failed_count; i++)
		json_array_append_new(checks, json_string(gate->failed[i]));
	return checks;
}

json_t *request_journal_event(const struct cutover_event *event, const char *by,
                              const struct cutover_result *result, const struct gate_result *gate)
{
	char outcome[CUTOVER_TEXT_LEN + 16];
	snprintf(outcome, sizeof(outcome), "%s: %s", request_outcome(result->status),
	         result->answer);
	json_t *out = json_pack("{s:s,s:s,s:s,s:b,s:s,s:s,s:i,s:s}", "type", "request", "request",
	                        request_name(event->kind), "cluster", event->cluster, "force",
	                        event->force, "reason", event->text, "by", by != NULL ? by : "",
	                        "status", result->status, "outcome", outcome);
	if (out != NULL && gate != NULL)
		json_object_set_new(out, "failed_checks", checks_json(gate));
	return out;
}

json_t *request_answer_json(const struct cutover_result *result, const struct cutover_state *state,
                            const struct gate_result *gate)
{
	json_t *answer = json_pack("{s:s,s:s,s:s}", "message", result->answer, "phase",
	                           cutover_phase_name(state->phase), "active", state->active);
	if (answer == NULL)
		return NULL;
	if (gate != NULL)
		json_object_set_new(answer, "failed_checks", checks_json(gate));
	if (result->status >= 400)
		json_object_set_new(answer, "error", json_string(result->answer));
	return answer;
}
