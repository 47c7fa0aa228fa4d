/*
 * Guardrail rules over the fleet table (docs/DESIGN.md §5). Each rule looks at the
 * live nodes of one cluster and appends findings with a stable key, so the
 * collector can tell an open finding from a new one by diffing two ticks.
 */
#include "findings.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "summary.h"
#include "version.h"

#define DEFAULT_STALE_MIN_MS 3000

void finding_list_clear(struct finding_list *list)
{
	list->count = 0;
}

void finding_list_free(struct finding_list *list)
{
	free(list->items);
	memset(list, 0, sizeof(*list));
}

struct finding *finding_add(struct finding_list *list, enum finding_kind kind,
                            enum severity severity, const char *cluster, const char *subject,
                            const char *fmt, ...)
{
	if (list->count == list->capacity) {
		size_t capacity = list->capacity ? list->capacity * 2 : 32;
		struct finding *grown = realloc(list->items, capacity * sizeof(*grown));
		if (grown == NULL)
			return NULL;
		list->items = grown;
		list->capacity = capacity;
	}
	struct finding *f = &list->items[list->count++];
	memset(f, 0, sizeof(*f));
	f->kind = kind;
	f->severity = severity;
	snprintf(f->cluster, sizeof(f->cluster), "%s", cluster);
	snprintf(f->subject, sizeof(f->subject), "%s", subject != NULL ? subject : "");
	if (f->subject[0] != '\0')
		snprintf(f->key, sizeof(f->key), "%s/%s/%s", finding_kind_name(kind), cluster,
		         f->subject);
	else if (f->cluster[0] == '\0') /* the collector's own */
		snprintf(f->key, sizeof(f->key), "%s", finding_kind_name(kind));
	else
		snprintf(f->key, sizeof(f->key), "%s/%s", finding_kind_name(kind), cluster);
	char whole[2 * sizeof(f->summary)];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(whole, sizeof(whole), fmt, ap);
	va_end(ap);
	summary_cut(whole, f->summary, sizeof(f->summary));
	return f;
}

static int64_t stale_after(const struct fleet_node *node, const struct cluster_settings *settings)
{
	if (settings->stale_after_ms > 0)
		return settings->stale_after_ms;
	int64_t three_intervals = 3 * (int64_t)node->interval_ms;
	return three_intervals > DEFAULT_STALE_MIN_MS ? three_intervals : DEFAULT_STALE_MIN_MS;
}

bool node_live(const struct fleet_node *node, const struct cluster_settings *settings,
               int64_t now_ms)
{
	return now_ms - node->received_ms < stale_after(node, settings);
}

int64_t findings_grace_ms(const struct cluster_settings *clusters, size_t cluster_count)
{
	int64_t grace_ms = DEFAULT_STALE_MIN_MS;
	for (size_t i = 0; i < cluster_count; i++)
		if (clusters[i].stale_after_ms > grace_ms)
			grace_ms = clusters[i].stale_after_ms;
	return grace_ms;
}

bool findings_warmed_up(const struct cluster_settings *clusters, size_t cluster_count,
                        int64_t elapsed_ms)
{
	return elapsed_ms >= findings_grace_ms(clusters, cluster_count);
}

static bool reachable(const struct fleet_node *node)
{
	return node->state != TRINOGUARD__V1__NODE_STATE__STATE_UNREACHABLE &&
	       node->version[0] != '\0';
}

static bool is_coordinator(const struct fleet_node *node)
{
	return node->role == TRINOGUARD__V1__NODE_ROLE__ROLE_COORDINATOR;
}

/*
 * Reachable is part of live: an agent that reports while its Trino does not
 * answer proves only that the host is up. That coordinator plans no query: it
 * cannot take users back, give a baseline or a failure ratio, or a version.
 */
const struct fleet_node *cluster_live_coordinator(const struct fleet *fleet,
                                                  const struct cluster_settings *settings,
                                                  int64_t now_ms)
{
	for (size_t i = 0; i < fleet->count; i++) {
		const struct fleet_node *node = fleet->nodes[i];
		if (strcmp(node->cluster, settings->name) == 0 && is_coordinator(node) &&
		    node_live(node, settings, now_ms) && reachable(node))
			return node;
	}
	return NULL;
}

static bool is_active(const struct fleet_node *node)
{
	return node->state == TRINOGUARD__V1__NODE_STATE__STATE_ACTIVE;
}

/* The live nodes of one cluster, borrowed from the fleet. */
struct members {
	const struct fleet_node **live;
	size_t live_count;
	const struct fleet_node **stale;
	size_t stale_count;
	const struct fleet_node *coordinator; /* cluster_live_coordinator() */
	bool users_on_it;                     /* the cluster the load balancer sends users to */
};

static int collect(const struct fleet *fleet, const struct cluster_settings *settings,
                   int64_t now_ms, struct members *m)
{
	memset(m, 0, sizeof(*m));
	m->live = calloc(fleet->count + 1, sizeof(*m->live));
	m->stale = calloc(fleet->count + 1, sizeof(*m->stale));
	if (m->live == NULL || m->stale == NULL) {
		free(m->live);
		free(m->stale);
		return -1;
	}
	for (size_t i = 0; i < fleet->count; i++) {
		const struct fleet_node *node = fleet->nodes[i];
		if (strcmp(node->cluster, settings->name) != 0)
			continue;
		if (node_live(node, settings, now_ms))
			m->live[m->live_count++] = node;
		else
			m->stale[m->stale_count++] = node;
	}
	m->coordinator = cluster_live_coordinator(fleet, settings, now_ms);
	return 0;
}

static void members_free(struct members *m)
{
	free(m->live);
	free(m->stale);
}

static void reference_of(const struct members *m, char *out, size_t out_len)
{
	const struct fleet_node *coordinator = m->coordinator;
	if (coordinator != NULL) {
		snprintf(out, out_len, "%s", coordinator->version);
		return;
	}
	const char *best = NULL;
	size_t best_count = 0;
	for (size_t i = 0; i < m->live_count; i++) {
		if (!reachable(m->live[i]))
			continue;
		const char *version = m->live[i]->version;
		size_t count = 0;
		for (size_t k = 0; k < m->live_count; k++)
			if (reachable(m->live[k]) && strcmp(m->live[k]->version, version) == 0)
				count++;
		if (count > best_count ||
		    (count == best_count && version_compare(version, best) > 0)) {
			best = version;
			best_count = count;
		}
	}
	snprintf(out, out_len, "%s", best != NULL ? best : "");
}

void cluster_reference_version(const struct fleet *fleet, const struct cluster_settings *settings,
                               int64_t now_ms, char *out, size_t out_len)
{
	struct members m;
	if (collect(fleet, settings, now_ms, &m) != 0) {
		snprintf(out, out_len, "%s", "");
		return;
	}
	reference_of(&m, out, out_len);
	members_free(&m);
}

/* A problem where the users are is critical; on the standby it is a warning. */
static enum severity weigh(const struct members *m)
{
	return m->users_on_it ? SEVERITY_CRITICAL : SEVERITY_WARNING;
}

static int rule_mixed_version(const struct members *m, const struct cluster_settings *settings,
                              struct finding_list *out)
{
	char reference[FLEET_ID_LEN];
	reference_of(m, reference, sizeof(reference));
	if (reference[0] == '\0')
		return 0;
	const struct fleet_node *coordinator = m->coordinator;
	for (size_t i = 0; i < m->live_count; i++) {
		const struct fleet_node *node = m->live[i];
		if (!reachable(node) || strcmp(node->version, reference) == 0)
			continue;
		if (finding_add(out, FINDING_MIXED_VERSION, SEVERITY_CRITICAL, settings->name,
		                node->node_id, "%s runs Trino %s, cluster %s runs %s (%s)",
		                node->node_id, node->version, settings->name, reference,
		                coordinator != NULL
		                        ? "its coordinator's version"
		                        : "the most common version; no live coordinator") == NULL)
			return -1;
	}
	return 0;
}

static int rule_node_stale(const struct members *m, const struct cluster_settings *settings,
                           int64_t now_ms, struct finding_list *out)
{
	for (size_t i = 0; i < m->stale_count; i++) {
		const struct fleet_node *node = m->stale[i];
		if (finding_add(out, FINDING_NODE_STALE, SEVERITY_WARNING, settings->name,
		                node->node_id, "no report from %s's agent for %lld s",
		                node->node_id,
		                (long long)((now_ms - node->received_ms) / 1000)) == NULL)
			return -1;
	}
	return 0;
}

static int rule_trino_down(const struct members *m, const struct cluster_settings *settings,
                           int64_t now_ms, struct finding_list *out)
{
	for (size_t i = 0; i < m->live_count; i++) {
		const struct fleet_node *node = m->live[i];
		if (node->not_active_since_ms < 0 ||
		    now_ms - node->not_active_since_ms < settings->down_grace_ms)
			continue;
		const char *state = report_state_name(node->state);
		if (finding_add(out, FINDING_TRINO_DOWN, weigh(m), settings->name, node->node_id,
		                "Trino on %s is %s for %lld s%s%s", node->node_id, state,
		                (long long)((now_ms - node->not_active_since_ms) / 1000),
		                node->error[0] ? ": " : "", node->error) == NULL)
			return -1;
	}
	return 0;
}

static int rule_cluster_incomplete(const struct members *m, const struct cluster_settings *settings,
                                   int64_t now_ms, struct finding_list *out)
{
	const struct fleet_node *coordinator = m->coordinator;
	bool coordinator_ok = coordinator != NULL && is_active(coordinator);
	int64_t workers = 0;
	for (size_t i = 0; i < m->live_count; i++)
		if (!is_coordinator(m->live[i]) && is_active(m->live[i]))
			workers++;
	if (coordinator_ok && workers >= settings->min_workers)
		return 0;
	/* A cluster with no node at all has not been heard from (yet, or since its
	 * nodes were forgotten): absent, not incomplete. A standby may well be (not
	 * built yet, or shut down after a cutover); users sent to one is a warning,
	 * after a grace that lets the agents of a fresh collector arrive. */
	if (m->live_count == 0 && m->stale_count == 0) {
		if (!m->users_on_it || now_ms < settings->absent_from_ms)
			return 0;
		return finding_add(out, FINDING_CLUSTER_ABSENT, SEVERITY_WARNING, settings->name,
		                   NULL,
		                   "no agent of cluster %s, where the load balancer sends users, "
		                   "has reported to this collector",
		                   settings->name) != NULL
		               ? 0
		               : -1;
	}
	char why[200];
	if (!coordinator_ok)
		snprintf(why, sizeof(why), "no live ACTIVE coordinator");
	else
		snprintf(why, sizeof(why), "%lld live ACTIVE workers, %lld required",
		         (long long)workers, (long long)settings->min_workers);
	return finding_add(out, FINDING_CLUSTER_INCOMPLETE, weigh(m), settings->name, NULL,
	                   "cluster %s is incomplete: %s", settings->name, why) != NULL
	               ? 0
	               : -1;
}

static const char *counters_hint(int state)
{
	switch (state) {
	case TRINOGUARD__V1__COUNTER_STATE__COUNTERS_UNAUTHORIZED:
		return "Trino wants a user: set [trino] user (sent as X-Trino-User), or HTTPS "
		       "credentials";
	case TRINOGUARD__V1__COUNTER_STATE__COUNTERS_FORBIDDEN:
		return "access control denies it: allow the agent's user to read system "
		       "information, or set management.user in config.properties";
	case TRINOGUARD__V1__COUNTER_STATE__COUNTERS_NOT_FOUND:
		return "the endpoint the agent reads is not there";
	case TRINOGUARD__V1__COUNTER_STATE__COUNTERS_MISSING:
		return "Trino answers without the QueryManager counters";
	case TRINOGUARD__V1__COUNTER_STATE__COUNTERS_UNAVAILABLE:
		return "Trino is starting";
	default:
		return "see the agent's log";
	}
}

static int rule_counters_unavailable(const struct members *m,
                                     const struct cluster_settings *settings,
                                     struct finding_list *out)
{
	const struct fleet_node *coordinator = m->coordinator;
	if (coordinator == NULL || !coordinator->has_counters)
		return 0;
	int state = coordinator->counters_state;
	if (state == TRINOGUARD__V1__COUNTER_STATE__COUNTERS_OK ||
	    state == TRINOGUARD__V1__COUNTER_STATE__COUNTERS_UNKNOWN ||
	    state == TRINOGUARD__V1__COUNTER_STATE__COUNTERS_UNREACHABLE ||
	    state == TRINOGUARD__V1__COUNTER_STATE__COUNTERS_NOT_COORDINATOR)
		return 0;
	return finding_add(out, FINDING_COUNTERS_UNAVAILABLE, SEVERITY_WARNING, settings->name,
	                   coordinator->node_id,
	                   "query counters of %s are %s, so its failure ratio is blind: %s%s%s%s",
	                   coordinator->node_id, report_counter_state_name(state),
	                   counters_hint(state), coordinator->counters_error[0] ? " (" : "",
	                   coordinator->counters_error,
	                   coordinator->counters_error[0] ? ")" : "") != NULL
	               ? 0
	               : -1;
}

static int rule_node_visibility(const struct members *m, const struct cluster_settings *settings,
                                struct finding_list *out)
{
	const struct fleet_node *coordinator = m->coordinator;
	if (coordinator == NULL || coordinator->active_nodes < 0)
		return 0;
	int64_t reporting = 0;
	for (size_t i = 0; i < m->live_count; i++)
		if (is_active(m->live[i]))
			reporting++;
	if (coordinator->active_nodes < reporting)
		return finding_add(out, FINDING_NODE_HIDDEN, SEVERITY_WARNING, settings->name, NULL,
		                   "the coordinator counts %lld active nodes, %lld agents report "
		                   "ACTIVE: "
		                   "Trino has excluded a node (a version or environment mismatch?)",
		                   (long long)coordinator->active_nodes,
		                   (long long)reporting) != NULL
		               ? 0
		               : -1;
	if (coordinator->active_nodes > reporting)
		return finding_add(
		               out, FINDING_NODE_UNGUARDED, SEVERITY_WARNING, settings->name, NULL,
		               "the coordinator counts %lld active nodes, only %lld agents report "
		               "ACTIVE: a node runs without an agent",
		               (long long)coordinator->active_nodes, (long long)reporting) != NULL
		               ? 0
		               : -1;
	return 0;
}

/*
 * A node whose clock is off the collector's: its reports are used all the
 * same (their order is the collector's receive time), but its timestamps in
 * the journal and its logs mislead, and a clock off by minutes hints that
 * NTP is broken on that host or on the collector's.
 */
static int rule_clock_skew(const struct members *m, const struct cluster_settings *settings,
                           struct finding_list *out)
{
	for (size_t i = 0; i < m->live_count; i++) {
		const struct fleet_node *node = m->live[i];
		int64_t offset = node->clock_offset_ms;
		if (offset >= -FINDINGS_CLOCK_SKEW_MS && offset <= FINDINGS_CLOCK_SKEW_MS)
			continue;
		int64_t off = offset < 0 ? -offset : offset;
		if (finding_add(out, FINDING_CLOCK_SKEW, SEVERITY_WARNING, settings->name,
		                node->node_id,
		                "%s's clock is %lld.%03lld s %s the collector's; its reports are "
		                "used, ordered by when they arrive (check NTP on both hosts)",
		                node->node_id, (long long)(off / 1000), (long long)(off % 1000),
		                offset > 0 ? "ahead of" : "behind") == NULL)
			return -1;
	}
	return 0;
}

static int compare_findings(const void *a, const void *b)
{
	return strcmp(((const struct finding *)a)->key, ((const struct finding *)b)->key);
}

int findings_evaluate(const struct fleet *fleet, const struct cluster_settings *clusters,
                      size_t cluster_count, const char *active_cluster, int64_t now_ms,
                      struct finding_list *out)
{
	finding_list_clear(out);
	for (size_t c = 0; c < cluster_count; c++) {
		const struct cluster_settings *settings = &clusters[c];
		struct members m;
		if (collect(fleet, settings, now_ms, &m) != 0)
			return -1;
		m.users_on_it =
		        active_cluster != NULL && strcmp(active_cluster, settings->name) == 0;
		int rc = rule_mixed_version(&m, settings, out);
		if (rc == 0)
			rc = findings_config_drift(m.live, m.live_count, settings, out);
		if (rc == 0)
			rc = rule_node_stale(&m, settings, now_ms, out);
		if (rc == 0)
			rc = rule_trino_down(&m, settings, now_ms, out);
		if (rc == 0)
			rc = rule_cluster_incomplete(&m, settings, now_ms, out);
		if (rc == 0)
			rc = rule_counters_unavailable(&m, settings, out);
		if (rc == 0)
			rc = rule_node_visibility(&m, settings, out);
		if (rc == 0)
			rc = rule_clock_skew(&m, settings, out);
		members_free(&m);
		if (rc != 0)
			return -1;
	}
	if (out->count > 1)
		qsort(out->items, out->count, sizeof(*out->items), compare_findings);
	return 0;
}

int findings_add_lb_failure(struct finding_list *list, const char *cluster, const char *why)
{
	if (finding_add(list, FINDING_LB_SWITCH_FAILED, SEVERITY_CRITICAL, cluster, NULL,
	                "the load balancer could not be switched to %s: %s", cluster, why) == NULL)
		return -1;
	qsort(list->items, list->count, sizeof(*list->items), compare_findings);
	return 0;
}

int findings_add_lb_map_file(struct finding_list *list, const char *cluster, const char *why)
{
	if (finding_add(list, FINDING_LB_MAP_FILE_UNWRITABLE, SEVERITY_WARNING, cluster, NULL, "%s",
	                why) == NULL)
		return -1;
	qsort(list->items, list->count, sizeof(*list->items), compare_findings);
	return 0;
}

int findings_add_etcd_unreachable(struct finding_list *list, const char *why)
{
	if (finding_add(
	            list, FINDING_ETCD_UNREACHABLE, SEVERITY_CRITICAL, "", NULL,
	            "etcd cannot be reached (%s): no collector leads, so no cutover or rollback "
	            "happens until it is back",
	            why) == NULL)
		return -1;
	qsort(list->items, list->count, sizeof(*list->items), compare_findings);
	return 0;
}

int findings_add_state_dir(struct finding_list *list, const char *summary)
{
	if (finding_add(list, FINDING_STATE_DIR_UNWRITABLE, SEVERITY_CRITICAL, "", NULL, "%s",
	                summary) == NULL)
		return -1;
	qsort(list->items, list->count, sizeof(*list->items), compare_findings);
	return 0;
}

int findings_add_state_file_corrupt(struct finding_list *list, const char *why)
{
	if (finding_add(list, FINDING_STATE_FILE_CORRUPT, SEVERITY_WARNING, "", NULL,
	                "the firing alerts' file did not parse at start (%s): the collector "
	                "started with none firing, so alerts that fired before are not resolved "
	                "by it; resolve them in the pager",
	                why) == NULL)
		return -1;
	qsort(list->items, list->count, sizeof(*list->items), compare_findings);
	return 0;
}

int findings_add_lb_backend(struct finding_list *list, const char *cluster, enum severity severity,
                            const char *summary)
{
	if (finding_add(list, FINDING_LB_BACKEND_UNHEALTHY, severity, cluster, NULL, "%s",
	                summary) == NULL)
		return -1;
	qsort(list->items, list->count, sizeof(*list->items), compare_findings);
	return 0;
}

int findings_add_degraded(struct finding_list *list, const char *cluster, const char *why)
{
	if (finding_add(list, FINDING_DEGRADED, SEVERITY_CRITICAL, cluster, NULL,
	                "%s is degraded during its watch: %s", cluster, why) == NULL)
		return -1;
	qsort(list->items, list->count, sizeof(*list->items), compare_findings);
	return 0;
}

void findings_diff(const struct finding_list *old_list, const struct finding_list *new_list,
                   void (*opened)(const struct finding *finding, void *arg),
                   void (*closed)(const struct finding *finding, void *arg), void *arg)
{
	size_t i = 0, k = 0;
	while (i < old_list->count || k < new_list->count) {
		int c;
		if (i == old_list->count)
			c = 1;
		else if (k == new_list->count)
			c = -1;
		else
			c = strcmp(old_list->items[i].key, new_list->items[k].key);
		if (c < 0) {
			closed(&old_list->items[i++], arg);
		} else if (c > 0) {
			opened(&new_list->items[k++], arg);
		} else {
			i++;
			k++;
		}
	}
}
