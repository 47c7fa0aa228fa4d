/*
 * The load-balancer driver named by [lb] driver, built from its [lb.NAME]
 * section.
 */
#ifndef TG_LB_DRIVERS_H
#define TG_LB_DRIVERS_H

#include <stddef.h>

#include "collector_config.h"
#include "lb.h"

struct event_base;

/*
 * Fills OUT with the driver CONFIG names (OUT->impl NULL for driver = none).
 * ON_RETRY (may be NULL) hears of every retried attempt. 0, or -1 with ERR.
 */
int lb_driver_from_config(struct event_base *base, const struct collector_config *config,
                          lb_retry_fn on_retry, void *on_retry_arg, struct lb_driver *out,
                          char *err, size_t err_len);

#endif
