/*
 * Config digests over a temp etc dir: which files, canonical hashing, the
 * node-specific keys left out, re-reading only changed files, errors
 * reported per file.
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
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
