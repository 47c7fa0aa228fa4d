/*
 * The agent's /metrics: its families in the Prometheus text format (the
 * collector's conventions: counters end in _total, seconds, no label whose
 * value changes in a series' life) and the evhttp server that answers
 * GET /metrics with them, nothing else. The process_* families come from
 * common/process_metrics.c, as the collector's do.
 */
#include "agent_metrics.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "process_metrics.h"

#define METRICS_MAX_HEADERS 8192

struct agent_metrics_server {
	struct evhttp *http;
	agent_metrics_view_fn *view_fn;
	void *arg;
};

/* The path of ENDPOINT as the endpoint label shows it. */
static const char *endpoint_label(enum poll_endpoint endpoint)
{
	static const char *const paths[] = {
	        [POLL_ENDPOINT_INFO] = "/v1/info",     [POLL_ENDPOINT_STATE] = "/v1/info/state",
	        [POLL_ENDPOINT_METRICS] = "/metrics",  [POLL_ENDPOINT_JMX] = "/v1/jmx",
	        [POLL_ENDPOINT_QUERIES] = "/v1/query",
	};
	_Static_assert(sizeof(paths) / sizeof(paths[0]) == POLL_ENDPOINT_COUNT,
	               "one path per enum poll_endpoint");
	return paths[endpoint];
}

static void family(struct evbuffer *out, const char *name, const char *type, const char *help)
{
	evbuffer_add_printf(out, "# HELP trino_guard_agent_%s %s\n# TYPE trino_guard_agent_%s %s\n",
	                    name, help, name, type);
}

static void counter(struct evbuffer *out, const char *name, const char *help, uint64_t value)
{
	family(out, name, "counter", help);
	evbuffer_add_printf(out, "trino_guard_agent_%s %llu\n", name, (unsigned long long)value);
}

static void write_polls(const struct poll_counts *polls, struct evbuffer *out)
{
	family(out, "trino_requests_total", "counter", "Requests to the local Trino, by endpoint.");
	for (int e = 0; e < POLL_ENDPOINT_COUNT; e++)
		evbuffer_add_printf(
		        out, "trino_guard_agent_trino_requests_total{endpoint=\"%s\"} %llu\n",
		        endpoint_label((enum poll_endpoint)e),
		        (unsigned long long)polls->requests[e]);
	family(out, "trino_poll_errors_total", "counter",
	       "Requests to the local Trino that failed (no answer, a status other than 200, or an "
	       "answer that does not parse), by endpoint.");
	for (int e = 0; e < POLL_ENDPOINT_COUNT; e++)
		evbuffer_add_printf(
		        out, "trino_guard_agent_trino_poll_errors_total{endpoint=\"%s\"} %llu\n",
		        endpoint_label((enum poll_endpoint)e),
		        (unsigned long long)polls->errors[e]);
}

void agent_metrics_write(const struct agent_metrics_view *view, struct evbuffer *out)
{
	const struct agent_counters *c = view->counters;
	family(out, "build_info", "gauge", "The agent's version (value always 1).");
	evbuffer_add_printf(out, "trino_guard_agent_build_info{version=\"%s\"} 1\n", TG_VERSION);
	counter(out, "reports_sent_total", "Reports queued for at least one connected collector.",
	        c->reports_sent);
	counter(out, "reports_dropped_total",
	        "Reports dropped: no collector connected, or the socket's queue was full.",
	        c->reports_dropped);
	counter(out, "reports_failed_total",
	        "Reports that could not be built, or that the collector's own checks would "
	        "reject (sent all the same; the log says why).",
	        c->reports_failed);
	family(out, "collectors_connected", "gauge",
	       "Collector endpoints with a completed ZeroMQ handshake.");
	evbuffer_add_printf(out, "trino_guard_agent_collectors_connected %zu\n",
	                    view->collectors_connected);
	family(out, "collector_endpoints", "gauge", "Collector endpoints configured.");
	evbuffer_add_printf(out, "trino_guard_agent_collector_endpoints %zu\n",
	                    view->collector_endpoints);
	write_polls(&c->polls, out);
	family(out, "trino_up", "gauge",
	       "1 when the last /v1/info poll of the local Trino succeeded.");
	evbuffer_add_printf(out, "trino_guard_agent_trino_up %d\n", view->trino_up);
	if (c->last_poll_duration_ms >= 0) {
		family(out, "last_poll_duration_seconds", "gauge",
		       "The last poll cycle, from its first request to its report (at most half an "
		       "interval: a slower Trino is reported as it stands).");
		evbuffer_add_printf(out, "trino_guard_agent_last_poll_duration_seconds %.3f\n",
		                    (double)c->last_poll_duration_ms / 1000.0);
	}
	process_metrics_write(view->started_unix_ms, out);
}

/* evhttp: a request arrived on the metrics port. Only GET (or HEAD) /metrics answers. */
static void on_request(struct evhttp_request *req, void *arg)
{
	struct agent_metrics_server *server = arg;
	const char *path = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req));
	if (path == NULL || strcmp(path, "/metrics") != 0) {
		evhttp_send_error(req, 404, "only /metrics is served here");
		return;
	}
	struct evbuffer *out = evbuffer_new();
	if (out == NULL) {
		evhttp_send_error(req, 500, NULL);
		return;
	}
	struct agent_metrics_view view = {0};
	server->view_fn(server->arg, &view);
	agent_metrics_write(&view, out);
	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
	                  "text/plain; version=0.0.4; charset=utf-8");
	evhttp_send_reply(req, 200, "OK", out);
	evbuffer_free(out);
}

struct agent_metrics_server *agent_metrics_server_new(struct event_base *base, const char *address,
                                                      int port, agent_metrics_view_fn *view_fn,
                                                      void *arg, char *err, size_t err_len)
{
	struct agent_metrics_server *server = calloc(1, sizeof(*server));
	if (server == NULL) {
		snprintf(err, err_len, "out of memory");
		return NULL;
	}
	server->view_fn = view_fn;
	server->arg = arg;
	server->http = evhttp_new(base);
	if (server->http == NULL) {
		snprintf(err, err_len, "[agent] metrics: evhttp_new failed");
		free(server);
		return NULL;
	}
	evhttp_set_max_body_size(server->http, 0);
	evhttp_set_max_headers_size(server->http, METRICS_MAX_HEADERS);
	evhttp_set_timeout(server->http, 10);
	evhttp_set_allowed_methods(server->http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD);
	evhttp_set_gencb(server->http, on_request, server);
	if (evhttp_bind_socket_with_handle(server->http, address, (ev_uint16_t)port) == NULL) {
		snprintf(err, err_len, "[agent] metrics: cannot listen on %s port %d: %s", address,
		         port, strerror(errno));
		agent_metrics_server_free(server);
		return NULL;
	}
	return server;
}

void agent_metrics_server_free(struct agent_metrics_server *server)
{
	if (server == NULL)
		return;
	if (server->http != NULL)
		evhttp_free(server->http);
	free(server);
}
