/*
 * GET /metrics: the collector's state in the Prometheus text format, every
 * name prefixed trino_guard_.
 */
#ifndef TG_METRICS_H
#define TG_METRICS_H

#include "clock.h"
#include "collector.h"

struct evbuffer;

/* Appends the exposition to OUT. */
void metrics_write(const struct collector *collector, struct clock_now now, struct evbuffer *out);

/* The bounds and what hit them (metrics_limits.c): API connections, agent
 * connections, rate-limited reports' and log lines' counters. */
void metrics_write_limits(const struct collector *collector, struct evbuffer *out);

#endif
