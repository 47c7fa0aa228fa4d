/*
 * Trino's query ids and the POST /v1/statement answer (trino_statement.h).
 * The format is QueryIdGenerator's: createNextQueryId() writes
 * "%s_%05d_%s" of the UTC time (yyyyMMdd_HHmmss), a counter and the
 * coordinator id, 5 characters drawn from BASE_32 once, in the constructor,
 * so once per coordinator start (trinodb/trino
 * core/trino-main/src/main/java/io/trino/execution/QueryIdGenerator.java,
 * commit 19bf75d639d78c6cde01ffc6b2a800905756a283). The same id is what 477
 * and later publish as coordinatorId in /v1/info.
 */
#include "trino_statement.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

/* QueryIdGenerator.BASE_32: a-z and 0-9 without l, o, 0 and 1. */
static const char coordinator_id_alphabet[] = "abcdefghijkmnpqrstuvwxyz23456789";

bool trino_coordinator_id_valid(const char *text)
{
	if (strlen(text) != TRINO_COORDINATOR_ID_LEN)
		return false;
	for (size_t i = 0; i < TRINO_COORDINATOR_ID_LEN; i++)
		if (strchr(coordinator_id_alphabet, text[i]) == NULL)
			return false;
	return true;
}

/* Whether TEXT[from..to) are all decimal digits. */
static bool digits(const char *text, size_t from, size_t to)
{
	for (size_t i = from; i < to; i++)
		if (text[i] < '0' || text[i] > '9')
			return false;
	return true;
}

int trino_query_id_coordinator(const char *query_id, char *out, char *err, size_t err_len)
{
	/* yyyyMMdd _ HHmmss _ NNNNN _ ccccc: underscores at 8, 15 and 21 */
	bool shaped = strlen(query_id) == TRINO_QUERY_ID_LEN && digits(query_id, 0, 8) &&
	              query_id[8] == '_' && digits(query_id, 9, 15) && query_id[15] == '_' &&
	              digits(query_id, 16, 21) && query_id[21] == '_' &&
	              trino_coordinator_id_valid(query_id + 22);
	if (!shaped) {
		snprintf(err, err_len,
		         "query id '%.64s' is not yyyyMMdd_HHmmss_NNNNN_ccccc with a coordinator "
		         "id of Trino's alphabet",
		         query_id);
		return -1;
	}
	memcpy(out, query_id + 22, TRINO_COORDINATOR_ID_LEN + 1);
	return 0;
}

/* The path of URI ("http://host:port/v1/statement/..."), which must be a statement one. */
static int statement_path(const char *uri, char *out, size_t out_len, char *err, size_t err_len)
{
	const char *authority = strstr(uri, "://");
	const char *path = authority != NULL ? strchr(authority + 3, '/') : NULL;
	if (path == NULL || strncmp(path, "/v1/statement/", 14) != 0 || strlen(path) >= out_len ||
	    strpbrk(path, " \r\n") != NULL) {
		snprintf(err, err_len, "nextUri '%.200s' is not a statement URI", uri);
		return -1;
	}
	snprintf(out, out_len, "%s", path);
	return 0;
}

/* The QueryError of a page, when there is one, into ERR. True when there was. */
static bool query_error(json_t *root, char *err, size_t err_len)
{
	json_t *error = json_object_get(root, "error");
	if (!json_is_object(error))
		return false;
	const char *name = json_string_value(json_object_get(error, "errorName"));
	const char *message = json_string_value(json_object_get(error, "message"));
	snprintf(err, err_len, "the query failed: %s: %.200s", name != NULL ? name : "error",
	         message != NULL ? message : "(no message)");
	return true;
}

/* The checks of one QueryResults object; 0 or -1 with ERR. */
static int read_answer(json_t *root, struct trino_statement_answer *out, char *err, size_t err_len)
{
	const char *id = json_string_value(json_object_get(root, "id"));
	if (id == NULL) {
		snprintf(err, err_len, "no id");
		return -1;
	}
	if (query_error(root, err, err_len) ||
	    trino_query_id_coordinator(id, out->coordinator_id, err, err_len) != 0)
		return -1;
	snprintf(out->query_id, sizeof(out->query_id), "%s", id);
	json_t *next = json_object_get(root, "nextUri");
	if (next == NULL || json_is_null(next))
		return 0;
	if (!json_is_string(next)) {
		snprintf(err, err_len, "nextUri is not a string");
		return -1;
	}
	return statement_path(json_string_value(next), out->next_path, sizeof(out->next_path), err,
	                      err_len);
}

int trino_parse_statement_answer(const char *body, size_t len, struct trino_statement_answer *out,
                                 char *err, size_t err_len)
{
	memset(out, 0, sizeof(*out));
	json_error_t json_error;
	json_t *root = json_loadb(body, len, 0, &json_error);
	if (!json_is_object(root)) {
		snprintf(err, err_len, "not a JSON object: %s",
		         root == NULL ? json_error.text : "another value");
		json_decref(root);
		return -1;
	}
	int rc = read_answer(root, out, err, err_len);
	json_decref(root);
	return rc;
}
