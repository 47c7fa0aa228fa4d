/*
 * The drain action ([watch] drain_shutdown_command, off by default): once
 * stable is out (the watch is over and the drain gate open), the operator's
 * command is run once with {cluster} replaced by the drained old cluster, to
 * send its workers SHUTTING_DOWN. Journalled (drain-shutdown) and shown in
 * /v1/status (cutover.drain_shutdown).
 */
#ifndef TG_DRAIN_SHUTDOWN_H
#define TG_DRAIN_SHUTDOWN_H

#include <jansson.h>
#include <stdint.h>

#include "clock.h"

struct event_base;
struct journal;
struct drain_shutdown;

/* COMMAND is copied; JOURNAL is borrowed and outlives it. NULL with ERR. */
struct drain_shutdown *drain_shutdown_new(struct event_base *base, const char *command,
                                          int64_t timeout_ms, struct journal *journal, char *err,
                                          size_t err_len);
void drain_shutdown_free(struct drain_shutdown *shutdown);

/* Runs the command for CLUSTER at NOW; a run still under way is left alone. */
void drain_shutdown_start(struct drain_shutdown *shutdown, const char *cluster,
                          struct clock_now now);

/* The last run (cluster, state, when, what the command said); NULL before the first. */
json_t *drain_shutdown_status(const struct drain_shutdown *shutdown);

#endif
