/*
 * collector.ini's [ha] section: the keys of struct ha_section and the checks
 * that keep etcd's side usable (URLs, whole-second leases, paired TLS files,
 * a prefix and an id that fit in etcd's keys, endpoints named).
 */
#include "collector_config_ha.h"

#include <stdio.h>
#include <string.h>

const struct config_key collector_config_ha_keys[] = {
        {"etcd_endpoints", CONFIG_LIST, offsetof(struct ha_section, etcd_endpoints), false, NULL, 0,
         0, NULL},
        {"prefix", CONFIG_STRING, offsetof(struct ha_section, prefix), false, NULL, 0, 0, NULL},
        {"lease_ttl", CONFIG_DURATION, offsetof(struct ha_section, lease_ttl_ms), false, "5s", 2000,
         60000, NULL},
        {"id", CONFIG_STRING, offsetof(struct ha_section, id), false, NULL, 0, 0, NULL},
        {"request_timeout", CONFIG_DURATION, offsetof(struct ha_section, request_timeout_ms), false,
         "1s", 100, 30000, NULL},
        {"ca_file", CONFIG_PATH, offsetof(struct ha_section, ca_file), false, NULL, 0, 0, NULL},
        {"cert_file", CONFIG_PATH, offsetof(struct ha_section, cert_file), false, NULL, 0, 0, NULL},
        {"key_file", CONFIG_PATH, offsetof(struct ha_section, key_file), false, NULL, 0, 0, NULL},
        {"username", CONFIG_STRING, offsetof(struct ha_section, username), false, NULL, 0, 0, NULL},
        {"password_file", CONFIG_PATH, offsetof(struct ha_section, password_file), false, NULL, 0,
         0, NULL},
};

_Static_assert(sizeof(collector_config_ha_keys) / sizeof(collector_config_ha_keys[0]) ==
                       COLLECTOR_CONFIG_HA_KEY_COUNT,
               "COLLECTOR_CONFIG_HA_KEY_COUNT is the rows of collector_config_ha_keys");

/* etcd's URLs, whole-second leases shorter than the time a switch may take twice over. */
int collector_config_ha_validate(void *object, const char **key, char *why, size_t why_len)
{
	const struct ha_section *ha = object;
	if (ha->etcd_endpoints.count > COLLECTOR_MAX_ETCD_ENDPOINTS) {
		*key = "etcd_endpoints";
		snprintf(why, why_len, "at most %d endpoints", COLLECTOR_MAX_ETCD_ENDPOINTS);
		return -1;
	}
	for (size_t i = 0; i < ha->etcd_endpoints.count; i++) {
		const char *url = ha->etcd_endpoints.items[i];
		if (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0) {
			*key = "etcd_endpoints";
			snprintf(why, why_len, "'%s' must start with http:// or https://", url);
			return -1;
		}
	}
	if (ha->lease_ttl_ms % 1000 != 0) {
		*key = "lease_ttl";
		snprintf(why, why_len, "etcd leases are whole seconds");
		return -1;
	}
	if ((ha->cert_file == NULL) != (ha->key_file == NULL)) {
		*key = ha->cert_file == NULL ? "key_file" : "cert_file";
		snprintf(why, why_len, "cert_file and key_file go together");
		return -1;
	}
	if ((ha->username == NULL) != (ha->password_file == NULL)) {
		*key = ha->username == NULL ? "password_file" : "username";
		snprintf(why, why_len, "username and password_file go together (etcd's auth)");
		return -1;
	}
	if (ha->username != NULL && (ha->username[0] == '\0' || strlen(ha->username) > 100)) {
		*key = "username";
		snprintf(why, why_len, "a user name is 1 to 100 characters");
		return -1;
	}
	if (ha->prefix != NULL && (ha->prefix[0] != '/' || strlen(ha->prefix) > 200)) {
		*key = "prefix";
		snprintf(why, why_len, "the prefix must start with / (at most 200 characters)");
		return -1;
	}
	if (ha->id != NULL && (ha->id[0] == '\0' || strlen(ha->id) > 100 || strchr(ha->id, '/'))) {
		*key = "id";
		snprintf(why, why_len, "an id is 1 to 100 characters, without /");
		return -1;
	}
	return 0;
}

/* Without etcd_endpoints HA is off; a section that says only that is a mistake, not a choice. */
int collector_config_ha_check(const struct collector_config *config,
                              const struct config_where *where, int *line, char *why,
                              size_t why_len)
{
	int ha_line = config_where_line(where, "ha", NULL);
	if (ha_line > 0 && config->ha.etcd_endpoints.count == 0) {
		*line = ha_line;
		snprintf(why, why_len,
		         "[ha] needs etcd_endpoints (or remove the section to run one collector "
		         "without etcd)");
		return -1;
	}
	return 0;
}
