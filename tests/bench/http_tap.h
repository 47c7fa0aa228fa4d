/*
 * A counting TCP relay for agent_footprint: it listens on a loopback port,
 * forwards every connection to an upstream port and counts the connections,
 * the HTTP requests (request lines sent upstream) and the bytes each way, so
 * the benchmark can say what the agent asks of its Trino coordinator.
 */
#ifndef TG_HTTP_TAP_H
#define TG_HTTP_TAP_H

#include <stddef.h>

struct http_tap;

struct http_tap_totals {
	long long connections;
	long long requests;
	long long bytes_up;   /* client to upstream */
	long long bytes_down; /* upstream to client */
};

/* Listens on 127.0.0.1 (a free port) for UPSTREAM_PORT; NULL with ERR filled. */
struct http_tap *http_tap_start(int upstream_port, char *err, size_t err_len);

int http_tap_port(const struct http_tap *tap);

/* The counts so far. */
void http_tap_totals(struct http_tap *tap, struct http_tap_totals *out);

/* Stops the relay, closes every connection; NULL is a no-op. */
void http_tap_stop(struct http_tap *tap);

#endif
