/*
 * The collector's state as JSON, for GET /v1/status, /v1/nodes and
 * trino-guardctl: per cluster its reference version, version histogram,
 * nodes, open findings and failure ratio.
 */
#ifndef TG_STATUS_H
#define TG_STATUS_H

#include <jansson.h>

#include "collector.h"

#define STATUS_RATIO_WINDOW_MS 60000

/* New JSON object of the whole status at NOW. */
json_t *status_json(const struct collector *collector, struct clock_now now);

/* New JSON array of every node. */
json_t *status_nodes_json(const struct collector *collector, int64_t now_ms);

/* One finding as JSON. */
json_t *status_finding_json(const struct finding *finding);

#endif
