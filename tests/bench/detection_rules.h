/*
 * The rules the detection benchmark compares, each reduced to a statistic
 * that is compared with its threshold after every report, so one threshold
 * can be searched from healthy watches and then used on faulty ones:
 *   ours    : the CUSUM of rules/degradation.c (its score, threshold h)
 *   flagger : Flagger's analysis (an `interval` of 10 s; each check takes
 *             the failure ratio of the last 1 m and fails above the
 *             threshold; rollback at the `threshold: 2`nd failed check)
 *   window  : the Wilson rule: the lower bound of the last 60 s above p0 for
 *             5 s; the bound is above p0 exactly when the score statistic
 *             (f - n p0) / sqrt(n p0 (1 - p0)) is above z, so z is searched
 *   bayes   : an anytime-valid test of green against p0 from the cutover on
 *             (a beta-binomial mixture likelihood ratio, an e-process: the
 *             one-sample form of the count tests Netflix runs on
 *             deployments), one-sided: rollback when its log is above the
 *             threshold and the ratio so far above p0
 * and, for the information limit, a CUSUM that knows each fault's ratio
 * (Moustakides: the optimal rule under Lorden's criterion).
 */
#ifndef TG_DETECTION_RULES_H
#define TG_DETECTION_RULES_H

#include <stdbool.h>
#include <stdint.h>

#include "degradation.h"

enum rule { RULE_OURS, RULE_FLAGGER, RULE_WINDOW, RULE_BAYES, RULE_COUNT };

#define FAULT_COUNT           4
#define FLAGGER_EVERY_S       10
#define FLAGGER_FAILED_CHECKS 2
#define WINDOW_S              60
#define HOLD_S                5

/* What the rules are set to at one traffic level. */
struct rule_thresholds {
	double ours_h;
	double flagger_ratio; /* a check fails when the ratio is above this */
	double window_z;      /* the window rule fires when its held statistic is above this */
	double bayes_log;     /* ... and the Bayes factor's log above this */
};

/* The statistics after one report; -INFINITY where a rule has nothing to say. */
struct rule_statistics {
	double ours_score;
	bool ours_fired;
	double flagger_check; /* this report ended a check: its ratio; else -INFINITY */
	double window_held;   /* the smallest score statistic of the last 5 s */
	double bayes_log;
	double oracle_score[FAULT_COUNT];
};

struct rule_states {
	struct cusum ours;
	struct cusum oracle[FAULT_COUNT];
	double p0;
	int step;
	int window_steps, hold_steps, check_steps;
	uint64_t *ring_n, *ring_f; /* the last window_steps reports */
	uint64_t window_n, window_f;
	double *ring_z; /* the last hold_steps score statistics */
	uint64_t total_n, total_f;
	double prior_a, prior_b, log_prior_beta, log_p0, log_q0;
};

/*
 * Ready for a watch with reports every INTERVAL_S against P0, ours at P1 and
 * H, the oracles at FAULT_RATIOS. -1 when out of memory.
 */
int rule_states_init(struct rule_states *states, double interval_s, double p0, double p1, double h,
                     const double fault_ratios[FAULT_COUNT]);
void rule_states_reset(struct rule_states *states);
void rule_states_cleanup(struct rule_states *states);

/* Feeds one report (N finished, F failed) to every rule. */
void rule_states_step(struct rule_states *states, uint64_t n, uint64_t f,
                      struct rule_statistics *out);

/*
 * The window rule's statistic: (F - N p0) / sqrt(N p0 (1 - p0)), -INFINITY
 * without queries. Wilson's lower bound at z is above p0 exactly when this is
 * above z (the interval is the score test inverted).
 */
double window_score_statistic(uint64_t n, uint64_t f, double p0);

/* Kullback-Leibler divergence of Bernoulli(P) from Bernoulli(Q), in nats per query. */
double bernoulli_kl(double p, double q);

#endif
