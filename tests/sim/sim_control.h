/*
 * trino-sim's control API: GET /control shows every node and its faults;
 * POST /control/<node-id> with a JSON object injects faults at run time.
 * A bad request gets 400 with a reason and changes nothing.
 */
#ifndef TG_SIM_CONTROL_H
#define TG_SIM_CONTROL_H

#include <stddef.h>

#include "sim_http.h"

struct evhttp;

/* Serves the control API on 127.0.0.1:PORT. Returns the server, or NULL with ERR. */
struct evhttp *sim_control_start(struct sim_server *server, int port, char *err, size_t err_len);

#endif
