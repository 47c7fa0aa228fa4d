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
	report->coordinator_id =
	        snap->info.coordinator_id[0] ? (char *)snap->info.coordinator_id : NULL;
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

/*
 * Points the report at the config digests, in two new arrays the caller frees
 * after encoding (*digests_out, *digest_ptrs_out). Returns -1 when out of memory.
 */
static int report_set_config(NodeReport *report, const struct report_input *input,
                             ConfigDigest **digests_out, ConfigDigest ***digest_ptrs_out)
{
	size_t digest_count = input->digests != NULL ? input->digests->count : 0;
	ConfigDigest *digests = calloc(digest_count + 1, sizeof(*digests));
	ConfigDigest **digest_ptrs = calloc(digest_count + 1, sizeof(*digest_ptrs));
	if (digests == NULL || digest_ptrs == NULL) {
		free(digests);
		free(digest_ptrs);
		return -1;
	}
	for (size_t i = 0; i < digest_count; i++) {
		config_digest_fill(&digests[i], &input->digests->files[i]);
		digest_ptrs[i] = &digests[i];
	}
	report->n_config = digest_count;
	report->config = digest_ptrs;
	if (input->digests != NULL && input->digests->truncated) {
		report->has_config_files_total = 1;
		report->config_files_total = (uint32_t)input->digests->listed;
	}
	*digests_out = digests;
	*digest_ptrs_out = digest_ptrs;
	return 0;
}

uint8_t *report_build_encode(const struct report_input *input, size_t *len)
{
	const struct poll_snapshot *snap = input->snapshot;
	NodeReport report = TRINOGUARD__V1__NODE_REPORT__INIT;
	QueryCounters counters = TRINOGUARD__V1__QUERY_COUNTERS__INIT;
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
	if (snap->have_info)
		report_set_counters(&report, &counters, snap, reachable);

	ConfigDigest *digests;
	ConfigDigest **digest_ptrs;
	if (report_set_config(&report, input, &digests, &digest_ptrs) != 0)
		return NULL;
	uint8_t *buf = report_encode(&report, len);
	free(digests);
	free(digest_ptrs);
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
	json_t *config = json_object();
	for (size_t i = 0; i < r->n_config; i++) {
		char sha[65];
		const ConfigDigest *d = r->config[i];
		json_object_set_new(config, d->path,
		                    d->has_sha256 ? json_string(hex(d->sha256.data, 32, sha))
		                                  : json_pack("{s:s}", "error", d->error));
	}
	json_object_set_new(root, "config", config);
	char *text = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(root);
	return text;
}
