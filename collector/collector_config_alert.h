/*
 * collector.ini's [alert.NAME] sections: their keys, the family's instances
 * and each sink's check. The section is struct alert_section
 * (collector_config.h); collector/alerts/ uses it.
 */
#ifndef TG_COLLECTOR_CONFIG_ALERT_H
#define TG_COLLECTOR_CONFIG_ALERT_H

#include <stddef.h>

#include "collector_config.h"
#include "config.h"

#define COLLECTOR_CONFIG_ALERT_KEY_COUNT 12

/* [alert.NAME]'s keys into struct alert_section: COLLECTOR_CONFIG_ALERT_KEY_COUNT rows. */
extern const struct config_key collector_config_alert_keys[];

/* The family's instance NAME of the struct collector_config TARGET (config_section.instance). */
void *collector_config_alert_instance(void *target, const char *name, char *err, size_t err_len);

/* The INDEXth instance, or NULL past the end (config_section.instance_at). */
void *collector_config_alert_at(void *target, size_t index);

/* One sink's own check (config_section.validate); OBJECT is a struct alert_section. */
int collector_config_alert_validate(void *object, const char **key, char *why, size_t why_len);

#endif
