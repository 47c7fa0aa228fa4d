/*
 * The log sink: every alert as one line in the collector's log, at once (no
 * spool, no network): for a first setup, a demo, or a journald-based pager.
 */
#include "alert_sinks.h"
#include "log.h"

static void log_write(const struct alert *alert)
{
	enum log_level level = alert->state == ALERT_RESOLVED      ? LOG_LEVEL_INFO
	                       : alert->severity >= SEVERITY_ERROR ? LOG_LEVEL_ERROR
	                                                           : LOG_LEVEL_WARN;
	log_msg(level, "alert %s [%s] %s: %s", alert_state_name(alert->state),
	        severity_name(alert->severity), alert->dedup_key, alert->summary);
}

const struct alert_sink_backend alert_sink_log = {
        .name = "log",
        .write = log_write,
};
