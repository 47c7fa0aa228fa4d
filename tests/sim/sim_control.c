/*
 * The control API of trino-sim. A POST is parsed and checked whole into a
 * struct node_change before anything is applied, so a request with one bad
 * field changes nothing.
 */
#include "sim_control.h"

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "sim_etc.h"
#include "sim_query.h"

struct node_change {
	const char *version;
	bool has_state;
	enum sim_node_state state;
	bool has_fail_ratio;
	double fail_ratio;
	bool has_error_type;
	enum sim_error_type error_type;
	bool has_user_error_ratio;
	double user_error_ratio;
	bool has_qps;
	double qps;
	int down; /* -1: unchanged */
	int hang;
	int hidden;   /* -1: unchanged */
	int starting; /* -1: unchanged */
	bool has_slow_ms;
	int64_t slow_ms;
	bool restart;
	bool has_counters;
	enum sim_counters_mode counters;
	const char *config_file;
	const char *config_key;
	const char *config_value;
};

static void reply_json(struct evhttp_request *req, int code, json_t *body)
{
	char *text = json_dumps(body, JSON_COMPACT);
	json_decref(body);
	struct evbuffer *out = evbuffer_new();
	evbuffer_add_printf(out, "%s\n", text != NULL ? text : "{}");
	free(text);
	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
	                  "application/json");
	evhttp_send_reply(req, code, code == 200 ? "OK" : "Bad Request", out);
	evbuffer_free(out);
}

static void reply_error(struct evhttp_request *req, int code, const char *reason)
{
	reply_json(req, code, json_pack("{s:s}", "error", reason));
}

static json_t *node_json(const struct sim_cluster *cluster, const struct sim_node *node)
{
	json_t *out = json_pack(
	        "{s:s,s:s,s:i,s:s,s:s,s:b,s:b,s:I,s:s,s:s}", "id", node->id, "role",
	        node->coordinator ? "coordinator" : "worker", "port", node->port, "version",
	        node->version, "state", sim_state_name(node->state), "down", node->down, "hang",
	        node->hang, "slow_ms", (json_int_t)node->slow_ms, "counters",
	        sim_counters_mode_name(node->counters_mode), "etc_dir", node->etc_dir);
	if (node->coordinator) {
		const struct sim_counters *c = &cluster->counters;
		/* what ends its query ids, published in /v1/info from 477 only */
		json_object_set_new(out, "coordinator_id", json_string(node->coordinator_id));
		json_object_set_new(out, "qps", json_real(cluster->qps));
		json_object_set_new(out, "fail_ratio", json_real(cluster->fail_ratio));
		json_object_set_new(out, "error_type",
		                    json_string(sim_error_type_name(cluster->error_type)));
		json_object_set_new(out, "user_error_ratio", json_real(cluster->user_error_ratio));
		/* the clients' queries (statement protocol) among the gauges below */
		json_object_set_new(out, "statement_queries",
		                    json_pack("{s:I,s:I}", "running",
		                              (json_int_t)cluster->statement_running, "queued",
		                              (json_int_t)cluster->statement_queued));
		json_object_set_new(
		        out, "query_counters",
		        json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I}", "submitted",
		                  (json_int_t)c->submitted, "completed", (json_int_t)c->completed,
		                  "failed", (json_int_t)c->failed, "user_error",
		                  (json_int_t)c->user_error, "internal", (json_int_t)c->internal,
		                  "external", (json_int_t)c->external, "insufficient_resources",
		                  (json_int_t)c->insufficient_resources, "canceled",
		                  (json_int_t)c->canceled, "abandoned", (json_int_t)c->abandoned,
		                  "running", (json_int_t)c->running, "queued",
		                  (json_int_t)c->queued));
	}
	return out;
}

static void serve_overview(struct evhttp_request *req, struct sim_server *server)
{
	struct sim_cluster *cluster = server->cluster;
	sim_cluster_advance(cluster, sim_now_ms());
	json_t *nodes = json_array();
	for (size_t i = 0; i < cluster->node_count; i++)
		json_array_append_new(nodes, node_json(cluster, &cluster->nodes[i]));
	reply_json(req, 200,
	           json_pack("{s:s,s:s,s:o}", "cluster", cluster->name, "environment",
	                     cluster->environment, "nodes", nodes));
}

/* A number from 0 to MAX; the reason names the range. */
static int read_number(json_t *value, const char *field, double max, double *out, char *why,
                       size_t why_len)
{
	if (!json_is_number(value) || json_number_value(value) < 0 ||
	    json_number_value(value) > max) {
		snprintf(why, why_len, "%s must be a number from 0 to %g", field, max);
		return -1;
	}
	*out = json_number_value(value);
	return 0;
}

static int read_bool(json_t *value, const char *field, int *out, char *why, size_t why_len)
{
	if (!json_is_boolean(value)) {
		snprintf(why, why_len, "%s must be true or false", field);
		return -1;
	}
	*out = json_is_true(value);
	return 0;
}

static int read_string(json_t *value, const char *field, const char **out, char *why,
                       size_t why_len)
{
	if (!json_is_string(value) || json_string_length(value) == 0 ||
	    json_string_length(value) > 63) {
		snprintf(why, why_len, "%s must be a string of 1 to 63 characters", field);
		return -1;
	}
	*out = json_string_value(value);
	return 0;
}

/*
 * One parser per field of a POST body: each checks VALUE and records it in
 * CHANGE, or says why in WHY and returns -1.
 */
typedef int field_parse_fn(const char *field, json_t *value, struct node_change *change, char *why,
                           size_t why_len);

static int parse_version(const char *field, json_t *value, struct node_change *change, char *why,
                         size_t why_len)
{
	return read_string(value, field, &change->version, why, why_len);
}

static int parse_state(const char *field, json_t *value, struct node_change *change, char *why,
                       size_t why_len)
{
	const char *text;
	if (read_string(value, field, &text, why, why_len) != 0)
		return -1;
	if (sim_state_parse(text, &change->state) != 0) {
		snprintf(why, why_len, "state must be ACTIVE, DRAINING, DRAINED or SHUTTING_DOWN");
		return -1;
	}
	change->has_state = true;
	return 0;
}

static int parse_fail_ratio(const char *field, json_t *value, struct node_change *change, char *why,
                            size_t why_len)
{
	change->has_fail_ratio = true;
	return read_number(value, field, 1, &change->fail_ratio, why, why_len);
}

static int parse_user_error_ratio(const char *field, json_t *value, struct node_change *change,
                                  char *why, size_t why_len)
{
	change->has_user_error_ratio = true;
	return read_number(value, field, 1, &change->user_error_ratio, why, why_len);
}

static int parse_error_type(const char *field, json_t *value, struct node_change *change, char *why,
                            size_t why_len)
{
	const char *text;
	if (read_string(value, field, &text, why, why_len) != 0)
		return -1;
	if (sim_error_type_parse(text, &change->error_type) != 0) {
		snprintf(why, why_len,
		         "error_type must be USER_ERROR, INTERNAL_ERROR, "
		         "EXTERNAL or INSUFFICIENT_RESOURCES");
		return -1;
	}
	change->has_error_type = true;
	return 0;
}

static int parse_qps(const char *field, json_t *value, struct node_change *change, char *why,
                     size_t why_len)
{
	change->has_qps = true;
	return read_number(value, field, 100000, &change->qps, why, why_len);
}

static int parse_down(const char *field, json_t *value, struct node_change *change, char *why,
                      size_t why_len)
{
	return read_bool(value, field, &change->down, why, why_len);
}

static int parse_hang(const char *field, json_t *value, struct node_change *change, char *why,
                      size_t why_len)
{
	return read_bool(value, field, &change->hang, why, why_len);
}

static int parse_hidden(const char *field, json_t *value, struct node_change *change, char *why,
                        size_t why_len)
{
	return read_bool(value, field, &change->hidden, why, why_len);
}

static int parse_starting(const char *field, json_t *value, struct node_change *change, char *why,
                          size_t why_len)
{
	return read_bool(value, field, &change->starting, why, why_len);
}

static int parse_restart(const char *field, json_t *value, struct node_change *change, char *why,
                         size_t why_len)
{
	int restart;
	if (read_bool(value, field, &restart, why, why_len) != 0)
		return -1;
	change->restart = restart;
	return 0;
}

static int parse_slow_ms(const char *field, json_t *value, struct node_change *change, char *why,
                         size_t why_len)
{
	(void)field;
	if (!json_is_integer(value) || json_integer_value(value) < 0 ||
	    json_integer_value(value) > 600000) {
		snprintf(why, why_len, "slow_ms must be an integer from 0 to 600000");
		return -1;
	}
	change->has_slow_ms = true;
	change->slow_ms = json_integer_value(value);
	return 0;
}

static int parse_counters(const char *field, json_t *value, struct node_change *change, char *why,
                          size_t why_len)
{
	(void)field;
	if (!json_is_string(value) ||
	    sim_counters_mode_parse(json_string_value(value), &change->counters) != 0) {
		snprintf(why, why_len, "counters must be \"ok\", \"401\", \"403\" or \"404\"");
		return -1;
	}
	change->has_counters = true;
	return 0;
}

static int parse_config_set(const char *field, json_t *value, struct node_change *change, char *why,
                            size_t why_len)
{
	(void)field;
	json_t *file = json_object_get(value, "file");
	json_t *key = json_object_get(value, "key");
	json_t *val = json_object_get(value, "value");
	if (!json_is_object(value) || !json_is_string(file) || !json_is_string(key) ||
	    !json_is_string(val) || json_object_size(value) != 3) {
		snprintf(why, why_len,
		         "config_set must be {\"file\":..., \"key\":..., "
		         "\"value\":...} with strings");
		return -1;
	}
	change->config_file = json_string_value(file);
	change->config_key = json_string_value(key);
	change->config_value = json_string_value(val);
	return 0;
}

static const struct {
	const char *name;
	field_parse_fn *parse;
} change_fields[] = {
        {"version", parse_version},
        {"state", parse_state},
        {"fail_ratio", parse_fail_ratio},
        {"user_error_ratio", parse_user_error_ratio},
        {"error_type", parse_error_type},
        {"qps", parse_qps},
        {"down", parse_down},
        {"hang", parse_hang},
        {"hidden", parse_hidden},
        {"starting", parse_starting},
        {"restart", parse_restart},
        {"slow_ms", parse_slow_ms},
        {"counters", parse_counters},
        {"config_set", parse_config_set},
};

/* Checks one field of a POST body into CHANGE. */
static int parse_field(const char *field, json_t *value, struct node_change *change, char *why,
                       size_t why_len)
{
	for (size_t i = 0; i < sizeof(change_fields) / sizeof(change_fields[0]); i++)
		if (strcmp(field, change_fields[i].name) == 0)
			return change_fields[i].parse(field, value, change, why, why_len);
	snprintf(why, why_len, "unknown field '%s'", field);
	return -1;
}

/* Checks that CHANGE makes sense for NODE as a whole. */
static int check_change(const struct sim_cluster *cluster, const struct sim_node *node,
                        const struct node_change *change, char *why, size_t why_len)
{
	bool traffic = change->has_fail_ratio || change->has_error_type ||
	               change->has_user_error_ratio || change->has_qps;
	if (traffic && !node->coordinator) {
		snprintf(why, why_len, "%s is a worker: queries run on the coordinator", node->id);
		return -1;
	}
	double fail = change->has_fail_ratio ? change->fail_ratio : cluster->fail_ratio;
	double user =
	        change->has_user_error_ratio ? change->user_error_ratio : cluster->user_error_ratio;
	if (fail + user > 1.0) {
		snprintf(why, why_len, "fail_ratio + user_error_ratio must not exceed 1");
		return -1;
	}
	const char *version = change->version != NULL ? change->version : node->version;
	if (change->has_state &&
	    (change->state == SIM_STATE_DRAINING || change->state == SIM_STATE_DRAINED)) {
		if (sim_version_number(version) < 468) {
			snprintf(why, why_len, "%s needs Trino 468 or later (the node runs %s)",
			         sim_state_name(change->state), version);
			return -1;
		}
		if (node->coordinator) {
			snprintf(why, why_len, "a coordinator cannot be %s",
			         sim_state_name(change->state));
			return -1;
		}
	}
	if (change->config_file != NULL) {
		char path[1024];
		struct stat st;
		snprintf(path, sizeof(path), "%s/%s", node->etc_dir, change->config_file);
		if (node->etc_dir[0] == '\0' || strstr(change->config_file, "..") != NULL ||
		    stat(path, &st) != 0 || !S_ISREG(st.st_mode)) {
			snprintf(why, why_len, "config_set: no file '%s' in %s's etc dir",
			         change->config_file, node->id);
			return -1;
		}
	}
	return 0;
}

static int apply_change(struct sim_server *server, struct sim_node *node,
                        const struct node_change *change, char *why, size_t why_len)
{
	struct sim_cluster *cluster = server->cluster;
	int64_t now = sim_now_ms();
	/* The only step that can fail on I/O goes first, so failing changes nothing. */
	if (change->config_file != NULL &&
	    sim_etc_set(node, change->config_file, change->config_key, change->config_value, why,
	                why_len) != 0)
		return -1;
	if (change->down >= 0 && sim_http_set_down(server, node, change->down, why, why_len) != 0)
		return -1;
	sim_cluster_advance(cluster, now); /* count what happened under the old settings */
	if (change->version != NULL)
		snprintf(node->version, sizeof(node->version), "%s", change->version);
	if (change->has_state)
		node->state = change->state;
	if (change->has_fail_ratio)
		cluster->fail_ratio = change->fail_ratio;
	if (change->has_error_type)
		cluster->error_type = change->error_type;
	if (change->has_user_error_ratio)
		cluster->user_error_ratio = change->user_error_ratio;
	if (change->has_qps)
		sim_cluster_set_qps(cluster, change->qps, now);
	if (change->has_slow_ms)
		node->slow_ms = change->slow_ms;
	if (change->has_counters)
		node->counters_mode = change->counters;
	if (change->hang >= 0) {
		node->hang = change->hang;
		if (!node->hang)
			sim_http_release(server, node);
	}
	if (change->hidden >= 0)
		node->hidden = change->hidden;
	if (change->starting >= 0)
		node->starting = change->starting;
	if (change->restart) {
		sim_http_release(server, node);
		sim_node_restart(cluster, node, now);
		if (node->coordinator && server->queries != NULL)
			sim_queries_clear(server->queries); /* a new JVM knows no query */
	}
	return 0;
}

static void serve_change(struct evhttp_request *req, struct sim_server *server, const char *node_id)
{
	struct sim_node *node = sim_cluster_find(server->cluster, node_id);
	if (node == NULL) {
		char why[200];
		snprintf(why, sizeof(why), "no node '%s' in this cluster", node_id);
		reply_error(req, 404, why);
		return;
	}
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	size_t len = evbuffer_get_length(in);
	char *text = malloc(len + 1);
	if (text == NULL) {
		reply_error(req, 500, "out of memory");
		return;
	}
	evbuffer_remove(in, text, len);
	text[len] = '\0';
	json_error_t json_error;
	json_t *body = json_loads(text, 0, &json_error);
	free(text);
	char why[512];
	if (body == NULL || !json_is_object(body)) {
		snprintf(why, sizeof(why), "body must be a JSON object: %s",
		         body == NULL ? json_error.text : "not an object");
		json_decref(body);
		reply_error(req, 400, why);
		return;
	}
	struct node_change change = {.down = -1, .hang = -1, .hidden = -1, .starting = -1};
	const char *field;
	json_t *value;
	json_object_foreach(body, field, value)
	{
		if (parse_field(field, value, &change, why, sizeof(why)) != 0) {
			json_decref(body);
			reply_error(req, 400, why);
			return;
		}
	}
	if (check_change(server->cluster, node, &change, why, sizeof(why)) != 0 ||
	    apply_change(server, node, &change, why, sizeof(why)) != 0) {
		json_decref(body);
		reply_error(req, 400, why);
		return;
	}
	json_decref(body);
	reply_json(req, 200, node_json(server->cluster, node));
}

static void on_control_request(struct evhttp_request *req, void *arg)
{
	struct sim_server *server = arg;
	const char *path = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req));
	enum evhttp_cmd_type method = evhttp_request_get_command(req);
	if (path != NULL && strcmp(path, "/control") == 0 && method == EVHTTP_REQ_GET) {
		serve_overview(req, server);
	} else if (path != NULL && strncmp(path, "/control/", 9) == 0 &&
	           method == EVHTTP_REQ_POST) {
		char *node_id = evhttp_uridecode(path + 9, 0, NULL);
		serve_change(req, server, node_id != NULL ? node_id : "");
		free(node_id);
	} else {
		reply_error(req, 404, "use GET /control or POST /control/<node-id>");
	}
}

struct evhttp *sim_control_start(struct sim_server *server, int port, char *err, size_t err_len)
{
	struct evhttp *http = evhttp_new(server->base);
	if (http == NULL) {
		snprintf(err, err_len, "evhttp_new failed");
		return NULL;
	}
	evhttp_set_max_body_size(http, 64 * 1024);
	evhttp_set_allowed_methods(http, EVHTTP_REQ_GET | EVHTTP_REQ_POST);
	evhttp_set_gencb(http, on_control_request, server);
	if (evhttp_bind_socket_with_handle(http, "127.0.0.1", (ev_uint16_t)port) == NULL) {
		snprintf(err, err_len, "control API: cannot listen on 127.0.0.1:%d", port);
		evhttp_free(http);
		return NULL;
	}
	return http;
}
