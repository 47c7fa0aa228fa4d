/*
 * What the cutover runner shows: the cutover part of /v1/status, the numbers
 * for /metrics, the open problems the tick turns into findings, and the
 * getters the rest of the collector reads.
 */
#include <stdio.h>
#include <string.h>

#include "cutover_runner.h"
#include "cutover_runner_impl.h"
#include "drain_status.h"
#include "switch_accounting.h"

json_t *cutover_runner_status(const struct cutover_runner *r, struct clock_now now)
{
	const struct cutover_state *s = &r->state;
	json_t *out = json_pack("{s:s,s:s,s:s,s:b,s:b,s:s}", "phase", cutover_phase_name(s->phase),
	                        "active", s->active, "other", s->other, "paused", s->paused,
	                        "dry_run", r->collector->config.watch.dry_run, "reason", s->reason);
	json_t *shutdown = drain_shutdown_status(r->shutdown);
	if (shutdown != NULL)
		json_object_set_new(out, "drain_shutdown", shutdown);
	json_t *last_switch = switch_accounting_status(&r->losses, now);
	if (last_switch != NULL)
		json_object_set_new(out, "last_switch", last_switch);
	if (s->phase == PHASE_WATCHING) {
		int64_t left = s->until_ms - now.mono_ms;
		const struct detector *d = &r->detector;
		char explanation[512];
		detector_explain(d, explanation, sizeof(explanation));
		json_object_set_new(
		        out, "watch",
		        json_pack("{s:I,s:{s:f,s:f,s:f,s:f},s:{s:b,s:f,s:f,s:f},s:s}",
		                  "seconds_left", (json_int_t)(left > 0 ? left / 1000 : 0),
		                  "failures", "score", d->failures.score, "threshold",
		                  d->failures.threshold, "p0", d->failures.p0, "estimated_ratio",
		                  d->failures.queries
		                          ? (double)d->failures.failed / (double)d->failures.queries
		                          : 0.0,
		                  "user_errors", "enabled", d->user_channel, "score",
		                  d->user_errors.score, "threshold", d->user_errors.threshold, "p0",
		                  d->user_errors.p0, "explanation", explanation));
		json_object_set_new(out, "drain",
		                    drain_status_json(&r->drain, s->other,
		                                      r->collector->config.watch.drain_quiet_ms,
		                                      now));
	}
	return out;
}

const char *cutover_runner_hand_switch_traffic(const struct cutover_runner *r)
{
	return r->traffic_settings.min_queries > 0 ? r->traffic_why : NULL;
}

bool cutover_runner_degraded(struct cutover_runner *r, const char **cluster, const char **why)
{
	if (r->state.phase != PHASE_WATCHING || r->detector.verdict == VERDICT_HEALTHY)
		return false;
	detector_explain(&r->detector, r->degraded_why, sizeof(r->degraded_why));
	*cluster = r->state.active;
	*why = r->degraded_why;
	return true;
}

void cutover_runner_metrics(const struct cutover_runner *r, struct clock_now now,
                            struct cutover_metrics *out)
{
	int64_t left = r->state.until_ms - now.mono_ms;
	*out = (struct cutover_metrics){
	        .counters = &r->counters,
	        .losses = &r->losses,
	        .drain = r->state.phase == PHASE_WATCHING ? &r->drain : NULL,
	        .phase = r->state.phase,
	        .paused = r->state.paused,
	        .watching = r->state.phase == PHASE_WATCHING,
	        .failure_score = r->detector.failures.score,
	        .user_score = r->detector.user_errors.score,
	        .threshold = r->detector.failures.threshold,
	        .seconds_left = r->state.phase == PHASE_WATCHING && left > 0 ? left / 1000 : 0,
	};
}

bool cutover_runner_lb_problem(const struct cutover_runner *r, const char **cluster,
                               const char **why)
{
	*cluster = r->lb_problem_cluster;
	*why = r->lb_problem;
	return r->lb_problem_cluster[0] != '\0';
}

const struct lb_driver *cutover_runner_driver(const struct cutover_runner *r)
{
	return &r->lb;
}

const char *cutover_runner_active(const struct cutover_runner *r)
{
	return r->state.active;
}
