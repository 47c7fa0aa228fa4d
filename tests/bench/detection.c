/*
 * Benchmark: how fast, and how falsely, the degradation test rolls back.
 * A pure, seeded simulation over the rules/ code: Poisson query arrivals,
 * Bernoulli failures, reports every 1 s or every 200 ms, 30-minute watches.
 * The same traffic feeds three rules:
 *   cusum   : ours (rules/degradation.c), h = the evidence threshold
 *   flagger : every 60 s, the ratio of the last 60 s above p0 -> roll back
 *   window  : the 99 % Wilson lower bound over the last 60 s above p0, held 5 s
 * For each cell (report interval, qps, green's true ratio, onset at cutover or
 * at minute 20) it prints rollbacks per 1000 watches and the median and p95
 * detection delay in seconds of traffic after the onset.
 *
 *   detection [--watches N] [--threshold H] [--seed S] [--quick] [--healthy-only]
 *
 * --healthy-only runs only the rows where green is healthy (false rollbacks),
 * where a rate below 1 in 1000 needs many more watches to be seen.
 */
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "degradation.h"
#include "failure_ratio.h"

#define WATCH_SECONDS      (30 * 60)
#define ONSET_LATE_SECONDS (20 * 60)
#define WINDOW_SECONDS     60
#define HOLD_SECONDS       5

static uint64_t rng_state;

static uint64_t next_random(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static double uniform(void)
{
	return ((double)(next_random() >> 11) + 0.5) / 9007199254740992.0;
}

/* Poisson(mean): Knuth's product method below 30, a rounded normal above. */
static uint64_t poisson(double mean)
{
	if (mean <= 0)
		return 0;
	if (mean < 30) {
		double limit = exp(-mean), product = uniform();
		uint64_t k = 0;
		while (product > limit) {
			product *= uniform();
			k++;
		}
		return k;
	}
	double normal = sqrt(-2 * log(uniform())) * cos(2 * M_PI * uniform());
	double value = floor(mean + sqrt(mean) * normal + 0.5);
	return value > 0 ? (uint64_t)value : 0;
}

enum rule { RULE_CUSUM, RULE_FLAGGER, RULE_WINDOW, RULE_COUNT };

struct cell_result {
	int rollbacks[RULE_COUNT];
	int false_before_onset[RULE_COUNT];
	double *delays[RULE_COUNT];
	int delay_count[RULE_COUNT];
};

static int compare_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double percentile(double *values, int count, double q)
{
	if (count == 0)
		return NAN;
	qsort(values, (size_t)count, sizeof(double), compare_double);
	int index = (int)ceil(q * count) - 1;
	return values[index < 0 ? 0 : index];
}

/*
 * One 30-minute watch. Returns per rule the second (of the watch) it rolled
 * back, or -1.
 */
static void run_watch(const struct watch_settings *settings, const struct baseline *baseline,
                      double qps, double healthy_ratio, double ratio, int onset_s,
                      double interval_s, double fired_at[RULE_COUNT])
{
	struct detector detector;
	detector_start(&detector, settings, baseline);
	double p0 = detector.failures.p0;
	int steps = (int)(WATCH_SECONDS / interval_s + 0.5);
	int window_steps = (int)(WINDOW_SECONDS / interval_s + 0.5);
	int hold_steps = (int)(HOLD_SECONDS / interval_s + 0.5);
	int flagger_every = window_steps;
	uint64_t *ring_n = calloc((size_t)window_steps, sizeof(uint64_t));
	uint64_t *ring_f = calloc((size_t)window_steps, sizeof(uint64_t));
	uint64_t window_n = 0, window_f = 0;
	int held = 0;
	for (int r = 0; r < RULE_COUNT; r++)
		fired_at[r] = -1;
	for (int step = 0; step < steps; step++) {
		double t = (step + 1) * interval_s;
		double p = t > onset_s ? ratio : healthy_ratio;
		uint64_t f = poisson(qps * interval_s * p);
		uint64_t n = f + poisson(qps * interval_s * (1 - p));
		if (fired_at[RULE_CUSUM] < 0 && cusum_add(&detector.failures, n, f))
			fired_at[RULE_CUSUM] = t;
		int slot = step % window_steps;
		window_n += n - ring_n[slot];
		window_f += f - ring_f[slot];
		ring_n[slot] = n;
		ring_f[slot] = f;
		if (fired_at[RULE_FLAGGER] < 0 && (step + 1) % flagger_every == 0 && window_n > 0 &&
		    (double)window_f / (double)window_n > p0)
			fired_at[RULE_FLAGGER] = t;
		if (fired_at[RULE_WINDOW] < 0) {
			double lower, upper;
			wilson_interval(window_n, window_f, WILSON_Z_99, &lower, &upper);
			held = lower > p0 ? held + 1 : 0;
			if (held >= hold_steps)
				fired_at[RULE_WINDOW] = t;
		}
		/* every rule has spoken, and after the onset: the rest changes nothing */
		if (t > onset_s && fired_at[0] >= 0 && fired_at[1] >= 0 && fired_at[2] >= 0)
			break;
	}
	free(ring_n);
	free(ring_f);
}

int main(int argc, char **argv)
{
	int watches = 1000;
	double threshold = 15;
	bool quick = false, healthy_only = false;
	rng_state = 20261124;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--watches") == 0 && i + 1 < argc)
			watches = atoi(argv[++i]);
		else if (strcmp(argv[i], "--threshold") == 0 && i + 1 < argc)
			threshold = atof(argv[++i]);
		else if (strcmp(argv[i], "--seed") == 0 && i + 1 < argc)
			rng_state = strtoull(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--quick") == 0)
			quick = true;
		else if (strcmp(argv[i], "--healthy-only") == 0)
			healthy_only = true;
		else {
			fprintf(stderr, "usage: detection [--watches N] [--threshold H] [--seed S] "
			                "[--quick]\n");
			return 2;
		}
	}
	struct watch_settings settings;
	watch_settings_default(&settings);
	settings.evidence_threshold = threshold;
	/* blue failed 2 % of its queries: p0 = max(5 %, 3 x 2 %) = 6 %, p1 = 12 % */
	const double baseline_ratio = 0.02;
	const struct baseline baseline = {1000000, 20000, 0};
	struct detector probe;
	detector_start(&probe, &settings, &baseline);
	const double p0 = probe.failures.p0, p1 = probe.failures.p1;
	const double qps_list[] = {0.1, 1, 10, 100, 1000};
	const struct {
		const char *name;
		double ratio;
		bool healthy;
	} ratios[] = {{"baseline", baseline_ratio, true},
	              {"p0", p0, true},
	              {"1.5 p0", 1.5 * p0, false},
	              {"p1", p1, false},
	              {"10%", 0.10, false},
	              {"50%", 0.50, false}};
	const double intervals[] = {1.0, 0.2};
	printf("detection: %d watches of 30 min per cell; blue's baseline %.0f %%, so p0 = %.1f "
	       "%%, "
	       "p1 = %.1f %%; h = %g; seed-repeatable\n",
	       watches, 100 * baseline_ratio, 100 * p0, 100 * p1, threshold);
	printf("per rule: rollbacks per 1000 watches, then the median and p95 seconds from the "
	       "onset to the rollback;\nhealthy rows count false rollbacks; [N] = false rollbacks "
	       "per 1000 before a late onset\n");
	printf("%-6s %-7s %-9s %-6s | %-26s | %-26s | %-26s\n", "every", "qps", "green", "onset",
	       "cusum (ours)", "flagger 60s", "window 60s+5s");
	bool p0_ok = true;
	double fifty_at_100 = NAN;
	for (size_t iv = 0; iv < (quick ? 1 : 2); iv++) {
		for (size_t q = 0; q < sizeof(qps_list) / sizeof(qps_list[0]); q++) {
			for (size_t r = 0; r < sizeof(ratios) / sizeof(ratios[0]); r++) {
				if (healthy_only && !ratios[r].healthy)
					continue;
				for (int late = 0; late < (ratios[r].healthy ? 1 : 2); late++) {
					int onset = late ? ONSET_LATE_SECONDS : 0;
					struct cell_result cell = {0};
					for (int k = 0; k < RULE_COUNT; k++)
						cell.delays[k] =
						        calloc((size_t)watches, sizeof(double));
					for (int w = 0; w < watches; w++) {
						double fired[RULE_COUNT];
						run_watch(&settings, &baseline, qps_list[q],
						          baseline_ratio, ratios[r].ratio, onset,
						          intervals[iv], fired);
						for (int k = 0; k < RULE_COUNT; k++) {
							if (fired[k] < 0)
								continue;
							cell.rollbacks[k]++;
							if (fired[k] <= onset && !ratios[r].healthy)
								cell.false_before_onset[k]++;
							else if (!ratios[r].healthy)
								cell.delays[k]
								           [cell.delay_count[k]++] =
								        fired[k] - onset;
						}
					}
					printf("%-6s %-7g %-9s %-6s",
					       intervals[iv] == 1.0 ? "1s" : "200ms", qps_list[q],
					       ratios[r].name,
					       ratios[r].healthy ? "-" : (late ? "20min" : "0"));
					for (int k = 0; k < RULE_COUNT; k++) {
						/* healthy rows: every rollback is false; degraded rows:
						 * rollbacks after the onset, and [false ones before it] */
						double caught =
						        1000.0 * cell.delay_count[k] / watches;
						double early = 1000.0 * cell.false_before_onset[k] /
						               watches;
						double median = percentile(
						        cell.delays[k], cell.delay_count[k], 0.5);
						double p95 = percentile(cell.delays[k],
						                        cell.delay_count[k], 0.95);
						char text[64], extra[24] = "";
						if (early > 0)
							snprintf(extra, sizeof(extra), " [%.0f]",
							         early);
						if (ratios[r].healthy)
							snprintf(text, sizeof(text), "%6.1f",
							         1000.0 * cell.rollbacks[k] /
							                 watches);
						else if (cell.delay_count[k] == 0)
							snprintf(text, sizeof(text), "%6.1f%s",
							         caught, extra);
						else
							snprintf(text, sizeof(text),
							         "%6.1f %7.1f %7.1f%s", caught,
							         median, p95, extra);
						printf(" | %-26s", text);
					}
					printf("\n");
					fflush(stdout);
					if (strcmp(ratios[r].name, "p0") == 0 &&
					    cell.rollbacks[RULE_CUSUM] > 0 &&
					    1000.0 * cell.rollbacks[RULE_CUSUM] / watches >= 1.0)
						p0_ok = false;
					if (strcmp(ratios[r].name, "50%") == 0 &&
					    qps_list[q] == 100 && !late && intervals[iv] == 0.2)
						fifty_at_100 = percentile(
						        cell.delays[RULE_CUSUM],
						        cell.delay_count[RULE_CUSUM], 0.95);
					for (int k = 0; k < RULE_COUNT; k++)
						free(cell.delays[k]);
				}
			}
		}
	}
	printf("check: green exactly at p0 rolls back falsely < 1 in 1000 watches at every qps: "
	       "%s\n",
	       p0_ok ? "yes" : "NO");
	if (!isnan(fifty_at_100))
		printf("check: 50 %% failures at 100 qps (reports every 200 ms) caught within %.1f "
		       "s "
		       "(p95): %s\n",
		       fifty_at_100, fifty_at_100 < 1.0 ? "under a second" : "NOT under a second");
	return 0;
}
