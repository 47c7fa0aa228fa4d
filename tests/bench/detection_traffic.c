/*
 * Seeded traffic for the detection benchmark: splitmix64 and exact Poisson
 * draws (inversion by products below a mean of 10, Hörmann's transformed
 * rejection PTRS above, "The transformed rejection method for generating
 * Poisson random variables", Insurance: Mathematics and Economics 12, 1993),
 * so the tails that decide a false rollback are not an approximation's.
 */
#include "detection_traffic.h"

#include <math.h>

double random_uniform(struct random_stream *stream)
{
	uint64_t z = (stream->state += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	z ^= z >> 31;
	return ((double)(z >> 11) + 0.5) / 9007199254740992.0;
}

void poisson_law_init(struct poisson_law *law, double mean)
{
	*law = (struct poisson_law){.mean = mean > 0 ? mean : 0};
	law->exp_minus_mean = exp(-law->mean);
	if (law->mean < 10)
		return;
	law->sqrt_mean = sqrt(law->mean);
	law->log_mean = log(law->mean);
	law->b = 0.931 + 2.53 * law->sqrt_mean;
	law->a = -0.059 + 0.02483 * law->b;
	law->inv_alpha = 1.1239 + 1.1328 / (law->b - 3.4);
	law->v_r = 0.9277 - 3.6224 / (law->b - 2);
}

static uint64_t poisson_by_products(const struct poisson_law *law, struct random_stream *stream)
{
	double product = random_uniform(stream);
	uint64_t k = 0;
	while (product > law->exp_minus_mean) {
		product *= random_uniform(stream);
		k++;
	}
	return k;
}

static uint64_t poisson_ptrs(const struct poisson_law *law, struct random_stream *stream)
{
	for (;;) {
		double u = random_uniform(stream) - 0.5, v = random_uniform(stream);
		double us = 0.5 - fabs(u);
		double k = floor((2 * law->a / us + law->b) * u + law->mean + 0.43);
		if (us >= 0.07 && v <= law->v_r)
			return (uint64_t)k;
		if (k < 0 || (us < 0.013 && v > us))
			continue;
		if (log(v) + log(law->inv_alpha) - log(law->a / (us * us) + law->b) <=
		    -law->mean + k * law->log_mean - lgamma(k + 1))
			return (uint64_t)k;
	}
}

uint64_t poisson_draw(const struct poisson_law *law, struct random_stream *stream)
{
	if (law->mean <= 0)
		return 0;
	return law->mean < 10 ? poisson_by_products(law, stream) : poisson_ptrs(law, stream);
}

void interval_traffic_init(struct interval_traffic *traffic, double queries_per_interval, double p)
{
	poisson_law_init(&traffic->failed, queries_per_interval * p);
	poisson_law_init(&traffic->ok, queries_per_interval * (1 - p));
}

void interval_traffic_draw(const struct interval_traffic *traffic, struct random_stream *stream,
                           uint64_t *n, uint64_t *f)
{
	*f = poisson_draw(&traffic->failed, stream);
	*n = *f + poisson_draw(&traffic->ok, stream);
}
