/*
 * The alert model (docs/DESIGN.md §8): what pagers are told. A finding fires when
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

/*
 * True for the events that record a change rather than a problem (cutover,
 * stable, external-cutover, pause, resume): PagerDuty's Change Events, not
 * incidents.
 */
bool alert_is_change(const struct alert *alert);

/* "firing", "resolved", "event" */
const char *alert_state_name(enum alert_state state);

/* Parses "critical", "error", "warning" or "info". 0, or -1 for anything else. */
int severity_parse(const char *text, enum severity *out);

/* The alert for FINDING in ENVIRONMENT, firing or resolved at AT_UNIX_MS. */
void alert_from_finding(const char *environment, const struct finding *finding,
                        enum alert_state state, int64_t at_unix_ms, struct alert *out);

/*
 * The one-shot event NAME ("cutover", "rollback", "rollback-refused",
 * "stable", "lb-switch-failed", ... as the cutover state machine names its
 * alerts) about CLUSTER, with its SEVERITY and one-line SUMMARY. A rollback
 * is one incident: "rollback" and "rolled-back" share the key
 * rollback/CLUSTER, and "rollback-over" (the next cutover starts) resolves it.
 */
void alert_from_event(const char *environment, const char *name, enum severity severity,
                      const char *cluster, const char *summary, int64_t at_unix_ms,
                      struct alert *out);

#endif
