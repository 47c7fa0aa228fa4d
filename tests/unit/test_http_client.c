/*
 * The curl-multi-on-libevent client against a small evhttp server in the same
 * loop: 200, 429 with Retry-After, 5xx, timeout, connection refused, an
 * oversized body, headers and a POST body, several requests at once.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "http_client.h"

struct fixture {
	struct event_base *base;
	struct evhttp *server;
	int port;
	struct http_client *client;
	int pending;
};

struct result {
	struct fixture *fx;
	bool done;
	long status;
	bool ok;
	char body[256];
	size_t body_len;
	int64_t retry_after_s;
	char error[256];
	int64_t elapsed_ms;
};

static void reply(struct evhttp_request *req, int code, const char *body)
{
	struct evbuffer *out = evbuffer_new();
	evbuffer_add_printf(out, "%s", body);
	evhttp_send_reply(req, code, "x", out);
	evbuffer_free(out);
}

static void on_slow_reply(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	reply(arg, 200, "late"); /* the client gave up: libevent frees the request */
}

static void on_request(struct evhttp_request *req, void *arg)
{
	struct fixture *fx = arg;
	const char *path = evhttp_request_get_uri(req);
	if (strcmp(path, "/ok") == 0) {
		reply(req, 200, "hello");
	} else if (strcmp(path, "/rate-limited") == 0) {
		evhttp_add_header(evhttp_request_get_output_headers(req), "Retry-After", "7");
		reply(req, 429, "slow down");
	} else if (strcmp(path, "/broken") == 0) {
		reply(req, 503, "unavailable");
	} else if (strcmp(path, "/slow") == 0) {
		struct timeval tv = {1, 0};
		event_base_once(fx->base, -1, EV_TIMEOUT, on_slow_reply, req, &tv);
	} else if (strcmp(path, "/big") == 0) {
		struct evbuffer *out = evbuffer_new();
		for (int i = 0; i < 4096; i++)
			evbuffer_add(out, "0123456789abcdef", 16);
		evhttp_send_reply(req, 200, "OK", out);
		evbuffer_free(out);
	} else if (strcmp(path, "/echo") == 0) {
		struct evkeyvalq *headers = evhttp_request_get_input_headers(req);
		const char *user = evhttp_find_header(headers, "X-Trino-User");
		struct evbuffer *in = evhttp_request_get_input_buffer(req);
		char body[64] = "";
		size_t n = evbuffer_get_length(in);
		if (n >= sizeof(body))
			n = sizeof(body) - 1;
		evbuffer_remove(in, body, n);
		body[n] = '\0';
		char answer[200];
		snprintf(answer, sizeof(answer), "%s %s %s",
		         evhttp_request_get_command(req) == EVHTTP_REQ_POST ? "POST" : "other",
		         user ? user : "-", body);
		reply(req, 200, answer);
	} else {
		reply(req, 404, "no");
	}
}

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	if (fx == NULL)
		return -1;
	fx->base = event_base_new();
	fx->server = evhttp_new(fx->base);
	struct evhttp_bound_socket *sock =
	        evhttp_bind_socket_with_handle(fx->server, "127.0.0.1", 0);
	if (sock == NULL) {
		/* cmocka runs no teardown after a failed setup */
		evhttp_free(fx->server);
		event_base_free(fx->base);
		free(fx);
		return -1;
	}
	struct sockaddr_in addr;
	socklen_t len = sizeof(addr);
	getsockname(evhttp_bound_socket_get_fd(sock), (struct sockaddr *)&addr, &len);
	fx->port = ntohs(addr.sin_port);
	evhttp_set_gencb(fx->server, on_request, fx);
	char err[256];
	fx->client = http_client_new(fx->base, err, sizeof(err));
	*state = fx;
	if (fx->client == NULL) {
		evhttp_free(fx->server);
		event_base_free(fx->base);
		free(fx);
		return -1;
	}
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;
	http_client_free(fx->client);
	evhttp_free(fx->server);
	event_base_free(fx->base);
	free(fx);
	return 0;
}

static void on_done(const struct http_response *response, void *arg)
{
	struct result *result = arg;
	result->done = true;
	result->ok = response->ok;
	result->status = response->status;
	result->retry_after_s = response->retry_after_s;
	result->elapsed_ms = response->elapsed_ms;
	result->body_len = response->body_len;
	snprintf(result->body, sizeof(result->body), "%s", response->body);
	snprintf(result->error, sizeof(result->error), "%s",
	         response->error ? response->error : "");
	if (--result->fx->pending == 0)
		event_base_loopbreak(result->fx->base);
}

static void start(struct fixture *fx, struct result *result, struct http_request *request)
{
	char err[256];
	result->fx = fx;
	fx->pending++;
	assert_int_equal(http_client_start(fx->client, request, on_done, result, err, sizeof(err)),
	                 0);
}

static void run_loop(struct fixture *fx)
{
	struct timeval limit = {10, 0};
	event_base_loopexit(fx->base, &limit);
	event_base_dispatch(fx->base);
	assert_int_equal(fx->pending, 0);
}

static void url(struct fixture *fx, char *out, size_t len, const char *path)
{
	snprintf(out, len, "http://127.0.0.1:%d%s", fx->port, path);
}

static void test_ok_rate_limited_and_server_error(void **state)
{
	struct fixture *fx = *state;
	char u1[128], u2[128], u3[128];
	url(fx, u1, sizeof(u1), "/ok");
	url(fx, u2, sizeof(u2), "/rate-limited");
	url(fx, u3, sizeof(u3), "/broken");
	struct result r1 = {0}, r2 = {0}, r3 = {0};
	struct http_request q1 = {.url = u1}, q2 = {.url = u2}, q3 = {.url = u3};
	start(fx, &r1, &q1);
	start(fx, &r2, &q2);
	start(fx, &r3, &q3);
	assert_int_equal(http_client_in_flight(fx->client), 3);
	run_loop(fx);
	assert_true(r1.ok);
	assert_int_equal(r1.status, 200);
	assert_string_equal(r1.body, "hello");
	assert_int_equal(r1.retry_after_s, -1);
	assert_true(r2.ok); /* an HTTP error is a response, not a transport failure */
	assert_int_equal(r2.status, 429);
	assert_int_equal(r2.retry_after_s, 7);
	assert_true(r3.ok);
	assert_int_equal(r3.status, 503);
	assert_string_equal(r3.body, "unavailable");
	assert_int_equal(http_client_in_flight(fx->client), 0);
}

static void test_timeout(void **state)
{
	struct fixture *fx = *state;
	char u[128];
	url(fx, u, sizeof(u), "/slow");
	struct result r = {0};
	struct http_request q = {.url = u, .timeout_ms = 200};
	start(fx, &r, &q);
	run_loop(fx);
	assert_false(r.ok);
	assert_int_equal(r.status, 0);
	assert_string_equal(r.error, "timed out after 200 ms");
	assert_true(r.elapsed_ms >= 150 && r.elapsed_ms < 1000);
	/* Let the server's late reply fire so nothing is left behind. */
	struct timeval wait = {1, 200000};
	event_base_loopexit(fx->base, &wait);
	event_base_dispatch(fx->base);
}

static void test_connection_refused(void **state)
{
	struct fixture *fx = *state;
	/* A port that was free a moment ago: bind, read it, close. */
	int s = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in addr = {.sin_family = AF_INET,
	                           .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	bind(s, (struct sockaddr *)&addr, sizeof(addr));
	socklen_t len = sizeof(addr);
	getsockname(s, (struct sockaddr *)&addr, &len);
	close(s);
	char u[128];
	snprintf(u, sizeof(u), "http://127.0.0.1:%d/", ntohs(addr.sin_port));
	struct result r = {0};
	struct http_request q = {.url = u, .timeout_ms = 2000};
	start(fx, &r, &q);
	run_loop(fx);
	assert_false(r.ok);
	assert_non_null(strstr(r.error, "connection refused"));
}

static void test_oversized_body_fails(void **state)
{
	struct fixture *fx = *state;
	char u[128];
	url(fx, u, sizeof(u), "/big");
	struct result small = {0}, large = {0};
	struct http_request capped = {.url = u, .max_response_bytes = 1024};
	struct http_request roomy = {.url = u, .max_response_bytes = 128 * 1024};
	start(fx, &small, &capped);
	start(fx, &large, &roomy);
	run_loop(fx);
	assert_false(small.ok);
	assert_string_equal(small.error, "response body larger than 1024 bytes");
	assert_true(large.ok);
	assert_int_equal(large.body_len, 65536);
}

static void test_headers_method_and_body(void **state)
{
	struct fixture *fx = *state;
	char u[128];
	url(fx, u, sizeof(u), "/echo");
	const char *headers[] = {"X-Trino-User: trino-guard", NULL};
	struct result r = {0};
	struct http_request q = {
	        .method = "POST", .url = u, .headers = headers, .body = "{\"a\":1}", .body_len = 7};
	start(fx, &r, &q);
	run_loop(fx);
	assert_true(r.ok);
	assert_string_equal(r.body, "POST trino-guard {\"a\":1}");
}

/* A request started from another request's callback (the agent's /metrics -> JMX chain). */
struct chained {
	struct fixture *fx;
	struct result second;
	char url[128];
};

static void on_first_done(const struct http_response *response, void *arg)
{
	struct chained *c = arg;
	(void)response;
	struct http_request request = {.url = c->url};
	char err[256];
	c->second.fx = c->fx;
	assert_int_equal(
	        http_client_start(c->fx->client, &request, on_done, &c->second, err, sizeof(err)),
	        0);
}

static void test_request_started_from_a_callback_runs(void **state)
{
	struct fixture *fx = *state;
	struct chained c = {.fx = fx};
	url(fx, c.url, sizeof(c.url), "/ok");
	char first_url[128], err[256];
	url(fx, first_url, sizeof(first_url), "/broken");
	struct http_request first = {.url = first_url};
	fx->pending = 1; /* only the second request counts */
	assert_int_equal(http_client_start(fx->client, &first, on_first_done, &c, err, sizeof(err)),
	                 0);
	run_loop(fx);
	assert_true(c.second.ok);
	assert_string_equal(c.second.body, "hello");
}

static void test_free_with_requests_in_flight(void **state)
{
	struct fixture *fx = *state;
	char u[128];
	url(fx, u, sizeof(u), "/slow");
	struct result r = {0};
	struct http_request q = {.url = u};
	start(fx, &r, &q);
	http_client_free(fx->client); /* must not call back nor leak */
	char err[256];
	fx->client = http_client_new(fx->base, err, sizeof(err));
	assert_false(r.done);
	fx->pending = 0;
	struct timeval wait = {1, 200000};
	event_base_loopexit(fx->base, &wait);
	event_base_dispatch(fx->base);
	assert_false(r.done);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(test_ok_rate_limited_and_server_error, setup,
	                                        teardown),
	        cmocka_unit_test_setup_teardown(test_timeout, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_connection_refused, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_oversized_body_fails, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_headers_method_and_body, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_request_started_from_a_callback_runs, setup,
	                                        teardown),
	        cmocka_unit_test_setup_teardown(test_free_with_requests_in_flight, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
