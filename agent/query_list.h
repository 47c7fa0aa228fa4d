/*
 * The coordinator's query list (GET /v1/query, Trino's QueryResource): how
 * many queries are not finished and how long the oldest has run, for the
 * collector's drain gate. Opt-in ([trino] query_list = on): Trino lists only
 * the queries the agent's user may view, so that user must be allowed to see
 * every user's queries, or the oldest is not the cluster's oldest.
 */
#ifndef TG_QUERY_LIST_H
#define TG_QUERY_LIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct http_response;

struct query_list {
	bool polled;               /* asked at least once */
	bool ok;                   /* the last answer was understood */
	char error[256];           /* why not, when polled and !ok */
	uint32_t unfinished;       /* queries neither FINISHED nor FAILED */
	int64_t oldest_elapsed_ms; /* the oldest of them: its elapsedTime; -1 when none */
};

/*
 * Parses a /v1/query answer (a JSON array of BasicQueryInfo) into LIST.
 * 0, or -1 with a reason in WHY (LIST then unchanged).
 */
int query_list_parse(const char *body, size_t len, struct query_list *list, char *why,
                     size_t why_len);

/* Records RESPONSE to a GET /v1/query in LIST: its counts, or why not. */
void query_list_answer(struct query_list *list, const struct http_response *response);

#endif
