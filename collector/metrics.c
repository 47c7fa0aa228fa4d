/*
 * Prometheus text format (prometheus.io "Exposition formats"; checked by
 * promtool in the tests): one HELP and TYPE per
 * family, its samples together, label values escaped, counters ending in
 * _total, base units (seconds), times as _timestamp_seconds, a final newline.
 * No label takes a value that changes in a series' life (a node's state is
 * a 0/1 series per state, as the cutover's phase is).
 */
#include "metrics.h"

#include <event2/buffer.h>
#include <string.h>

#include "alerts.h"
#include "cutover_runner.h"
#include "drain.h"
#include "ha.h"
#include "switch_accounting.h"
#include "failure_ratio.h"
#include "ingest.h"
#include "journal.h"
#include "process_metrics.h"
#include "report_codec.h"

const double tick_bucket_bounds[TICK_BUCKETS] = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
                                                 0.01,   0.025,   0.05,   0.1,   0.25,   1.0};

static void family(struct evbuffer *out, const char *name, const char *type, const char *help)
{
	evbuffer_add_printf(out, "# HELP trino_guard_%s %s\n# TYPE trino_guard_%s %s\n", name, help,
	                    name, type);
}

/* Writes VALUE as a label value: backslash, quote and newline escaped. */
static void label(struct evbuffer *out, const char *value)
{
	for (const char *p = value; *p != '\0'; p++) {
		if (*p == '\\' || *p == '"')
			evbuffer_add_printf(out, "\\%c", *p);
		else if (*p == '\n')
			evbuffer_add(out, "\\n", 2);
		else
			evbuffer_add(out, p, 1);
	}
}

static const struct cluster_settings *settings_of(const struct collector *collector,
                                                  const char *cluster)
{
	for (size_t i = 0; i < collector->cluster_count; i++)
		if (strcmp(collector->clusters[i].name, cluster) == 0)
			return &collector->clusters[i];
	return NULL;
}

static void write_ingest(const struct collector *collector, struct evbuffer *out)
{
	const struct ingest_stats *s = ingest_stats(collector->ingest);
	family(out, "reports_received_total", "counter", "Messages received from agents.");
	evbuffer_add_printf(out, "trino_guard_reports_received_total %llu\n",
	                    (unsigned long long)s->received);
	family(out, "reports_accepted_total", "counter", "Valid reports recorded in the fleet.");
	evbuffer_add_printf(out, "trino_guard_reports_accepted_total %llu\n",
	                    (unsigned long long)s->accepted);
	family(out, "reports_duplicate_total", "counter",
	       "Reports dropped as older than the node's last one.");
	evbuffer_add_printf(out, "trino_guard_reports_duplicate_total %llu\n",
	                    (unsigned long long)s->duplicates);
	family(out, "reports_rejected_total", "counter", "Reports rejected, by reason.");
	for (int r = 1; r < INGEST_REJECT_COUNT; r++)
		evbuffer_add_printf(out, "trino_guard_reports_rejected_total{reason=\"%s\"} %llu\n",
		                    ingest_reject_name(r), (unsigned long long)s->rejected[r]);
	family(out, "connections_refused_total", "counter",
	       "Agent connections refused by the key allow-list.");
	evbuffer_add_printf(out, "trino_guard_connections_refused_total %llu\n",
	                    (unsigned long long)s->keys_refused);
	family(out, "connections_closed_total", "counter",
	       "Agent connections closed because their key left the allow-list (SIGHUP).");
	evbuffer_add_printf(out, "trino_guard_connections_closed_total %llu\n",
	                    (unsigned long long)s->sessions_closed);
	family(out, "allowed_keys", "gauge", "Agent keys in the allow-list.");
	evbuffer_add_printf(out, "trino_guard_allowed_keys %zu\n",
	                    ingest_allowed_keys(collector->ingest));
}

/* One series per node and state, 1 for the node's state: a change moves a value, not a series. */
static void write_node_states(const struct collector *collector, struct evbuffer *out)
{
	family(out, "node_state", "gauge", "The node's Trino state (1 = current).");
	for (size_t i = 0; i < collector->fleet.count; i++) {
		const struct fleet_node *node = collector->fleet.nodes[i];
		for (int s = TRINOGUARD__V1__NODE_STATE__STATE_UNKNOWN;
		     s <= TRINOGUARD__V1__NODE_STATE__STATE_UNREACHABLE; s++) {
			evbuffer_add_printf(out, "trino_guard_node_state{cluster=\"%s\",node=\"",
			                    node->cluster);
			label(out, node->node_id);
			evbuffer_add_printf(out, "\",state=\"%s\"} %d\n", report_state_name(s),
			                    node->state == s);
		}
	}
}

static void write_nodes(const struct collector *collector, struct clock_now now,
                        struct evbuffer *out)
{
	int64_t now_ms = now.mono_ms;
	family(out, "nodes", "gauge", "Nodes known per cluster, live or stale.");
	for (size_t c = 0; c < collector->cluster_count; c++) {
		const struct cluster_settings *settings = &collector->clusters[c];
		int live = 0, stale = 0;
		for (size_t i = 0; i < collector->fleet.count; i++) {
			const struct fleet_node *node = collector->fleet.nodes[i];
			if (strcmp(node->cluster, settings->name) != 0)
				continue;
			if (node_live(node, settings, now_ms))
				live++;
			else
				stale++;
		}
		evbuffer_add_printf(out, "trino_guard_nodes{cluster=\"%s\",liveness=\"live\"} %d\n",
		                    settings->name, live);
		evbuffer_add_printf(out,
		                    "trino_guard_nodes{cluster=\"%s\",liveness=\"stale\"} %d\n",
		                    settings->name, stale);
	}
	family(out, "node_info", "gauge",
	       "One per node: its cluster, role and Trino version (value always 1).");
	for (size_t i = 0; i < collector->fleet.count; i++) {
		const struct fleet_node *node = collector->fleet.nodes[i];
		evbuffer_add_printf(out, "trino_guard_node_info{cluster=\"%s\",node=\"",
		                    node->cluster);
		label(out, node->node_id);
		evbuffer_add_printf(out, "\",role=\"%s\",version=\"", report_role_name(node->role));
		label(out, node->version);
		evbuffer_add(out, "\"} 1\n", 5);
	}
	write_node_states(collector, out);
	family(out, "node_last_report_timestamp_seconds", "gauge",
	       "When the node's last report arrived (Unix time, the collector's clock).");
	for (size_t i = 0; i < collector->fleet.count; i++) {
		const struct fleet_node *node = collector->fleet.nodes[i];
		evbuffer_add_printf(
		        out,
		        "trino_guard_node_last_report_timestamp_seconds{cluster=\"%s\",node=\"",
		        node->cluster);
		label(out, node->node_id);
		evbuffer_add_printf(out, "\"} %.3f\n",
		                    (double)(now.unix_ms - (now.mono_ms - node->received_ms)) /
		                            1000.0);
	}
}

static void write_findings(const struct collector *collector, struct evbuffer *out)
{
	family(out, "findings", "gauge", "Open findings per cluster, rule and severity.");
	for (size_t c = 0; c < collector->cluster_count; c++) {
		for (int k = 0; k < FINDING_KIND_COUNT; k++) {
			int count[4] = {0};
			for (size_t i = 0; i < collector->findings.count; i++) {
				const struct finding *f = &collector->findings.items[i];
				if ((int)f->kind == k &&
				    strcmp(f->cluster, collector->clusters[c].name) == 0)
					count[f->severity]++;
			}
			for (int s = 0; s < 4; s++)
				if (count[s] > 0)
					evbuffer_add_printf(
					        out,
					        "trino_guard_findings{cluster=\"%s\",rule=\"%s\","
					        "severity=\"%s\"} %d\n",
					        collector->clusters[c].name,
					        finding_kind_name((enum finding_kind)k),
					        severity_name((enum severity)s), count[s]);
		}
	}
}

static void write_ratios(const struct collector *collector, int64_t now_ms, struct evbuffer *out)
{
	family(out, "cluster_failure_ratio", "gauge",
	       "Failed share of finished queries over the last 60 s (internal, external and "
	       "insufficient resources).");
	for (size_t i = 0; i < collector->fleet.count; i++) {
		const struct fleet_node *node = collector->fleet.nodes[i];
		const struct cluster_settings *settings = settings_of(collector, node->cluster);
		if (node->role != TRINOGUARD__V1__NODE_ROLE__ROLE_COORDINATOR || settings == NULL ||
		    !node_live(node, settings, now_ms))
			continue;
		struct ratio_window w;
		failure_ratio_window(node, now_ms, 60000, FAILURE_TYPES_DEFAULT, &w);
		evbuffer_add_printf(out, "trino_guard_cluster_failure_ratio{cluster=\"%s\"} %.6f\n",
		                    node->cluster, w.ratio);
	}
}

/* Finished queries per cluster and outcome, summed from the coordinators' counter deltas. */
static void write_queries(const struct collector *collector, struct evbuffer *out)
{
	family(out, "queries_total", "counter",
	       "Queries finished per cluster, by outcome (from the coordinator's counters).");
	for (size_t c = 0; c < collector->cluster_count; c++)
		for (int o = 0; o < QUERY_OUTCOME_COUNT; o++)
			evbuffer_add_printf(
			        out,
			        "trino_guard_queries_total{cluster=\"%s\",outcome=\"%s\"} %llu\n",
			        collector->clusters[c].name,
			        query_outcome_name((enum query_outcome)o),
			        (unsigned long long)collector->queries_total[c][o]);
}

/* Switches by source, target and result, their durations, rollbacks by cause. */
static void write_switches(const struct cutover_counters *c, struct evbuffer *out)
{
	family(out, "switches_total", "counter",
	       "Load-balancer switches trino-guard made, by source, target and result.");
	for (size_t i = 0; i < c->switch_pairs; i++)
		for (int ok = 1; ok >= 0; ok--) {
			evbuffer_add_printf(out, "trino_guard_switches_total{from=\"");
			label(out, c->switches[i].from);
			evbuffer_add(out, "\",to=\"", 6);
			label(out, c->switches[i].to);
			evbuffer_add_printf(out, "\",result=\"%s\"} %llu\n", ok ? "ok" : "failed",
			                    (unsigned long long)(ok ? c->switches[i].ok
			                                            : c->switches[i].failed));
		}
	family(out, "switch_duration_seconds", "histogram",
	       "From asking the load balancer to switch to its answer.");
	for (int i = 0; i < SWITCH_BUCKETS; i++)
		evbuffer_add_printf(
		        out, "trino_guard_switch_duration_seconds_bucket{le=\"%g\"} %llu\n",
		        switch_bucket_bounds[i], (unsigned long long)c->duration_buckets[i]);
	evbuffer_add_printf(out, "trino_guard_switch_duration_seconds_bucket{le=\"+Inf\"} %llu\n",
	                    (unsigned long long)c->duration_count);
	evbuffer_add_printf(out, "trino_guard_switch_duration_seconds_sum %.6f\n",
	                    c->duration_sum_seconds);
	evbuffer_add_printf(out, "trino_guard_switch_duration_seconds_count %llu\n",
	                    (unsigned long long)c->duration_count);
	family(out, "rollbacks_total", "counter",
	       "Rollbacks off a watched cluster, by cause (degraded, manual, external).");
	for (int i = 0; i < ROLLBACK_CAUSE_COUNT; i++)
		evbuffer_add_printf(out, "trino_guard_rollbacks_total{cause=\"%s\"} %llu\n",
		                    rollback_cause_name((enum rollback_cause)i),
		                    (unsigned long long)c->rollbacks[i]);
}

static void write_ticks(const struct collector *collector, struct evbuffer *out)
{
	const struct tick_stats *t = &collector->ticks;
	family(out, "tick_duration_seconds", "histogram",
	       "Time spent evaluating the rules per tick.");
	for (int i = 0; i < TICK_BUCKETS; i++)
		evbuffer_add_printf(out,
		                    "trino_guard_tick_duration_seconds_bucket{le=\"%g\"} %llu\n",
		                    tick_bucket_bounds[i], (unsigned long long)t->buckets[i]);
	evbuffer_add_printf(out, "trino_guard_tick_duration_seconds_bucket{le=\"+Inf\"} %llu\n",
	                    (unsigned long long)t->count);
	evbuffer_add_printf(out, "trino_guard_tick_duration_seconds_sum %.6f\n", t->sum_seconds);
	evbuffer_add_printf(out, "trino_guard_tick_duration_seconds_count %llu\n",
	                    (unsigned long long)t->count);
	family(out, "journal_last_event_id", "gauge", "Id of the newest journal event.");
	evbuffer_add_printf(out, "trino_guard_journal_last_event_id %llu\n",
	                    (unsigned long long)journal_last_id(collector->journal));
	family(out, "start_time_seconds", "gauge", "When the collector started (Unix time).");
	evbuffer_add_printf(out, "trino_guard_start_time_seconds %.3f\n",
	                    (double)collector->started_unix_ms / 1000.0);
}

/* Lost-query accounting (switch_accounting.h): settled totals and the last switch so far. */
static void write_switch_losses(const struct switch_accounting *a, struct evbuffer *out)
{
	family(out, "switch_lost_queries_total", "counter",
	       "Queries lost at load-balancer switches: the old cluster's AbandonedQueries delta "
	       "over [watch] loss_settle, counted when the switch settles, by source and target.");
	for (size_t i = 0; i < a->pair_count; i++) {
		evbuffer_add_printf(out, "trino_guard_switch_lost_queries_total{from=\"");
		label(out, a->pairs[i].from);
		evbuffer_add_printf(out, "\",to=\"");
		label(out, a->pairs[i].to);
		evbuffer_add_printf(out, "\"} %llu\n",
		                    (unsigned long long)a->pairs[i].lost_queries);
	}
	const struct switch_loss *last = switch_loss_latest(&a->book);
	if (last == NULL)
		return;
	family(out, "last_switch_lost_queries", "gauge",
	       "Queries the latest switch lost so far (final once trino_guard_last_switch_settled "
	       "is 1).");
	evbuffer_add_printf(out, "trino_guard_last_switch_lost_queries{from=\"");
	label(out, last->from);
	evbuffer_add_printf(out, "\",to=\"");
	label(out, last->to);
	evbuffer_add_printf(out, "\"} %llu\n", (unsigned long long)last->lost_queries);
	family(out, "last_switch_settled", "gauge",
	       "1 once the latest switch's loss_settle window is over, 0 while it counts.");
	evbuffer_add_printf(out, "trino_guard_last_switch_settled %d\n", last->settled);
}

/*
 * While a watch waits for the old cluster to drain: when its oldest
 * unfinished query was created, on this host's wall clock (a timestamp, so
 * its age is time() - value). No series while none is known.
 */
static void write_drain(const struct drain_state *drain, struct clock_now now, struct evbuffer *out)
{
	family(out, "drain_oldest_query_timestamp_seconds", "gauge",
	       "When the old cluster's oldest unfinished query was created ([trino] query_list).");
	if (drain == NULL || drain->oldest_query_since_ms < 0)
		return;
	int64_t created_unix_ms = now.unix_ms - (now.mono_ms - drain->oldest_query_since_ms);
	evbuffer_add_printf(out, "trino_guard_drain_oldest_query_timestamp_seconds{cluster=\"");
	label(out, drain->cluster);
	evbuffer_add_printf(out, "\"} %.3f\n", (double)created_unix_ms / 1000.0);
}

static void write_cutover(const struct collector *collector, struct clock_now now,
                          struct evbuffer *out)
{
	if (collector->cutover == NULL)
		return;
	struct cutover_metrics m;
	cutover_runner_metrics(collector->cutover, now, &m);
	const char *active = collector_active_cluster(collector);
	family(out, "cutover_phase", "gauge", "The cutover state machine's phase (1 = current).");
	for (int p = PHASE_STEADY; p <= PHASE_ROLLED_BACK; p++)
		evbuffer_add_printf(out, "trino_guard_cutover_phase{phase=\"%s\"} %d\n",
		                    cutover_phase_name((enum cutover_phase)p), (int)m.phase == p);
	family(out, "cutover_paused", "gauge", "1 while automatic decisions are paused.");
	evbuffer_add_printf(out, "trino_guard_cutover_paused %d\n", m.paused);
	family(out, "active_cluster", "gauge", "Which cluster the load balancer sends users to.");
	for (size_t i = 0; i < collector->cluster_count; i++)
		evbuffer_add_printf(out, "trino_guard_active_cluster{cluster=\"%s\"} %d\n",
		                    collector->clusters[i].name,
		                    strcmp(collector->clusters[i].name, active) == 0);
	family(out, "watch_evidence", "gauge",
	       "The degradation test's evidence (CUSUM score) during a watch, per channel.");
	evbuffer_add_printf(out, "trino_guard_watch_evidence{channel=\"failures\"} %.3f\n",
	                    m.watching ? m.failure_score : 0.0);
	evbuffer_add_printf(out, "trino_guard_watch_evidence{channel=\"user_errors\"} %.3f\n",
	                    m.watching ? m.user_score : 0.0);
	family(out, "watch_evidence_threshold", "gauge", "The evidence that means degraded.");
	evbuffer_add_printf(out, "trino_guard_watch_evidence_threshold %.3f\n", m.threshold);
	family(out, "watch_remaining_seconds", "gauge", "Time left in the current watch.");
	evbuffer_add_printf(out, "trino_guard_watch_remaining_seconds %lld\n",
	                    (long long)m.seconds_left);
	write_switches(m.counters, out);
	write_switch_losses(m.losses, out);
	write_drain(m.drain, now, out);
}

/* [ha]: who leads, whether etcd answers; the same families (zero) without it. */
static void write_ha(const struct collector *collector, int64_t now_ms, struct evbuffer *out)
{
	struct ha_metrics m = {0};
	if (collector->ha != NULL)
		ha_metrics(collector->ha, now_ms, &m);
	family(out, "ha_enabled", "gauge",
	       "1 when [ha] is set: collectors elect a leader on etcd.");
	evbuffer_add_printf(out, "trino_guard_ha_enabled %d\n", collector->ha != NULL);
	family(out, "ha_leader", "gauge",
	       "1 while this collector leads (switches the LB and steps the cutover).");
	evbuffer_add_printf(out, "trino_guard_ha_leader %d\n", collector->ha == NULL || m.leader);
	family(out, "ha_etcd_up", "gauge", "1 while etcd answers (within a lease's time).");
	evbuffer_add_printf(out, "trino_guard_ha_etcd_up %d\n", collector->ha != NULL && m.etcd_up);
	family(out, "ha_leader_terms_total", "counter", "Times this collector became the leader.");
	evbuffer_add_printf(out, "trino_guard_ha_leader_terms_total %llu\n",
	                    (unsigned long long)m.terms);
	family(out, "ha_requests_forwarded_total", "counter",
	       "Operators' requests this collector handed to the leader through etcd.");
	evbuffer_add_printf(out, "trino_guard_ha_requests_forwarded_total %llu\n",
	                    (unsigned long long)m.requests_forwarded);
	family(out, "ha_requests_carried_out_total", "counter",
	       "Requests handed on by other collectors that this one carried out as the leader.");
	evbuffer_add_printf(out, "trino_guard_ha_requests_carried_out_total %llu\n",
	                    (unsigned long long)m.requests_carried);
	family(out, "ha_state_writes_failed_total", "counter",
	       "Writes of the cutover state etcd refused or did not answer (acting stopped).");
	evbuffer_add_printf(out, "trino_guard_ha_state_writes_failed_total %llu\n",
	                    (unsigned long long)m.saves_failed);
}

static void write_alerts(const struct collector *collector, int64_t now_unix_ms,
                         struct evbuffer *out)
{
	size_t count = alerts_sink_count(collector->alerts);
	if (count == 0)
		return;
	struct alert_sink_stats stats[COLLECTOR_MAX_ALERT_SINKS];
	for (size_t i = 0; i < count; i++)
		alerts_sink_stats(collector->alerts, i, now_unix_ms, &stats[i]);
	static const struct {
		const char *name, *type, *help;
	} families[] = {
	        {"alerts_sent_total", "counter", "Alerts a sink accepted."},
	        {"alerts_retried_total", "counter",
	         "Deliveries retried after 429, 5xx or a network error."},
	        {"alerts_failed_total", "counter",
	         "Alerts a sink refused for good (4xx other than 429); see the journal."},
	        {"alerts_dropped_total", "counter",
	         "Alerts dropped because the sink's queue was full."},
	        {"alerts_queued", "gauge", "Alerts waiting for delivery (spooled on disk)."},
	        {"alerts_oldest_queued_seconds", "gauge", "Age of the oldest queued alert."},
	};
	for (size_t f = 0; f < sizeof(families) / sizeof(families[0]); f++) {
		family(out, families[f].name, families[f].type, families[f].help);
		for (size_t i = 0; i < count; i++) {
			const struct alert_sink_stats *s = &stats[i];
			evbuffer_add_printf(out, "trino_guard_%s{sink=\"", families[f].name);
			label(out, s->name);
			evbuffer_add_printf(out, "\",type=\"%s\"} ", s->type);
			switch (f) {
			case 0:
				evbuffer_add_printf(out, "%llu\n", (unsigned long long)s->sent);
				break;
			case 1:
				evbuffer_add_printf(out, "%llu\n", (unsigned long long)s->retried);
				break;
			case 2:
				evbuffer_add_printf(out, "%llu\n", (unsigned long long)s->failed);
				break;
			case 3:
				evbuffer_add_printf(out, "%llu\n", (unsigned long long)s->dropped);
				break;
			case 4:
				evbuffer_add_printf(out, "%zu\n", s->queued);
				break;
			default:
				evbuffer_add_printf(out, "%.3f\n",
				                    (double)s->oldest_queued_ms / 1000.0);
				break;
			}
		}
	}
}

void metrics_write(const struct collector *collector, struct clock_now now, struct evbuffer *out)
{
	family(out, "build_info", "gauge", "The collector's version (value always 1).");
	evbuffer_add_printf(out, "trino_guard_build_info{version=\"%s\"} 1\n", TG_VERSION);
	write_ingest(collector, out);
	metrics_write_limits(collector, out);
	write_nodes(collector, now, out);
	write_findings(collector, out);
	write_ratios(collector, now.mono_ms, out);
	write_queries(collector, out);
	write_cutover(collector, now, out);
	write_ha(collector, now.mono_ms, out);
	write_ticks(collector, out);
	write_alerts(collector, now.unix_ms, out);
	process_metrics_write(collector->started_unix_ms, out);
}
