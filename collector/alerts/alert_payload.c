/*
 * What every sink's body is made of: text cleaned to UTF-8 within a limit,
 * and times the way the receivers read them. The bodies are in sink_*.c.
 */
#include "alert_payload.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "utf8.h"

/* TEXT as a JSON string of at most MAX_BYTES bytes of well-formed UTF-8. */
static json_t *clean_string(const char *text, size_t max_bytes)
{
	char buffer[4096];
	utf8_clean_copy(text ? text : "", max_bytes, buffer, sizeof(buffer));
	return json_string(buffer);
}

int alert_json_set_clean(json_t *object, const char *key, const char *text, size_t max_bytes)
{
	return json_object_set_new(object, key, clean_string(text, max_bytes));
}

bool alert_runbook_url(const char *base, const char *rule, char *out, size_t out_len)
{
	out[0] = '\0';
	if (base == NULL || base[0] == '\0')
		return false;
	/* the README's runbook has a section per finding rule, one for a rollback
	 * and one for the changes it records (README: Runbook) */
	static const char *const rollbacks[] = {
	        "rollback",      "rolled-back",       "rollback-over",   "rollback-refused",
	        "rollback-held", "external-rollback", "rollback-resumed"};
	static const char *const changes[] = {
	        "cutover",         "cutover-held", "cutover-called-off", "cutover-interrupted",
	        "cutover-resumed", "stable",       "external-cutover",   "pause",
	        "resume"};
	const char *anchor = rule;
	for (size_t i = 0; i < sizeof(rollbacks) / sizeof(rollbacks[0]); i++)
		if (strcmp(rule, rollbacks[i]) == 0)
			anchor = "rollback";
	for (size_t i = 0; i < sizeof(changes) / sizeof(changes[0]); i++)
		if (strcmp(rule, changes[i]) == 0)
			anchor = "cutovers-and-changes";
	snprintf(out, out_len, "%s#%s", base, anchor);
	return true;
}

void alert_format_time(int64_t unix_ms, char *out, size_t out_len)
{
	time_t seconds = (time_t)(unix_ms / 1000);
	struct tm tm;
	char date[32];
	if (gmtime_r(&seconds, &tm) == NULL ||
	    strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm) == 0)
		snprintf(date, sizeof(date), "1970-01-01T00:00:00"); /* a year past 9999 */
	snprintf(out, out_len, "%s.%03dZ", date, (int)(unix_ms % 1000));
}
