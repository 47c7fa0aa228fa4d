/*
 * The haproxy load-balancer driver, map mode (docs/DESIGN.md §7): haproxy.cfg routes
 * with `use_backend %[str(<key>),map(<map_file>,<default>)]`; a switch is one
 * `set map <map_file> <key> <backend>` per HAProxy instance, verified with
 * `get map`, after checking the target backend has a server UP; then the map
 * file on disk is rewritten atomically so a reload keeps the decision. The
 * runtime switch is the decision: a map file that cannot be written is a
 * warning of its own (on_warning), never a failed switch.
 * Asynchronous: nothing here blocks the loop but that rewrite (a small file
 * and two fsyncs, once per switch, from its own event; see lb_haproxy.c).
 */
#ifndef TG_LB_HAPROXY_H
#define TG_LB_HAPROXY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lb.h"

struct event_base;
struct lb_haproxy;

#define LB_MAX_INSTANCES 8
#define LB_MAX_BACKENDS  16

struct lb_haproxy_settings {
	const char *sockets[LB_MAX_INSTANCES]; /* runtime API: a path or host:port each */
	size_t socket_count;
	const char *map;      /* the map as the runtime API names it; NULL: map_file */
	const char *map_file; /* rewritten after each switch; NULL: runtime changes only */
	/*
	 * Or one map file per instance, in the order of sockets (two HAProxy
	 * processes on one host, each with its own file): each is rewritten, and
	 * names that instance's runtime map unless map is set. Count 0: none.
	 */
	const char *map_files[LB_MAX_INSTANCES];
	size_t map_file_count;
	const char *key;          /* the map key haproxy.cfg looks up, e.g. "active" */
	const char *query_id_map; /* coordinator id -> backend (lb_haproxy_routes.h); NULL: off */
	struct {
		const char *cluster;
		const char *backend;
	} backends[LB_MAX_BACKENDS];
	size_t backend_count;
	int64_t timeout_ms;   /* per command */
	int retries;          /* extra attempts per instance, with doubling backoff */
	lb_retry_fn on_retry; /* optional */
	void *on_retry_arg;   /* also given to on_warning */
	/* a switch worked but the map file could not be rewritten (optional) */
	lb_note_fn on_warning;
};

struct lb_haproxy *lb_haproxy_new(struct event_base *base,
                                  const struct lb_haproxy_settings *settings, char *err,
                                  size_t err_len);
void lb_haproxy_free(struct lb_haproxy *lb);

/* Switches every instance to CLUSTER's backend. One switch at a time. */
void lb_haproxy_switch(struct lb_haproxy *lb, const char *cluster, lb_switch_done_fn done,
                       void *arg);

/* Reads where the LB points now (the first instance that answers). */
void lb_haproxy_current(struct lb_haproxy *lb, lb_current_done_fn done, void *arg);

/* The driver behind the generic interface. A failed switch names every instance
 * that failed ("partial switch" when some did not). */
struct lb_driver lb_haproxy_driver(struct lb_haproxy *lb);

/*
 * [lb] driver = haproxy, configured by [lb.haproxy] (lb_haproxy_config.c):
 * its row in the driver table (lb_drivers.c).
 */
extern const struct lb_driver_type lb_haproxy_type;

#endif
