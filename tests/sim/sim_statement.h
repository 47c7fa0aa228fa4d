/*
 * trino-sim's statement endpoints (docs/DESIGN.md §10): POST /v1/statement,
 * GET and DELETE of /v1/statement/queued/... and /v1/statement/executing/...,
 * DELETE of /v1/statement/partialCancel/..., answered on the coordinator from
 * the query model of sim_query.c, with Trino's long poll.
 */
#ifndef TG_SIM_STATEMENT_H
#define TG_SIM_STATEMENT_H

#include <stdbool.h>

#include "sim_query.h"

struct event_base;
struct evhttp_request;

/* Whether PATH is one of the statement endpoints. */
bool sim_statement_path(const char *path);

/* Answers REQ for PATH now or after a long poll on BASE. */
void sim_statement_serve(struct evhttp_request *req, const char *path, struct sim_queries *queries,
                         struct event_base *base);

/* Trino's numeric code of the error code NAME ("USER_CANCELED": 3). */
int sim_error_code_of(const char *name);

/* Answers every held poll (a coordinator restart or shutdown). */
void sim_statement_release(void);

#endif
