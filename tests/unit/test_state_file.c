/*
 * The cutover state on disk: a round trip, no state yet, a leftover temp file
 * from a crash, files that cannot be trusted (each refused with a reason),
 * and a state about a cluster the config no longer has.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "state_file.h"

static char dir[] = "/tmp/tg-state-XXXXXX";

#define HOUR_MS (3600 * 1000LL)
/* the collector's clock when it saves: an uptime and a wall time */
static const struct clock_now saved_at = {.mono_ms = 5 * HOUR_MS, .unix_ms = 1795515330000LL};

static void write_text(const char *name, const char *text)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	fputs(text, f);
	fclose(f);
}

static void test_round_trip(void **state)
{
	(void)state;
	struct cutover_state s, back;
	cutover_state_init(&s, "green", "blue");
	s.phase = PHASE_WATCHING;
	s.since_ms = saved_at.mono_ms - 60000;
	s.until_ms = s.since_ms + 1800000;
	s.baseline = (struct baseline){123456, 789, 42};
	s.paused = true;
	snprintf(s.reason, sizeof(s.reason), "upgrade to 447 \"quoted\"");
	char err[512];
	bool found = false;
	struct detector_checkpoint evidence = {true, 12.5, 0.75, 400, 90, 400, 3, VERDICT_HEALTHY},
	                           evidence_back;
	assert_int_equal(
	        state_file_load(dir, saved_at, &back, &evidence_back, &found, err, sizeof(err)), 0);
	assert_false(found); /* nothing saved yet */
	assert_int_equal(state_file_save(dir, &s, &evidence, saved_at, err, sizeof(err)), 0);
	/* a temp file left by a crash mid-save is not the state */
	write_text("cutover.json.trino-guard.tmp", "{\"torn");
	assert_int_equal(
	        state_file_load(dir, saved_at, &back, &evidence_back, &found, err, sizeof(err)), 0);
	assert_true(found);
	assert_true(cutover_state_equal(&s, &back));
	assert_true(detector_checkpoint_equal(&evidence, &evidence_back));

	/* the evidence goes back into a started detector */
	struct watch_settings settings;
	watch_settings_default(&settings);
	struct detector detector;
	detector_start(&detector, &settings, &s.baseline);
	detector_checkpoint_restore(&detector, &evidence_back);
	assert_true(detector.failures.score == 12.5);
	assert_int_equal(detector.user_errors.failed, 3);

	/* without evidence (not watching), nothing is restored */
	assert_int_equal(state_file_save(dir, &s, NULL, saved_at, err, sizeof(err)), 0);
	assert_int_equal(
	        state_file_load(dir, saved_at, &back, &evidence_back, &found, err, sizeof(err)), 0);
	assert_false(evidence_back.present);
}

/* A valid state's fields after version, phase, active and other. */
#define STATE_FIELDS                                                                               \
	"\"since_unix_ms\":0,\"until_unix_ms\":0,\"baseline\":{\"queries\":0,\"failed\":0,"        \
	"\"user_errors\":0},\"paused\":false,\"degraded_alerted\":false,\"retry_unix_ms\":0,"      \
	"\"reason\":\"\""

static const struct {
	const char *name;
	const char *text;     /* cutover.json */
	const char *expected; /* in the error */
} untrustworthy[] = {
        {"a torn file is refused, with the line it breaks on", "{\"version\":1,\"phase\":\"WATCH",
         "cutover.json:1"},
        {"a newer format is refused, not guessed at",
         "{\"version\":2,\"phase\":\"STEADY\",\"active\":\"b\",\"other\":\"g\"," STATE_FIELDS "}",
         "version 2 is not understood"},
        {"an unknown phase is refused by name",
         "{\"version\":1,\"phase\":\"DANCING\",\"active\":\"b\",\"other\":\"g\"," STATE_FIELDS "}",
         "unknown phase 'DANCING'"},
        {"a watch that ends before it starts is refused",
         "{\"version\":1,\"phase\":\"WATCHING\",\"active\":\"b\",\"other\":\"g\","
         "\"since_unix_ms\":10,\"until_unix_ms\":5,\"baseline\":{\"queries\":0,\"failed\":0,"
         "\"user_errors\":0},\"paused\":false,\"degraded_alerted\":false,"
         "\"retry_unix_ms\":0,\"reason\":\"\"}",
         "impossible times or counts"},
        {"a cluster name longer than the state holds is refused, not cut short",
         "{\"version\":1,\"phase\":\"STEADY\",\"active\":\"b\",\"other\":"
         "\"a-cluster-name-of-sixty-four-characters-is-one-more-than-fits-in\"," STATE_FIELDS "}",
         "cluster name too long"},
        {"a state missing its fields is refused, naming the file",
         "{\"version\":1,\"phase\":\"STEADY\",\"active\":\"b\"}", "cutover.json"},
        {"negative detector evidence is refused",
         "{\"version\":1,\"phase\":\"WATCHING\",\"active\":\"b\",\"other\":\"g\"," STATE_FIELDS
         ",\"detector\":{\"failure_score\":-1.0,\"failure_queries\":0,\"failure_failed\":0,"
         "\"user_score\":0.0,\"user_queries\":0,\"user_failed\":0,\"verdict\":0}}",
         "detector: impossible values"},
        {"a key given twice is refused, not taken from the last",
         "{\"version\":1,\"phase\":\"STEADY\",\"active\":\"b\",\"active\":\"g\","
         "\"other\":\"g\"," STATE_FIELDS "}",
         "duplicate object key"},
        {"a watch longer than a year is no state of ours",
         "{\"version\":1,\"phase\":\"WATCHING\",\"active\":\"b\",\"other\":\"g\","
         "\"since_unix_ms\":0,\"until_unix_ms\":9223372036854775807,\"baseline\":{"
         "\"queries\":0,\"failed\":0,\"user_errors\":0},\"paused\":false,"
         "\"degraded_alerted\":false,\"retry_unix_ms\":0,\"reason\":\"\"}",
         "impossible times or counts"},
        {"an unknown key is refused, not ignored",
         "{\"version\":1,\"phase\":\"STEADY\",\"active\":\"b\",\"other\":\"g\"," STATE_FIELDS
         ",\"extra\":1}",
         "cutover.json"},
};

/* The text kept in etcd for [ha]: the same state, read back by another collector's clock. */
static void test_text_round_trip_across_clocks(void **state)
{
	(void)state;
	struct cutover_state s, back;
	cutover_state_init(&s, "green", "blue");
	s.phase = PHASE_WATCHING;
	s.since_ms = saved_at.mono_ms - 60000;
	s.until_ms = s.since_ms + 1800000;
	snprintf(s.reason, sizeof(s.reason), "upgrade");
	struct detector_checkpoint evidence = {true, 3.5, 0.25, 100, 9, 100, 1, VERDICT_HEALTHY},
	                           evidence_back;
	char *text = state_file_encode(&s, &evidence, saved_at);
	assert_non_null(text);
	/* another host: its monotonic clock started at another time, the wall clock agrees */
	const struct clock_now other = {.mono_ms = 42000, .unix_ms = saved_at.unix_ms + 2000};
	char err[512];
	assert_int_equal(state_file_decode(text, strlen(text), "etcd", other, &back, &evidence_back,
	                                   err, sizeof(err)),
	                 0);
	assert_int_equal(back.phase, PHASE_WATCHING);
	assert_int_equal(back.until_ms - other.mono_ms, s.until_ms - saved_at.mono_ms - 2000);
	assert_true(detector_checkpoint_equal(&evidence, &evidence_back));
	/* a torn or foreign text is refused, with the name it was given */
	assert_int_equal(state_file_decode(text, strlen(text) / 2, "etcd", other, &back, NULL, err,
	                                   sizeof(err)),
	                 -1);
	assert_non_null(strstr(err, "etcd"));
	free(text);
}

static void test_untrustworthy_files_are_refused(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(untrustworthy) / sizeof(untrustworthy[0]); i++) {
		write_text("cutover.json", untrustworthy[i].text);
		struct cutover_state s;
		bool found = true;
		char err[512] = "";
		if (state_file_load(dir, saved_at, &s, NULL, &found, err, sizeof(err)) != -1)
			fail_msg("case '%s': accepted", untrustworthy[i].name);
		if (strstr(err, untrustworthy[i].expected) == NULL)
			fail_msg("case '%s': '%s' lacks '%s'", untrustworthy[i].name, err,
			         untrustworthy[i].expected);
		assert_false(found);
	}
}

/* A watch 10 min into its 30, a retry 2 s away, saved at SAVED_AT. */
static void save_watch(struct clock_now at)
{
	struct cutover_state s;
	cutover_state_init(&s, "green", "blue");
	s.phase = PHASE_WATCHING;
	s.since_ms = at.mono_ms - 10 * 60000;
	s.until_ms = s.since_ms + 30 * 60000;
	s.retry_ms = at.mono_ms + 2000;
	char err[512];
	assert_int_equal(state_file_save(dir, &s, NULL, at, err, sizeof(err)), 0);
}

static struct cutover_state load_at(struct clock_now at)
{
	struct cutover_state s;
	bool found = false;
	char err[512];
	assert_int_equal(state_file_load(dir, at, &s, NULL, &found, err, sizeof(err)), 0);
	assert_true(found);
	return s;
}

/*
 * cutover.json holds wall time, converted at every save from the monotonic
 * deadlines: a wall step while the collector runs moves nothing, a step while
 * it is down moves the rest of the watch by the step, within bounds.
 */
static void test_clock_steps_across_a_restart(void **state)
{
	(void)state;
	/* restarted 1.5 s later, on a true clock: the rest of the watch and of the retry */
	struct clock_now later = {saved_at.mono_ms + 1500, saved_at.unix_ms + 1500};
	save_watch(saved_at);
	struct cutover_state s = load_at(later);
	assert_int_equal(s.until_ms - later.mono_ms, 20 * 60000 - 1500);
	assert_int_equal(s.until_ms - s.since_ms, 30 * 60000);
	assert_int_equal(s.retry_ms - later.mono_ms, 500);

	/* the wall clock stepped +1 h while up: the next save says the same deadline */
	struct clock_now stepped = {saved_at.mono_ms + 1000, saved_at.unix_ms + 1000 + HOUR_MS};
	save_watch(saved_at);
	struct cutover_state before = load_at(saved_at);
	char err[512];
	assert_int_equal(state_file_save(dir, &before, NULL, stepped, err, sizeof(err)), 0);
	s = load_at(stepped);
	assert_int_equal(s.until_ms, before.until_ms);
	assert_int_equal(s.retry_ms, before.retry_ms);

	/* stepped +1 h while down: the watch is over at the first tick, not rolled back */
	struct clock_now ahead = {1000, saved_at.unix_ms + HOUR_MS}; /* and a reboot */
	save_watch(saved_at);
	s = load_at(ahead);
	assert_int_equal(s.phase, PHASE_WATCHING);
	assert_int_equal(s.until_ms, ahead.mono_ms);
	assert_true(s.retry_ms <= ahead.mono_ms);

	/* stepped -1 h while down: never more than the whole watch, nor the retry's 5 s */
	struct clock_now behind = {1000, saved_at.unix_ms - HOUR_MS};
	save_watch(saved_at);
	s = load_at(behind);
	assert_int_equal(s.until_ms - behind.mono_ms, 30 * 60000);
	assert_int_equal(s.retry_ms - behind.mono_ms, CUTOVER_RETRY_MS);
}

/* A state naming a cluster the config does not have is refused, naming file, field and cluster. */
static void test_a_state_about_an_unknown_cluster_is_refused(void **state)
{
	(void)state;
	static const char *const configured[] = {"blue", "green"};
	static const struct {
		const char *name;
		const char *active, *other;
		const char *expected; /* in the error; NULL: accepted */
	} rows[] = {
	        {"both clusters configured", "green", "blue", NULL},
	        {"no active cluster learnt yet", "", "blue", NULL},
	        {"no standby", "blue", "", NULL},
	        {"the active cluster renamed away", "red", "blue",
	         "cutover.json: active cluster 'red' is no [cluster.red] section"},
	        {"the standby removed", "blue", "purple",
	         "cutover.json: other cluster 'purple' is no [cluster.purple] section"},
	};
	char err[512];
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct cutover_state s;
		cutover_state_init(&s, rows[i].active, rows[i].other);
		assert_int_equal(state_file_save(dir, &s, NULL, saved_at, err, sizeof(err)), 0);
		err[0] = '\0';
		int rc = state_file_check_clusters(dir, saved_at, configured, 2, err, sizeof(err));
		if (rows[i].expected == NULL && rc != 0)
			fail_msg("%s: refused: %s", rows[i].name, err);
		if (rows[i].expected != NULL && (rc != -1 || strstr(err, rows[i].expected) == NULL))
			fail_msg("%s: rc %d, '%s' lacks '%s'", rows[i].name, rc, err,
			         rows[i].expected);
	}
	/* no state yet is no refusal */
	char path[256];
	snprintf(path, sizeof(path), "%s/cutover.json", dir);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(state_file_check_clusters(dir, saved_at, configured, 2, err, sizeof(err)),
	                 0);
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
	        cmocka_unit_test(test_round_trip),
	        cmocka_unit_test(test_text_round_trip_across_clocks),
	        cmocka_unit_test(test_untrustworthy_files_are_refused),
	        cmocka_unit_test(test_clock_steps_across_a_restart),
	        cmocka_unit_test(test_a_state_about_an_unknown_cluster_is_refused),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
