/*
 * The per-release table of trino-sim. Each row is read from the sources named
 * in tests/fixtures/trino/SOURCES:
 * - the node manager: trino.metadata:name=DiscoveryNodeManager up to 476;
 *   from 477 trinodb/trino node/NodeManagerModule.java exports
 *   CoordinatorNodeManager with a generated name, which Server.java's
 *   PrefixObjectNameGeneratorModule("io.trino") makes trino.node:name=...;
 * - the counters in /metrics: airlift's managed-class walk reaches the
 *   @Flatten QueryManagerStats only with jmxutils 1.24 (commit 71c29f2,
 *   2023-09-14); 423 ships the gauges only, 429 the counters;
 * - JMX REST: Server.java of the newest main (00e6f8b9) installs no
 *   JmxHttpModule; 478 still does; the first release without it is not
 *   pinned, so 479 on follows main;
 * - /v1/info: nodeId, state and coordinatorId from 477 (server/ServerInfo.java);
 * - label escaping: airlift 9b4e61c4e (2026-02-19, airlift 420) escapes label
 *   values; before it they are written raw;
 * - the filter: airlift before 93e27897f (airlift 420) walks the MBeans once
 *   per name[] and answers in the request's order, each name once; from it,
 *   one walk, in the order of collection, one "# TYPE" per family;
 * - nodeGroups in /v1/info: server/ServerInfo.java of main (32d18308).
 * Which Trino release first ships airlift 420 is not pinned: 479 on follows main.
 */
#include "sim_release.h"

#include <stdlib.h>

static const struct sim_release releases[] = {
        {
                .first = 0,
                .metrics_in_request_order = true,
                .last = 428,
                .node_manager_mbean = "trino.metadata:name=DiscoveryNodeManager",
                .node_count_metric = "trino_metadata_name_DiscoveryNodeManager_ActiveNodeCount",
                .counters_in_metrics = false,
                .jmx_rest = true,
        },
        {
                .first = 429,
                .metrics_in_request_order = true,
                .last = 476,
                .node_manager_mbean = "trino.metadata:name=DiscoveryNodeManager",
                .node_count_metric = "trino_metadata_name_DiscoveryNodeManager_ActiveNodeCount",
                .counters_in_metrics = true,
                .jmx_rest = true,
        },
        {
                .first = 477,
                .metrics_in_request_order = true,
                .last = 478,
                .node_manager_mbean = "trino.node:name=CoordinatorNodeManager",
                .node_count_metric = "trino_node_name_CoordinatorNodeManager_ActiveNodeCount",
                .counters_in_metrics = true,
                .jmx_rest = true,
                .info_node_fields = true,
                .info_coordinator_id = true,
        },
        {
                .first = 479,
                .last = 0,
                .node_manager_mbean = "trino.node:name=CoordinatorNodeManager",
                .node_count_metric = "trino_node_name_CoordinatorNodeManager_ActiveNodeCount",
                .counters_in_metrics = true,
                .jmx_rest = false,
                .info_node_fields = true,
                .info_coordinator_id = true,
                .labels_escaped = true,
                .info_node_groups = true,
        },
};

#define RELEASE_COUNT (sizeof(releases) / sizeof(releases[0]))

const struct sim_release *sim_release_for(const char *version)
{
	int number = atoi(version);
	for (size_t i = 0; i < RELEASE_COUNT; i++)
		if (number >= releases[i].first &&
		    (releases[i].last == 0 || number <= releases[i].last))
			return &releases[i];
	return &releases[0];
}

const struct sim_release *sim_release_table(size_t *count)
{
	*count = RELEASE_COUNT;
	return releases;
}
