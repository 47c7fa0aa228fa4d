/*
 * The commands that keep going until interrupted: status --watch redraws
 * the status every --interval, events --follow prints each new event once,
 * and both say so, in one line each, when the collector goes away and when
 * it is back.
 */
#ifndef TG_CTL_FOLLOW_H
#define TG_CTL_FOLLOW_H

#include "ctl.h"

/* Redraws the status until SIGINT or SIGTERM; CTL_EXIT_OK then. */
int ctl_follow_status(const struct ctl_options *opt);

/* Prints new events until SIGINT or SIGTERM; CTL_EXIT_OK then. */
int ctl_follow_events(const struct ctl_options *opt);

#endif
