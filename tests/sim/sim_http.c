/*
 * Trino's endpoints as trino-sim serves them (reference/trino-endpoints.md):
 * /v1/info (477+ adds nodeId, state, coordinatorId), /v1/info/state (a bare
 * JSON string), /v1/status, and on management auth /metrics (OpenMetrics,
 * from 429, with the name[] filter) and the QueryManager JMX resource.
 */
#include "sim_http.h"

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <jansson.h>
#include <math.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "clock.h"

#define QUERY_MANAGER_MBEAN  "trino.execution:name=QueryManager"
#define NODE_MANAGER_MBEAN   "trino.metadata:name=DiscoveryNodeManager"
#define QUERY_MANAGER_PREFIX "trino_execution_name_QueryManager_"
#define ACTIVE_NODES_METRIC  "trino_metadata_name_DiscoveryNodeManager_ActiveNodeCount"

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

static void send_text(struct evhttp_request *req, int code, const char *reason,
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

static void send_json(struct evhttp_request *req, json_t *value)
{
	char *text = json_dumps(value, JSON_COMPACT | JSON_ENCODE_ANY);
	json_decref(value);
	if (text == NULL) {
		evhttp_send_error(req, 500, NULL);
		return;
	}
	send_text(req, 200, "OK", "application/json", text);
	free(text);
}

/* Java's Double.toString for the values we print: "3.0", "1.2345678E7", "NaN". */
static void java_double(double value, char *out, size_t out_len)
{
	if (isnan(value)) {
		snprintf(out, out_len, "NaN");
		return;
	}
	double magnitude = fabs(value);
	if (magnitude == 0 || (magnitude >= 1e-3 && magnitude < 1e7)) {
		snprintf(out, out_len, "%.15g", value);
		if (strchr(out, '.') == NULL)
			strncat(out, ".0", out_len - strlen(out) - 1);
		return;
	}
	int exponent = (int)floor(log10(magnitude));
	char mantissa[40];
	snprintf(mantissa, sizeof(mantissa), "%.15g", value / pow(10, exponent));
	if (strchr(mantissa, '.') == NULL)
		strncat(mantissa, ".0", sizeof(mantissa) - strlen(mantissa) - 1);
	snprintf(out, out_len, "%sE%d", mantissa, exponent);
}

/* ---- /v1/info, /v1/info/state, /v1/status (public) ---- */

static void serve_info(struct evhttp_request *req, struct sim_node *node,
                       const struct sim_cluster *cluster)
{
	char uptime[32];
	sim_format_duration(sim_now_ms() - node->started_ms, uptime, sizeof(uptime));
	json_t *info = json_object();
	if (sim_version_number(node->version) >= 477) {
		json_object_set_new(info, "nodeId", json_string(node->id));
		/* a coordinator always says ACTIVE here */
		json_object_set_new(
		        info, "state",
		        json_string(node->coordinator ? "ACTIVE" : sim_state_name(node->state)));
	}
	json_object_set_new(info, "nodeVersion", json_pack("{s:s}", "version", node->version));
	json_object_set_new(info, "environment", json_string(cluster->environment));
	json_object_set_new(info, "coordinator", json_boolean(node->coordinator));
	if (sim_version_number(node->version) >= 477 && node->coordinator)
		json_object_set_new(info, "coordinatorId", json_string(node->coordinator_id));
	json_object_set_new(info, "starting", json_false());
	json_object_set_new(info, "uptime", json_string(uptime));
	send_json(req, info);
}

static void serve_state(struct evhttp_request *req, struct sim_node *node)
{
	send_json(req, json_string(sim_state_name(node->state)));
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
	send_json(req, status);
}

/* ---- management endpoints ---- */

/* The user a request authenticates as, Trino's insecure-HTTP rules; "" when none. */
static int request_user(struct evhttp_request *req, char *user, size_t user_len, const char **why)
{
	struct evkeyvalq *headers = evhttp_request_get_input_headers(req);
	const char *trino_user = evhttp_find_header(headers, "X-Trino-User");
	const char *authorization = evhttp_find_header(headers, "Authorization");
	user[0] = '\0';
	if (authorization != NULL && strncasecmp(authorization, "Basic ", 6) == 0) {
		unsigned char decoded[512];
		const char *b64 = authorization + 6;
		size_t b64_len = strlen(b64);
		if (b64_len > 600) {
			*why = "Malformed credentials";
			return -1;
		}
		int n = EVP_DecodeBlock(decoded, (const unsigned char *)b64, (int)b64_len);
		if (n < 0) {
			*why = "Malformed credentials";
			return -1;
		}
		decoded[n] = '\0';
		char *colon = strchr((char *)decoded, ':');
		/* EVP_DecodeBlock keeps the padding's zero bytes: cut at the first NUL */
		if (colon != NULL && colon[1] != '\0') {
			*why = "Password not allowed for insecure authentication";
			return -1;
		}
		if (colon != NULL)
			*colon = '\0';
		size_t len = strlen((char *)decoded);
		if (len >= user_len) {
			*why = "User name too long";
			return -1;
		}
		memcpy(user, decoded, len + 1);
	}
	if (trino_user != NULL) {
		size_t len = strlen(trino_user);
		if (len >= user_len) {
			*why = "User name too long";
			return -1;
		}
		memcpy(user, trino_user, len + 1);
	}
	if (user[0] == '\0') {
		*why = "Basic authentication or X-Trino-User must be sent";
		return -1;
	}
	return 0;
}

/* Returns 1 when the request may read management data; otherwise answers it and returns 0. */
static int management_allowed(struct evhttp_request *req, const struct sim_node *node,
                              const struct sim_cluster *cluster)
{
	switch (node->counters_mode) {
	case SIM_COUNTERS_401:
		send_text(req, 401, "Unauthorized", "text/plain",
		          "Basic authentication or X-Trino-User must be sent");
		return 0;
	case SIM_COUNTERS_403:
		send_text(req, 403, "Forbidden", "text/plain", "Management only resource");
		return 0;
	case SIM_COUNTERS_404:
		send_text(req, 404, "Not Found", "text/plain", "Not Found");
		return 0;
	case SIM_COUNTERS_OK:
		break;
	}
	char user[256];
	const char *why = NULL;
	if (request_user(req, user, sizeof(user), &why) != 0) {
		evhttp_add_header(evhttp_request_get_output_headers(req), "WWW-Authenticate",
		                  "Basic realm=\"Trino\"");
		send_text(req, 401, "Unauthorized", "text/plain", why);
		return 0;
	}
	if (cluster->management_user[0] != '\0' && strcmp(user, cluster->management_user) != 0) {
		send_text(req, 403, "Forbidden", "text/plain", "Management only resource");
		return 0;
	}
	return 1;
}

struct metric {
	const char *attribute;
	bool counter;
	uint64_t value;
};

/* The QueryManager attributes of the coordinator, in declaration order. */
static size_t query_manager_metrics(const struct sim_cluster *cluster, struct metric *out)
{
	const struct sim_counters *c = &cluster->counters;
	const struct metric all[] = {
	        {"AbandonedQueries", true, c->abandoned},
	        {"CanceledQueries", true, c->canceled},
	        {"CompletedQueries", true, c->completed},
	        {"ExternalFailures", true, c->external},
	        {"FailedQueries", true, c->failed},
	        {"InsufficientResourcesFailures", true, c->insufficient_resources},
	        {"InternalFailures", true, c->internal},
	        {"StartedQueries", true, c->started},
	        {"SubmittedQueries", true, c->submitted},
	        {"UserErrorFailures", true, c->user_error},
	        {"ProgressingQueries", false, c->running},
	        {"QueuedQueries", false, c->queued},
	        {"RunningQueries", false, c->running},
	};
	memcpy(out, all, sizeof(all));
	return sizeof(all) / sizeof(all[0]);
}

static bool wanted(struct evkeyvalq *query, const char *name)
{
	bool any_filter = false;
	for (struct evkeyval *kv = query->tqh_first; kv != NULL; kv = kv->next.tqe_next) {
		char *key = evhttp_uridecode(kv->key, 0, NULL);
		bool is_name = key != NULL && strcmp(key, "name[]") == 0;
		free(key);
		if (!is_name)
			continue;
		any_filter = true;
		if (strcmp(kv->value, name) == 0)
			return true;
	}
	return !any_filter;
}

static void add_metric(struct evbuffer *out, struct evkeyvalq *query, const char *name,
                       bool counter, double value)
{
	if (!wanted(query, name))
		return;
	if (counter) {
		evbuffer_add_printf(out, "# TYPE %s counter\n%s %.0f\n", name, name, value);
	} else {
		char text[64];
		java_double(value, text, sizeof(text));
		evbuffer_add_printf(out, "# TYPE %s gauge\n%s %s\n", name, name, text);
	}
}

static void serve_metrics(struct evhttp_request *req, struct sim_node *node,
                          const struct sim_cluster *cluster)
{
	if (sim_version_number(node->version) < 429) {
		/* /metrics did not carry the QueryManager counters before 429 */
		send_text(req, 404, "Not Found", "text/plain", "Not Found");
		return;
	}
	if (!management_allowed(req, node, cluster))
		return;
	struct evkeyvalq query;
	query.tqh_first = NULL;
	query.tqh_last = &query.tqh_first;
	const char *raw_query = evhttp_uri_get_query(evhttp_request_get_evhttp_uri(req));
	if (raw_query != NULL && evhttp_parse_query_str(raw_query, &query) != 0) {
		send_text(req, 400, "Bad Request", "text/plain", "bad query string");
		return;
	}
	struct evbuffer *out = evbuffer_new();
	if (node->coordinator) {
		struct metric metrics[16];
		size_t count = query_manager_metrics(cluster, metrics);
		for (size_t i = 0; i < count; i++) {
			char name[128];
			snprintf(name, sizeof(name), "%s%s", QUERY_MANAGER_PREFIX,
			         metrics[i].attribute);
			add_metric(out, &query, name, metrics[i].counter, (double)metrics[i].value);
		}
		add_metric(out, &query, ACTIVE_NODES_METRIC, false,
		           sim_cluster_active_nodes(cluster));
	}
	add_metric(out, &query, "java_lang_name_Runtime_Uptime", false,
	           (double)(sim_now_ms() - node->started_ms));
	evbuffer_add_printf(out, "# EOF\n");
	evhttp_clear_headers(&query);
	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
	                  "application/openmetrics-text; version=1.0.0; charset=utf-8");
	evhttp_send_reply(req, 200, "OK", out);
	evbuffer_free(out);
}

static json_t *jmx_attribute(const char *name, const char *type, json_t *value)
{
	return json_pack("{s:s,s:s,s:s,s:b,s:b,s:{},s:o}", "name", name, "type", type,
	                 "description", "", "readable", 1, "writable", 0, "descriptor", "value",
	                 value);
}

/* Builds the MBean's attributes as JMX REST shows them; NULL for an unknown MBean. */
static json_t *jmx_attributes(const char *object_name, const struct sim_cluster *cluster)
{
	json_t *attributes = json_array();
	if (strcmp(object_name, QUERY_MANAGER_MBEAN) == 0) {
		struct metric metrics[16];
		size_t count = query_manager_metrics(cluster, metrics);
		for (size_t i = 0; i < count; i++) {
			char name[128];
			if (!metrics[i].counter) {
				json_array_append_new(
				        attributes,
				        jmx_attribute(metrics[i].attribute, "long",
				                      json_integer((json_int_t)metrics[i].value)));
				continue;
			}
			snprintf(name, sizeof(name), "%s.TotalCount", metrics[i].attribute);
			json_array_append_new(
			        attributes,
			        jmx_attribute(name, "long",
			                      json_integer((json_int_t)metrics[i].value)));
			snprintf(name, sizeof(name), "%s.OneMinute.Rate", metrics[i].attribute);
			json_array_append_new(attributes,
			                      jmx_attribute(name, "double", json_real(0.0)));
		}
		/* Trino writes NaN doubles as strings */
		json_array_append_new(attributes, jmx_attribute("ExecutionTime.AllTime.Avg",
		                                                "double", json_string("NaN")));
		return attributes;
	}
	if (strcmp(object_name, NODE_MANAGER_MBEAN) == 0) {
		json_array_append_new(
		        attributes, jmx_attribute("ActiveNodeCount", "int",
		                                  json_integer(sim_cluster_active_nodes(cluster))));
		return attributes;
	}
	json_decref(attributes);
	return NULL;
}

static void serve_jmx(struct evhttp_request *req, const char *rest, struct sim_node *node,
                      const struct sim_cluster *cluster)
{
	if (!management_allowed(req, node, cluster))
		return;
	char object_name[256];
	const char *attribute = NULL;
	snprintf(object_name, sizeof(object_name), "%s", rest);
	char *slash = strrchr(object_name, '/');
	if (slash != NULL) {
		*slash = '\0';
		attribute = slash + 1;
	}
	/* The dispatcher's MBeans live on the coordinator only. */
	json_t *attributes = node->coordinator ? jmx_attributes(object_name, cluster) : NULL;
	if (attributes == NULL) {
		send_text(req, 500, "Internal Server Error", "text/plain",
		          "javax.management.InstanceNotFoundException");
		return;
	}
	if (attribute != NULL) {
		size_t i;
		json_t *entry;
		json_array_foreach(attributes, i, entry)
		{
			if (strcmp(json_string_value(json_object_get(entry, "name")), attribute) ==
			    0) {
				json_t *value = json_incref(json_object_get(entry, "value"));
				json_decref(attributes);
				send_json(req, value);
				return;
			}
		}
		json_decref(attributes);
		send_text(req, 404, "Not Found", "text/plain", "Not Found");
		return;
	}
	send_json(req,
	          json_pack("{s:s,s:s,s:s,s:{},s:o,s:[]}", "objectName", object_name, "className",
	                    strcmp(object_name, QUERY_MANAGER_MBEAN) == 0
	                            ? "io.trino.dispatcher.DispatchManager"
	                            : "io.trino.metadata.DiscoveryNodeManager",
	                    "description", "", "descriptor", "attributes", attributes,
	                    "operations"));
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
		send_text(req, 400, "Bad Request", "text/plain", "bad path");
		return;
	}
	if (method != EVHTTP_REQ_GET && method != EVHTTP_REQ_HEAD) {
		send_text(req, 405, "Method Not Allowed", "text/plain", "Method Not Allowed");
	} else if (strcmp(path, "/v1/info") == 0) {
		serve_info(req, node, cluster);
	} else if (strcmp(path, "/v1/info/state") == 0) {
		serve_state(req, node);
	} else if (strcmp(path, "/v1/info/coordinator") == 0) {
		if (node->coordinator)
			send_text(req, 200, "OK", "text/plain", "");
		else
			send_text(req, 404, "Not Found", "text/plain", "Not Found");
	} else if (strcmp(path, "/v1/status") == 0) {
		serve_status(req, node, cluster);
	} else if (strcmp(path, "/metrics") == 0) {
		serve_metrics(req, node, cluster);
	} else if (strncmp(path, "/v1/jmx/mbean/", 14) == 0) {
		serve_jmx(req, path + 14, node, cluster);
	} else {
		send_text(req, 404, "Not Found", "text/plain", "Not Found");
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
		send_text(deferred->req, 503, "Service Unavailable", "text/plain",
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
	                                                    EVHTTP_REQ_POST | EVHTTP_REQ_PUT);
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
