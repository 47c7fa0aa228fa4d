/*
 * The exec load-balancer driver: a command of the operator's, run through
 * /bin/sh with {cluster} replaced by the target, exit 0 = switched; and an
 * optional command that prints the cluster the LB points at.
 */
#ifndef TG_LB_EXEC_H
#define TG_LB_EXEC_H

#include <stddef.h>
#include <stdint.h>

#include "lb.h"

/* [lb.exec] command_timeout's default: a kubectl patch or a cloud CLI takes seconds. */
#define LB_EXEC_DEFAULT_TIMEOUT_MS 30000

struct event_base;
struct lb_exec;

struct lb_exec_settings {
	/* e.g. "kubectl patch svc trino -p ... {cluster} ..."; NULL: a reader of current only */
	const char *switch_command;
	const char *current_command; /* prints the cluster name; NULL: none */
	int64_t timeout_ms;          /* each command's; 0: LB_EXEC_DEFAULT_TIMEOUT_MS */
	int64_t switch_timeout_ms;   /* switch_command's when > 0, else timeout_ms */
	int64_t current_timeout_ms;  /* current_command's when > 0, else timeout_ms */
	int retries;
	lb_retry_fn on_retry; /* optional */
	void *on_retry_arg;
};

struct lb_exec *lb_exec_new(struct event_base *base, const struct lb_exec_settings *settings,
                            char *err, size_t err_len);
void lb_exec_free(struct lb_exec *lb);
void lb_exec_switch(struct lb_exec *lb, const char *cluster, lb_switch_done_fn done, void *arg);
void lb_exec_current(struct lb_exec *lb, lb_current_done_fn done, void *arg);

/* The driver behind the generic interface (no switch_to without a switch_command). */
struct lb_driver lb_exec_driver(struct lb_exec *lb);

/* [lb] driver = exec, configured by [lb.exec]: its row in the driver table (lb_drivers.c). */
extern const struct lb_driver_type lb_exec_type;

#endif
