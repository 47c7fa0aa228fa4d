/*
 * Trino's endpoints as trino-sim serves them (docs/DESIGN.md §10):
 * /v1/info (its fields per release, sim_release.c), /v1/info/state (a bare
 * JSON string; PUT in sim_state_put.c), /v1/status, routed here with the management endpoints of
 * sim_metrics.c and the query list of sim_query_list.c; and the down, hang and slow faults on each node's port.
 */
#include "sim_http.h"

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "sim_metrics.h"
#include "sim_query_list.h"
#include "sim_state_put.h"
#include "sim_statement.h"
#include "sim_release.h"

struct sim_deferred {
	struct evhttp_request *req;
	struct sim_node_http *node_http;
	struct event *timer; /* NULL: held until released (hang) */
	struct sim_deferred *next;
};

int64_t sim_now_ms(void)
{
	return clock_mono_ms();
}

void sim_http_send_text(struct evhttp_request *req, int code, const char *reason,
                        const char *content_type, const char *body)
{
	struct evbuffer *out = evbuffer_new();
	if (out == NULL) {
		evhttp_send_error(req, 500, NULL);
		return;
	}
	evbuffer_add(out, body, strlen(body));
	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", content_type);
	evhttp_send_reply(req, code, reason, out);
	evbuffer_free(out);
}

void sim_http_send_json(struct evhttp_request *req, json_t *value)
{
	char *text = json_dumps(value, JSON_COMPACT | JSON_ENCODE_ANY);
	json_decref(value);
	if (text == NULL) {
		evhttp_send_error(req, 500, NULL);
		return;
	}
	sim_http_send_text(req, 200, "OK", "application/json", text);
	free(text);
}

/* ---- /v1/info, /v1/info/state, /v1/status (public) ---- */

static void serve_info(struct evhttp_request *req, struct sim_node *node,
                       const struct sim_cluster *cluster)
{
	char uptime[32];
	sim_format_duration(sim_now_ms() - node->started_ms, uptime, sizeof(uptime));
	const struct sim_release *release = sim_release_for(node->version);
	json_t *info = json_object();
	if (release->info_node_fields) {
		json_object_set_new(info, "nodeId", json_string(node->id));
		/* the node state manager's state, the one /v1/info/state gives, coordinator too */
		json_object_set_new(info, "state", json_string(sim_state_name(node->state)));
	}
	json_object_set_new(info, "nodeVersion", json_pack("{s:s}", "version", node->version));
	json_object_set_new(info, "environment", json_string(cluster->environment));
	json_object_set_new(info, "coordinator", json_boolean(node->coordinator));
	if (release->info_coordinator_id && node->coordinator)
		json_object_set_new(info, "coordinatorId", json_string(node->coordinator_id));
	json_object_set_new(info, "starting",
	                    json_boolean(sim_node_starting(cluster, node, sim_now_ms())));
	json_object_set_new(info, "uptime", json_string(uptime));
	if (release->info_node_groups)
		json_object_set_new(info, "nodeGroups", json_array());
	sim_http_send_json(req, info);
}

static void serve_state(struct evhttp_request *req, struct sim_node *node)
{
	sim_http_send_json(req, json_string(sim_state_name(node->state)));
}

static void serve_status(struct evhttp_request *req, struct sim_node *node,
                         const struct sim_cluster *cluster)
{
	char uptime[32];
	sim_format_duration(sim_now_ms() - node->started_ms, uptime, sizeof(uptime));
	json_t *pool = json_pack("{s:I,s:I,s:I,s:{},s:{},s:{},s:{},s:{},s:I}", "maxBytes",
	                         (json_int_t)17179869184LL, "reservedBytes", (json_int_t)0,
	                         "reservedRevocableBytes", (json_int_t)0, "queryMemoryReservations",
	                         "queryMemoryAllocations", "queryMemoryRevocableReservations",
	                         "taskMemoryReservations", "taskMemoryRevocableReservations",
	                         "freeBytes", (json_int_t)17179869184LL);
	json_t *status = json_pack(
	        "{s:s,s:{s:s},s:s,s:b,s:s,s:s,s:s,s:{s:i,s:o,s:{}},s:i,s:f,s:f,s:I,s:I,s:I}",
	        "nodeId", node->id, "nodeVersion", "version", node->version, "environment",
	        cluster->environment, "coordinator", node->coordinator, "uptime", uptime,
	        "externalAddress", "127.0.0.1", "internalAddress", "127.0.0.1", "memoryInfo",
	        "availableProcessors", 16, "pool", pool, "tasksMemoryInfo", "processors", 16,
	        "processCpuLoad", 0.021, "systemCpuLoad", 0.034, "heapUsed",
	        (json_int_t)2147483648LL, "heapAvailable", (json_int_t)57982058496LL, "nonHeapUsed",
	        (json_int_t)312475648LL);
	if (status == NULL) {
		evhttp_send_error(req, 500, NULL);
		return;
	}
	sim_http_send_json(req, status);
}

/* Routes one request that is due for an answer now. */
static void route(struct evhttp_request *req, struct sim_node_http *node_http)
{
	struct sim_node *node = node_http->node;
	const struct sim_cluster *cluster = node_http->server->cluster;
	enum evhttp_cmd_type method = evhttp_request_get_command(req);
	const char *raw_path = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req));
	char *path = raw_path != NULL ? evhttp_uridecode(raw_path, 0, NULL) : NULL;
	if (path == NULL) {
		sim_http_send_text(req, 400, "Bad Request", "text/plain", "bad path");
		return;
	}
	if (sim_statement_path(path)) {
		/* the client protocol is the coordinator's */
		if (node->coordinator && node_http->server->queries != NULL)
			sim_statement_serve(req, path, node_http->server->queries,
			                    node_http->server->base);
		else
			sim_http_send_text(req, 404, "Not Found", "text/plain", "Not Found");
	} else if (method == EVHTTP_REQ_PUT && strcmp(path, "/v1/info/state") == 0) {
		sim_state_put_serve(req, node, cluster);
	} else if (method != EVHTTP_REQ_GET && method != EVHTTP_REQ_HEAD) {
		sim_http_send_text(req, 405, "Method Not Allowed", "text/plain",
		                   "Method Not Allowed");
	} else if (strcmp(path, "/v1/info") == 0) {
		serve_info(req, node, cluster);
	} else if (strcmp(path, "/v1/info/state") == 0) {
		serve_state(req, node);
	} else if (strcmp(path, "/v1/info/coordinator") == 0) {
		if (node->coordinator)
			sim_http_send_text(req, 200, "OK", "text/plain", "");
		else
			sim_http_send_text(req, 404, "Not Found", "text/plain", "Not Found");
	} else if (strcmp(path, "/v1/status") == 0) {
		serve_status(req, node, cluster);
	} else if (strcmp(path, "/v1/query") == 0 && node->coordinator &&
	           node_http->server->queries != NULL) {
		sim_query_list_serve(req, node_http->server->queries, cluster);
	} else if (strcmp(path, "/metrics") == 0) {
		sim_metrics_serve_openmetrics(req, node, cluster);
	} else if (strncmp(path, "/v1/jmx/mbean/", 14) == 0) {
		sim_metrics_serve_jmx(req, path + 14, node, cluster);
	} else {
		sim_http_send_text(req, 404, "Not Found", "text/plain", "Not Found");
	}
	free(path);
}

static void deferred_unlink(struct sim_node_http *node_http, struct sim_deferred *deferred)
{
	for (struct sim_deferred **p = &node_http->deferred; *p != NULL; p = &(*p)->next) {
		if (*p == deferred) {
			*p = deferred->next;
			return;
		}
	}
}

/* A slow reply is due. */
static void on_deferred_timer(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct sim_deferred *deferred = arg;
	deferred_unlink(deferred->node_http, deferred);
	route(deferred->req, deferred->node_http);
	event_free(deferred->timer);
	free(deferred);
}

static void defer(struct sim_node_http *node_http, struct evhttp_request *req, int64_t delay_ms)
{
	struct sim_deferred *deferred = calloc(1, sizeof(*deferred));
	if (deferred == NULL) {
		evhttp_send_error(req, 500, NULL);
		return;
	}
	deferred->req = req;
	deferred->node_http = node_http;
	if (delay_ms > 0) {
		deferred->timer = evtimer_new(node_http->server->base, on_deferred_timer, deferred);
		struct timeval tv = {.tv_sec = delay_ms / 1000,
		                     .tv_usec = (delay_ms % 1000) * 1000};
		if (deferred->timer == NULL || evtimer_add(deferred->timer, &tv) != 0) {
			if (deferred->timer != NULL)
				event_free(deferred->timer);
			free(deferred);
			evhttp_send_error(req, 500, NULL);
			return;
		}
	}
	deferred->next = node_http->deferred;
	node_http->deferred = deferred;
}

/* Every request to a node arrives here. */
static void on_node_request(struct evhttp_request *req, void *arg)
{
	struct sim_node_http *node_http = arg;
	struct sim_node *node = node_http->node;
	if (node->hang) {
		defer(node_http, req, 0);
		return;
	}
	if (node->slow_ms > 0) {
		defer(node_http, req, node->slow_ms);
		return;
	}
	route(req, node_http);
}

void sim_http_release(struct sim_server *server, struct sim_node *node)
{
	struct sim_node_http *node_http = &server->nodes[node->index];
	while (node_http->deferred != NULL) {
		struct sim_deferred *deferred = node_http->deferred;
		node_http->deferred = deferred->next;
		if (deferred->timer != NULL)
			event_free(deferred->timer);
		/* if the client already left, libevent just frees the request */
		sim_http_send_text(deferred->req, 503, "Service Unavailable", "text/plain",
		                   "request released");
		free(deferred);
	}
}

static int bind_node(struct sim_node_http *node_http, char *err, size_t err_len)
{
	struct sim_node *node = node_http->node;
	node_http->http = evhttp_new(node_http->server->base);
	if (node_http->http == NULL) {
		snprintf(err, err_len, "evhttp_new failed");
		return -1;
	}
	evhttp_set_max_body_size(node_http->http, 64 * 1024);
	evhttp_set_max_headers_size(node_http->http, 16 * 1024);
	evhttp_set_allowed_methods(node_http->http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD |
	                                                    EVHTTP_REQ_POST | EVHTTP_REQ_PUT |
	                                                    EVHTTP_REQ_DELETE);
	evhttp_set_gencb(node_http->http, on_node_request, node_http);
	if (evhttp_bind_socket_with_handle(node_http->http, "127.0.0.1", (ev_uint16_t)node->port) ==
	    NULL) {
		snprintf(err, err_len, "node %s: cannot listen on 127.0.0.1:%d", node->id,
		         node->port);
		evhttp_free(node_http->http);
		node_http->http = NULL;
		return -1;
	}
	return 0;
}

int sim_http_start(struct sim_server *server, struct event_base *base, struct sim_cluster *cluster,
                   char *err, size_t err_len)
{
	memset(server, 0, sizeof(*server));
	server->base = base;
	server->cluster = cluster;
	for (size_t i = 0; i < cluster->node_count; i++) {
		server->nodes[i].server = server;
		server->nodes[i].node = &cluster->nodes[i];
		if (bind_node(&server->nodes[i], err, err_len) != 0)
			return -1;
	}
	return 0;
}

int sim_http_set_down(struct sim_server *server, struct sim_node *node, bool down, char *err,
                      size_t err_len)
{
	struct sim_node_http *node_http = &server->nodes[node->index];
	if (down) {
		sim_http_release(server, node);
		if (node_http->http != NULL) {
			evhttp_free(node_http->http); /* closes the port and every connection */
			node_http->http = NULL;
		}
		node->down = true;
		return 0;
	}
	if (node_http->http == NULL && bind_node(node_http, err, err_len) != 0)
		return -1;
	node->down = false;
	return 0;
}

void sim_http_stop(struct sim_server *server)
{
	for (size_t i = 0; i < server->cluster->node_count; i++) {
		sim_http_release(server, &server->cluster->nodes[i]);
		if (server->nodes[i].http != NULL) {
			evhttp_free(server->nodes[i].http);
			server->nodes[i].http = NULL;
		}
	}
}
