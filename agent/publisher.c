/*
 * ZeroMQ publishing for the agent (docs/DESIGN.md §4: after a ZAP refusal
 * libzmq does not reconnect by itself, so the monitor drives it). The monitor's
 * PAIR socket is watched on the libevent loop through its ZMQ_FD, which is
 * edge-triggered: every wake-up drains it until ZMQ_EVENTS says no more.
 */
#include "publisher.h"

#include <errno.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "clock.h"
#include "curve_keys.h"
#include "duration.h"
#include "log.h"

#define RECONNECT_FIRST_MS 1000
#define RECONNECT_MAX_MS   30000
/* A CURVE handshake takes milliseconds; a silent peer is dropped after this (libzmq: 30 s). */
#define HANDSHAKE_MAX_MS 10000

enum endpoint_state {
	ENDPOINT_CONNECTING,
	ENDPOINT_UP,
	ENDPOINT_DOWN,
	ENDPOINT_AUTH_REFUSED,
	ENDPOINT_HANDSHAKE_FAILED,
	ENDPOINT_NO_HANDSHAKE, /* TCP connects, then closes before any handshake */
};

struct endpoint {
	struct publisher *publisher;
	char *address;
	enum endpoint_state state;
	int64_t backoff_ms;
	struct event *reconnect_timer;
	/* connections closed without a handshake since the last good one, and since when */
	unsigned unanswered;
	int64_t unanswered_since_ms;
};

struct publisher {
	struct event_base *base;
	void *context;
	void *socket;
	void *monitor;
	struct event *monitor_event;
	struct event *monitor_resume;
	struct endpoint *endpoints;
	size_t endpoint_count;
	char monitor_address[64];
};

static const char *state_name(enum endpoint_state state)
{
	switch (state) {
	case ENDPOINT_CONNECTING:
		return "connecting";
	case ENDPOINT_UP:
		return "connected";
	case ENDPOINT_DOWN:
		return "not connected (collector down or unreachable); retrying";
	case ENDPOINT_AUTH_REFUSED:
		return "refused by the collector's allow-list (is this agent's public key in "
		       "its allowed_keys_dir?)";
	case ENDPOINT_HANDSHAKE_FAILED:
		return "CURVE handshake failing (wrong server_public_key_file? curve on at one "
		       "end only?)";
	case ENDPOINT_NO_HANDSHAKE:
		return "connected, but no ZeroMQ handshake completes: the peer closes or stays "
		       "silent (is this the collector's listen port? is server_public_key_file "
		       "its key?)";
	}
	return "unknown";
}

/* Logs a state change once, not every retry. */
static void endpoint_set_state(struct endpoint *endpoint, enum endpoint_state state)
{
	if (endpoint->state == state)
		return;
	endpoint->state = state;
	if (state == ENDPOINT_UP)
		log_info("collector %s: connected", endpoint->address);
	else
		log_warn("collector %s: %s", endpoint->address, state_name(state));
}

/* The reconnect timer of one endpoint fired (after an authentication failure). */
static void on_reconnect(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct endpoint *endpoint = arg;
	void *socket = endpoint->publisher->socket;
	zmq_disconnect(socket, endpoint->address);
	if (zmq_connect(socket, endpoint->address) != 0)
		log_error("collector %s: reconnect failed: %s", endpoint->address,
		          zmq_strerror(zmq_errno()));
	else
		log_debug("collector %s: reconnecting", endpoint->address);
}

static void schedule_reconnect(struct endpoint *endpoint)
{
	if (evtimer_pending(endpoint->reconnect_timer, NULL))
		return;
	endpoint->backoff_ms =
	        endpoint->backoff_ms == 0 ? RECONNECT_FIRST_MS : endpoint->backoff_ms * 2;
	if (endpoint->backoff_ms > RECONNECT_MAX_MS)
		endpoint->backoff_ms = RECONNECT_MAX_MS;
	struct timeval tv = {.tv_sec = endpoint->backoff_ms / 1000,
	                     .tv_usec = (endpoint->backoff_ms % 1000) * 1000};
	evtimer_add(endpoint->reconnect_timer, &tv);
}

static struct endpoint *find_endpoint(struct publisher *publisher, const char *address)
{
	for (size_t i = 0; i < publisher->endpoint_count; i++)
		if (strcmp(publisher->endpoints[i].address, address) == 0)
			return &publisher->endpoints[i];
	/* libzmq may report a resolved address; with one endpoint there is no doubt */
	return publisher->endpoint_count == 1 ? &publisher->endpoints[0] : NULL;
}

/*
 * A connection closed before its handshake completed (libzmq reports
 * DISCONNECTED after a failed handshake, a peer that closes, and
 * ZMQ_HANDSHAKE_IVL passing in silence). The first is said by the state
 * change; later ones at the 2nd, 4th, 8th... so a wrong port stays visible
 * without a line per retry.
 */
static void endpoint_unanswered(struct endpoint *endpoint, int64_t now_ms)
{
	if (endpoint->unanswered++ == 0)
		endpoint->unanswered_since_ms = now_ms;
	if (endpoint->state == ENDPOINT_CONNECTING || endpoint->state == ENDPOINT_DOWN) {
		endpoint_set_state(endpoint, ENDPOINT_NO_HANDSHAKE);
		return;
	}
	unsigned n = endpoint->unanswered;
	if (n < 2 || (n & (n - 1)) != 0)
		return;
	char since[32];
	duration_format(now_ms - endpoint->unanswered_since_ms, since, sizeof(since));
	log_warn("collector %s: still %s: %u connections without a handshake in %s",
	         endpoint->address, state_name(endpoint->state), n, since);
}

static void handle_event(struct publisher *publisher, uint16_t event, uint32_t value,
                         const char *address, int64_t now_ms)
{
	struct endpoint *endpoint = find_endpoint(publisher, address);
	if (endpoint == NULL)
		return;
	switch (event) {
	case ZMQ_EVENT_HANDSHAKE_SUCCEEDED:
		endpoint->backoff_ms = 0;
		endpoint->unanswered = 0;
		endpoint_set_state(endpoint, ENDPOINT_UP);
		break;
	case ZMQ_EVENT_HANDSHAKE_FAILED_AUTH:
		/* After a ZAP refusal libzmq never reconnects on its own. */
		endpoint_set_state(endpoint, ENDPOINT_AUTH_REFUSED);
		schedule_reconnect(endpoint);
		break;
	case ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL:
		/* the peer closed or stayed silent for ZMQ_HANDSHAKE_IVL mid-handshake */
		endpoint_set_state(endpoint, ENDPOINT_NO_HANDSHAKE);
		log_debug("collector %s: handshake failure: %s", endpoint->address,
		          strerror((int)value));
		break;
	case ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL:
		endpoint_set_state(endpoint, ENDPOINT_HANDSHAKE_FAILED);
		log_debug("collector %s: handshake failure %u", endpoint->address, value);
		break;
	case ZMQ_EVENT_DISCONNECTED:
		if (endpoint->state == ENDPOINT_UP)
			endpoint_set_state(endpoint, ENDPOINT_DOWN);
		else
			endpoint_unanswered(endpoint, now_ms);
		break;
	case ZMQ_EVENT_CONNECT_RETRIED:
		if (endpoint->state == ENDPOINT_CONNECTING)
			endpoint_set_state(endpoint, ENDPOINT_DOWN);
		break;
	default:
		break;
	}
}

/* The monitor's ZMQ_FD became readable: drain every pending event (edge-triggered). */
static void on_monitor(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct publisher *publisher = arg;
	int64_t now_ms = clock_mono_ms();
	for (int budget = 256; budget > 0; budget--) {
		int events = 0;
		size_t size = sizeof(events);
		if (zmq_getsockopt(publisher->monitor, ZMQ_EVENTS, &events, &size) != 0 ||
		    !(events & ZMQ_POLLIN))
			return;
		zmq_msg_t header, address;
		zmq_msg_init(&header);
		zmq_msg_init(&address);
		if (zmq_msg_recv(&header, publisher->monitor, ZMQ_DONTWAIT) < 0 ||
		    zmq_msg_recv(&address, publisher->monitor, ZMQ_DONTWAIT) < 0) {
			zmq_msg_close(&header);
			zmq_msg_close(&address);
			return;
		}
		if (zmq_msg_size(&header) == 6) {
			uint16_t event;
			uint32_t value;
			const uint8_t *data = zmq_msg_data(&header);
			memcpy(&event, data, 2);
			memcpy(&value, data + 2, 4);
			char endpoint[256];
			size_t len = zmq_msg_size(&address);
			if (len >= sizeof(endpoint))
				len = sizeof(endpoint) - 1;
			memcpy(endpoint, zmq_msg_data(&address), len);
			endpoint[len] = '\0';
			handle_event(publisher, event, value, endpoint, now_ms);
		}
		zmq_msg_close(&header);
		zmq_msg_close(&address);
	}
	/* budget spent: come back after the loop has polled I/O again (an
	 * event_active() here would run again in this same pass) */
	static const struct timeval zero = {0, 0};
	evtimer_add(publisher->monitor_resume, &zero);
}

static int set_int(void *socket, int option, int value)
{
	return zmq_setsockopt(socket, option, &value, sizeof(value));
}

static int setup_curve(void *socket, const struct publish_section *config, char *err,
                       size_t err_len)
{
	char server_public[CURVE_KEY_Z85_LEN + 1], public_key[CURVE_KEY_Z85_LEN + 1],
	        secret_key[CURVE_KEY_Z85_LEN + 1];
	if (curve_key_read_public(config->server_public_key_file, server_public, err, err_len) !=
	            0 ||
	    curve_key_read_public(config->public_key_file, public_key, err, err_len) != 0 ||
	    curve_key_read_secret(config->secret_key_file, secret_key, err, err_len) != 0)
		return -1;
	int rc = zmq_setsockopt(socket, ZMQ_CURVE_SERVERKEY, server_public, 41) ||
	         zmq_setsockopt(socket, ZMQ_CURVE_PUBLICKEY, public_key, 41) ||
	         zmq_setsockopt(socket, ZMQ_CURVE_SECRETKEY, secret_key, 41);
	explicit_bzero(secret_key, sizeof(secret_key));
	if (rc != 0) {
		snprintf(err, err_len, "cannot set CURVE keys: %s", zmq_strerror(zmq_errno()));
		return -1;
	}
	return 0;
}

struct publisher *publisher_new(struct event_base *base, const struct publish_section *config,
                                char *err, size_t err_len)
{
	struct publisher *publisher = calloc(1, sizeof(*publisher));
	if (publisher == NULL) {
		snprintf(err, err_len, "out of memory");
		return NULL;
	}
	publisher->base = base;
	publisher->monitor_resume = evtimer_new(base, on_monitor, publisher);
	publisher->context = zmq_ctx_new();
	publisher->socket = publisher->context ? zmq_socket(publisher->context, ZMQ_PUB) : NULL;
	if (publisher->socket == NULL) {
		snprintf(err, err_len, "cannot create the ZeroMQ socket: %s",
		         zmq_strerror(zmq_errno()));
		goto fail;
	}
	/* A few reports of backlog at most: a newer snapshot replaces an old one.
	 * Heartbeats find a frozen collector (PUB has no acknowledgements); no
	 * HEARTBEAT_TTL, which would arm a timer per agent in the collector. */
	if (set_int(publisher->socket, ZMQ_SNDHWM, 16) ||
	    set_int(publisher->socket, ZMQ_HEARTBEAT_IVL, 1000) ||
	    set_int(publisher->socket, ZMQ_HEARTBEAT_TIMEOUT, 3000) ||
	    set_int(publisher->socket, ZMQ_RECONNECT_IVL, 200) ||
	    set_int(publisher->socket, ZMQ_RECONNECT_IVL_MAX, 5000) ||
	    set_int(publisher->socket, ZMQ_HANDSHAKE_IVL, HANDSHAKE_MAX_MS) ||
	    set_int(publisher->socket, ZMQ_TCP_KEEPALIVE, 1)) {
		snprintf(err, err_len, "cannot set socket options: %s", zmq_strerror(zmq_errno()));
		goto fail;
	}
	if (config->curve && setup_curve(publisher->socket, config, err, err_len) != 0)
		goto fail;

	snprintf(publisher->monitor_address, sizeof(publisher->monitor_address),
	         "inproc://agent-monitor-%p", (void *)publisher);
	if (zmq_socket_monitor(publisher->socket, publisher->monitor_address, ZMQ_EVENT_ALL) != 0 ||
	    (publisher->monitor = zmq_socket(publisher->context, ZMQ_PAIR)) == NULL ||
	    zmq_connect(publisher->monitor, publisher->monitor_address) != 0) {
		snprintf(err, err_len, "cannot monitor the socket: %s", zmq_strerror(zmq_errno()));
		goto fail;
	}
	int monitor_fd;
	size_t fd_size = sizeof(monitor_fd);
	if (zmq_getsockopt(publisher->monitor, ZMQ_FD, &monitor_fd, &fd_size) != 0) {
		snprintf(err, err_len, "ZMQ_FD: %s", zmq_strerror(zmq_errno()));
		goto fail;
	}
	publisher->monitor_event =
	        event_new(base, monitor_fd, EV_READ | EV_PERSIST, on_monitor, publisher);
	if (publisher->monitor_event == NULL || event_add(publisher->monitor_event, NULL) != 0) {
		snprintf(err, err_len, "cannot watch the monitor socket");
		goto fail;
	}

	publisher->endpoints = calloc(config->endpoints.count, sizeof(*publisher->endpoints));
	if (publisher->endpoints == NULL) {
		snprintf(err, err_len, "out of memory");
		goto fail;
	}
	for (size_t i = 0; i < config->endpoints.count; i++) {
		struct endpoint *endpoint = &publisher->endpoints[i];
		endpoint->publisher = publisher;
		endpoint->address = strdup(config->endpoints.items[i]);
		endpoint->reconnect_timer = evtimer_new(base, on_reconnect, endpoint);
		publisher->endpoint_count++;
		if (endpoint->address == NULL || endpoint->reconnect_timer == NULL) {
			snprintf(err, err_len, "out of memory");
			goto fail;
		}
		if (zmq_connect(publisher->socket, endpoint->address) != 0) {
			snprintf(err, err_len, "collector endpoint '%s': %s", endpoint->address,
			         zmq_strerror(zmq_errno()));
			goto fail;
		}
	}
	/* Events may be queued before the first edge. */
	event_active(publisher->monitor_event, EV_READ, 0);
	return publisher;
fail:
	publisher_free(publisher, 0);
	return NULL;
}

int publisher_send(struct publisher *publisher, const uint8_t *data, size_t len)
{
	/* PUB never blocks: a collector at its high-water mark just misses this one. */
	if (zmq_send(publisher->socket, data, len, ZMQ_DONTWAIT) < 0) {
		log_debug("report not queued: %s", zmq_strerror(zmq_errno()));
		return -1;
	}
	return 0;
}

size_t publisher_connected(const struct publisher *publisher)
{
	size_t up = 0;
	for (size_t i = 0; publisher != NULL && i < publisher->endpoint_count; i++)
		up += publisher->endpoints[i].state == ENDPOINT_UP;
	return up;
}

void publisher_free(struct publisher *publisher, int linger_ms)
{
	if (publisher == NULL)
		return;
	for (size_t i = 0; publisher->endpoints != NULL && i < publisher->endpoint_count; i++) {
		if (publisher->endpoints[i].reconnect_timer != NULL)
			event_free(publisher->endpoints[i].reconnect_timer);
		free(publisher->endpoints[i].address);
	}
	free(publisher->endpoints);
	if (publisher->monitor_event != NULL)
		event_free(publisher->monitor_event);
	if (publisher->monitor_resume != NULL)
		event_free(publisher->monitor_resume);
	if (publisher->socket != NULL) {
		zmq_socket_monitor(publisher->socket, NULL, 0);
		set_int(publisher->socket, ZMQ_LINGER, linger_ms);
		zmq_close(publisher->socket);
	}
	if (publisher->monitor != NULL) {
		set_int(publisher->monitor, ZMQ_LINGER, 0);
		zmq_close(publisher->monitor);
	}
	if (publisher->context != NULL)
		zmq_ctx_term(publisher->context);
	free(publisher);
}
