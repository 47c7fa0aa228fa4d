/*
 * The trino-gateway driver against a stand-in that speaks the gateway's API as
 * trinodb/trino-gateway's resources serve it: activate/deactivate (404 for an
 * unknown name), a newly activated backend PENDING until a later health check,
 * the public state resource, the list of active backends. Covered: the switch
 * order (activate, wait HEALTHY, deactivate the other, verify) and current();
 * a backend that stays PENDING fails the switch with nothing deactivated; an
 * unknown backend name fails at once; the authorization header is sent.
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

#include "lb_gateway.h"
#include "harness.h"

struct backend {
	const char *name;
	bool active;
	int pending_checks; /* state answers PENDING this many more times */
};

static struct {
	struct event_base *base;
	struct evhttp *server;
	int port;
	struct backend backends[2];
	char log[1024]; /* the requests, in order */
	char authorization[128];
	bool never_healthy;
} fx;

static void reply(struct evhttp_request *req, int code, const char *content_type, const char *body)
{
	struct evbuffer *out = evbuffer_new();
	evbuffer_add_printf(out, "%s", body);
	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", content_type);
	evhttp_send_reply(req, code, "x", out);
	evbuffer_free(out);
}

static struct backend *find(const char *name)
{
	for (int i = 0; i < 2; i++)
		if (strcmp(fx.backends[i].name, name) == 0)
			return &fx.backends[i];
	return NULL;
}

static void on_request(struct evhttp_request *req, void *arg)
{
	(void)arg;
	const char *path = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req));
	const char *auth =
	        evhttp_find_header(evhttp_request_get_input_headers(req), "Authorization");
	snprintf(fx.authorization, sizeof(fx.authorization), "%s", auth != NULL ? auth : "");
	char name[64] = "";
	if (sscanf(path, "/gateway/backend/activate/%63s", name) == 1 ||
	    sscanf(path, "/gateway/backend/deactivate/%63s", name) == 1) {
		bool activate = strstr(path, "/activate/") != NULL;
		struct backend *b = find(name);
		if (b == NULL) {
			reply(req, 404, "text/plain", "Backend not found");
			return;
		}
		size_t used = strlen(fx.log);
		snprintf(fx.log + used, sizeof(fx.log) - used, "%s%s:%s", used ? " " : "",
		         activate ? "activate" : "deactivate", name);
		if (activate && !b->active) {
			b->active = true;
			b->pending_checks = 2; /* until the gateway's next health checks */
		} else if (!activate) {
			b->active = false;
		}
		reply(req, 200, "text/plain", "");
		return;
	}
	if (sscanf(path, "/api/public/backends/%63[^/]/state", name) == 1) {
		struct backend *b = find(name);
		if (b == NULL) {
			reply(req, 404, "text/plain", "Backend not found");
			return;
		}
		const char *status = "HEALTHY";
		if (b->pending_checks > 0 || fx.never_healthy) {
			status = "PENDING";
			if (b->pending_checks > 0)
				b->pending_checks--;
		}
		char body[256];
		snprintf(body, sizeof(body),
		         "{\"clusterId\":\"%s\",\"runningQueryCount\":0,\"queuedQueryCount\":0,"
		         "\"numWorkerNodes\":2,\"trinoStatus\":\"%s\",\"routingGroup\":\"adhoc\"}",
		         name, status);
		reply(req, 200, "application/json", body);
		return;
	}
	if (strcmp(path, "/gateway/backend/active") == 0) {
		char body[512] = "[";
		for (int i = 0; i < 2; i++) {
			if (!fx.backends[i].active)
				continue;
			size_t used = strlen(body);
			snprintf(body + used, sizeof(body) - used,
			         "%s{\"name\":\"%s\",\"proxyTo\":\"http://trino-%s:8080\","
			         "\"active\":true,\"routingGroup\":\"adhoc\"}",
			         used > 1 ? "," : "", fx.backends[i].name, fx.backends[i].name);
		}
		strcat(body, "]");
		reply(req, 200, "application/json", body);
		return;
	}
	reply(req, 404, "text/plain", "Not Found");
}

struct outcome {
	bool finished, ok;
	char text[1024];
};

static void on_switched(bool ok, const char *error, void *arg)
{
	struct outcome *o = arg;
	o->finished = true;
	o->ok = ok;
	snprintf(o->text, sizeof(o->text), "%s", error != NULL ? error : "");
	event_base_loopbreak(fx.base);
}

static void on_current(const char *cluster, const char *error, void *arg)
{
	struct outcome *o = arg;
	o->finished = true;
	o->ok = cluster != NULL;
	snprintf(o->text, sizeof(o->text), "%s", cluster != NULL ? cluster : error);
	event_base_loopbreak(fx.base);
}

static void run(struct outcome *o)
{
	harness_run_loop(fx.base, 10000);
	assert_true(o->finished);
}

static struct lb_driver make_driver(const char *green_backend)
{
	char url[64];
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/", fx.port);
	struct lb_gateway_settings s = {
	        .url = url,
	        .backends = {{"blue", "blue"}, {"green", green_backend}},
	        .backend_count = 2,
	        .authorization = "Basic YXBpOnNlY3JldA==",
	        .timeout_ms = 2000,
	        .retries = 1,
	        .healthy_timeout_ms = 600,
	        .poll_ms = 100,
	};
	char err[256];
	struct lb_gateway *lb = lb_gateway_new(fx.base, &s, err, sizeof(err));
	assert_non_null(lb);
	return lb_gateway_driver(lb);
}

static void reset(void)
{
	fx.backends[0] = (struct backend){"blue", true, 0};
	fx.backends[1] = (struct backend){"green", false, 0};
	fx.log[0] = '\0';
	fx.never_healthy = false;
}

static void test_activate_wait_healthy_deactivate_verify(void **state)
{
	(void)state;
	reset();
	struct lb_driver d = make_driver("green");
	struct outcome o = {0};
	d.switch_to(d.impl, "green", on_switched, &o);
	run(&o);
	if (!o.ok)
		fail_msg("%s", o.text);
	assert_string_equal(fx.log, "activate:green deactivate:blue"); /* never without a backend */
	assert_false(fx.backends[0].active);
	assert_true(fx.backends[1].active);
	assert_string_equal(fx.authorization, "Basic YXBpOnNlY3JldA==");
	struct outcome c = {0};
	d.current(d.impl, on_current, &c);
	run(&c);
	assert_string_equal(c.text, "green");
	d.free(d.impl);
}

static void test_a_backend_that_stays_pending_is_not_switched_to(void **state)
{
	(void)state;
	reset();
	fx.never_healthy = true;
	struct lb_driver d = make_driver("green");
	struct outcome o = {0};
	d.switch_to(d.impl, "green", on_switched, &o);
	run(&o);
	assert_false(o.ok);
	assert_non_null(strstr(o.text, "backend green stayed PENDING"));
	assert_non_null(strstr(o.text, "nothing was deactivated"));
	assert_true(fx.backends[0].active); /* blue keeps the users */
	d.free(d.impl);
}

static void test_an_unknown_backend_fails_at_once(void **state)
{
	(void)state;
	reset();
	struct lb_driver d = make_driver("greeen");
	struct outcome o = {0};
	d.switch_to(d.impl, "green", on_switched, &o);
	run(&o);
	assert_false(o.ok);
	assert_non_null(strstr(o.text, "activate for greeen: HTTP 404: Backend not found"));
	assert_true(fx.backends[0].active);
	d.free(d.impl);
}

static int setup(void **state)
{
	(void)state;
	fx.base = event_base_new();
	fx.server = evhttp_new(fx.base);
	struct evhttp_bound_socket *sock =
	        evhttp_bind_socket_with_handle(fx.server, "127.0.0.1", 0);
	if (sock == NULL)
		return -1;
	struct sockaddr_in addr;
	socklen_t len = sizeof(addr);
	getsockname(evhttp_bound_socket_get_fd(sock), (struct sockaddr *)&addr, &len);
	fx.port = ntohs(addr.sin_port);
	evhttp_set_gencb(fx.server, on_request, NULL);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	evhttp_free(fx.server);
	event_base_free(fx.base);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_activate_wait_healthy_deactivate_verify),
	        cmocka_unit_test(test_a_backend_that_stays_pending_is_not_switched_to),
	        cmocka_unit_test(test_an_unknown_backend_fails_at_once),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
