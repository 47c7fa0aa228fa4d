/*
 * SIGHUP for the collector: reads collector.ini again, applies the keys that
 * can change under a running collector, and refuses, naming the reason, the
 * ones that are bound at start (sockets, files, the driver, the sinks).
 */
#include "collector_reload.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alerts.h"
#include "collector.h"
#include "collector_check.h"
#include "cutover_runner.h"
#include "ingest.h"
#include "log.h"
#include "secret_file.h"

/* A key that can change live, and how: copied from NEXT into the running collector. */
struct live_key {
	const char *section; /* "cluster." for every [cluster.NAME] */
	const char *key;
	void (*apply)(struct collector *collector, const struct collector_config *next,
	              const char *section);
};

/* Why a key cannot change live; the first row whose section (a prefix) and key match. */
struct bound_key {
	const char *section;
	const char *key; /* NULL: any key of the section, and the section itself */
	const char *why;
};

#define MAX_CHANGES 128

struct change {
	char section[128];
	const char *key; /* NULL: the section was added or removed */
	const struct live_key *live;
};

struct change_list {
	struct change items[MAX_CHANGES];
	size_t count;
	size_t dropped; /* beyond MAX_CHANGES: counted as refused */
};

static void apply_log_level(struct collector *c, const struct collector_config *next,
                            const char *section)
{
	(void)section;
	c->config.collector.log_level = next->collector.log_level;
	log_set_level((enum log_level)next->collector.log_level);
}

static void apply_forget_after(struct collector *c, const struct collector_config *next,
                               const char *section)
{
	(void)section;
	c->config.collector.forget_after_ms = next->collector.forget_after_ms;
}

static void apply_absent_after(struct collector *c, const struct collector_config *next,
                               const char *section)
{
	(void)section;
	c->config.collector.absent_after_ms = next->collector.absent_after_ms;
	for (size_t i = 0; i < c->cluster_count; i++)
		c->clusters[i].absent_from_ms = c->started_ms + next->collector.absent_after_ms;
}

/* The running cluster INDEX and NEXT's section for "cluster.NAME"; false when either lacks it. */
static bool cluster_pair(struct collector *c, const struct collector_config *next,
                         const char *section, size_t *index, const struct cluster_section **to)
{
	const char *name = section + strlen("cluster.");
	for (size_t i = 0; i < c->config.cluster_count; i++) {
		if (strcmp(c->config.clusters[i].name, name) != 0)
			continue;
		for (size_t j = 0; j < next->cluster_count; j++) {
			if (strcmp(next->clusters[j].name, name) == 0) {
				*index = i;
				*to = &next->clusters[j];
				return true;
			}
		}
	}
	return false;
}

static void apply_min_workers(struct collector *c, const struct collector_config *next,
                              const char *section)
{
	size_t i;
	const struct cluster_section *to;
	if (!cluster_pair(c, next, section, &i, &to))
		return;
	c->config.clusters[i].min_workers = to->min_workers;
	c->clusters[i].min_workers = to->min_workers;
}

static void apply_stale_after(struct collector *c, const struct collector_config *next,
                              const char *section)
{
	size_t i;
	const struct cluster_section *to;
	if (!cluster_pair(c, next, section, &i, &to))
		return;
	c->config.clusters[i].stale_after_ms = to->stale_after_ms;
	c->clusters[i].stale_after_ms = to->stale_after_ms;
}

static void apply_down_grace(struct collector *c, const struct collector_config *next,
                             const char *section)
{
	size_t i;
	const struct cluster_section *to;
	if (!cluster_pair(c, next, section, &i, &to))
		return;
	c->config.clusters[i].down_grace_ms = to->down_grace_ms;
	c->clusters[i].down_grace_ms = to->down_grace_ms;
}

static const struct live_key live_keys[] = {
        {"collector", "log_level", apply_log_level},
        {"collector", "forget_after", apply_forget_after},
        {"collector", "absent_after", apply_absent_after},
        {"cluster.", "min_workers", apply_min_workers},
        {"cluster.", "stale_after", apply_stale_after},
        {"cluster.", "down_grace", apply_down_grace},
};

static const struct bound_key bound_keys[] = {
        {"collector", "listen", "the report socket is bound at start"},
        {"collector", "secret_key_file", "the report socket's CURVE key is set at start"},
        {"collector", "curve", "the report socket's CURVE key is set at start"},
        {"collector", "allowed_keys_dir",
         "the allow-list's directory is chosen at start (its files are read again at every "
         "SIGHUP)"},
        {"collector", "state_dir", "the journal and the cutover state are opened at start"},
        {"collector", "journal_max_bytes", "the journal is opened at start"},
        {"collector", "tick", "the tick timer is armed at start"},
        {"collector", "initial_active", "it only matters at the first start, before any state"},
        {"api", "token_file",
         "the token's file is chosen at start (its content is read again at every SIGHUP)"},
        {"api", NULL, "the HTTP API is set up at start"},
        {"watch", NULL, "the watch's settings are taken at start, and a cutover may hold them"},
        {"ha", NULL, "the election on etcd is joined at start"},
        {"lb.http", "header_file",
         "the header files' names are chosen at start (their content is read again at every "
         "SIGHUP)"},
        {"lb", NULL, "the load-balancer driver is built at start"},
        {"cluster.", NULL, "the clusters are the fleet's, the cutover's and the LB's from start"},
        {"alerts", NULL, "the alert policy is set up at start"},
        {"alert.", "header_file",
         "the header files' names are chosen at start (their content is read again at every "
         "SIGHUP)"},
        {"alert.", NULL, "the alert sinks and their spools are opened at start"},
};

static bool section_matches(const char *pattern, const char *section)
{
	size_t n = strlen(pattern);
	if (n > 0 && pattern[n - 1] == '.')
		return strncmp(section, pattern, n) == 0;
	return strncmp(section, pattern, n) == 0 && (section[n] == '\0' || section[n] == '.');
}

static const struct live_key *live_key_for(const char *section, const char *key)
{
	if (key == NULL)
		return NULL;
	for (size_t i = 0; i < sizeof(live_keys) / sizeof(live_keys[0]); i++)
		if (section_matches(live_keys[i].section, section) &&
		    strcmp(live_keys[i].key, key) == 0)
			return &live_keys[i];
	return NULL;
}

static const char *bound_reason(const char *section, const char *key)
{
	for (size_t i = 0; i < sizeof(bound_keys) / sizeof(bound_keys[0]); i++) {
		const struct bound_key *b = &bound_keys[i];
		if (section_matches(b->section, section) &&
		    (b->key == NULL || (key != NULL && strcmp(b->key, key) == 0)))
			return b->why;
	}
	return "it is read at start";
}

static void note_change(const char *section, const char *key, void *ctx)
{
	struct change_list *list = ctx;
	if (list->count == MAX_CHANGES) {
		list->dropped++;
		return;
	}
	struct change *c = &list->items[list->count++];
	snprintf(c->section, sizeof(c->section), "%s", section);
	c->key = key;
	c->live = live_key_for(section, key);
}

/* The header_file.NAME secrets of the LB driver and of the alert sinks, read again. */
static int reread_headers(struct collector *collector, char *err, size_t err_len)
{
	const struct lb_driver *lb =
	        collector->cutover != NULL ? cutover_runner_driver(collector->cutover) : NULL;
	if (lb != NULL && lb->reload != NULL && lb->reload(lb->impl, err, err_len) != 0)
		return -1;
	return alerts_reload_headers(collector->alerts, err, err_len);
}

/*
 * The allow-list's files, the header files and the token's content, read
 * again. The config's load has just read the header files and refused what
 * it could not, so an error here is a file changed in between: it is said,
 * and the token stays the old one.
 */
static int reread_files(struct collector *collector, char *err, size_t err_len)
{
	char *token = NULL;
	const char *token_file = collector->config.api.token_file;
	if (token_file != NULL && (token = collector_read_token(token_file, err, err_len)) == NULL)
		return -1;
	if (ingest_reload_allowlist(collector->ingest, err, err_len) != 0 ||
	    reread_headers(collector, err, err_len) != 0) {
		secret_free(token);
		return -1;
	}
	if (token_file != NULL) {
		secret_free(collector->api_token);
		collector->api_token = token;
	}
	return 0;
}

/* Applies the live changes and logs each change; returns how many were refused. */
static size_t apply_changes(struct collector *collector, const struct collector_config *next,
                            const struct change_list *changes)
{
	size_t refused = changes->dropped;
	for (size_t i = 0; i < changes->count; i++) {
		const struct change *c = &changes->items[i];
		if (c->live != NULL) {
			c->live->apply(collector, next, c->section);
			log_info("SIGHUP: [%s] %s applied", c->section, c->key);
			continue;
		}
		refused++;
		const char *why = bound_reason(c->section, c->key);
		if (c->key == NULL)
			log_warn("SIGHUP: [%s] added or removed, not applied: %s; restart the "
			         "collector to apply it",
			         c->section, why);
		else
			log_warn("SIGHUP: [%s] %s changed, not applied: %s; restart the collector "
			         "to apply it",
			         c->section, c->key, why);
	}
	return refused;
}

int collector_reload_config(struct collector *collector, const char *path, char *err,
                            size_t err_len)
{
	struct collector_config *next = calloc(1, sizeof(*next));
	if (next == NULL) {
		snprintf(err, err_len, "out of memory reading %s", path);
		return -1;
	}
	int rc = -1;
	if (collector_config_load(path, next, err, err_len) != 0)
		goto done;
	struct change_list *changes = calloc(1, sizeof(*changes));
	if (changes == NULL) {
		snprintf(err, err_len, "out of memory comparing %s", path);
		goto done;
	}
	collector_config_diff(&collector->config, next, note_change, changes);
	if (reread_files(collector, err, err_len) == 0) {
		size_t refused = apply_changes(collector, next, changes);
		log_info("SIGHUP: %s read again: %zu change(s) applied, %zu not applied; "
		         "allow-list: %zu keys",
		         path, changes->count + changes->dropped - refused, refused,
		         ingest_allowed_keys(collector->ingest));
		rc = refused > 0 ? 1 : 0;
	}
	free(changes);
done:
	collector_config_free(next);
	free(next);
	return rc;
}
