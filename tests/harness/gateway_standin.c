/*
 * The Trino Gateway stand-in: its API paths and answers, the two activation
 * behaviours and the monitor rounds (gateway_standin.h cites the sources).
 */
#include "gateway_standin.h"

#include <arpa/inet.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

/*
 * The first Trino without trino.metadata:name=DiscoveryNodeManager: the
 * METRICS monitor's default metricMinimumValues and the JMX monitor look for
 * it (gateway-ha MonitorConfiguration.java, ClusterStatsJmxMonitor.java) and
 * call the backend UNHEALTHY without it.
 */
#define NO_DISCOVERY_MBEAN_FROM 477

static void reply(struct evhttp_request *req, int code, const char *content_type, const char *body)
{
	struct evbuffer *out = evbuffer_new();
	evbuffer_add_printf(out, "%s", body);
	if (content_type != NULL)
		evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
		                  content_type);
	evhttp_send_reply(req, code, "x", out);
	evbuffer_free(out);
}

struct gateway_standin_backend *gateway_standin_find(struct gateway_standin *g, const char *name)
{
	for (size_t i = 0; i < g->count; i++)
		if (strcmp(g->backends[i].name, name) == 0)
			return &g->backends[i];
	return NULL;
}

/* What the configured monitor concludes of B's Trino (ClusterStats*Monitor.java). */
static const char *monitor_verdict(const struct gateway_standin *g,
                                   const struct gateway_standin_backend *b)
{
	if (!b->trino_up)
		return "UNHEALTHY";
	if (g->monitor != MONITOR_INFO_API && b->trino_version >= NO_DISCOVERY_MBEAN_FROM)
		return "UNHEALTHY";
	return "HEALTHY";
}

void gateway_standin_round(struct gateway_standin *g)
{
	for (size_t i = 0; i < g->count; i++) {
		snprintf(g->backends[i].status, sizeof(g->backends[i].status), "%s",
		         monitor_verdict(g, &g->backends[i]));
		g->backends[i].from_round = true;
	}
	g->rounds++;
}

static void on_round(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	gateway_standin_round(arg);
}

/* ProxyBackendConfiguration as Jackson writes it (defaults: routingGroup adhoc). */
static void backend_json(char *out, size_t len, const struct gateway_standin_backend *b)
{
	snprintf(out, len,
	         "{\"name\":\"%s\",\"proxyTo\":\"http://trino-%s:8080\",\"active\":%s,"
	         "\"routingGroup\":\"adhoc\",\"externalUrl\":\"http://trino-%s:8080\"}",
	         b->name, b->name, b->active ? "true" : "false", b->name);
}

static void list_backends(struct gateway_standin *g, struct evhttp_request *req, bool only_active)
{
	char body[2048] = "[";
	for (size_t i = 0; i < g->count; i++) {
		if (only_active && !g->backends[i].active)
			continue;
		char one[512];
		backend_json(one, sizeof(one), &g->backends[i]);
		size_t used = strlen(body);
		snprintf(body + used, sizeof(body) - used, "%s%s", used > 1 ? "," : "", one);
	}
	strcat(body, "]");
	reply(req, 200, "application/json", body);
}

/* ClusterStats: a monitor round's, or the bare one of ClusterStats.builder(name). */
static void state_json(char *out, size_t len, const struct gateway_standin_backend *b, bool bare)
{
	if (bare)
		snprintf(out, len,
		         "{\"clusterId\":\"%s\",\"runningQueryCount\":0,\"queuedQueryCount\":0,"
		         "\"numWorkerNodes\":0,\"trinoStatus\":\"%s\"}",
		         b->name, b->status);
	else
		snprintf(out, len,
		         "{\"clusterId\":\"%s\",\"runningQueryCount\":0,\"queuedQueryCount\":0,"
		         "\"numWorkerNodes\":0,\"trinoStatus\":\"%s\",\"proxyTo\":\"http://"
		         "trino-%s:8080\","
		         "\"externalUrl\":\"http://trino-%s:8080\",\"routingGroup\":\"adhoc\"}",
		         b->name, b->status, b->name, b->name);
}

/* POST /gateway/backend/(de)activate/NAME (GatewayResource.java). */
static void change(struct gateway_standin *g, struct evhttp_request *req, const char *name,
                   bool activate)
{
	struct gateway_standin_backend *b = gateway_standin_find(g, name);
	if (b == NULL) {
		char body[200];
		snprintf(body, sizeof(body),
		         "No cluster found with name: %s, could not (de)activate", name);
		reply(req, 404, "text/plain", body);
		return;
	}
	size_t used = strlen(g->log);
	snprintf(g->log + used, sizeof(g->log) - used, "%s%s:%s@%u", used ? " " : "",
	         activate ? "activate" : "deactivate", name, g->rounds);
	b->active = activate;
	if (g->mode == GATEWAY_MAIN) {
		snprintf(b->status, sizeof(b->status), "%s", activate ? "PENDING" : "UNKNOWN");
		b->from_round = false;
	}
	reply(req, 200, NULL, "");
}

static void on_request(struct evhttp_request *req, void *arg)
{
	struct gateway_standin *g = arg;
	const char *path = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req));
	const char *auth =
	        evhttp_find_header(evhttp_request_get_input_headers(req), "Authorization");
	snprintf(g->authorization, sizeof(g->authorization), "%s", auth != NULL ? auth : "");
	char name[64] = "";
	if (sscanf(path, "/gateway/backend/activate/%63s", name) == 1) {
		change(g, req, name, true);
	} else if (sscanf(path, "/gateway/backend/deactivate/%63s", name) == 1) {
		change(g, req, name, false);
	} else if (sscanf(path, "/api/public/backends/%63[^/]/state", name) == 1) {
		struct gateway_standin_backend *b = gateway_standin_find(g, name);
		if (b == NULL) {
			reply(req, 404, NULL, ""); /* PublicResource: an empty 404 */
			return;
		}
		g->state_reads++;
		char body[512];
		state_json(body, sizeof(body), b, !b->from_round);
		reply(req, 200, "application/json", body);
	} else if (strcmp(path, "/gateway/backend/active") == 0) {
		list_backends(g, req, true);
	} else if (strcmp(path, "/gateway/backend/all") == 0 ||
	           strcmp(path, "/api/public/backends") == 0) {
		list_backends(g, req, false);
	} else if (strcmp(path, "/trino-gateway/readyz") == 0) {
		if (g->rounds == 0)
			reply(req, 503, NULL, "Trino Gateway is still initializing");
		else
			reply(req, 200, NULL, "ok");
	} else {
		reply(req, 404, "text/plain", "Not Found");
	}
}

int gateway_standin_start(struct gateway_standin *g, struct event_base *base,
                          enum gateway_standin_mode mode, enum gateway_standin_monitor monitor,
                          int64_t period_ms)
{
	memset(g, 0, sizeof(*g));
	g->base = base;
	g->mode = mode;
	g->monitor = monitor;
	g->period_ms = period_ms;
	g->http = evhttp_new(base);
	if (g->http == NULL)
		return -1;
	struct evhttp_bound_socket *sock = evhttp_bind_socket_with_handle(g->http, "127.0.0.1", 0);
	if (sock == NULL)
		return -1;
	struct sockaddr_in addr;
	socklen_t len = sizeof(addr);
	if (getsockname(evhttp_bound_socket_get_fd(sock), (struct sockaddr *)&addr, &len) != 0)
		return -1;
	g->port = ntohs(addr.sin_port);
	evhttp_set_gencb(g->http, on_request, g);
	if (period_ms > 0) {
		g->timer = event_new(base, -1, EV_PERSIST, on_round, g);
		struct timeval tv = {.tv_sec = period_ms / 1000,
		                     .tv_usec = (period_ms % 1000) * 1000};
		if (g->timer == NULL || event_add(g->timer, &tv) != 0)
			return -1;
	}
	return 0;
}

void gateway_standin_add(struct gateway_standin *g, const char *name, bool active, bool trino_up,
                         int trino_version)
{
	if (g->count == GATEWAY_STANDIN_BACKENDS)
		return;
	struct gateway_standin_backend *b = &g->backends[g->count++];
	memset(b, 0, sizeof(*b));
	snprintf(b->name, sizeof(b->name), "%s", name);
	snprintf(b->status, sizeof(b->status), "UNKNOWN");
	b->active = active;
	b->trino_up = trino_up;
	b->trino_version = trino_version;
}

void gateway_standin_stop(struct gateway_standin *g)
{
	if (g->timer != NULL)
		event_free(g->timer);
	if (g->http != NULL)
		evhttp_free(g->http);
	g->timer = NULL;
	g->http = NULL;
}
