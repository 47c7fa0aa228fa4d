/*
 * The commands that read the collector: status, nodes and events, printed as
 * tables for people (colour only on a terminal) or as the API's JSON.
 */
#ifndef TG_CTL_SHOW_H
#define TG_CTL_SHOW_H

#include <jansson.h>
#include <stddef.h>

#include "ctl.h"

/* Clusters, versions, failure ratios, the cutover, open findings; CTL_EXIT_FINDINGS when any. */
int ctl_show_status(const struct ctl_options *opt, const char *operand);

/* Every node the collector knows. */
int ctl_show_nodes(const struct ctl_options *opt, const char *operand);

/* The journal after opt->after_id from opt->since_time, one line per event; or --follow. */
int ctl_show_events(const struct ctl_options *opt, const char *operand);

/* Prints STATUS (GET /v1/status; the reference is taken) as status does; its exit code. */
int ctl_show_status_print(const struct ctl_options *opt, json_t *status);

/* The path of GET /v1/events after AFTER_ID (and from opt->since_time) into PATH. */
void ctl_show_events_path(const struct ctl_options *opt, long long after_id, char *path,
                          size_t len);

/* One line per event of EVENTS; returns the last one's id, AFTER when there is none. */
long long ctl_show_event_lines(const struct ctl_options *opt, const json_t *events,
                               long long after);

#endif
