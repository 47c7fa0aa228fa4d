/*
 * A fixed-window counter per kind of log line: the first BURST lines of each
 * window pass, the rest are counted until the window turns.
 */
#include "log_limit.h"

#include <stddef.h>

void log_limit_init(struct log_limit *limit, unsigned burst, int64_t interval_ms)
{
	*limit = (struct log_limit){
	        .interval_ms = interval_ms > 0 ? interval_ms : 1,
	        .burst = burst > 0 ? burst : 1,
	        .window_start_ms = INT64_MIN,
	};
}

bool log_limit_allow(struct log_limit *limit, int64_t now_ms, uint64_t *held_back)
{
	if (limit->window_start_ms == INT64_MIN || now_ms < limit->window_start_ms ||
	    now_ms - limit->window_start_ms >= limit->interval_ms) {
		limit->window_start_ms = now_ms;
		limit->used = 0;
	}
	if (limit->used >= limit->burst) {
		limit->held_back++;
		limit->suppressed_total++;
		return false;
	}
	limit->used++;
	if (held_back != NULL)
		*held_back = limit->held_back;
	limit->held_back = 0;
	return true;
}
