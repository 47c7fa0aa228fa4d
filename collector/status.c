/*
 * Status as JSON. Every string that came from an agent passed the codec's
 * UTF-8 check, so jansson accepts it.
 */
#include "status.h"

#include <stdio.h>
#include <string.h>

#include "backend_health.h"
#include "cutover_runner.h"
#include "failure_ratio.h"
#include "ha.h"
#include "ingest.h"
#include "report_codec.h"

json_t *status_finding_json(const struct finding *f)
{
	return json_pack("{s:s,s:s,s:s,s:s,s:s,s:s}", "rule", finding_kind_name(f->kind),
	                 "severity", severity_name(f->severity), "cluster", f->cluster, "subject",
	                 f->subject, "key", f->key, "summary", f->summary);
}

static const struct cluster_settings *settings_of(const struct collector *collector,
                                                  const char *cluster)
{
	for (size_t i = 0; i < collector->cluster_count; i++)
		if (strcmp(collector->clusters[i].name, cluster) == 0)
			return &collector->clusters[i];
	return NULL;
}

static json_t *node_json(const struct fleet_node *node, const struct cluster_settings *settings,
                         int64_t now_ms)
{
	size_t digest_errors = 0;
	for (size_t i = 0; i < node->digest_count; i++)
		digest_errors += !node->digests[i].ok;
	json_t *out = json_pack(
	        "{s:s,s:s,s:s,s:s,s:s,s:b,s:f,s:I,s:i,s:i}", "node_id", node->node_id, "cluster",
	        node->cluster, "role", report_role_name(node->role), "version", node->version,
	        "state", report_state_name(node->state), "live",
	        settings != NULL && node_live(node, settings, now_ms), "last_seen_seconds",
	        (double)(now_ms - node->received_ms) / 1000.0, "seq", (json_int_t)node->seq,
	        "config_files", (int)node->digest_count, "config_errors", (int)digest_errors);
	if (node->error[0] != '\0')
		json_object_set_new(out, "error", json_string(node->error));
	if (node->has_counters)
		json_object_set_new(out, "counters",
		                    json_string(report_counter_state_name(node->counters_state)));
	if (node->active_nodes >= 0) {
		json_object_set_new(out, "active_nodes", json_integer(node->active_nodes));
		if (node->active_nodes_from[0] != '\0')
			json_object_set_new(out, "active_nodes_from",
			                    json_string(node->active_nodes_from));
	}
	if (node->coordinator_id[0] != '\0')
		json_object_set_new(out, "coordinator_id", json_string(node->coordinator_id));
	if (node->coordinator_id_from[0] != '\0')
		json_object_set_new(out, "coordinator_id_from",
		                    json_string(node->coordinator_id_from));
	if (node->has_uptime)
		json_object_set_new(out, "uptime_seconds",
		                    json_integer((json_int_t)(node->uptime_ms / 1000)));
	json_object_set_new(out, "agent_id", json_string(node->agent_id));
	return out;
}

json_t *status_nodes_json(const struct collector *collector, int64_t now_ms)
{
	json_t *nodes = json_array();
	for (size_t i = 0; i < collector->fleet.count; i++) {
		const struct fleet_node *node = collector->fleet.nodes[i];
		json_array_append_new(
		        nodes, node_json(node, settings_of(collector, node->cluster), now_ms));
	}
	return nodes;
}

static json_t *ratio_json(const struct fleet_node *coordinator, int64_t now_ms)
{
	struct ratio_window w;
	failure_ratio_window(coordinator, now_ms, STATUS_RATIO_WINDOW_MS, FAILURE_TYPES_DEFAULT,
	                     &w);
	return json_pack("{s:I,s:I,s:I,s:f,s:f,s:f,s:s}", "window_seconds",
	                 (json_int_t)(STATUS_RATIO_WINDOW_MS / 1000), "queries",
	                 (json_int_t)w.queries, "failed", (json_int_t)w.failed, "ratio", w.ratio,
	                 "lower_99", w.lower, "upper_99", w.upper, "counted",
	                 "internal+external+insufficient_resources");
}

/* What the LB holds CLUSTER's backend for (backend_health.h), or NULL when it judges none. */
static json_t *lb_backend_json(const struct collector *collector, const char *cluster,
                               int64_t now_ms)
{
	if (collector->backend_health == NULL)
		return NULL;
	const struct lb_health *view = backend_health_view(collector->backend_health);
	for (size_t i = 0; i < view->count; i++) {
		const struct lb_backend_reading *r = &view->backends[i];
		if (strcmp(r->cluster, cluster) != 0)
			continue;
		return json_pack("{s:s,s:s,s:s,s:s,s:I}", "lb", view->lb, "backend", r->backend,
		                 "status", r->status[0] ? r->status : "unreadable", "error",
		                 r->error, "since_seconds",
		                 (json_int_t)((now_ms - r->status_since_ms) / 1000));
	}
	return NULL;
}

static json_t *cluster_json(const struct collector *collector,
                            const struct cluster_settings *settings, int64_t now_ms)
{
	char reference[FLEET_ID_LEN];
	cluster_reference_version(&collector->fleet, settings, now_ms, reference,
	                          sizeof(reference));
	json_t *versions = json_object();
	json_t *nodes = json_array();
	json_t *ratio = json_null();
	json_t *in_flight = json_null(); /* the live coordinator's RunningQueries, QueuedQueries */
	int live = 0, total = 0;
	for (size_t i = 0; i < collector->fleet.count; i++) {
		const struct fleet_node *node = collector->fleet.nodes[i];
		if (strcmp(node->cluster, settings->name) != 0)
			continue;
		total++;
		bool is_live = node_live(node, settings, now_ms);
		live += is_live;
		if (is_live && node->version[0] != '\0') {
			json_int_t count =
			        json_integer_value(json_object_get(versions, node->version));
			json_object_set_new(versions, node->version, json_integer(count + 1));
		}
		json_array_append_new(nodes, node_json(node, settings, now_ms));
		if (node->role == TRINOGUARD__V1__NODE_ROLE__ROLE_COORDINATOR && is_live &&
		    json_is_null(ratio)) {
			json_decref(ratio);
			ratio = ratio_json(node, now_ms);
		}
		if (node->role == TRINOGUARD__V1__NODE_ROLE__ROLE_COORDINATOR && is_live &&
		    json_is_null(in_flight) && node->running >= 0 && node->queued >= 0)
			in_flight = json_pack("{s:I,s:I}", "running", (json_int_t)node->running,
			                      "queued", (json_int_t)node->queued);
	}
	json_t *findings = json_array();
	for (size_t i = 0; i < collector->findings.count; i++)
		if (strcmp(collector->findings.items[i].cluster, settings->name) == 0)
			json_array_append_new(findings,
			                      status_finding_json(&collector->findings.items[i]));
	json_t *out = json_pack(
	        "{s:s,s:b,s:s,s:o,s:i,s:i,s:I,s:o,s:o,s:o}", "name", settings->name, "active",
	        strcmp(settings->name, collector_active_cluster(collector)) == 0,
	        "reference_version", reference, "versions", versions, "nodes_live", live,
	        "nodes_total", total, "min_workers", (json_int_t)settings->min_workers,
	        "failure_ratio", ratio, "findings", findings, "nodes", nodes);
	json_t *backend = lb_backend_json(collector, settings->name, now_ms);
	if (backend != NULL)
		json_object_set_new(out, "lb_backend", backend);
	json_object_set_new(out, "queries_in_flight", in_flight);
	return out;
}

/* The query-id map the LB is given, and the ids two clusters claim. */
static json_t *query_routes_json(const struct query_route_map *map)
{
	json_t *routes = json_object();
	for (size_t i = 0; i < map->count; i++)
		json_object_set_new(routes, map->routes[i].coordinator_id,
		                    json_string(map->routes[i].cluster));
	json_t *conflicts = json_array();
	for (size_t i = 0; i < map->conflict_count; i++)
		json_array_append_new(conflicts,
		                      json_pack("{s:s,s:[s,s]}", "coordinator_id",
		                                map->conflicts[i].coordinator_id, "clusters",
		                                map->conflicts[i].clusters[0],
		                                map->conflicts[i].clusters[1]));
	json_t *without = json_array();
	for (size_t i = 0; i < map->without_id_count; i++)
		json_array_append_new(without, json_string(map->without_id[i]));
	return json_pack("{s:o,s:o,s:o}", "routes", routes, "conflicts", conflicts,
	                 "clusters_without_id", without);
}

/*
 * Without an [lb] driver a cutover or a rollback waits for people: CUTOVER
 * (the runner's status) says what to do, so that nobody reads SWITCHING as
 * "users are moving", and how the switch is seen without a confirmation
 * (the LB read by [lb.none]; the traffic, TRAFFIC saying what it shows, NULL
 * when it is not taken as evidence).
 */
static void add_switch_by_hand(json_t *cutover, const struct lb_driver *driver, const char *traffic)
{
	const char *phase = json_string_value(json_object_get(cutover, "phase"));
	if (driver->switch_to != NULL || phase == NULL ||
	    (strcmp(phase, "SWITCHING") != 0 && strcmp(phase, "ROLLING_BACK") != 0))
		return;
	const char *from = json_string_value(json_object_get(cutover, "active"));
	const char *to = json_string_value(json_object_get(cutover, "other"));
	char what[400];
	snprintf(what, sizeof(what),
	         "switch the load balancer from %s to %s by hand now, then run trino-guardctl "
	         "confirm-switch",
	         from != NULL && from[0] ? from : "(none)", to != NULL ? to : "?");
	char seen[CUTOVER_TEXT_LEN + 200];
	bool read = driver->current != NULL;
	if (!read && traffic == NULL)
		snprintf(seen, sizeof(seen), "only confirm-switch ends the wait");
	else
		snprintf(seen, sizeof(seen), "the wait ends by itself once %s%s%s%s%s",
		         read ? "the LB read by [lb.none] names it" : "",
		         read && traffic != NULL ? ", or once " : "",
		         traffic != NULL ? "the traffic shows the move (" : "",
		         traffic != NULL ? (traffic[0] ? traffic : "not read yet") : "",
		         traffic != NULL ? ")" : "");
	json_object_set_new(cutover, "switch_by_hand",
	                    json_pack("{s:s,s:s,s:s,s:s,s:b}", "from", from != NULL ? from : "",
	                              "to", to != NULL ? to : "", "todo", what, "seen_when", seen,
	                              "lb_read", read));
}

json_t *status_json(const struct collector *collector, struct clock_now now)
{
	int64_t now_ms = now.mono_ms;
	json_t *clusters = json_array();
	for (size_t i = 0; i < collector->cluster_count; i++)
		json_array_append_new(clusters,
		                      cluster_json(collector, &collector->clusters[i], now_ms));
	json_t *findings = json_array();
	for (size_t i = 0; i < collector->findings.count; i++)
		json_array_append_new(findings, status_finding_json(&collector->findings.items[i]));
	const struct ingest_stats *stats = ingest_stats(collector->ingest);
	json_t *rejected = json_object();
	for (int r = 1; r < INGEST_REJECT_COUNT; r++)
		if (stats->rejected[r] > 0)
			json_object_set_new(rejected, ingest_reject_name(r),
			                    json_integer((json_int_t)stats->rejected[r]));
	json_t *ingest = json_pack("{s:I,s:I,s:I,s:o,s:I}", "received", (json_int_t)stats->received,
	                           "accepted", (json_int_t)stats->accepted, "duplicates",
	                           (json_int_t)stats->duplicates, "rejected", rejected,
	                           "keys_refused", (json_int_t)stats->keys_refused);
	json_t *cutover = collector->cutover != NULL
	                          ? cutover_runner_status(collector->cutover, now)
	                          : json_null();
	if (collector->cutover != NULL)
		add_switch_by_hand(cutover, cutover_runner_driver(collector->cutover),
		                   cutover_runner_hand_switch_traffic(collector->cutover));
	const char *active = collector_active_cluster(collector);
	json_t *out = json_pack(
	        "{s:s,s:s,s:s?,s:b,s:I,s:o,s:o,s:o,s:o}", "environment",
	        collector->config.collector.environment, "version", TG_VERSION, "active",
	        active[0] != '\0' ? active : NULL, "warming_up", !collector->findings_ready,
	        "uptime_seconds", (json_int_t)((now_ms - collector->started_ms) / 1000), "clusters",
	        clusters, "findings", findings, "ingest", ingest, "cutover", cutover);
	json_object_set_new(out, "query_routes", query_routes_json(&collector->query_route_map));
	json_object_set_new(out, "ha",
	                    collector->ha != NULL ? ha_status(collector->ha, now_ms)
	                                          : json_pack("{s:b}", "enabled", 0));
	return out;
}
