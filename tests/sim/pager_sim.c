/*
 * pager-sim: a stand-in pager for the demo. It accepts trino-guard's
 * webhook alerts on 127.0.0.1 and prints each one as a line, the way the
 * person on call would read it, then answers 200.
 *
 *   pager-sim PORT
 */
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *text_of(json_t *object, const char *name)
{
	const char *text = json_string_value(json_object_get(object, name));
	return text != NULL ? text : "";
}

static void on_alert(struct evhttp_request *req, void *arg)
{
	(void)arg;
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	size_t len = evbuffer_get_length(in);
	char *body = malloc(len + 1);
	if (body == NULL) {
		evhttp_send_reply(req, 500, "out of memory", NULL);
		return;
	}
	evbuffer_remove(in, body, len);
	body[len] = '\0';
	json_t *alert = json_loads(body, 0, NULL);
	free(body);
	if (!json_is_object(alert)) {
		json_decref(alert);
		evhttp_send_reply(req, 400, "not a JSON object", NULL);
		return;
	}
	const char *state = text_of(alert, "state");
	const char *verb = strcmp(state, "resolved") == 0 ? "RESOLVED"
	                   : strcmp(state, "event") == 0  ? "EVENT"
	                                                  : "FIRING";
	printf("  page %-8s %-8s %s\n           %s\n", verb, text_of(alert, "severity"),
	       text_of(alert, "dedup_key"), text_of(alert, "summary"));
	fflush(stdout);
	json_decref(alert);
	evhttp_send_reply(req, 200, "OK", NULL);
}

int main(int argc, char **argv)
{
	if (argc != 2 || atoi(argv[1]) <= 0 || atoi(argv[1]) > 65535) {
		fprintf(stderr, "usage: pager-sim PORT\n");
		return 2;
	}
	struct event_base *base = event_base_new();
	struct evhttp *http = base != NULL ? evhttp_new(base) : NULL;
	if (http == NULL ||
	    evhttp_bind_socket(http, "127.0.0.1", (ev_uint16_t)atoi(argv[1])) != 0) {
		fprintf(stderr, "pager-sim: cannot listen on 127.0.0.1:%s\n", argv[1]);
		return 1;
	}
	evhttp_set_gencb(http, on_alert, NULL);
	event_base_dispatch(base);
	evhttp_free(http);
	event_base_free(base);
	return 0;
}
