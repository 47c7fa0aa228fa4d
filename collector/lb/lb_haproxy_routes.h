/*
 * The haproxy driver's second map: coordinator id -> backend, which
 * haproxy.cfg uses to send every poll of a query (/v1/statement/queued|
 * executing|partialCancel/<query id>/...) to the cluster that runs it
 * (docs/DESIGN.md §7). Kept current on every instance through the runtime
 * API: `show map`, then one connection with the `add map`, `set map` and
 * `del map` that make it equal to the wanted rows.
 */
#ifndef TG_LB_HAPROXY_ROUTES_H
#define TG_LB_HAPROXY_ROUTES_H

#include <stddef.h>
#include <stdint.h>

#include "lb.h"

#define LB_MAX_ROUTE_INSTANCES 8 /* as LB_MAX_INSTANCES */
#define LB_MAX_ROUTE_BACKENDS  16

struct event_base;
struct lb_haproxy_routes;

/*
 * SOCKETS (COUNT of them) are the instances' runtime API addresses; MAP_FILE
 * the map's file name in haproxy.cfg; CLUSTERS[i] is served by BACKENDS[i].
 * All copied. NULL with ERR when out of memory.
 */
struct lb_haproxy_routes *lb_haproxy_routes_new(struct event_base *base, const char *const *sockets,
                                                size_t count, const char *map_file,
                                                int64_t timeout_ms, const char *const *clusters,
                                                const char *const *backends, size_t backend_count,
                                                char *err, size_t err_len);
void lb_haproxy_routes_free(struct lb_haproxy_routes *routes);

/* The rows wanted now (borrowed); each idle instance starts a sync. */
void lb_haproxy_routes_set(struct lb_haproxy_routes *routes, const struct lb_route *rows,
                           size_t count);

#endif
