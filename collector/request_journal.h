/*
 * What the journal and the API say of an operator's request: who asked,
 * what, why, and the outcome ("refused: ..."), so `trino-guardctl events`
 * answers "who moved users, and what did the collector do about it".
 */
#ifndef TG_REQUEST_JOURNAL_H
#define TG_REQUEST_JOURNAL_H

#include <jansson.h>

#include "cutover.h"
#include "gate.h"

/* "cutover", "rollback", "pause", "resume", "confirm-switch". */
const char *request_name(enum cutover_event_kind kind);

/* "refused", "accepted" or "done", by the answer's HTTP STATUS. */
const char *request_outcome(int status);

/*
 * The journal's "request" event (a new object): EVENT's request, cluster,
 * force and reason, BY (who asked, "" when NULL), and RESULT's status and
 * outcome ("refused: <why>"); GATE's failing checks when not NULL.
 */
json_t *request_journal_event(const struct cutover_event *event, const char *by,
                              const struct cutover_result *result, const struct gate_result *gate);

/* The API's answer (a new object): the message, the phase and active cluster of STATE,
 * GATE's failing checks when not NULL, and "error" when refused. */
json_t *request_answer_json(const struct cutover_result *result, const struct cutover_state *state,
                            const struct gate_result *gate);

#endif
