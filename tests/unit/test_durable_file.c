/*
 * The one durable replace (collector/store/durable_file.c): new content in
 * place, the old content kept when the replace cannot happen, no temp file
 * left behind either way; and the one clock (common/clock.c).
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
#include <cmocka.h>

#include "clock.h"
#include "durable_file.h"

static char dir[] = "/tmp/tg-durable-XXXXXX";

static char *read_text(const char *path)
{
	static char buffer[4096];
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return NULL;
	size_t n = fread(buffer, 1, sizeof(buffer) - 1, f);
	buffer[n] = '\0';
	fclose(f);
	return buffer;
}

static int count_entries(void)
{
	char command[256];
	snprintf(command, sizeof(command), "ls -A %s | wc -l", dir);
	FILE *p = popen(command, "r");
	int n = -1;
	if (p != NULL) {
		if (fscanf(p, "%d", &n) != 1)
			n = -1;
		pclose(p);
	}
	return n;
}

static void test_creates_then_replaces(void **state)
{
	(void)state;
	char path[256], err[512];
	snprintf(path, sizeof(path), "%s/cutover.json", dir);
	assert_int_equal(durable_file_replace(path, "first\n", 6, 0640, err, sizeof(err)), 0);
	assert_string_equal(read_text(path), "first\n");
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0640 & ~(mode_t)umask(022));
	assert_int_equal(durable_file_replace(path, "second", 6, 0640, err, sizeof(err)), 0);
	assert_string_equal(read_text(path), "second");
	assert_int_equal(count_entries(), 1); /* no temp file left */
	unlink(path);
}

static void test_failure_keeps_the_old_content(void **state)
{
	(void)state;
	char path[256], blocker[300], err[512];
	snprintf(path, sizeof(path), "%s/trino.map", dir);
	assert_int_equal(durable_file_replace(path, "active blue\n", 12, 0644, err, sizeof(err)),
	                 0);
	/* a directory where the temp file goes: the write fails even for root */
	snprintf(blocker, sizeof(blocker), "%s.trino-guard.tmp", path);
	assert_int_equal(mkdir(blocker, 0700), 0);
	assert_int_equal(durable_file_replace(path, "active green\n", 13, 0644, err, sizeof(err)),
	                 -1);
	assert_non_null(strstr(err, "trino.map"));
	assert_string_equal(read_text(path), "active blue\n");
	assert_int_equal(rmdir(blocker), 0);
	assert_int_equal(count_entries(), 1);
	unlink(path);
}

static void test_missing_directory_is_an_error_naming_the_file(void **state)
{
	(void)state;
	char path[256], err[512];
	snprintf(path, sizeof(path), "%s/no-such-dir/alerts-firing.json", dir);
	assert_int_equal(durable_file_replace(path, "[]", 2, 0600, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "alerts-firing.json"));
	assert_non_null(strstr(err, "No such file or directory"));
}

static void test_clock_readings(void **state)
{
	(void)state;
	struct clock_now first = clock_read();
	int64_t later_ms = clock_mono_ms();
	int64_t later_ns = clock_mono_ns();
	assert_true(later_ms >= first.mono_ms);
	assert_true(later_ns / 1000000 >= later_ms);
	/* the wall clock is in milliseconds since 1970: after 2020, before 2100 */
	assert_true(first.unix_ms > 1577836800000LL && first.unix_ms < 4102444800000LL);
	assert_true(clock_unix_ms() >= first.unix_ms - 1000);
	assert_int_equal(clock_failures(), 0);
}

int main(void)
{
	assert_non_null(mkdtemp(dir));
	umask(022);
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_creates_then_replaces),
	        cmocka_unit_test(test_failure_keeps_the_old_content),
	        cmocka_unit_test(test_missing_directory_is_an_error_naming_the_file),
	        cmocka_unit_test(test_clock_readings),
	};
	int failed = cmocka_run_group_tests(tests, NULL, NULL);
	rmdir(dir);
	return failed;
}
