/*
 * PUT /v1/info/state (sim_state_put.h). Trino [trinodb/trino
 * core/trino-main/src/main/java/io/trino/server/ServerInfoResource.java@423e8e2f,
 * GracefulShutdownHandler.java@029c93b6; ../shared reference §2 for 468+]:
 * MANAGEMENT_WRITE, so 401 without a user and 403 for a user the access
 * control denies; the body is a bare JSON string. SHUTTING_DOWN on a worker
 * answers 200 with an empty text/plain body and the node says SHUTTING_DOWN
 * from then on (a second request changes nothing); on a coordinator
 * requestShutdown throws "Cannot shutdown coordinator", a 500. ACTIVE is
 * "Invalid state transition to ACTIVE" (400), except from DRAINING or
 * DRAINED on 468+, where it undoes the drain; DRAINING is a worker's on
 * 468+. The real worker then exits after its grace periods; the sim's node
 * stays SHUTTING_DOWN until the control API says otherwise.
 */
#include "sim_state_put.h"

#include <event2/buffer.h>
#include <event2/http.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "sim_http.h"
#include "sim_metrics.h"

/* Reads the bare JSON string of REQ's body into STATE; -1 when it is none. */
static int body_state(struct evhttp_request *req, enum sim_node_state *state, char *name,
                      size_t name_len)
{
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	size_t len = evbuffer_get_length(in);
	const char *body = (const char *)evbuffer_pullup(in, -1);
	json_t *value = body != NULL ? json_loadb(body, len, JSON_DECODE_ANY, NULL) : NULL;
	const char *text = json_string_value(value);
	int rc = text != NULL ? sim_state_parse(text, state) : -1;
	snprintf(name, name_len, "%s", text != NULL ? text : "");
	json_decref(value);
	return rc;
}

/* The answer to a move of NODE to STATE: its status and text; moves it when allowed. */
static int move_state(struct sim_node *node, enum sim_node_state state, char *text, size_t text_len)
{
	bool drains = sim_version_number(node->version) >= 468;
	text[0] = '\0';
	/* nothing to do: a second shutdown before 468, any repeat on 468+ */
	if (state == node->state && (drains || state == SIM_STATE_SHUTTING_DOWN))
		return 200;
	switch (state) {
	case SIM_STATE_SHUTTING_DOWN:
		if (node->coordinator) {
			snprintf(text, text_len, "Cannot shutdown coordinator");
			return 500;
		}
		node->state = state;
		return 200;
	case SIM_STATE_DRAINING:
		if (!drains || node->coordinator)
			break;
		if (node->state != SIM_STATE_ACTIVE)
			break;
		node->state = state;
		return 200;
	case SIM_STATE_ACTIVE:
		if (drains &&
		    (node->state == SIM_STATE_DRAINING || node->state == SIM_STATE_DRAINED)) {
			node->state = state;
			return 200;
		}
		break;
	default:
		break;
	}
	snprintf(text, text_len, "Invalid state transition to %s", sim_state_name(state));
	return 400;
}

void sim_state_put_serve(struct evhttp_request *req, struct sim_node *node,
                         const struct sim_cluster *cluster)
{
	char user[256], name[64], text[128];
	const char *why = NULL;
	if (sim_request_user(req, user, sizeof(user), &why) != 0) {
		sim_http_send_text(req, 401, "Unauthorized", "text/plain", why);
		return;
	}
	if (cluster->management_user[0] != '\0' && strcmp(user, cluster->management_user) != 0) {
		sim_http_send_text(req, 403, "Forbidden", "text/plain", "Management only resource");
		return;
	}
	enum sim_node_state state;
	if (body_state(req, &state, name, sizeof(name)) != 0) {
		snprintf(text, sizeof(text), "Invalid state %s", name[0] != '\0' ? name : "(none)");
		sim_http_send_text(req, 400, "Bad Request", "text/plain", text);
		return;
	}
	int status = move_state(node, state, text, sizeof(text));
	sim_http_send_text(req, status,
	                   status == 200   ? "OK"
	                   : status == 400 ? "Bad Request"
	                                   : "Internal Server Error",
	                   "text/plain", text);
}
