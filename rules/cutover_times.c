/*
 * Converting the cutover state's monotonic times to the wall times of
 * cutover.json and back (cutover_times.h says what a clock step does).
 */
#include "cutover_times.h"

static bool timed(enum cutover_phase phase)
{
	return phase == PHASE_WATCHING || phase == PHASE_ROLLING_BACK;
}

static int64_t clamp(int64_t value, int64_t low, int64_t high)
{
	return value < low ? low : value > high ? high : value;
}

void cutover_times_to_wall(const struct cutover_state *state, int64_t now_ms, int64_t now_unix_ms,
                           struct cutover_wall_times *out)
{
	*out = (struct cutover_wall_times){0};
	if (!timed(state->phase))
		return;
	out->since_unix_ms = now_unix_ms - (now_ms - state->since_ms);
	out->until_unix_ms = now_unix_ms + (state->until_ms - now_ms);
	if (out->since_unix_ms < 0) /* a host up longer than 1970 is old */
		out->since_unix_ms = 0;
	if (out->until_unix_ms < out->since_unix_ms)
		out->until_unix_ms = out->since_unix_ms;
	if (state->retry_ms > now_ms)
		out->retry_unix_ms = now_unix_ms + (state->retry_ms - now_ms);
}

void cutover_times_from_wall(struct cutover_state *state, const struct cutover_wall_times *wall,
                             int64_t now_ms, int64_t now_unix_ms)
{
	state->since_ms = state->until_ms = state->retry_ms = 0;
	if (!timed(state->phase))
		return;
	int64_t length = wall->until_unix_ms - wall->since_unix_ms;
	/* both are past 1970 and since <= until: no subtraction here overflows */
	int64_t left = clamp(wall->until_unix_ms - now_unix_ms, 0, length);
	state->until_ms = now_ms + left;
	state->since_ms = state->until_ms - length;
	if (wall->retry_unix_ms > 0)
		state->retry_ms =
		        now_ms + clamp(wall->retry_unix_ms - now_unix_ms, 0, CUTOVER_RETRY_MS);
}
