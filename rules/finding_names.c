/*
 * The names of the finding kinds and severities: what people read in logs,
 * alerts and the status, and what the config accepts ([alerts] for.RULE,
 * [alert.NAME] min_severity). Each array is indexed by its enum and
 * checked against its count.
 */
#include <string.h>

#include "findings.h"

static const char *const kind_names[] = {
        [FINDING_MIXED_VERSION] = "mixed-version",
        [FINDING_CONFIG_DRIFT] = "config-drift",
        [FINDING_NODE_STALE] = "node-stale",
        [FINDING_TRINO_DOWN] = "trino-down",
        [FINDING_CLUSTER_INCOMPLETE] = "cluster-incomplete",
        [FINDING_COUNTERS_UNAVAILABLE] = "counters-unavailable",
        [FINDING_NODE_HIDDEN] = "node-hidden",
        [FINDING_NODE_UNGUARDED] = "node-unguarded",
        [FINDING_LB_SWITCH_FAILED] = "lb-switch-failed",
        [FINDING_DEGRADED] = "degraded",
        [FINDING_CLUSTER_ABSENT] = "cluster-absent",
        [FINDING_LB_BACKEND_UNHEALTHY] = "lb-backend-unhealthy",
        [FINDING_LB_MAP_FILE_UNWRITABLE] = "lb-map-file-unwritable",
        [FINDING_CONFIG_TRUNCATED] = "config-truncated",
        [FINDING_CLOCK_SKEW] = "clock-skew",
        [FINDING_ETCD_UNREACHABLE] = "etcd-unreachable",
        [FINDING_STATE_DIR_UNWRITABLE] = "state-dir-unwritable",
        [FINDING_STATE_FILE_CORRUPT] = "state-file-corrupt",
};
_Static_assert(sizeof(kind_names) / sizeof(kind_names[0]) == FINDING_KIND_COUNT,
               "one name per enum finding_kind");

const char *finding_kind_name(enum finding_kind kind)
{
	return kind < FINDING_KIND_COUNT ? kind_names[kind] : "unknown";
}

int finding_kind_parse(const char *name, enum finding_kind *out)
{
	for (int kind = 0; kind < FINDING_KIND_COUNT; kind++) {
		if (strcmp(name, kind_names[kind]) == 0) {
			*out = (enum finding_kind)kind;
			return 0;
		}
	}
	return -1;
}

const char *const severity_names[] = {
        [SEVERITY_INFO] = "info",
        [SEVERITY_WARNING] = "warning",
        [SEVERITY_ERROR] = "error",
        [SEVERITY_CRITICAL] = "critical",
        NULL,
};
_Static_assert(sizeof(severity_names) / sizeof(severity_names[0]) == SEVERITY_COUNT + 1,
               "one name per enum severity");

const char *severity_name(enum severity severity)
{
	return (unsigned)severity < SEVERITY_COUNT ? severity_names[severity] : "unknown";
}
