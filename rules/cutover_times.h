/*
 * The cutover state's times across a restart. While the collector runs, the
 * watch's end and the rollback's retry run on the monotonic clock; a
 * monotonic reading means nothing to the next process (or after a reboot), so
 * cutover.json holds them as wall time, converted with one reading of both
 * clocks. Pure.
 *
 * A wall-clock step while the collector runs changes nothing: the file is
 * rewritten from the monotonic times at every save. A step while it is down
 * (or between the last save and the restart) moves the remaining time by the
 * step, within bounds: a step forward ends the watch at the first tick (the
 * stable event, not a rollback), a step back never makes the remaining watch
 * longer than the whole watch nor the retry pause longer than its 5 s.
 */
#ifndef TG_CUTOVER_TIMES_H
#define TG_CUTOVER_TIMES_H

#include <stdint.h>

#include "cutover.h"

/* The wall times cutover.json holds; all 0 outside WATCHING and ROLLING_BACK. */
struct cutover_wall_times {
	int64_t since_unix_ms;
	int64_t until_unix_ms;
	int64_t retry_unix_ms; /* 0: no retry pending */
};

/* STATE's monotonic times as wall times, at NOW_MS (monotonic) = NOW_UNIX_MS (wall). */
void cutover_times_to_wall(const struct cutover_state *state, int64_t now_ms, int64_t now_unix_ms,
                           struct cutover_wall_times *out);

/*
 * WALL, as read from cutover.json, into STATE's monotonic times at NOW_MS =
 * NOW_UNIX_MS, bounded as above. WALL must have since <= until (the file's
 * check).
 */
void cutover_times_from_wall(struct cutover_state *state, const struct cutover_wall_times *wall,
                             int64_t now_ms, int64_t now_unix_ms);

#endif
