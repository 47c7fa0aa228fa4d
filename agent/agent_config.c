/*
 * The agent's config table and its cross-key checks: no password over plain
 * HTTP, CURVE keys present unless `curve = off`, endpoints that ZeroMQ can
 * connect to.
 */
#include "agent_config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "log.h"

static const char *const counters_source_names[] = {
        [COUNTERS_SOURCE_AUTO] = "auto",
        [COUNTERS_SOURCE_METRICS] = "metrics",
        [COUNTERS_SOURCE_JMX] = "jmx",
        NULL,
};
_Static_assert(sizeof(counters_source_names) / sizeof(counters_source_names[0]) ==
                       COUNTERS_SOURCE_COUNT + 1,
               "one name per enum counters_source");

#define KEY(section, name, type, field, required, def)                                             \
	{                                                                                          \
		name, type, offsetof(struct section, field), required, def, 0, 0, NULL             \
	}

static const struct config_key agent_keys[] = {
        KEY(agent_section, "cluster", CONFIG_STRING, cluster, true, NULL),
        KEY(agent_section, "node_id", CONFIG_STRING, node_id, false, NULL),
        {"interval", CONFIG_DURATION, offsetof(struct agent_section, interval_ms), false, "1s", 100,
         3600000, NULL},
        {"log_level", CONFIG_CHOICE, offsetof(struct agent_section, log_level), false, "info", 0, 0,
         log_level_names},
        {"metrics_port", CONFIG_INT, offsetof(struct agent_section, metrics_port), false, "0", 0,
         65535, NULL},
        KEY(agent_section, "metrics_address", CONFIG_STRING, metrics_address, false, "127.0.0.1"),
};

static const struct config_key trino_keys[] = {
        KEY(trino_section, "url", CONFIG_STRING, url, false, "http://127.0.0.1:8080"),
        KEY(trino_section, "etc_dir", CONFIG_PATH, etc_dir, false, "/etc/trino"),
        KEY(trino_section, "user", CONFIG_STRING, user, false, "trino-guard"),
        KEY(trino_section, "basic_user", CONFIG_STRING, basic_user, false, NULL),
        KEY(trino_section, "basic_password_file", CONFIG_PATH, basic_password_file, false, NULL),
        KEY(trino_section, "bearer_token_file", CONFIG_PATH, bearer_token_file, false, NULL),
        KEY(trino_section, "ca_file", CONFIG_PATH, ca_file, false, NULL),
        {"timeout", CONFIG_DURATION, offsetof(struct trino_section, timeout_ms), false, "5s", 100,
         600000, NULL},
        {"counters", CONFIG_CHOICE, offsetof(struct trino_section, counters), false, "auto", 0, 0,
         counters_source_names},
        KEY(trino_section, "coordinator_id_probe", CONFIG_BOOL, coordinator_id_probe, false, "off"),
        KEY(trino_section, "probe_user", CONFIG_STRING, probe_user, false, "trino-guard"),
        KEY(trino_section, "query_list", CONFIG_BOOL, query_list, false, "off"),
};

static const struct config_key digest_keys[] = {
        KEY(digest_section, "extra_files", CONFIG_LIST, extra_files, false, NULL),
        KEY(digest_section, "exclude_keys", CONFIG_LIST, exclude_keys, false, NULL),
};

static const struct config_key collector_keys[] = {
        KEY(publish_section, "endpoints", CONFIG_LIST, endpoints, true, NULL),
        KEY(publish_section, "server_public_key_file", CONFIG_PATH, server_public_key_file, false,
            NULL),
        KEY(publish_section, "public_key_file", CONFIG_PATH, public_key_file, false, NULL),
        KEY(publish_section, "secret_key_file", CONFIG_PATH, secret_key_file, false, NULL),
        KEY(publish_section, "curve", CONFIG_BOOL, curve, false, "on"),
};

static int validate_agent(void *object, const char **key, char *why, size_t why_len)
{
	struct agent_section *agent = object;
	for (const char *p = agent->cluster; *p != '\0'; p++) {
		if (strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.",
		           *p) == NULL) {
			*key = "cluster";
			snprintf(why, why_len,
			         "cluster '%s' may only use letters, digits, '-', '_' and '.'",
			         agent->cluster);
			return -1;
		}
	}
	if (agent->node_id != NULL && agent->node_id[0] == '\0') {
		*key = "node_id";
		snprintf(why, why_len, "node_id is empty");
		return -1;
	}
	unsigned char ip[sizeof(struct in6_addr)];
	if (inet_pton(AF_INET, agent->metrics_address, ip) != 1 &&
	    inet_pton(AF_INET6, agent->metrics_address, ip) != 1) {
		*key = "metrics_address";
		snprintf(why, why_len,
		         "metrics_address '%s' is not a numeric IPv4 or IPv6 address (127.0.0.1 "
		         "keeps /metrics on this host)",
		         agent->metrics_address);
		return -1;
	}
	return 0;
}

static int validate_trino(void *object, const char **key, char *why, size_t why_len)
{
	struct trino_section *trino = object;
	bool https = strncasecmp(trino->url, "https://", 8) == 0;
	if (!https && strncasecmp(trino->url, "http://", 7) != 0) {
		*key = "url";
		snprintf(why, why_len, "url '%s' must start with http:// or https://", trino->url);
		return -1;
	}
	if ((trino->basic_user != NULL) != (trino->basic_password_file != NULL)) {
		*key = trino->basic_user != NULL ? "basic_user" : "basic_password_file";
		snprintf(why, why_len, "basic_user and basic_password_file go together");
		return -1;
	}
	if (trino->basic_user != NULL && trino->bearer_token_file != NULL) {
		*key = "bearer_token_file";
		snprintf(why, why_len, "use either basic auth or a bearer token, not both");
		return -1;
	}
	if (!https && (trino->basic_user != NULL || trino->bearer_token_file != NULL)) {
		*key = trino->basic_user != NULL ? "basic_user" : "bearer_token_file";
		snprintf(why, why_len,
		         "credentials over plain http would travel in clear text and Trino refuses "
		         "a password over http; use an https:// url, or management.user in Trino's "
		         "config.properties and no credentials");
		return -1;
	}
	for (const char *p = trino->probe_user; *p != '\0'; p++) {
		if ((unsigned char)*p < 0x20 || *p == 0x7f) {
			*key = "probe_user";
			snprintf(why, why_len, "probe_user may not hold control characters");
			return -1;
		}
	}
	if (trino->probe_user[0] == '\0') {
		*key = "probe_user";
		snprintf(why, why_len, "probe_user is empty");
		return -1;
	}
	if (trino->ca_file != NULL && !https) {
		*key = "ca_file";
		snprintf(why, why_len, "ca_file needs an https:// url");
		return -1;
	}
	return 0;
}

static int validate_collector(void *object, const char **key, char *why, size_t why_len)
{
	struct publish_section *collector = object;
	if (collector->endpoints.count == 0) {
		*key = "endpoints";
		snprintf(why, why_len, "endpoints lists no collector");
		return -1;
	}
	for (size_t i = 0; i < collector->endpoints.count; i++) {
		const char *endpoint = collector->endpoints.items[i];
		if (strncmp(endpoint, "tcp://", 6) != 0 && strncmp(endpoint, "ipc://", 6) != 0) {
			*key = "endpoints";
			snprintf(why, why_len, "endpoint '%s' must start with tcp:// or ipc://",
			         endpoint);
			return -1;
		}
	}
	if (!collector->curve)
		return 0;
	const char *missing = collector->server_public_key_file == NULL ? "server_public_key_file"
	                      : collector->public_key_file == NULL      ? "public_key_file"
	                      : collector->secret_key_file == NULL      ? "secret_key_file"
	                                                                : NULL;
	if (missing != NULL) {
		*key = "curve";
		snprintf(why, why_len, "%s is required with curve on (or set curve = off)",
		         missing);
		return -1;
	}
	return 0;
}

static const struct config_section agent_sections[] = {
        {.name = "agent",
         .keys = agent_keys,
         .key_count = sizeof(agent_keys) / sizeof(agent_keys[0]),
         .offset = offsetof(struct agent_config, agent),
         .validate = validate_agent},
        {.name = "trino",
         .keys = trino_keys,
         .key_count = sizeof(trino_keys) / sizeof(trino_keys[0]),
         .offset = offsetof(struct agent_config, trino),
         .validate = validate_trino},
        {.name = "config",
         .keys = digest_keys,
         .key_count = sizeof(digest_keys) / sizeof(digest_keys[0]),
         .offset = offsetof(struct agent_config, config)},
        {.name = "collector",
         .keys = collector_keys,
         .key_count = sizeof(collector_keys) / sizeof(collector_keys[0]),
         .offset = offsetof(struct agent_config, collector),
         .validate = validate_collector},
};

const struct config_schema agent_config_schema = {.sections = agent_sections,
                                                  .section_count = sizeof(agent_sections) /
                                                                   sizeof(agent_sections[0])};

int agent_config_load(const char *path, struct agent_config *config, char *err, size_t err_len)
{
	return config_load(&agent_config_schema, path, config, err, err_len);
}

void agent_config_free(struct agent_config *config)
{
	config_free(&agent_config_schema, config);
}
