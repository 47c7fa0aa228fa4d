/*
 * config-drift naming the keys that differ: one row per case, workers whose
 * config.properties differ, each listing its keys with a digest byte (or
 * listing none, as an older agent); what the finding's summary must say and
 * must not. Then which key names look secret, and a node's keys kept across
 * reports of an unchanged file.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "config_drift_keys.h"
#include "findings.h"
#include "fleet_fixture.h"

#define MAX_KEYS 8

struct keyed_worker {
	const char *id;
	const char *file; /* the file's digest byte ("aa"); NULL: no config.properties */
	const char *keys; /* "name=01,name=02" (digest bytes); NULL: no key list */
};

struct drift_case {
	const char *name;
	struct keyed_worker workers[4];
	const char *contains[3];
	const char *lacks[3];
};

static const struct drift_case cases[] = {
        {"one differing key is named with each group's digest, in the groups' order",
         {{"g-w1", "aa", "coordinator=01,query.max-memory=02"},
          {"g-w2", "bb", "coordinator=01,query.max-memory=03"},
          {"g-w3", "aa", "coordinator=01,query.max-memory=02"}},
         {"config.properties differs between worker nodes of g in key query.max-memory "
          "(02020202 | 03030303): aaaaaaaa: g-w1, g-w3; bbbbbbbb: g-w2"},
         {"coordinator ("}},
        {"a key one group lacks is absent there",
         {{"g-w1", "aa", "a=01"}, {"g-w2", "bb", "a=01,task.concurrency=05"}},
         {" in key task.concurrency (absent | 05050505): "},
         {"a ("}},
        {"three groups: three digests per key",
         {{"g-w1", "aa", "k=01"}, {"g-w2", "bb", "k=02"}, {"g-w3", "cc", "k=03"}},
         {" in key k (01010101 | 02020202 | 03030303): aaaaaaaa: g-w1; bbbbbbbb: g-w2; "
          "cccccccc: g-w3"},
         {NULL}},
        {"a secret-looking key is named without digests",
         {{"g-w1", "aa", "connection-password=01,x=07"},
          {"g-w2", "bb", "connection-password=02,x=07"}},
         {" in key connection-password (secret: digests withheld): "},
         {"01010101", "02020202"}},
        {"more than three keys: three are named, the rest counted",
         {{"g-w1", "aa", "a=01,b=01,c=01,d=01,e=01"}, {"g-w2", "bb", "a=02,b=02,c=02,d=02,e=02"}},
         {" in keys a (01010101 | 02020202), b (01010101 | 02020202), c (01010101 | 02020202) "
          "and 2 more: aaaaaaaa: g-w1; bbbbbbbb: g-w2"},
         {"d ("}},
        {"an agent that lists no keys: the finding names the file alone",
         {{"g-w1", "aa", "a=01"}, {"g-w2", "bb", NULL}},
         {"config.properties differs between worker nodes of g: aaaaaaaa: g-w1; bbbbbbbb: g-w2"},
         {" in key"}},
        {"a node without the file: the file alone",
         {{"g-w1", "aa", "a=01"}, {"g-w2", NULL, NULL}},
         {"of g: aaaaaaaa: g-w1; absent: g-w2"},
         {" in key"}},
        {"a file without keys against one with: the other's keys are absent on it",
         {{"g-w1", "aa", ""}, {"g-w2", "bb", "a=01"}},
         {" in key a (absent | 01010101): "},
         {NULL}},
};

/* Fills B's config.properties key list from KEYS ("name=01,..."), in NAMES and DIGESTS. */
static void add_keys(struct built_report *b, const char *keys, KeyDigest *storage, KeyDigest **ptrs,
                     char names[][64], uint8_t digests[][8])
{
	ConfigDigest *config = &b->digests[0];
	config->has_keys_listed = 1;
	config->keys_listed = 1;
	config->keys = ptrs;
	size_t n = 0;
	for (const char *p = keys; *p != '\0' && n < MAX_KEYS;) {
		const char *eq = strchr(p, '=');
		assert_non_null(eq);
		snprintf(names[n], 64, "%.*s", (int)(eq - p), p);
		unsigned byte;
		assert_int_equal(sscanf(eq + 1, "%2x", &byte), 1);
		memset(digests[n], (int)byte, 8);
		KeyDigest init = TRINOGUARD__V1__KEY_DIGEST__INIT;
		storage[n] = init;
		storage[n].key = names[n];
		storage[n].has_digest = 1;
		storage[n].digest.data = digests[n];
		storage[n].digest.len = 8;
		ptrs[n] = &storage[n];
		n++;
		p = eq + 3;
		if (*p == ',')
			p++;
	}
	config->n_keys = n;
}

static void feed_worker(struct fleet *fleet, const struct keyed_worker *w, uint64_t seq)
{
	char digests[64] = "";
	if (w->file != NULL)
		snprintf(digests, sizeof(digests), "config.properties=%s", w->file);
	struct node_spec spec = {w->id, "g", WORKER, "447", ACTIVE, 0, 0, digests, 0, -1};
	struct built_report b;
	build(&b, &spec, seq, 1);
	KeyDigest storage[MAX_KEYS];
	KeyDigest *ptrs[MAX_KEYS];
	char names[MAX_KEYS][64];
	uint8_t key_digests[MAX_KEYS][8];
	if (w->file != NULL && w->keys != NULL)
		add_keys(&b, w->keys, storage, ptrs, names, key_digests);
	assert_int_not_equal(fleet_update(fleet, &b.report, NOW), FLEET_NO_MEMORY);
}

/* The one config-drift finding of FLEET's workers, its summary into OUT. */
static void drift_summary(const struct fleet *fleet, char *out, size_t out_len)
{
	const struct fleet_node *live[8];
	for (size_t i = 0; i < fleet->count; i++)
		live[i] = fleet->nodes[i];
	struct cluster_settings settings = {.name = "g"};
	struct finding_list findings = {0};
	assert_int_equal(findings_config_drift(live, fleet->count, &settings, &findings), 0);
	assert_int_equal(findings.count, 1);
	assert_string_equal(findings.items[0].key, "config-drift/g/worker/config.properties");
	snprintf(out, out_len, "%s", findings.items[0].summary);
	finding_list_free(&findings);
}

static void test_differing_keys_are_named(void **state)
{
	(void)state;
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		const struct drift_case *dc = &cases[c];
		struct fleet fleet;
		fleet_init(&fleet);
		for (size_t i = 0; i < 4 && dc->workers[i].id != NULL; i++)
			feed_worker(&fleet, &dc->workers[i], 2);
		char summary[1024];
		drift_summary(&fleet, summary, sizeof(summary));
		for (size_t i = 0; i < 3 && dc->contains[i] != NULL; i++)
			if (strstr(summary, dc->contains[i]) == NULL)
				fail_msg("case '%s': summary '%s' lacks '%s'", dc->name, summary,
				         dc->contains[i]);
		for (size_t i = 0; i < 3 && dc->lacks[i] != NULL; i++)
			if (strstr(summary, dc->lacks[i]) != NULL)
				fail_msg("case '%s': summary '%s' has '%s'", dc->name, summary,
				         dc->lacks[i]);
		fleet_cleanup(&fleet);
	}
}

static void test_secret_looking_keys(void **state)
{
	(void)state;
	static const struct {
		const char *key;
		bool secret;
	} rows[] = {
	        {"connection-password", true},
	        {"hive.s3.aws-secret-key", true},
	        {"hive.s3.aws-access-key", true},
	        {"http-server.https.keystore.path", true},
	        {"internal-communication.shared-secret", true},
	        {"iceberg.rest-catalog.oauth2.token", true},
	        {"gcs.json-key-file-path", true},
	        {"CONNECTION_PASSWORD", true},
	        {"elasticsearch.auth.passwd", true},
	        {"bigquery.credentials-key", true},
	        {"query.max-memory", false},
	        {"connection-url", false},
	        {"connection-user", false},
	        {"coordinator", false},
	        {"", false},
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		if (config_drift_key_looks_secret(rows[i].key) != rows[i].secret)
			fail_msg("'%s' should %slook secret", rows[i].key,
			         rows[i].secret ? "" : "not ");
}

/* A second report of the same file keeps the node's keys (taken over, not lost). */
static void test_keys_survive_an_unchanged_report(void **state)
{
	(void)state;
	struct fleet fleet;
	fleet_init(&fleet);
	struct keyed_worker w1 = {"g-w1", "aa", "a=01,b=02"}, w2 = {"g-w2", "bb", "a=01,b=03"};
	feed_worker(&fleet, &w1, 2);
	feed_worker(&fleet, &w2, 2);
	char summary[1024];
	for (uint64_t seq = 3; seq <= 5; seq++) {
		feed_worker(&fleet, &w1, seq);
		drift_summary(&fleet, summary, sizeof(summary));
		if (strstr(summary, " in key b (02020202 | 03030303): ") == NULL)
			fail_msg("after report %d: '%s'", (int)seq, summary);
	}
	/* the file changed, the keys with it */
	struct keyed_worker w1_changed = {"g-w1", "cc", "a=04,b=03"};
	feed_worker(&fleet, &w1_changed, 6);
	drift_summary(&fleet, summary, sizeof(summary));
	assert_non_null(strstr(summary, " in key a (04040404 | 01010101): "));
	fleet_cleanup(&fleet);
}

/* Long keys cut the key list whole characters at a time, and the groups still follow. */
static void test_long_keys_stay_utf8_and_leave_room(void **state)
{
	(void)state;
	const struct fleet_digest *reps[2];
	struct fleet_key_digest keys[2][3];
	struct fleet_digest digests[2];
	char names[3][REPORT_MAX_KEY_LEN + 2];
	for (int k = 0; k < 3; k++) {
		/* "é" is 2 bytes: 127 of them and a letter; the first key one byte
		 * longer, so that the cut falls inside a character of the third */
		size_t len = 0;
		if (k == 0)
			names[k][len++] = 'x';
		for (int i = 0; i < 127; i++) {
			names[k][len++] = '\xc3';
			names[k][len++] = '\xa9';
		}
		names[k][len++] = (char)('a' + k);
		names[k][len] = '\0';
	}
	for (int r = 0; r < 2; r++) {
		for (int k = 0; k < 3; k++) {
			keys[r][k].key = names[k];
			memset(keys[r][k].digest, r + 1, sizeof(keys[r][k].digest));
		}
		digests[r] = (struct fleet_digest){.path = "config.properties",
		                                   .ok = true,
		                                   .keys_listed = true,
		                                   .keys = keys[r],
		                                   .key_count = 3};
		reps[r] = &digests[r];
	}
	char out[600];
	assert_int_equal(config_drift_keys(reps, 2, out, sizeof(out)), 0);
	assert_true(strlen(out) < sizeof(out));
	assert_non_null(strstr(out, " in keys "));
	/* no UTF-8 sequence cut at the end: the last lead byte has all its bytes */
	size_t len = strlen(out), lead = len;
	while (lead > 0 && ((unsigned char)out[lead - 1] & 0xC0) == 0x80)
		lead--;
	assert_true(lead > 0);
	unsigned char c = (unsigned char)out[lead - 1];
	size_t want = c < 0x80 ? 1 : c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
	assert_int_equal(len - (lead - 1), want);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_differing_keys_are_named),
	        cmocka_unit_test(test_secret_looking_keys),
	        cmocka_unit_test(test_keys_survive_an_unchanged_report),
	        cmocka_unit_test(test_long_keys_stay_utf8_and_leave_room),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
