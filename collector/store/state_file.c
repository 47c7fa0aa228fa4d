/*
 * cutover.json. Every field is checked on load: a state file that does not
 * parse, names an unknown phase or holds impossible times stops the
 * collector with the file's name, because acting on a guessed state could
 * move production traffic.
 */
#include "state_file.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cutover_times.h"
#include "durable_file.h"

/* No watch is planned longer than this: a longer one is no state we wrote. */
#define LONGEST_WATCH_MS (366LL * 24 * 3600 * 1000)

char *state_file_encode(const struct cutover_state *s, const struct detector_checkpoint *checkpoint,
                        struct clock_now now)
{
	struct cutover_wall_times wall;
	cutover_times_to_wall(s, now.mono_ms, now.unix_ms, &wall);
	json_t *root =
	        json_pack("{s:i,s:s,s:s,s:s,s:I,s:I,s:{s:I,s:I,s:I},s:b,s:b,s:I,s:s}", "version", 1,
	                  "phase", cutover_phase_name(s->phase), "active", s->active, "other",
	                  s->other, "since_unix_ms", (json_int_t)wall.since_unix_ms,
	                  "until_unix_ms", (json_int_t)wall.until_unix_ms, "baseline", "queries",
	                  (json_int_t)s->baseline.queries, "failed", (json_int_t)s->baseline.failed,
	                  "user_errors", (json_int_t)s->baseline.user_errors, "paused", s->paused,
	                  "degraded_alerted", s->degraded_alerted, "retry_unix_ms",
	                  (json_int_t)wall.retry_unix_ms, "reason", s->reason);
	if (root != NULL && checkpoint != NULL && checkpoint->present)
		json_object_set_new(root, "detector",
		                    json_pack("{s:f,s:I,s:I,s:f,s:I,s:I,s:i}", "failure_score",
		                              checkpoint->failure_score, "failure_queries",
		                              (json_int_t)checkpoint->failure_queries,
		                              "failure_failed",
		                              (json_int_t)checkpoint->failure_failed, "user_score",
		                              checkpoint->user_score, "user_queries",
		                              (json_int_t)checkpoint->user_queries, "user_failed",
		                              (json_int_t)checkpoint->user_failed, "verdict",
		                              checkpoint->verdict));
	char *text = root != NULL ? json_dumps(root, JSON_INDENT(2)) : NULL;
	json_decref(root);
	return text;
}

int state_file_save(const char *state_dir, const struct cutover_state *s,
                    const struct detector_checkpoint *checkpoint, struct clock_now now, char *err,
                    size_t err_len)
{
	char *text = state_file_encode(s, checkpoint, now);
	if (text == NULL) {
		snprintf(err, err_len, "cannot encode the cutover state");
		return -1;
	}
	char path[4096];
	snprintf(path, sizeof(path), "%s/cutover.json", state_dir);
	size_t len = strlen(text);
	text[len] = '\n'; /* json_dumps leaves room for the NUL we overwrite */
	int rc = durable_file_replace(path, text, len + 1, 0640, err, err_len);
	free(text);
	return rc;
}

static int parse_phase(const char *name, enum cutover_phase *phase)
{
	for (int p = PHASE_STEADY; p <= PHASE_ROLLED_BACK; p++) {
		if (strcmp(name, cutover_phase_name((enum cutover_phase)p)) == 0) {
			*phase = (enum cutover_phase)p;
			return 0;
		}
	}
	return -1;
}

static int load_checkpoint(json_t *object, struct detector_checkpoint *c, char *why, size_t why_len)
{
	memset(c, 0, sizeof(*c));
	if (object == NULL)
		return 0;
	json_error_t error;
	json_int_t fq = 0, ff = 0, uq = 0, uf = 0;
	int verdict = 0;
	if (json_unpack_ex(object, &error, JSON_STRICT, "{s:F,s:I,s:I,s:F,s:I,s:I,s:i}",
	                   "failure_score", &c->failure_score, "failure_queries", &fq,
	                   "failure_failed", &ff, "user_score", &c->user_score, "user_queries", &uq,
	                   "user_failed", &uf, "verdict", &verdict) != 0) {
		snprintf(why, why_len, "detector: %s", error.text);
		return -1;
	}
	if (c->failure_score < 0 || c->user_score < 0 || fq < 0 || ff < 0 || uq < 0 || uf < 0 ||
	    ff > fq || uf > uq || verdict < VERDICT_HEALTHY || verdict > VERDICT_BLIND) {
		snprintf(why, why_len, "detector: impossible values");
		return -1;
	}
	c->failure_queries = (uint64_t)fq;
	c->failure_failed = (uint64_t)ff;
	c->user_queries = (uint64_t)uq;
	c->user_failed = (uint64_t)uf;
	c->verdict = verdict;
	c->present = true;
	return 0;
}

/* STATE and CHECKPOINT from ROOT (taken), NAME in errors. 0, or -1 with ERR. */
static int decode(json_t *root, const char *name, struct clock_now now, struct cutover_state *s,
                  struct detector_checkpoint *checkpoint, char *err, size_t err_len)
{
	json_error_t error;
	const char *phase = NULL, *active = NULL, *other = NULL, *reason = NULL;
	json_int_t version = 0, since = 0, until = 0, queries = 0, failed = 0, user_errors = 0,
	           retry = 0;
	int paused = 0, alerted = 0;
	json_t *detector = json_incref(json_object_get(root, "detector"));
	json_object_del(root, "detector"); /* optional; checked on its own */
	struct detector_checkpoint scratch;
	if (checkpoint == NULL)
		checkpoint = &scratch;
	char why[256];
	if (load_checkpoint(detector, checkpoint, why, sizeof(why)) != 0) {
		snprintf(err, err_len, "%s: %s", name, why);
		json_decref(detector);
		json_decref(root);
		return -1;
	}
	json_decref(detector);
	if (json_unpack_ex(root, &error, JSON_STRICT,
	                   "{s:I,s:s,s:s,s:s,s:I,s:I,s:{s:I,s:I,s:I},s:b,s:b,s:I,s:s}", "version",
	                   &version, "phase", &phase, "active", &active, "other", &other,
	                   "since_unix_ms", &since, "until_unix_ms", &until, "baseline", "queries",
	                   &queries, "failed", &failed, "user_errors", &user_errors, "paused",
	                   &paused, "degraded_alerted", &alerted, "retry_unix_ms", &retry, "reason",
	                   &reason) != 0) {
		snprintf(err, err_len, "%s: %s", name, error.text);
		json_decref(root);
		return -1;
	}
	memset(s, 0, sizeof(*s));
	int rc = -1;
	if (version != 1) {
		snprintf(err, err_len, "%s: version %lld is not understood", name,
		         (long long)version);
	} else if (parse_phase(phase, &s->phase) != 0) {
		snprintf(err, err_len, "%s: unknown phase '%s'", name, phase);
	} else if (strlen(active) >= sizeof(s->active) || strlen(other) >= sizeof(s->other)) {
		snprintf(err, err_len, "%s: cluster name too long", name);
	} else if (since < 0 || until < since || until - since > LONGEST_WATCH_MS || queries < 0 ||
	           failed < 0 || failed > queries || user_errors < 0 || retry < 0) {
		snprintf(err, err_len, "%s: impossible times or counts", name);
	} else {
		snprintf(s->active, sizeof(s->active), "%s", active);
		snprintf(s->other, sizeof(s->other), "%s", other);
		snprintf(s->reason, sizeof(s->reason), "%s", reason);
		s->baseline.queries = (uint64_t)queries;
		s->baseline.failed = (uint64_t)failed;
		s->baseline.user_errors = (uint64_t)user_errors;
		s->paused = paused;
		s->degraded_alerted = alerted;
		struct cutover_wall_times wall = {since, until, retry};
		cutover_times_from_wall(s, &wall, now.mono_ms, now.unix_ms);
		rc = 0;
	}
	json_decref(root);
	return rc;
}

int state_file_decode(const char *text, size_t len, const char *name, struct clock_now now,
                      struct cutover_state *state, struct detector_checkpoint *checkpoint,
                      char *err, size_t err_len)
{
	json_error_t error;
	json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &error);
	if (root == NULL) {
		snprintf(err, err_len, "%s:%d: %s", name, error.line, error.text);
		return -1;
	}
	return decode(root, name, now, state, checkpoint, err, err_len);
}

int state_file_load(const char *state_dir, struct clock_now now, struct cutover_state *s,
                    struct detector_checkpoint *checkpoint, bool *found, char *err, size_t err_len)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/cutover.json", state_dir);
	*found = false;
	if (access(path, F_OK) != 0)
		return errno == ENOENT
		               ? 0
		               : (snprintf(err, err_len, "%s: %s", path, strerror(errno)), -1);
	json_error_t error;
	json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &error);
	if (root == NULL) {
		snprintf(err, err_len, "%s:%d: %s", path, error.line, error.text);
		return -1;
	}
	if (decode(root, path, now, s, checkpoint, err, err_len) != 0)
		return -1;
	*found = true;
	return 0;
}

static bool cluster_known(const char *name, const char *const *clusters, size_t count)
{
	for (size_t i = 0; i < count; i++)
		if (strcmp(name, clusters[i]) == 0)
			return true;
	return name[0] == '\0';
}

int state_file_check_clusters(const char *state_dir, struct clock_now now,
                              const char *const *clusters, size_t count, char *err, size_t err_len)
{
	struct cutover_state s;
	bool found = false;
	if (state_file_load(state_dir, now, &s, NULL, &found, err, err_len) != 0)
		return -1;
	if (!found)
		return 0;
	const char *fields[2] = {"active", "other"};
	const char *names[2] = {s.active, s.other};
	for (size_t i = 0; i < 2; i++) {
		if (cluster_known(names[i], clusters, count))
			continue;
		snprintf(err, err_len,
		         "%s/cutover.json: %s cluster '%s' is no [cluster.%s] section of the "
		         "config (renamed or removed?); restore the section, or move cutover.json "
		         "away to start afresh (from initial_active, or the LB's current cluster)",
		         state_dir, fields[i], names[i], names[i]);
		return -1;
	}
	return 0;
}
