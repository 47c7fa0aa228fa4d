/*
 * What check-config reports, shared by trino-guardctl check-config and both
 * daemons' --check-config (agent/agent_check.c, collector/collector_check.c
 * are the checks): one line per problem, and one exit code for all three
 * programs.
 */
#ifndef TG_CONFIG_CHECK_H
#define TG_CONFIG_CHECK_H

#include <stdbool.h>
#include <stdio.h>

enum config_check_exit {
	CONFIG_CHECK_OK = 0,      /* the file is valid and the daemon would start on it */
	CONFIG_CHECK_REFUSED = 1, /* the file is valid, but what it names is not there or wrong */
	CONFIG_CHECK_INVALID = 2, /* the file cannot be read or is not a valid config */
};

struct config_check {
	const char *path; /* the config file, named on every line */
	bool offline;     /* skip what needs the network (the load balancer) */
	FILE *out;        /* problems go here, one a line */
	unsigned problems;
};

/* Says one problem: "PATH: what is wrong". */
void config_check_problem(struct config_check *check, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));

/* The exit code for what was found: OK, or REFUSED after any problem. */
int config_check_exit(const struct config_check *check);

/*
 * Whether NAME is a node id as Trino takes node.id (airlift's NodeConfig
 * ID_REGEXP, "[A-Za-z0-9][_A-Za-z0-9-]*"): the name an allow-list file and
 * an agent report under.
 */
bool config_check_node_id(const char *name);

#endif
