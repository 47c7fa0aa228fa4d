/*
 * Saving and loading the firing set of finding alerts, in jansson; a file
 * that does not parse is moved aside for people to read.
 */
#include "alert_firing_file.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "durable_file.h"
#include "text_cut.h"

static json_t *alert_json(const struct alert *a)
{
	return json_pack("{ss ss ss ss ss ss ss sI}", "key", a->dedup_key, "environment",
	                 a->environment, "rule", a->rule, "cluster", a->cluster, "subject",
	                 a->subject, "severity", severity_name(a->severity), "summary", a->summary,
	                 "at", (json_int_t)a->at_unix_ms);
}

int alert_firing_file_save(const char *path, const struct alert_policy *policy, char *err,
                           size_t err_len)
{
	json_t *list = json_array();
	size_t total = policy->firing_count + policy->carried_count;
	for (size_t i = 0; list != NULL && i < total; i++) {
		const struct alert *a = i < policy->firing_count
		                                ? &policy->firing[i]
		                                : &policy->carried[i - policy->firing_count];
		if (json_array_append_new(list, alert_json(a)) != 0) {
			json_decref(list);
			list = NULL;
		}
	}
	char *text = list != NULL ? json_dumps(list, JSON_COMPACT) : NULL;
	json_decref(list);
	if (text == NULL) {
		snprintf(err, err_len, "%s: out of memory encoding the firing alerts", path);
		return -1;
	}
	int rc = durable_file_replace(path, text, strlen(text), 0600, err, err_len);
	free(text);
	return rc;
}

static const char *text_of(json_t *object, const char *name)
{
	const char *text = json_string_value(json_object_get(object, name));
	return text != NULL ? text : "";
}

/*
 * Moves the corrupt PATH to PATH.corrupt-NOW_UNIX_S in its directory, or
 * .corrupt-NOW_UNIX_S.1 (up to .9) when that exists: a link that never
 * replaces an older one, then the unlink. Says in OUT where it went, or why not.
 */
static void move_aside(const char *path, int64_t now_unix_s, char *out, size_t out_len)
{
	char aside[1100];
	for (int n = 0; n < 10; n++) {
		if (n == 0)
			snprintf(aside, sizeof(aside), "%s.corrupt-%" PRId64, path, now_unix_s);
		else
			snprintf(aside, sizeof(aside), "%s.corrupt-%" PRId64 ".%d", path,
			         now_unix_s, n);
		if (link(path, aside) == 0) {
			if (unlink(path) != 0) {
				snprintf(out, out_len, "copied to %s, but not removed: %s", aside,
				         strerror(errno));
				return;
			}
			snprintf(out, out_len, "moved to %s", aside);
			return;
		}
		if (errno != EEXIST)
			break;
	}
	snprintf(out, out_len, "cannot be moved to %s: %s", aside, strerror(errno));
}

int alert_firing_file_load(const char *path, int64_t now_unix_s, struct alert_policy *policy,
                           char *err, size_t err_len)
{
	FILE *file = fopen(path, "r");
	if (file == NULL)
		return 0;
	json_error_t error;
	json_t *list = json_loadf(file, JSON_REJECT_DUPLICATES, &error);
	(void)fclose(file); /* read only: nothing to lose */
	if (list == NULL || !json_is_array(list)) {
		char where[1200];
		if (list == NULL)
			snprintf(where, sizeof(where), "%s:%d:%d: %s", path, error.line,
			         error.column, error.text);
		else
			snprintf(where, sizeof(where), "%s: not a JSON array", path);
		json_decref(list);
		char moved[1200];
		move_aside(path, now_unix_s, moved, sizeof(moved));
		snprintf(err, err_len, "%s; %s", where, moved);
		return 1;
	}
	size_t n = json_array_size(list);
	for (size_t i = 0; i < n; i++) {
		json_t *item = json_array_get(list, i);
		struct alert a;
		memset(&a, 0, sizeof(a));
		const char *key = json_string_value(json_object_get(item, "key"));
		const char *severity = json_string_value(json_object_get(item, "severity"));
		if (key == NULL || severity == NULL || severity_parse(severity, &a.severity) != 0)
			continue;
		/* cut at a character: a cut mid-character is not UTF-8, and the next save fails */
		text_copy(a.dedup_key, sizeof(a.dedup_key), key);
		text_copy(a.environment, sizeof(a.environment), text_of(item, "environment"));
		text_copy(a.rule, sizeof(a.rule), text_of(item, "rule"));
		text_copy(a.cluster, sizeof(a.cluster), text_of(item, "cluster"));
		text_copy(a.subject, sizeof(a.subject), text_of(item, "subject"));
		text_copy(a.summary, sizeof(a.summary), text_of(item, "summary"));
		a.at_unix_ms = json_integer_value(json_object_get(item, "at"));
		a.state = ALERT_FIRING;
		if (alert_policy_carry(policy, &a) != 0) {
			snprintf(err, err_len, "%s: out of memory after %zu of %zu alerts", path, i,
			         n);
			json_decref(list);
			return -1;
		}
	}
	json_decref(list);
	return 0;
}
