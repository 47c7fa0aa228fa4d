/*
 * trino-sim's Trino-style etc directories: one per node under the etc root,
 * written at start, and the config_set fault that edits one key in place.
 */
#ifndef TG_SIM_ETC_H
#define TG_SIM_ETC_H

#include <stddef.h>

#include "sim_model.h"

/* Writes every node's etc dir under ROOT/<node-id>/ with CATALOGS catalogs. 0 or -1 + ERR. */
int sim_etc_write(struct sim_cluster *cluster, const char *root, int catalogs, char *err,
                  size_t err_len);

/*
 * Sets KEY=VALUE in FILE (relative to the node's etc dir, e.g.
 * "catalog/tpch.properties"): replaces the key's line, or appends one.
 * Refuses paths that leave the etc dir. 0, or -1 with a reason in ERR.
 */
int sim_etc_set(const struct sim_node *node, const char *file, const char *key, const char *value,
                char *err, size_t err_len);

#endif
