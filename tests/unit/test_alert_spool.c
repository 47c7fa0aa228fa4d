/*
 * Unit tests for the durable alert spool (collector/alert_spool.c): order,
 * replay after a restart, a line torn by a crash, the bound with its
 * oldest-first drop, emptying and compaction, and a disk that refuses
 * writes (RLIMIT_FSIZE makes the kernel fail them with EFBIG, as a full disk
 * fails them with ENOSPC): nothing is lost, nothing is sent twice.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "alert_spool.h"

static char dir[] = "/tmp/tg-spool-XXXXXX";
static char path[128];
static int test_number;

static int fresh_path(void **state)
{
	(void)state;
	snprintf(path, sizeof(path), "%s/alerts-%d.spool", dir, ++test_number);
	return 0;
}

static struct alert_spool *open_spool(size_t max_entries, size_t *dropped)
{
	char err[256];
	struct alert_spool *spool = alert_spool_open(path, max_entries, dropped, err, sizeof(err));
	if (spool == NULL)
		fail_msg("open: %s", err);
	return spool;
}

static void push(struct alert_spool *spool, int n, int expect_dropped)
{
	char key[32], body[64];
	snprintf(key, sizeof(key), "trino-guard/prod/k%d", n);
	snprintf(body, sizeof(body), "{\"n\":%d,\"text\":\"caf\\u00e9 \\\"quoted\\\"\"}", n);
	int dropped = -1;
	assert_int_equal(alert_spool_push(spool, key, body, 1000 + n, &dropped), 0);
	assert_int_equal(dropped, expect_dropped);
}

static void assert_head(struct alert_spool *spool, int n)
{
	const struct spool_entry *head = alert_spool_head(spool);
	assert_non_null(head);
	char key[32], body[64];
	snprintf(key, sizeof(key), "trino-guard/prod/k%d", n);
	snprintf(body, sizeof(body), "{\"n\":%d,\"text\":\"caf\\u00e9 \\\"quoted\\\"\"}", n);
	assert_string_equal(head->key, key);
	assert_string_equal(head->body, body);
	assert_int_equal(head->queued_unix_ms, 1000 + n);
}

static void test_order_survives_a_restart(void **state)
{
	(void)state;
	struct alert_spool *spool = open_spool(100, NULL);
	assert_null(alert_spool_head(spool));
	push(spool, 1, 0);
	push(spool, 2, 0);
	push(spool, 3, 0);
	assert_head(spool, 1);
	assert_int_equal(alert_spool_pop(spool), 0);
	assert_head(spool, 2);
	alert_spool_close(spool); /* as if killed: every push and pop was already synced */

	size_t dropped = 99;
	spool = open_spool(100, &dropped);
	assert_int_equal(dropped, 0);
	assert_int_equal(alert_spool_count(spool), 2);
	assert_head(spool, 2);
	uint64_t seq_of_2 = alert_spool_head(spool)->seq;
	push(spool, 4, 0);
	assert_int_equal(alert_spool_pop(spool), 0);
	assert_int_equal(alert_spool_pop(spool), 0);
	assert_head(spool, 4);
	assert_true(alert_spool_head(spool)->seq > seq_of_2 + 1); /* sequence numbers go on */
	alert_spool_close(spool);
}

static void test_a_torn_line_loses_nothing_after_it(void **state)
{
	(void)state;
	struct alert_spool *spool = open_spool(100, NULL);
	push(spool, 1, 0);
	push(spool, 2, 0);
	alert_spool_close(spool);
	FILE *f = fopen(path, "a");
	fputs("{\"seq\":77,\"at\":5,\"key\":\"trino-gu", f); /* a crash mid-write */
	fclose(f);

	spool = open_spool(100, NULL);
	assert_int_equal(alert_spool_count(spool), 2);
	push(spool, 3, 0);
	alert_spool_close(spool);

	spool = open_spool(100, NULL);
	assert_int_equal(alert_spool_count(spool), 3);
	assert_head(spool, 1);
	alert_spool_pop(spool);
	alert_spool_pop(spool);
	assert_head(spool, 3);
	alert_spool_close(spool);
}

static void test_full_spool_drops_the_oldest(void **state)
{
	(void)state;
	struct alert_spool *spool = open_spool(3, NULL);
	push(spool, 1, 0);
	push(spool, 2, 0);
	push(spool, 3, 0);
	push(spool, 4, 1);
	push(spool, 5, 1);
	assert_int_equal(alert_spool_count(spool), 3);
	assert_head(spool, 3);
	alert_spool_close(spool);

	size_t dropped = 0;
	spool = open_spool(3, &dropped); /* the drops were written: nothing new is dropped */
	assert_int_equal(dropped, 0);
	assert_head(spool, 3);
	alert_spool_close(spool);

	spool = open_spool(2, &dropped); /* a smaller bound after a restart */
	assert_int_equal(dropped, 1);
	assert_int_equal(alert_spool_count(spool), 2);
	assert_head(spool, 4);
	alert_spool_close(spool);
}

static void test_emptied_spool_is_an_empty_file(void **state)
{
	(void)state;
	struct alert_spool *spool = open_spool(10, NULL);
	push(spool, 1, 0);
	push(spool, 2, 0);
	assert_true(alert_spool_file_bytes(spool) > 0);
	alert_spool_pop(spool);
	alert_spool_pop(spool);
	assert_int_equal(alert_spool_pop(spool), 0); /* popping nothing is harmless */
	assert_int_equal(alert_spool_file_bytes(spool), 0);
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_size, 0);
	alert_spool_close(spool);
}

static void test_compaction_keeps_what_is_pending(void **state)
{
	(void)state;
	struct alert_spool *spool = open_spool(100, NULL);
	char *body = malloc(100000);
	memset(body, 'b', 99999);
	body[99999] = '\0';
	int dropped;
	for (int i = 0; i < 30; i++) {
		char key[16];
		snprintf(key, sizeof(key), "k%d", i);
		assert_int_equal(alert_spool_push(spool, key, body, i, &dropped), 0);
	}
	for (int i = 0; i < 28; i++)
		assert_int_equal(alert_spool_pop(spool), 0);
	/* 3 MB were written; compaction keeps the file within 4 x what is pending */
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_true(st.st_size < 1 << 20);
	assert_int_equal(st.st_size, alert_spool_file_bytes(spool));
	alert_spool_close(spool);
	spool = open_spool(100, NULL);
	assert_int_equal(alert_spool_count(spool), 2);
	assert_string_equal(alert_spool_head(spool)->key, "k28");
	assert_string_equal(alert_spool_head(spool)->body, body);
	alert_spool_pop(spool);
	assert_string_equal(alert_spool_head(spool)->key, "k29");
	alert_spool_close(spool);
	free(body);
}

static void test_unopenable_path_is_an_error(void **state)
{
	(void)state;
	char err[256];
	assert_null(alert_spool_open("/proc/no-such-dir/alerts.spool", 10, NULL, err, sizeof(err)));
	assert_non_null(strstr(err, "/proc/no-such-dir/alerts.spool"));
}

/* From now on the kernel refuses to let any file grow past BYTES (EFBIG). */
static void limit_file_size(rlim_t bytes)
{
	struct rlimit rl;
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &rl), 0);
	rl.rlim_cur = bytes;
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &rl), 0);
}

static off_t file_size(void)
{
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	return st.st_size;
}

static void test_a_refusing_disk_keeps_alerts_in_memory(void **state)
{
	(void)state;
	signal(SIGXFSZ, SIG_IGN); /* a write past the limit fails instead of killing us */
	struct alert_spool *spool = open_spool(100, NULL);
	push(spool, 1, 0);
	assert_int_equal(alert_spool_sync(spool), 0);
	off_t before = file_size();
	limit_file_size((rlim_t)before); /* "the disk is full" */
	push(spool, 2, 0);
	push(spool, 3, 0);
	assert_int_equal(alert_spool_count(spool), 3);
	assert_int_equal(alert_spool_unwritten(spool), 2);
	assert_int_equal(alert_spool_sync(spool), -1);
	assert_int_equal(file_size(), before); /* no torn line left behind */
	/* the head is on disk: its "done" cannot be written, so it stays (and the
	 * caller must not send it again) */
	assert_int_equal(alert_spool_pop(spool), -1);
	assert_head(spool, 1);
	limit_file_size(RLIM_INFINITY); /* space is back */
	assert_int_equal(alert_spool_sync(spool), 0);
	assert_int_equal(alert_spool_unwritten(spool), 0);
	assert_int_equal(alert_spool_pop(spool), 0);
	alert_spool_close(spool);
	/* what was kept in memory reached the file, in order */
	spool = open_spool(100, NULL);
	assert_int_equal(alert_spool_count(spool), 2);
	assert_head(spool, 2);
	assert_int_equal(alert_spool_pop(spool), 0);
	assert_head(spool, 3);
	alert_spool_close(spool);
}

static void test_an_alert_never_written_leaves_without_a_mark(void **state)
{
	(void)state;
	signal(SIGXFSZ, SIG_IGN);
	struct alert_spool *spool = open_spool(100, NULL);
	limit_file_size(0);
	push(spool, 1, 0);
	push(spool, 2, 0);
	assert_int_equal(alert_spool_unwritten(spool), 2);
	assert_head(spool, 1);
	assert_int_equal(alert_spool_pop(spool), 0); /* delivered from memory */
	assert_head(spool, 2);
	assert_int_equal(alert_spool_count(spool), 1);
	limit_file_size(RLIM_INFINITY);
	assert_int_equal(alert_spool_sync(spool), 0);
	alert_spool_close(spool);
	spool = open_spool(100, NULL);
	assert_int_equal(alert_spool_count(spool), 1); /* 1 was delivered: not replayed */
	assert_head(spool, 2);
	alert_spool_close(spool);
}

static int setup(void **state)
{
	(void)state;
	return mkdtemp(dir) != NULL ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	char command[128];
	snprintf(command, sizeof(command), "rm -rf '%s'", dir);
	return system(command);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup(test_order_survives_a_restart, fresh_path),
	        cmocka_unit_test_setup(test_a_torn_line_loses_nothing_after_it, fresh_path),
	        cmocka_unit_test_setup(test_full_spool_drops_the_oldest, fresh_path),
	        cmocka_unit_test_setup(test_emptied_spool_is_an_empty_file, fresh_path),
	        cmocka_unit_test_setup(test_compaction_keeps_what_is_pending, fresh_path),
	        cmocka_unit_test_setup(test_unopenable_path_is_an_error, fresh_path),
	        cmocka_unit_test_setup(test_a_refusing_disk_keeps_alerts_in_memory, fresh_path),
	        cmocka_unit_test_setup(test_an_alert_never_written_leaves_without_a_mark,
	                               fresh_path),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
