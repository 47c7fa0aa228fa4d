/*
 * collector.ini's [ha] section: its keys and its checks (etcd's endpoints
 * are URLs, leases whole seconds, the client certificate and key go together,
 * the prefix and the id fit etcd's keys, a section present names endpoints).
 * The section is struct ha_section (collector_config.h); collector/ha/ uses it.
 */
#ifndef TG_COLLECTOR_CONFIG_HA_H
#define TG_COLLECTOR_CONFIG_HA_H

#include <stddef.h>

#include "collector_config.h"
#include "config.h"

#define COLLECTOR_CONFIG_HA_KEY_COUNT 10

/* [ha]'s keys into struct ha_section: COLLECTOR_CONFIG_HA_KEY_COUNT rows. */
extern const struct config_key collector_config_ha_keys[];

/* The section's own check (config_section.validate); OBJECT is a struct ha_section. */
int collector_config_ha_validate(void *object, const char **key, char *why, size_t why_len);

/*
 * The check that needs to know whether the file has the section: an [ha]
 * section without etcd_endpoints, blamed on the section's line. 0, or -1 with
 * WHY and *LINE (config_schema.check).
 */
int collector_config_ha_check(const struct collector_config *config,
                              const struct config_where *where, int *line, char *why,
                              size_t why_len);

#endif
