/*
 * Log lines limited by kind: each kind (accept errors, refused handshakes,
 * rejected reports, ...) owns one struct log_limit that lets at most BURST
 * lines through per INTERVAL and counts the rest, so a flood of one kind
 * cannot fill the disk or hide the other kinds. Time is passed in.
 */
#ifndef TG_LOG_LIMIT_H
#define TG_LOG_LIMIT_H

#include <stdbool.h>
#include <stdint.h>

struct log_limit {
	int64_t interval_ms;
	unsigned burst;
	int64_t window_start_ms;
	unsigned used;             /* lines let through in this window */
	uint64_t held_back;        /* lines suppressed since the last one let through */
	uint64_t suppressed_total; /* every line suppressed, for /metrics */
};

/* At most BURST lines every INTERVAL_MS (both at least 1). */
void log_limit_init(struct log_limit *limit, unsigned burst, int64_t interval_ms);

/*
 * Whether a line of this kind may be logged at NOW_MS (monotonic). When it
 * may, *HELD_BACK (if not NULL) is how many lines were suppressed since the
 * last one let through, for the line to say so; when not, the line is counted.
 */
bool log_limit_allow(struct log_limit *limit, int64_t now_ms, uint64_t *held_back);

#endif
