/*
 * Page's CUSUM for a Bernoulli stream, fed in batches: a batch of n outcomes
 * with f failures moves the score by f ln(p1/p0) + (n-f) ln((1-p1)/(1-p0)),
 * floored at 0 so healthy history is forgotten and a late fault is caught as
 * fast as an early one. The log-likelihood ratio of a batch does not depend
 * on how the outcomes were grouped, so reports every 200 ms or every second
 * give the same evidence.
 */
#include "degradation.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "failure_ratio.h"

void watch_settings_default(struct watch_settings *settings)
{
	settings->max_failure_ratio = 0.05;
	settings->baseline_factor = 3;
	settings->detect_factor = 2;
	settings->evidence_threshold = 15;
	settings->user_error_factor = 3;
	settings->failure_types = FAILURE_TYPES_DEFAULT;
	settings->sustain_ms = 5000;
}

void cusum_init(struct cusum *cusum, double p0, double p1, double threshold)
{
	/* keep both ratios inside (0, 1) so the logarithms exist */
	if (p0 < 1e-9)
		p0 = 1e-9;
	if (p1 > 0.999999)
		p1 = 0.999999;
	if (p1 <= p0)
		p1 = p0 + (1 - p0) / 2;
	cusum->p0 = p0;
	cusum->p1 = p1;
	cusum->threshold = threshold;
	cusum->step_failed = log(p1 / p0);
	cusum->step_ok = log((1 - p1) / (1 - p0));
	cusum->score = 0;
	cusum->queries = 0;
	cusum->failed = 0;
}

bool cusum_add(struct cusum *cusum, uint64_t n, uint64_t f)
{
	if (f > n)
		f = n;
	cusum->score += (double)f * cusum->step_failed + (double)(n - f) * cusum->step_ok;
	if (cusum->score <= 0) {
		cusum->score = 0;
		cusum->queries = 0;
		cusum->failed = 0;
	} else {
		cusum->queries += n;
		cusum->failed += f;
	}
	return cusum->score >= cusum->threshold;
}

static double ratio(uint64_t part, uint64_t whole)
{
	return whole > 0 ? (double)part / (double)whole : 0;
}

double watch_tolerated_p0(const struct watch_settings *settings, const struct baseline *baseline)
{
	double from_baseline =
	        ratio(baseline->failed, baseline->queries) * settings->baseline_factor;
	return from_baseline > settings->max_failure_ratio ? from_baseline
	                                                   : settings->max_failure_ratio;
}

void detector_start(struct detector *detector, const struct watch_settings *settings,
                    const struct baseline *baseline)
{
	detector->settings = *settings;
	double p0 = watch_tolerated_p0(settings, baseline);
	cusum_init(&detector->failures, p0, p0 * settings->detect_factor,
	           settings->evidence_threshold);
	detector->user_channel = settings->user_error_factor > 0;
	double user_p0 =
	        ratio(baseline->user_errors, baseline->queries) * settings->user_error_factor;
	if (user_p0 < 0.01)
		user_p0 = 0.01;
	cusum_init(&detector->user_errors, user_p0, user_p0 * settings->detect_factor,
	           settings->evidence_threshold);
	detector->has_last = false;
	detector->series_resets = 0;
	detector->blind_since_ms = -1;
	detector->verdict = VERDICT_HEALTHY;
}

/* User errors that are the users' doing: cancels and abandoned queries are not. */
static uint64_t user_errors_between(const struct counter_sample *from,
                                    const struct counter_sample *to)
{
	uint64_t user = to->user_error - from->user_error;
	uint64_t excused = (to->canceled - from->canceled) + (to->abandoned - from->abandoned);
	return user > excused ? user - excused : 0;
}

void baseline_from_samples(const struct fleet_node *coordinator, int64_t now_ms, int64_t window_ms,
                           unsigned failure_types, struct baseline *out)
{
	out->queries = out->failed = out->user_errors = 0;
	for (size_t i = 0;; i++) {
		const struct counter_sample *newer = fleet_sample(coordinator, i);
		const struct counter_sample *older = fleet_sample(coordinator, i + 1);
		if (newer == NULL || older == NULL || newer->received_ms <= now_ms - window_ms)
			break;
		if (newer->received_ms > now_ms || !same_series(older, newer))
			continue;
		out->queries += newer->completed - older->completed;
		out->failed += failure_delta(older, newer, failure_types);
		out->user_errors += user_errors_between(older, newer);
	}
	if (out->failed > out->queries)
		out->failed = out->queries;
}

void detector_feed(struct detector *detector, const struct counter_sample *sample)
{
	if (detector->has_last && sample->received_ms <= detector->last.received_ms)
		return;
	if (detector->has_last && same_series(&detector->last, sample)) {
		uint64_t n = sample->completed - detector->last.completed;
		uint64_t f =
		        failure_delta(&detector->last, sample, detector->settings.failure_types);
		if (cusum_add(&detector->failures, n, f) && detector->verdict == VERDICT_HEALTHY)
			detector->verdict = VERDICT_FAILURES;
		if (detector->user_channel &&
		    cusum_add(&detector->user_errors, n,
		              user_errors_between(&detector->last, sample)) &&
		    detector->verdict == VERDICT_HEALTHY)
			detector->verdict = VERDICT_USER_ERRORS;
	} else if (detector->has_last) {
		detector->series_resets++; /* a restart: this sample starts a new series */
	}
	detector->last = *sample;
	detector->has_last = true;
}

enum verdict detector_check(struct detector *detector, bool seeing, int64_t now_ms)
{
	if (seeing) {
		detector->blind_since_ms = -1;
	} else if (detector->blind_since_ms < 0) {
		detector->blind_since_ms = now_ms;
	} else if (now_ms - detector->blind_since_ms >= detector->settings.sustain_ms &&
	           detector->verdict == VERDICT_HEALTHY) {
		detector->verdict = VERDICT_BLIND;
	}
	return detector->verdict;
}

enum verdict watch_verdict(enum verdict verdict, const struct finding_list *findings,
                           const char *cluster, char *why, size_t why_len)
{
	if (verdict != VERDICT_HEALTHY)
		return verdict;
	for (size_t i = 0; i < findings->count; i++) {
		const struct finding *f = &findings->items[i];
		if (strcmp(f->cluster, cluster) == 0 &&
		    (f->kind == FINDING_MIXED_VERSION || f->kind == FINDING_CLUSTER_INCOMPLETE ||
		     f->kind == FINDING_CLUSTER_ABSENT)) {
			snprintf(why, why_len, "%s", f->summary);
			return VERDICT_BLIND;
		}
	}
	return VERDICT_HEALTHY;
}

void detector_checkpoint_take(const struct detector *d, struct detector_checkpoint *out)
{
	*out = (struct detector_checkpoint){
	        .present = true,
	        .failure_score = d->failures.score,
	        .user_score = d->user_errors.score,
	        .failure_queries = d->failures.queries,
	        .failure_failed = d->failures.failed,
	        .user_queries = d->user_errors.queries,
	        .user_failed = d->user_errors.failed,
	        .verdict = (int)d->verdict,
	};
}

void detector_checkpoint_restore(struct detector *d, const struct detector_checkpoint *c)
{
	if (!c->present)
		return;
	d->failures.score = c->failure_score;
	d->failures.queries = c->failure_queries;
	d->failures.failed = c->failure_failed;
	d->user_errors.score = c->user_score;
	d->user_errors.queries = c->user_queries;
	d->user_errors.failed = c->user_failed;
	d->verdict = (enum verdict)c->verdict;
	/* the last sample is not restored: the monotonic clock restarts with a reboot,
	 * so the first report after the restart starts the next delta */
}

/* A new field of the checkpoint needs its line here. */
bool detector_checkpoint_equal(const struct detector_checkpoint *a,
                               const struct detector_checkpoint *b)
{
	return a->present == b->present && a->failure_score == b->failure_score &&
	       a->user_score == b->user_score && a->failure_queries == b->failure_queries &&
	       a->failure_failed == b->failure_failed && a->user_queries == b->user_queries &&
	       a->user_failed == b->user_failed && a->verdict == b->verdict;
}

static void failure_types_text(unsigned types, char *out, size_t out_len)
{
	snprintf(out, out_len, "%s%s%s%s", (types & FAILURE_INTERNAL) ? "internal+" : "",
	         (types & FAILURE_EXTERNAL) ? "external+" : "",
	         (types & FAILURE_INSUFFICIENT_RESOURCES) ? "insufficient-resources+" : "",
	         (types & FAILURE_USER_ERROR) ? "user-error+" : "");
	size_t len = 0;
	while (out[len] != '\0')
		len++;
	if (len > 0)
		out[len - 1] = '\0';
}

void detector_explain(const struct detector *detector, char *out, size_t out_len)
{
	const struct cusum *c = detector->verdict == VERDICT_USER_ERRORS ? &detector->user_errors
	                                                                 : &detector->failures;
	if (detector->verdict == VERDICT_BLIND) {
		snprintf(
		        out, out_len,
		        "the new coordinator's query counters were not visible for %.0f s: a watch "
		        "that cannot see is not a passed watch",
		        (double)detector->settings.sustain_ms / 1000.0);
		return;
	}
	char types[96];
	if (c == &detector->user_errors)
		snprintf(types, sizeof(types), "user errors");
	else
		failure_types_text(detector->settings.failure_types, types, sizeof(types));
	snprintf(out, out_len, "%s%s %.1f %% vs tolerated %.1f %%, evidence %.1f/%.0f", types,
	         c == &detector->user_errors ? "" : " failures", 100 * ratio(c->failed, c->queries),
	         100 * c->p0, c->score, c->threshold);
}
