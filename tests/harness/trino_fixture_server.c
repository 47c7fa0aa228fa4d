/*
 * trino-fixture-server: answers HTTP on 127.0.0.1 with the raw fixtures of
 * tests/fixtures/trino/, one per path, so the agent can be pointed at exactly
 * what a given Trino release serves. Every request line is appended to the log.
 *
 * usage: trino-fixture-server PORT LOG PATH=FILE...   (split at the last =; unknown
 *        paths: 404)
 */
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "trino_fixture.h"

#define MAX_ROUTES 32

struct route {
	char path[256];
	struct trino_fixture fixture;
};

struct server {
	struct route routes[MAX_ROUTES];
	size_t route_count;
	FILE *log;
};

static void add_headers(struct evhttp_request *req, const struct trino_fixture *fixture)
{
	struct evkeyvalq *out = evhttp_request_get_output_headers(req);
	if (fixture->content_type[0] != '\0')
		evhttp_add_header(out, "Content-Type", fixture->content_type);
	char headers[sizeof(fixture->headers)];
	snprintf(headers, sizeof(headers), "%s", fixture->headers);
	for (char *line = strtok(headers, "\n"); line != NULL; line = strtok(NULL, "\n")) {
		char *colon = strstr(line, ": ");
		if (colon == NULL)
			continue;
		*colon = '\0';
		evhttp_add_header(out, line, colon + 2);
	}
}

/* Every request: the fixture of its path, or 404. */
static void on_request(struct evhttp_request *req, void *arg)
{
	struct server *server = arg;
	const char *uri = evhttp_request_get_uri(req);
	fprintf(server->log, "GET %s\n", uri);
	fflush(server->log);
	const char *raw_path = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req));
	char *path = raw_path != NULL ? evhttp_uridecode(raw_path, 0, NULL) : NULL;
	struct evbuffer *body = evbuffer_new();
	for (size_t i = 0; path != NULL && body != NULL && i < server->route_count; i++) {
		const struct route *route = &server->routes[i];
		if (strcmp(route->path, path) != 0)
			continue;
		add_headers(req, &route->fixture);
		evbuffer_add(body, route->fixture.body, route->fixture.body_len);
		evhttp_send_reply(req, route->fixture.status, route->fixture.reason, body);
		evbuffer_free(body);
		free(path);
		return;
	}
	free(path);
	if (body != NULL)
		evbuffer_free(body);
	evhttp_send_error(req, 404, "Not Found");
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
	(void)sig;
	(void)what;
	event_base_loopbreak(arg);
}

int main(int argc, char **argv)
{
	static struct server server;
	if (argc < 4) {
		fprintf(stderr, "usage: trino-fixture-server PORT LOG PATH=FILE...\n");
		return 2;
	}
	for (int i = 3; i < argc && server.route_count < MAX_ROUTES; i++) {
		struct route *route = &server.routes[server.route_count++];
		const char *eq = strrchr(argv[i], '='); /* object names hold '=' */
		char err[256];
		if (eq == NULL || (size_t)(eq - argv[i]) >= sizeof(route->path)) {
			fprintf(stderr, "trino-fixture-server: '%s' is not PATH=FILE\n", argv[i]);
			return 2;
		}
		snprintf(route->path, sizeof(route->path), "%.*s", (int)(eq - argv[i]), argv[i]);
		if (trino_fixture_load(NULL, eq + 1, &route->fixture, err, sizeof(err)) != 0) {
			fprintf(stderr, "trino-fixture-server: %s\n", err);
			return 2;
		}
	}
	server.log = fopen(argv[2], "a");
	struct event_base *base = event_base_new();
	struct evhttp *http = base != NULL ? evhttp_new(base) : NULL;
	if (server.log == NULL || http == NULL ||
	    evhttp_bind_socket(http, "127.0.0.1", (ev_uint16_t)atoi(argv[1])) != 0) {
		fprintf(stderr, "trino-fixture-server: cannot listen on 127.0.0.1:%s\n", argv[1]);
		return 1;
	}
	evhttp_set_gencb(http, on_request, &server);
	struct event *term = evsignal_new(base, SIGTERM, on_signal, base);
	if (term == NULL || evsignal_add(term, NULL) != 0)
		return 1;
	event_base_dispatch(base);
	event_free(term);
	evhttp_free(http);
	event_base_free(base);
	for (size_t i = 0; i < server.route_count; i++)
		trino_fixture_cleanup(&server.routes[i].fixture);
	fclose(server.log);
	return 0;
}
