/*
 * /v1/query, read (query_list.h). The shape is Trino's BasicQueryInfo: a
 * "state" (QueryState: QUEUED, WAITING_FOR_RESOURCES, DISPATCHING, PLANNING,
 * STARTING, RUNNING, FINISHING, FINISHED, FAILED) and "queryStats" with
 * "elapsedTime", an airlift Duration measured by the coordinator since the
 * query's createTime [trinodb/trino
 * core/trino-main/src/main/java/io/trino/server/BasicQueryInfo.java@19a0b306,
 * BasicQueryStats.java@d9379fae, QueryResource.java@03a4d53b]. The elapsed
 * time, not createTime, is reported: it needs no agreement between clocks.
 */
#include "query_list.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "http_client.h"
#include "trino_parse.h"
#include "utf8.h"

/* Whether STATE is final: FINISHED and FAILED are QueryState's only done states. */
static bool state_done(const char *state)
{
	return strcmp(state, "FINISHED") == 0 || strcmp(state, "FAILED") == 0;
}

/* The elapsed time of one unfinished entry; -1 with WHY when it is not understood. */
static int entry_elapsed_ms(const json_t *entry, size_t index, int64_t *elapsed_ms, char *why,
                            size_t why_len)
{
	const char *elapsed = json_string_value(
	        json_object_get(json_object_get(entry, "queryStats"), "elapsedTime"));
	if (elapsed == NULL || trino_parse_duration_ms(elapsed, elapsed_ms) != 0) {
		snprintf(why, why_len, "query %zu: queryStats.elapsedTime is not a duration",
		         index);
		return -1;
	}
	return 0;
}

int query_list_parse(const char *body, size_t len, struct query_list *list, char *why,
                     size_t why_len)
{
	json_error_t error;
	json_t *root = json_loadb(body, len, 0, &error);
	if (root == NULL || !json_is_array(root)) {
		snprintf(why, why_len, "not a JSON array%s%s", root == NULL ? ": " : "",
		         root == NULL ? error.text : "");
		json_decref(root);
		return -1;
	}
	uint32_t unfinished = 0;
	int64_t oldest_ms = -1;
	size_t index;
	json_t *entry;
	json_array_foreach(root, index, entry)
	{
		const char *state = json_string_value(json_object_get(entry, "state"));
		if (state == NULL) {
			snprintf(why, why_len, "query %zu has no state", index);
			json_decref(root);
			return -1;
		}
		if (state_done(state))
			continue;
		int64_t elapsed_ms;
		if (entry_elapsed_ms(entry, index, &elapsed_ms, why, why_len) != 0) {
			json_decref(root);
			return -1;
		}
		unfinished++;
		if (elapsed_ms > oldest_ms)
			oldest_ms = elapsed_ms;
	}
	json_decref(root);
	list->unfinished = unfinished;
	list->oldest_elapsed_ms = oldest_ms;
	return 0;
}

void query_list_answer(struct query_list *list, const struct http_response *response)
{
	char why[200];
	list->polled = true;
	list->ok = false;
	if (!response->ok) {
		snprintf(list->error, sizeof(list->error), "/v1/query: %s", response->error);
	} else if (response->status != 200) {
		utf8_one_line(response->body, response->body_len, 160, why, sizeof(why));
		snprintf(list->error, sizeof(list->error), "/v1/query: HTTP %ld: %s",
		         response->status, why);
	} else if (query_list_parse(response->body, response->body_len, list, why, sizeof(why)) !=
	           0) {
		snprintf(list->error, sizeof(list->error), "/v1/query: %s", why);
	} else {
		list->ok = true;
		list->error[0] = '\0';
	}
}
