/*
 * HTTP API. Each handler runs on the collector's loop, reads the state the
 * tick and ingest maintain, and answers at once; nothing here blocks.
 */
#include "api.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>
#include <event2/util.h>
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_limits.h"
#include "cutover_runner.h"
#include "ha.h"
#include "journal.h"
#include "metrics.h"
#include "request_journal.h"
#include "status.h"
#include "text_cut.h"

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

/*
 * A time for since_time in the journal's own form (2026-12-02T04:42:07.000Z),
 * so that stamps compare as strings; accepts YYYY-MM-DDTHH:MM:SS with an
 * optional .mmm, then Z. -1 when malformed.
 */
static int canonical_stamp(const char *text, char *out, size_t len)
{
	int y, mo, d, h, mi, sec, ms = 0, used = 0;
	/* NOLINTNEXTLINE(cert-err34-c): field widths bound every number (no overflow) */
	if (sscanf(text, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec, &used) != 6)
		return -1;
	const char *rest = text + used;
	if (rest[0] == '.') {
		int digits = 0;
		/* NOLINTNEXTLINE(cert-err34-c): field widths bound every number (no overflow) */
		if (sscanf(rest, ".%3d%n", &ms, &digits) != 1 || digits != 4)
			return -1;
		rest += digits;
	}
	if (strcmp(rest, "Z") != 0 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 ||
	    sec > 60 || y < 1970)
		return -1;
	snprintf(out, len, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", y, mo, d, h, mi, sec, ms);
	return 0;
}

/* Checks the query of /v1/events into AFTER_ID, LIMIT and SINCE_TIME ("" for none); 0, or -1 with WHY. */
static int events_query(struct evkeyvalq *query, long long *after_id, long long *limit,
                        char *since_time, size_t since_len, char *why, size_t why_len)
{
	static const char *const known[] = {"after_id", "since", "since_time", "limit", NULL};
	for (struct evkeyval *kv = query->tqh_first; kv != NULL; kv = kv->next.tqe_next) {
		bool ok = false;
		for (size_t i = 0; known[i] != NULL; i++)
			ok = ok || strcmp(kv->key, known[i]) == 0;
		if (!ok) {
			snprintf(why, why_len,
			         "unknown parameter '%.60s' (use after_id, since_time, limit)",
			         kv->key);
			return -1;
		}
	}
	/* since is after_id's old name, kept for the scripts that use it */
	*after_id = query_number(query, "after_id", query_number(query, "since", 0));
	*limit = query_number(query, "limit", EVENTS_DEFAULT_LIMIT);
	if (*after_id < 0 || *limit <= 0 || *limit > EVENTS_MAX_LIMIT) {
		snprintf(why, why_len,
		         "after_id or since must be an event id >= 0 and limit 1..10000");
		return -1;
	}
	const char *time = evhttp_find_header(query, "since_time");
	since_time[0] = '\0';
	if (time != NULL && canonical_stamp(time, since_time, since_len) != 0) {
		snprintf(why, why_len, "since_time must be a UTC time like 2026-12-02T04:42:07Z");
		return -1;
	}
	return 0;
}

/* GET /v1/events: the journal after an id, from a time, oldest first. */
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
	long long after_id = 0, limit = 0;
	char since_time[32], why[160];
	int rc = events_query(&query, &after_id, &limit, since_time, sizeof(since_time), why,
	                      sizeof(why));
	evhttp_clear_headers(&query);
	if (rc != 0) {
		reply_error(req, 400, "Bad Request", why);
		return;
	}
	json_t *all = journal_since(collector->journal, (uint64_t)after_id, SIZE_MAX);
	json_t *events = json_array();
	size_t i;
	json_t *event;
	json_array_foreach(all, i, event)
	{
		const char *stamp = json_string_value(json_object_get(event, "time"));
		if (json_array_size(events) < (size_t)limit &&
		    (since_time[0] == '\0' || (stamp != NULL && strcmp(stamp, since_time) >= 0)))
			json_array_append(events, event);
	}
	json_decref(all);
	size_t n = json_array_size(events);
	json_int_t next =
	        n > 0 ? json_integer_value(json_object_get(json_array_get(events, n - 1), "id"))
	              : after_id;
	reply_json(req, 200, "OK",
	           json_pack("{s:o,s:I,s:I,s:I}", "events", events, "next_after_id", next,
	                     "next_since", next, "last_id",
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

/* The JSON object of a POST body ({} when empty); NULL with why, a 400's message, in WHY. */
static json_t *read_body(struct evhttp_request *req, const char *const *allowed, char *why,
                         size_t why_len)
{
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	size_t len = evbuffer_get_length(in);
	char *text = malloc(len + 1);
	if (text == NULL) {
		snprintf(why, why_len, "out of memory");
		return NULL;
	}
	evbuffer_remove(in, text, len);
	text[len] = '\0';
	json_error_t error;
	/* jansson keeps the last of a key given twice; which one a client meant
	 * is a guess, so the body is refused */
	json_t *body = len == 0 ? json_object() : json_loads(text, JSON_REJECT_DUPLICATES, &error);
	free(text);
	if (!json_is_object(body)) {
		snprintf(why, why_len, "the body must be a JSON object%s%s",
		         body == NULL ? ": " : "", body == NULL ? error.text : "");
		json_decref(body);
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
			snprintf(why, why_len, "%s field '%.60s'",
			         known ? "wrongly typed" : "unknown", field);
			json_decref(body);
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
	case 502:
		return "Bad Gateway";
	case 503:
		return "Service Unavailable";
	default:
		return "Error";
	}
}

/*
 * Who sent REQ, for the journal: the name it gives in X-Trino-Guard-User
 * (trino-guardctl sends user@host; claimed, not proven), whether it showed
 * the API token, and the peer address, which is proven.
 */
static void requester(struct evhttp_request *req, const struct collector *collector, char *out,
                      size_t len)
{
	char *address = NULL;
	ev_uint16_t port = 0;
	evhttp_connection_get_peer(evhttp_request_get_connection(req), &address, &port);
	char user[65] = "";
	const char *claimed =
	        evhttp_find_header(evhttp_request_get_input_headers(req), "X-Trino-Guard-User");
	for (size_t i = 0; claimed != NULL && claimed[i] != '\0' && i + 1 < sizeof(user); i++) {
		user[i] = (char)(claimed[i] > ' ' && claimed[i] < 127 ? claimed[i] : '?');
		user[i + 1] = '\0';
	}
	snprintf(out, len, "%s%s%s%s:%u", user, user[0] ? ", " : "",
	         collector->api_token != NULL ? "token from " : "", address != NULL ? address : "?",
	         (unsigned)port);
}

/* A write request refused before the state machine saw it, journaled like the others. */
static void refuse_write(struct evhttp_request *req, struct collector *collector,
                         enum cutover_event_kind kind, int code, const char *reason,
                         const char *message)
{
	char by[160];
	requester(req, collector, by, sizeof(by));
	char outcome[400];
	snprintf(outcome, sizeof(outcome), "refused: %s", message);
	journal_append(collector->journal, collector_clock(collector).unix_ms,
	               json_pack("{s:s,s:s,s:s,s:s,s:i,s:s}", "type", "request", "request",
	                         request_name(kind), "reason", "", "by", by, "status", code,
	                         "outcome", outcome));
	journal_sync(collector->journal);
	reply_error(req, code, reason, message);
}

/* The leader's answer to a request this collector handed on (or why there is none). */
static void on_forwarded(int status, json_t *answer, void *arg)
{
	reply_json(arg, status, status_reason(status), answer);
}

/*
 * [ha], and this collector does not lead: the request goes to the leader
 * through etcd, and its answer comes back as the answer to REQ.
 */
static void forward_to_leader(struct evhttp_request *req, struct collector *collector,
                              enum cutover_event_kind kind, const char *to, json_t *body,
                              const char *by, struct clock_now now)
{
	struct ha_request request = {.kind = kind,
	                             .force = json_is_true(json_object_get(body, "force"))};
	snprintf(request.cluster, sizeof(request.cluster), "%s", to != NULL ? to : "");
	const char *reason = json_string_value(json_object_get(body, "reason"));
	text_copy(request.reason, sizeof(request.reason), reason);
	snprintf(request.by, sizeof(request.by), "%s via %s", by, ha_id(collector->ha));
	char err[256];
	if (ha_forward(collector->ha, &request, on_forwarded, req, now.mono_ms, err, sizeof(err)) !=
	    0) {
		refuse_write(req, collector, kind, 503, "Service Unavailable", err);
		return;
	}
	journal_append(collector->journal, now.unix_ms,
	               json_pack("{s:s,s:s,s:s,s:s,s:s}", "type", "request", "request",
	                         request_name(kind), "reason", request.reason, "by", by, "outcome",
	                         "handed to the leader through etcd"));
	journal_sync(collector->journal);
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
		refuse_write(req, collector, kind, 401, "Unauthorized",
		             "a valid bearer token is required");
		return;
	}
	static const char *const cutover_fields[] = {"to", "force", "reason", NULL};
	static const char *const other_fields[] = {"force", "reason", NULL};
	char why[256];
	json_t *body = read_body(
	        req, kind == EVENT_CUTOVER || kind == EVENT_CONFIRM ? cutover_fields : other_fields,
	        why, sizeof(why));
	if (body == NULL) {
		refuse_write(req, collector, kind, 400, "Bad Request", why);
		return;
	}
	const char *to = json_string_value(json_object_get(body, "to"));
	if (kind == EVENT_CUTOVER && to == NULL) {
		json_decref(body);
		refuse_write(req, collector, kind, 400, "Bad Request",
		             "cutover needs {\"to\": \"<cluster>\"}");
		return;
	}
	int status = 500;
	char by[160];
	requester(req, collector, by, sizeof(by));
	struct clock_now now = collector_clock(collector);
	if (collector->ha != NULL && !cutover_runner_acting(collector->cutover, now)) {
		forward_to_leader(req, collector, kind, to, body, by, now);
		json_decref(body);
		return;
	}
	json_t *answer = cutover_runner_request(collector->cutover, kind, to,
	                                        json_is_true(json_object_get(body, "force")),
	                                        json_string_value(json_object_get(body, "reason")),
	                                        by, collector_clock(collector), &status);
	json_decref(body);
	reply_json(req, status, status_reason(status), answer);
}

/*
 * More than one Content-Length header. evhttp reads the body by the first one
 * it finds (evhttp_get_body_length calls evhttp_find_header) and ignores the
 * rest; a proxy in front may have framed the body by another, and what one
 * takes for the body the other takes for the next request (RFC 9112 6.3
 * calls such a message unrecoverable and smuggling its risk).
 */
static bool content_length_repeated(struct evhttp_request *req)
{
	size_t seen = 0;
	struct evkeyvalq *headers = evhttp_request_get_input_headers(req);
	for (struct evkeyval *h = headers->tqh_first; h != NULL; h = h->next.tqe_next)
		seen += evutil_ascii_strcasecmp(h->key, "Content-Length") == 0;
	return seen > 1;
}

/* Every request lands here: route by exact path. */
static void on_request(struct evhttp_request *req, void *arg)
{
	struct collector *collector = arg;
	if (content_length_repeated(req)) {
		/* the rest of the stream cannot be framed: answer and hang up */
		evhttp_add_header(evhttp_request_get_output_headers(req), "Connection", "close");
		reply_error(req, 400, "Bad Request",
		            "more than one Content-Length header: the body's length is ambiguous");
		return;
	}
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
	              {"/v1/cutover/confirm", EVENT_CONFIRM},
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
	/* evhttp's own timeout restarts with each byte; api_limits ends a
	 * connection request_timeout after its accept, however it trickles */
	const struct api_section *cfg = &collector->config.api;
	struct timeval idle = {cfg->request_timeout_ms / 1000,
	                       (cfg->request_timeout_ms % 1000) * 1000};
	evhttp_set_timeout_tv(http, &idle);
	evhttp_set_allowed_methods(http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD | EVHTTP_REQ_POST);
	evhttp_set_gencb(http, on_request, collector);
	struct evhttp_bound_socket *bound =
	        evhttp_bind_socket_with_handle(http, host, (ev_uint16_t)port);
	if (bound == NULL) {
		snprintf(err, err_len, "[api] cannot listen on %s: %s", cfg->listen,
		         strerror(errno));
		evhttp_free(http);
		return NULL;
	}
	collector->api_limits =
	        api_limits_new(collector->base, http, evhttp_bound_socket_get_listener(bound),
	                       cfg->max_connections, cfg->request_timeout_ms, err, err_len);
	if (collector->api_limits == NULL) {
		evhttp_free(http);
		return NULL;
	}
	return http;
}
