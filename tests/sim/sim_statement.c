/*
 * Trino's client protocol as trino-sim serves it (sim_statement.h). A POST
 * only registers the query; the first poll of its queued nextUri submits it
 * (QueuedStatementResource.submitIfNeeded); executing pages follow until one
 * carries no nextUri. A poll is held up to 1 s while nothing changes, as
 * Trino's maxWait does, so clients do not spin. Every nextUri is built from
 * the request's Host header: a client that came through a load balancer
 * keeps polling through it (docs/DESIGN.md §10).
 */
#include "sim_statement.h"

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "sim_http.h"

/* A poll held until its query changes or 1 s passes. */
struct held_poll {
	struct evhttp_request *req;
	struct sim_queries *queries;
	struct sim_query *query;
	uint32_t generation; /* the slot's, when the poll arrived */
	bool executing;
	char host[256];
	struct event *timer;
	struct held_poll *next;
};

static struct held_poll *held_polls;

static const char queued_prefix[] = "/v1/statement/queued/";
static const char executing_prefix[] = "/v1/statement/executing/";
static const char partial_cancel_prefix[] = "/v1/statement/partialCancel/";

bool sim_statement_path(const char *path)
{
	return strcmp(path, "/v1/statement") == 0 || strncmp(path, "/v1/statement/", 14) == 0;
}

static void request_host(struct evhttp_request *req, char *out, size_t out_len)
{
	const char *host = evhttp_find_header(evhttp_request_get_input_headers(req), "Host");
	snprintf(out, out_len, "%s", host != NULL && host[0] != '\0' ? host : "127.0.0.1");
}

static void send_not_found(struct evhttp_request *req)
{
	sim_http_send_text(req, 404, "Not Found", "text/plain", "Query not found");
}

int sim_error_code_of(const char *name)
{
	static const struct {
		const char *name;
		int code;
	} codes[] = {{"SYNTAX_ERROR", 1},
	             {"ABANDONED_QUERY", 2},
	             {"USER_CANCELED", 3},
	             {"GENERIC_INTERNAL_ERROR", 65536},
	             {"EXCEEDED_GLOBAL_MEMORY_LIMIT", 131073},
	             {"HIVE_METASTORE_ERROR", 16777216}};
	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
		if (strcmp(codes[i].name, name) == 0)
			return codes[i].code;
	return 65536;
}

static json_t *columns_json(void)
{
	return json_pack("[{s:s,s:s,s:{s:s,s:[]}}]", "name", "n", "type", "bigint", "typeSignature",
	                 "rawType", "bigint", "arguments");
}

static json_t *stats_json(const struct sim_query *q, int64_t now_ms)
{
	int64_t queued_ms = 0;
	if (q->submitted_ms > 0)
		queued_ms = (q->started_ms > 0 ? q->started_ms : now_ms) - q->submitted_ms;
	bool running = q->state == SIM_QUERY_RUNNING;
	return json_pack("{s:s,s:b,s:b,s:i,s:i,s:i,s:i,s:i,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I}",
	                 "state", sim_query_state_name(q), "queued",
	                 q->state == SIM_QUERY_QUEUED || q->state == SIM_QUERY_REGISTERED,
	                 "scheduled", q->started_ms > 0, "nodes", running ? 1 : 0, "totalSplits",
	                 running ? 1 : 0, "queuedSplits", 0, "runningSplits", running ? 1 : 0,
	                 "completedSplits", 0, "cpuTimeMillis", (json_int_t)0, "wallTimeMillis",
	                 (json_int_t)(now_ms - q->created_ms), "queuedTimeMillis",
	                 (json_int_t)queued_ms, "elapsedTimeMillis",
	                 (json_int_t)(now_ms - q->created_ms), "processedRows", (json_int_t)0,
	                 "processedBytes", (json_int_t)0, "physicalInputBytes", (json_int_t)0,
	                 "peakMemoryBytes", (json_int_t)0, "spilledBytes", (json_int_t)0);
}

static json_t *error_json(const struct sim_query *q)
{
	return json_pack("{s:s,s:i,s:s,s:s,s:{s:s,s:s,s:[],s:[]}}", "message", q->error_text,
	                 "errorCode", sim_error_code_of(q->error_name), "errorName", q->error_name,
	                 "errorType", q->error_type, "failureInfo", "type",
	                 "io.trino.spi.TrinoException", "message", q->error_text, "suppressed",
	                 "stack");
}

/*
 * The QueryResults page for Q now. NEXT_PATH ("queued"/"executing") names the
 * nextUri's resource, NULL when the page is the last; ROWS adds the data.
 */
static json_t *results_json(const struct sim_query *q, const char *host, const char *next_path,
                            bool rows, int64_t now_ms)
{
	json_t *page = json_object();
	char uri[512];
	json_object_set_new(page, "id", json_string(q->id));
	snprintf(uri, sizeof(uri), "http://%s/ui/query.html?%s", host, q->id);
	json_object_set_new(page, "infoUri", json_string(uri));
	if (next_path != NULL) {
		snprintf(uri, sizeof(uri), "http://%s/v1/statement/%s/%s/%s/%llu", host, next_path,
		         q->id, q->slug, (unsigned long long)q->token);
		json_object_set_new(page, "nextUri", json_string(uri));
	}
	if (q->state == SIM_QUERY_FINISHED || rows)
		json_object_set_new(page, "columns", columns_json());
	if (rows) {
		json_t *data = json_array();
		for (int i = 0; i < q->behaviour.rows; i++)
			json_array_append_new(data, json_pack("[i]", i));
		json_object_set_new(page, "data", data);
	}
	json_object_set_new(page, "stats", stats_json(q, now_ms));
	if (q->state == SIM_QUERY_FAILED)
		json_object_set_new(page, "error", error_json(q));
	json_object_set_new(page, "warnings", json_array());
	return page;
}

/* The page a poll of Q gets now; moves Q along (rows served, finished). */
static json_t *next_page(struct sim_queries *queries, struct sim_query *q, const char *host,
                         int64_t now_ms)
{
	q->token++;
	switch (q->state) {
	case SIM_QUERY_REGISTERED:
	case SIM_QUERY_QUEUED:
		return results_json(q, host, "queued", false, now_ms);
	case SIM_QUERY_RUNNING:
		if (!sim_query_rows_ready(q, now_ms))
			return results_json(q, host, "executing", false, now_ms);
		if (!q->data_sent && q->behaviour.rows > 0) {
			q->data_sent = true;
			return results_json(q, host, "executing", true, now_ms);
		}
		sim_query_finish(queries, q, now_ms);
		return results_json(q, host, NULL, false, now_ms);
	case SIM_QUERY_FINISHED:
	case SIM_QUERY_FAILED:
	case SIM_QUERY_FREE:
		break;
	}
	return results_json(q, host, NULL, false, now_ms);
}

static void held_unlink(struct held_poll *poll)
{
	for (struct held_poll **p = &held_polls; *p != NULL; p = &(*p)->next) {
		if (*p == poll) {
			*p = poll->next;
			return;
		}
	}
}

/* Answers a held poll: its query is re-read, it may be gone (a restart). */
static void answer_held(struct held_poll *poll, int64_t now_ms)
{
	struct sim_query *q = poll->query;
	if (q->state == SIM_QUERY_FREE || q->generation != poll->generation) {
		send_not_found(poll->req);
		return;
	}
	sim_query_poll(poll->queries, q, now_ms);
	sim_http_send_json(poll->req, next_page(poll->queries, q, poll->host, now_ms));
}

/* The hold of a poll is over (its query changed or 1 s passed). */
static void on_held_timer(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct held_poll *poll = arg;
	held_unlink(poll);
	answer_held(poll, clock_mono_ms());
	event_free(poll->timer);
	free(poll);
}

/* Holds REQ for Q WAIT_MS; answers at once when the timer cannot be set. */
static void hold_poll(struct evhttp_request *req, struct sim_queries *queries, struct sim_query *q,
                      const char *host, int64_t wait_ms, struct event_base *base)
{
	struct held_poll *poll = calloc(1, sizeof(*poll));
	struct timeval tv = {.tv_sec = wait_ms / 1000, .tv_usec = (wait_ms % 1000) * 1000};
	if (poll != NULL)
		poll->timer = evtimer_new(base, on_held_timer, poll);
	if (poll == NULL || poll->timer == NULL || evtimer_add(poll->timer, &tv) != 0) {
		if (poll != NULL && poll->timer != NULL)
			event_free(poll->timer);
		free(poll);
		sim_http_send_json(req, next_page(queries, q, host, clock_mono_ms()));
		return;
	}
	poll->req = req;
	poll->queries = queries;
	poll->query = q;
	poll->generation = q->generation;
	snprintf(poll->host, sizeof(poll->host), "%s", host);
	poll->next = held_polls;
	held_polls = poll;
}

void sim_statement_release(void)
{
	while (held_polls != NULL) {
		struct held_poll *poll = held_polls;
		held_polls = poll->next;
		event_free(poll->timer);
		send_not_found(poll->req);
		free(poll);
	}
}

static void serve_post(struct evhttp_request *req, struct sim_queries *queries)
{
	const char *user =
	        evhttp_find_header(evhttp_request_get_input_headers(req), "X-Trino-User");
	if (user == NULL || user[0] == '\0') {
		sim_http_send_text(req, 401, "Unauthorized", "text/plain",
		                   "Basic authentication or X-Trino-User must be sent");
		return;
	}
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	size_t len = evbuffer_get_length(in);
	char *sql = malloc(len + 1);
	if (sql == NULL) {
		evhttp_send_error(req, 500, NULL);
		return;
	}
	evbuffer_remove(in, sql, len);
	sql[len] = '\0';
	if (len == 0) {
		free(sql);
		sim_http_send_text(req, 400, "Bad Request", "text/plain", "SQL statement is empty");
		return;
	}
	struct sim_query_behaviour behaviour;
	char why[160];
	if (sim_query_behaviour_parse(sql, &behaviour, why, sizeof(why)) != 0)
		behaviour =
		        (struct sim_query_behaviour){.fails = true, .error_type = SIM_ERROR_USER};
	free(sql);
	struct clock_now now = clock_read();
	struct sim_query *q =
	        sim_query_register(queries, &behaviour, user, now.unix_ms, now.mono_ms);
	if (q == NULL) {
		sim_http_send_text(req, 503, "Service Unavailable", "text/plain",
		                   "Too many queries in flight");
		return;
	}
	char host[256];
	request_host(req, host, sizeof(host));
	sim_http_send_json(req, results_json(q, host, "queued", false, now.mono_ms));
}

/*
 * Splits "ID/SLUG/TOKEN" (after the resource's prefix) into ID and SLUG;
 * SKIP fields come first (partialCancel's stage). -1 when malformed.
 */
static int split_uri(const char *rest, int skip, char *id, size_t id_len, char *slug,
                     size_t slug_len)
{
	char copy[256];
	snprintf(copy, sizeof(copy), "%s", rest);
	char *save = NULL;
	char *fields[5] = {0};
	int n = 0;
	for (char *f = strtok_r(copy, "/", &save); f != NULL && n < 5;
	     f = strtok_r(NULL, "/", &save))
		fields[n++] = f;
	if (n != 3 + skip || strlen(fields[0]) >= id_len || strlen(fields[1 + skip]) >= slug_len)
		return -1;
	snprintf(id, id_len, "%s", fields[0]);
	snprintf(slug, slug_len, "%s", fields[1 + skip]);
	return 0;
}

/* GET or DELETE of a queued or executing nextUri. */
static void serve_poll(struct evhttp_request *req, const char *rest, bool executing,
                       struct sim_queries *queries, struct event_base *base)
{
	char id[SIM_QUERY_ID_LEN], slug[SIM_QUERY_SLUG_LEN];
	struct sim_query *q = NULL;
	if (split_uri(rest, 0, id, sizeof(id), slug, sizeof(slug)) == 0)
		q = sim_query_find(queries, id, slug);
	if (q == NULL) {
		send_not_found(req);
		return;
	}
	int64_t now_ms = clock_mono_ms();
	if (evhttp_request_get_command(req) == EVHTTP_REQ_DELETE) {
		sim_query_cancel(queries, q, now_ms);
		sim_http_send_text(req, 204, "No Content", "text/plain", "");
		return;
	}
	sim_query_poll(queries, q, now_ms);
	char host[256];
	request_host(req, host, sizeof(host));
	/* a page that would say nothing new waits for a change, up to 1 s */
	bool quiet = q->state == SIM_QUERY_QUEUED || (executing && q->state == SIM_QUERY_RUNNING &&
	                                              !sim_query_rows_ready(q, now_ms));
	int64_t wait_ms = sim_query_wait_ms(q, now_ms);
	if (quiet && wait_ms > 0) {
		hold_poll(req, queries, q, host, wait_ms, base);
		return;
	}
	sim_http_send_json(req, next_page(queries, q, host, now_ms));
}

void sim_statement_serve(struct evhttp_request *req, const char *path, struct sim_queries *queries,
                         struct event_base *base)
{
	enum evhttp_cmd_type method = evhttp_request_get_command(req);
	bool poll_method = method == EVHTTP_REQ_GET || method == EVHTTP_REQ_DELETE;
	if (strcmp(path, "/v1/statement") == 0 && method == EVHTTP_REQ_POST) {
		serve_post(req, queries);
	} else if (strncmp(path, queued_prefix, strlen(queued_prefix)) == 0 && poll_method) {
		serve_poll(req, path + strlen(queued_prefix), false, queries, base);
	} else if (strncmp(path, executing_prefix, strlen(executing_prefix)) == 0 && poll_method) {
		serve_poll(req, path + strlen(executing_prefix), true, queries, base);
	} else if (strncmp(path, partial_cancel_prefix, strlen(partial_cancel_prefix)) == 0 &&
	           method == EVHTTP_REQ_DELETE) {
		char id[SIM_QUERY_ID_LEN], slug[SIM_QUERY_SLUG_LEN];
		if (split_uri(path + strlen(partial_cancel_prefix), 1, id, sizeof(id), slug,
		              sizeof(slug)) != 0 ||
		    sim_query_find(queries, id, slug) == NULL)
			send_not_found(req);
		else
			sim_http_send_text(req, 204, "No Content", "text/plain", "");
	} else {
		sim_http_send_text(req, 405, "Method Not Allowed", "text/plain",
		                   "Method Not Allowed");
	}
}
