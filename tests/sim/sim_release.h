/*
 * What differs between Trino releases, in one table: which node-manager MBean
 * exports the active node count, whether /metrics carries the QueryManager
 * counters, whether JMX REST exists, what /v1/info holds. trino-sim answers
 * by it and the fixture tests check it against tests/fixtures/trino/ and the
 * README's compatibility table.
 */
#ifndef TG_SIM_RELEASE_H
#define TG_SIM_RELEASE_H

#include <stdbool.h>
#include <stddef.h>

struct sim_release {
	int first;                      /* the first release number this row covers */
	int last;                       /* the last one (0: up to the newest) */
	const char *node_manager_mbean; /* exports ActiveNodeCount (JMX object name) */
	const char *node_count_metric;  /* its OpenMetrics name */
	bool counters_in_metrics;       /* /metrics has the QueryManager counters */
	bool jmx_rest;                  /* /v1/jmx/mbean exists */
	bool info_node_fields;          /* /v1/info has nodeId and state */
	bool info_coordinator_id;       /* a coordinator's /v1/info has coordinatorId */
	bool labels_escaped;            /* label values escaped (\\ \" \n) in /metrics */
	bool metrics_in_request_order;  /* a filtered /metrics answers name by name, in order */
	bool info_node_groups;          /* /v1/info has nodeGroups */
};

/* The row for VERSION ("447", "423-e.3", "479-SNAPSHOT"): by its leading number. */
const struct sim_release *sim_release_for(const char *version);

/* Every row, oldest first; *COUNT is set to how many. */
const struct sim_release *sim_release_table(size_t *count);

#endif
