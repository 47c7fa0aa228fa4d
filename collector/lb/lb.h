/*
 * The load-balancer driver interface (DESIGN §7): switch to a cluster (with
 * verification), and read where the LB points now. Drivers are asynchronous;
 * each callback runs once, from the loop.
 */
#ifndef TG_LB_H
#define TG_LB_H

#include <stdbool.h>
#include <stdint.h>

/* OK, or the reason. */
typedef void (*lb_switch_done_fn)(bool ok, const char *error, void *arg);
/* CLUSTER the LB points at (NULL when unknown, with ERROR). */
typedef void (*lb_current_done_fn)(const char *cluster, const char *error, void *arg);
/* Told of every failed attempt that is about to be retried (for the journal). */
typedef void (*lb_retry_fn)(const char *reason, void *arg);

struct event;

/*
 * The drivers' shared retry policy, called after a failed attempt: while
 * *ATTEMPT < RETRIES it logs ERROR, tells ON_RETRY (may be NULL), arms TIMER
 * after a doubling backoff (200 ms, 400 ms, 800 ms, ...), counts the attempt
 * and returns true; otherwise returns false and the caller reports failure.
 */
bool lb_retry_later(int *attempt, int64_t retries, struct event *timer, lb_retry_fn on_retry,
                    void *on_retry_arg, const char *error);

struct lb_driver {
	void *impl;
	void (*switch_to)(void *impl, const char *cluster, lb_switch_done_fn done, void *arg);
	/* NULL when the driver cannot tell (then no external cutover is detected) */
	void (*current)(void *impl, lb_current_done_fn done, void *arg);
	void (*free)(void *impl);
};

#endif
