/*
 * trino-sim's PUT /v1/info/state: a graceful shutdown (or, 468+, a drain)
 * asked of a node, answered as Trino's ServerInfoResource does.
 */
#ifndef TG_SIM_STATE_PUT_H
#define TG_SIM_STATE_PUT_H

#include "sim_model.h"

struct evhttp_request;

/* Answers REQ, a PUT of a bare JSON state string, and moves NODE's state. */
void sim_state_put_serve(struct evhttp_request *req, struct sim_node *node,
                         const struct sim_cluster *cluster);

#endif
