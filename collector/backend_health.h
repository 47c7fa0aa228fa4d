/*
 * The load balancer's own view of each backend's health (docs/DESIGN.md §7),
 * read at start and every [lb] poll from drivers that have one
 * (trino-gateway), each change logged and journaled, the last reading kept
 * for the gate and the findings (rules/lb_health.h decides).
 */
#ifndef TG_BACKEND_HEALTH_H
#define TG_BACKEND_HEALTH_H

#include "clock.h"
#include "lb.h"
#include "lb_health.h"

struct backend_health;
struct collector;

/*
 * Reads through DRIVER (borrowed; it must outlive the reader; .impl NULL or
 * no backend_health: nothing is read, the view stays empty). NULL: no memory.
 */
struct backend_health *backend_health_new(struct collector *collector, const char *driver_name,
                                          const struct lb_driver *driver);
void backend_health_free(struct backend_health *reader);

/* Once per tick: starts a read when one is due. */
void backend_health_tick(struct backend_health *reader, struct clock_now now);

/* How many readings have come back so far (for tests and /metrics). */
unsigned long backend_health_reads(const struct backend_health *reader);

/* The last reading (empty while none came, or when the LB judges no health). */
const struct lb_health *backend_health_view(const struct backend_health *reader);

#endif
