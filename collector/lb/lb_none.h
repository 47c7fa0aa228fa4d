/*
 * driver = none: trino-guard switches nothing, people move the traffic.
 * Its [lb.none] section says how a switch by hand is seen without waiting
 * for trino-guardctl confirm-switch: a read-only probe of the LB (a command
 * or a URL naming the cluster, read by the exec and http drivers' readers),
 * and the traffic evidence of rules/traffic_shift.h.
 */
#ifndef TG_LB_NONE_H
#define TG_LB_NONE_H

#include "collector_config.h"
#include "lb.h"
#include "traffic_shift.h"

/* [lb] driver = none, configured by [lb.none]: its row in the driver table (lb_drivers.c). */
extern const struct lb_driver_type lb_none_type;

/* [lb.none] traffic_queries and traffic_quiet of CONFIG (min_queries 0 when not loaded). */
void lb_none_traffic(const struct collector_config *config, struct traffic_shift_settings *out);

#endif
