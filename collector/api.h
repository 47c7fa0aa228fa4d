/*
 * The collector's HTTP API on evhttp: GET /healthz, /v1/status, /v1/nodes,
 * /v1/events?after_id=ID&since_time=TIME&limit=N, /metrics; POST /v1/cutover,
 * /v1/cutover/confirm, /v1/rollback, /v1/pause, /v1/resume. Answers are JSON (metrics: the
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
