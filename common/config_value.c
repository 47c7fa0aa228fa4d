/*
 * One config value, parsed by its key's type into a section struct: strings
 * and paths, integers, numbers, sizes and durations within their bounds,
 * booleans, lists and choices; and the list and pair helpers config.h exports.
 */
#include "config_value.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "duration.h"

int config_parse_bool(const char *text, bool *value)
{
	static const char *const truthy[] = {"true", "yes", "on", "1"};
	static const char *const falsy[] = {"false", "no", "off", "0"};
	for (size_t i = 0; i < 4; i++) {
		if (strcasecmp(text, truthy[i]) == 0) {
			*value = true;
			return 0;
		}
		if (strcasecmp(text, falsy[i]) == 0) {
			*value = false;
			return 0;
		}
	}
	return -1;
}

void config_list_free(struct config_list *list)
{
	for (size_t i = 0; i < list->count; i++)
		free(list->items[i]);
	free(list->items);
	list->items = NULL;
	list->count = 0;
}

void config_pairs_free(struct config_pairs *pairs)
{
	for (size_t i = 0; i < pairs->count; i++) {
		free(pairs->items[i].name);
		free(pairs->items[i].value);
	}
	free(pairs->items);
	pairs->items = NULL;
	pairs->count = 0;
}

const char *config_pairs_get(const struct config_pairs *pairs, const char *name)
{
	for (size_t i = 0; i < pairs->count; i++)
		if (strcmp(pairs->items[i].name, name) == 0)
			return pairs->items[i].value;
	return NULL;
}

static int parse_list(const char *text, struct config_list *out)
{
	struct config_list list = {0};
	const char *p = text;
	while (*p != '\0') {
		while (*p == ',' || isspace((unsigned char)*p))
			p++;
		if (*p == '\0')
			break;
		const char *start = p;
		while (*p != '\0' && *p != ',' && !isspace((unsigned char)*p))
			p++;
		char **grown = realloc(list.items, (list.count + 1) * sizeof(*grown));
		if (grown == NULL) {
			config_list_free(&list);
			return -1;
		}
		list.items = grown;
		list.items[list.count] = strndup(start, (size_t)(p - start));
		if (list.items[list.count] == NULL) {
			config_list_free(&list);
			return -1;
		}
		list.count++;
	}
	*out = list;
	return 0;
}

static int choice_index(const char *const *choices, const char *value)
{
	for (int i = 0; choices[i] != NULL; i++) {
		if (strcmp(choices[i], value) == 0)
			return i;
	}
	return -1;
}

/* "a|b|c" into OUT, for messages. */
static void join_choices(const char *const *choices, char *out, size_t out_len)
{
	size_t used = 0;
	out[0] = '\0';
	for (size_t i = 0; choices[i] != NULL && used < out_len; i++) {
		int n = snprintf(out + used, out_len - used, "%s%s", i > 0 ? "|" : "", choices[i]);
		if (n < 0)
			return;
		used += (size_t)n;
	}
}

/* The index of VALUE among KEY's choices into *SLOT. 0, or -1 with WHY. */
static int store_choice(const struct config_key *key, const char *value, int *slot, char *why,
                        size_t why_len)
{
	int index = choice_index(key->choices, value);
	if (index < 0) {
		char names[256];
		join_choices(key->choices, names, sizeof(names));
		snprintf(why, why_len, "'%s' is not one of %s", value, names);
		return -1;
	}
	*slot = index;
	return 0;
}

static bool out_of_bounds(const struct config_key *key, double value)
{
	if (key->min == 0 && key->max == 0)
		return false;
	return value < key->min || value > key->max;
}

static void describe_bounds(const struct config_key *key, char *out, size_t out_len)
{
	if (key->type == CONFIG_DURATION) {
		char lo[32], hi[32];
		duration_format((int64_t)key->min, lo, sizeof(lo));
		duration_format((int64_t)key->max, hi, sizeof(hi));
		snprintf(out, out_len, "%s..%s", lo, hi);
	} else {
		snprintf(out, out_len, "%g..%g", key->min, key->max);
	}
}

/* A string, or a path made absolute against BASE_DIR (the config file's dir). */
static int store_string(const char *base_dir, const struct config_key *key, char **slot,
                        const char *value, char *why, size_t why_len)
{
	char *copy;
	if (key->type == CONFIG_PATH && value[0] != '/' && value[0] != '\0' &&
	    base_dir[0] != '\0') {
		size_t len = strlen(base_dir) + strlen(value) + 2;
		copy = malloc(len);
		if (copy != NULL)
			snprintf(copy, len, "%s/%s", base_dir, value);
	} else {
		copy = strdup(value);
	}
	if (copy == NULL) {
		snprintf(why, why_len, "out of memory");
		return -1;
	}
	free(*slot);
	*slot = copy;
	return 0;
}

static int store_int(const struct config_key *key, int64_t *slot, const char *value, char *why,
                     size_t why_len)
{
	errno = 0;
	char *end = NULL;
	long long parsed = strtoll(value, &end, 10);
	if (value[0] == '\0' || *end != '\0' || errno != 0) {
		snprintf(why, why_len, "'%s' is not an integer", value);
		return -1;
	}
	if (out_of_bounds(key, (double)parsed)) {
		char bounds[96];
		describe_bounds(key, bounds, sizeof(bounds));
		snprintf(why, why_len, "%lld is out of range (%s)", parsed, bounds);
		return -1;
	}
	*slot = (int64_t)parsed;
	return 0;
}

static int store_double(const struct config_key *key, double *slot, const char *value, char *why,
                        size_t why_len)
{
	errno = 0;
	char *end = NULL;
	double parsed = strtod(value, &end);
	if (value[0] == '\0' || *end != '\0' || errno != 0 || !isfinite(parsed)) {
		snprintf(why, why_len, "'%s' is not a number", value);
		return -1;
	}
	if (out_of_bounds(key, parsed)) {
		char bounds[96];
		describe_bounds(key, bounds, sizeof(bounds));
		snprintf(why, why_len, "%s is out of range (%s)", value, bounds);
		return -1;
	}
	*slot = parsed;
	return 0;
}

static int store_duration(const struct config_key *key, int64_t *slot, const char *value, char *why,
                          size_t why_len)
{
	int64_t ms;
	if (duration_parse_ms(value, &ms, why, why_len) != 0)
		return -1;
	if (out_of_bounds(key, (double)ms)) {
		char bounds[96];
		describe_bounds(key, bounds, sizeof(bounds));
		snprintf(why, why_len, "%s is out of range (%s)", value, bounds);
		return -1;
	}
	*slot = ms;
	return 0;
}

/*
 * A size in bytes: a whole number with no unit or one of B, KiB, MiB, GiB,
 * TiB (powers of 1024, as the man pages write "64 MiB"). Decimal units (MB)
 * are refused rather than guessed.
 */
static int store_size(const struct config_key *key, int64_t *slot, const char *value, char *why,
                      size_t why_len)
{
	static const struct {
		const char *unit;
		int64_t bytes;
	} units[] = {{"", 1},
	             {"B", 1},
	             {"KiB", 1LL << 10},
	             {"MiB", 1LL << 20},
	             {"GiB", 1LL << 30},
	             {"TiB", 1LL << 40}};
	errno = 0;
	char *end = NULL;
	long long count = strtoll(value, &end, 10);
	if (!isdigit((unsigned char)value[0]) || errno != 0) {
		snprintf(why, why_len, "'%s' is not a size (as in 65536, 512KiB, 64MiB, 1GiB)",
		         value);
		return -1;
	}
	while (*end == ' ')
		end++;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(end, units[i].unit) != 0)
			continue;
		if (count > INT64_MAX / units[i].bytes) {
			snprintf(why, why_len, "'%s' is too large", value);
			return -1;
		}
		int64_t bytes = (int64_t)count * units[i].bytes;
		if (out_of_bounds(key, (double)bytes)) {
			char bounds[96];
			describe_bounds(key, bounds, sizeof(bounds));
			snprintf(why, why_len, "%s is out of range (%s bytes)", value, bounds);
			return -1;
		}
		*slot = bytes;
		return 0;
	}
	snprintf(why, why_len, "'%s': unknown unit '%s' (use B, KiB, MiB, GiB or TiB)", value, end);
	return -1;
}

/*
 * Parses VALUE for KEY into the section struct OBJECT, replacing (and
 * freeing) what was there. Returns 0, or -1 with the reason in WHY.
 */
int config_value_store(const char *base_dir, const struct config_key *key, void *object,
                       const char *value, char *why, size_t why_len)
{
	void *slot = (char *)object + key->offset;
	switch (key->type) {
	case CONFIG_STRING:
	case CONFIG_PATH:
		return store_string(base_dir, key, (char **)slot, value, why, why_len);
	case CONFIG_INT:
		return store_int(key, (int64_t *)slot, value, why, why_len);
	case CONFIG_DOUBLE:
		return store_double(key, (double *)slot, value, why, why_len);
	case CONFIG_BOOL:
		if (config_parse_bool(value, (bool *)slot) != 0) {
			snprintf(why, why_len, "'%s' is not a boolean (use true/false, on/off)",
			         value);
			return -1;
		}
		return 0;
	case CONFIG_DURATION:
		return store_duration(key, (int64_t *)slot, value, why, why_len);
	case CONFIG_SIZE:
		return store_size(key, (int64_t *)slot, value, why, why_len);
	case CONFIG_LIST: {
		struct config_list list;
		if (parse_list(value, &list) != 0) {
			snprintf(why, why_len, "out of memory");
			return -1;
		}
		config_list_free((struct config_list *)slot);
		*(struct config_list *)slot = list;
		return 0;
	}
	case CONFIG_KEYED:
		snprintf(why, why_len, "internal: keyed values are stored by the handler");
		return -1;
	case CONFIG_CHOICE:
		return store_choice(key, value, (int *)slot, why, why_len);
	}
	snprintf(why, why_len, "unsupported key type");
	return -1;
}
