/*
 * A stand-in collector for tests and benchmarks: a ZeroMQ SUB socket, bound,
 * optionally a CURVE server with a ZAP allow-list served from a thread, that
 * hands back decoded and validated NodeReports.
 */
#ifndef TG_REPORT_RECEIVER_H
#define TG_REPORT_RECEIVER_H

#include <stdbool.h>
#include <stddef.h>

#include "report_codec.h"

struct report_receiver;

/*
 * Binds ENDPOINT ("tcp://127.0.0.1:*" picks a free port). With SERVER_SECRET
 * (Z85) it is a CURVE server whose ZAP handler accepts only allowed keys.
 * Returns NULL with ERR.
 */
struct report_receiver *report_receiver_new(const char *endpoint, const char *server_secret,
                                            char *err, size_t err_len);
void report_receiver_free(struct report_receiver *receiver);

/* The bound endpoint, e.g. "tcp://127.0.0.1:41234". */
const char *report_receiver_endpoint(const struct report_receiver *receiver);

/* Lets the client key PUBLIC_Z85 in, as USER_ID; or shuts it out again. */
void report_receiver_allow(struct report_receiver *receiver, const char *public_z85,
                           const char *user_id);
void report_receiver_deny(struct report_receiver *receiver, const char *public_z85);

/* ZAP requests answered with 400 so far. */
size_t report_receiver_refusals(struct report_receiver *receiver);

/*
 * Waits up to TIMEOUT_MS for the next valid report. Returns it (free with
 * report_free), or NULL. Invalid messages are counted and skipped.
 */
NodeReport *report_receiver_next(struct report_receiver *receiver, int timeout_ms);

/* Drops everything queued so far. */
void report_receiver_drain(struct report_receiver *receiver);

size_t report_receiver_invalid(const struct report_receiver *receiver);

#endif
