/*
 * The table of alert sink types, indexed by enum alert_sink_type, and the
 * look-ups the config check and the alert feed use.
 */
#include "alert_sinks.h"

#include <string.h>

#include "secret_file.h"

#define COUNT_OF(array) (sizeof(array) / sizeof((array)[0]))

const char *const alert_sink_type_names[] = {
        [ALERT_SINK_AUTO] = "auto",
        [ALERT_SINK_PAGERDUTY] = "pagerduty",
        [ALERT_SINK_ALERTMANAGER] = "alertmanager",
        [ALERT_SINK_SLACK] = "slack",
        [ALERT_SINK_WEBHOOK] = "webhook",
        [ALERT_SINK_LOG] = "log",
        NULL,
};
_Static_assert(COUNT_OF(alert_sink_type_names) == ALERT_SINK_TYPE_COUNT + 1,
               "one name per enum alert_sink_type");

static const struct alert_sink_backend *const backends[] = {
        [ALERT_SINK_AUTO] = NULL, /* resolved to a type when the config is checked */
        [ALERT_SINK_PAGERDUTY] = &alert_sink_pagerduty,
        [ALERT_SINK_ALERTMANAGER] = &alert_sink_alertmanager,
        [ALERT_SINK_SLACK] = &alert_sink_slack,
        [ALERT_SINK_WEBHOOK] = &alert_sink_webhook,
        [ALERT_SINK_LOG] = &alert_sink_log,
};
_Static_assert(COUNT_OF(backends) == ALERT_SINK_TYPE_COUNT, "one row per enum alert_sink_type");

const struct alert_sink_backend *alert_sink_backend(enum alert_sink_type type)
{
	return (unsigned)type < ALERT_SINK_TYPE_COUNT ? backends[type] : NULL;
}

enum alert_sink_type alert_sink_type_named(const char *name)
{
	for (int type = ALERT_SINK_AUTO + 1; type < ALERT_SINK_TYPE_COUNT; type++) {
		if (strcmp(name, backends[type]->name) == 0)
			return (enum alert_sink_type)type;
	}
	return ALERT_SINK_AUTO;
}

void alert_sink_target_free(struct alert_sink_target *target)
{
	secret_free(target->url);
	secret_free(target->routing_key);
	secret_free(target->change_url);
	target->url = NULL;
	target->routing_key = NULL;
	target->change_url = NULL;
}
