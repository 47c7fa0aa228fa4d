/*
 * trino-sim's management endpoints (docs/DESIGN.md §3, §10): the
 * insecure-HTTP user check, /metrics in OpenMetrics (with the name[] filter;
 * the QueryManager counters only where the release has them) and the JMX
 * resources of the QueryManager and the release's node manager, all as
 * sim_release.c says for the node's version.
 */
#include "sim_metrics.h"

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <jansson.h>
#include <math.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sim_http.h"
#include "sim_release.h"

#define QUERY_MANAGER_MBEAN  "trino.execution:name=QueryManager"
#define QUERY_MANAGER_PREFIX "trino_execution_name_QueryManager_"

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

int sim_request_user(struct evhttp_request *req, char *user, size_t user_len, const char **why)
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

/*
 * Returns 1 when the request may read management data; otherwise answers it
 * and returns 0. Trino's order (server/security/ResourceSecurityDynamicFeature):
 * authentication (401), then the access control, which answers 503 while the
 * server starts and 403 when it denies.
 */
static int management_allowed(struct evhttp_request *req, const struct sim_node *node,
                              const struct sim_cluster *cluster)
{
	switch (node->counters_mode) {
	case SIM_COUNTERS_401:
		sim_http_send_text(req, 401, "Unauthorized", "text/plain",
		                   "Basic authentication or X-Trino-User must be sent");
		return 0;
	case SIM_COUNTERS_403:
		sim_http_send_text(req, 403, "Forbidden", "text/plain", "Management only resource");
		return 0;
	case SIM_COUNTERS_404:
		sim_http_send_text(req, 404, "Not Found", "text/plain", "Not Found");
		return 0;
	case SIM_COUNTERS_OK:
		break;
	}
	char user[256];
	const char *why = NULL;
	if (sim_request_user(req, user, sizeof(user), &why) != 0) {
		evhttp_add_header(evhttp_request_get_output_headers(req), "WWW-Authenticate",
		                  "Basic realm=\"Trino\"");
		sim_http_send_text(req, 401, "Unauthorized", "text/plain", why);
		return 0;
	}
	if (sim_node_starting(cluster, node, sim_now_ms())) {
		sim_http_send_text(req, 503, "Service Unavailable", "text/plain",
		                   "Trino server is still initializing");
		return 0;
	}
	if (cluster->management_user[0] != '\0' && strcmp(user, cluster->management_user) != 0) {
		sim_http_send_text(req, 403, "Forbidden", "text/plain", "Management only resource");
		return 0;
	}
	return 1;
}

struct metric {
	const char *attribute;
	bool counter;
	uint64_t value;
};

/*
 * The QueryManager attributes of the coordinator: the counters of the
 * @Flatten QueryManagerStats (first), then DispatchManager's own gauges.
 */
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

struct exposed {
	char name[128];
	bool counter;
	double value;
	bool written;
};

/* What the node's /metrics holds, in the order of collection. Returns the count. */
static size_t collect_metrics(const struct sim_node *node, const struct sim_cluster *cluster,
                              const struct sim_release *release, struct exposed *out)
{
	size_t n = 0;
	if (node->coordinator) {
		struct metric metrics[16];
		size_t count = query_manager_metrics(cluster, metrics);
		for (size_t i = 0; i < count; i++) {
			if (metrics[i].counter && !release->counters_in_metrics)
				continue; /* jmxutils < 1.24 did not walk the @Flatten stats */
			snprintf(out[n].name, sizeof(out[n].name), "%s%s", QUERY_MANAGER_PREFIX,
			         metrics[i].attribute);
			out[n].counter = metrics[i].counter;
			out[n++].value = (double)metrics[i].value;
		}
		snprintf(out[n].name, sizeof(out[n].name), "%s", release->node_count_metric);
		out[n].counter = false;
		out[n++].value = sim_cluster_active_nodes(cluster);
	}
	snprintf(out[n].name, sizeof(out[n].name), "java_lang_name_Runtime_Uptime");
	out[n].counter = false;
	out[n++].value = (double)(sim_now_ms() - node->started_ms);
	for (size_t i = 0; i < n; i++)
		out[i].written = false;
	return n;
}

/*
 * Writes the metrics the query asks for: name by name in the request's order
 * on releases whose airlift walks once per name[], else in collection order.
 */
static void write_metrics(struct evbuffer *out, struct evkeyvalq *query,
                          const struct sim_release *release, struct exposed *all, size_t count)
{
	bool filtered = false;
	for (struct evkeyval *kv = query->tqh_first; kv != NULL; kv = kv->next.tqe_next) {
		char *key = evhttp_uridecode(kv->key, 0, NULL);
		bool is_name = key != NULL && strcmp(key, "name[]") == 0;
		free(key);
		if (!is_name)
			continue;
		filtered = true;
		if (!release->metrics_in_request_order)
			break;
		for (size_t i = 0; i < count; i++) {
			if (!all[i].written && strcmp(all[i].name, kv->value) == 0) {
				add_metric(out, query, all[i].name, all[i].counter, all[i].value);
				all[i].written = true;
			}
		}
	}
	if (filtered && release->metrics_in_request_order)
		return;
	for (size_t i = 0; i < count; i++)
		add_metric(out, query, all[i].name, all[i].counter, all[i].value);
}

void sim_metrics_serve_openmetrics(struct evhttp_request *req, struct sim_node *node,
                                   const struct sim_cluster *cluster)
{
	const struct sim_release *release = sim_release_for(node->version);
	if (!management_allowed(req, node, cluster))
		return;
	struct evkeyvalq query;
	query.tqh_first = NULL;
	query.tqh_last = &query.tqh_first;
	const char *raw_query = evhttp_uri_get_query(evhttp_request_get_evhttp_uri(req));
	if (raw_query != NULL && evhttp_parse_query_str(raw_query, &query) != 0) {
		sim_http_send_text(req, 400, "Bad Request", "text/plain", "bad query string");
		return;
	}
	struct exposed all[24];
	size_t count = collect_metrics(node, cluster, release, all);
	struct evbuffer *out = evbuffer_new();
	write_metrics(out, &query, release, all, count);
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
static json_t *jmx_attributes(const char *object_name, const struct sim_release *release,
                              const struct sim_cluster *cluster)
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
	if (strcmp(object_name, release->node_manager_mbean) == 0) {
		json_array_append_new(
		        attributes, jmx_attribute("ActiveNodeCount", "int",
		                                  json_integer(sim_cluster_active_nodes(cluster))));
		return attributes;
	}
	json_decref(attributes);
	return NULL;
}

void sim_metrics_serve_jmx(struct evhttp_request *req, const char *rest, struct sim_node *node,
                           const struct sim_cluster *cluster)
{
	const struct sim_release *release = sim_release_for(node->version);
	if (!release->jmx_rest) {
		/* no resource behind the path: Jersey answers before any filter runs */
		sim_http_send_text(req, 404, "Not Found", "text/plain", "");
		return;
	}
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
	json_t *attributes =
	        node->coordinator ? jmx_attributes(object_name, release, cluster) : NULL;
	if (attributes == NULL) {
		sim_http_send_text(req, 500, "Internal Server Error", "text/plain", "");
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
				sim_http_send_json(req, value);
				return;
			}
		}
		json_decref(attributes);
		sim_http_send_text(req, 404, "Not Found", "text/plain", "Not Found");
		return;
	}
	sim_http_send_json(
	        req,
	        json_pack("{s:s,s:s,s:s,s:{},s:o,s:[]}", "objectName", object_name, "className",
	                  strcmp(object_name, QUERY_MANAGER_MBEAN) == 0
	                          ? "io.trino.dispatcher.DispatchManager"
	                  : release->info_node_fields ? "io.trino.node.CoordinatorNodeManager"
	                                              : "io.trino.metadata.DiscoveryNodeManager",
	                  "description", "", "descriptor", "attributes", attributes, "operations"));
}
