/*
 * Turns what the agent knows (poll snapshot, digests, identity) into one
 * complete NodeReport, and a report into one JSON line for --print.
 */
#ifndef TG_REPORT_BUILD_H
#define TG_REPORT_BUILD_H

#include <stddef.h>
#include <stdint.h>

#include "digests.h"
#include "poller.h"
#include "report_codec.h"

struct report_input {
	const char *agent_id;
	const uint8_t *boot_id; /* REPORT_BOOT_ID_BYTES */
	uint64_t seq;
	int64_t sent_unix_ms;
	uint32_t interval_ms;
	const char *cluster;
	const char *node_id;
	const struct poll_snapshot *snapshot;
	int64_t info_silent_ms; /* how long a /v1/info request has gone unanswered; 0: none */
	const struct digests *digests;
};

/*
 * Builds and encodes the report. Returns a new buffer (caller frees) and its
 * length, or NULL when out of memory.
 */
uint8_t *report_build_encode(const struct report_input *input, size_t *len);

/* One JSON object for people and scripts (caller frees), or NULL. */
char *report_to_json(const NodeReport *report);

#endif
