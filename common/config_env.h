/*
 * ${ENV:NAME} in a config value: replaced by the environment variable NAME,
 * so one file serves every pod of a Kubernetes Deployment
 * (node_id = ${ENV:HOSTNAME}). For the loader in config.c.
 */
#ifndef TG_CONFIG_ENV_H
#define TG_CONFIG_ENV_H

#include <stddef.h>

/*
 * VALUE with every ${ENV:NAME} replaced by NAME's value. Returns a new
 * string (caller frees), or NULL with the reason in WHY: an unset variable,
 * a "${" that is not a well-formed ${ENV:NAME}, or out of memory.
 */
char *config_env_expand(const char *value, char *why, size_t why_len);

#endif
