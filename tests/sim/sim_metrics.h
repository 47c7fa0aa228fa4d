/*
 * trino-sim's management endpoints: /metrics and the JMX REST resources,
 * answered only to a request that passes the node's management check
 * (its counters fault, then the user Trino's insecure HTTP would see).
 */
#ifndef TG_SIM_METRICS_H
#define TG_SIM_METRICS_H

#include <stddef.h>

#include "sim_model.h"

struct evhttp_request;

/*
 * The user REQ authenticates as, by Trino's insecure-HTTP rules (X-Trino-User,
 * or Basic without a password), into USER. 0, or -1 with Trino's message in WHY.
 */
int sim_request_user(struct evhttp_request *req, char *user, size_t user_len, const char **why);

/* GET /metrics: the QueryManager counters (where the release has them) and gauges in OpenMetrics. */
void sim_metrics_serve_openmetrics(struct evhttp_request *req, struct sim_node *node,
                                   const struct sim_cluster *cluster);

/* GET /v1/jmx/mbean/REST: an MBean, or one attribute's value with REST = "NAME/ATTRIBUTE". */
void sim_metrics_serve_jmx(struct evhttp_request *req, const char *rest, struct sim_node *node,
                           const struct sim_cluster *cluster);

#endif
