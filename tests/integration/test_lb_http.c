/*
 * The http driver against a small evhttp server that plays a Kubernetes-like
 * API: a PATCH with the selector switches; a GET shows it. Covered: switch
 * and verification through a JSON path, headers and the {cluster} template,
 * a 500 retried into success, a 403 reported with its body, and a PATCH that
 * answers 200 but changes nothing, caught by the verification; and a
 * header_file.NAME from collector.ini sent, and read again at a reload.
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
#include <jansson.h>
#include <sys/stat.h>

#include "collector_config.h"
#include "harness.h"
#include "lb_drivers.h"
#include "lb_http.h"

static struct {
	struct event_base *base;
	struct evhttp *server;
	int port;
	char selector[64];
	char authorization[128];
	char current_authorization[128]; /* of the last GET */
	char content_type[128];
	int fail_next;  /* answer 500 this many times */
	bool forbidden; /* answer 403 */
	bool ignore;    /* answer 200, change nothing */
	int patches;
} fx;

static void reply(struct evhttp_request *req, int code, const char *body)
{
	struct evbuffer *out = evbuffer_new();
	evbuffer_add_printf(out, "%s", body);
	evhttp_send_reply(req, code, "x", out);
	evbuffer_free(out);
}

static void on_request(struct evhttp_request *req, void *arg)
{
	(void)arg;
	if (evhttp_request_get_command(req) == EVHTTP_REQ_GET) {
		const char *auth =
		        evhttp_find_header(evhttp_request_get_input_headers(req), "Authorization");
		snprintf(fx.current_authorization, sizeof(fx.current_authorization), "%s",
		         auth != NULL ? auth : "");
		char body[256];
		snprintf(body, sizeof(body),
		         "{\"kind\":\"Service\",\"spec\":{\"selector\":{"
		         "\"app\":\"trino\",\"cluster\":\"%s\"}}}",
		         fx.selector);
		reply(req, 200, body);
		return;
	}
	fx.patches++;
	const char *auth =
	        evhttp_find_header(evhttp_request_get_input_headers(req), "Authorization");
	snprintf(fx.authorization, sizeof(fx.authorization), "%s", auth != NULL ? auth : "");
	const char *type =
	        evhttp_find_header(evhttp_request_get_input_headers(req), "Content-Type");
	snprintf(fx.content_type, sizeof(fx.content_type), "%s", type != NULL ? type : "");
	if (fx.fail_next > 0) {
		fx.fail_next--;
		reply(req, 500, "etcd timeout");
		return;
	}
	if (fx.forbidden) {
		reply(req, 403, "services \"trino\" is forbidden: User cannot patch");
		return;
	}
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	size_t len = evbuffer_get_length(in);
	char text[512];
	if (len >= sizeof(text))
		len = sizeof(text) - 1;
	evbuffer_remove(in, text, len);
	text[len] = '\0';
	json_t *patch = json_loads(text, 0, NULL);
	const char *cluster = json_string_value(json_object_get(
	        json_object_get(json_object_get(patch, "spec"), "selector"), "cluster"));
	if (cluster != NULL && !fx.ignore)
		snprintf(fx.selector, sizeof(fx.selector), "%s", cluster);
	json_decref(patch);
	reply(req, 200, "{}");
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

static struct lb_driver make_driver(int retries)
{
	static char switch_url[128], current_url[128];
	snprintf(switch_url, sizeof(switch_url),
	         "http://127.0.0.1:%d/api/v1/namespaces/trino/services/trino", fx.port);
	snprintf(current_url, sizeof(current_url), "%s", switch_url);
	struct lb_http_settings s = {
	        .switch_method = "PATCH",
	        .switch_url = switch_url,
	        .switch_body =
	                "{\"spec\":{\"selector\":{\"app\":\"trino\",\"cluster\":\"{cluster}\"}}}",
	        .headers = {"Authorization: Bearer k8s-token",
	                    "Content-Type: application/merge-patch+json"},
	        .header_count = 2,
	        .current_url = current_url,
	        .current_json = "spec.selector.cluster",
	        .timeout_ms = 2000,
	        .retries = retries,
	};
	char err[256];
	struct lb_http *lb = lb_http_new(fx.base, &s, err, sizeof(err));
	assert_non_null(lb);
	return lb_http_driver(lb);
}

static void test_switch_verified_through_a_json_path(void **state)
{
	(void)state;
	struct lb_driver d = make_driver(0);
	struct outcome o = {0};
	d.switch_to(d.impl, "green", on_switched, &o);
	run(&o);
	if (!o.ok)
		fail_msg("%s", o.text);
	assert_string_equal(fx.selector, "green");
	assert_string_equal(fx.authorization, "Bearer k8s-token");
	assert_string_equal(fx.content_type, "application/merge-patch+json"); /* not doubled */
	struct outcome c = {0};
	d.current(d.impl, on_current, &c);
	run(&c);
	assert_string_equal(c.text, "green");
	d.free(d.impl);
}

static void test_server_errors_are_retried(void **state)
{
	(void)state;
	fx.fail_next = 2;
	fx.patches = 0;
	struct lb_driver d = make_driver(2);
	struct outcome o = {0};
	d.switch_to(d.impl, "blue", on_switched, &o);
	run(&o);
	assert_true(o.ok);
	assert_int_equal(fx.patches, 3);
	assert_string_equal(fx.selector, "blue");
	d.free(d.impl);
}

static void test_forbidden_is_reported_with_the_body(void **state)
{
	(void)state;
	fx.forbidden = true;
	struct lb_driver d = make_driver(1);
	struct outcome o = {0};
	d.switch_to(d.impl, "green", on_switched, &o);
	run(&o);
	fx.forbidden = false;
	assert_false(o.ok);
	assert_non_null(strstr(o.text, "switch request for green: HTTP 403: services \"trino\" is "
	                               "forbidden"));
	assert_string_equal(fx.selector, "blue");
	d.free(d.impl);
}

static void test_an_ignored_switch_is_caught_by_the_verification(void **state)
{
	(void)state;
	fx.ignore = true;
	struct lb_driver d = make_driver(0);
	struct outcome o = {0};
	d.switch_to(d.impl, "green", on_switched, &o);
	run(&o);
	fx.ignore = false;
	assert_false(o.ok);
	assert_string_equal(o.text, "switch to green not verified: the LB points at blue");
	d.free(d.impl);
}

/* Writes TEXT into PATH, mode 0600: a secret file as the operator installs it. */
static void write_secret(const char *path, const char *text)
{
	assert_int_equal(harness_write_file(path, text), 0);
	assert_int_equal(chmod(path, 0600), 0);
}

/* Switches D to CLUSTER; the switch must work. */
static void switch_to(struct lb_driver *d, const char *cluster)
{
	struct outcome o = {0};
	d->switch_to(d->impl, cluster, on_switched, &o);
	run(&o);
	if (!o.ok)
		fail_msg("%s", o.text);
}

/*
 * [lb.http] header_file.Authorization, from collector.ini to the wire: the
 * switch and the read carry the file's line; once the file is rotated, the
 * driver's reload (SIGHUP's) sends the new one; a reload that finds the
 * file empty fails and keeps the last good value.
 */
static void test_header_file_is_sent_and_read_again_at_reload(void **state)
{
	(void)state;
	char *dir = harness_tmpdir("tg-lb-http");
	assert_non_null(dir);
	char token[512], ini[512], text[2048], err[1024] = "";
	snprintf(token, sizeof(token), "%s/k8s.token", dir);
	snprintf(ini, sizeof(ini), "%s/collector.ini", dir);
	write_secret(token, "Bearer from-the-file\n");
	snprintf(text, sizeof(text),
	         "[collector]\ncurve = off\n[cluster.blue]\n[cluster.green]\n"
	         "[lb]\ndriver = http\n[lb.http]\nswitch_method = PATCH\n"
	         "switch_url = http://127.0.0.1:%d/svc\n"
	         "switch_body = {\"spec\":{\"selector\":{\"cluster\":\"{cluster}\"}}}\n"
	         "current_url = http://127.0.0.1:%d/svc\ncurrent_json = spec.selector.cluster\n"
	         "header_file.Authorization = %s\n",
	         fx.port, fx.port, token);
	assert_int_equal(harness_write_file(ini, text), 0);
	static struct collector_config config;
	memset(&config, 0, sizeof(config));
	if (collector_config_load(ini, &config, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	struct lb_driver d;
	if (lb_driver_from_config(fx.base, &config, NULL, &d, err, sizeof(err)) != 0)
		fail_msg("%s", err);

	switch_to(&d, "green");
	assert_string_equal(fx.authorization, "Bearer from-the-file");
	assert_string_equal(fx.current_authorization, "Bearer from-the-file"); /* verified */

	write_secret(token, "Bearer rotated\n");
	assert_non_null(d.reload);
	if (d.reload(d.impl, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	switch_to(&d, "blue");
	assert_string_equal(fx.authorization, "Bearer rotated");

	write_secret(token, "");
	assert_int_equal(d.reload(d.impl, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "header_file.Authorization: "));
	assert_non_null(strstr(err, "is empty"));
	switch_to(&d, "green");
	assert_string_equal(fx.authorization, "Bearer rotated");

	d.free(d.impl);
	collector_config_free(&config);
	harness_rmrf(dir);
	free(dir);
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
	evhttp_set_allowed_methods(fx.server, EVHTTP_REQ_GET | EVHTTP_REQ_PATCH);
	evhttp_set_gencb(fx.server, on_request, NULL);
	snprintf(fx.selector, sizeof(fx.selector), "blue");
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
	        cmocka_unit_test(test_switch_verified_through_a_json_path),
	        cmocka_unit_test(test_server_errors_are_retried),
	        cmocka_unit_test(test_forbidden_is_reported_with_the_body),
	        cmocka_unit_test(test_an_ignored_switch_is_caught_by_the_verification),
	        cmocka_unit_test(test_header_file_is_sent_and_read_again_at_reload),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
