/*
 * The load-balancer driver interface (docs/DESIGN.md §7): what a driver is to the
 * config (its [lb.NAME] section, checked, then built into a driver) and to
 * the cutover (switch to a cluster, with verification, and read where the LB
 * points now). Drivers are asynchronous; each callback runs once, from the
 * loop.
 */
#ifndef TG_LB_H
#define TG_LB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "clock.h"

/* OK, or the reason. */
typedef void (*lb_switch_done_fn)(bool ok, const char *error, void *arg);
/* CLUSTER the LB points at (NULL when unknown, with ERROR). */
typedef void (*lb_current_done_fn)(const char *cluster, const char *error, void *arg);
/* Told of every failed attempt that is about to be retried (for the journal). */
typedef void (*lb_retry_fn)(const char *reason, void *arg);
/* Told how a switch in progress decided a step (for the journal). */
typedef void (*lb_note_fn)(const char *note, void *arg);
/*
 * Do CLUSTER's agents report its coordinator ACTIVE in a report received
 * after SINCE_MS (the collector's monotonic clock)?
 */
typedef bool (*lb_cluster_ready_fn)(const char *cluster, int64_t since_ms, void *arg);

/* One backend's health as the LB itself judges it (trino-gateway's trinoStatus). */
struct lb_backend_health {
	const char *cluster;
	const char *backend;
	const char *status; /* "HEALTHY", "PENDING", "UNHEALTHY", "UNKNOWN"; NULL: not read */
	const char *error;  /* why it could not be read, when STATUS is NULL */
};
/* Every configured backend's health; borrowed for the call. */
typedef void (*lb_health_done_fn)(const struct lb_backend_health *backends, size_t count,
                                  void *arg);

struct event;

/*
 * The drivers' shared retry policy, called after a failed attempt: while
 * *ATTEMPT < RETRIES it logs ERROR, tells ON_RETRY (may be NULL), arms TIMER
 * after a doubling backoff (200 ms, 400 ms, 800 ms, ...), counts the attempt
 * and returns true; otherwise returns false and the caller reports failure.
 */
bool lb_retry_later(int *attempt, int64_t retries, struct event *timer, lb_retry_fn on_retry,
                    void *on_retry_arg, const char *error);

/* One row of routing by query id: polls for queries of COORDINATOR_ID go to CLUSTER. */
struct lb_route {
	const char *coordinator_id;
	const char *cluster;
};

struct lb_driver {
	void *impl;
	void (*switch_to)(void *impl, const char *cluster, lb_switch_done_fn done, void *arg);
	/* NULL when the driver cannot tell (then no external cutover is detected) */
	void (*current)(void *impl, lb_current_done_fn done, void *arg);
	void (*free)(void *impl);
	/* NULL when the LB judges no backend's health of its own */
	void (*backend_health)(void *impl, lb_health_done_fn done, void *arg);
	/*
	 * Makes the LB route the polls of every query by its coordinator id to
	 * ROUTES (the whole set, borrowed for the call; ids in no row are
	 * removed). Called on every tick; the driver syncs in the background.
	 * NULL when the driver does not route by query id (or it is off).
	 */
	void (*set_routes)(void *impl, const struct lb_route *routes, size_t count);
	/*
	 * SIGHUP: reads the driver's secret files again (the http driver's
	 * header_file.NAME), for the requests from then on. 0, or -1 with ERR
	 * and nothing changed. NULL when the driver has none.
	 */
	int (*reload)(void *impl, char *err, size_t err_len);
};

/* What every driver is given besides its own section: the [lb] settings they share. */
struct lb_common {
	int64_t timeout_ms;   /* [lb] timeout: per attempt */
	int retries;          /* [lb] retries: extra attempts, with doubling backoff */
	lb_retry_fn on_retry; /* hears of every retried attempt; may be NULL */
	void *on_retry_arg;   /* given to every hook here */
	lb_note_fn on_note;   /* hears how a switch decided; may be NULL */
	/* hears what a switch that worked left wrong (a warning finding); may be NULL */
	lb_note_fn on_warning;
	lb_cluster_ready_fn cluster_ready;    /* the agents' view of a cluster; may be NULL */
	struct clock_now (*read_clock)(void); /* the caller's clock; NULL: clock_read() */
};

/* What a driver's check is told of the rest of the file. */
struct lb_check_input {
	const char *const *clusters; /* the name of every [cluster.NAME] */
	size_t cluster_count;
};

struct config_key;
struct event_base;

/*
 * One load-balancer driver as its file exports it and the table in
 * lb_drivers.c lists it: [lb] driver = NAME picks it, [lb.NAME] configures it.
 */
struct lb_driver_type {
	const char *name; /* "haproxy" */
	/*
	 * The keys of [lb.NAME], their offsets into the driver's own section
	 * struct of SECTION_SIZE bytes, which the loader allocates and fills.
	 * KEYS NULL: the driver has no section.
	 */
	const struct config_key *keys;
	size_t key_count;
	size_t section_size;
	/*
	 * What the keys' types cannot say (a backend for every cluster), run
	 * on the loaded section when [lb] picks this driver. Returns 0, or -1
	 * with the whole message in WHY ("[lb.haproxy] has no backend.green =
	 * ...") and the place to blame: *KEY, a key of the section, or *LINE
	 * (a NAME.suffix pair's); neither: the section's header. NULL: nothing
	 * to check.
	 */
	int (*check)(const void *section, const struct lb_check_input *input, const char **key,
	             int *line, char *why, size_t why_len);
	/*
	 * For check-config (it blocks up to TIMEOUT_MS): whether what the
	 * checked SECTION points at answers (lb_probe.h). 0, or -1 with WHY.
	 * NULL: nothing to reach.
	 */
	int (*probe)(const void *section, int64_t timeout_ms, char *why, size_t why_len);
	/*
	 * Builds the driver from its checked SECTION into OUT. 0, or -1 with
	 * ERR. NULL: there is no driver to build (none).
	 */
	int (*create)(struct event_base *base, const void *section, const struct lb_common *common,
	              struct lb_driver *out, char *err, size_t err_len);
};

#endif
