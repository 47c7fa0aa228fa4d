/*
 * The fleet table: a sorted array of node pointers (binary search by id;
 * inserting a new node is rare), each node owning a copy of what its last
 * report said. Older or repeated reports of the same agent boot are dropped;
 * a new boot id is a restarted agent and always accepted.
 */
#include "fleet.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "text_cut.h"

void fleet_init(struct fleet *fleet)
{
	memset(fleet, 0, sizeof(*fleet));
}

static void digest_clear(struct fleet_digest *digest)
{
	free(digest->path);
	for (size_t i = 0; i < digest->key_count; i++)
		free(digest->keys[i].key);
	free(digest->keys);
}

static void node_free_digests(struct fleet_node *node)
{
	for (size_t i = 0; i < node->digest_count; i++)
		digest_clear(&node->digests[i]);
	free(node->digests);
	node->digests = NULL;
	node->digest_count = 0;
}

static void node_free(struct fleet_node *node)
{
	if (node == NULL)
		return;
	node_free_digests(node);
	free(node->samples);
	free(node);
}

void fleet_cleanup(struct fleet *fleet)
{
	for (size_t i = 0; i < fleet->count; i++)
		node_free(fleet->nodes[i]);
	free(fleet->nodes);
	fleet_init(fleet);
}

/* Index of NODE_ID, or where it would go (as -(index) - 1). */
static long search(const struct fleet *fleet, const char *node_id)
{
	size_t lo = 0, hi = fleet->count;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(fleet->nodes[mid]->node_id, node_id);
		if (c == 0)
			return (long)mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -(long)lo - 1;
}

const struct fleet_node *fleet_find(const struct fleet *fleet, const char *node_id)
{
	long at = search(fleet, node_id);
	return at >= 0 ? fleet->nodes[at] : NULL;
}

void fleet_note_clock_offset(struct fleet *fleet, const char *node_id, int64_t offset_ms)
{
	long at = search(fleet, node_id);
	if (at >= 0)
		fleet->nodes[at]->clock_offset_ms = offset_ms;
}

/* Cut at a character boundary: a version of 128 bytes ending in "é" stays valid UTF-8. */
static void copy_text(char *out, size_t out_len, const char *text)
{
	text_copy(out, out_len, text);
}

static uint64_t boot_key(const uint8_t *boot_id)
{
	uint64_t key;
	memcpy(&key, boot_id, sizeof(key));
	return key;
}

/* The keys of D into OUT: 0, or -1 when out of memory (OUT holds what was copied). */
static int copy_keys(struct fleet_digest *out, const ConfigDigest *d)
{
	out->keys_listed = d->has_keys_listed && d->keys_listed;
	if (!out->keys_listed || d->n_keys == 0)
		return 0;
	out->keys = calloc(d->n_keys, sizeof(*out->keys));
	if (out->keys == NULL)
		return -1;
	for (size_t k = 0; k < d->n_keys; k++) {
		out->keys[k].key = strdup(d->keys[k]->key);
		if (out->keys[k].key == NULL)
			return -1;
		memcpy(out->keys[k].digest, d->keys[k]->digest.data, REPORT_KEY_DIGEST_BYTES);
		out->key_count++;
	}
	return 0;
}

/*
 * The previous report's keys for a file whose digest has not changed, taken
 * over instead of copied again (the report keeps a node's files in one order,
 * so the same index holds it). False when there is nothing to take.
 */
static bool take_unchanged_keys(struct fleet_node *node, size_t i, struct fleet_digest *out,
                                const ConfigDigest *d)
{
	if (i >= node->digest_count)
		return false;
	struct fleet_digest *old = &node->digests[i];
	bool listed = d->has_keys_listed && d->keys_listed;
	if (!old->ok || !out->ok || !old->keys_listed || !listed || old->key_count != d->n_keys ||
	    strcmp(old->path, out->path) != 0 || memcmp(old->sha256, out->sha256, 32) != 0)
		return false;
	out->keys_listed = true;
	out->keys = old->keys;
	out->key_count = old->key_count;
	old->keys = NULL;
	old->key_count = 0;
	old->keys_listed = false;
	return true;
}

static int copy_digests(struct fleet_node *node, const NodeReport *report)
{
	struct fleet_digest *digests = calloc(report->n_config + 1, sizeof(*digests));
	if (digests == NULL)
		return -1;
	for (size_t i = 0; i < report->n_config; i++) {
		const ConfigDigest *d = report->config[i];
		digests[i].path = strdup(d->path);
		digests[i].ok = d->has_sha256 && d->sha256.len == 32;
		if (digests[i].ok)
			memcpy(digests[i].sha256, d->sha256.data, 32);
		if (digests[i].path == NULL || (!take_unchanged_keys(node, i, &digests[i], d) &&
		                                copy_keys(&digests[i], d) != 0)) {
			for (size_t k = 0; k <= i; k++)
				digest_clear(&digests[k]);
			free(digests);
			return -1;
		}
	}
	node_free_digests(node);
	node->digests = digests;
	node->digest_count = report->n_config;
	node->config_files_total = report->has_config_files_total ? report->config_files_total : 0;
	return 0;
}

static void add_sample(struct fleet_node *node, const NodeReport *report, int64_t now_ms)
{
	const QueryCounters *c = report->counters;
	if (node->samples == NULL) {
		node->samples = calloc(FLEET_SAMPLES, sizeof(*node->samples));
		if (node->samples == NULL)
			return;
	}
	size_t slot = (node->sample_start + node->sample_count) % FLEET_SAMPLES;
	if (node->sample_count == FLEET_SAMPLES)
		node->sample_start = (node->sample_start + 1) % FLEET_SAMPLES;
	else
		node->sample_count++;
	node->samples[slot] = (struct counter_sample){
	        .received_ms = now_ms,
	        .uptime_ms = report->has_trino_uptime_ms ? report->trino_uptime_ms : 0,
	        .boot_key = boot_key(report->boot_id.data),
	        .completed = c->completed,
	        .failed = c->failed,
	        .user_error = c->user_error,
	        .internal = c->internal,
	        .external = c->external,
	        .insufficient_resources = c->insufficient_resources,
	        .canceled = c->canceled,
	        .abandoned = c->abandoned,
	};
}

const struct counter_sample *fleet_sample(const struct fleet_node *node, size_t i)
{
	if (node->samples == NULL || i >= node->sample_count)
		return NULL;
	size_t slot = (node->sample_start + node->sample_count - 1 - i) % FLEET_SAMPLES;
	return &node->samples[slot];
}

static struct fleet_node *insert(struct fleet *fleet, const char *node_id, size_t at)
{
	if (fleet->count == fleet->capacity) {
		size_t capacity = fleet->capacity ? fleet->capacity * 2 : 64;
		struct fleet_node **grown = realloc(fleet->nodes, capacity * sizeof(*grown));
		if (grown == NULL)
			return NULL;
		fleet->nodes = grown;
		fleet->capacity = capacity;
	}
	struct fleet_node *node = calloc(1, sizeof(*node));
	if (node == NULL)
		return NULL;
	copy_text(node->node_id, sizeof(node->node_id), node_id);
	node->not_active_since_ms = -1;
	node->active_nodes = -1;
	memmove(&fleet->nodes[at + 1], &fleet->nodes[at],
	        (fleet->count - at) * sizeof(*fleet->nodes));
	fleet->nodes[at] = node;
	fleet->count++;
	return node;
}

/* The query list of LIST (NULL: not reported) into NODE. */
static void fleet_copy_query_list(struct fleet_node *node, const QueryList *list)
{
	bool read = list != NULL && list->error == NULL && list->has_unfinished;
	node->unfinished_queries = read ? (int64_t)list->unfinished : -1;
	node->oldest_query_elapsed_ms =
	        read && list->has_oldest_elapsed_ms && list->oldest_elapsed_ms <= INT64_MAX / 2
	                ? (int64_t)list->oldest_elapsed_ms
	                : -1;
	copy_text(node->query_list_error, sizeof(node->query_list_error),
	          list != NULL ? list->error : NULL);
}

enum fleet_result fleet_update(struct fleet *fleet, const NodeReport *report, int64_t now_ms)
{
	long at = search(fleet, report->node_id);
	struct fleet_node *node;
	enum fleet_result result = FLEET_ACCEPTED;
	if (at >= 0) {
		node = fleet->nodes[at];
		bool same_boot =
		        memcmp(node->boot_id, report->boot_id.data, REPORT_BOOT_ID_BYTES) == 0;
		if (same_boot && report->seq <= node->seq)
			return FLEET_DUPLICATE;
		if (!same_boot)
			result = FLEET_NEW_BOOT;
	} else {
		node = insert(fleet, report->node_id, (size_t)(-at - 1));
		if (node == NULL)
			return FLEET_NO_MEMORY;
		result = FLEET_NEW_BOOT;
	}
	if (copy_digests(node, report) != 0)
		return FLEET_NO_MEMORY;
	copy_text(node->cluster, sizeof(node->cluster), report->cluster);
	copy_text(node->agent_id, sizeof(node->agent_id), report->agent_id);
	memcpy(node->boot_id, report->boot_id.data, REPORT_BOOT_ID_BYTES);
	node->seq = report->seq;
	node->received_ms = now_ms;
	node->sent_unix_ms = report->sent_unix_ms;
	node->interval_ms = report->interval_ms;
	node->role = report->has_role ? (int)report->role : 0;
	node->state = report->has_state ? (int)report->state : 0;
	copy_text(node->version, sizeof(node->version), report->trino_version);
	copy_text(node->environment, sizeof(node->environment), report->environment);
	copy_text(node->error, sizeof(node->error), report->error);
	node->has_uptime = report->has_trino_uptime_ms;
	node->uptime_ms = report->trino_uptime_ms;
	/* how long it has not been ACTIVE, whatever the reason, for the down grace */
	if (node->state == TRINOGUARD__V1__NODE_STATE__STATE_ACTIVE)
		node->not_active_since_ms = -1;
	else if (node->not_active_since_ms < 0)
		node->not_active_since_ms = now_ms;

	const QueryCounters *c = report->counters;
	node->has_counters = c != NULL;
	node->counters_state = c != NULL && c->has_state ? (int)c->state : 0;
	copy_text(node->counters_error, sizeof(node->counters_error), c != NULL ? c->error : NULL);
	node->active_nodes = c != NULL && c->has_active_nodes ? (int64_t)c->active_nodes : -1;
	copy_text(node->active_nodes_from, sizeof(node->active_nodes_from),
	          c != NULL && c->has_active_nodes ? c->active_nodes_from : NULL);
	bool counted = c != NULL && c->state == TRINOGUARD__V1__COUNTER_STATE__COUNTERS_OK;
	node->running = counted && c->has_running ? (int64_t)c->running : -1;
	node->queued = counted && c->has_queued ? (int64_t)c->queued : -1;
	copy_text(node->coordinator_id, sizeof(node->coordinator_id), report->coordinator_id);
	copy_text(node->coordinator_id_from, sizeof(node->coordinator_id_from),
	          report->coordinator_id_from);
	fleet_copy_query_list(node, report->query_list);
	if (c != NULL && c->state == TRINOGUARD__V1__COUNTER_STATE__COUNTERS_OK && c->has_completed)
		add_sample(node, report, now_ms);
	return result;
}

size_t fleet_forget(struct fleet *fleet, int64_t older_than_ms)
{
	size_t kept = 0, dropped = 0;
	for (size_t i = 0; i < fleet->count; i++) {
		if (fleet->nodes[i]->received_ms < older_than_ms) {
			node_free(fleet->nodes[i]);
			dropped++;
		} else {
			fleet->nodes[kept++] = fleet->nodes[i];
		}
	}
	fleet->count = kept;
	return dropped;
}
