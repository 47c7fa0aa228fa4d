/*
 * The coordinator-id probe's pure parts: Trino's query id format and its
 * coordinator id (QueryIdGenerator's alphabet), the POST /v1/statement
 * answer, and the rule that tells a restarted coordinator from its uptime.
 * One row per case.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "coordinator_probe.h"
#include "trino_statement.h"

static const struct {
	const char *name;
	const char *query_id;
	const char *coordinator_id; /* NULL: rejected */
} query_ids[] = {
        {"a query id of Trino's format", "20260314_101503_00042_k3x9a", "k3x9a"},
        {"every letter of the alphabet's tail", "20260314_101503_99999_z2789", "z2789"},
        {"l is not in the alphabet", "20260314_101503_00042_k3x9l", NULL},
        {"o is not in the alphabet", "20260314_101503_00042_o3x9a", NULL},
        {"0 is not in the alphabet", "20260314_101503_00042_k3x90", NULL},
        {"1 is not in the alphabet", "20260314_101503_00042_k1x9a", NULL},
        {"upper case is not in the alphabet", "20260314_101503_00042_K3X9A", NULL},
        {"a 4-character coordinator id", "20260314_101503_00042_k3x9", NULL},
        {"a 6-character coordinator id", "20260314_101503_00042_k3x9ab", NULL},
        {"a 4-digit counter", "20260314_101503_0042_k3x9ab", NULL},
        {"a letter in the date", "2026031x_101503_00042_k3x9a", NULL},
        {"a dash for an underscore", "20260314-101503_00042_k3x9a", NULL},
        {"empty", "", NULL},
};

static void test_query_ids(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(query_ids) / sizeof(query_ids[0]); i++) {
		char id[TRINO_COORDINATOR_ID_LEN + 1] = "", err[256] = "";
		int rc = trino_query_id_coordinator(query_ids[i].query_id, id, err, sizeof(err));
		if (query_ids[i].coordinator_id == NULL) {
			if (rc != -1)
				fail_msg("%s: accepted, id '%s'", query_ids[i].name, id);
			assert_non_null(strstr(err, "yyyyMMdd_HHmmss_NNNNN_ccccc"));
		} else {
			if (rc != 0)
				fail_msg("%s: %s", query_ids[i].name, err);
			assert_string_equal(id, query_ids[i].coordinator_id);
		}
	}
}

static const struct {
	const char *name;
	const char *body;
	const char *coordinator_id; /* NULL: rejected, with WHY in the error */
	const char *next_path;
	const char *why;
} answers[] = {
        {"the queued page of a POST",
         "{\"id\":\"20260314_101503_00000_k3x9a\",\"infoUri\":\"http://t:8080/ui/"
         "query.html?20260314_101503_00000_k3x9a\",\"nextUri\":\"http://t:8080/v1/statement/"
         "queued/20260314_101503_00000_k3x9a/yabc/1\",\"stats\":{\"state\":\"QUEUED\"}}",
         "k3x9a", "/v1/statement/queued/20260314_101503_00000_k3x9a/yabc/1", NULL},
        {"no nextUri: nothing to cancel", "{\"id\":\"20260314_101503_00000_k3x9a\"}", "k3x9a", "",
         NULL},
        {"a null nextUri", "{\"id\":\"20260314_101503_00000_k3x9a\",\"nextUri\":null}", "k3x9a", "",
         NULL},
        {"the query's own error",
         "{\"id\":\"20260314_101503_00000_k3x9a\",\"error\":{\"message\":\"Access Denied: "
         "Cannot execute query\",\"errorName\":\"PERMISSION_DENIED\"}}",
         NULL, NULL, "PERMISSION_DENIED: Access Denied"},
        {"no id", "{\"nextUri\":\"http://t/v1/statement/queued/x/y/1\"}", NULL, NULL, "no id"},
        {"an id of another format", "{\"id\":\"q-1234\"}", NULL, NULL, "q-1234"},
        {"a nextUri elsewhere",
         "{\"id\":\"20260314_101503_00000_k3x9a\",\"nextUri\":\"http://t:8080/v1/info\"}", NULL,
         NULL, "not a statement URI"},
        {"a nextUri that is a number", "{\"id\":\"20260314_101503_00000_k3x9a\",\"nextUri\":7}",
         NULL, NULL, "not a string"},
        {"not JSON", "Query not found", NULL, NULL, "not a JSON object"},
        {"a JSON array", "[]", NULL, NULL, "not a JSON object"},
};

static void test_statement_answers(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(answers) / sizeof(answers[0]); i++) {
		struct trino_statement_answer answer;
		char err[512] = "";
		int rc = trino_parse_statement_answer(answers[i].body, strlen(answers[i].body),
		                                      &answer, err, sizeof(err));
		if (answers[i].coordinator_id == NULL) {
			if (rc != -1 || strstr(err, answers[i].why) == NULL)
				fail_msg("%s: rc %d, error '%s'", answers[i].name, rc, err);
			continue;
		}
		if (rc != 0)
			fail_msg("%s: %s", answers[i].name, err);
		assert_string_equal(answer.coordinator_id, answers[i].coordinator_id);
		assert_string_equal(answer.next_path, answers[i].next_path);
	}
}

static const struct {
	const char *name;
	int64_t uptime_before_ms, start_before_ms, uptime_now_ms, start_now_ms;
	bool restarted;
} restarts[] = {
        {"the first answer: nothing to compare", -1, 0, 5000, 1000, false},
        {"no uptime in the answer", 5000, 0, -1, 0, false},
        {"up a second longer", 10000, 0, 11000, 0, false},
        {"the same rounded uptime twice", 10000, 0, 10000, 250, false},
        {"a smaller uptime: a new JVM", 60000, 0, 2000, 58500, true},
        {"days up, start jittering by the 2-digit rounding", 280800000, 0, 281232000,
         432000 - 400000, false},
        {"down longer than it had been up, seen at a larger uptime", 10000, 0, 20000, 610000, true},
        {"a start 1.5 s later with 20 s up", 20000, 0, 20500, 1500, true},
};

static void test_restart_rule(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(restarts) / sizeof(restarts[0]); i++) {
		bool got = coordinator_probe_restarted(
		        restarts[i].uptime_before_ms, restarts[i].start_before_ms,
		        restarts[i].uptime_now_ms, restarts[i].start_now_ms);
		if (got != restarts[i].restarted)
			fail_msg("%s: %s", restarts[i].name, got ? "restarted" : "not restarted");
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_query_ids),
	        cmocka_unit_test(test_statement_answers),
	        cmocka_unit_test(test_restart_rule),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
