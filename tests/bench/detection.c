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

struct bench_options {
	int watches;
	double threshold;
	bool quick;
	bool healthy_only;
};

/* One row of green's true failure ratio; healthy rows count false rollbacks only. */
struct green_ratio {
	const char *name;
	double ratio;
	bool healthy;
};

/* What every cell shares: the watch settings and blue's baseline. */
struct scenario {
	struct watch_settings settings;
	struct baseline baseline;
	double baseline_ratio;
};

/* One cell of the table: report interval, traffic, green's ratio and onset. */
struct cell_spec {
	double interval_s;
	double qps;
	const struct green_ratio *green;
	int late;
	int onset_s;
};

/* The two claims checked at the end, gathered while the cells run. */
struct bench_checks {
	bool p0_ok;
	double fifty_at_100;
};

/* Reads the command line (and the seed into rng_state); -1 on a usage error. */
static int parse_options(int argc, char **argv, struct bench_options *options)
{
	*options = (struct bench_options){.watches = 1000, .threshold = 15};
	rng_state = 20261124;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--watches") == 0 && i + 1 < argc)
			options->watches = atoi(argv[++i]);
		else if (strcmp(argv[i], "--threshold") == 0 && i + 1 < argc)
			options->threshold = atof(argv[++i]);
		else if (strcmp(argv[i], "--seed") == 0 && i + 1 < argc)
			rng_state = strtoull(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--quick") == 0)
			options->quick = true;
		else if (strcmp(argv[i], "--healthy-only") == 0)
			options->healthy_only = true;
		else {
			fprintf(stderr, "usage: detection [--watches N] [--threshold H] [--seed S] "
			                "[--quick]\n");
			return -1;
		}
	}
	return 0;
}

/*
 * Runs the cell's watches and counts per rule its rollbacks, the false ones
 * before a degraded row's onset and the delays of the others. The caller frees
 * cell->delays[].
 */
static void run_cell(const struct scenario *scenario, const struct cell_spec *spec, int watches,
                     struct cell_result *cell)
{
	*cell = (struct cell_result){0};
	for (int k = 0; k < RULE_COUNT; k++)
		cell->delays[k] = calloc((size_t)watches, sizeof(double));
	for (int w = 0; w < watches; w++) {
		double fired[RULE_COUNT];
		run_watch(&scenario->settings, &scenario->baseline, spec->qps,
		          scenario->baseline_ratio, spec->green->ratio, spec->onset_s,
		          spec->interval_s, fired);
		for (int k = 0; k < RULE_COUNT; k++) {
			if (fired[k] < 0)
				continue;
			cell->rollbacks[k]++;
			if (fired[k] <= spec->onset_s && !spec->green->healthy)
				cell->false_before_onset[k]++;
			else if (!spec->green->healthy)
				cell->delays[k][cell->delay_count[k]++] = fired[k] - spec->onset_s;
		}
	}
}

/*
 * One rule's column: healthy rows, every rollback is false; degraded rows,
 * rollbacks after the onset, their median and p95 delay, and [false ones before it].
 */
static void format_rule_column(struct cell_result *cell, int rule, bool healthy, int watches,
                               char *text, size_t text_size)
{
	double caught = 1000.0 * cell->delay_count[rule] / watches;
	double early = 1000.0 * cell->false_before_onset[rule] / watches;
	double median = percentile(cell->delays[rule], cell->delay_count[rule], 0.5);
	double p95 = percentile(cell->delays[rule], cell->delay_count[rule], 0.95);
	char extra[24] = "";
	if (early > 0)
		snprintf(extra, sizeof(extra), " [%.0f]", early);
	if (healthy)
		snprintf(text, text_size, "%6.1f", 1000.0 * cell->rollbacks[rule] / watches);
	else if (cell->delay_count[rule] == 0)
		snprintf(text, text_size, "%6.1f%s", caught, extra);
	else
		snprintf(text, text_size, "%6.1f %7.1f %7.1f%s", caught, median, p95, extra);
}

static void print_cell(const struct cell_spec *spec, struct cell_result *cell, int watches)
{
	printf("%-6s %-7g %-9s %-6s", spec->interval_s == 1.0 ? "1s" : "200ms", spec->qps,
	       spec->green->name, spec->green->healthy ? "-" : (spec->late ? "20min" : "0"));
	for (int k = 0; k < RULE_COUNT; k++) {
		char text[64];
		format_rule_column(cell, k, spec->green->healthy, watches, text, sizeof(text));
		printf(" | %-26s", text);
	}
	printf("\n");
	fflush(stdout);
}

/* Runs and prints one cell, and notes what it says about the two final checks. */
static void run_and_print_cell(const struct scenario *scenario, const struct cell_spec *spec,
                               int watches, struct bench_checks *checks)
{
	struct cell_result cell;
	run_cell(scenario, spec, watches, &cell);
	print_cell(spec, &cell, watches);
	if (strcmp(spec->green->name, "p0") == 0 && cell.rollbacks[RULE_CUSUM] > 0 &&
	    1000.0 * cell.rollbacks[RULE_CUSUM] / watches >= 1.0)
		checks->p0_ok = false;
	if (strcmp(spec->green->name, "50%") == 0 && spec->qps == 100 && !spec->late &&
	    spec->interval_s == 0.2)
		checks->fifty_at_100 =
		        percentile(cell.delays[RULE_CUSUM], cell.delay_count[RULE_CUSUM], 0.95);
	for (int k = 0; k < RULE_COUNT; k++)
		free(cell.delays[k]);
}

static void print_header(int watches, double baseline_ratio, double p0, double p1, double threshold)
{
	printf("detection: %d watches of 30 min per cell; blue's baseline %.0f %%, so p0 = %.1f "
	       "%%, "
	       "p1 = %.1f %%; h = %g; seed-repeatable\n",
	       watches, 100 * baseline_ratio, 100 * p0, 100 * p1, threshold);
	printf("per rule: rollbacks per 1000 watches, then the median and p95 seconds from the "
	       "onset to the rollback;\nhealthy rows count false rollbacks; [N] = false rollbacks "
	       "per 1000 before a late onset\n");
	printf("%-6s %-7s %-9s %-6s | %-26s | %-26s | %-26s\n", "every", "qps", "green", "onset",
	       "cusum (ours)", "flagger 60s", "window 60s+5s");
}

static void print_checks(const struct bench_checks *checks)
{
	printf("check: green exactly at p0 rolls back falsely < 1 in 1000 watches at every qps: "
	       "%s\n",
	       checks->p0_ok ? "yes" : "NO");
	if (!isnan(checks->fifty_at_100))
		printf("check: 50 %% failures at 100 qps (reports every 200 ms) caught within %.1f "
		       "s "
		       "(p95): %s\n",
		       checks->fifty_at_100,
		       checks->fifty_at_100 < 1.0 ? "under a second" : "NOT under a second");
}

int main(int argc, char **argv)
{
	struct bench_options options;
	if (parse_options(argc, argv, &options) != 0)
		return 2;
	/* blue failed 2 % of its queries: p0 = max(5 %, 3 x 2 %) = 6 %, p1 = 12 % */
	struct scenario scenario = {.baseline = {1000000, 20000, 0}, .baseline_ratio = 0.02};
	watch_settings_default(&scenario.settings);
	scenario.settings.evidence_threshold = options.threshold;
	struct detector probe;
	detector_start(&probe, &scenario.settings, &scenario.baseline);
	const double p0 = probe.failures.p0, p1 = probe.failures.p1;
	const double qps_list[] = {0.1, 1, 10, 100, 1000};
	const struct green_ratio ratios[] = {{"baseline", scenario.baseline_ratio, true},
	                                     {"p0", p0, true},
	                                     {"1.5 p0", 1.5 * p0, false},
	                                     {"p1", p1, false},
	                                     {"10%", 0.10, false},
	                                     {"50%", 0.50, false}};
	const double intervals[] = {1.0, 0.2};
	print_header(options.watches, scenario.baseline_ratio, p0, p1, options.threshold);
	struct bench_checks checks = {.p0_ok = true, .fifty_at_100 = NAN};
	for (size_t iv = 0; iv < (options.quick ? 1 : 2); iv++) {
		for (size_t q = 0; q < sizeof(qps_list) / sizeof(qps_list[0]); q++) {
			for (size_t r = 0; r < sizeof(ratios) / sizeof(ratios[0]); r++) {
				if (options.healthy_only && !ratios[r].healthy)
					continue;
				for (int late = 0; late < (ratios[r].healthy ? 1 : 2); late++) {
					struct cell_spec spec = {intervals[iv], qps_list[q],
					                         &ratios[r], late,
					                         late ? ONSET_LATE_SECONDS : 0};
					run_and_print_cell(&scenario, &spec, options.watches,
					                   &checks);
				}
			}
		}
	}
	print_checks(&checks);
	return 0;
}
