/*
 * Environment expansion of config values: ${ENV:NAME} becomes the value of
 * the variable NAME. Nothing else is expanded, and a "${" that is not a
 * complete ${ENV:NAME} is an error rather than text, so a typo cannot pass
 * as a literal value.
 */
#include "config_env.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ENV_OPEN     "${ENV:"
#define ENV_OPEN_LEN (sizeof(ENV_OPEN) - 1)
#define ENV_NAME_MAX 128

/* POSIX names: letters, digits and '_', not starting with a digit. */
static bool env_name_valid(const char *name, size_t len)
{
	if (len == 0 || isdigit((unsigned char)name[0]))
		return false;
	for (size_t i = 0; i < len; i++)
		if (!isalnum((unsigned char)name[i]) && name[i] != '_')
			return false;
	return true;
}

/* Appends LEN bytes of TEXT to *OUT (of *USED bytes). 0, or -1 when out of memory. */
static int append(char **out, size_t *used, const char *text, size_t len)
{
	char *grown = realloc(*out, *used + len + 1);
	if (grown == NULL)
		return -1;
	memcpy(grown + *used, text, len);
	*used += len;
	grown[*used] = '\0';
	*out = grown;
	return 0;
}

/*
 * The variable named at P (just past "${ENV:") into its value; *END past the
 * closing brace. NULL with WHY when the name is malformed or unset.
 */
static const char *lookup(const char *p, const char **end, char *why, size_t why_len)
{
	const char *close = strchr(p, '}');
	size_t len = close != NULL ? (size_t)(close - p) : 0;
	if (close == NULL || !env_name_valid(p, len) || len >= ENV_NAME_MAX) {
		snprintf(why, why_len,
		         "'${ENV:%.*s': write ${ENV:NAME}, NAME of letters, digits, '_'",
		         (int)(close != NULL ? len : strlen(p)), p);
		return NULL;
	}
	char name[ENV_NAME_MAX];
	memcpy(name, p, len);
	name[len] = '\0';
	const char *value = getenv(name);
	if (value == NULL) {
		snprintf(why, why_len, "environment variable %s is not set", name);
		return NULL;
	}
	*end = close + 1;
	return value;
}

char *config_env_expand(const char *value, char *why, size_t why_len)
{
	char *out = NULL;
	size_t used = 0;
	const char *p = value;
	if (append(&out, &used, "", 0) != 0)
		goto oom;
	for (;;) {
		const char *open = strstr(p, "${");
		if (open == NULL)
			break;
		if (strncmp(open, ENV_OPEN, ENV_OPEN_LEN) != 0) {
			snprintf(why, why_len, "'%.20s': only ${ENV:NAME} is expanded", open);
			free(out);
			return NULL;
		}
		if (append(&out, &used, p, (size_t)(open - p)) != 0)
			goto oom;
		const char *var = lookup(open + ENV_OPEN_LEN, &p, why, why_len);
		if (var == NULL) {
			free(out);
			return NULL;
		}
		if (append(&out, &used, var, strlen(var)) != 0)
			goto oom;
	}
	if (append(&out, &used, p, strlen(p)) != 0)
		goto oom;
	return out;
oom:
	free(out);
	snprintf(why, why_len, "out of memory");
	return NULL;
}
