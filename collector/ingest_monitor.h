/*
 * The SUB socket's monitor (zmq_socket_monitor(3)) on the collector's loop:
 * agent connections that end (the agent left, or libzmq dropped it for a
 * message over ZMQ_MAXMSGSIZE, which is seen nowhere else) and handshakes
 * that fail on the protocol, counted into ingest's stats and logged within a
 * per-kind limit.
 */
#ifndef TG_INGEST_MONITOR_H
#define TG_INGEST_MONITOR_H

#include <stddef.h>
#include <stdint.h>

struct event_base;
struct ingest_stats;
struct ingest_monitor;

/* Monitors SUB (in CONTEXT) into STATS (borrowed, outlives the monitor). NULL with ERR. */
struct ingest_monitor *ingest_monitor_new(struct event_base *base, void *context, void *sub,
                                          struct ingest_stats *stats, char *err, size_t err_len);
/* Stops monitoring SUB and frees; NULL is a no-op. */
void ingest_monitor_free(struct ingest_monitor *monitor, void *sub);

/* Log lines about ended connections held back by the limit. */
uint64_t ingest_monitor_log_suppressed(const struct ingest_monitor *monitor);

#endif
