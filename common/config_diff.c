/*
 * Compares one key of two loaded copies of a config section, by the type the
 * key table gives it (config_diff.h).
 */
#include "config_diff.h"

#include <stdint.h>
#include <string.h>

static bool strings_differ(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a != b;
	return strcmp(a, b) != 0;
}

static bool lists_differ(const struct config_list *a, const struct config_list *b)
{
	if (a->count != b->count)
		return true;
	for (size_t i = 0; i < a->count; i++)
		if (strings_differ(a->items[i], b->items[i]))
			return true;
	return false;
}

/* The line a pair was read from is where it is, not what it says: not compared. */
static bool pairs_differ(const struct config_pairs *a, const struct config_pairs *b)
{
	if (a->count != b->count)
		return true;
	for (size_t i = 0; i < a->count; i++)
		if (strings_differ(a->items[i].name, b->items[i].name) ||
		    strings_differ(a->items[i].value, b->items[i].value))
			return true;
	return false;
}

bool config_key_differs(const struct config_key *key, const void *old_section,
                        const void *new_section)
{
	const char *a = (const char *)old_section + key->offset;
	const char *b = (const char *)new_section + key->offset;
	switch (key->type) {
	case CONFIG_STRING:
	case CONFIG_PATH:
		return strings_differ(*(char *const *)(const void *)a,
		                      *(char *const *)(const void *)b);
	case CONFIG_INT:
	case CONFIG_DURATION:
	case CONFIG_SIZE:
		return *(const int64_t *)(const void *)a != *(const int64_t *)(const void *)b;
	case CONFIG_DOUBLE:
		return *(const double *)(const void *)a != *(const double *)(const void *)b;
	case CONFIG_BOOL:
		return *(const bool *)(const void *)a != *(const bool *)(const void *)b;
	case CONFIG_CHOICE:
		return *(const int *)(const void *)a != *(const int *)(const void *)b;
	case CONFIG_LIST:
		return lists_differ((const struct config_list *)(const void *)a,
		                    (const struct config_list *)(const void *)b);
	case CONFIG_KEYED:
		return pairs_differ((const struct config_pairs *)(const void *)a,
		                    (const struct config_pairs *)(const void *)b);
	}
	return true;
}
