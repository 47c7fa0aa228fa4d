/*
 * The detection benchmark's output (see detection_report.h). Medians and p95
 * count a watch that never rolled back as never: "-" when more than half (or
 * 5 %) of the watches did not roll back within the watch; "only ours" where
 * no comparator rolled back in half of them.
 */
#include "detection_report.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const fault_names[FAULT_COUNT] = {"1.5 p0", "p1", "10%", "50%"};

static int compare_up(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* Quantile Q of sorted VALUES; INFINITY when there are none. */
static double quantile(const double *values, int count, double q)
{
	if (count == 0)
		return INFINITY;
	int index = (int)ceil(q * count) - 1;
	return values[index < 0 ? 0 : index];
}

static void format_seconds(double seconds, char *text, size_t size)
{
	if (isinf(seconds))
		snprintf(text, size, "-");
	else
		snprintf(text, size, "%.1f", seconds);
}

static void format_ratio(double ratio, char *text, size_t size)
{
	if (isnan(ratio) || isinf(ratio))
		snprintf(text, size, "-");
	else
		snprintf(text, size, "%.2f", ratio);
}

void report_header(int healthy, int faulty, double p0, double p1, double h,
                   struct bench_summary *summary)
{
	*summary = (struct bench_summary){.fifty_at_100_p95 = NAN};
	printf("detection: 30-minute watches; blue's baseline 2 %%, so p0 = %.1f %%, p1 = %.1f "
	       "%%; ours at h = %g; seed-repeatable\n",
	       100 * p0, 100 * p1, h);
	printf("calibration: %d healthy watches per level with green exactly at p0; each "
	       "comparator's threshold is the strictest\nthat rolls back falsely at most as "
	       "often as ours on those watches (flagger: the ratio a check fails above,\n"
	       "every %d s over the last %d s, rollback at the %dnd failed check; window: z of "
	       "the Wilson bound over %d s held %d s;\nbayes: log of the beta-binomial mixture's "
	       "likelihood ratio against p0 from the cutover, prior Beta(1, (1-p0)/p0))\n",
	       healthy, FLAGGER_EVERY_S, WINDOW_S, FLAGGER_FAILED_CHECKS, WINDOW_S, HOLD_S);
	printf("faults: %d watches per cell; per rule the median / p95 seconds from the onset "
	       "to the rollback ('-': not within the watch),\n[N]: false rollbacks per 1000 "
	       "before a late onset; limit: Lorden's h' / KL(p_fault || p0) queries in seconds,\n"
	       "h' the threshold at which a CUSUM knowing p_fault rolls back as often as ours, "
	       "rounded up to a whole report\n",
	       faulty);
}

void report_calibration(const struct bench_level *level, const struct calibration *cal,
                        struct bench_summary *summary)
{
	double per_1000 = 1000.0 * cal->ours_false / cal->watches;
	summary->levels++;
	if (per_1000 >= 1.0)
		summary->levels_over_target++;
	printf("\nreports every %s, %g qps: false rollbacks per 1000 watches at p0: ours %.1f, "
	       "flagger %.1f, window %.1f, bayes %.1f\n",
	       level->interval_s == 1.0 ? "1 s" : "200 ms", level->qps, per_1000,
	       1000.0 * cal->false_count[RULE_FLAGGER] / cal->watches,
	       1000.0 * cal->false_count[RULE_WINDOW] / cal->watches,
	       1000.0 * cal->false_count[RULE_BAYES] / cal->watches);
	printf("  thresholds: flagger ratio %.4f, window z %.2f, bayes log %.2f; h' for the "
	       "faults %.1f %.1f %.1f %.1f\n",
	       cal->thresholds.flagger_ratio, cal->thresholds.window_z, cal->thresholds.bayes_log,
	       cal->oracle_h[0], cal->oracle_h[1], cal->oracle_h[2], cal->oracle_h[3]);
	printf("  %-6s %-6s | %-16s | %-16s | %-16s | %-16s | %8s | %9s | %10s\n", "fault", "onset",
	       "ours", "flagger", "window", "bayes", "limit s", "ours/best", "ours/limit");
}

/* One rule's "median / p95 [early]". */
static void format_rule(const struct cell_result *cell, int rule, double *median, char *text,
                        size_t size)
{
	char med[16], p95[16], early[16] = "";
	*median = quantile(cell->delays[rule], cell->delay_count[rule], 0.5);
	format_seconds(*median, med, sizeof(med));
	format_seconds(quantile(cell->delays[rule], cell->delay_count[rule], 0.95), p95,
	               sizeof(p95));
	if (cell->early[rule] > 0)
		snprintf(early, sizeof(early), " [%.0f]",
		         1000.0 * cell->early[rule] / cell->watches);
	snprintf(text, size, "%s / %s%s", med, p95, early);
}

static void note_miss(char *list, size_t size, const struct bench_level *level,
                      const struct cell_result *cell, double ratio)
{
	size_t used = strlen(list);
	char ratio_text[16];
	format_ratio(ratio, ratio_text, sizeof(ratio_text));
	snprintf(list + used, size - used, "%s%s %g qps %s %s (%s)", used > 0 ? "; " : "",
	         level->interval_s == 1.0 ? "1s" : "200ms", level->qps, fault_names[cell->fault],
	         cell->onset_s > 0 ? "20min" : "cutover", ratio_text);
}

/* Notes the cell against both goals. */
static void note_goals(const struct bench_level *level, const struct cell_result *cell,
                       const double median[RULE_COUNT], double best, double limit,
                       struct bench_summary *summary)
{
	double ours = median[RULE_OURS];
	bool any = false;
	for (int r = 0; r < RULE_COUNT; r++)
		any |= !isinf(median[r]);
	if (cell->onset_s > 0 && level->qps >= 10 && any) {
		summary->comparator_cells++;
		double ratio = ours / best;
		if (!isinf(ours) && (isinf(best) || ratio <= 0.5))
			summary->comparator_met++;
		else
			note_miss(summary->comparator_missed, sizeof(summary->comparator_missed),
			          level, cell, ratio);
	}
	if (any) {
		summary->limit_cells++;
		double ratio = ours / limit;
		if (ratio <= 1.5)
			summary->limit_met++;
		else
			note_miss(summary->limit_missed, sizeof(summary->limit_missed), level, cell,
			          ratio);
	}
	if (cell->fault == FAULT_COUNT - 1 && cell->onset_s == 0 && level->qps == 100 &&
	    level->interval_s < 1.0) {
		summary->fifty_at_100_p95 =
		        quantile(cell->delays[RULE_OURS], cell->delay_count[RULE_OURS], 0.95);
	}
}

void report_cell(const struct bench_level *level, const struct calibration *cal,
                 struct cell_result *cell, struct bench_summary *summary)
{
	double median[RULE_COUNT];
	char text[RULE_COUNT][48];
	for (int r = 0; r < RULE_COUNT; r++) {
		qsort(cell->delays[r], (size_t)cell->delay_count[r], sizeof(double), compare_up);
		format_rule(cell, r, &median[r], text[r], sizeof(text[r]));
	}
	double best = INFINITY;
	for (int r = RULE_OURS + 1; r < RULE_COUNT; r++)
		if (median[r] < best)
			best = median[r];
	double queries = cal->oracle_h[cell->fault] / bernoulli_kl(cell->fault_ratio, level->p0);
	double reports = ceil(queries / (level->qps * level->interval_s) - 1e-9);
	double limit = (reports < 1 ? 1 : reports) * level->interval_s;
	char limit_text[16], best_ratio[16], limit_ratio[16];
	format_seconds(limit, limit_text, sizeof(limit_text));
	if (isinf(best) && !isinf(median[RULE_OURS]))
		snprintf(best_ratio, sizeof(best_ratio), "only ours");
	else
		format_ratio(median[RULE_OURS] / best, best_ratio, sizeof(best_ratio));
	format_ratio(median[RULE_OURS] / limit, limit_ratio, sizeof(limit_ratio));
	printf("  %-6s %-6s | %-16s | %-16s | %-16s | %-16s | %8s | %9s | %10s\n",
	       fault_names[cell->fault], cell->onset_s > 0 ? "20min" : "0", text[RULE_OURS],
	       text[RULE_FLAGGER], text[RULE_WINDOW], text[RULE_BAYES], limit_text, best_ratio,
	       limit_ratio);
	fflush(stdout);
	note_goals(level, cell, median, best, limit, summary);
}

void report_goals(const struct bench_summary *summary)
{
	printf("\ncheck: green exactly at p0 rolls back falsely < 1 in 1000 watches: %s (%d of "
	       "%d levels over)\n",
	       summary->levels_over_target == 0 ? "yes" : "NO", summary->levels_over_target,
	       summary->levels);
	printf("goal: late onset at >= 10 qps, ours <= 0.5 x the best calibrated comparator's "
	       "median: %d of %d cells\n",
	       summary->comparator_met, summary->comparator_cells);
	if (summary->comparator_missed[0] != '\0')
		printf("  missed (ours/best): %s\n", summary->comparator_missed);
	printf("goal: ours <= 1.5 x the information limit where any rule rolls back within "
	       "the watch: %d of %d cells\n",
	       summary->limit_met, summary->limit_cells);
	if (summary->limit_missed[0] != '\0')
		printf("  missed (ours/limit): %s\n", summary->limit_missed);
	if (!isnan(summary->fifty_at_100_p95))
		printf("check: 50 %% failures at 100 qps (reports every 200 ms) caught within "
		       "%.1f s (p95)\n",
		       summary->fifty_at_100_p95);
}
