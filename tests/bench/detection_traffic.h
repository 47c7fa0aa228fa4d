/*
 * The detection benchmark's seeded traffic: a splitmix64 stream and exact
 * Poisson draws, so a report interval's finished and failed queries are drawn
 * as two counts instead of query by query.
 */
#ifndef TG_DETECTION_TRAFFIC_H
#define TG_DETECTION_TRAFFIC_H

#include <stdint.h>

struct random_stream {
	uint64_t state;
};

/* Uniform in (0, 1). */
double random_uniform(struct random_stream *stream);

/* A Poisson law of one mean, with its constants worked out once. */
struct poisson_law {
	double mean;
	double exp_minus_mean;                            /* inversion, below a mean of 10 */
	double sqrt_mean, log_mean, a, b, inv_alpha, v_r; /* transformed rejection */
};

void poisson_law_init(struct poisson_law *law, double mean);

/* One draw from LAW. */
uint64_t poisson_draw(const struct poisson_law *law, struct random_stream *stream);

/*
 * One report interval of traffic at true failure ratio P: N finished queries,
 * F of them failed. Poisson arrivals thinned by a Bernoulli failure are two
 * independent Poisson counts (failed at qps x interval x p, the rest at
 * qps x interval x (1 - p)), which is the same law as N ~ Poisson and
 * F ~ Binomial(N, p), drawn in two steps whatever the traffic.
 */
struct interval_traffic {
	struct poisson_law failed, ok;
};

void interval_traffic_init(struct interval_traffic *traffic, double queries_per_interval, double p);
void interval_traffic_draw(const struct interval_traffic *traffic, struct random_stream *stream,
                           uint64_t *n, uint64_t *f);

#endif
