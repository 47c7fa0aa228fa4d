/*
 * The event journal: ids continue across a reopen, events come back from the
 * file, a line torn by a crash is skipped, the file rotates past its size
 * bound (and the rotated events are still read back), a line with an id at
 * the top of the range costs no later event, lines a full disk refuses are
 * written once it takes them again, and /v1/events' view
 * (journal_since) honours since and limit.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "journal.h"

static char dir[] = "/tmp/tg-journal-XXXXXX";

static void append(struct journal *j, int n)
{
	for (int i = 0; i < n; i++)
		assert_true(journal_append(j, 1764547200000,
		                           json_pack("{s:s,s:i}", "type", "test", "n", i)) > 0);
	assert_int_equal(journal_sync(j), 0);
}

static void test_ids_continue_and_events_come_back(void **state)
{
	(void)state;
	char err[256];
	struct journal *j = journal_open(dir, 1 << 20, 100, err, sizeof(err));
	assert_non_null(j);
	append(j, 5);
	assert_int_equal(journal_last_id(j), 5);
	journal_close(j);

	/* a crash in the middle of a write leaves a torn line */
	char path[256];
	snprintf(path, sizeof(path), "%s/journal.jsonl", dir);
	FILE *f = fopen(path, "a");
	fputs("{\"type\":\"test\",\"id\":6,\"n\":", f);
	fclose(f);

	j = journal_open(dir, 1 << 20, 100, err, sizeof(err));
	assert_non_null(j);
	assert_int_equal(journal_last_id(j), 5); /* the torn line is not an event */
	assert_int_equal(journal_append(j, 1764547200000, json_pack("{s:s}", "type", "after")), 6);
	json_t *events = journal_since(j, 3, 100);
	assert_int_equal(json_array_size(events), 3); /* 4, 5, 6 */
	assert_int_equal(json_integer_value(json_object_get(json_array_get(events, 0), "id")), 4);
	json_decref(events);
	events = journal_since(j, 0, 2);
	assert_int_equal(json_array_size(events), 2); /* the limit */
	json_decref(events);
	journal_close(j);

	/* the event written after the torn line survives the next restart too */
	j = journal_open(dir, 1 << 20, 100, err, sizeof(err));
	assert_int_equal(journal_last_id(j), 6);
	events = journal_since(j, 5, 10);
	assert_string_equal(json_string_value(json_object_get(json_array_get(events, 0), "type")),
	                    "after");
	json_decref(events);
	journal_close(j);
}

static void test_rotation_by_size(void **state)
{
	(void)state;
	char sub[300], err[256], rotated[400];
	snprintf(sub, sizeof(sub), "%s/rotating", dir);
	struct journal *j = journal_open(sub, 2048, 1000, err, sizeof(err));
	assert_non_null(j);
	append(j, 100); /* ~50 bytes each: several rotations' worth */
	snprintf(rotated, sizeof(rotated), "%s/journal.jsonl.1", sub);
	struct stat st;
	assert_int_equal(stat(rotated, &st), 0);
	assert_true(st.st_size <= 2048);
	char current[400];
	snprintf(current, sizeof(current), "%s/journal.jsonl", sub);
	assert_int_equal(stat(current, &st), 0);
	assert_true(st.st_size <= 2048);
	journal_close(j);
	/* after a restart the newest id is known from the files */
	j = journal_open(sub, 2048, 1000, err, sizeof(err));
	assert_int_equal(journal_last_id(j), 100);
	json_t *events = journal_since(j, 0, 1000);
	assert_true(json_array_size(events) > 20); /* current and rotated files */
	json_decref(events);
	journal_close(j);
}

/* A line claiming an id at the top of the int64 range (damage, or a hand
 * edit) is skipped: taking it would make the next id wrap negative, and every
 * event written after it would be skipped at the next open. */
static void test_id_at_the_top_of_the_range_does_not_lose_later_events(void **state)
{
	(void)state;
	char sub[300], path[400], err[256];
	snprintf(sub, sizeof(sub), "%s/top-id", dir);
	assert_int_equal(mkdir(sub, 0750), 0);
	snprintf(path, sizeof(path), "%s/journal.jsonl", sub);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs("{\"type\":\"test\",\"id\":1}\n"
	      "{\"type\":\"test\",\"id\":2}\n"
	      "{\"type\":\"test\",\"id\":9223372036854775807}\n",
	      f);
	fclose(f);

	struct journal *j = journal_open(sub, 1 << 20, 100, err, sizeof(err));
	assert_non_null(j);
	assert_int_equal(journal_last_id(j), 2);
	assert_int_equal(journal_append(j, 1764547200000, json_pack("{s:s}", "type", "later")), 3);
	journal_close(j);

	j = journal_open(sub, 1 << 20, 100, err, sizeof(err));
	assert_non_null(j);
	assert_int_equal(journal_last_id(j), 3);
	json_t *events = journal_since(j, 2, 10);
	assert_int_equal(json_array_size(events), 1);
	assert_string_equal(json_string_value(json_object_get(json_array_get(events, 0), "type")),
	                    "later");
	json_decref(events);
	journal_close(j);
}

/*
 * A disk that refuses the lines (here RLIMIT_FSIZE, which fails a write past
 * the size as a full disk does): the events are in memory and their lines
 * kept, the journal says it is failing and where, and once the disk takes
 * them again they are written in order, so a restart reads them all.
 */
static void test_lines_a_full_disk_refuses_are_written_later(void **state)
{
	(void)state;
	char sub[300], path[400], err[256];
	snprintf(sub, sizeof(sub), "%s/full", dir);
	struct journal *j = journal_open(sub, 1 << 20, 100, err, sizeof(err));
	assert_non_null(j);
	append(j, 2);
	snprintf(path, sizeof(path), "%s/journal.jsonl", sub);
	struct stat st;
	assert_int_equal(stat(path, &st), 0);

	signal(SIGXFSZ, SIG_IGN); /* a write past the limit fails with EFBIG instead */
	struct rlimit before, full;
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &before), 0);
	full = before;
	full.rlim_cur = (rlim_t)st.st_size;
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &full), 0);
	for (int i = 0; i < 3; i++)
		assert_int_equal(
		        journal_append(j, 1764547200000,
		                       json_pack("{s:s,s:i}", "type", "while-full", "n", i)),
		        0);
	assert_int_equal(journal_sync(j), -1);
	const char *why = NULL;
	assert_true(journal_failing(j, &why));
	assert_non_null(strstr(why, path));
	json_t *events = journal_since(j, 0, 100);
	assert_int_equal(json_array_size(events), 5); /* in memory all the same */
	json_decref(events);

	assert_int_equal(setrlimit(RLIMIT_FSIZE, &before), 0); /* space returns */
	assert_int_equal(journal_sync(j), 0);
	assert_false(journal_failing(j, NULL));
	assert_int_equal(journal_append(j, 1764547200000, json_pack("{s:s}", "type", "after")), 6);
	journal_close(j);

	j = journal_open(sub, 1 << 20, 100, err, sizeof(err));
	assert_non_null(j);
	events = journal_since(j, 0, 100);
	assert_int_equal(json_array_size(events), 6);
	for (size_t i = 0; i < 6; i++)
		assert_int_equal(
		        json_integer_value(json_object_get(json_array_get(events, i), "id")),
		        (json_int_t)i + 1);
	assert_string_equal(json_string_value(json_object_get(json_array_get(events, 4), "type")),
	                    "while-full");
	json_decref(events);
	journal_close(j);
}

static void test_unwritable_state_dir_is_an_error(void **state)
{
	(void)state;
	char err[256];
	assert_null(journal_open("/proc/no-such-dir/state", 1 << 20, 10, err, sizeof(err)));
	assert_non_null(strstr(err, "state_dir /proc/no-such-dir/state"));
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
	        cmocka_unit_test(test_ids_continue_and_events_come_back),
	        cmocka_unit_test(test_rotation_by_size),
	        cmocka_unit_test(test_id_at_the_top_of_the_range_does_not_lose_later_events),
	        cmocka_unit_test(test_lines_a_full_disk_refuses_are_written_later),
	        cmocka_unit_test(test_unwritable_state_dir_is_an_error),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
