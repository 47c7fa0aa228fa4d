/*
 * The agent's reading of /v1/query (agent/query_list.c): which queries count
 * as unfinished, which is the oldest, and the answers it must refuse rather
 * than report a wrong age.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "http_client.h"
#include "query_list.h"

#define RUNNING(elapsed) "{\"state\":\"RUNNING\",\"queryStats\":{\"elapsedTime\":\"" elapsed "\"}}"

struct parse_case {
	const char *name;
	const char *body;
	int rc;
	uint32_t unfinished;
	int64_t oldest_ms;
	const char *why; /* part of the reason, when rc is -1 */
};

static const struct parse_case cases[] = {
        {"an empty list: nothing unfinished, no oldest", "[]", 0, 0, -1, NULL},
        {"the oldest of several unfinished queries, in any unit",
         "[" RUNNING("3.00s") "," RUNNING("1.50m") "," RUNNING("900.00ms") "]", 0, 3, 90000, NULL},
        {"every state before FINISHED counts, FINISHING and WAITING_FOR_RESOURCES too",
         "[{\"state\":\"FINISHING\",\"queryStats\":{\"elapsedTime\":\"2.00s\"}},"
         "{\"state\":\"WAITING_FOR_RESOURCES\",\"queryStats\":{\"elapsedTime\":\"1.00s\"}}]",
         0, 2, 2000, NULL},
        {"finished and failed queries are history, however old",
         "[{\"state\":\"FINISHED\",\"queryStats\":{\"elapsedTime\":\"2.00h\"}},"
         "{\"state\":\"FAILED\",\"queryStats\":{}}," RUNNING("4.00s") "]",
         0, 1, 4000, NULL},
        {"not JSON", "<html>", -1, 0, 0, "not a JSON array"},
        {"an object is not the list", "{\"state\":\"RUNNING\"}", -1, 0, 0, "not a JSON array"},
        {"an entry without a state", "[{\"queryStats\":{\"elapsedTime\":\"1.00s\"}}]", -1, 0, 0,
         "has no state"},
        {"an unfinished query without an elapsed time", "[{\"state\":\"QUEUED\"}]", -1, 0, 0,
         "elapsedTime"},
        {"an elapsed time that is no duration", "[" RUNNING("soon") "]", -1, 0, 0, "elapsedTime"},
};

static void test_parse_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct parse_case *c = &cases[i];
		struct query_list list = {.unfinished = 77, .oldest_elapsed_ms = 77};
		char why[256] = "";
		int rc = query_list_parse(c->body, strlen(c->body), &list, why, sizeof(why));
		if (rc != c->rc)
			fail_msg("%s: rc %d (%s)", c->name, rc, why);
		if (rc == 0) {
			if (list.unfinished != c->unfinished ||
			    list.oldest_elapsed_ms != c->oldest_ms)
				fail_msg("%s: %u unfinished, oldest %lld ms", c->name,
				         list.unfinished, (long long)list.oldest_elapsed_ms);
		} else {
			if (strstr(why, c->why) == NULL)
				fail_msg("%s: reason '%s'", c->name, why);
			/* a refused answer leaves the last good one alone */
			assert_int_equal(list.unfinished, 77);
		}
	}
}

static void test_answers_that_are_not_lists(void **state)
{
	(void)state;
	struct query_list list = {0};
	struct http_response forbidden = {.status = 403, .ok = true, .body = "Access Denied"};
	forbidden.body_len = strlen(forbidden.body);
	query_list_answer(&list, &forbidden);
	assert_true(list.polled);
	assert_false(list.ok);
	assert_string_equal(list.error, "/v1/query: HTTP 403: Access Denied");

	struct http_response refused = {.ok = false, .error = "connection refused"};
	query_list_answer(&list, &refused);
	assert_string_equal(list.error, "/v1/query: connection refused");

	struct http_response good = {.status = 200, .ok = true, .body = "[" RUNNING("1.00s") "]"};
	good.body_len = strlen(good.body);
	query_list_answer(&list, &good);
	assert_true(list.ok);
	assert_string_equal(list.error, "");
	assert_int_equal(list.oldest_elapsed_ms, 1000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_parse_table),
	        cmocka_unit_test(test_answers_that_are_not_lists),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
