/*
 * The guardrail rules (docs/DESIGN.md §5): from the fleet table, per-cluster
 * settings and `now`, the findings that hold right now. Pure.
 */
#ifndef TG_FINDINGS_H
#define TG_FINDINGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fleet.h"

enum finding_kind {
	FINDING_MIXED_VERSION,
	FINDING_CONFIG_DRIFT,
	FINDING_NODE_STALE,
	FINDING_TRINO_DOWN,
	FINDING_CLUSTER_INCOMPLETE,
	FINDING_COUNTERS_UNAVAILABLE,
	FINDING_NODE_HIDDEN,
	FINDING_NODE_UNGUARDED,
	FINDING_LB_SWITCH_FAILED, /* from the cutover runner, not from the fleet */
	FINDING_DEGRADED,         /* the watched cluster failed the degradation test */
	FINDING_CLUSTER_ABSENT,   /* users are sent to a cluster no agent of which has reported */
	FINDING_LB_BACKEND_UNHEALTHY, /* from rules/lb_health.c: the LB holds a ready cluster down */
	FINDING_LB_MAP_FILE_UNWRITABLE, /* a switch worked, its map file was not rewritten */
	FINDING_CONFIG_TRUNCATED,       /* a node has more config files than a report carries */
	FINDING_CLOCK_SKEW,             /* an agent's clock is off the collector's */
	FINDING_ETCD_UNREACHABLE,       /* [ha]: etcd has not answered for a lease's time */
	FINDING_STATE_DIR_UNWRITABLE,   /* a save into state_dir fails (full disk, read-only) */
	FINDING_STATE_FILE_CORRUPT,     /* a state file did not parse at start; moved aside */
	FINDING_KIND_COUNT
};

enum severity {
	SEVERITY_INFO,
	SEVERITY_WARNING,
	SEVERITY_ERROR,
	SEVERITY_CRITICAL,
	SEVERITY_COUNT
};

/*
 * "info", "warning", "error", "critical": indexed by enum severity,
 * NULL-terminated (the [alert.NAME] min_severity choices).
 */
extern const char *const severity_names[];

/* An agent's clock further off the collector's than this is a clock-skew finding. */
#define FINDINGS_CLOCK_SKEW_MS 30000

struct finding {
	enum finding_kind kind;
	enum severity severity;
	char cluster[FLEET_CLUSTER_LEN];
	char subject[FLEET_TEXT_LEN]; /* the node, or the config path; "" for the cluster */
	char key[512];                /* "<rule>/<cluster>[/<subject>]": identity across ticks */
	char summary[1024];           /* one line for people */
};

struct finding_list {
	struct finding *items;
	size_t count;
	size_t capacity;
};

struct cluster_settings {
	char name[FLEET_CLUSTER_LEN];
	int64_t min_workers;
	int64_t stale_after_ms; /* 0: 3 x the node's interval, at least 3 s */
	int64_t down_grace_ms;  /* how long not ACTIVE before trino-down */
	/* from when (monotonic) a cluster with no node at all is cluster-absent: the
	 * collector's start plus [collector] absent_after; until then it says nothing */
	int64_t absent_from_ms;
};

/* "mixed-version", "config-drift", ... */
const char *finding_kind_name(enum finding_kind kind);
/* "critical", "error", "warning", "info" */
const char *severity_name(enum severity severity);
/* Parses a rule's name ("mixed-version"). 0, or -1 for anything else. */
int finding_kind_parse(const char *name, enum finding_kind *out);

void finding_list_clear(struct finding_list *list);
void finding_list_free(struct finding_list *list);

/* True when NODE is live at NOW_MS under SETTINGS. */
bool node_live(const struct fleet_node *node, const struct cluster_settings *settings,
               int64_t now_ms);

/*
 * The coordinator of SETTINGS' cluster that is live at NOW_MS and whose Trino
 * answers (not UNREACHABLE, a version reported); it need not be ACTIVE. The
 * first in node-id order when several; NULL when none. Borrowed from FLEET.
 * The one definition for the findings, the gate, the baseline, the watch and
 * the rollback target.
 */
const struct fleet_node *cluster_live_coordinator(const struct fleet *fleet,
                                                  const struct cluster_settings *settings,
                                                  int64_t now_ms);

/*
 * True once ELAPSED_MS since the collector started gave every agent time to
 * report once (the longest stale_after, at least the default staleness):
 * before that, a node not heard from yet is not yet a finding.
 */
/* That grace: the longest stale_after, at least the default staleness. */
int64_t findings_grace_ms(const struct cluster_settings *clusters, size_t cluster_count);

bool findings_warmed_up(const struct cluster_settings *clusters, size_t cluster_count,
                        int64_t elapsed_ms);

/*
 * The reference version of CLUSTER: its live coordinator's, else the most
 * common among live nodes (ties: the higher). Writes "" when no live node
 * reports a version.
 */
void cluster_reference_version(const struct fleet *fleet, const struct cluster_settings *settings,
                               int64_t now_ms, char *out, size_t out_len);

/*
 * Evaluates every rule for every configured cluster into OUT (cleared first),
 * sorted by key. ACTIVE_CLUSTER is where the load balancer sends users (NULL
 * or "": none known): its problems are critical, the standby's warnings.
 * Returns 0, or -1 when out of memory.
 */
int findings_evaluate(const struct fleet *fleet, const struct cluster_settings *clusters,
                      size_t cluster_count, const char *active_cluster, int64_t now_ms,
                      struct finding_list *out);

/*
 * Adds the finding that a load-balancer switch to CLUSTER failed (or was
 * partial), with WHY, keeping LIST sorted. 0, or -1 when out of memory.
 */
int findings_add_lb_failure(struct finding_list *list, const char *cluster, const char *why);

/*
 * Adds the warning that the switch to CLUSTER worked but left the LB's
 * on-disk config behind (WHY: a reload would undo it); LIST stays sorted.
 */
int findings_add_lb_map_file(struct finding_list *list, const char *cluster, const char *why);

/* [ha]: etcd cannot be reached (WHY): no collector switches anything meanwhile. */
int findings_add_etcd_unreachable(struct finding_list *list, const char *why);

/* Adds lb-backend-unhealthy for CLUSTER with SUMMARY; LIST stays sorted. 0 or -1. */
int findings_add_lb_backend(struct finding_list *list, const char *cluster, enum severity severity,
                            const char *summary);

/*
 * Adds the collector's own critical finding that saves into state_dir fail,
 * with SUMMARY (which files, why); its key is the rule's name alone, as it
 * is about no cluster. LIST stays sorted. 0 or -1.
 */
int findings_add_state_dir(struct finding_list *list, const char *summary);

/*
 * Adds the collector's own warning that the firing set's file did not parse
 * at start (WHY: where it failed, where it was moved): the collector started
 * with none firing, so what fired before is not resolved by it. Key: the
 * rule's name alone. LIST stays sorted. 0 or -1.
 */
int findings_add_state_file_corrupt(struct finding_list *list, const char *why);

/* Adds the finding that the watched CLUSTER is degraded, with WHY; LIST stays sorted. */
int findings_add_degraded(struct finding_list *list, const char *cluster, const char *why);

/*
 * Appends a finding to LIST (its key made from KIND, CLUSTER and SUBJECT, which
 * may be NULL), its summary from FMT cut on a word to fit. NULL when out of memory.
 */
struct finding *finding_add(struct finding_list *list, enum finding_kind kind,
                            enum severity severity, const char *cluster, const char *subject,
                            const char *fmt, ...) __attribute__((format(printf, 6, 7)));

/* The config-drift findings among the LIVE nodes of SETTINGS' cluster. 0, or -1 (memory). */
int findings_config_drift(const struct fleet_node **live, size_t live_count,
                          const struct cluster_settings *settings, struct finding_list *out);

/* Keys of OLD not in NEW (closed) and of NEW not in OLD (opened); both lists sorted. */
void findings_diff(const struct finding_list *old_list, const struct finding_list *new_list,
                   void (*opened)(const struct finding *finding, void *arg),
                   void (*closed)(const struct finding *finding, void *arg), void *arg);

#endif
