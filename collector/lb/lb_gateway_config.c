/*
 * The trino-gateway driver's [lb.trino-gateway] section: its keys, its check
 * against the clusters, and the driver built from it (lb_gateway.c switches).
 */
#include "lb_gateway.h"

#include <stdio.h>

#include "config.h"
#include "lb_probe.h"
#include "secret_file.h"

/* [lb.trino-gateway] as the loader fills it. */
struct lb_gateway_section {
	char *url;
	struct config_pairs backends; /* backend.CLUSTER = gateway backend name */
	char *authorization_file;     /* holds "Basic ..." or "Bearer ..." */
	int64_t healthy_timeout_ms;
	int64_t health_poll_ms;
	int64_t monitor_round_ms;
};

static const struct config_key gateway_keys[] = {
        {"url", CONFIG_STRING, offsetof(struct lb_gateway_section, url), false, NULL, 0, 0, NULL},
        {"backend", CONFIG_KEYED, offsetof(struct lb_gateway_section, backends), false, NULL, 0, 0,
         NULL},
        {"authorization_file", CONFIG_PATH, offsetof(struct lb_gateway_section, authorization_file),
         false, NULL, 0, 0, NULL},
        {"healthy_timeout", CONFIG_DURATION,
         offsetof(struct lb_gateway_section, healthy_timeout_ms), false, "3m", 1000, 3600000, NULL},
        {"health_poll", CONFIG_DURATION, offsetof(struct lb_gateway_section, health_poll_ms), false,
         "1s", 100, 60000, NULL},
        /* the gateway's monitor.taskDelay (1m by default) and its probe's time */
        {"monitor_round", CONFIG_DURATION, offsetof(struct lb_gateway_section, monitor_round_ms),
         false, "70s", 100, 3600000, NULL},
};

/* A url, and a gateway backend for every cluster. */
/* The gateway's URL accepts a connection. */
static int gateway_probe(const void *section, int64_t timeout_ms, char *why, size_t why_len)
{
	const struct lb_gateway_section *g = section;
	char reason[512];
	if (g->url != NULL && lb_probe_url(g->url, timeout_ms, reason, sizeof(reason)) != 0) {
		snprintf(why, why_len, "[lb.trino-gateway] url: %s", reason);
		return -1;
	}
	return 0;
}

static int gateway_check(const void *section, const struct lb_check_input *input, const char **key,
                         int *line, char *why, size_t why_len)
{
	(void)line;
	const struct lb_gateway_section *g = section;
	if (g->url == NULL) {
		*key = "url";
		snprintf(why, why_len, "[lb] driver = trino-gateway needs [lb.trino-gateway] url");
		return -1;
	}
	if (g->healthy_timeout_ms <= g->monitor_round_ms) {
		*key = "healthy_timeout";
		snprintf(why, why_len,
		         "[lb.trino-gateway] healthy_timeout must be longer than monitor_round: "
		         "a switch waits up to one health round for the target");
		return -1;
	}
	for (size_t i = 0; i < input->cluster_count; i++) {
		const char *name = input->clusters[i];
		if (config_pairs_get(&g->backends, name) == NULL) {
			snprintf(why, why_len,
			         "[lb.trino-gateway] has no backend.%s = <backend name> for "
			         "cluster %s",
			         name, name);
			return -1;
		}
	}
	return 0;
}

static int gateway_create(struct event_base *base, const void *section,
                          const struct lb_common *common, struct lb_driver *out, char *err,
                          size_t err_len)
{
	const struct lb_gateway_section *g = section;
	struct lb_gateway_settings s = {
	        .url = g->url,
	        .timeout_ms = common->timeout_ms,
	        .retries = common->retries,
	        .on_retry = common->on_retry,
	        .on_retry_arg = common->on_retry_arg,
	        .on_note = common->on_note,
	        .cluster_ready = common->cluster_ready,
	        .read_clock = common->read_clock,
	        .healthy_timeout_ms = g->healthy_timeout_ms,
	        .poll_ms = g->health_poll_ms,
	        .monitor_round_ms = g->monitor_round_ms,
	};
	for (size_t i = 0; i < g->backends.count && i < LB_GATEWAY_MAX_BACKENDS; i++) {
		s.backends[i].cluster = g->backends.items[i].name;
		s.backends[i].backend = g->backends.items[i].value;
		s.backend_count++;
	}
	char *authorization = NULL;
	if (g->authorization_file != NULL) {
		char why[512];
		authorization = secret_file_read(g->authorization_file, why, sizeof(why));
		if (authorization == NULL) {
			snprintf(err, err_len, "[lb.trino-gateway] authorization_file %s", why);
			return -1;
		}
		s.authorization = authorization;
	}
	struct lb_gateway *gateway = lb_gateway_new(base, &s, err, err_len);
	secret_free(authorization);
	if (gateway == NULL)
		return -1;
	*out = lb_gateway_driver(gateway);
	return 0;
}

const struct lb_driver_type lb_gateway_type = {
        .name = "trino-gateway",
        .keys = gateway_keys,
        .key_count = sizeof(gateway_keys) / sizeof(gateway_keys[0]),
        .section_size = sizeof(struct lb_gateway_section),
        .check = gateway_check,
        .probe = gateway_probe,
        .create = gateway_create,
};
