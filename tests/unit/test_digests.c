/*
 * Config digests over a temp etc dir: which files, canonical hashing, the
 * node-specific keys left out, re-reading only changed files, errors
 * reported per file. Per-key digests: split from the canonical form, sorted
 * as sent, each the start of the SHA-256 of its line; over the etc dir
 * (reordering and comments change nothing, a new value changes its key
 * alone); and in the encoded report, as far as its room allows.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <openssl/evp.h>
#include <cmocka.h>

#include "digests.h"
#include "key_digests.h"
#include "properties.h"
#include "report_build.h"

static char dir[] = "/tmp/tg-digests-XXXXXX";

static void write_file(const char *name, const char *text)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static const struct digest_file *find(const struct digests *d, const char *path)
{
	for (size_t i = 0; i < d->count; i++)
		if (strcmp(d->files[i].path, path) == 0)
			return &d->files[i];
	return NULL;
}

static void copy_sha(const struct digests *d, const char *path, uint8_t out[32])
{
	const struct digest_file *file = find(d, path);
	assert_non_null(file);
	if (!file->ok)
		fail_msg("%s: %s", path, file->error);
	memcpy(out, file->sha256, 32);
}

/* FIND, failing the test when PATH is not digested. */
static const struct digest_file *found(const struct digests *d, const char *path)
{
	const struct digest_file *file = find(d, path);
	if (file == NULL)
		fail_msg("no %s", path);
	return file;
}

static void expect_line_digest(const struct key_digest *key, const char *line)
{
	uint8_t sha[32];
	unsigned int len = 0;
	assert_int_equal(EVP_Digest(line, strlen(line), sha, &len, EVP_sha256(), NULL), 1);
	assert_memory_equal(key->digest, sha, REPORT_KEY_DIGEST_BYTES);
}

static void test_keys_carry_the_digest_of_their_line(void **state)
{
	(void)state;
	const char canonical[] = "a=1\nb=two words\n=empty key\n";
	struct key_digest_list keys;
	assert_int_equal(key_digests_compute(canonical, strlen(canonical), &keys), 0);
	assert_int_equal(keys.count, 3);
	assert_string_equal(keys.items[0].key, "");
	assert_string_equal(keys.items[1].key, "a");
	assert_string_equal(keys.items[2].key, "b");
	expect_line_digest(&keys.items[0], "=empty key");
	expect_line_digest(&keys.items[1], "a=1");
	expect_line_digest(&keys.items[2], "b=two words");
	key_digests_clear(&keys);
	assert_int_equal(keys.count, 0);
}

static void test_escaped_keys_split_at_the_first_bare_equals_and_sort_as_sent(void **state)
{
	(void)state;
	/* as properties_canonicalize writes them: sorted by the decoded key
	 * ("a b" < "a!" < "k=x"), '=' and ' ' in keys escaped */
	const char canonical[] = "a\\ b=1\na!=2\nk\\=x=3\\\\=\n";
	const char raw[] = "k\\=x : 3\\\\=\na!=2\na\\ b 1\n";
	char err[128];
	size_t canonical_len = 0;
	char *written = properties_canonicalize(raw, strlen(raw), NULL, 0, &canonical_len, err,
	                                        sizeof(err));
	assert_non_null(written);
	assert_string_equal(written, canonical);
	free(written);
	struct key_digest_list keys;
	assert_int_equal(key_digests_compute(canonical, strlen(canonical), &keys), 0);
	assert_int_equal(keys.count, 3);
	assert_string_equal(keys.items[0].key, "a!");
	assert_string_equal(keys.items[1].key, "a\\ b");
	assert_string_equal(keys.items[2].key, "k\\=x");
	expect_line_digest(&keys.items[2], "k\\=x=3\\\\=");
	key_digests_clear(&keys);
}

static void test_a_key_too_long_for_the_report_lists_no_key(void **state)
{
	(void)state;
	char canonical[REPORT_MAX_KEY_LEN + 16];
	memset(canonical, 'k', REPORT_MAX_KEY_LEN + 1);
	snprintf(canonical + REPORT_MAX_KEY_LEN + 1, 15, "=1\na=2\n");
	struct key_digest_list keys;
	assert_int_equal(key_digests_compute(canonical, strlen(canonical), &keys), -1);
	assert_int_equal(keys.count, 0);
	assert_null(keys.items);
	/* one byte shorter fits */
	canonical[0] = 'a';
	memmove(canonical + 1, canonical + 2, strlen(canonical + 2) + 1);
	assert_int_equal(key_digests_compute(canonical, strlen(canonical), &keys), 0);
	assert_int_equal(keys.count, 2);
	key_digests_clear(&keys);
}

static void test_etc_dir_keys_change_only_with_their_value(void **state)
{
	(void)state;
	write_file("config.properties", "query.max-memory=50GB\ncoordinator=false\n");
	write_file("node.properties", "node.environment=production\nnode.id=w1\n");
	write_file("jvm.config", "-Xmx16G\n");
	struct digests *d = digests_new(dir, NULL, 0, NULL, 0);
	digests_refresh(d);
	const struct digest_file *config = found(d, "config.properties");
	assert_true(config->keys_listed);
	assert_int_equal(config->keys.count, 2);
	assert_string_equal(config->keys.items[0].key, "coordinator");
	expect_line_digest(&config->keys.items[1], "query.max-memory=50GB");
	uint8_t memory_before[REPORT_KEY_DIGEST_BYTES];
	memcpy(memory_before, config->keys.items[1].digest, sizeof(memory_before));
	const struct digest_file *node = found(d, "node.properties");
	assert_int_equal(node->keys.count, 1); /* node.id is the node's own */
	assert_string_equal(node->keys.items[0].key, "node.environment");
	assert_false(found(d, "jvm.config")->keys_listed);

	/* reordered, commented, spaced: the same keys */
	write_file("config.properties", "# tuned\ncoordinator = false\nquery.max-memory=50GB  \n"
	                                "\n");
	digests_refresh(d);
	config = found(d, "config.properties");
	assert_memory_equal(config->keys.items[1].digest, memory_before, sizeof(memory_before));
	/* a new value: that key's digest changes, the other's does not */
	write_file("config.properties", "coordinator=false\nquery.max-memory=60GB\n");
	digests_refresh(d);
	config = found(d, "config.properties");
	assert_int_equal(config->keys.count, 2);
	assert_memory_not_equal(config->keys.items[1].digest, memory_before, sizeof(memory_before));
	expect_line_digest(&config->keys.items[0], "coordinator=false");
	/* gone: no keys either */
	char path[512];
	snprintf(path, sizeof(path), "%s/config.properties", dir);
	unlink(path);
	digests_refresh(d);
	assert_false(found(d, "config.properties")->keys_listed);
	digests_free(d);
}

static NodeReport *build_and_decode(const struct digests *d, size_t *encoded_len)
{
	static const uint8_t boot_id[REPORT_BOOT_ID_BYTES] = {1};
	struct poll_snapshot snapshot;
	memset(&snapshot, 0, sizeof(snapshot));
	struct report_input input = {.agent_id = "a",
	                             .boot_id = boot_id,
	                             .seq = 1,
	                             .sent_unix_ms = 1795515330000LL,
	                             .interval_ms = 1000,
	                             .cluster = "blue",
	                             .node_id = "w1",
	                             .snapshot = &snapshot,
	                             .digests = d};
	uint8_t *buf = report_build_encode(&input, encoded_len);
	assert_non_null(buf);
	enum report_reject reject;
	char detail[256] = "";
	NodeReport *r =
	        report_decode(buf, *encoded_len, 1795515330000LL, &reject, detail, sizeof(detail));
	free(buf);
	if (r == NULL)
		fail_msg("rejected: %s", detail);
	return r;
}

static const ConfigDigest *report_file(const NodeReport *r, const char *path)
{
	for (size_t i = 0; i < r->n_config; i++)
		if (strcmp(r->config[i]->path, path) == 0)
			return r->config[i];
	fail_msg("no %s in the report", path);
	return NULL;
}

/* 300 catalogs of 20 keys: config.properties' keys go, and catalogs' as long as there is room. */
static void test_report_carries_keys_as_far_as_its_room(void **state)
{
	(void)state;
	write_file("config.properties", "query.max-memory=50GB\ncoordinator=false\n");
	/* only these catalogs: the earlier tests' would not fit one report */
	char command[600];
	snprintf(command, sizeof(command), "rm -rf '%s/catalog' && mkdir '%s/catalog'", dir, dir);
	assert_int_equal(system(command), 0);
	for (int c = 0; c < 300; c++) {
		char name[64], text[2048] = "";
		for (int k = 0; k < 20; k++) {
			size_t len = strlen(text);
			snprintf(text + len, sizeof(text) - len,
			         "hive.some-rather-long-key-%02d=%d\n", k, c);
		}
		snprintf(name, sizeof(name), "catalog/c%03d.properties", c);
		write_file(name, text);
	}
	struct digests *d = digests_new(dir, NULL, 0, NULL, 0);
	digests_refresh(d);
	size_t len = 0;
	NodeReport *r = build_and_decode(d, &len);
	const ConfigDigest *config = report_file(r, "config.properties");
	assert_true(config->keys_listed);
	assert_int_equal(config->n_keys, 2);
	assert_string_equal(config->keys[1]->key, "query.max-memory");
	assert_memory_equal(config->keys[1]->digest.data,
	                    found(d, "config.properties")->keys.items[1].digest,
	                    REPORT_KEY_DIGEST_BYTES);
	size_t with_keys = 0, without = 0;
	for (size_t i = 0; i < r->n_config; i++) {
		if (strncmp(r->config[i]->path, "catalog/", 8) != 0)
			continue;
		if (r->config[i]->keys_listed) {
			assert_int_equal(r->config[i]->n_keys, 20);
			with_keys++;
		} else {
			assert_int_equal(r->config[i]->n_keys, 0);
			without++;
		}
	}
	assert_true(with_keys > 10);
	assert_true(without > 0);
	assert_true(len < REPORT_MAX_BYTES);
	report_free(r);
	digests_free(d);
}

static int setup(void **state)
{
	(void)state;
	if (mkdtemp(dir) == NULL)
		return -1;
	char path[512];
	snprintf(path, sizeof(path), "%s/catalog", dir);
	mkdir(path, 0755);
	write_file("config.properties", "coordinator=false\nhttp-server.http.port=8081\n"
	                                "query.max-memory=50GB\n");
	write_file("node.properties", "node.environment=production\nnode.id=w1\n"
	                              "node.data-dir=/var/trino/data\n");
	write_file("jvm.config", "-server\n-Xmx16G\n");
	write_file("catalog/tpch.properties", "connector.name=tpch\n");
	write_file("catalog/hive.properties", "connector.name=hive\n");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	char command[128];
	snprintf(command, sizeof(command), "rm -rf '%s'", dir);
	return system(command);
}

static void test_files_listed_and_hashed_canonically(void **state)
{
	(void)state;
	struct digests *d = digests_new(dir, NULL, 0, NULL, 0);
	digests_refresh(d);
	const char *expected[] = {"catalog/hive.properties", "catalog/tpch.properties",
	                          "config.properties", "jvm.config", "node.properties"};
	assert_int_equal(d->count, 5); /* no log.properties: it is optional */
	for (size_t i = 0; i < 5; i++)
		assert_string_equal(d->files[i].path, expected[i]);

	/* config.properties: the port is node-specific and left out, the rest sorted */
	const char *canonical = "coordinator=false\nquery.max-memory=50GB\n";
	uint8_t want[32], got[32];
	unsigned int len;
	EVP_Digest(canonical, strlen(canonical), want, &len, EVP_sha256(), NULL);
	copy_sha(d, "config.properties", got);
	assert_memory_equal(got, want, 32);

	/* jvm.config: its stripped lines joined by newlines */
	EVP_Digest("-server\n-Xmx16G", 15, want, &len, EVP_sha256(), NULL);
	copy_sha(d, "jvm.config", got);
	assert_memory_equal(got, want, 32);
	digests_free(d);
}

static void test_only_real_changes_change_a_digest(void **state)
{
	(void)state;
	struct digests *d = digests_new(dir, NULL, 0, NULL, 0);
	digests_refresh(d);
	uint8_t before[32], after[32];
	copy_sha(d, "catalog/tpch.properties", before);

	write_file("catalog/tpch.properties", "# reordered, commented\r\n"
	                                      "connector.name : tpch   \r\n");
	digests_refresh(d);
	copy_sha(d, "catalog/tpch.properties", after);
	assert_memory_equal(before, after, 32);

	write_file("catalog/tpch.properties", "connector.name=tpch\ntpch.splits-per-node=8\n");
	digests_refresh(d);
	copy_sha(d, "catalog/tpch.properties", after);
	assert_memory_not_equal(before, after, 32);

	/* node.id and node.data-dir differ per node: not drift */
	copy_sha(d, "node.properties", before);
	write_file("node.properties", "node.environment=production\nnode.id=w2\n"
	                              "node.data-dir=/data/w2\n");
	digests_refresh(d);
	copy_sha(d, "node.properties", after);
	assert_memory_equal(before, after, 32);
	write_file("node.properties", "node.environment=staging\nnode.id=w2\n");
	digests_refresh(d);
	copy_sha(d, "node.properties", after);
	assert_memory_not_equal(before, after, 32);
	write_file("catalog/tpch.properties", "connector.name=tpch\n");
	write_file("node.properties", "node.environment=production\nnode.id=w1\n");
	digests_free(d);
}

static void test_unchanged_files_are_not_read_again(void **state)
{
	(void)state;
	struct digests *d = digests_new(dir, NULL, 0, NULL, 0);
	digests_refresh(d);
	size_t first = d->rehashed_total;
	assert_int_equal(first, 5);
	digests_refresh(d);
	digests_refresh(d);
	assert_int_equal(d->rehashed_total, first);
	write_file("catalog/hive.properties", "connector.name=hive\nhive.x=1\n"); /* size changes */
	digests_refresh(d);
	assert_int_equal(d->rehashed_total, first + 1);
	write_file("catalog/hive.properties", "connector.name=hive\n");
	digests_free(d);
}

static void test_errors_are_reported_per_file(void **state)
{
	(void)state;
	char path[512];
	snprintf(path, sizeof(path), "%s/jvm.config", dir);
	rename(path, "/tmp/tg-digests-jvm.config.moved");
	write_file("catalog/bad.properties", "a=\\u12\n");
	struct digests *d = digests_new(dir, NULL, 0, NULL, 0);
	digests_refresh(d);
	const struct digest_file *jvm = find(d, "jvm.config");
	assert_non_null(jvm);
	assert_false(jvm->ok);
	assert_string_equal(jvm->error, "No such file or directory");
	const struct digest_file *bad = find(d, "catalog/bad.properties");
	assert_non_null(bad);
	assert_false(bad->ok);
	assert_string_equal(bad->error, "line 1: malformed \\uXXXX escape");
	/* fixed files are picked up again */
	rename("/tmp/tg-digests-jvm.config.moved", path);
	snprintf(path, sizeof(path), "%s/catalog/bad.properties", dir);
	unlink(path);
	digests_refresh(d);
	assert_true(find(d, "jvm.config")->ok);
	assert_null(find(d, "catalog/bad.properties"));
	digests_free(d);
}

static void test_extra_files_and_exclude_keys(void **state)
{
	(void)state;
	write_file("access-control.properties", "access-control.name=file\n");
	write_file("log.properties", "io.trino=INFO\n");
	char *extra[] = {"access-control.properties", "password-authenticator.properties",
	                 "*.json"};
	char *exclude[] = {"query.max-memory"};
	struct digests *d = digests_new(dir, exclude, 1, extra, 3);
	digests_refresh(d);
	assert_non_null(find(d, "access-control.properties"));
	assert_non_null(find(d, "log.properties"));
	const struct digest_file *missing = find(d, "password-authenticator.properties");
	assert_non_null(missing); /* named explicitly: its absence is worth reporting */
	assert_false(missing->ok);
	/* the extra excluded key makes config.properties hash as "coordinator=false\n" */
	uint8_t want[32], got[32];
	unsigned int len;
	EVP_Digest("coordinator=false\n", 18, want, &len, EVP_sha256(), NULL);
	copy_sha(d, "config.properties", got);
	assert_memory_equal(got, want, 32);
	digests_free(d);
}

/* Runs last: it leaves 600 catalogs behind. */
static void test_too_many_files_keep_the_core_ones(void **state)
{
	(void)state;
	for (int i = 0; i < 600; i++) {
		char name[64];
		snprintf(name, sizeof(name), "catalog/c%03d.properties", i);
		write_file(name, "connector.name=tpch\n");
	}
	struct digests *d = digests_new(dir, NULL, 0, NULL, 0);
	digests_refresh(d);
	assert_true(d->truncated);
	assert_true(d->listed >= 605); /* and the earlier tests' files */
	assert_int_equal(d->count, DIGESTS_MAX_FILES);
	/* every catalog/ path sorts before them: they are kept all the same */
	const char *core[] = {"config.properties", "node.properties", "jvm.config"};
	for (size_t i = 0; i < 3; i++) {
		assert_non_null(find(d, core[i]));
		assert_true(find(d, core[i])->ok);
	}
	for (size_t i = 1; i < d->count; i++)
		assert_true(strcmp(d->files[i - 1].path, d->files[i].path) < 0);
	digests_refresh(d); /* and again, carried over */
	assert_int_equal(d->count, DIGESTS_MAX_FILES);
	assert_non_null(find(d, "jvm.config"));
	digests_free(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_files_listed_and_hashed_canonically),
	        cmocka_unit_test(test_only_real_changes_change_a_digest),
	        cmocka_unit_test(test_unchanged_files_are_not_read_again),
	        cmocka_unit_test(test_errors_are_reported_per_file),
	        cmocka_unit_test(test_extra_files_and_exclude_keys),
	        cmocka_unit_test(test_too_many_files_keep_the_core_ones),
	        /* these rewrite the etc dir: last */
	        cmocka_unit_test(test_keys_carry_the_digest_of_their_line),
	        cmocka_unit_test(test_escaped_keys_split_at_the_first_bare_equals_and_sort_as_sent),
	        cmocka_unit_test(test_a_key_too_long_for_the_report_lists_no_key),
	        cmocka_unit_test(test_etc_dir_keys_change_only_with_their_value),
	        cmocka_unit_test(test_report_carries_keys_as_far_as_its_room),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
