/*
 * The collector's HTTP API on evhttp: GET /healthz, /v1/status, /v1/nodes,
 * /v1/events?since=ID&limit=N, /metrics. Answers are JSON (metrics: the
 * Prometheus text format); errors are JSON objects {"error": "..."}.
 */
#ifndef TG_API_H
#define TG_API_H

#include <stddef.h>

#include "collector.h"

struct evhttp;

/* Binds [api] listen. Returns the server, or NULL with ERR. */
struct evhttp *api_start(struct collector *collector, char *err, size_t err_len);

#endif
