/*
 * process_* metrics (the names of the Prometheus client libraries' process
 * collector), shared by the collector's and the agent's /metrics.
 */
#ifndef TG_PROCESS_METRICS_H
#define TG_PROCESS_METRICS_H

#include <stdint.h>

struct evbuffer;

/* Appends the families to OUT; those /proc cannot give are left out. */
void process_metrics_write(int64_t started_unix_ms, struct evbuffer *out);

#endif
