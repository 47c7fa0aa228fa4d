/*
 * The commands that read the collector: status, nodes and events, printed as
 * tables for people (colour only on a terminal) or as the API's JSON.
 */
#ifndef TG_CTL_SHOW_H
#define TG_CTL_SHOW_H

#include "ctl.h"

/* Clusters, versions, failure ratios, the cutover, open findings; CTL_EXIT_FINDINGS when any. */
int ctl_show_status(const struct ctl_options *opt, const char *operand);

/* Every node the collector knows. */
int ctl_show_nodes(const struct ctl_options *opt, const char *operand);

/* The journal after opt->since, one line per event. */
int ctl_show_events(const struct ctl_options *opt, const char *operand);

#endif
