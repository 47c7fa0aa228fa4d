/*
 * The cutover gate (docs/DESIGN.md §5): may the load balancer be switched to TARGET?
 * All its nodes live and none STARTING; no mixed-version, config-drift, trino-down or
 * cluster-incomplete finding; and, if it has traffic, a failure ratio whose
 * 99 % Wilson lower bound is under p0. Every failing check is listed.
 */
#ifndef TG_GATE_H
#define TG_GATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "findings.h"
#include "fleet.h"

#define GATE_MAX_CHECKS 16

struct gate_result {
	bool pass;
	size_t failed_count;
	char failed[GATE_MAX_CHECKS][1024]; /* one line per failing check */
};

/*
 * Evaluates the gate for TARGET given the open FINDINGS (as findings_evaluate
 * made them), the fleet, P0 and the ratio window. Pure.
 */
void gate_evaluate(const struct fleet *fleet, const struct cluster_settings *target,
                   const struct finding_list *findings, double p0, int64_t ratio_window_ms,
                   unsigned failure_types, int64_t now_ms, struct gate_result *out);

/*
 * Closes the gate OUT (evaluated or not) during the collector's start-up
 * grace, GRACE_LEFT_MS before the first findings: until every agent had the
 * time to report, "no finding" means "not looked yet", not "healthy".
 */
void gate_close_during_grace(struct gate_result *out, int64_t grace_left_ms);

/* Adds a failing check found outside the gate (the LB's own health of TARGET). */
void gate_add_failure(struct gate_result *out, const char *line);

#endif
