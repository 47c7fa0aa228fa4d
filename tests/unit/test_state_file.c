/*
 * The cutover state on disk: a round trip, no state yet, a leftover temp file
 * from a crash, and files that cannot be trusted (each refused with a reason).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "state_file.h"

static char dir[] = "/tmp/tg-state-XXXXXX";

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
	s.since_unix_ms = 1795515330000LL;
	s.until_unix_ms = s.since_unix_ms + 1800000;
	s.baseline = (struct baseline){123456, 789, 42};
	s.paused = true;
	snprintf(s.reason, sizeof(s.reason), "upgrade to 447 \"quoted\"");
	char err[512];
	bool found = false;
	struct detector_checkpoint evidence = {true, 12.5, 0.75, 400, 90, 400, 3, VERDICT_HEALTHY},
	                           evidence_back;
	assert_int_equal(state_file_load(dir, &back, &evidence_back, &found, err, sizeof(err)), 0);
	assert_false(found); /* nothing saved yet */
	assert_int_equal(state_file_save(dir, &s, &evidence, err, sizeof(err)), 0);
	/* a temp file left by a crash mid-save is not the state */
	write_text("cutover.json.trino-guard.tmp", "{\"torn");
	assert_int_equal(state_file_load(dir, &back, &evidence_back, &found, err, sizeof(err)), 0);
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
	assert_int_equal(state_file_save(dir, &s, NULL, err, sizeof(err)), 0);
	assert_int_equal(state_file_load(dir, &back, &evidence_back, &found, err, sizeof(err)), 0);
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
        {"an unknown key is refused, not ignored",
         "{\"version\":1,\"phase\":\"STEADY\",\"active\":\"b\",\"other\":\"g\"," STATE_FIELDS
         ",\"extra\":1}",
         "cutover.json"},
};

static void test_untrustworthy_files_are_refused(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(untrustworthy) / sizeof(untrustworthy[0]); i++) {
		write_text("cutover.json", untrustworthy[i].text);
		struct cutover_state s;
		bool found = true;
		char err[512] = "";
		if (state_file_load(dir, &s, NULL, &found, err, sizeof(err)) != -1)
			fail_msg("case '%s': accepted", untrustworthy[i].name);
		if (strstr(err, untrustworthy[i].expected) == NULL)
			fail_msg("case '%s': '%s' lacks '%s'", untrustworthy[i].name, err,
			         untrustworthy[i].expected);
		assert_false(found);
	}
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
	        cmocka_unit_test(test_untrustworthy_files_are_refused),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
