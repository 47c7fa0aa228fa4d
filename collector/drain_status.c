/* cutover.drain in /v1/status (drain_status.h). */
#include "drain_status.h"

#include "cutover.h"

json_t *drain_status_json(const struct drain_state *d, const char *cluster, int64_t quiet_ms,
                          struct clock_now now)
{
	char why[CUTOVER_TEXT_LEN] = "";
	bool done = drain_done(d, quiet_ms, now.mono_ms, why, sizeof(why));
	json_t *out = json_pack("{s:s,s:b,s:I}", "cluster", cluster, "drained", done,
	                        "quiet_required_seconds", (json_int_t)(quiet_ms / 1000));
	if (d->known) {
		json_object_set_new(out, "running", json_integer((json_int_t)d->running));
		json_object_set_new(out, "queued", json_integer((json_int_t)d->queued));
	}
	if (d->quiet_since_ms >= 0)
		json_object_set_new(
		        out, "quiet_seconds",
		        json_integer((json_int_t)((now.mono_ms - d->quiet_since_ms) / 1000)));
	if (d->oldest_query_since_ms >= 0) {
		int64_t age_ms = now.mono_ms - d->oldest_query_since_ms;
		json_object_set_new(out, "oldest_query_age_seconds",
		                    json_integer((json_int_t)(age_ms > 0 ? age_ms / 1000 : 0)));
	}
	if (d->query_list_error[0] != '\0')
		json_object_set_new(out, "query_list_error", json_string(d->query_list_error));
	if (!done)
		json_object_set_new(out, "waiting_for", json_string(why));
	return out;
}
