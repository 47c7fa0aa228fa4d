/*
 * The alert model (DESIGN §8): what pagers are told. A finding fires when
 * it opens and resolves when it closes; a cutover action is a one-shot
 * event. Every alert has a dedup key that names what it is about, the same
 * in every sink. Pure.
 */
#ifndef TG_ALERT_H
#define TG_ALERT_H

#include <stdbool.h>
#include <stdint.h>

#include "findings.h"

/* PagerDuty accepts dedup keys of at most 255 bytes. */
#define ALERT_KEY_LEN 256

enum alert_state {
	ALERT_FIRING,
	ALERT_RESOLVED,
	ALERT_EVENT, /* one-shot: an action, never resolved */
};

enum alert_action {
	ALERT_ACTION_CUTOVER,
	ALERT_ACTION_ROLLBACK,
	ALERT_ACTION_ROLLBACK_REFUSED,
	ALERT_ACTION_STABLE,
	ALERT_ACTION_LB_SWITCH_FAILED,
};

struct alert {
	char dedup_key[ALERT_KEY_LEN]; /* trino-guard/<environment>/<rule>/<cluster>[/<subject>] */
	char environment[64];
	char rule[32]; /* the finding's rule ("mixed-version") or the action ("rollback") */
	char cluster[FLEET_CLUSTER_LEN];
	char subject[FLEET_TEXT_LEN]; /* node or config path; "" for the cluster */
	enum severity severity;
	enum alert_state state;
	char summary[1024];
	int64_t at_unix_ms; /* when it opened, closed or happened */
};

/* "firing", "resolved", "event" */
const char *alert_state_name(enum alert_state state);
/* "cutover", "rollback", "rollback-refused", "stable", "lb-switch-failed" */
const char *alert_action_name(enum alert_action action);

/* Parses "critical", "error", "warning" or "info". 0, or -1 for anything else. */
int severity_parse(const char *text, enum severity *out);

/* The alert for FINDING in ENVIRONMENT, firing or resolved at AT_UNIX_MS. */
void alert_from_finding(const char *environment, const struct finding *finding,
                        enum alert_state state, int64_t at_unix_ms, struct alert *out);

/*
 * The one-shot event for ACTION on CLUSTER (the cluster the action is about:
 * the one cut over to, rolled back from, refused, found stable, or switched
 * to) with the one-line REASON.
 */
void alert_from_action(const char *environment, enum alert_action action, const char *cluster,
                       const char *reason, int64_t at_unix_ms, struct alert *out);

#endif
