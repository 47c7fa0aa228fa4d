/*
 * The table of load-balancer drivers: [lb] driver names a row, the row's
 * [lb.NAME] section configures it, the row builds it (lb.h says what a row
 * is). The config loader takes the drivers' sections and checks from here.
 */
#ifndef TG_LB_DRIVERS_H
#define TG_LB_DRIVERS_H

#include <stddef.h>

#include "collector_config.h"
#include "lb.h"

struct config_where;
struct event_base;

/* The rows, in table order: ROW < lb_driver_type_count() for lb_driver_type_at(). */
size_t lb_driver_type_count(void);
const struct lb_driver_type *lb_driver_type_at(size_t row);

/* The row named NAME, its index in *ROW (ROW may be NULL); NULL when none is. */
const struct lb_driver_type *lb_driver_type_find(const char *name, size_t *row);

/* Every row's name in table order, as a choice: "none|haproxy|exec|http|trino-gateway". */
void lb_driver_type_names(char *out, size_t out_len);

/* The section that configures TYPE: "lb.haproxy" for haproxy. */
void lb_driver_section_name(const struct lb_driver_type *type, char *out, size_t out_len);

/*
 * Runs the check of the driver [lb] driver names on its section, for the
 * loader once CONFIG is read. 0, or -1 with WHY and in *LINE what the check
 * blames: its key's or pair's line, else its section's header, else (no
 * section in the file) the line of [lb] driver.
 */
int lb_driver_check(const struct collector_config *config, const struct config_where *where,
                    int *line, char *why, size_t why_len);

/*
 * For check-config: runs the probe of the driver CONFIG names (whether its
 * socket, URL or command is there), blocking up to [lb] timeout. 0 (also
 * for a driver with nothing to reach), or -1 with WHY.
 */
int lb_driver_probe(const struct collector_config *config, char *why, size_t why_len);

/*
 * Fills OUT with the driver CONFIG names (OUT->impl NULL for driver = none).
 * HOOKS (may be NULL) gives the hooks of struct lb_common; its timeout and
 * retries are [lb]'s. 0, or -1 with ERR.
 */
int lb_driver_from_config(struct event_base *base, const struct collector_config *config,
                          const struct lb_common *hooks, struct lb_driver *out, char *err,
                          size_t err_len);

#endif
