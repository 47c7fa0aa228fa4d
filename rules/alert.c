/*
 * Building alerts from findings and cutover actions: dedup keys, severities
 * and summaries.
 */
#include "alert.h"

#include <stdio.h>
#include <string.h>

#include "summary.h"

static const char *const state_names[] = {
        [ALERT_FIRING] = "firing",
        [ALERT_RESOLVED] = "resolved",
        [ALERT_EVENT] = "event",
};

const char *alert_state_name(enum alert_state state)
{
	return state_names[state];
}

int severity_parse(const char *text, enum severity *out)
{
	for (int severity = 0; severity < SEVERITY_COUNT; severity++) {
		if (strcmp(text, severity_names[severity]) == 0) {
			*out = (enum severity)severity;
			return 0;
		}
	}
	return -1;
}

static uint64_t fnv1a(const char *text)
{
	uint64_t hash = 14695981039346656037ULL;
	for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
		hash ^= *p;
		hash *= 1099511628211ULL;
	}
	return hash;
}

/*
 * "trino-guard/<environment>/<tail>". A key longer than PagerDuty allows
 * keeps its start, cut at a character boundary, and ends in a hash of the
 * whole key, so two long keys that share a start stay apart.
 */
static void make_key(const char *environment, const char *tail, char *out)
{
	char whole[1024];
	int len = snprintf(whole, sizeof(whole), "trino-guard/%s/%s", environment, tail);
	if (len >= 0 && (size_t)len < ALERT_KEY_LEN) {
		memcpy(out, whole, (size_t)len + 1);
		return;
	}
	char suffix[18];
	snprintf(suffix, sizeof(suffix), "#%016llx", (unsigned long long)fnv1a(whole));
	size_t keep = ALERT_KEY_LEN - 1 - strlen(suffix);
	while (keep > 0 && ((unsigned char)whole[keep] & 0xC0) == 0x80)
		keep--; /* never split a UTF-8 sequence */
	/* NOLINTNEXTLINE(bugprone-not-null-terminated-result): the suffix's NUL ends it */
	memcpy(out, whole, keep);
	memcpy(out + keep, suffix, strlen(suffix) + 1);
}

static void copy(char *out, size_t out_size, const char *text)
{
	snprintf(out, out_size, "%s", text ? text : "");
}

void alert_from_finding(const char *environment, const struct finding *finding,
                        enum alert_state state, int64_t at_unix_ms, struct alert *out)
{
	memset(out, 0, sizeof(*out));
	make_key(environment, finding->key, out->dedup_key);
	copy(out->environment, sizeof(out->environment), environment);
	copy(out->rule, sizeof(out->rule), finding_kind_name(finding->kind));
	copy(out->cluster, sizeof(out->cluster), finding->cluster);
	copy(out->subject, sizeof(out->subject), finding->subject);
	out->severity = finding->severity;
	out->state = state;
	char whole[sizeof(finding->summary) + 16];
	snprintf(whole, sizeof(whole), "%s%s", state == ALERT_RESOLVED ? "resolved: " : "",
	         finding->summary);
	summary_cut(whole, out->summary, sizeof(out->summary));
	out->at_unix_ms = at_unix_ms;
}

bool alert_is_change(const struct alert *alert)
{
	static const char *const changes[] = {"cutover", "stable", "external-cutover", "pause",
	                                      "resume"};
	if (alert->state != ALERT_EVENT)
		return false;
	for (size_t i = 0; i < sizeof(changes) / sizeof(changes[0]); i++)
		if (strcmp(alert->rule, changes[i]) == 0)
			return true;
	return false;
}

void alert_from_event(const char *environment, const char *name, enum severity severity,
                      const char *cluster, const char *summary, int64_t at_unix_ms,
                      struct alert *out)
{
	memset(out, 0, sizeof(*out));
	bool rollback = strcmp(name, "rollback") == 0 || strcmp(name, "rolled-back") == 0;
	bool over = strcmp(name, "rollback-over") == 0;
	char tail[128];
	snprintf(tail, sizeof(tail), "%s/%s", rollback || over ? "rollback" : name, cluster);
	make_key(environment, tail, out->dedup_key);
	copy(out->environment, sizeof(out->environment), environment);
	copy(out->rule, sizeof(out->rule), name);
	copy(out->cluster, sizeof(out->cluster), cluster);
	summary_cut(summary != NULL ? summary : "", out->summary, sizeof(out->summary));
	out->severity = severity;
	out->state = over ? ALERT_RESOLVED : ALERT_EVENT;
	out->at_unix_ms = at_unix_ms;
}
