/*
 * The cutover gate: the findings that block a switch, the liveness of every
 * node, and the target's own failure ratio.
 */
#include "gate.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "failure_ratio.h"

static void fail(struct gate_result *out, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));

static void fail(struct gate_result *out, const char *fmt, ...)
{
	out->pass = false;
	if (out->failed_count == GATE_MAX_CHECKS)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(out->failed[out->failed_count++], sizeof(out->failed[0]), fmt, ap);
	va_end(ap);
}

static bool blocks(enum finding_kind kind)
{
	return kind == FINDING_MIXED_VERSION || kind == FINDING_CONFIG_DRIFT ||
	       kind == FINDING_TRINO_DOWN || kind == FINDING_CLUSTER_INCOMPLETE ||
	       kind == FINDING_NODE_STALE;
}

void gate_evaluate(const struct fleet *fleet, const struct cluster_settings *target,
                   const struct finding_list *findings, double p0, int64_t ratio_window_ms,
                   unsigned failure_types, int64_t now_ms, struct gate_result *out)
{
	memset(out, 0, sizeof(*out));
	out->pass = true;
	size_t known = 0;
	for (size_t i = 0; i < fleet->count; i++) {
		const struct fleet_node *node = fleet->nodes[i];
		if (strcmp(node->cluster, target->name) != 0)
			continue;
		known++;
		/* /v1/info says "starting": its management endpoints answer 503, no queries yet */
		if (node->state == TRINOGUARD__V1__NODE_STATE__STATE_STARTING)
			fail(out, "%s is STARTING: Trino on it has not finished starting",
			     node->node_id);
	}
	if (known == 0)
		fail(out, "cluster %s has no node reporting", target->name);
	for (size_t i = 0; i < findings->count; i++) {
		const struct finding *f = &findings->items[i];
		if (strcmp(f->cluster, target->name) == 0 && blocks(f->kind))
			fail(out, "%s: %s", finding_kind_name(f->kind), f->summary);
	}
	/* the target's own traffic, read where its queries are planned */
	const struct fleet_node *coordinator = cluster_live_coordinator(fleet, target, now_ms);
	if (coordinator != NULL && coordinator->sample_count >= 2) {
		struct ratio_window w;
		failure_ratio_window(coordinator, now_ms, ratio_window_ms, failure_types, &w);
		if (w.queries > 0 && w.lower >= p0)
			fail(out,
			     "failure ratio of %s is %.1f %% over %lld queries (99 %% lower bound "
			     "%.1f %%), not under the tolerated %.1f %%",
			     target->name, 100 * w.ratio, (long long)w.queries, 100 * w.lower,
			     100 * p0);
	}
}

void gate_close_during_grace(struct gate_result *out, int64_t grace_left_ms)
{
	fail(out,
	     "start-up grace: no finding is evaluated until every agent had its stale_after "
	     "to report (%lld ms left); ask again then",
	     (long long)(grace_left_ms > 0 ? grace_left_ms : 0));
}

void gate_add_failure(struct gate_result *out, const char *line)
{
	fail(out, "%s", line);
}
