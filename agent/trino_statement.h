/*
 * What a coordinator answers POST /v1/statement, as far as the coordinator-id
 * probe needs it: the query id, checked against Trino's format, the id of the
 * coordinator that made it (its last 5 characters), and the nextUri to cancel.
 * Pure functions over a body; no I/O.
 */
#ifndef TG_TRINO_STATEMENT_H
#define TG_TRINO_STATEMENT_H

#include <stdbool.h>
#include <stddef.h>

#define TRINO_COORDINATOR_ID_LEN 5
#define TRINO_QUERY_ID_LEN       27 /* "yyyyMMdd_HHmmss_NNNNN_ccccc" */

struct trino_statement_answer {
	char query_id[TRINO_QUERY_ID_LEN + 1];
	char coordinator_id[TRINO_COORDINATOR_ID_LEN + 1];
	char next_path[512]; /* nextUri without scheme and authority; "" when none */
};

/* Whether TEXT is a coordinator id: 5 characters of QueryIdGenerator's alphabet. */
bool trino_coordinator_id_valid(const char *text);

/*
 * Reads the coordinator id at the end of QUERY_ID into OUT (6 bytes). 0, or
 * -1 with ERR when QUERY_ID is not "yyyyMMdd_HHmmss_NNNNN_ccccc".
 */
int trino_query_id_coordinator(const char *query_id, char *out, char *err, size_t err_len);

/*
 * Parses the QueryResults JSON of a POST /v1/statement. 0, or -1 with ERR:
 * not JSON, no id, an id not in Trino's format, a nextUri that is not a
 * statement URI, or the query's own error.
 */
int trino_parse_statement_answer(const char *body, size_t len, struct trino_statement_answer *out,
                                 char *err, size_t err_len);

#endif
