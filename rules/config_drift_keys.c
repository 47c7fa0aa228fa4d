/*
 * The differing keys of a drifted .properties file. Every group of nodes
 * shares one digest of the whole file, so one node per group speaks for it.
 * A digest reaches people shortened to 4 bytes: enough to tell the groups
 * apart, and for a secret-looking key not even that is shown, as a digest of
 * a short password is a dictionary lookup away from the password.
 */
#include "config_drift_keys.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "text_cut.h"

bool config_drift_key_looks_secret(const char *key)
{
	static const char *const words[] = {"password",   "passwd",     "secret",  "token",
	                                    "credential", "passphrase", "private", "key"};
	char lower[REPORT_MAX_KEY_LEN + 1];
	size_t len = 0;
	for (; len < sizeof(lower) - 1 && key[len] != '\0'; len++) {
		char c = key[len];
		lower[len] = (char)(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
	}
	lower[len] = '\0';
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (strstr(lower, words[i]) != NULL)
			return true;
	return false;
}

static int compare_key_entries(const void *a, const void *b)
{
	return strcmp(((const struct fleet_key_digest *)a)->key,
	              ((const struct fleet_key_digest *)b)->key);
}

/* KEY in DIGEST's sorted key list (the codec refuses unsorted ones), or NULL. */
static const struct fleet_key_digest *key_of(const struct fleet_digest *digest, const char *key)
{
	if (digest->key_count == 0)
		return NULL;
	struct fleet_key_digest probe = {.key = (char *)key};
	return bsearch(&probe, digest->keys, digest->key_count, sizeof(*digest->keys),
	               compare_key_entries);
}

static bool same_key(const struct fleet_key_digest *a, const struct fleet_key_digest *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return memcmp(a->digest, b->digest, sizeof(a->digest)) == 0;
}

static bool key_differs(const struct fleet_digest *const *reps, size_t rep_count, const char *key)
{
	const struct fleet_key_digest *first = key_of(reps[0], key);
	for (size_t r = 1; r < rep_count; r++)
		if (!same_key(first, key_of(reps[r], key)))
			return true;
	return false;
}

static void append(char *out, size_t out_len, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

static void append(char *out, size_t out_len, const char *fmt, ...)
{
	size_t len = strlen(out);
	if (len + 1 >= out_len)
		return;
	va_list ap;
	va_start(ap, fmt);
	int wanted = vsnprintf(out + len, out_len - len, fmt, ap);
	va_end(ap);
	if (wanted >= 0 && (size_t)wanted >= out_len - len)
		text_cut_partial(out); /* a key cut mid-character is no UTF-8 */
}

/* "K (1a2b3c4d | absent)", or "K (secret: digests withheld)". */
static void name_key(const struct fleet_digest *const *reps, size_t rep_count, const char *key,
                     char *out, size_t out_len)
{
	if (config_drift_key_looks_secret(key)) {
		append(out, out_len, "%s (secret: digests withheld)", key);
		return;
	}
	append(out, out_len, "%s (", key);
	for (size_t r = 0; r < rep_count; r++) {
		const struct fleet_key_digest *k = key_of(reps[r], key);
		if (k == NULL)
			append(out, out_len, "%sabsent", r ? " | " : "");
		else
			append(out, out_len, "%s%02x%02x%02x%02x", r ? " | " : "", k->digest[0],
			       k->digest[1], k->digest[2], k->digest[3]);
	}
	append(out, out_len, ")");
}

static int compare_names(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Every key of any of REPS, sorted, each once, in a new array (caller frees); NULL (memory). */
static const char **all_keys(const struct fleet_digest *const *reps, size_t rep_count,
                             size_t *count)
{
	size_t total = 0;
	for (size_t r = 0; r < rep_count; r++)
		total += reps[r]->key_count;
	const char **names = calloc(total + 1, sizeof(*names));
	if (names == NULL)
		return NULL;
	size_t n = 0;
	for (size_t r = 0; r < rep_count; r++)
		for (size_t k = 0; k < reps[r]->key_count; k++)
			names[n++] = reps[r]->keys[k].key;
	if (n > 1)
		qsort(names, n, sizeof(*names), compare_names);
	size_t unique = 0;
	for (size_t i = 0; i < n; i++)
		if (unique == 0 || strcmp(names[unique - 1], names[i]) != 0)
			names[unique++] = names[i];
	*count = unique;
	return names;
}

int config_drift_keys(const struct fleet_digest *const *reps, size_t rep_count, char *out,
                      size_t out_len)
{
	out[0] = '\0';
	if (rep_count < 2)
		return 0;
	for (size_t r = 0; r < rep_count; r++)
		if (reps[r] == NULL || !reps[r]->ok || !reps[r]->keys_listed)
			return 0;
	size_t count = 0;
	const char **names = all_keys(reps, rep_count, &count);
	if (names == NULL)
		return -1;
	size_t differing = 0;
	for (size_t i = 0; i < count; i++)
		differing += key_differs(reps, rep_count, names[i]);
	if (differing > 0)
		append(out, out_len, " in %s ", differing == 1 ? "key" : "keys");
	size_t named = 0;
	for (size_t i = 0; i < count && named < CONFIG_DRIFT_KEYS_NAMED; i++) {
		if (!key_differs(reps, rep_count, names[i]))
			continue;
		if (named++ > 0)
			append(out, out_len, ", ");
		name_key(reps, rep_count, names[i], out, out_len);
	}
	if (differing > named)
		append(out, out_len, " and %zu more", differing - named);
	free(names);
	return 0;
}
