/*
 * Every contract fixture of tests/fixtures/trino/ through the agent's parsers:
 * what each release answers is understood as that release means it (version,
 * role, starting, state, the counters where /metrics has them, the active node
 * count under the release's name, the JMX bodies where JMX exists, the
 * coordinator id in a statement answer's query id before 477, the query
 * list's unfinished queries). What a
 * release should have comes from trino-sim's release table, so the table and
 * the fixtures cannot drift apart; every fixture file is covered and named in
 * SOURCES; the README's compatibility table has one row per release-table row.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <dirent.h>

#include "query_list.h"
#include "sim_release.h"
#include "trino_fixture.h"
#include "trino_parse.h"
#include "trino_statement.h"

/* The values every fixture carries (tests/fixtures/trino/SOURCES). */
static const uint64_t expected_values[TRINO_COUNTER_COUNT] = {
        [TRINO_COMPLETED] = 1538, [TRINO_FAILED] = 37,   [TRINO_USER_ERROR] = 30,
        [TRINO_INTERNAL] = 2,     [TRINO_EXTERNAL] = 4,  [TRINO_INSUFFICIENT_RESOURCES] = 1,
        [TRINO_CANCELED] = 5,     [TRINO_ABANDONED] = 0, [TRINO_RUNNING] = 3,
        [TRINO_QUEUED] = 1,
};

struct release_dir {
	char name[64];
	char version[64];
	const struct sim_release *release;
};

static void load(const struct release_dir *r, const char *name, struct trino_fixture *f)
{
	char dir[512], err[256];
	snprintf(dir, sizeof(dir), "%s/%s", TG_FIXTURE_DIR, r->name);
	if (trino_fixture_load(dir, name, f, err, sizeof(err)) != 0)
		fail_msg("%s", err);
}

/* The release's version as its coordinator's /v1/info says it. */
static void release_dir_init(struct release_dir *r, const char *name)
{
	snprintf(r->name, sizeof(r->name), "%s", name);
	struct trino_fixture f;
	load(r, "info-coordinator.http", &f);
	struct trino_info info;
	char err[256];
	if (trino_parse_info(f.body, f.body_len, &info, err, sizeof(err)) != 0)
		fail_msg("%s/info-coordinator.http: %s", name, err);
	trino_fixture_cleanup(&f);
	snprintf(r->version, sizeof(r->version), "%s", info.version);
	r->release = sim_release_for(info.version);
}

static void check_info(const struct release_dir *r, const char *file, bool coordinator,
                       bool starting)
{
	struct trino_fixture f;
	load(r, file, &f);
	struct trino_info info;
	char err[256];
	if (trino_parse_info(f.body, f.body_len, &info, err, sizeof(err)) != 0)
		fail_msg("%s/%s: %s", r->name, file, err);
	assert_int_equal(f.status, 200);
	assert_string_equal(info.version, r->version);
	assert_int_equal(info.coordinator, coordinator);
	assert_int_equal(info.starting, starting);
	assert_true(info.uptime_ms > 0);
	if (r->release->info_node_fields) {
		assert_string_equal(info.state, "ACTIVE");
		assert_true(info.node_id[0] != '\0');
	} else {
		assert_string_equal(info.state, "");
		assert_string_equal(info.node_id, "");
	}
	assert_int_equal(info.coordinator_id[0] != '\0',
	                 coordinator && r->release->info_coordinator_id);
	trino_fixture_cleanup(&f);
}

/* /metrics as the agent asked for it, with or without node annotations as labels. */
static void check_metrics(const struct release_dir *r, const char *file)
{
	struct trino_fixture f;
	load(r, file, &f);
	assert_int_equal(f.status, 200);
	assert_non_null(strstr(f.content_type, "application/openmetrics-text"));
	struct trino_counters c;
	char err[256] = "";
	int rc = trino_parse_openmetrics(f.body, f.body_len, &c, err, sizeof(err));
	if (rc != (r->release->counters_in_metrics ? 0 : 1))
		fail_msg("%s/%s: rc %d (%s)", r->name, file, rc, err);
	for (int i = 0; i < TRINO_COUNTER_COUNT; i++)
		if (c.found & (1u << i))
			assert_int_equal(c.values[i], expected_values[i]);
	/* before 429 only the gauges are there */
	assert_true(c.found & (1u << TRINO_RUNNING));
	assert_int_equal(c.active_nodes, 3);
	assert_string_equal(c.active_nodes_from, r->release->node_count_metric);
	trino_fixture_cleanup(&f);
}

static void check_jmx(const struct release_dir *r)
{
	struct trino_fixture f;
	load(r, "jmx-query-manager.http", &f);
	if (!r->release->jmx_rest) {
		assert_int_equal(f.status, 404);
		trino_fixture_cleanup(&f);
		return;
	}
	assert_int_equal(f.status, 200);
	struct trino_counters c;
	char err[256];
	if (trino_parse_jmx_query_manager(f.body, f.body_len, &c, err, sizeof(err)) != 0)
		fail_msg("%s/jmx-query-manager.http: %s", r->name, err);
	for (int i = 0; i < TRINO_COUNTER_COUNT; i++)
		assert_int_equal(c.values[i], expected_values[i]);
	trino_fixture_cleanup(&f);
	load(r, "jmx-node-manager.http", &f);
	assert_non_null(strstr(f.body, r->release->node_manager_mbean));
	int64_t active = -1;
	assert_int_equal(
	        trino_parse_jmx_active_nodes(f.body, f.body_len, &active, err, sizeof(err)), 0);
	assert_int_equal(active, 3);
	trino_fixture_cleanup(&f);
}

static void check_state_file(const struct release_dir *r, const char *file)
{
	struct trino_fixture f;
	load(r, file, &f);
	char state[32], err[256];
	if (trino_parse_state(f.body, f.body_len, state, sizeof(state), err, sizeof(err)) != 0)
		fail_msg("%s/%s: %s", r->name, file, err);
	char expected[64];
	snprintf(expected, sizeof(expected), "%.*s", (int)(strlen(file) - 11), file + 6);
	assert_string_equal(state, expected); /* state-NAME.http */
	trino_fixture_cleanup(&f);
	/* DRAINING and DRAINED exist from 468 */
	if (strcmp(state, "DRAINING") == 0 || strcmp(state, "DRAINED") == 0)
		assert_true(atoi(r->version) >= 468);
}

/* /v1/query: the running and the queued query count, the finished and failed do not. */
static void check_query_list(const struct release_dir *r, const char *file)
{
	struct trino_fixture f;
	load(r, file, &f);
	assert_int_equal(f.status, 200);
	struct query_list list;
	char err[256];
	if (query_list_parse(f.body, f.body_len, &list, err, sizeof(err)) != 0)
		fail_msg("%s/%s: %s", r->name, file, err);
	assert_int_equal(list.unfinished, 2);
	assert_int_equal(list.oldest_elapsed_ms, 150000); /* the RUNNING one's "2.50m" */
	trino_fixture_cleanup(&f);
}

/* An error answer: the status its name says, and a body people can read. */
static void check_error(const struct release_dir *r, const char *file, int status)
{
	struct trino_fixture f;
	load(r, file, &f);
	assert_int_equal(f.status, status);
	trino_fixture_cleanup(&f);
}

/*
 * The answer to the coordinator-id probe's POST: its id ends in the
 * coordinator's id, which /v1/info does not publish before 477, and its
 * nextUri is the queued one the probe cancels.
 */
static void check_statement(const struct release_dir *r, const char *file)
{
	struct trino_fixture f;
	load(r, file, &f);
	assert_int_equal(f.status, 200);
	struct trino_statement_answer answer;
	char err[512];
	if (trino_parse_statement_answer(f.body, f.body_len, &answer, err, sizeof(err)) != 0)
		fail_msg("%s/%s: %s", r->name, file, err);
	assert_string_equal(answer.coordinator_id, answer.query_id + 22);
	assert_true(trino_coordinator_id_valid(answer.coordinator_id));
	char queued[128];
	snprintf(queued, sizeof(queued), "/v1/statement/queued/%s/", answer.query_id);
	assert_memory_equal(answer.next_path, queued, strlen(queued));
	assert_false(r->release->info_coordinator_id); /* the probe is for releases before 477 */
	trino_fixture_cleanup(&f);
}

/* Checks one fixture by its name; fails on a file no check knows. */
static void check_file(const struct release_dir *r, const char *file)
{
	if (strcmp(file, "info-coordinator.http") == 0)
		check_info(r, file, true, false);
	else if (strcmp(file, "info-worker.http") == 0)
		check_info(r, file, false, false);
	else if (strcmp(file, "info-starting.http") == 0)
		check_info(r, file, true, true);
	else if (strncmp(file, "state-", 6) == 0)
		check_state_file(r, file);
	else if (strcmp(file, "metrics.http") == 0 || strcmp(file, "metrics-labels.http") == 0)
		check_metrics(r, file);
	else if (strcmp(file, "metrics-401.http") == 0)
		check_error(r, file, 401);
	else if (strcmp(file, "metrics-403.http") == 0)
		check_error(r, file, 403);
	else if (strcmp(file, "metrics-503.http") == 0)
		check_error(r, file, 503);
	else if (strcmp(file, "jmx-query-manager.http") == 0)
		check_jmx(r);
	else if (strcmp(file, "query-list.http") == 0)
		check_query_list(r, file);
	else if (strcmp(file, "jmx-node-manager.http") == 0)
		assert_true(r->release->jmx_rest);
	else if (strcmp(file, "jmx-old-node-manager.http") == 0) {
		check_error(r, file, 500); /* 477+: the old MBean is gone */
		assert_true(r->release->info_node_fields);
	} else if (strcmp(file, "statement-queued.http") == 0)
		check_statement(r, file);
	else
		fail_msg("%s/%s: no check knows this fixture", r->name, file);
}

static bool sources_name(const char *sources, const char *release, const char *file)
{
	char line[256];
	snprintf(line, sizeof(line), "\n%s/%s ", release, file);
	return strstr(sources, line) != NULL;
}

static void test_every_fixture_through_the_parsers(void **state)
{
	(void)state;
	struct trino_fixture sources;
	char err[256];
	if (trino_fixture_load(NULL, TG_FIXTURE_DIR "/SOURCES", &sources, err, sizeof(err)) == 0)
		fail_msg("SOURCES should not parse as an HTTP answer");
	FILE *f = fopen(TG_FIXTURE_DIR "/SOURCES", "r");
	assert_non_null(f);
	static char text[65536] = "\n";
	text[fread(text + 1, 1, sizeof(text) - 2, f) + 1] = '\0';
	fclose(f);

	DIR *root = opendir(TG_FIXTURE_DIR);
	assert_non_null(root);
	struct dirent *entry;
	size_t releases = 0, files = 0;
	while ((entry = readdir(root)) != NULL) {
		if (entry->d_name[0] == '.' || strcmp(entry->d_name, "SOURCES") == 0)
			continue;
		struct release_dir r;
		release_dir_init(&r, entry->d_name);
		releases++;
		char dir_path[512];
		snprintf(dir_path, sizeof(dir_path), "%s/%s", TG_FIXTURE_DIR, r.name);
		DIR *dir = opendir(dir_path);
		assert_non_null(dir);
		struct dirent *file;
		while ((file = readdir(dir)) != NULL) {
			if (file->d_name[0] == '.')
				continue;
			if (!sources_name(text, r.name, file->d_name))
				fail_msg("SOURCES has no line for %s/%s", r.name, file->d_name);
			check_file(&r, file->d_name);
			files++;
		}
		closedir(dir);
	}
	closedir(root);
	assert_true(releases >= 7); /* 423, 423-e.3, 455, 476, 477, 478, main */
	/* and every line of SOURCES names a fixture that is there */
	size_t lines = 0;
	for (const char *p = text; (p = strchr(p, '\n')) != NULL; p++)
		if (p[1] != '\0' && p[1] != '#' && p[1] != '\n')
			lines++;
	assert_int_equal(lines, files);
}

/* The README's row for a release-table row: what is read from where. */
static void readme_row(const struct sim_release *r, char *out, size_t out_len)
{
	char range[64];
	if (r->last == 0)
		snprintf(range, sizeof(range), "%d and later (main)", r->first);
	else
		snprintf(range, sizeof(range), "%d\u2013%d", r->first == 0 ? 420 : r->first,
		         r->last);
	snprintf(out, out_len, "\n| %s | `%s` | %s | %s | %s |", range, r->node_count_metric,
	         r->counters_in_metrics ? "yes" : "no: gauges only",
	         r->jmx_rest ? "yes" : "no (404)",
	         r->info_node_fields ? "`nodeId`, `state`, `coordinatorId`"
	                             : "version, role, `starting`");
}

/* The README's compatibility table has one row per release-table row, and no other. */
static void test_readme_table_matches_the_release_table(void **state)
{
	(void)state;
	FILE *f = fopen(TG_README, "r");
	assert_non_null(f);
	static char text[262144];
	text[fread(text, 1, sizeof(text) - 1, f)] = '\0';
	fclose(f);
	const char *table = strstr(text, "\n| Trino | active node count from |");
	assert_non_null(table);
	size_t count;
	const struct sim_release *rows = sim_release_table(&count);
	for (size_t i = 0; i < count; i++) {
		char row[512];
		readme_row(&rows[i], row, sizeof(row));
		if (strstr(table, row) == NULL)
			fail_msg("README.md has no compatibility row%s", row);
	}
	/* no row the table does not have: header, separator, one line per row */
	size_t lines = 0;
	for (const char *p = table + 1; *p == '|'; p = strchr(p, '\n') + 1)
		lines++;
	assert_int_equal(lines, count + 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_every_fixture_through_the_parsers),
	        cmocka_unit_test(test_readme_table_matches_the_release_table),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
