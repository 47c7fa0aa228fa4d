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
 * - label escaping: airlift 9b4e61c4e (2026-02-19) escapes label values;
 *   before it they are written raw.
 */
#include "sim_release.h"

#include <stdlib.h>

static const struct sim_release releases[] = {
        {
                .first = 0,
                .last = 428,
                .node_manager_mbean = "trino.metadata:name=DiscoveryNodeManager",
                .node_count_metric = "trino_metadata_name_DiscoveryNodeManager_ActiveNodeCount",
                .counters_in_metrics = false,
                .jmx_rest = true,
        },
        {
                .first = 429,
                .last = 476,
                .node_manager_mbean = "trino.metadata:name=DiscoveryNodeManager",
                .node_count_metric = "trino_metadata_name_DiscoveryNodeManager_ActiveNodeCount",
                .counters_in_metrics = true,
                .jmx_rest = true,
        },
        {
                .first = 477,
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
