/*
 * The post-cutover degradation test (docs/DESIGN.md §5): Bernoulli CUSUM (Page's
 * test) on the new cluster's query outcomes, fed with per-report counter
 * deltas, against a tolerated ratio derived from the old cluster's baseline;
 * a second CUSUM on user errors; and blindness (no counters for `sustain`)
 * as degradation. Pure: samples and `now` come in, a verdict goes out.
 */
#ifndef TG_DEGRADATION_H
#define TG_DEGRADATION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "findings.h"
#include "fleet.h"

struct watch_settings {
	double max_failure_ratio;  /* floor of p0 (default 0.05) */
	double baseline_factor;    /* p0 = max(floor, baseline x this) (default 3) */
	double detect_factor;      /* p1 = p0 x this (default 2) */
	double evidence_threshold; /* the CUSUM's h (default 15) */
	double user_error_factor;  /* user-error channel; 0 turns it off (default 3) */
	unsigned failure_types; /* enum failure_type bits (default internal+external+resources) */
	int64_t sustain_ms;     /* blind this long = degraded (default 5 s) */
};

/* The defaults of docs/DESIGN.md §5. */
void watch_settings_default(struct watch_settings *settings);

/* The old cluster's outcomes over the baseline window. */
struct baseline {
	uint64_t queries;
	uint64_t failed;      /* of the counted types */
	uint64_t user_errors; /* user errors less cancels and abandoned queries */
};

/* One Bernoulli CUSUM. */
struct cusum {
	double p0, p1, threshold;
	double step_failed; /* ln(p1/p0) */
	double step_ok;     /* ln((1-p1)/(1-p0)) */
	double score;
	uint64_t queries; /* since the score last left 0: the evidence in view */
	uint64_t failed;
};

/*
 * The failure ratio the new cluster may show: p0 = max(max_failure_ratio,
 * BASELINE's failure ratio x baseline_factor); the floor alone when the
 * baseline saw no query. The watch's and the gate's one p0.
 */
double watch_tolerated_p0(const struct watch_settings *settings, const struct baseline *baseline);

void cusum_init(struct cusum *cusum, double p0, double p1, double threshold);

/* Adds N finished queries, F of them failed. True when the score reaches the threshold. */
bool cusum_add(struct cusum *cusum, uint64_t n, uint64_t f);

enum verdict {
	VERDICT_HEALTHY,
	VERDICT_FAILURES,    /* the failure CUSUM crossed its threshold */
	VERDICT_USER_ERRORS, /* the user-error CUSUM did */
	VERDICT_BLIND,       /* no counters for `sustain` */
};

struct detector {
	struct watch_settings settings;
	struct cusum failures;
	bool user_channel;
	struct cusum user_errors;
	bool has_last;
	struct counter_sample last;
	uint64_t series_resets;
	int64_t blind_since_ms; /* -1: seeing */
	enum verdict verdict;   /* sticky once degraded */
};

/*
 * The old cluster's outcomes from its coordinator's samples received in
 * (NOW_MS - WINDOW_MS, NOW_MS], restarts skipped (docs/DESIGN.md §5 baseline_window).
 */
void baseline_from_samples(const struct fleet_node *coordinator, int64_t now_ms, int64_t window_ms,
                           unsigned failure_types, struct baseline *out);

/* Starts a watch against BASELINE. */
void detector_start(struct detector *detector, const struct watch_settings *settings,
                    const struct baseline *baseline);

/* Feeds the new coordinator's latest counter sample (ignored if not newer). */
void detector_feed(struct detector *detector, const struct counter_sample *sample);

/*
 * The verdict at NOW_MS. SEEING says whether the coordinator is live with
 * readable counters right now; blindness for `sustain` is degradation.
 */
enum verdict detector_check(struct detector *detector, bool seeing, int64_t now_ms);

/*
 * The watched CLUSTER's verdict given the detector's VERDICT and the open
 * FINDINGS: a watched cluster that turned incomplete or mixed is degraded too
 * (VERDICT_BLIND: the watch can no longer vouch for it), with that finding's
 * summary written into WHY. Any other verdict is returned as is, WHY untouched.
 */
enum verdict watch_verdict(enum verdict verdict, const struct finding_list *findings,
                           const char *cluster, char *why, size_t why_len);

/* The detector's evidence, kept across restarts during a watch. */
struct detector_checkpoint {
	bool present;
	double failure_score, user_score;
	uint64_t failure_queries, failure_failed, user_queries, user_failed;
	int verdict; /* enum verdict */
};

/* Copies the evidence of DETECTOR into a checkpoint, and back (after detector_start). */
void detector_checkpoint_take(const struct detector *detector, struct detector_checkpoint *out);
void detector_checkpoint_restore(struct detector *detector,
                                 const struct detector_checkpoint *checkpoint);

/* True when A and B hold the same evidence, field by field (never their padding). */
bool detector_checkpoint_equal(const struct detector_checkpoint *a,
                               const struct detector_checkpoint *b);

/* One line for people: "internal+external failures 11.8 % vs tolerated 5.0 %, evidence 15.2/15". */
void detector_explain(const struct detector *detector, char *out, size_t out_len);

#endif
