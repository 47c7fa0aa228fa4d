/*
 * NodeReport encoding, and decoding that validates everything before a report
 * may touch the fleet table. Every reject has a reason (counted by the
 * collector) and a detail naming the field.
 */
#ifndef TG_REPORT_CODEC_H
#define TG_REPORT_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include "trino_guard.pb-c.h"

typedef Trinoguard__V1__NodeReport NodeReport;
typedef Trinoguard__V1__ConfigDigest ConfigDigest;
typedef Trinoguard__V1__QueryCounters QueryCounters;
typedef Trinoguard__V1__KeyDigest KeyDigest;
typedef Trinoguard__V1__QueryList QueryList;

/* The schema this build writes and the newest it understands. */
#define REPORT_SCHEMA_VERSION 1

/* Largest encoded report accepted (the collector's ZMQ_MAXMSGSIZE too). */
#define REPORT_MAX_BYTES (64 * 1024)

/*
 * A report stamped further than this into the future is refused: no clock
 * that wrong is worth reading. Within it, an agent's clock off the
 * collector's is a clock-skew finding, not a refusal (rules/findings.c).
 */
#define REPORT_MAX_FUTURE_MS (24 * 3600 * 1000LL)

#define REPORT_BOOT_ID_BYTES    16
#define REPORT_MAX_DIGESTS      4096
#define REPORT_MAX_ID_LEN       128 /* agent_id, node_id, trino ids */
#define REPORT_MAX_CLUSTER_LEN  64
#define REPORT_MAX_SHORT_LEN    128 /* version, environment, agent_version, source */
#define REPORT_MAX_PATH_LEN     512
#define REPORT_MAX_ERROR_LEN    1024
#define REPORT_MAX_KEY_LEN      256  /* a .properties key in ConfigDigest.keys */
#define REPORT_MAX_KEY_DIGESTS  4096 /* keys of all files of one report together */
#define REPORT_KEY_DIGEST_BYTES 8

enum report_reject {
	REPORT_OK = 0,
	REPORT_REJECT_EMPTY,
	REPORT_REJECT_TOO_LARGE,
	REPORT_REJECT_MALFORMED,
	REPORT_REJECT_MISSING_FIELD,
	REPORT_REJECT_STRING_TOO_LONG,
	REPORT_REJECT_INVALID_UTF8,
	REPORT_REJECT_BAD_ENUM,
	REPORT_REJECT_BAD_TIMESTAMP,
	REPORT_REJECT_SCHEMA_NEWER,
	REPORT_REJECT_BAD_VALUE,
	REPORT_REJECT_COUNT
};

/* Short stable name for metrics labels: "empty", "malformed", "missing_field", ... */
const char *report_reject_name(enum report_reject reject);

/*
 * Decodes LEN bytes and validates the result against NOW_UNIX_MS. Returns a
 * new report (free with report_free), or NULL with *REJECT set and the
 * offending field in DETAIL.
 */
NodeReport *report_decode(const uint8_t *buf, size_t len, int64_t now_unix_ms,
                          enum report_reject *reject, char *detail, size_t detail_len);

/* Validates a decoded (or built) report. REPORT_OK, or the reason with DETAIL. */
enum report_reject report_validate(const NodeReport *report, int64_t now_unix_ms, char *detail,
                                   size_t detail_len);

/* Frees a report returned by report_decode. NULL is a no-op. */
void report_free(NodeReport *report);

/* Encodes REPORT. Returns a new buffer (caller frees) and its length, or NULL. */
uint8_t *report_encode(const NodeReport *report, size_t *len);

#include "report_names.h"

#endif
