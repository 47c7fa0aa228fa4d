/*
 * HTTP API. Each handler runs on the collector's loop, reads the state the
 * tick and ingest maintain, and answers at once; nothing here blocks.
 */
#include "api.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cutover_runner.h"
#include "journal.h"
#include "metrics.h"
#include "status.h"

#define API_MAX_BODY         (64 * 1024)
#define API_MAX_HEADERS      (16 * 1024)
#define EVENTS_DEFAULT_LIMIT 1000
#define EVENTS_MAX_LIMIT     10000

static void reply_json(struct evhttp_request *req, int code, const char *reason, json_t *body)
{
	char *text = json_dumps(body, JSON_COMPACT);
	json_decref(body);
	struct evbuffer *out = evbuffer_new();
	if (text == NULL || out == NULL) {
		free(text);
		if (out != NULL)
			evbuffer_free(out);
		evhttp_send_error(req, 500, NULL);
		return;
	}
	evbuffer_add_printf(out, "%s\n", text);
	free(text);
	struct evkeyvalq *headers = evhttp_request_get_output_headers(req);
	evhttp_add_header(headers, "Content-Type", "application/json");
	evhttp_add_header(headers, "Cache-Control", "no-store");
	evhttp_send_reply(req, code, reason, out);
	evbuffer_free(out);
}

static void reply_error(struct evhttp_request *req, int code, const char *reason,
                        const char *message)
{
	reply_json(req, code, reason, json_pack("{s:s}", "error", message));
}

static bool method_is(struct evhttp_request *req, enum evhttp_cmd_type method)
{
	enum evhttp_cmd_type got = evhttp_request_get_command(req);
	return got == method || (method == EVHTTP_REQ_GET && got == EVHTTP_REQ_HEAD);
}

static void serve_healthz(struct evhttp_request *req, struct collector *collector)
{
	struct clock_now now = collector_clock(collector);
	reply_json(req, 200, "OK",
	           json_pack("{s:s,s:I,s:I,s:b}", "status", "ok", "uptime_seconds",
	                     (json_int_t)((now.mono_ms - collector->started_ms) / 1000), "nodes",
	                     (json_int_t)collector->fleet.count, "warming_up",
	                     !collector->findings_ready));
}

/* Parses a non-negative integer query parameter; -1 when malformed. */
static long long query_number(struct evkeyvalq *query, const char *name, long long fallback)
{
	const char *text = evhttp_find_header(query, name);
	if (text == NULL)
		return fallback;
	char *end;
	errno = 0;
	long long value = strtoll(text, &end, 10);
	if (*text == '\0' || *end != '\0' || errno != 0 || value < 0)
		return -1;
	return value;
}

static void serve_events(struct evhttp_request *req, struct collector *collector)
{
	struct evkeyvalq query;
	query.tqh_first = NULL;
	query.tqh_last = &query.tqh_first;
	const char *raw = evhttp_uri_get_query(evhttp_request_get_evhttp_uri(req));
	if (raw != NULL && evhttp_parse_query_str(raw, &query) != 0) {
		reply_error(req, 400, "Bad Request", "malformed query string");
		return;
	}
	long long since = query_number(&query, "since", 0);
	long long limit = query_number(&query, "limit", EVENTS_DEFAULT_LIMIT);
	for (struct evkeyval *kv = query.tqh_first; kv != NULL; kv = kv->next.tqe_next) {
		if (strcmp(kv->key, "since") != 0 && strcmp(kv->key, "limit") != 0) {
			char message[160];
			snprintf(message, sizeof(message),
			         "unknown parameter '%.60s' (use since, limit)", kv->key);
			evhttp_clear_headers(&query);
			reply_error(req, 400, "Bad Request", message);
			return;
		}
	}
	evhttp_clear_headers(&query);
	if (since < 0 || limit <= 0 || limit > EVENTS_MAX_LIMIT) {
		reply_error(req, 400, "Bad Request",
		            "since must be an event id >= 0 and limit 1..10000");
		return;
	}
	json_t *events = journal_since(collector->journal, (uint64_t)since, (size_t)limit);
	size_t n = json_array_size(events);
	json_int_t next =
	        n > 0 ? json_integer_value(json_object_get(json_array_get(events, n - 1), "id"))
	              : since;
	reply_json(req, 200, "OK",
	           json_pack("{s:o,s:I,s:I}", "events", events, "next_since", next, "last_id",
	                     (json_int_t)journal_last_id(collector->journal)));
}

/* collector/dashboard/index.html, embedded at build time (dashboard_html.c). */
extern const unsigned char dashboard_html[];
extern const size_t dashboard_html_len;

/* GET /: the dashboard, one self-contained page that polls /v1/status and /v1/events. */
static void serve_dashboard(struct evhttp_request *req, struct collector *collector)
{
	(void)collector;
	struct evbuffer *out = evbuffer_new();
	if (out == NULL || evbuffer_add(out, dashboard_html, dashboard_html_len) != 0) {
		if (out != NULL)
			evbuffer_free(out);
		evhttp_send_error(req, 500, NULL);
		return;
	}
	struct evkeyvalq *headers = evhttp_request_get_output_headers(req);
	evhttp_add_header(headers, "Content-Type", "text/html; charset=utf-8");
	evhttp_add_header(headers, "Cache-Control", "no-store");
	/* nothing from elsewhere: its own inline style and script, and this API */
	evhttp_add_header(headers, "Content-Security-Policy",
	                  "default-src 'none'; connect-src 'self'; style-src 'unsafe-inline'; "
	                  "script-src 'unsafe-inline'; img-src 'self'");
	evhttp_send_reply(req, 200, "OK", out);
	evbuffer_free(out);
}

static void serve_metrics(struct evhttp_request *req, struct collector *collector)
{
	struct evbuffer *out = evbuffer_new();
	if (out == NULL) {
		evhttp_send_error(req, 500, NULL);
		return;
	}
	metrics_write(collector, collector_clock(collector), out);
	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
	                  "text/plain; version=0.0.4; charset=utf-8");
	evhttp_send_reply(req, 200, "OK", out);
	evbuffer_free(out);
}

/* Write calls need the bearer token when one is configured (compared in constant time). */
static bool authorized(struct evhttp_request *req, const struct collector *collector)
{
	if (collector->api_token == NULL)
		return true;
	const char *header =
	        evhttp_find_header(evhttp_request_get_input_headers(req), "Authorization");
	if (header == NULL || strncmp(header, "Bearer ", 7) != 0)
		return false;
	const char *given = header + 7;
	size_t expected_len = strlen(collector->api_token), given_len = strlen(given);
	unsigned char diff = (unsigned char)(expected_len != given_len);
	for (size_t i = 0; i < expected_len; i++)
		diff |= (unsigned char)(collector->api_token[i] ^ given[i < given_len ? i : 0]);
	return diff == 0;
}

/* The JSON object of a POST body ({} when empty); NULL after answering 400. */
static json_t *read_body(struct evhttp_request *req, const char *const *allowed)
{
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	size_t len = evbuffer_get_length(in);
	char *text = malloc(len + 1);
	if (text == NULL) {
		reply_error(req, 500, "Internal Server Error", "out of memory");
		return NULL;
	}
	evbuffer_remove(in, text, len);
	text[len] = '\0';
	json_error_t error;
	json_t *body = len == 0 ? json_object() : json_loads(text, 0, &error);
	free(text);
	if (!json_is_object(body)) {
		char message[256];
		snprintf(message, sizeof(message), "the body must be a JSON object%s%s",
		         body == NULL ? ": " : "", body == NULL ? error.text : "");
		json_decref(body);
		reply_error(req, 400, "Bad Request", message);
		return NULL;
	}
	const char *field;
	json_t *value;
	json_object_foreach(body, field, value)
	{
		bool known = false;
		for (size_t i = 0; allowed[i] != NULL; i++)
			known = known || strcmp(field, allowed[i]) == 0;
		bool typed = strcmp(field, "force") == 0 ? json_is_boolean(value)
		                                         : json_is_string(value);
		if (!known || !typed) {
			char message[256];
			snprintf(message, sizeof(message), "%s field '%.60s'",
			         known ? "wrongly typed" : "unknown", field);
			json_decref(body);
			reply_error(req, 400, "Bad Request", message);
			return NULL;
		}
	}
	return body;
}

static const char *status_reason(int status)
{
	switch (status) {
	case 200:
		return "OK";
	case 202:
		return "Accepted";
	case 400:
		return "Bad Request";
	case 409:
		return "Conflict";
	default:
		return "Error";
	}
}

static void serve_write(struct evhttp_request *req, struct collector *collector,
                        enum cutover_event_kind kind)
{
	if (evhttp_request_get_command(req) != EVHTTP_REQ_POST) {
		reply_error(req, 405, "Method Not Allowed", "use POST");
		return;
	}
	if (!authorized(req, collector)) {
		evhttp_add_header(evhttp_request_get_output_headers(req), "WWW-Authenticate",
		                  "Bearer");
		reply_error(req, 401, "Unauthorized", "a valid bearer token is required");
		return;
	}
	static const char *const cutover_fields[] = {"to", "force", "reason", NULL};
	static const char *const other_fields[] = {"force", "reason", NULL};
	json_t *body = read_body(req, kind == EVENT_CUTOVER ? cutover_fields : other_fields);
	if (body == NULL)
		return;
	const char *to = json_string_value(json_object_get(body, "to"));
	if (kind == EVENT_CUTOVER && to == NULL) {
		json_decref(body);
		reply_error(req, 400, "Bad Request", "cutover needs {\"to\": \"<cluster>\"}");
		return;
	}
	int status = 500;
	json_t *answer = cutover_runner_request(collector->cutover, kind, to,
	                                        json_is_true(json_object_get(body, "force")),
	                                        json_string_value(json_object_get(body, "reason")),
	                                        collector_clock(collector), &status);
	json_decref(body);
	reply_json(req, status, status_reason(status), answer);
}

/* Every request lands here: route by exact path. */
static void on_request(struct evhttp_request *req, void *arg)
{
	struct collector *collector = arg;
	const char *path = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req));
	if (path == NULL) {
		reply_error(req, 400, "Bad Request", "no path");
		return;
	}
	struct {
		const char *path;
		void (*serve)(struct evhttp_request *, struct collector *);
	} routes[] = {
	        {"/", serve_dashboard},
	        {"/healthz", serve_healthz},
	        {"/v1/events", serve_events},
	        {"/metrics", serve_metrics},
	};
	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		if (strcmp(path, routes[i].path) != 0)
			continue;
		if (!method_is(req, EVHTTP_REQ_GET)) {
			reply_error(req, 405, "Method Not Allowed", "use GET");
			return;
		}
		routes[i].serve(req, collector);
		return;
	}
	static const struct {
		const char *path;
		enum cutover_event_kind kind;
	} writes[] = {{"/v1/cutover", EVENT_CUTOVER},
	              {"/v1/rollback", EVENT_ROLLBACK},
	              {"/v1/pause", EVENT_PAUSE},
	              {"/v1/resume", EVENT_RESUME}};
	for (size_t i = 0; i < sizeof(writes) / sizeof(writes[0]); i++) {
		if (strcmp(path, writes[i].path) == 0) {
			serve_write(req, collector, writes[i].kind);
			return;
		}
	}
	if (strcmp(path, "/v1/status") == 0 || strcmp(path, "/v1/nodes") == 0) {
		if (!method_is(req, EVHTTP_REQ_GET)) {
			reply_error(req, 405, "Method Not Allowed", "use GET");
			return;
		}
		struct clock_now now = collector_clock(collector);
		reply_json(req, 200, "OK",
		           strcmp(path, "/v1/status") == 0
		                   ? status_json(collector, now)
		                   : status_nodes_json(collector, now.mono_ms));
		return;
	}
	char message[300];
	snprintf(message, sizeof(message),
	         "no such endpoint: %.200s (try /v1/status, /v1/nodes, /v1/events, /metrics, "
	         "/healthz)",
	         path);
	reply_error(req, 404, "Not Found", message);
}

struct evhttp *api_start(struct collector *collector, char *err, size_t err_len)
{
	char host[256];
	int port;
	if (collector_parse_host_port(collector->config.api.listen, host, sizeof(host), &port) !=
	    0) {
		snprintf(err, err_len, "[api] listen '%s' is not host:port",
		         collector->config.api.listen);
		return NULL;
	}
	struct evhttp *http = evhttp_new(collector->base);
	if (http == NULL) {
		snprintf(err, err_len, "evhttp_new failed");
		return NULL;
	}
	evhttp_set_max_body_size(http, API_MAX_BODY);
	evhttp_set_max_headers_size(http, API_MAX_HEADERS);
	evhttp_set_timeout(http, 30);
	evhttp_set_allowed_methods(http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD | EVHTTP_REQ_POST);
	evhttp_set_gencb(http, on_request, collector);
	if (evhttp_bind_socket_with_handle(http, host, (ev_uint16_t)port) == NULL) {
		snprintf(err, err_len, "[api] cannot listen on %s: %s",
		         collector->config.api.listen, strerror(errno));
		evhttp_free(http);
		return NULL;
	}
	return http;
}
