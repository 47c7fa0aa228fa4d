/*
 * trino-sim's GET /v1/query on the coordinator: the queries of the statement
 * protocol (sim_query.h) as Trino's QueryResource lists them.
 */
#ifndef TG_SIM_QUERY_LIST_H
#define TG_SIM_QUERY_LIST_H

#include "sim_model.h"
#include "sim_query.h"

struct evhttp_request;

/* Answers REQ with every submitted query, or Trino's 401 without a user. */
void sim_query_list_serve(struct evhttp_request *req, struct sim_queries *queries,
                          const struct sim_cluster *cluster);

#endif
