/*
 * The HTTP API of a real collector, called in-process by an evhttp client on
 * the collector's own loop, with a fake clock: /healthz uptime follows the
 * fake clock; the shape of /v1/status; /v1/events since/limit (one row per
 * query, bad values 400); write calls need the bearer token of token_file
 * (one row per Authorization header); unknown paths 404 and wrong methods
 * 405, a body with a key given twice 400, all answered in JSON; two
 * Content-Length headers 400.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <jansson.h>

#include "collector_fixture.h"
#include "cutover_runner.h"
#include "harness.h"

#define TOKEN "s3cret-token-0123456789"

static struct collector_fixture fx;
static int port;

struct reply {
	bool done;
	int status; /* 0: no answer */
	char body[16384];
	char www_authenticate[64];
	char content_type[64];
};

/* The client's request was answered (or failed: REQ NULL or code 0). */
static void on_reply(struct evhttp_request *req, void *arg)
{
	struct reply *r = arg;
	r->done = true;
	if (req == NULL)
		return;
	r->status = evhttp_request_get_response_code(req);
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	size_t len = evbuffer_get_length(in);
	if (len >= sizeof(r->body))
		len = sizeof(r->body) - 1;
	evbuffer_remove(in, r->body, len);
	r->body[len] = '\0';
	struct evkeyvalq *headers = evhttp_request_get_input_headers(req);
	const char *auth = evhttp_find_header(headers, "WWW-Authenticate");
	const char *type = evhttp_find_header(headers, "Content-Type");
	snprintf(r->www_authenticate, sizeof(r->www_authenticate), "%s", auth ? auth : "");
	snprintf(r->content_type, sizeof(r->content_type), "%s", type ? type : "");
}

static bool reply_done(void *arg)
{
	return ((struct reply *)arg)->done;
}

/*
 * METHOD PATH with an optional AUTHORIZATION header, EXTRA_HEADERS (name,
 * value, name, value, ..., NULL; or NULL) and BODY; runs the loop until
 * answered. Returns the body parsed as JSON (NULL when it is not).
 */
static json_t *call_with_headers(enum evhttp_cmd_type method, const char *path,
                                 const char *authorization, const char *const *extra_headers,
                                 const char *body, struct reply *r)
{
	memset(r, 0, sizeof(*r));
	struct evhttp_connection *conn =
	        evhttp_connection_base_new(fx.base, NULL, "127.0.0.1", (ev_uint16_t)port);
	assert_non_null(conn);
	struct evhttp_request *req = evhttp_request_new(on_reply, r);
	assert_non_null(req);
	struct evkeyvalq *headers = evhttp_request_get_output_headers(req);
	evhttp_add_header(headers, "Host", "127.0.0.1");
	if (authorization != NULL)
		evhttp_add_header(headers, "Authorization", authorization);
	for (size_t i = 0; extra_headers != NULL && extra_headers[i] != NULL; i += 2)
		evhttp_add_header(headers, extra_headers[i], extra_headers[i + 1]);
	if (body != NULL)
		evbuffer_add(evhttp_request_get_output_buffer(req), body, strlen(body));
	assert_int_equal(evhttp_make_request(conn, req, method, path), 0);
	assert_true(fixture_run_until(&fx, reply_done, r, 5000));
	evhttp_connection_free(conn);
	assert_int_not_equal(r->status, 0);
	return json_loads(r->body, 0, NULL);
}

static json_t *call(enum evhttp_cmd_type method, const char *path, const char *authorization,
                    const char *body, struct reply *r)
{
	return call_with_headers(method, path, authorization, NULL, body, r);
}

static json_t *get_ok(const char *path)
{
	struct reply r;
	json_t *body = call(EVHTTP_REQ_GET, path, NULL, NULL, &r);
	assert_int_equal(r.status, 200);
	assert_non_null(body);
	return body;
}

static int setup(void **state)
{
	(void)state;
	char token[512];
	if (fixture_init(&fx) != 0)
		return -1;
	fixture_path(&fx, "token", token, sizeof(token));
	if (harness_write_file(token, TOKEN "\n") != 0 ||
	    fixture_start(&fx, "[api]\ntoken_file = %DIR%/token\n", false, NULL) != 0)
		return -1;
	port = fixture_api_port(&fx);
	return port > 0 ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	fixture_cleanup(&fx);
	return 0;
}

static json_int_t integer(json_t *object, const char *key)
{
	json_t *value = json_object_get(object, key);
	assert_true(json_is_integer(value));
	return json_integer_value(value);
}

static void test_healthz_uptime_follows_the_fake_clock(void **state)
{
	(void)state;
	json_t *health = get_ok("/healthz");
	assert_int_equal(integer(health, "uptime_seconds"), 0);
	assert_true(json_is_true(json_object_get(health, "warming_up")));
	json_decref(health);

	fixture_advance(90500); /* a minute and a half pass on the fake clock alone */
	health = get_ok("/healthz");
	assert_int_equal(integer(health, "uptime_seconds"), 90);
	assert_true(json_is_true(json_object_get(health, "warming_up")));
	json_decref(health);

	collector_tick(&fx.collector, fixture_now); /* the grace is over on that clock too */
	health = get_ok("/healthz");
	assert_false(json_is_true(json_object_get(health, "warming_up")));
	assert_int_equal(integer(health, "nodes"), 0);
	json_decref(health);
}

static void report(const char *node_id, const char *cluster, bool coordinator, const char *version,
                   uint64_t seq)
{
	struct report_fixture r;
	fixture_report(&r, node_id, cluster, coordinator, version, seq);
	assert_int_equal(fleet_update(&fx.collector.fleet, &r.report, fixture_now.mono_ms),
	                 seq == 1 ? FLEET_NEW_BOOT : FLEET_ACCEPTED);
}

static json_t *cluster_named(json_t *clusters, const char *name)
{
	size_t i;
	json_t *c;
	json_array_foreach(clusters, i, c)
	{
		if (strcmp(json_string_value(json_object_get(c, "name")), name) == 0)
			return c;
	}
	fail_msg("no cluster %s in /v1/status", name);
	return NULL;
}

static void test_status_has_environment_active_clusters_findings_cutover(void **state)
{
	(void)state;
	for (uint64_t seq = 1; seq <= 2; seq++) {
		if (seq > 1)
			fixture_advance(6000); /* past the start-up grace */
		report("blue-coord", "blue", true, "446", seq);
		report("blue-worker", "blue", false, "446", seq);
		report("green-coord", "green", true, "447", seq);
		report("green-worker", "green", false, "446", seq); /* not upgraded */
	}
	fixture_advance(1000);
	collector_tick(&fx.collector, fixture_now);

	json_t *status = get_ok("/v1/status");
	assert_string_equal(json_string_value(json_object_get(status, "environment")), "test");
	assert_string_equal(json_string_value(json_object_get(status, "active")), "blue");
	assert_false(json_is_true(json_object_get(status, "warming_up")));
	assert_int_equal(integer(status, "uptime_seconds"), 7);

	json_t *clusters = json_object_get(status, "clusters");
	assert_int_equal(json_array_size(clusters), 2);
	json_t *blue = cluster_named(clusters, "blue"), *green = cluster_named(clusters, "green");
	assert_true(json_is_true(json_object_get(blue, "active")));
	assert_false(json_is_true(json_object_get(green, "active")));
	assert_string_equal(json_string_value(json_object_get(green, "reference_version")), "447");
	assert_int_equal(integer(green, "nodes_live"), 2);
	assert_int_equal(integer(green, "nodes_total"), 2);
	assert_int_equal(json_array_size(json_object_get(green, "nodes")), 2);
	assert_int_equal(integer(json_object_get(green, "versions"), "446"), 1);
	assert_true(json_is_object(json_object_get(green, "failure_ratio")));
	json_t *in_flight = json_object_get(green, "queries_in_flight");
	assert_int_equal(integer(in_flight, "running"), 3);
	assert_int_equal(integer(in_flight, "queued"), 0);

	json_t *findings = json_object_get(status, "findings");
	assert_int_equal(json_array_size(findings), 1);
	json_t *f = json_array_get(findings, 0);
	assert_string_equal(json_string_value(json_object_get(f, "key")),
	                    "mixed-version/green/green-worker");
	assert_string_equal(json_string_value(json_object_get(f, "rule")), "mixed-version");
	assert_int_equal(json_array_size(json_object_get(green, "findings")), 1);
	assert_int_equal(json_array_size(json_object_get(blue, "findings")), 0);

	json_t *cutover = json_object_get(status, "cutover");
	assert_string_equal(json_string_value(json_object_get(cutover, "phase")), "STEADY");
	assert_string_equal(json_string_value(json_object_get(cutover, "active")), "blue");
	assert_string_equal(json_string_value(json_object_get(cutover, "other")), "green");
	assert_false(json_is_true(json_object_get(cutover, "paused")));
	assert_int_equal(integer(json_object_get(status, "ingest"), "received"), 0);
	json_decref(status);

	json_t *nodes = get_ok("/v1/nodes");
	assert_int_equal(json_array_size(nodes), 4);
	json_decref(nodes);
}

static const struct events_case {
	const char *name;
	const char *query;
	int status;
	size_t count;        /* events returned (200) */
	json_int_t first_id; /* of the first returned */
	json_int_t next_since;
	const char *error; /* in the 400's "error" */
} events_cases[] = {
        {"everything by default", "", 200, 4, 1, 4, NULL},
        {"since an id: the newer ones", "?since=2", 200, 2, 3, 4, NULL},
        {"limit: the oldest first", "?limit=1", 200, 1, 1, 1, NULL},
        {"since and limit together", "?since=1&limit=2", 200, 2, 2, 3, NULL},
        {"since the last id: none, next_since unchanged", "?since=4", 200, 0, 0, 4, NULL},
        {"the largest limit", "?limit=10000", 200, 4, 1, 4, NULL},
        {"after_id: since's new name", "?after_id=2", 200, 2, 3, 4, NULL},
        {"after_id and limit", "?after_id=1&limit=1", 200, 1, 2, 2, NULL},
        {"since_time long ago: everything", "?since_time=2000-01-01T00:00:00Z", 200, 4, 1, 4, NULL},
        {"since_time in the future: nothing", "?since_time=2999-01-01T00:00:00.000Z", 200, 0, 0, 0,
         NULL},
        {"since_time and after_id together", "?since_time=2000-01-01T00:00:00Z&after_id=3", 200, 1,
         4, 4, NULL},
        {"since_time without its Z", "?since_time=2026-12-02T04:42:07", 400, 0, 0, 0,
         "since_time must be"},
        {"since_time that is a number", "?since_time=120", 400, 0, 0, 0, "since_time must be"},
        {"a negative after_id", "?after_id=-1", 400, 0, 0, 0, "after_id or since must be"},
        {"a since that is no number", "?since=abc", 400, 0, 0, 0, "since must be"},
        {"a negative since", "?since=-1", 400, 0, 0, 0, "since must be"},
        {"an empty since", "?since=", 400, 0, 0, 0, "since must be"},
        {"a limit of 0", "?limit=0", 400, 0, 0, 0, "limit 1..10000"},
        {"a limit over 10000", "?limit=10001", 400, 0, 0, 0, "limit 1..10000"},
        {"a limit with trailing junk", "?limit=5x", 400, 0, 0, 0, "limit 1..10000"},
        {"an unknown parameter", "?sinse=1", 400, 0, 0, 0, "unknown parameter 'sinse'"},
        {"an unknown parameter names the right ones", "?id=1", 400, 0, 0, 0,
         "use after_id, since_time, limit"},
};

static void test_events_since_and_limit(void **state)
{
	(void)state;
	/* collector-started, then three journaled requests that change nothing: ids 1..4 */
	const enum cutover_event_kind kinds[] = {EVENT_RESUME, EVENT_RESUME, EVENT_RESUME};
	for (size_t i = 0; i < 3; i++) {
		int status;
		json_decref(cutover_runner_request(fx.collector.cutover, kinds[i], NULL, false,
		                                   NULL, NULL, fixture_now, &status));
	}
	for (size_t i = 0; i < sizeof(events_cases) / sizeof(events_cases[0]); i++) {
		const struct events_case *c = &events_cases[i];
		print_message("%s\n", c->name);
		char path[128];
		snprintf(path, sizeof(path), "/v1/events%s", c->query);
		struct reply r;
		json_t *body = call(EVHTTP_REQ_GET, path, NULL, NULL, &r);
		assert_int_equal(r.status, c->status);
		assert_non_null(body);
		assert_string_equal(r.content_type, "application/json");
		if (c->status == 200) {
			json_t *events = json_object_get(body, "events");
			assert_int_equal(json_array_size(events), c->count);
			if (c->count > 0)
				assert_int_equal(integer(json_array_get(events, 0), "id"),
				                 c->first_id);
			assert_int_equal(integer(body, "next_since"), c->next_since);
			assert_int_equal(integer(body, "last_id"), 4);
		} else {
			const char *error = json_string_value(json_object_get(body, "error"));
			assert_non_null(error);
			assert_non_null(strstr(error, c->error));
		}
		json_decref(body);
	}
}

static bool paused(void)
{
	json_t *status = cutover_runner_status(fx.collector.cutover, fixture_now);
	bool value = json_is_true(json_object_get(status, "paused"));
	json_decref(status);
	return value;
}

static const struct token_case {
	const char *name;
	const char *authorization; /* NULL: no header */
	int status;
} token_cases[] = {
        {"no Authorization header", NULL, 401},
        {"a wrong token of the same length", "Bearer s3cret-token-0123456780", 401},
        {"a prefix of the token", "Bearer s3cret-token-012345678", 401},
        {"the token and more", "Bearer " TOKEN "9", 401},
        {"the token under another scheme", "Basic " TOKEN, 401},
        {"the scheme alone", "Bearer ", 401},
        {"the token", "Bearer " TOKEN, 200},
};

static void test_write_calls_need_the_token(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(token_cases) / sizeof(token_cases[0]); i++) {
		const struct token_case *c = &token_cases[i];
		print_message("%s\n", c->name);
		struct reply r;
		json_t *body = call(EVHTTP_REQ_POST, "/v1/pause", c->authorization, NULL, &r);
		assert_int_equal(r.status, c->status);
		assert_non_null(body);
		assert_int_equal(paused(), c->status == 200);
		if (c->status == 401) {
			assert_string_equal(r.www_authenticate, "Bearer");
			assert_non_null(json_object_get(body, "error"));
		} else {
			assert_string_equal(json_string_value(json_object_get(body, "phase")),
			                    "STEADY");
		}
		json_decref(body);
	}
	json_decref(get_ok("/healthz")); /* reading needs no token */
}

static const struct route_case {
	const char *name;
	enum evhttp_cmd_type method;
	const char *path;
	const char *body;
	int status;
	const char *error; /* in the JSON "error" */
} route_cases[] = {
        {"an unknown path", EVHTTP_REQ_GET, "/v1/nope", NULL, 404, "no such endpoint: /v1/nope"},
        {"a page under the root", EVHTTP_REQ_GET, "/index.html", NULL, 404, "no such endpoint"},
        {"POST on the dashboard", EVHTTP_REQ_POST, "/", NULL, 405, "use GET"},
        {"a path with a trailing slash", EVHTTP_REQ_GET, "/v1/status/", NULL, 404,
         "no such endpoint"},
        {"GET on a write call", EVHTTP_REQ_GET, "/v1/pause", NULL, 405, "use POST"},
        {"POST on /healthz", EVHTTP_REQ_POST, "/healthz", NULL, 405, "use GET"},
        {"POST on /v1/status", EVHTTP_REQ_POST, "/v1/status", NULL, 405, "use GET"},
        {"POST on /v1/events", EVHTTP_REQ_POST, "/v1/events", NULL, 405, "use GET"},
        {"a body that is no JSON", EVHTTP_REQ_POST, "/v1/cutover", "to=green", 400,
         "must be a JSON object"},
        {"a cutover without a target", EVHTTP_REQ_POST, "/v1/cutover", "{}", 400,
         "cutover needs {\"to\""},
        {"a wrongly typed field", EVHTTP_REQ_POST, "/v1/cutover", "{\"to\": 5}", 400,
         "wrongly typed field 'to'"},
        {"an unknown field", EVHTTP_REQ_POST, "/v1/pause", "{\"until\": \"1h\"}", 400,
         "unknown field 'until'"},
        {"a field given twice", EVHTTP_REQ_POST, "/v1/cutover",
         "{\"to\": \"blue\", \"to\": \"green\"}", 400, "duplicate object key"},
};

static void test_unknown_paths_and_wrong_methods_answer_json(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(route_cases) / sizeof(route_cases[0]); i++) {
		const struct route_case *c = &route_cases[i];
		print_message("%s\n", c->name);
		struct reply r;
		json_t *body = call(c->method, c->path, "Bearer " TOKEN, c->body, &r);
		assert_int_equal(r.status, c->status);
		assert_string_equal(r.content_type, "application/json");
		assert_non_null(body);
		const char *error = json_string_value(json_object_get(body, "error"));
		assert_non_null(error);
		assert_non_null(strstr(error, c->error));
		json_decref(body);
	}
	assert_false(paused()); /* none of them did anything */
	/* but every refused write is in the journal with why */
	struct reply r;
	json_t *answer = call(EVHTTP_REQ_GET, "/v1/events", NULL, NULL, &r);
	char *text = json_dumps(answer, 0);
	assert_non_null(text);
	size_t refusals = 0, refused = 0;
	for (const char *at = text; (at = strstr(at, "\"outcome\": \"refused: ")) != NULL; at++)
		refused++;
	for (size_t i = 0; i < sizeof(route_cases) / sizeof(route_cases[0]); i++) {
		const struct route_case *c = &route_cases[i];
		if (c->status != 400)
			continue;
		refusals++;
		/* (a message with quotes is escaped in the JSON: not looked for here) */
		if (strchr(c->error, '"') == NULL && strstr(text, c->error) == NULL)
			fail_msg("%s: no '%s' in the journal:\n%s", c->name, c->error, text);
	}
	assert_int_equal(refused, refusals);
	free(text);
	json_decref(answer);
}

/*
 * Two Content-Length headers: evhttp frames the body by the first; a proxy in
 * front may have used the other. Refused, whichever comes first, and the
 * connection is closed.
 */
static void test_two_content_lengths_are_refused(void **state)
{
	(void)state;
	const char *body = "{\"reason\": \"x\"}";
	char length[16];
	snprintf(length, sizeof(length), "%zu", strlen(body));
	const char *const orders[2][5] = {
	        {"Content-Length", length, "Content-Length", "0", NULL},
	        {"Content-Length", length, "content-length", length, NULL},
	};
	for (size_t i = 0; i < 2; i++) {
		struct reply r;
		json_t *answer = call_with_headers(EVHTTP_REQ_POST, "/v1/pause", "Bearer " TOKEN,
		                                   orders[i], body, &r);
		assert_int_equal(r.status, 400);
		assert_non_null(answer);
		assert_non_null(strstr(json_string_value(json_object_get(answer, "error")),
		                       "more than one Content-Length header"));
		json_decref(answer);
	}
	assert_false(paused());
	/* one Content-Length is the ordinary case */
	struct reply r;
	json_decref(call(EVHTTP_REQ_POST, "/v1/pause", "Bearer " TOKEN, body, &r));
	assert_int_equal(r.status, 200);
	assert_true(paused());
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(test_healthz_uptime_follows_the_fake_clock, setup,
	                                        teardown),
	        cmocka_unit_test_setup_teardown(
	                test_status_has_environment_active_clusters_findings_cutover, setup,
	                teardown),
	        cmocka_unit_test_setup_teardown(test_events_since_and_limit, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_write_calls_need_the_token, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_unknown_paths_and_wrong_methods_answer_json,
	                                        setup, teardown),
	        cmocka_unit_test_setup_teardown(test_two_content_lengths_are_refused, setup,
	                                        teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
