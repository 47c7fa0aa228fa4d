/*
 * pager-sim: a stand-in pager. On "/" it takes trino-guard's webhook alerts
 * and prints each one as a line, the way the person on call would read it
 * (the demo). On /v2/enqueue and /v2/change/enqueue it is a PagerDuty that
 * checks the conventions (reference: protocols.md §2, PagerDuty's Events
 * and Change Events API v2): an event has an event_action and a dedup_key, a
 * change has neither, both carry a routing key, a summary and links, and a
 * runbook link when REQUIRE_RUNBOOK. It keeps PagerDuty's incidents (a
 * trigger opens one per dedup key unless open, a resolve closes it) and
 * answers GET /state with what it saw:
 *   {"incidents": [{"dedup_key", "open", "triggers", "class"}],
 *    "changes": [{"summary", "change"}], "violations": ["..."]}
 *
 *   pager-sim PORT [REQUIRE_RUNBOOK]
 */
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static json_t *incidents, *changes, *violations;
static int require_runbook;

static const char *text_of(json_t *object, const char *name)
{
	const char *text = json_string_value(json_object_get(object, name));
	return text != NULL ? text : "";
}

/* The request's body as JSON, or NULL after answering 400. */
static json_t *read_json(struct evhttp_request *req)
{
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	size_t len = evbuffer_get_length(in);
	char *body = malloc(len + 1);
	if (body == NULL) {
		evhttp_send_reply(req, 500, "out of memory", NULL);
		return NULL;
	}
	evbuffer_remove(in, body, len);
	body[len] = '\0';
	json_t *value = json_loads(body, 0, NULL);
	free(body);
	if (!json_is_object(value)) {
		json_decref(value);
		evhttp_send_reply(req, 400, "not a JSON object", NULL);
		return NULL;
	}
	return value;
}

static void violation(const char *what, json_t *body)
{
	char *text = json_dumps(body, JSON_COMPACT);
	char line[2048];
	snprintf(line, sizeof(line), "%s: %s", what, text != NULL ? text : "?");
	free(text);
	json_array_append_new(violations, json_string(line));
}

/* Links and a runbook, as every payload must carry them. */
static void check_links(json_t *body)
{
	json_t *links = json_object_get(body, "links");
	if (json_array_size(links) == 0) {
		violation("no links", body);
		return;
	}
	if (!require_runbook)
		return;
	size_t i;
	json_t *link;
	bool runbook = false;
	json_array_foreach(links, i, link) runbook =
	        runbook || strstr(text_of(link, "href"), "#") != NULL;
	if (!runbook)
		violation("no runbook link", body);
}

static json_t *incident_of(const char *dedup_key)
{
	size_t i;
	json_t *incident;
	json_array_foreach(
	        incidents, i,
	        incident) if (strcmp(text_of(incident, "dedup_key"), dedup_key) == 0 &&
	                      json_is_true(json_object_get(incident, "open"))) return incident;
	return NULL;
}

static void on_event(json_t *body)
{
	const char *action = text_of(body, "event_action");
	const char *key = text_of(body, "dedup_key");
	if (text_of(body, "routing_key")[0] == '\0' || key[0] == '\0') {
		violation("an event without routing_key or dedup_key", body);
		return;
	}
	json_t *incident = incident_of(key);
	if (strcmp(action, "resolve") == 0) {
		if (incident != NULL)
			json_object_set_new(incident, "open", json_false());
		return;
	}
	if (strcmp(action, "trigger") != 0) {
		violation("an event_action that is neither trigger nor resolve", body);
		return;
	}
	json_t *payload = json_object_get(body, "payload");
	if (text_of(payload, "summary")[0] == '\0' || text_of(payload, "severity")[0] == '\0')
		violation("a trigger without summary or severity", body);
	check_links(body);
	if (incident == NULL) {
		incident = json_pack("{s:s,s:b,s:i,s:s}", "dedup_key", key, "open", 1, "triggers",
		                     0, "class", text_of(payload, "class"));
		json_array_append_new(incidents, incident);
	}
	json_object_set_new(
	        incident, "triggers",
	        json_integer(json_integer_value(json_object_get(incident, "triggers")) + 1));
	printf("  incident %-8s %s\n           %s\n", text_of(payload, "severity"), key,
	       text_of(payload, "summary"));
}

static void on_change(json_t *body)
{
	json_t *payload = json_object_get(body, "payload");
	if (json_object_get(body, "event_action") != NULL ||
	    json_object_get(body, "dedup_key") != NULL)
		violation("a change event with event_action or dedup_key", body);
	if (text_of(body, "routing_key")[0] == '\0' || text_of(payload, "summary")[0] == '\0')
		violation("a change event without routing_key or summary", body);
	check_links(body);
	json_array_append_new(
	        changes, json_pack("{s:s,s:s}", "summary", text_of(payload, "summary"), "change",
	                           text_of(json_object_get(payload, "custom_details"), "change")));
	printf("  change   %s\n", text_of(payload, "summary"));
}

static void on_webhook(json_t *alert)
{
	const char *state = text_of(alert, "state");
	const char *verb = strcmp(state, "resolved") == 0 ? "RESOLVED"
	                   : strcmp(state, "event") == 0  ? "EVENT"
	                                                  : "FIRING";
	printf("  page %-8s %-8s %s\n           %s\n", verb, text_of(alert, "severity"),
	       text_of(alert, "dedup_key"), text_of(alert, "summary"));
}

static void on_request(struct evhttp_request *req, void *arg)
{
	(void)arg;
	const char *path = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req));
	if (path != NULL && strcmp(path, "/state") == 0) {
		json_t *state = json_pack("{s:O,s:O,s:O}", "incidents", incidents, "changes",
		                          changes, "violations", violations);
		char *text = json_dumps(state, JSON_COMPACT);
		json_decref(state);
		struct evbuffer *out = evbuffer_new();
		if (text == NULL || out == NULL) {
			free(text);
			if (out != NULL)
				evbuffer_free(out);
			evhttp_send_reply(req, 500, "out of memory", NULL);
			return;
		}
		evbuffer_add(out, text, strlen(text));
		free(text);
		evhttp_send_reply(req, 200, "OK", out);
		evbuffer_free(out);
		return;
	}
	json_t *body = read_json(req);
	if (body == NULL)
		return;
	if (path != NULL && strcmp(path, "/v2/enqueue") == 0)
		on_event(body);
	else if (path != NULL && strcmp(path, "/v2/change/enqueue") == 0)
		on_change(body);
	else
		on_webhook(body);
	fflush(stdout);
	json_decref(body);
	/* PagerDuty answers 202 to both APIs */
	evhttp_send_reply(req, path != NULL && strncmp(path, "/v2/", 4) == 0 ? 202 : 200, "OK",
	                  NULL);
}

int main(int argc, char **argv)
{
	if (argc < 2 || argc > 3 || atoi(argv[1]) <= 0 || atoi(argv[1]) > 65535) {
		fprintf(stderr, "usage: pager-sim PORT [REQUIRE_RUNBOOK]\n");
		return 2;
	}
	require_runbook = argc == 3 && atoi(argv[2]) != 0;
	incidents = json_array();
	changes = json_array();
	violations = json_array();
	struct event_base *base = event_base_new();
	struct evhttp *http = base != NULL ? evhttp_new(base) : NULL;
	if (http == NULL || incidents == NULL || changes == NULL || violations == NULL ||
	    evhttp_bind_socket(http, "127.0.0.1", (ev_uint16_t)atoi(argv[1])) != 0) {
		fprintf(stderr, "pager-sim: cannot listen on 127.0.0.1:%s\n", argv[1]);
		return 1;
	}
	evhttp_set_gencb(http, on_request, NULL);
	event_base_dispatch(base);
	evhttp_free(http);
	event_base_free(base);
	json_decref(incidents);
	json_decref(changes);
	json_decref(violations);
	return 0;
}
