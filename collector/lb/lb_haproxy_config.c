/*
 * The haproxy driver's [lb.haproxy] section: its keys, its check against the
 * clusters, and the driver built from it (lb_haproxy.c does the switching).
 */
#include "lb_haproxy.h"

#include <stdio.h>
#include <string.h>

#include "config.h"
#include "lb_probe.h"

/* [lb.haproxy] as the loader fills it. */
struct lb_haproxy_section {
	struct config_list sockets;
	char *map;
	char *map_file;
	struct config_list map_files; /* one per socket, in order */
	char *key;
	struct config_pairs backends; /* backend.CLUSTER = haproxy backend */
	char *query_id_map;           /* routing by query id: the map haproxy.cfg uses */
};

static const struct config_key haproxy_keys[] = {
        {"sockets", CONFIG_LIST, offsetof(struct lb_haproxy_section, sockets), false, NULL, 0, 0,
         NULL},
        {"map", CONFIG_STRING, offsetof(struct lb_haproxy_section, map), false, NULL, 0, 0, NULL},
        {"map_file", CONFIG_PATH, offsetof(struct lb_haproxy_section, map_file), false, NULL, 0, 0,
         NULL},
        {"map_files", CONFIG_LIST, offsetof(struct lb_haproxy_section, map_files), false, NULL, 0,
         0, NULL},
        {"key", CONFIG_STRING, offsetof(struct lb_haproxy_section, key), false, "active", 0, 0,
         NULL},
        {"backend", CONFIG_KEYED, offsetof(struct lb_haproxy_section, backends), false, NULL, 0, 0,
         NULL},
        {"query_id_map", CONFIG_PATH, offsetof(struct lb_haproxy_section, query_id_map), false,
         NULL, 0, 0, NULL},
};

/* Sockets, a map (by name or by its file), and a HAProxy backend for every cluster. */
static int haproxy_check(const void *section, const struct lb_check_input *input, const char **key,
                         int *line, char *why, size_t why_len)
{
	(void)line;
	const struct lb_haproxy_section *h = section;
	if (h->sockets.count == 0 ||
	    (h->map_file == NULL && h->map == NULL && h->map_files.count == 0)) {
		*key = h->sockets.count == 0 ? "sockets" : "map_file";
		snprintf(
		        why, why_len,
		        "[lb] driver = haproxy needs [lb.haproxy] sockets and map_file (or map, or "
		        "map_files)");
		return -1;
	}
	if (h->map_files.count > 0 &&
	    (h->map_file != NULL || h->map_files.count != h->sockets.count)) {
		*key = "map_files";
		snprintf(why, why_len,
		         h->map_file != NULL ? "[lb.haproxy] map_files (one per socket) replaces "
		                               "map_file: set one"
		                             : "[lb.haproxy] map_files needs one file per socket, "
		                               "in the same order "
		                               "(%zu sockets, %zu files)",
		         h->sockets.count, h->map_files.count);
		return -1;
	}
	const char *map = h->map != NULL        ? h->map
	                  : h->map_file != NULL ? h->map_file
	                  : h->map_files.count  ? h->map_files.items[0]
	                                        : "";
	if (h->query_id_map != NULL && strcmp(h->query_id_map, map) == 0) {
		*key = "query_id_map";
		snprintf(why, why_len,
		         "[lb.haproxy] query_id_map must be another map than map_file");
		return -1;
	}
	for (size_t i = 0; i < input->cluster_count; i++) {
		const char *name = input->clusters[i];
		if (config_pairs_get(&h->backends, name) == NULL) {
			snprintf(why, why_len,
			         "[lb.haproxy] has no backend.%s = <backend> for cluster %s", name,
			         name);
			return -1;
		}
	}
	return 0;
}

/* Every runtime API socket accepts a connection. */
static int haproxy_probe(const void *section, int64_t timeout_ms, char *why, size_t why_len)
{
	const struct lb_haproxy_section *h = section;
	for (size_t i = 0; i < h->sockets.count; i++) {
		char reason[512];
		if (lb_probe_address(h->sockets.items[i], timeout_ms, reason, sizeof(reason)) !=
		    0) {
			snprintf(why, why_len, "[lb.haproxy] sockets: HAProxy's runtime API %s",
			         reason);
			return -1;
		}
	}
	return 0;
}

static int haproxy_create(struct event_base *base, const void *section,
                          const struct lb_common *common, struct lb_driver *out, char *err,
                          size_t err_len)
{
	const struct lb_haproxy_section *h = section;
	struct lb_haproxy_settings s = {
	        .socket_count = h->sockets.count,
	        .map = h->map,
	        .map_file = h->map_file,
	        .key = h->key,
	        .query_id_map = h->query_id_map,
	        .timeout_ms = common->timeout_ms,
	        .retries = common->retries,
	        .on_retry = common->on_retry,
	        .on_retry_arg = common->on_retry_arg,
	        .on_warning = common->on_warning,
	};
	for (size_t i = 0; i < h->sockets.count && i < LB_MAX_INSTANCES; i++)
		s.sockets[i] = h->sockets.items[i];
	for (size_t i = 0; i < h->map_files.count && i < LB_MAX_INSTANCES; i++)
		s.map_files[s.map_file_count++] = h->map_files.items[i];
	for (size_t i = 0; i < h->backends.count && i < LB_MAX_BACKENDS; i++) {
		s.backends[i].cluster = h->backends.items[i].name;
		s.backends[i].backend = h->backends.items[i].value;
		s.backend_count++;
	}
	struct lb_haproxy *haproxy = lb_haproxy_new(base, &s, err, err_len);
	if (haproxy == NULL)
		return -1;
	*out = lb_haproxy_driver(haproxy);
	return 0;
}

const struct lb_driver_type lb_haproxy_type = {
        .name = "haproxy",
        .keys = haproxy_keys,
        .key_count = sizeof(haproxy_keys) / sizeof(haproxy_keys[0]),
        .section_size = sizeof(struct lb_haproxy_section),
        .check = haproxy_check,
        .probe = haproxy_probe,
        .create = haproxy_create,
};
