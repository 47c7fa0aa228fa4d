/*
 * The alert sink types, as a table (docs/DESIGN.md §8): each type is one file,
 * sink_NAME.c, exporting one row that says which keys its [alert.NAME]
 * section needs, how it reaches its receiver and what it sends. The config
 * check and the alert feed look the row up; adding a type is a file and a
 * row.
 */
#ifndef TG_ALERT_SINKS_H
#define TG_ALERT_SINKS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alert.h"
#include "collector_config.h"

enum alert_sink_type {
	ALERT_SINK_AUTO, /* from the section's name */
	ALERT_SINK_PAGERDUTY,
	ALERT_SINK_ALERTMANAGER,
	ALERT_SINK_SLACK,
	ALERT_SINK_WEBHOOK,
	ALERT_SINK_LOG,
	ALERT_SINK_TYPE_COUNT
};

/*
 * [alert.NAME] type: "auto", "pagerduty", ...: indexed by enum
 * alert_sink_type, NULL-terminated (the config choice). Each row's name is
 * its entry here.
 */
extern const char *const alert_sink_type_names[];

/* Where a sink sends, read at start: both are wiped when freed (secret_free). */
struct alert_sink_target {
	char *url;         /* where to POST; a secret for slack */
	char *routing_key; /* pagerduty */
	char *change_url;  /* pagerduty: Change Events */
};

/* What a body may use besides the alert. Borrowed. */
struct alert_sink_context {
	const struct alert_section *settings;
	const struct alert_sink_target *target;
	const char *host_name; /* the collector's, for PagerDuty's payload.source */
	const char
	        *status_url; /* the collector's /v1/status; NULL when [api] public_url is unset */
	const char *runbook_base; /* [alerts] runbook_url; NULL when unset */
};

struct alert_sink_backend {
	const char *name; /* alert_sink_type_names[its type] */
	/*
	 * The keys its [alert.NAME] section must have (the keys every section
	 * may have are checked by the caller). 0, or -1 with WHY and the key to
	 * blame in *KEY (left NULL: the section's line). NULL: none needed.
	 */
	int (*check)(const struct alert_section *section, const char **key, char *why,
	             size_t why_len);
	/*
	 * Fills OUT from SECTION: reads the secret files, builds the URL. 0, or
	 * -1 with WHY (a path and a reason, never a secret). NULL for a sink
	 * that sends nothing over HTTP.
	 */
	int (*open)(const struct alert_section *section, struct alert_sink_target *out, char *why,
	            size_t why_len);
	/*
	 * The request body for ALERT, which first fired at STARTED_UNIX_MS (for
	 * an event or a first firing: its own time). New reference, or NULL
	 * when out of memory. NULL for a sink that writes instead.
	 */
	json_t *(*body)(const struct alert_sink_context *context, const struct alert *alert,
	                int64_t started_unix_ms);
	/* Delivers ALERT in process, at once (no spool, no HTTP). NULL for HTTP sinks. */
	void (*write)(const struct alert *alert);
	bool resends_firing; /* sends the firing set again every `resend` (Alertmanager) */
	/*
	 * Where to POST BODY (one of this sink's); NULL: always target->url.
	 * Borrowed from TARGET.
	 */
	const char *(*url_for)(const struct alert_sink_target *target, const char *body);
	/*
	 * The body to send for the spooled BODY, with the secrets a spool must
	 * not keep (PagerDuty's routing key) added from TARGET as it is now, so a
	 * rotated key applies to what was queued before. A new string (the caller
	 * wipes and frees it), or NULL when out of memory. NULL: BODY as spooled.
	 */
	char *(*sendable)(const struct alert_sink_target *target, const char *body);
	/* Takes changes (alert_is_change) whatever its min_severity: they page nobody. */
	bool takes_changes;
};

extern const struct alert_sink_backend alert_sink_pagerduty;
extern const struct alert_sink_backend alert_sink_alertmanager;
extern const struct alert_sink_backend alert_sink_slack;
extern const struct alert_sink_backend alert_sink_webhook;
extern const struct alert_sink_backend alert_sink_log;

/* The row of TYPE; NULL for ALERT_SINK_AUTO and anything out of range. */
const struct alert_sink_backend *alert_sink_backend(enum alert_sink_type type);

/* The type whose name is NAME ("pagerduty"); ALERT_SINK_AUTO when none is. */
enum alert_sink_type alert_sink_type_named(const char *name);

/* Frees what open() read; TARGET is zeroed. */
void alert_sink_target_free(struct alert_sink_target *target);

#endif
