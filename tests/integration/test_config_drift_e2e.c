/*
 * End to end: config drift through real agents reading trino-sim's etc dirs
 * and the collector. A catalog changed on one node names the path and the
 * groups; a key of config.properties changed on one worker names that key
 * with the digest of each side's line, computed here as the agent must; a
 * secret-looking key is named without digests and its value appears
 * nowhere the collector shows.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "collector_e2e_fixture.h"

/* Sets KEY=VALUE in FILE of green's NODE (trino-sim rewrites the file). */
static void set_key(const char *node, const char *file, const char *key, const char *value)
{
	char body[512];
	snprintf(body, sizeof(body),
	         "{\"config_set\":{\"file\":\"%s\",\"key\":\"%s\",\"value\":\"%s\"}}", file, key,
	         value);
	control(&fx.green, node, body);
}

static void test_config_drift_names_the_path(void **state)
{
	(void)state;
	set_key("green-worker-2", "catalog/tpch.properties", "tpch.splits-per-node", "16");
	char summary[1024];
	expect_finding("config-drift/green/catalog/tpch.properties", true, 3000, summary);
	assert_non_null(strstr(summary, "catalog/tpch.properties differs"));
	assert_non_null(strstr(summary, "green-worker-2"));
	assert_non_null(strstr(summary, "green-coord, green-worker-1"));
	assert_non_null(strstr(summary, " in key tpch.splits-per-node ("));
	set_key("green-worker-2", "catalog/tpch.properties", "tpch.splits-per-node", "4");
	expect_finding("config-drift/green/catalog/tpch.properties", false, 3000, NULL);
}

/* The short digest a finding shows for a canonical LINE: its SHA-256's first 4 bytes. */
static void short_digest(const char *line, char out[9])
{
	uint8_t sha[32];
	unsigned int len = 0;
	assert_int_equal(EVP_Digest(line, strlen(line), sha, &len, EVP_sha256(), NULL), 1);
	snprintf(out, 9, "%02x%02x%02x%02x", sha[0], sha[1], sha[2], sha[3]);
}

static void test_config_drift_names_the_key_and_both_digests(void **state)
{
	(void)state;
	set_key("green-worker-2", "config.properties", "query.max-memory-per-node", "16GB");
	char summary[1024];
	expect_finding("config-drift/green/worker/config.properties", true, 3000, summary);
	char before[9], after[9], expected[256];
	short_digest("query.max-memory-per-node=8GB", before);
	short_digest("query.max-memory-per-node=16GB", after);
	snprintf(expected, sizeof(expected),
	         "config.properties differs between worker nodes of green in key "
	         "query.max-memory-per-node (%s | %s): ",
	         before, after);
	if (strstr(summary, expected) == NULL)
		fail_msg("summary '%s' lacks '%s'", summary, expected);
	/* one key differs: no other is named, and no value */
	assert_null(strstr(summary, "query.max-memory ("));
	assert_null(strstr(summary, "16GB"));
	assert_non_null(strstr(summary, ": green-worker-1; "));
	set_key("green-worker-2", "config.properties", "query.max-memory-per-node", "8GB");
	expect_finding("config-drift/green/worker/config.properties", false, 3000, NULL);
}

static bool text_anywhere(const char *path, const char *text)
{
	json_t *answer = get_json(path);
	assert_non_null(answer);
	char *dump = json_dumps(answer, 0);
	bool found = strstr(dump, text) != NULL;
	free(dump);
	json_decref(answer);
	return found;
}

static void test_a_secret_key_is_named_without_digests(void **state)
{
	(void)state;
	set_key("green-worker-2", "catalog/tpch.properties", "tpch.shared-secret", "hunter2-on-w2");
	char summary[1024];
	expect_finding("config-drift/green/catalog/tpch.properties", true, 3000, summary);
	char absent_or_digest[9];
	short_digest("tpch.shared-secret=hunter2-on-w2", absent_or_digest);
	assert_non_null(strstr(summary, " in key tpch.shared-secret (secret: digests withheld): "));
	assert_null(strstr(summary, absent_or_digest));
	assert_false(text_anywhere("/v1/status", "hunter2"));
	assert_false(text_anywhere("/v1/events", "hunter2"));
	assert_false(text_anywhere("/v1/events", absent_or_digest));
	/* the same secret everywhere: no drift */
	const char *const others[] = {"green-coord", "green-worker-1"};
	for (size_t i = 0; i < 2; i++)
		set_key(others[i], "catalog/tpch.properties", "tpch.shared-secret",
		        "hunter2-on-w2");
	expect_finding("config-drift/green/catalog/tpch.properties", false, 3000, NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_config_drift_names_the_path),
	        cmocka_unit_test(test_config_drift_names_the_key_and_both_digests),
	        cmocka_unit_test(test_a_secret_key_is_named_without_digests),
	};
	return cmocka_run_group_tests(tests, collector_e2e_setup, collector_e2e_teardown);
}
