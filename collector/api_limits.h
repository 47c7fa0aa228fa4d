/*
 * Bounds on the API's connections, so slow or idle clients cannot take the
 * descriptors the load balancer and the state dir need: at most
 * [api] max_connections open (the listener pauses at the cap, clients wait in
 * the kernel's backlog); each connection closed [api] request_timeout after it
 * was accepted, however it trickles bytes; a reserve of descriptors below
 * RLIMIT_NOFILE that accepting never eats into; and accept() errors
 * (EMFILE) pause the listener instead of spinning on it, logged within a limit.
 */
#ifndef TG_API_LIMITS_H
#define TG_API_LIMITS_H

#include <stddef.h>
#include <stdint.h>

struct event_base;
struct evhttp;
struct evconnlistener;
struct api_limits;

/* Descriptors kept free for the LB, the state dir and the alert sinks. */
#define API_FD_RESERVE 64

struct api_limits_stats {
	uint64_t open;        /* connections open now */
	uint64_t accepted;    /* connections accepted since start */
	uint64_t cap_reached; /* times the listener paused at max_connections */
	uint64_t timed_out;   /* connections closed at request_timeout */
	uint64_t
	        reserve_closed; /* connections closed at once: the descriptor reserve was reached */
	uint64_t accept_errors; /* accept() failures (EMFILE, ENFILE, ENOBUFS) */
	uint64_t log_suppressed; /* log lines of these kinds held back */
	int64_t max_connections;
};

/*
 * Puts HTTP's connections under the limits; LISTENER is the one HTTP accepts
 * on. NULL with ERR. The limits must be freed before HTTP.
 */
struct api_limits *api_limits_new(struct event_base *base, struct evhttp *http,
                                  struct evconnlistener *listener, int64_t max_connections,
                                  int64_t request_timeout_ms, char *err, size_t err_len);
void api_limits_free(struct api_limits *limits);

const struct api_limits_stats *api_limits_stats(const struct api_limits *limits);

#endif
