/*
 * Report ingest: a ZeroMQ SUB socket, bound, a CURVE server whose ZAP handler
 * (bound first, on inproc://zeromq.zap.01) admits only allow-listed keys.
 * Each message is size-checked (libzmq drops a connection whose message is
 * over INGEST_MAX_MESSAGE_BYTES; up to that it arrives and is counted as
 * too_large), rate-limited per key, decoded, validated, matched against the
 * key's identity and the configured clusters, then recorded in the fleet.
 */
#ifndef TG_INGEST_H
#define TG_INGEST_H

#include <stddef.h>
#include <stdint.h>

#include "collector.h"
#include "report_codec.h"

/* ZMQ_MAXMSGSIZE: the largest message libzmq hands over. Reports over
 * REPORT_MAX_BYTES up to this arrive and are rejected as too_large (counted,
 * the connection kept); a larger one makes libzmq drop the connection, seen
 * by the socket monitor. It bounds what one agent can make the collector
 * hold: its pipe's ZMQ_RCVHWM messages of at most this size. */
#define INGEST_MAX_MESSAGE_BYTES (1024 * 1024)

/* Reject reasons: the codec's, then the collector's own. */
enum {
	INGEST_REJECT_IDENTITY_MISMATCH = REPORT_REJECT_COUNT,
	INGEST_REJECT_UNKNOWN_CLUSTER,
	INGEST_REJECT_CLUSTER_MISMATCH, /* a key bound to one cluster reporting for another */
	INGEST_REJECT_ROLE_MISMATCH,    /* a worker's key reporting as a coordinator, or back */
	INGEST_REJECT_KEY_REMOVED,      /* a connection whose key left the allow-list */
	INGEST_REJECT_RATE_LIMITED,     /* over [collector] max_reports_per_second for its key */
	INGEST_REJECT_COUNT
};

struct ingest_stats {
	uint64_t received;
	uint64_t accepted;
	uint64_t duplicates;
	uint64_t rejected[INGEST_REJECT_COUNT]; /* index 0 unused */
	uint64_t keys_admitted;
	uint64_t keys_refused;
	uint64_t sessions_closed; /* connections of keys removed at SIGHUP */
	/* From the SUB's socket monitor: connections that ended (the agent left,
	 * or libzmq dropped it for a message over ZMQ_MAXMSGSIZE), and handshakes
	 * that failed on the protocol (a wrong server key, a plaintext agent). */
	uint64_t disconnects;
	uint64_t handshake_failures;
};

/* Log lines held back by ingest's per-kind limits (common/log_limit.h). */
struct ingest_log_counts {
	uint64_t rejected_reports;
	uint64_t refused_handshakes;
	uint64_t disconnects;
};

/* "empty", ..., "identity_mismatch", "unknown_cluster", "cluster_mismatch", ... */
const char *ingest_reject_name(int reason);

/* Binds and starts ingest into COLLECTOR's fleet. NULL with ERR. */
struct ingest *ingest_new(struct collector *collector, char *err, size_t err_len);
void ingest_free(struct ingest *ingest);

/* Re-reads the allow-list (SIGHUP); keeps the old one on error. 0 or -1 with ERR. */
int ingest_reload_allowlist(struct ingest *ingest, char *err, size_t err_len);

const struct ingest_stats *ingest_stats(const struct ingest *ingest);
struct ingest_log_counts ingest_log_suppressed(const struct ingest *ingest);
size_t ingest_allowed_keys(const struct ingest *ingest);

#endif
