/*
 * collector.ini: where reports come in, who may send them, where state is
 * kept, the HTTP API, and one [cluster.NAME] section per cluster.
 */
#ifndef TG_COLLECTOR_CONFIG_H
#define TG_COLLECTOR_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"

#define COLLECTOR_MAX_CLUSTERS 16

struct collector_section {
	char *listen;
	char *secret_key_file;
	char *allowed_keys_dir;
	char *state_dir;
	int64_t tick_ms;
	char *environment;
	bool curve;
	char *initial_active;
	int64_t forget_after_ms;
	int64_t journal_max_bytes;
	int log_level;
};

struct api_section {
	char *listen; /* host:port */
	char *token_file;
};

struct cluster_section {
	char name[64];
	int64_t min_workers;
	int64_t stale_after_ms;
	int64_t down_grace_ms;
};

struct collector_config {
	struct collector_section collector;
	struct api_section api;
	struct cluster_section clusters[COLLECTOR_MAX_CLUSTERS];
	size_t cluster_count;
};

extern const struct config_schema collector_config_schema;

/* Loads and checks PATH. 0, or -1 with "FILE:LINE: why" (or "FILE: why") in ERR. */
int collector_config_load(const char *path, struct collector_config *config, char *err,
                          size_t err_len);
void collector_config_free(struct collector_config *config);

/* Splits "host:port" ("[::1]:7601" too). 0, or -1. */
int collector_parse_host_port(const char *text, char *host, size_t host_len, int *port);

#endif
