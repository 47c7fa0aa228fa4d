/*
 * The detection benchmark's tables and its goals: what a traffic level's
 * calibration found, each fault's delays per rule beside the information
 * limit, and at the end which cells meet the goals of the benchmark.
 */
#ifndef TG_DETECTION_REPORT_H
#define TG_DETECTION_REPORT_H

#include <stdbool.h>

#include "detection_rules.h"

#define WATCH_S      (30 * 60)
#define ONSET_LATE_S (20 * 60)

/* One traffic level: reports every INTERVAL_S at QPS. */
struct bench_level {
	int index;
	double interval_s, qps;
	double p0, p1;
};

/* What the healthy watches of a level set. */
struct calibration {
	int watches;
	int ours_false;
	struct rule_thresholds thresholds;
	int false_count[RULE_COUNT];  /* in the same healthy watches, at those thresholds */
	double oracle_h[FAULT_COUNT]; /* the fault-knowing CUSUM's threshold */
};

/* One fault and onset at one level. */
struct cell_result {
	int index;
	int fault; /* 0 .. FAULT_COUNT-1 */
	double fault_ratio;
	int onset_s;
	int watches;
	int early[RULE_COUNT];      /* rolled back before a late onset: false */
	double *delays[RULE_COUNT]; /* seconds after the onset; INFINITY: never */
	int delay_count[RULE_COUNT];
};

/* The goals, gathered while the cells are printed. */
struct bench_summary {
	int levels, levels_over_target;
	int comparator_cells, comparator_met;
	int limit_cells, limit_met;
	char comparator_missed[4096];
	char limit_missed[4096];
	double fifty_at_100_p95; /* 50 % at 100 qps, reports every 200 ms, from the cutover */
};

void report_header(int healthy, int faulty, double p0, double p1, double h,
                   struct bench_summary *summary);
void report_calibration(const struct bench_level *level, const struct calibration *cal,
                        struct bench_summary *summary);
/* Prints CELL (sorting its delays) and notes it against the goals. */
void report_cell(const struct bench_level *level, const struct calibration *cal,
                 struct cell_result *cell, struct bench_summary *summary);
void report_goals(const struct bench_summary *summary);

#endif
