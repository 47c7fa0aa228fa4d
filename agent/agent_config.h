/*
 * agent.ini: what the agent polls, how it authenticates to Trino, what it
 * hashes and where it publishes (docs/DESIGN.md §3).
 */
#ifndef TG_AGENT_CONFIG_H
#define TG_AGENT_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"

enum counters_source {
	COUNTERS_SOURCE_AUTO, /* /metrics, falling back to JMX */
	COUNTERS_SOURCE_METRICS,
	COUNTERS_SOURCE_JMX,
	COUNTERS_SOURCE_COUNT
};

struct agent_section {
	char *cluster;
	char *node_id; /* NULL: node.id from node.properties */
	int64_t interval_ms;
	int log_level;         /* enum log_level */
	int64_t metrics_port;  /* the agent's own /metrics; 0: not served */
	char *metrics_address; /* numeric IP to listen on, loopback by default */
};

struct trino_section {
	char *url;
	char *etc_dir;
	char *user;
	char *basic_user;
	char *basic_password_file;
	char *bearer_token_file;
	char *ca_file;
	int64_t timeout_ms;
	int counters;              /* enum counters_source */
	bool coordinator_id_probe; /* read the id from a query's before 477 */
	char *probe_user;          /* X-Trino-User of that query */
	bool query_list;           /* also read /v1/query for the drain gate */
};

struct digest_section {
	struct config_list extra_files; /* globs relative to etc_dir */
	struct config_list exclude_keys;
};

struct publish_section {
	struct config_list endpoints;
	char *server_public_key_file;
	char *public_key_file;
	char *secret_key_file;
	bool curve;
};

struct agent_config {
	struct agent_section agent;
	struct trino_section trino;
	struct digest_section config;
	struct publish_section collector;
};

extern const struct config_schema agent_config_schema;

/* Loads PATH into CONFIG (zeroed by the caller). 0, or -1 with "FILE:LINE: why" in ERR. */
int agent_config_load(const char *path, struct agent_config *config, char *err, size_t err_len);

/* Frees what agent_config_load stored. */
void agent_config_free(struct agent_config *config);

#endif
