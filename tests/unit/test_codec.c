/*
 * Unit tests of the NodeReport codec: golden bytes (the wire must not change
 * by accident), round trips, and one row per reject reason.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "report_fixture.h"

#define NOW_MS (FIXTURE_SENT_MS + 1000)

static char *to_hex(const uint8_t *buf, size_t len)
{
	char *hex = malloc(len * 2 + 1);
	for (size_t i = 0; i < len; i++)
		snprintf(hex + i * 2, 3, "%02x", buf[i]);
	hex[len * 2] = '\0';
	return hex;
}

static size_t from_hex(const char *hex, uint8_t *out, size_t cap)
{
	size_t n = strlen(hex) / 2;
	assert_true(n <= cap);
	for (size_t i = 0; i < n; i++) {
		unsigned v;
		sscanf(hex + i * 2, "%2x", &v);
		out[i] = (uint8_t)v;
	}
	return n;
}

/*
 * A minimal report (required fields only). Hand-checked against
 * `protoc --decode` (the cross-check test does the same automatically).
 */
static const char minimal_golden_hex[] =
        "0801"                                 /* 1: schema_version 1 */
        "120161"                               /* 2: agent_id "a" */
        "1a10a0a1a2a3a4a5a6a7a8a9aaabacadaeaf" /* 3: boot_id, 16 bytes */
        "2007"                                 /* 4: seq 7 */
        "28d0f4b4e8a034"                       /* 5: sent_unix_ms */
        "30e807"                               /* 6: interval_ms 1000 */
        "3a04626c7565"                         /* 7: cluster "blue" */
        "420162";                              /* 8: node_id "b" */

static void build_minimal(struct report_fixture *f)
{
	report_fixture_init(f);
	NodeReport *r = &f->report;
	r->agent_id = "a";
	r->node_id = "b";
	r->cluster = "blue";
	r->seq = 7;
	r->sent_unix_ms = 1795515300432LL;
	r->has_role = 0;
	r->trino_version = NULL;
	r->environment = NULL;
	r->has_state = 0;
	r->has_trino_uptime_ms = 0;
	r->agent_version = NULL;
	r->n_config = 0;
	r->counters = NULL;
}

static void test_minimal_report_matches_golden_bytes(void **state)
{
	(void)state;
	struct report_fixture f;
	build_minimal(&f);
	size_t len = 0;
	uint8_t *buf = report_encode(&f.report, &len);
	assert_non_null(buf);
	char *hex = to_hex(buf, len);
	assert_string_equal(hex, minimal_golden_hex);
	free(hex);
	free(buf);
}

static void test_golden_bytes_decode(void **state)
{
	(void)state;
	uint8_t buf[256];
	size_t len = from_hex(minimal_golden_hex, buf, sizeof(buf));
	enum report_reject reject;
	char detail[256];
	NodeReport *r = report_decode(buf, len, 1795515300432LL, &reject, detail, sizeof(detail));
	assert_non_null(r);
	assert_int_equal(reject, REPORT_OK);
	assert_string_equal(r->agent_id, "a");
	assert_string_equal(r->cluster, "blue");
	assert_int_equal(r->seq, 7);
	assert_int_equal(r->sent_unix_ms, 1795515300432LL);
	assert_int_equal(r->boot_id.data[15], 0xaf);
	assert_null(r->counters);
	report_free(r);
}

static void test_full_report_round_trips(void **state)
{
	(void)state;
	struct report_fixture f;
	report_fixture_init(&f);
	size_t len = 0;
	uint8_t *buf = report_encode(&f.report, &len);
	enum report_reject reject;
	char detail[256] = "";
	NodeReport *r = report_decode(buf, len, NOW_MS, &reject, detail, sizeof(detail));
	if (r == NULL)
		fail_msg("rejected: %s", detail);
	assert_string_equal(r->node_id, "green-coord");
	assert_int_equal(r->role, TRINOGUARD__V1__NODE_ROLE__ROLE_COORDINATOR);
	assert_int_equal(r->state, TRINOGUARD__V1__NODE_STATE__STATE_ACTIVE);
	assert_int_equal(r->n_config, 2);
	assert_string_equal(r->config[1]->path, "catalog/hive.properties");
	assert_string_equal(r->config[1]->error, "Permission denied");
	assert_memory_equal(r->config[0]->sha256.data, f.sha, 32);
	assert_true(r->config[0]->keys_listed);
	assert_int_equal(r->config[0]->n_keys, 2);
	assert_string_equal(r->config[0]->keys[1]->key, "query.max-memory");
	assert_memory_equal(r->config[0]->keys[1]->digest.data, f.key_digest[1],
	                    REPORT_KEY_DIGEST_BYTES);
	assert_false(r->config[1]->has_keys_listed);
	assert_int_equal(r->config[1]->n_keys, 0);
	assert_int_equal(r->counters->completed, 1538);
	assert_int_equal(r->counters->canceled, 5);
	assert_string_equal(r->counters->source, "metrics");
	report_free(r);
	free(buf);
}

/* A mutation of the full fixture and the reject it must produce. */
struct reject_case {
	const char *name;
	void (*mutate)(struct report_fixture *f);
	enum report_reject expected;
	const char *detail_contains;
};

static void no_schema(struct report_fixture *f)
{
	f->report.has_schema_version = 0;
}
static void newer_schema(struct report_fixture *f)
{
	f->report.schema_version = REPORT_SCHEMA_VERSION + 1;
}
static void no_node_id(struct report_fixture *f)
{
	f->report.node_id = NULL;
}
static void empty_cluster(struct report_fixture *f)
{
	f->report.cluster = "";
}
static void no_boot_id(struct report_fixture *f)
{
	f->report.has_boot_id = 0;
}
static void short_boot_id(struct report_fixture *f)
{
	f->report.boot_id.len = 8;
}
static void no_seq(struct report_fixture *f)
{
	f->report.has_seq = 0;
}
static void no_interval(struct report_fixture *f)
{
	f->report.has_interval_ms = 0;
}
static void no_sent(struct report_fixture *f)
{
	f->report.has_sent_unix_ms = 0;
}
static void future_sent(struct report_fixture *f)
{
	f->report.sent_unix_ms = NOW_MS + 25 * 3600 * 1000LL;
}
static void ancient_sent(struct report_fixture *f)
{
	f->report.sent_unix_ms = 1000;
}
static void long_version(struct report_fixture *f)
{
	static char version[REPORT_MAX_SHORT_LEN + 2];
	memset(version, '4', sizeof(version) - 1);
	version[sizeof(version) - 1] = '\0';
	f->report.trino_version = version;
}
static void latin1_environment(struct report_fixture *f)
{
	f->report.environment = "produc\xe9";
}
static void bad_utf8_digest_path(struct report_fixture *f)
{
	f->digests[0].path = "catalog/\xc3\x28.properties";
}
static void bad_role(struct report_fixture *f)
{
	f->report.role = 9;
}
static void bad_state(struct report_fixture *f)
{
	f->report.state = 42;
}
static void bad_counter_state(struct report_fixture *f)
{
	f->counters.state = 77;
}
static void cluster_with_space(struct report_fixture *f)
{
	f->report.cluster = "blue green";
}
static void short_sha(struct report_fixture *f)
{
	f->digests[0].sha256.len = 20;
}
static void digest_without_hash_or_error(struct report_fixture *f)
{
	f->digests[1].error = NULL;
}
static void keys_unsorted(struct report_fixture *f)
{
	f->keys[0].key = "zzz";
}
static void key_repeated(struct report_fixture *f)
{
	f->keys[1].key = "coordinator";
}
static void key_digest_short(struct report_fixture *f)
{
	f->keys[1].digest.len = 4;
}
static void key_without_digest(struct report_fixture *f)
{
	f->keys[0].has_digest = 0;
}
static void key_without_name(struct report_fixture *f)
{
	f->keys[0].key = NULL;
}
static void key_not_utf8(struct report_fixture *f)
{
	f->keys[0].key = "caf\xe9";
}
static void key_too_long(struct report_fixture *f)
{
	static char key[REPORT_MAX_KEY_LEN + 2];
	memset(key, 'a', sizeof(key) - 1);
	key[sizeof(key) - 1] = '\0';
	f->keys[0].key = key;
}
static void keys_not_listed(struct report_fixture *f)
{
	f->digests[0].keys_listed = 0;
}
static void keys_of_an_unreadable_file(struct report_fixture *f)
{
	f->digests[1].n_keys = 2;
	f->digests[1].keys = f->key_ptrs;
	f->digests[1].has_keys_listed = 1;
	f->digests[1].keys_listed = 1;
}
static void keys_too_many(struct report_fixture *f)
{
	/* empty names, so that they fit REPORT_MAX_BYTES */
	static KeyDigest *many[REPORT_MAX_KEY_DIGESTS + 1];
	f->keys[0].key = "";
	for (size_t i = 0; i < REPORT_MAX_KEY_DIGESTS + 1; i++)
		many[i] = &f->keys[0];
	f->digests[0].keys = many;
	f->digests[0].n_keys = REPORT_MAX_KEY_DIGESTS + 1;
}

static void coordinator_id_from_unknown(struct report_fixture *f)
{
	f->report.coordinator_id = "k3x9a";
	f->report.coordinator_id_from = "guess";
}
static void coordinator_id_from_without_id(struct report_fixture *f)
{
	f->report.coordinator_id = NULL;
	f->report.coordinator_id_from = "probe";
}

static const struct reject_case reject_cases[] = {
        {"schema_version missing", no_schema, REPORT_REJECT_MISSING_FIELD, "schema_version"},
        {"schema newer than understood", newer_schema, REPORT_REJECT_SCHEMA_NEWER, "newer"},
        {"node_id missing", no_node_id, REPORT_REJECT_MISSING_FIELD, "node_id"},
        {"cluster empty", empty_cluster, REPORT_REJECT_MISSING_FIELD, "cluster"},
        {"boot_id missing", no_boot_id, REPORT_REJECT_MISSING_FIELD, "boot_id"},
        {"boot_id wrong size", short_boot_id, REPORT_REJECT_BAD_VALUE, "boot_id"},
        {"seq missing", no_seq, REPORT_REJECT_MISSING_FIELD, "seq"},
        {"interval missing", no_interval, REPORT_REJECT_MISSING_FIELD, "interval_ms"},
        {"sent time missing", no_sent, REPORT_REJECT_MISSING_FIELD, "sent_unix_ms"},
        {"sent time far in the future", future_sent, REPORT_REJECT_BAD_TIMESTAMP, "future"},
        {"sent time before 2020", ancient_sent, REPORT_REJECT_BAD_TIMESTAMP, "2020"},
        {"version too long", long_version, REPORT_REJECT_STRING_TOO_LONG, "trino_version"},
        {"environment not UTF-8", latin1_environment, REPORT_REJECT_INVALID_UTF8, "environment"},
        {"digest path not UTF-8", bad_utf8_digest_path, REPORT_REJECT_INVALID_UTF8, "config.path"},
        {"role out of range", bad_role, REPORT_REJECT_BAD_ENUM, "role"},
        {"state out of range", bad_state, REPORT_REJECT_BAD_ENUM, "state"},
        {"counter state out of range", bad_counter_state, REPORT_REJECT_BAD_ENUM, "counters.state"},
        {"cluster name with a space", cluster_with_space, REPORT_REJECT_BAD_VALUE, "cluster"},
        {"sha256 not 32 bytes", short_sha, REPORT_REJECT_BAD_VALUE, "sha256"},
        {"digest with neither hash nor error", digest_without_hash_or_error,
         REPORT_REJECT_MISSING_FIELD, "neither"},
        {"keys out of order", keys_unsorted, REPORT_REJECT_BAD_VALUE, "not sorted"},
        {"a key twice", key_repeated, REPORT_REJECT_BAD_VALUE, "repeated at coordinator"},
        {"key digest not 8 bytes", key_digest_short, REPORT_REJECT_BAD_VALUE, "8-byte digest"},
        {"key without digest", key_without_digest, REPORT_REJECT_BAD_VALUE, "8-byte digest"},
        {"key without name", key_without_name, REPORT_REJECT_MISSING_FIELD, "without its name"},
        {"key not UTF-8", key_not_utf8, REPORT_REJECT_INVALID_UTF8, "config.keys.key"},
        {"key too long", key_too_long, REPORT_REJECT_STRING_TOO_LONG, "config.keys.key"},
        {"more keys than a report carries", keys_too_many, REPORT_REJECT_BAD_VALUE, "config keys"},
        {"coordinator_id_from neither info nor probe", coordinator_id_from_unknown,
         REPORT_REJECT_BAD_VALUE, "coordinator_id_from 'guess'"},
        {"coordinator_id_from without coordinator_id", coordinator_id_from_without_id,
         REPORT_REJECT_BAD_VALUE, "with a coordinator_id"},
        {"keys without keys_listed", keys_not_listed, REPORT_REJECT_BAD_VALUE, "keys_listed"},
        {"keys of a file that could not be read", keys_of_an_unreadable_file,
         REPORT_REJECT_BAD_VALUE, "catalog/hive.properties: keys without"},
};

static void test_every_reject_reason(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(reject_cases) / sizeof(reject_cases[0]); i++) {
		const struct reject_case *c = &reject_cases[i];
		struct report_fixture f;
		report_fixture_init(&f);
		c->mutate(&f);
		size_t len = 0;
		uint8_t *buf = report_encode(&f.report, &len);
		enum report_reject reject = REPORT_OK;
		char detail[256] = "";
		NodeReport *r = report_decode(buf, len, NOW_MS, &reject, detail, sizeof(detail));
		free(buf);
		if (r != NULL) {
			report_free(r);
			fail_msg("case '%s': accepted", c->name);
		}
		if (reject != c->expected)
			fail_msg("case '%s': reject %s, expected %s (%s)", c->name,
			         report_reject_name(reject), report_reject_name(c->expected),
			         detail);
		if (strstr(detail, c->detail_contains) == NULL)
			fail_msg("case '%s': detail '%s' lacks '%s'", c->name, detail,
			         c->detail_contains);
	}
}

static void test_byte_level_rejects(void **state)
{
	(void)state;
	enum report_reject reject;
	char detail[256];
	uint8_t junk[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

	assert_null(report_decode(junk, 0, NOW_MS, &reject, detail, sizeof(detail)));
	assert_int_equal(reject, REPORT_REJECT_EMPTY);

	assert_null(report_decode(junk, sizeof(junk), NOW_MS, &reject, detail, sizeof(detail)));
	assert_int_equal(reject, REPORT_REJECT_MALFORMED);

	uint8_t *big = calloc(1, REPORT_MAX_BYTES + 1);
	assert_null(
	        report_decode(big, REPORT_MAX_BYTES + 1, NOW_MS, &reject, detail, sizeof(detail)));
	assert_int_equal(reject, REPORT_REJECT_TOO_LARGE);
	free(big);

	/* Cut inside a field: protobuf-c fails. Cut at a field boundary: it decodes,
	 * and validation catches the missing fields. */
	struct report_fixture f;
	report_fixture_init(&f);
	size_t len = 0;
	uint8_t *buf = report_encode(&f.report, &len);
	assert_null(report_decode(buf, len - 1, NOW_MS, &reject, detail, sizeof(detail)));
	assert_int_equal(reject, REPORT_REJECT_MALFORMED);
	size_t boundary = 2 + 2 + strlen("agent-green-coord"); /* fields 1 and 2 */
	assert_null(report_decode(buf, boundary, NOW_MS, &reject, detail, sizeof(detail)));
	assert_int_equal(reject, REPORT_REJECT_MISSING_FIELD);
	assert_non_null(strstr(detail, "cluster"));
	free(buf);

	/* A length prefix claiming 4 GiB with one byte present. */
	uint8_t huge_len[] = {0x12, 0xff, 0xff, 0xff, 0xff, 0x0f, 'a'};
	assert_null(
	        report_decode(huge_len, sizeof(huge_len), NOW_MS, &reject, detail, sizeof(detail)));
	assert_int_equal(reject, REPORT_REJECT_MALFORMED);
}

static void test_unknown_fields_are_kept(void **state)
{
	(void)state;
	/* A newer agent may add fields; an older collector must still accept it. */
	struct report_fixture f;
	build_minimal(&f);
	size_t len = 0;
	uint8_t *buf = report_encode(&f.report, &len);
	uint8_t extended[512];
	memcpy(extended, buf, len);
	const uint8_t extra[] = {0xfa, 0x06, 0x03, 'n', 'e', 'w'}; /* field 111, "new" */
	memcpy(extended + len, extra, sizeof(extra));
	enum report_reject reject;
	char detail[256];
	NodeReport *r = report_decode(extended, len + sizeof(extra), 1795515300432LL, &reject,
	                              detail, sizeof(detail));
	assert_non_null(r);
	assert_int_equal(r->base.n_unknown_fields, 1);
	report_free(r);
	free(buf);
}

static void test_reject_names_are_distinct(void **state)
{
	(void)state;
	for (int i = 0; i < REPORT_REJECT_COUNT; i++) {
		assert_non_null(report_reject_name((enum report_reject)i));
		for (int k = 0; k < i; k++)
			assert_string_not_equal(report_reject_name((enum report_reject)i),
			                        report_reject_name((enum report_reject)k));
	}
	assert_string_equal(report_reject_name(REPORT_REJECT_COUNT), "unknown");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_minimal_report_matches_golden_bytes),
	        cmocka_unit_test(test_golden_bytes_decode),
	        cmocka_unit_test(test_full_report_round_trips),
	        cmocka_unit_test(test_every_reject_reason),
	        cmocka_unit_test(test_byte_level_rejects),
	        cmocka_unit_test(test_unknown_fields_are_kept),
	        cmocka_unit_test(test_reject_names_are_distinct),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
