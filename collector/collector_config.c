/*
 * The collector's config table and its checks: CURVE needs a secret key and
 * an allow-list dir; an API reachable from other hosts needs a token.
 */
#include "collector_config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KEY(section, name, type, field, required, def)                                             \
	{                                                                                          \
		name, type, offsetof(struct section, field), required, def, 0, 0, NULL             \
	}

static const struct config_key collector_keys[] = {
        KEY(collector_section, "listen", CONFIG_STRING, listen, false, "tcp://0.0.0.0:7600"),
        KEY(collector_section, "secret_key_file", CONFIG_PATH, secret_key_file, false, NULL),
        KEY(collector_section, "allowed_keys_dir", CONFIG_PATH, allowed_keys_dir, false, NULL),
        KEY(collector_section, "state_dir", CONFIG_PATH, state_dir, false, "/var/lib/trino-guard"),
        {"tick", CONFIG_DURATION, offsetof(struct collector_section, tick_ms), false, "250ms", 10,
         60000, NULL},
        KEY(collector_section, "environment", CONFIG_STRING, environment, false, "production"),
        KEY(collector_section, "curve", CONFIG_BOOL, curve, false, "on"),
        KEY(collector_section, "initial_active", CONFIG_STRING, initial_active, false, NULL),
        {"forget_after", CONFIG_DURATION, offsetof(struct collector_section, forget_after_ms),
         false, "1h", 60000, 30LL * 86400000, NULL},
        {"journal_max_bytes", CONFIG_INT, offsetof(struct collector_section, journal_max_bytes),
         false, "67108864", 65536, 1e12, NULL},
        {"log_level", CONFIG_CHOICE, offsetof(struct collector_section, log_level), false, "info",
         0, 0, "error|warn|info|debug"},
};

static const struct config_key api_keys[] = {
        KEY(api_section, "listen", CONFIG_STRING, listen, false, "127.0.0.1:7601"),
        KEY(api_section, "token_file", CONFIG_PATH, token_file, false, NULL),
};

static const struct config_key cluster_keys[] = {
        {"min_workers", CONFIG_INT, offsetof(struct cluster_section, min_workers), false, "1", 0,
         100000, NULL},
        {"stale_after", CONFIG_DURATION, offsetof(struct cluster_section, stale_after_ms), false,
         NULL, 100, 3600000, NULL},
        {"down_grace", CONFIG_DURATION, offsetof(struct cluster_section, down_grace_ms), false,
         "10s", 0, 3600000, NULL},
};

static int validate_collector(void *object, const char **key, char *why, size_t why_len)
{
	struct collector_section *c = object;
	if (strncmp(c->listen, "tcp://", 6) != 0 && strncmp(c->listen, "ipc://", 6) != 0) {
		*key = "listen";
		snprintf(why, why_len, "listen '%s' must start with tcp:// or ipc://", c->listen);
		return -1;
	}
	if (c->curve && (c->secret_key_file == NULL || c->allowed_keys_dir == NULL)) {
		*key = "curve";
		snprintf(why, why_len,
		         "%s is required with curve on (or set curve = off to accept anyone)",
		         c->secret_key_file == NULL ? "secret_key_file" : "allowed_keys_dir");
		return -1;
	}
	if (c->environment[0] == '\0' || strpbrk(c->environment, "/ \t") != NULL) {
		*key = "environment";
		snprintf(why, why_len, "environment must be a word without '/' or spaces");
		return -1;
	}
	return 0;
}

int collector_parse_host_port(const char *text, char *host, size_t host_len, int *port)
{
	const char *colon = strrchr(text, ':');
	if (colon == NULL || colon == text)
		return -1;
	const char *start = text, *end = colon;
	if (*start == '[' && end[-1] == ']') {
		start++;
		end--;
	}
	if ((size_t)(end - start) >= host_len)
		return -1;
	memcpy(host, start, (size_t)(end - start));
	host[end - start] = '\0';
	char *stop;
	long value = strtol(colon + 1, &stop, 10);
	if (*stop != '\0' || value < 0 || value > 65535 || colon[1] == '\0')
		return -1;
	*port = (int)value;
	return 0;
}

static bool loopback(const char *host)
{
	return strcmp(host, "127.0.0.1") == 0 || strcmp(host, "::1") == 0 ||
	       strcmp(host, "localhost") == 0 || strncmp(host, "127.", 4) == 0;
}

static int validate_api(void *object, const char **key, char *why, size_t why_len)
{
	struct api_section *api = object;
	char host[256];
	int port;
	if (collector_parse_host_port(api->listen, host, sizeof(host), &port) != 0) {
		*key = "listen";
		snprintf(why, why_len, "listen '%s' is not host:port", api->listen);
		return -1;
	}
	if (!loopback(host) && api->token_file == NULL) {
		*key = "listen";
		snprintf(why, why_len,
		         "listening on %s (not loopback) requires token_file: the API can move "
		         "production traffic",
		         host);
		return -1;
	}
	return 0;
}

static void *cluster_instance(void *target, const char *name, char *err, size_t err_len)
{
	struct collector_config *config = target;
	if (config->cluster_count == COLLECTOR_MAX_CLUSTERS) {
		snprintf(err, err_len, "at most %d clusters", COLLECTOR_MAX_CLUSTERS);
		return NULL;
	}
	if (strlen(name) >= sizeof(config->clusters[0].name) ||
	    strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") !=
	            strlen(name)) {
		snprintf(err, err_len,
		         "a cluster name uses letters, digits, '-', '_' and '.' (at most 63)");
		return NULL;
	}
	struct cluster_section *cluster = &config->clusters[config->cluster_count++];
	memset(cluster, 0, sizeof(*cluster));
	snprintf(cluster->name, sizeof(cluster->name), "%s", name);
	return cluster;
}

static void *cluster_at(void *target, size_t index)
{
	struct collector_config *config = target;
	return index < config->cluster_count ? &config->clusters[index] : NULL;
}

static const struct config_section sections[] = {
        {"collector", false, collector_keys, sizeof(collector_keys) / sizeof(collector_keys[0]),
         offsetof(struct collector_config, collector), NULL, NULL, validate_collector},
        {"api", false, api_keys, sizeof(api_keys) / sizeof(api_keys[0]),
         offsetof(struct collector_config, api), NULL, NULL, validate_api},
        {"cluster.", true, cluster_keys, sizeof(cluster_keys) / sizeof(cluster_keys[0]), 0,
         cluster_instance, cluster_at, NULL},
};

const struct config_schema collector_config_schema = {sections,
                                                      sizeof(sections) / sizeof(sections[0])};

int collector_config_load(const char *path, struct collector_config *config, char *err,
                          size_t err_len)
{
	if (config_load(&collector_config_schema, path, config, err, err_len) != 0)
		return -1;
	if (config->cluster_count == 0) {
		snprintf(err, err_len,
		         "%s: no [cluster.NAME] section: name the clusters to guard "
		         "(e.g. [cluster.blue] and [cluster.green])",
		         path);
		return -1;
	}
	const char *active = config->collector.initial_active;
	if (active != NULL) {
		bool found = false;
		for (size_t i = 0; i < config->cluster_count; i++)
			found = found || strcmp(config->clusters[i].name, active) == 0;
		if (!found) {
			snprintf(err, err_len,
			         "%s: [collector] initial_active '%s' is not a [cluster.NAME] "
			         "section",
			         path, active);
			return -1;
		}
	}
	return 0;
}

void collector_config_free(struct collector_config *config)
{
	config_free(&collector_config_schema, config);
}
