/*
 * Storing one config value by its key's type (config_value.c), for the loader
 * in config.c. Not part of config.h's public face.
 */
#ifndef TG_CONFIG_VALUE_H
#define TG_CONFIG_VALUE_H

#include <stddef.h>

#include "config.h"

/*
 * Parses VALUE for KEY into the section struct OBJECT, replacing (and
 * freeing) what was there; a relative CONFIG_PATH is taken against BASE_DIR
 * ("" for none). Returns 0, or -1 with the reason in WHY.
 */
int config_value_store(const char *base_dir, const struct config_key *key, void *object,
                       const char *value, char *why, size_t why_len);

#endif
