/*
 * What the agent needs beyond a valid agent.ini before it starts: its node
 * id, its key files, its Trino credentials. The daemon's start and both
 * check-configs (trino-guardctl's and --check-config) run these same
 * checks.
 */
#ifndef TG_AGENT_CHECK_H
#define TG_AGENT_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "agent_config.h"

/*
 * node_id from CONFIG, else node.id from etc_dir's node.properties; refused
 * unless a node id as Trino takes it. Returns a new string (caller frees),
 * or NULL with the reason in ERR.
 */
char *agent_resolve_node_id(const struct agent_config *config, char *err, size_t err_len);

/*
 * Loads PATH and checks everything the agent would refuse at start,
 * printing each problem on ERR_OUT and "PATH: OK (...)" on OUT. Returns the
 * exit code of config_check.h (0 ok, 1 refused, 2 invalid file).
 */
int agent_check_config(const char *path, bool offline, FILE *out, FILE *err_out);

#endif
