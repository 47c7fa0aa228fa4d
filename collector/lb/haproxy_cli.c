/*
 * The runtime API client: a bufferevent per command. HAProxy closes the
 * connection after answering a non-interactive command, so EOF ends the
 * answer; a timeout or a connection error fails it.
 */
#include "haproxy_cli.h"

#include <arpa/inet.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

#define HAPROXY_MAX_ANSWER (4 * 1024 * 1024)

struct haproxy_request {
	struct bufferevent *bev;
	struct evbuffer *answer;
	haproxy_done_fn done;
	void *arg;
	char address[256];
};

static void finish(struct haproxy_request *request, const char *error)
{
	haproxy_done_fn done = request->done;
	void *arg = request->arg;
	char *output = NULL;
	char why[512] = "";
	if (error == NULL) {
		size_t len = evbuffer_get_length(request->answer);
		output = malloc(len + 1);
		if (output != NULL) {
			evbuffer_remove(request->answer, output, len);
			output[len] = '\0';
		} else {
			error = "out of memory";
		}
	}
	if (error != NULL)
		snprintf(why, sizeof(why), "HAProxy %s: %s", request->address, error);
	haproxy_cancel(request);
	done(output, error != NULL ? why : NULL, arg);
	free(output);
}

/* The answer grew. */
static void on_read(struct bufferevent *bev, void *arg)
{
	struct haproxy_request *request = arg;
	evbuffer_add_buffer(request->answer, bufferevent_get_input(bev));
	if (evbuffer_get_length(request->answer) > HAPROXY_MAX_ANSWER)
		finish(request, "answer too large");
}

/* Connected, closed, failed or timed out. */
static void on_event(struct bufferevent *bev, short what, void *arg)
{
	struct haproxy_request *request = arg;
	if (what & BEV_EVENT_CONNECTED)
		return;
	if (what & BEV_EVENT_EOF) {
		evbuffer_add_buffer(request->answer, bufferevent_get_input(bev));
		finish(request, NULL);
	} else if (what & BEV_EVENT_TIMEOUT) {
		finish(request, "timed out");
	} else {
		char why[300];
		snprintf(why, sizeof(why), "%s",
		         evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
		finish(request, why);
	}
}

static int resolve(const char *address, struct sockaddr_storage *out, int *len)
{
	memset(out, 0, sizeof(*out));
	if (address[0] == '/' || strncmp(address, "unix:", 5) == 0) {
		const char *path = address[0] == '/' ? address : address + 5;
		struct sockaddr_un *un = (struct sockaddr_un *)out;
		if (strlen(path) >= sizeof(un->sun_path))
			return -1;
		un->sun_family = AF_UNIX;
		memcpy(un->sun_path, path, strlen(path) + 1);
		*len = (int)sizeof(*un);
		return 0;
	}
	*len = (int)sizeof(*out);
	return evutil_parse_sockaddr_port(address, (struct sockaddr *)out, len);
}

struct haproxy_request *haproxy_command(struct event_base *base, const char *address,
                                        const char *command, int64_t timeout_ms,
                                        haproxy_done_fn done, void *arg, char *err, size_t err_len)
{
	struct sockaddr_storage sa;
	int sa_len;
	if (resolve(address, &sa, &sa_len) != 0) {
		snprintf(err, err_len, "HAProxy socket '%s' is neither a path nor host:port",
		         address);
		return NULL;
	}
	struct haproxy_request *request = calloc(1, sizeof(*request));
	if (request == NULL) {
		snprintf(err, err_len, "out of memory");
		return NULL;
	}
	snprintf(request->address, sizeof(request->address), "%s", address);
	request->done = done;
	request->arg = arg;
	request->answer = evbuffer_new();
	request->bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
	if (request->answer == NULL || request->bev == NULL) {
		snprintf(err, err_len, "out of memory");
		haproxy_cancel(request);
		return NULL;
	}
	struct timeval tv = {.tv_sec = timeout_ms / 1000, .tv_usec = (timeout_ms % 1000) * 1000};
	bufferevent_set_timeouts(request->bev, &tv, &tv);
	bufferevent_setcb(request->bev, on_read, NULL, on_event, request);
	bufferevent_enable(request->bev, EV_READ | EV_WRITE);
	/* one line; HAProxy answers, then closes */
	if (bufferevent_write(request->bev, command, strlen(command)) != 0 ||
	    bufferevent_write(request->bev, "\n", 1) != 0 ||
	    bufferevent_socket_connect(request->bev, (struct sockaddr *)&sa, sa_len) != 0) {
		/* a refused unix socket fails here at once; report it from the loop */
		snprintf(err, err_len, "HAProxy %s: cannot connect", address);
		haproxy_cancel(request);
		return NULL;
	}
	return request;
}

void haproxy_cancel(struct haproxy_request *request)
{
	if (request == NULL)
		return;
	if (request->bev != NULL)
		bufferevent_free(request->bev);
	if (request->answer != NULL)
		evbuffer_free(request->answer);
	free(request);
}
