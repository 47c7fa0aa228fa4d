/*
 * The detection benchmark's rules after every report (see detection_rules.h):
 * ours through rules/degradation.c itself, the comparators and the oracles
 * as their statistics.
 */
#include "detection_rules.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int steps_of(double seconds, double interval_s)
{
	int steps = (int)(seconds / interval_s + 0.5);
	return steps > 0 ? steps : 1;
}

static double log_beta(double a, double b)
{
	return lgamma(a) + lgamma(b) - lgamma(a + b);
}

int rule_states_init(struct rule_states *states, double interval_s, double p0, double p1, double h,
                     const double fault_ratios[FAULT_COUNT])
{
	memset(states, 0, sizeof(*states));
	states->p0 = p0;
	cusum_init(&states->ours, p0, p1, h);
	for (int k = 0; k < FAULT_COUNT; k++)
		cusum_init(&states->oracle[k], p0, fault_ratios[k], INFINITY);
	states->window_steps = steps_of(WINDOW_S, interval_s);
	states->hold_steps = steps_of(HOLD_S, interval_s);
	states->check_steps = steps_of(FLAGGER_EVERY_S, interval_s);
	states->ring_n = calloc((size_t)states->window_steps, sizeof(uint64_t));
	states->ring_f = calloc((size_t)states->window_steps, sizeof(uint64_t));
	states->ring_z = calloc((size_t)states->hold_steps, sizeof(double));
	/*
	 * The mixture's prior: Beta(1, (1 - p0) / p0), centred on p0 with the
	 * weight of one failure, broad enough to cover 1.5 p0 to 50 %.
	 */
	states->prior_a = 1;
	states->prior_b = (1 - p0) / p0;
	states->log_prior_beta = log_beta(states->prior_a, states->prior_b);
	states->log_p0 = log(p0);
	states->log_q0 = log(1 - p0);
	if (states->ring_n == NULL || states->ring_f == NULL || states->ring_z == NULL) {
		rule_states_cleanup(states);
		return -1;
	}
	rule_states_reset(states);
	return 0;
}

void rule_states_reset(struct rule_states *states)
{
	states->ours.score = 0;
	states->ours.queries = states->ours.failed = 0;
	for (int k = 0; k < FAULT_COUNT; k++)
		states->oracle[k].score = 0;
	states->step = 0;
	memset(states->ring_n, 0, (size_t)states->window_steps * sizeof(uint64_t));
	memset(states->ring_f, 0, (size_t)states->window_steps * sizeof(uint64_t));
	for (int i = 0; i < states->hold_steps; i++)
		states->ring_z[i] = -INFINITY;
	states->window_n = states->window_f = 0;
	states->total_n = states->total_f = 0;
}

void rule_states_cleanup(struct rule_states *states)
{
	free(states->ring_n);
	free(states->ring_f);
	free(states->ring_z);
	states->ring_n = states->ring_f = NULL;
	states->ring_z = NULL;
}

double window_score_statistic(uint64_t n, uint64_t f, double p0)
{
	if (n == 0)
		return -INFINITY;
	return ((double)f - (double)n * p0) / sqrt((double)n * p0 * (1 - p0));
}

/* The log of the mixture's likelihood ratio against p0 from the cutover on; one-sided. */
static double bayes_log_factor(const struct rule_states *states)
{
	uint64_t n = states->total_n, f = states->total_f;
	if (n == 0 || (double)f <= (double)n * states->p0)
		return -INFINITY;
	return log_beta(states->prior_a + (double)f, states->prior_b + (double)(n - f)) -
	       states->log_prior_beta - (double)f * states->log_p0 -
	       (double)(n - f) * states->log_q0;
}

void rule_states_step(struct rule_states *states, uint64_t n, uint64_t f,
                      struct rule_statistics *out)
{
	out->ours_fired = cusum_add(&states->ours, n, f);
	out->ours_score = states->ours.score;
	for (int k = 0; k < FAULT_COUNT; k++) {
		cusum_add(&states->oracle[k], n, f);
		out->oracle_score[k] = states->oracle[k].score;
	}
	int slot = states->step % states->window_steps;
	states->window_n += n - states->ring_n[slot];
	states->window_f += f - states->ring_f[slot];
	states->ring_n[slot] = n;
	states->ring_f[slot] = f;
	states->step++;
	out->flagger_check = -INFINITY;
	if (states->step % states->check_steps == 0 && states->window_n > 0)
		out->flagger_check = (double)states->window_f / (double)states->window_n;
	states->ring_z[states->step % states->hold_steps] =
	        window_score_statistic(states->window_n, states->window_f, states->p0);
	double held = INFINITY;
	for (int i = 0; i < states->hold_steps; i++)
		if (states->ring_z[i] < held)
			held = states->ring_z[i];
	out->window_held = held;
	states->total_n += n;
	states->total_f += f;
	out->bayes_log = bayes_log_factor(states);
}

double bernoulli_kl(double p, double q)
{
	return p * log(p / q) + (1 - p) * log((1 - p) / (1 - q));
}
