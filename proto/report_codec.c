/*
 * NodeReport codec. protobuf-c decodes a zero-length buffer, or one cut at a
 * field boundary, "successfully", and does not check UTF-8 or enum ranges in
 * proto2, so every decoded report goes through report_validate().
 */
#include "report_codec.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "utf8.h"

/* 2020-01-01T00:00:00Z: an agent clock before this is broken, not early. */
#define REPORT_MIN_PLAUSIBLE_MS 1577836800000LL

static const char *const reject_names[REPORT_REJECT_COUNT] = {
        [REPORT_OK] = "ok",
        [REPORT_REJECT_EMPTY] = "empty",
        [REPORT_REJECT_TOO_LARGE] = "too_large",
        [REPORT_REJECT_MALFORMED] = "malformed",
        [REPORT_REJECT_MISSING_FIELD] = "missing_field",
        [REPORT_REJECT_STRING_TOO_LONG] = "string_too_long",
        [REPORT_REJECT_INVALID_UTF8] = "invalid_utf8",
        [REPORT_REJECT_BAD_ENUM] = "bad_enum",
        [REPORT_REJECT_BAD_TIMESTAMP] = "bad_timestamp",
        [REPORT_REJECT_SCHEMA_NEWER] = "schema_newer",
        [REPORT_REJECT_BAD_VALUE] = "bad_value",
};

const char *report_reject_name(enum report_reject reject)
{
	if ((int)reject < 0 || reject >= REPORT_REJECT_COUNT)
		return "unknown";
	return reject_names[reject];
}

static enum report_reject fail(char *detail, size_t detail_len, enum report_reject reject,
                               const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static enum report_reject fail(char *detail, size_t detail_len, enum report_reject reject,
                               const char *fmt, ...)
{
	if (detail != NULL && detail_len > 0) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(detail, detail_len, fmt, ap);
		va_end(ap);
	}
	return reject;
}

/* A string field: present when REQUIRED, bounded, UTF-8. */
static enum report_reject check_string(const char *value, const char *field, bool required,
                                       size_t max_len, char *detail, size_t detail_len)
{
	if (value == NULL || (required && value[0] == '\0')) {
		if (required)
			return fail(detail, detail_len, REPORT_REJECT_MISSING_FIELD,
			            "missing field %s", field);
		return REPORT_OK;
	}
	size_t len = strlen(value);
	if (len > max_len)
		return fail(detail, detail_len, REPORT_REJECT_STRING_TOO_LONG,
		            "%s is %zu bytes, at most %zu allowed", field, len, max_len);
	if (!utf8_valid(value, len))
		return fail(detail, detail_len, REPORT_REJECT_INVALID_UTF8, "%s is not valid UTF-8",
		            field);
	return REPORT_OK;
}

static bool cluster_name_ok(const char *name)
{
	for (const char *p = name; *p != '\0'; p++) {
		char c = *p;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_' || c == '.'))
			return false;
	}
	return true;
}

static enum report_reject check_counters(const QueryCounters *counters, char *detail,
                                         size_t detail_len)
{
	if (counters->has_state &&
	    (counters->state < TRINOGUARD__V1__COUNTER_STATE__COUNTERS_UNKNOWN ||
	     counters->state > TRINOGUARD__V1__COUNTER_STATE__COUNTERS_MISSING))
		return fail(detail, detail_len, REPORT_REJECT_BAD_ENUM,
		            "counters.state %d is not a known value", (int)counters->state);
	enum report_reject r = check_string(counters->error, "counters.error", false,
	                                    REPORT_MAX_ERROR_LEN, detail, detail_len);
	if (r != REPORT_OK)
		return r;
	r = check_string(counters->source, "counters.source", false, REPORT_MAX_SHORT_LEN, detail,
	                 detail_len);
	if (r != REPORT_OK)
		return r;
	return check_string(counters->active_nodes_from, "counters.active_nodes_from", false,
	                    REPORT_MAX_SHORT_LEN, detail, detail_len);
}

/* A file's key digests: only with its hash and keys_listed, bounded, sorted, unique. */
static enum report_reject check_keys(const ConfigDigest *digest, size_t *key_total, char *detail,
                                     size_t detail_len)
{
	if (digest->n_keys == 0)
		return REPORT_OK;
	if (!digest->has_sha256 || !digest->has_keys_listed || !digest->keys_listed)
		return fail(detail, detail_len, REPORT_REJECT_BAD_VALUE,
		            "config %s: keys without sha256 and keys_listed", digest->path);
	*key_total += digest->n_keys;
	if (*key_total > REPORT_MAX_KEY_DIGESTS)
		return fail(detail, detail_len, REPORT_REJECT_BAD_VALUE,
		            "over %d config keys, at most %d allowed", REPORT_MAX_KEY_DIGESTS,
		            REPORT_MAX_KEY_DIGESTS);
	for (size_t k = 0; k < digest->n_keys; k++) {
		const KeyDigest *key = digest->keys[k];
		if (key->key == NULL)
			return fail(detail, detail_len, REPORT_REJECT_MISSING_FIELD,
			            "config %s: a key without its name", digest->path);
		enum report_reject r = check_string(key->key, "config.keys.key", false,
		                                    REPORT_MAX_KEY_LEN, detail, detail_len);
		if (r != REPORT_OK)
			return r;
		if (!key->has_digest || key->digest.len != REPORT_KEY_DIGEST_BYTES)
			return fail(detail, detail_len, REPORT_REJECT_BAD_VALUE,
			            "config %s: key %s has no %d-byte digest", digest->path,
			            key->key, REPORT_KEY_DIGEST_BYTES);
		if (k > 0 && strcmp(digest->keys[k - 1]->key, key->key) >= 0)
			return fail(detail, detail_len, REPORT_REJECT_BAD_VALUE,
			            "config %s: keys not sorted or repeated at %s", digest->path,
			            key->key);
	}
	return REPORT_OK;
}

static enum report_reject check_digests(const NodeReport *report, char *detail, size_t detail_len)
{
	size_t key_total = 0;
	if (report->n_config > REPORT_MAX_DIGESTS)
		return fail(detail, detail_len, REPORT_REJECT_BAD_VALUE,
		            "%zu config digests, at most %d allowed", report->n_config,
		            REPORT_MAX_DIGESTS);
	for (size_t i = 0; i < report->n_config; i++) {
		const ConfigDigest *digest = report->config[i];
		enum report_reject r = check_string(digest->path, "config.path", true,
		                                    REPORT_MAX_PATH_LEN, detail, detail_len);
		if (r != REPORT_OK)
			return r;
		r = check_string(digest->error, "config.error", false, REPORT_MAX_ERROR_LEN, detail,
		                 detail_len);
		if (r != REPORT_OK)
			return r;
		if (digest->has_sha256 && digest->sha256.len != 32)
			return fail(detail, detail_len, REPORT_REJECT_BAD_VALUE,
			            "config %s: sha256 is %zu bytes, not 32", digest->path,
			            digest->sha256.len);
		if (!digest->has_sha256 && digest->error == NULL)
			return fail(detail, detail_len, REPORT_REJECT_MISSING_FIELD,
			            "config %s has neither sha256 nor error", digest->path);
		r = check_keys(digest, &key_total, detail, detail_len);
		if (r != REPORT_OK)
			return r;
	}
	return REPORT_OK;
}

enum report_reject report_validate(const NodeReport *report, int64_t now_unix_ms, char *detail,
                                   size_t detail_len)
{
	if (!report->has_schema_version || report->schema_version == 0)
		return fail(detail, detail_len, REPORT_REJECT_MISSING_FIELD,
		            "missing field schema_version");
	if (report->schema_version > REPORT_SCHEMA_VERSION)
		return fail(detail, detail_len, REPORT_REJECT_SCHEMA_NEWER,
		            "schema_version %u is newer than %d", report->schema_version,
		            REPORT_SCHEMA_VERSION);

	static const struct {
		size_t offset;
		const char *name;
		bool required;
		size_t max_len;
	} strings[] = {
	        {offsetof(NodeReport, agent_id), "agent_id", true, REPORT_MAX_ID_LEN},
	        {offsetof(NodeReport, cluster), "cluster", true, REPORT_MAX_CLUSTER_LEN},
	        {offsetof(NodeReport, node_id), "node_id", true, REPORT_MAX_ID_LEN},
	        {offsetof(NodeReport, trino_version), "trino_version", false, REPORT_MAX_SHORT_LEN},
	        {offsetof(NodeReport, environment), "environment", false, REPORT_MAX_SHORT_LEN},
	        {offsetof(NodeReport, agent_version), "agent_version", false, REPORT_MAX_SHORT_LEN},
	        {offsetof(NodeReport, error), "error", false, REPORT_MAX_ERROR_LEN},
	        {offsetof(NodeReport, trino_node_id), "trino_node_id", false, REPORT_MAX_ID_LEN},
	        {offsetof(NodeReport, coordinator_id), "coordinator_id", false, REPORT_MAX_ID_LEN},
	        {offsetof(NodeReport, coordinator_id_from), "coordinator_id_from", false,
	         REPORT_MAX_SHORT_LEN},
	};
	for (size_t i = 0; i < sizeof(strings) / sizeof(strings[0]); i++) {
		const char *value = *(char *const *)((const char *)report + strings[i].offset);
		enum report_reject r = check_string(value, strings[i].name, strings[i].required,
		                                    strings[i].max_len, detail, detail_len);
		if (r != REPORT_OK)
			return r;
	}
	const char *from = report->coordinator_id_from;
	if (from != NULL && (report->coordinator_id == NULL ||
	                     (strcmp(from, "info") != 0 && strcmp(from, "probe") != 0)))
		return fail(detail, detail_len, REPORT_REJECT_BAD_VALUE,
		            "coordinator_id_from '%s' is not info or probe with a coordinator_id",
		            from);
	if (!cluster_name_ok(report->cluster))
		return fail(detail, detail_len, REPORT_REJECT_BAD_VALUE,
		            "cluster '%s' may only use letters, digits, '-', '_' and '.'",
		            report->cluster);

	if (!report->has_boot_id)
		return fail(detail, detail_len, REPORT_REJECT_MISSING_FIELD,
		            "missing field boot_id");
	if (report->boot_id.len != REPORT_BOOT_ID_BYTES)
		return fail(detail, detail_len, REPORT_REJECT_BAD_VALUE,
		            "boot_id is %zu bytes, not %d", report->boot_id.len,
		            REPORT_BOOT_ID_BYTES);
	if (!report->has_seq || report->seq == 0)
		return fail(detail, detail_len, REPORT_REJECT_MISSING_FIELD, "missing field seq");
	if (!report->has_interval_ms || report->interval_ms == 0)
		return fail(detail, detail_len, REPORT_REJECT_MISSING_FIELD,
		            "missing field interval_ms");
	if (report->interval_ms > 3600 * 1000)
		return fail(detail, detail_len, REPORT_REJECT_BAD_VALUE,
		            "interval_ms %u is over an hour", report->interval_ms);
	if (!report->has_sent_unix_ms)
		return fail(detail, detail_len, REPORT_REJECT_MISSING_FIELD,
		            "missing field sent_unix_ms");
	if (report->sent_unix_ms < REPORT_MIN_PLAUSIBLE_MS)
		return fail(detail, detail_len, REPORT_REJECT_BAD_TIMESTAMP,
		            "sent_unix_ms %lld is before 2020", (long long)report->sent_unix_ms);
	if (report->sent_unix_ms > now_unix_ms + REPORT_MAX_FUTURE_MS)
		return fail(detail, detail_len, REPORT_REJECT_BAD_TIMESTAMP,
		            "sent_unix_ms is %lld s in the future",
		            (long long)((report->sent_unix_ms - now_unix_ms) / 1000));

	if (report->has_role && (report->role < TRINOGUARD__V1__NODE_ROLE__ROLE_UNKNOWN ||
	                         report->role > TRINOGUARD__V1__NODE_ROLE__ROLE_WORKER))
		return fail(detail, detail_len, REPORT_REJECT_BAD_ENUM,
		            "role %d is not a known value", (int)report->role);
	if (report->has_state && (report->state < TRINOGUARD__V1__NODE_STATE__STATE_UNKNOWN ||
	                          report->state > TRINOGUARD__V1__NODE_STATE__STATE_UNREACHABLE))
		return fail(detail, detail_len, REPORT_REJECT_BAD_ENUM,
		            "state %d is not a known value", (int)report->state);

	if (report->counters != NULL) {
		enum report_reject r = check_counters(report->counters, detail, detail_len);
		if (r != REPORT_OK)
			return r;
	}
	if (report->query_list != NULL) {
		enum report_reject r =
		        check_string(report->query_list->error, "query_list.error", false,
		                     REPORT_MAX_ERROR_LEN, detail, detail_len);
		if (r != REPORT_OK)
			return r;
	}
	return check_digests(report, detail, detail_len);
}

/* Whether MESSAGE carries a field numbered 0, which protobuf forbids but
 * protobuf-c keeps as an unknown field when its tag is a padded varint (and
 * then writes a tag no decoder reads back). */
static bool has_field_zero(const ProtobufCMessage *message)
{
	for (unsigned i = 0; i < message->n_unknown_fields; i++) {
		if (message->unknown_fields[i].tag == 0)
			return true;
	}
	return false;
}

static bool report_has_field_zero(const NodeReport *report)
{
	if (has_field_zero(&report->base))
		return true;
	if (report->counters != NULL && has_field_zero(&report->counters->base))
		return true;
	if (report->query_list != NULL && has_field_zero(&report->query_list->base))
		return true;
	for (size_t i = 0; i < report->n_config; i++) {
		if (has_field_zero(&report->config[i]->base))
			return true;
		for (size_t k = 0; k < report->config[i]->n_keys; k++)
			if (has_field_zero(&report->config[i]->keys[k]->base))
				return true;
	}
	return false;
}

NodeReport *report_decode(const uint8_t *buf, size_t len, int64_t now_unix_ms,
                          enum report_reject *reject, char *detail, size_t detail_len)
{
	if (len == 0) {
		*reject = fail(detail, detail_len, REPORT_REJECT_EMPTY, "empty message");
		return NULL;
	}
	if (len > REPORT_MAX_BYTES) {
		*reject = fail(detail, detail_len, REPORT_REJECT_TOO_LARGE,
		               "%zu bytes, at most %d allowed", len, REPORT_MAX_BYTES);
		return NULL;
	}
	NodeReport *report = trinoguard__v1__node_report__unpack(NULL, len, buf);
	if (report == NULL) {
		*reject = fail(detail, detail_len, REPORT_REJECT_MALFORMED,
		               "not a NodeReport (malformed or truncated protobuf)");
		return NULL;
	}
	if (report_has_field_zero(report)) {
		report_free(report);
		*reject = fail(detail, detail_len, REPORT_REJECT_MALFORMED,
		               "not a NodeReport (a field numbered 0)");
		return NULL;
	}
	*reject = report_validate(report, now_unix_ms, detail, detail_len);
	if (*reject != REPORT_OK) {
		report_free(report);
		return NULL;
	}
	return report;
}

void report_free(NodeReport *report)
{
	if (report != NULL)
		trinoguard__v1__node_report__free_unpacked(report, NULL);
}

uint8_t *report_encode(const NodeReport *report, size_t *len)
{
	size_t size = trinoguard__v1__node_report__get_packed_size(report);
	uint8_t *buf = malloc(size > 0 ? size : 1);
	if (buf == NULL)
		return NULL;
	*len = trinoguard__v1__node_report__pack(report, buf);
	return buf;
}
