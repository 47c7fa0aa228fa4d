/*
 * The trino-gateway load-balancer driver (docs/DESIGN.md §7; trinodb/trino-gateway's
 * REST resources under /gateway/backend and /api/public/backends): activate
 * the target cluster's backend, wait until a health round newer than the
 * activate says HEALTHY, or the target's agents report it ACTIVE while the
 * gateway says HEALTHY (rules/gateway_activation.h: released gateways do not
 * reset the state on activate), then deactivate the other clusters' backends,
 * and verify with the list of active backends. Queries already running stay
 * on their cluster: the gateway routes by query id.
 */
#ifndef TG_LB_GATEWAY_H
#define TG_LB_GATEWAY_H

#include <stddef.h>
#include <stdint.h>

#include "lb.h"

struct event_base;
struct lb_gateway;

#define LB_GATEWAY_MAX_BACKENDS 16

struct lb_gateway_settings {
	const char *url; /* the gateway, e.g. http://trino-gateway:8080 */
	struct {
		const char *cluster;
		const char *backend;
	} backends[LB_GATEWAY_MAX_BACKENDS];
	size_t backend_count;
	const char *authorization;  /* "Basic ..." or "Bearer ..."; NULL: none */
	int64_t timeout_ms;         /* per request */
	int retries;                /* per request */
	int64_t healthy_timeout_ms; /* how long the target may take to be proven HEALTHY */
	int64_t poll_ms;            /* how often its state is read meanwhile */
	int64_t monitor_round_ms;   /* after an activate, a newer health round is over by then */
	lb_retry_fn on_retry;       /* optional */
	void *on_retry_arg;         /* every hook's */
	lb_note_fn on_note;         /* optional: how the target was proven HEALTHY */
	lb_cluster_ready_fn cluster_ready;    /* optional: the agents' view */
	struct clock_now (*read_clock)(void); /* NULL: clock_read() */
};

struct lb_gateway *lb_gateway_new(struct event_base *base,
                                  const struct lb_gateway_settings *settings, char *err,
                                  size_t err_len);
void lb_gateway_free(struct lb_gateway *lb);
struct lb_driver lb_gateway_driver(struct lb_gateway *lb);

/*
 * [lb] driver = trino-gateway, configured by [lb.trino-gateway]: its row in
 * the driver table (lb_drivers.c).
 */
extern const struct lb_driver_type lb_gateway_type;

#endif
