/*
 * trino-sim's HTTP side: one evhttp server per simulated node on its own
 * loopback port, answering Trino's endpoints with the shapes of the version
 * the node pretends to be, and carrying out the down/hang/slow faults.
 */
#ifndef TG_SIM_HTTP_H
#define TG_SIM_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "sim_model.h"

struct event_base;
struct evhttp;
struct evhttp_request;
struct sim_deferred;
struct sim_server;

struct sim_node_http {
	struct sim_server *server;
	struct sim_node *node;
	struct evhttp *http;           /* NULL while the node is down */
	struct sim_deferred *deferred; /* requests held by hang or slow_ms */
};

struct sim_queries;

struct sim_server {
	struct event_base *base;
	struct sim_cluster *cluster;
	struct sim_queries *queries; /* the statement protocol's queries (sim_query.h) */
	struct sim_node_http nodes[SIM_MAX_NODES];
};

/* The sim's monotonic clock in milliseconds. */
int64_t sim_now_ms(void);

/* Answers REQ with CODE, REASON and BODY as CONTENT_TYPE (500 when out of memory). */
void sim_http_send_text(struct evhttp_request *req, int code, const char *reason,
                        const char *content_type, const char *body);

/* Answers REQ 200 with VALUE as compact JSON; takes VALUE's reference. */
void sim_http_send_json(struct evhttp_request *req, json_t *value);

/* Binds every node's port on 127.0.0.1. 0, or -1 with a reason in ERR. */
int sim_http_start(struct sim_server *server, struct event_base *base, struct sim_cluster *cluster,
                   char *err, size_t err_len);

/* Takes a node's port down (connection refused) or brings it back. */
int sim_http_set_down(struct sim_server *server, struct sim_node *node, bool down, char *err,
                      size_t err_len);

/* Answers 503 to every request a node is holding (hang ended, restart, shutdown). */
void sim_http_release(struct sim_server *server, struct sim_node *node);

void sim_http_stop(struct sim_server *server);

#endif
