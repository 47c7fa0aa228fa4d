/*
 * Benchmark: how soon, at an equal false-rollback rate, the degradation test
 * rolls back, beside calibrated comparators and the information limit. A pure,
 * seeded simulation over the rules/ code (counts per report drawn from their
 * laws, see detection_traffic.h), 30-minute watches, blue's baseline at 2 %
 * (p0 = 6 %, p1 = 12 %), reports every 1 s and every 200 ms, 0.1 to 1000 qps.
 *
 * Per traffic level, first the calibration: healthy watches with green exactly
 * at p0 count the false rollbacks of ours (h fixed), then each comparator's
 * threshold (detection_rules.h) is the strictest that rolls back falsely at
 * most as often on the same watches, and so is the threshold h' of a CUSUM
 * that knows the fault's ratio. Then the faults (1.5 p0, p1, 10 %, 50 %, from
 * the cutover or from minute 20) on the same seeded traffic for every rule:
 * the median and p95 seconds from the onset to the rollback (a watch that
 * never rolls back counts as never, "-"), and the information limit of
 * Lorden's bound, h' / KL(p_fault || p0) queries, in seconds at that qps and
 * rounded up to the report that could carry it.
 *
 *   detection [--healthy N] [--faulty N] [--threshold H] [--seed S] [--quick]
 *
 * --quick: reports every second only, 1000 healthy and 100 faulty watches.
 */
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "degradation.h"
#include "detection_report.h"
#include "detection_rules.h"
#include "detection_traffic.h"

struct bench_options {
	int healthy, faulty;
	double threshold;
	uint64_t seed;
	bool quick;
};

/* Reads the command line; -1 on a usage error. */
static int parse_options(int argc, char **argv, struct bench_options *options)
{
	*options = (struct bench_options){
	        .healthy = 10000, .faulty = 1000, .threshold = 15, .seed = 20261124};
	bool sized = false;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--healthy") == 0 && i + 1 < argc) {
			options->healthy = atoi(argv[++i]);
			sized = true;
		} else if (strcmp(argv[i], "--faulty") == 0 && i + 1 < argc) {
			options->faulty = atoi(argv[++i]);
			sized = true;
		} else if (strcmp(argv[i], "--threshold") == 0 && i + 1 < argc) {
			options->threshold = atof(argv[++i]);
		} else if (strcmp(argv[i], "--seed") == 0 && i + 1 < argc) {
			options->seed = strtoull(argv[++i], NULL, 10);
		} else if (strcmp(argv[i], "--quick") == 0) {
			options->quick = true;
		} else {
			fprintf(stderr, "usage: detection [--healthy N] [--faulty N] "
			                "[--threshold H] [--seed S] [--quick]\n");
			return -1;
		}
	}
	if (options->quick && !sized) {
		options->healthy = 1000;
		options->faulty = 100;
	}
	if (options->healthy < 1 || options->faulty < 1 || !(options->threshold > 0)) {
		fprintf(stderr, "detection: --healthy and --faulty need at least 1, "
		                "--threshold a positive number\n");
		return -1;
	}
	return 0;
}

/* A seed of its own for every (level, cell), so any cell can be rerun alone. */
static void stream_for(struct random_stream *stream, uint64_t seed, int level, int cell)
{
	stream->state = seed ^ ((uint64_t)(level + 1) << 40) ^ ((uint64_t)(cell + 1) << 20);
	random_uniform(stream);
}

/* The largest statistics of one healthy watch: the threshold each would have needed. */
struct healthy_maxima {
	bool ours;
	double flagger; /* the 2nd largest check: the rule fails there */
	double window, bayes;
	double oracle[FAULT_COUNT];
};

static void run_healthy_watch(struct rule_states *states, const struct interval_traffic *traffic,
                              int steps, struct random_stream *stream, struct healthy_maxima *max)
{
	double checks[FLAGGER_FAILED_CHECKS];
	for (int i = 0; i < FLAGGER_FAILED_CHECKS; i++)
		checks[i] = -INFINITY;
	*max = (struct healthy_maxima){.window = -INFINITY, .bayes = -INFINITY};
	for (int k = 0; k < FAULT_COUNT; k++)
		max->oracle[k] = 0;
	rule_states_reset(states);
	for (int step = 0; step < steps; step++) {
		uint64_t n, f;
		struct rule_statistics s;
		interval_traffic_draw(traffic, stream, &n, &f);
		rule_states_step(states, n, f, &s);
		max->ours |= s.ours_fired;
		/* keep the largest FLAGGER_FAILED_CHECKS checks, sorted down */
		for (int i = 0; i < FLAGGER_FAILED_CHECKS; i++) {
			if (s.flagger_check > checks[i]) {
				double moved = checks[i];
				checks[i] = s.flagger_check;
				s.flagger_check = moved;
			}
		}
		if (s.window_held > max->window)
			max->window = s.window_held;
		if (s.bayes_log > max->bayes)
			max->bayes = s.bayes_log;
		for (int k = 0; k < FAULT_COUNT; k++)
			if (s.oracle_score[k] > max->oracle[k])
				max->oracle[k] = s.oracle_score[k];
	}
	max->flagger = checks[FLAGGER_FAILED_CHECKS - 1];
}

static int compare_down(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x > y ? -1 : x < y;
}

/*
 * The strictest threshold at which at most TARGET of the COUNT watches'
 * maxima are above it (a rule fires above its threshold): the (TARGET+1)th
 * largest. Sorts VALUES; puts how many are above it in *ABOVE.
 */
static double threshold_for(double *values, int count, int target, int *above)
{
	qsort(values, (size_t)count, sizeof(double), compare_down);
	double threshold = target < count ? values[target] : -INFINITY;
	*above = 0;
	for (int i = 0; i < count; i++)
		*above += values[i] > threshold;
	return threshold;
}

/* The healthy watches of one level, and the thresholds searched from them. */
static int calibrate(const struct bench_level *level, const struct bench_options *options,
                     struct rule_states *states, struct calibration *cal)
{
	int count = options->healthy;
	double *values = calloc((size_t)count * (3 + FAULT_COUNT), sizeof(double));
	if (values == NULL)
		return -1;
	struct interval_traffic traffic;
	interval_traffic_init(&traffic, level->qps * level->interval_s, level->p0);
	struct random_stream stream;
	stream_for(&stream, options->seed, level->index, 0);
	int steps = (int)(WATCH_S / level->interval_s + 0.5);
	*cal = (struct calibration){.watches = count};
	for (int w = 0; w < count; w++) {
		struct healthy_maxima max;
		run_healthy_watch(states, &traffic, steps, &stream, &max);
		cal->ours_false += max.ours;
		values[0 * count + w] = max.flagger;
		values[1 * count + w] = max.window;
		values[2 * count + w] = max.bayes;
		for (int k = 0; k < FAULT_COUNT; k++)
			values[(3 + k) * count + w] = max.oracle[k];
	}
	int target = cal->ours_false, ignored;
	cal->false_count[RULE_OURS] = target;
	cal->thresholds.ours_h = options->threshold;
	cal->thresholds.flagger_ratio =
	        threshold_for(values, count, target, &cal->false_count[RULE_FLAGGER]);
	cal->thresholds.window_z =
	        threshold_for(values + count, count, target, &cal->false_count[RULE_WINDOW]);
	cal->thresholds.bayes_log =
	        threshold_for(values + 2 * count, count, target, &cal->false_count[RULE_BAYES]);
	for (int k = 0; k < FAULT_COUNT; k++)
		cal->oracle_h[k] = threshold_for(values + (3 + k) * count, count, target, &ignored);
	free(values);
	return 0;
}

/* Which rules fire after this report, given their thresholds (and Flagger's failed checks). */
static void note_fired(const struct rule_statistics *s, const struct rule_thresholds *t,
                       int *failed_checks, bool fired[RULE_COUNT])
{
	fired[RULE_OURS] = s->ours_fired;
	if (s->flagger_check > t->flagger_ratio)
		(*failed_checks)++;
	fired[RULE_FLAGGER] = *failed_checks >= FLAGGER_FAILED_CHECKS;
	fired[RULE_WINDOW] = s->window_held > t->window_z;
	fired[RULE_BAYES] = s->bayes_log > t->bayes_log;
}

/* One faulty watch: per rule the second it rolled back, or -1. */
static void run_faulty_watch(struct rule_states *states, const struct rule_thresholds *thresholds,
                             const struct interval_traffic traffic[2], int onset_step, int steps,
                             double interval_s, struct random_stream *stream,
                             double fired_at[RULE_COUNT])
{
	int failed_checks = 0, pending = RULE_COUNT;
	for (int r = 0; r < RULE_COUNT; r++)
		fired_at[r] = -1;
	rule_states_reset(states);
	for (int step = 0; step < steps && pending > 0; step++) {
		uint64_t n, f;
		struct rule_statistics s;
		interval_traffic_draw(&traffic[step >= onset_step], stream, &n, &f);
		rule_states_step(states, n, f, &s);
		bool fired[RULE_COUNT];
		note_fired(&s, thresholds, &failed_checks, fired);
		for (int r = 0; r < RULE_COUNT; r++) {
			if (fired[r] && fired_at[r] < 0) {
				fired_at[r] = (step + 1) * interval_s;
				pending--;
			}
		}
	}
}

/* One cell's faulty watches: per rule the delays (INFINITY: never) and the early rollbacks. */
static int run_cell(const struct bench_level *level, const struct bench_options *options,
                    const struct calibration *cal, struct rule_states *states,
                    struct cell_result *cell)
{
	memset(cell->early, 0, sizeof(cell->early));
	cell->watches = options->faulty;
	for (int r = 0; r < RULE_COUNT; r++) {
		cell->delays[r] = calloc((size_t)options->faulty, sizeof(double));
		cell->delay_count[r] = 0;
		if (cell->delays[r] == NULL)
			return -1;
	}
	struct interval_traffic traffic[2];
	interval_traffic_init(&traffic[0], level->qps * level->interval_s, level->p0);
	interval_traffic_init(&traffic[1], level->qps * level->interval_s, cell->fault_ratio);
	int onset_step = (int)(cell->onset_s / level->interval_s + 0.5);
	int steps = (int)(WATCH_S / level->interval_s + 0.5);
	struct random_stream stream;
	stream_for(&stream, options->seed, level->index, cell->index + 1);
	for (int w = 0; w < options->faulty; w++) {
		double fired_at[RULE_COUNT];
		run_faulty_watch(states, &cal->thresholds, traffic, onset_step, steps,
		                 level->interval_s, &stream, fired_at);
		for (int r = 0; r < RULE_COUNT; r++) {
			if (fired_at[r] >= 0 && fired_at[r] <= cell->onset_s)
				cell->early[r]++;
			else
				cell->delays[r][cell->delay_count[r]++] =
				        fired_at[r] < 0 ? INFINITY : fired_at[r] - cell->onset_s;
		}
	}
	return 0;
}

/* One level: calibrate, then every fault and onset; -1 when out of memory. */
static int run_level(struct bench_level *level, const struct bench_options *options,
                     struct bench_summary *summary)
{
	const double faults[FAULT_COUNT] = {1.5 * level->p0, level->p1, 0.10, 0.50};
	struct rule_states states;
	if (rule_states_init(&states, level->interval_s, level->p0, level->p1, options->threshold,
	                     faults) != 0)
		return -1;
	struct calibration cal;
	int rc = calibrate(level, options, &states, &cal);
	if (rc == 0)
		report_calibration(level, &cal, summary);
	for (int k = 0; k < FAULT_COUNT && rc == 0; k++) {
		for (int late = 0; late < 2 && rc == 0; late++) {
			struct cell_result cell = {.index = 2 * k + late,
			                           .fault = k,
			                           .fault_ratio = faults[k],
			                           .onset_s = late ? ONSET_LATE_S : 0};
			rc = run_cell(level, options, &cal, &states, &cell);
			if (rc == 0)
				report_cell(level, &cal, &cell, summary);
			for (int r = 0; r < RULE_COUNT; r++)
				free(cell.delays[r]);
		}
	}
	rule_states_cleanup(&states);
	return rc;
}

int main(int argc, char **argv)
{
	struct bench_options options;
	if (parse_options(argc, argv, &options) != 0)
		return 2;
	/* blue failed 2 % of its queries: p0 = max(5 %, 3 x 2 %) = 6 %, p1 = 12 % */
	struct watch_settings settings;
	watch_settings_default(&settings);
	settings.evidence_threshold = options.threshold;
	struct detector probe;
	struct baseline baseline = {1000000, 20000, 0};
	detector_start(&probe, &settings, &baseline);
	const double qps_list[] = {0.1, 1, 10, 100, 1000};
	const double intervals[] = {1.0, 0.2};
	struct bench_summary summary;
	report_header(options.healthy, options.faulty, probe.failures.p0, probe.failures.p1,
	              options.threshold, &summary);
	int index = 0;
	for (size_t iv = 0; iv < (options.quick ? 1 : 2); iv++) {
		for (size_t q = 0; q < sizeof(qps_list) / sizeof(qps_list[0]); q++) {
			struct bench_level level = {.index = index++,
			                            .interval_s = intervals[iv],
			                            .qps = qps_list[q],
			                            .p0 = probe.failures.p0,
			                            .p1 = probe.failures.p1};
			if (run_level(&level, &options, &summary) != 0) {
				fprintf(stderr, "detection: out of memory\n");
				return 1;
			}
		}
	}
	report_goals(&summary);
	return 0;
}
