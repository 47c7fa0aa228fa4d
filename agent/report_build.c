/*
 * Report assembly. A node whose Trino did not answer is still reported, as
 * UNREACHABLE with the error text: "agent alive, Trino down" is different
 * from "agent silent". A /v1/info request left unanswered for two intervals
 * counts as no answer, so a hung Trino shows within two intervals even when
 * the request timeout is longer.
 */
#include "report_build.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int node_state_from(const char *text)
{
	static const struct {
		const char *name;
		int state;
	} states[] = {
	        {"ACTIVE", TRINOGUARD__V1__NODE_STATE__STATE_ACTIVE},
	        {"INACTIVE", TRINOGUARD__V1__NODE_STATE__STATE_INACTIVE},
	        {"DRAINING", TRINOGUARD__V1__NODE_STATE__STATE_DRAINING},
	        {"DRAINED", TRINOGUARD__V1__NODE_STATE__STATE_DRAINED},
	        {"SHUTTING_DOWN", TRINOGUARD__V1__NODE_STATE__STATE_SHUTTING_DOWN},
	};
	for (size_t i = 0; i < sizeof(states) / sizeof(states[0]); i++)
		if (strcmp(text, states[i].name) == 0)
			return states[i].state;
	return TRINOGUARD__V1__NODE_STATE__STATE_UNKNOWN;
}

/* The agent's identity and the report's own sequence, which every report carries. */
static void report_set_identity(NodeReport *report, const struct report_input *input)
{
	report->has_schema_version = 1;
	report->schema_version = REPORT_SCHEMA_VERSION;
	report->agent_id = (char *)input->agent_id;
	report->has_boot_id = 1;
	report->boot_id.data = (uint8_t *)input->boot_id;
	report->boot_id.len = REPORT_BOOT_ID_BYTES;
	report->has_seq = 1;
	report->seq = input->seq;
	report->has_sent_unix_ms = 1;
	report->sent_unix_ms = input->sent_unix_ms;
	report->has_interval_ms = 1;
	report->interval_ms = input->interval_ms;
	report->cluster = (char *)input->cluster;
	report->node_id = (char *)input->node_id;
	report->agent_version = TG_VERSION;
}

/*
 * UNREACHABLE with the reason in error[] (the caller's buffer, which must
 * outlive the report): either the request's own error or how long it has gone
 * unanswered.
 */
static void report_set_unreachable(NodeReport *report, const struct report_input *input,
                                   bool silent, char *error, size_t error_size)
{
	report->state = TRINOGUARD__V1__NODE_STATE__STATE_UNREACHABLE;
	if (silent)
		snprintf(error, error_size, "/v1/info: no answer for %lld ms",
		         (long long)input->info_silent_ms);
	else
		snprintf(error, error_size, "%s", input->snapshot->info_error);
	report->error = error;
}

/*
 * What /v1/info said, and the node state: STARTING wins, then /v1/info/state,
 * then the state inside /v1/info. Strings are borrowed from the snapshot.
 */
static void report_set_trino_info(NodeReport *report, const struct poll_snapshot *snap)
{
	report->trino_version = (char *)snap->info.version;
	report->environment = snap->info.environment[0] ? (char *)snap->info.environment : NULL;
	if (snap->info.uptime_ms >= 0) {
		report->has_trino_uptime_ms = 1;
		report->trino_uptime_ms = (uint64_t)snap->info.uptime_ms;
	}
	report->trino_node_id = snap->info.node_id[0] ? (char *)snap->info.node_id : NULL;
	if (snap->info.coordinator_id[0] != '\0') {
		report->coordinator_id = (char *)snap->info.coordinator_id;
		report->coordinator_id_from = (char *)snap->info.coordinator_id_from;
	}
	if (snap->info.starting)
		report->state = TRINOGUARD__V1__NODE_STATE__STATE_STARTING;
	else if (snap->state_ok)
		report->state = node_state_from(snap->state);
	else if (snap->info.state[0] != '\0')
		report->state = node_state_from(snap->info.state);
	else
		report->state = TRINOGUARD__V1__NODE_STATE__STATE_UNKNOWN;
}

/* Copies the polled counter values into their protobuf fields, each marked present. */
static void counters_copy_values(QueryCounters *counters, const struct poll_snapshot *snap)
{
	const uint64_t *v = snap->counters.values;
	const struct {
		uint64_t *value;
		protobuf_c_boolean *present;
	} fields[TRINO_COUNTER_COUNT] = {
	        [TRINO_COMPLETED] = {&counters->completed, &counters->has_completed},
	        [TRINO_FAILED] = {&counters->failed, &counters->has_failed},
	        [TRINO_USER_ERROR] = {&counters->user_error, &counters->has_user_error},
	        [TRINO_INTERNAL] = {&counters->internal, &counters->has_internal},
	        [TRINO_EXTERNAL] = {&counters->external, &counters->has_external},
	        [TRINO_INSUFFICIENT_RESOURCES] = {&counters->insufficient_resources,
	                                          &counters->has_insufficient_resources},
	        [TRINO_CANCELED] = {&counters->canceled, &counters->has_canceled},
	        [TRINO_ABANDONED] = {&counters->abandoned, &counters->has_abandoned},
	        [TRINO_RUNNING] = {&counters->running, &counters->has_running},
	        [TRINO_QUEUED] = {&counters->queued, &counters->has_queued},
	};
	for (int i = 0; i < TRINO_COUNTER_COUNT; i++) {
		*fields[i].value = v[i];
		*fields[i].present = 1;
	}
	counters->source = (char *)snap->counters_source;
	if (snap->counters.active_nodes >= 0) {
		counters->has_active_nodes = 1;
		counters->active_nodes = (uint32_t)snap->counters.active_nodes;
		counters->active_nodes_from = (char *)snap->counters.active_nodes_from;
	}
}

/*
 * The counters' state (workers have none; an unreachable coordinator's are
 * unknown) and, when OK, their values. Only called once the node's role is known.
 */
static void report_set_counters(NodeReport *report, QueryCounters *counters,
                                const struct poll_snapshot *snap, bool reachable)
{
	report->counters = counters;
	counters->has_state = 1;
	if (!snap->info.coordinator) {
		counters->state = TRINOGUARD__V1__COUNTER_STATE__COUNTERS_NOT_COORDINATOR;
	} else if (!reachable) {
		counters->state = TRINOGUARD__V1__COUNTER_STATE__COUNTERS_UNREACHABLE;
	} else {
		counters->state = snap->counters_state;
		counters->error = snap->counters_error[0] ? (char *)snap->counters_error : NULL;
	}
	if (counters->state == TRINOGUARD__V1__COUNTER_STATE__COUNTERS_OK)
		counters_copy_values(counters, snap);
}

/*
 * The query list, when this coordinator's agent reads it and Trino answers:
 * a stale list of an unreachable coordinator is no list at all.
 */
static void report_set_query_list(NodeReport *report, QueryList *list,
                                  const struct poll_snapshot *snap, bool reachable)
{
	const struct query_list *polled = &snap->query_list;
	if (!snap->info.coordinator || !reachable || !polled->polled)
		return;
	report->query_list = list;
	if (!polled->ok) {
		list->error = (char *)polled->error;
		return;
	}
	list->has_unfinished = 1;
	list->unfinished = polled->unfinished;
	if (polled->oldest_elapsed_ms >= 0) {
		list->has_oldest_elapsed_ms = 1;
		list->oldest_elapsed_ms = (uint64_t)polled->oldest_elapsed_ms;
	}
}

/*
 * Room for key digests in one report. A report goes out every interval, so
 * the keys must stay a fraction of it: 16 KiB is some 350 keys, enough for
 * config.properties and a few dozen catalogs; files beyond it are named
 * without their keys (an older agent's report).
 */
#define REPORT_KEYS_BUDGET_BYTES (16 * 1024)
/* What a report may grow by beyond what its packed size says: length prefixes. */
#define REPORT_SIZE_MARGIN_BYTES 256

/* The arrays a report's config points into; freed by config_wire_free after encoding. */
struct config_wire {
	ConfigDigest *digests;
	ConfigDigest **digest_ptrs;
	KeyDigest *keys;
	KeyDigest **key_ptrs;
	size_t keys_used;
};

static void config_wire_free(struct config_wire *wire)
{
	free(wire->digests);
	free(wire->digest_ptrs);
	free(wire->keys);
	free(wire->key_ptrs);
}

/* One ConfigDigest per file; path, hash and error are borrowed from the file. */
static void config_digest_fill(ConfigDigest *digest, const struct digest_file *file)
{
	ConfigDigest init = TRINOGUARD__V1__CONFIG_DIGEST__INIT;
	*digest = init;
	digest->path = file->path;
	if (file->ok) {
		digest->has_sha256 = 1;
		digest->sha256.data = (uint8_t *)file->sha256;
		digest->sha256.len = 32;
	} else {
		digest->error = (char *)file->error;
	}
}

/* The bytes FILE's keys add to a report, a little over rather than under. */
static size_t keys_wire_bytes(const struct digest_file *file)
{
	size_t bytes = 2 + 2; /* keys_listed; the ConfigDigest's longer length prefix */
	for (size_t i = 0; i < file->keys.count; i++) {
		size_t key_len = strlen(file->keys.items[i].key);
		size_t inner = 1 + (key_len > 127 ? 2 : 1) + key_len + 2 + REPORT_KEY_DIGEST_BYTES;
		bytes += 1 + (inner > 127 ? 2 : 1) + inner;
	}
	return bytes;
}

/* Points DIGEST at FILE's keys, taken from WIRE's arrays (borrowed from the file). */
static void config_digest_keys(ConfigDigest *digest, const struct digest_file *file,
                               struct config_wire *wire)
{
	KeyDigest init = TRINOGUARD__V1__KEY_DIGEST__INIT;
	digest->keys = &wire->key_ptrs[wire->keys_used];
	digest->n_keys = file->keys.count;
	digest->has_keys_listed = 1;
	digest->keys_listed = 1;
	for (size_t i = 0; i < file->keys.count; i++) {
		KeyDigest *key = &wire->keys[wire->keys_used];
		*key = init;
		key->key = file->keys.items[i].key;
		key->has_digest = 1;
		key->digest.data = (uint8_t *)file->keys.items[i].digest;
		key->digest.len = REPORT_KEY_DIGEST_BYTES;
		wire->key_ptrs[wire->keys_used++] = key;
	}
}

/*
 * Adds the key digests of the .properties files to the report as far as
 * there is room: top-level files (config.properties first in importance)
 * before those in directories (catalogs), each file whole or not at all.
 */
static int report_set_keys(NodeReport *report, const struct digests *digests,
                           struct config_wire *wire)
{
	size_t total = 0;
	for (size_t i = 0; i < digests->count; i++)
		total += digests->files[i].keys.count;
	wire->keys = calloc(total + 1, sizeof(*wire->keys));
	wire->key_ptrs = calloc(total + 1, sizeof(*wire->key_ptrs));
	if (wire->keys == NULL || wire->key_ptrs == NULL)
		return -1;
	size_t used = trinoguard__v1__node_report__get_packed_size(report);
	size_t room = REPORT_MAX_BYTES - REPORT_SIZE_MARGIN_BYTES > used
	                      ? REPORT_MAX_BYTES - REPORT_SIZE_MARGIN_BYTES - used
	                      : 0;
	if (room > REPORT_KEYS_BUDGET_BYTES)
		room = REPORT_KEYS_BUDGET_BYTES;
	for (int nested = 0; nested < 2; nested++) {
		for (size_t i = 0; i < digests->count; i++) {
			const struct digest_file *file = &digests->files[i];
			if (!file->ok || !file->keys_listed ||
			    (strchr(file->path, '/') != NULL) != nested)
				continue;
			size_t bytes = keys_wire_bytes(file);
			if (bytes > room)
				continue;
			room -= bytes;
			config_digest_keys(&wire->digests[i], file, wire);
		}
	}
	return 0;
}

/*
 * Points the report at the config digests, in arrays the caller frees after
 * encoding (config_wire_free). Returns -1 when out of memory.
 */
static int report_set_config(NodeReport *report, const struct report_input *input,
                             struct config_wire *wire)
{
	size_t digest_count = input->digests != NULL ? input->digests->count : 0;
	wire->digests = calloc(digest_count + 1, sizeof(*wire->digests));
	wire->digest_ptrs = calloc(digest_count + 1, sizeof(*wire->digest_ptrs));
	if (wire->digests == NULL || wire->digest_ptrs == NULL)
		return -1;
	for (size_t i = 0; i < digest_count; i++) {
		config_digest_fill(&wire->digests[i], &input->digests->files[i]);
		wire->digest_ptrs[i] = &wire->digests[i];
	}
	report->n_config = digest_count;
	report->config = wire->digest_ptrs;
	if (input->digests != NULL && input->digests->truncated) {
		report->has_config_files_total = 1;
		report->config_files_total = (uint32_t)input->digests->listed;
	}
	if (input->digests != NULL)
		return report_set_keys(report, input->digests, wire);
	return 0;
}

uint8_t *report_build_encode(const struct report_input *input, size_t *len)
{
	const struct poll_snapshot *snap = input->snapshot;
	NodeReport report = TRINOGUARD__V1__NODE_REPORT__INIT;
	QueryCounters counters = TRINOGUARD__V1__QUERY_COUNTERS__INIT;
	QueryList query_list = TRINOGUARD__V1__QUERY_LIST__INIT;
	/* cppcheck-suppress variableScope ; report.error points into it until encoded */
	char error[600] = "";

	report_set_identity(&report, input);
	bool silent = input->info_silent_ms >= 2 * (int64_t)input->interval_ms;
	bool reachable = snap->have_info && snap->info_ok && !silent;
	if (snap->have_info) {
		/* the last known role still tells the collector which node is down */
		report.has_role = 1;
		report.role = snap->info.coordinator ? TRINOGUARD__V1__NODE_ROLE__ROLE_COORDINATOR
		                                     : TRINOGUARD__V1__NODE_ROLE__ROLE_WORKER;
	}
	report.has_state = 1;
	if (!reachable)
		report_set_unreachable(&report, input, silent, error, sizeof(error));
	else
		report_set_trino_info(&report, snap);
	if (snap->have_info) {
		report_set_counters(&report, &counters, snap, reachable);
		report_set_query_list(&report, &query_list, snap, reachable);
	}

	struct config_wire wire = {0};
	uint8_t *buf = NULL;
	if (report_set_config(&report, input, &wire) == 0)
		buf = report_encode(&report, len);
	config_wire_free(&wire);
	return buf;
}

static char *hex(const uint8_t *data, size_t len, char *out)
{
	for (size_t i = 0; i < len; i++)
		snprintf(out + i * 2, 3, "%02x", data[i]);
	out[len * 2] = '\0';
	return out;
}

char *report_to_json(const NodeReport *r)
{
	char boot[REPORT_BOOT_ID_BYTES * 2 + 1];
	json_t *root = json_object();
	json_object_set_new(root, "schema_version", json_integer(r->schema_version));
	json_object_set_new(root, "agent_id", json_string(r->agent_id));
	json_object_set_new(root, "boot_id",
	                    json_string(hex(r->boot_id.data, r->boot_id.len, boot)));
	json_object_set_new(root, "seq", json_integer((json_int_t)r->seq));
	json_object_set_new(root, "sent_unix_ms", json_integer(r->sent_unix_ms));
	json_object_set_new(root, "interval_ms", json_integer(r->interval_ms));
	json_object_set_new(root, "cluster", json_string(r->cluster));
	json_object_set_new(root, "node_id", json_string(r->node_id));
	json_object_set_new(root, "role", json_string(report_role_name(r->role)));
	json_object_set_new(root, "state", json_string(report_state_name(r->state)));
	if (r->trino_version != NULL)
		json_object_set_new(root, "trino_version", json_string(r->trino_version));
	if (r->environment != NULL)
		json_object_set_new(root, "environment", json_string(r->environment));
	if (r->has_trino_uptime_ms)
		json_object_set_new(root, "trino_uptime_ms",
		                    json_integer((json_int_t)r->trino_uptime_ms));
	if (r->trino_node_id != NULL)
		json_object_set_new(root, "trino_node_id", json_string(r->trino_node_id));
	if (r->coordinator_id != NULL)
		json_object_set_new(root, "coordinator_id", json_string(r->coordinator_id));
	if (r->coordinator_id_from != NULL)
		json_object_set_new(root, "coordinator_id_from",
		                    json_string(r->coordinator_id_from));
	if (r->error != NULL)
		json_object_set_new(root, "error", json_string(r->error));
	if (r->counters != NULL) {
		const QueryCounters *c = r->counters;
		json_t *counters = json_object();
		json_object_set_new(counters, "state",
		                    json_string(report_counter_state_name(c->state)));
		if (c->error != NULL)
			json_object_set_new(counters, "error", json_string(c->error));
		if (c->has_completed) {
			json_object_set_new(counters, "source", json_string(c->source));
			const struct {
				const char *name;
				uint64_t value;
			} values[] = {{"completed", c->completed},
			              {"failed", c->failed},
			              {"user_error", c->user_error},
			              {"internal", c->internal},
			              {"external", c->external},
			              {"insufficient_resources", c->insufficient_resources},
			              {"canceled", c->canceled},
			              {"abandoned", c->abandoned},
			              {"running", c->running},
			              {"queued", c->queued}};
			for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++)
				json_object_set_new(counters, values[i].name,
				                    json_integer((json_int_t)values[i].value));
		}
		if (c->has_active_nodes)
			json_object_set_new(counters, "active_nodes",
			                    json_integer(c->active_nodes));
		if (c->active_nodes_from != NULL)
			json_object_set_new(counters, "active_nodes_from",
			                    json_string(c->active_nodes_from));
		json_object_set_new(root, "counters", counters);
	}
	if (r->query_list != NULL) {
		const QueryList *q = r->query_list;
		json_t *list = q->error != NULL ? json_pack("{s:s}", "error", q->error)
		                                : json_pack("{s:I}", "unfinished",
		                                            (json_int_t)q->unfinished);
		if (q->has_oldest_elapsed_ms)
			json_object_set_new(list, "oldest_elapsed_ms",
			                    json_integer((json_int_t)q->oldest_elapsed_ms));
		json_object_set_new(root, "query_list", list);
	}
	json_t *config = json_object();
	for (size_t i = 0; i < r->n_config; i++) {
		char sha[65];
		const ConfigDigest *d = r->config[i];
		json_object_set_new(config, d->path,
		                    d->has_sha256 ? json_string(hex(d->sha256.data, 32, sha))
		                                  : json_pack("{s:s}", "error", d->error));
	}
	json_object_set_new(root, "config", config);
	/* the key digests the report carries, by file: what config-drift compares */
	json_t *config_keys = json_object();
	for (size_t i = 0; i < r->n_config; i++) {
		const ConfigDigest *d = r->config[i];
		if (!d->keys_listed)
			continue;
		json_t *keys = json_object();
		for (size_t k = 0; k < d->n_keys; k++) {
			char digest[REPORT_KEY_DIGEST_BYTES * 2 + 1];
			json_object_set_new(keys, d->keys[k]->key,
			                    json_string(hex(d->keys[k]->digest.data,
			                                    REPORT_KEY_DIGEST_BYTES, digest)));
		}
		json_object_set_new(config_keys, d->path, keys);
	}
	json_object_set_new(root, "config_keys", config_keys);
	char *text = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(root);
	return text;
}
