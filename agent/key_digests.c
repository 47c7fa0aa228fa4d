/*
 * Key digests from the canonical form. In it a raw '\n' only ends a line
 * (line breaks in keys and values are escaped) and the first '=' not
 * preceded by an escaping backslash ends the key (agent/properties.c escapes
 * '=' in keys), so the lines split without parsing the file again. The
 * digest covers the key too, so one value under two keys digests apart.
 */
#include "key_digests.h"

#include <openssl/evp.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "utf8.h"

/* The length of the key at the start of LINE (LEN bytes, no '\n'). */
static size_t key_length(const char *line, size_t len)
{
	size_t i = 0;
	while (i < len && line[i] != '=')
		i += line[i] == '\\' ? 2 : 1;
	return i < len ? i : len;
}

static int add_key(struct key_digest_list *list, const char *line, size_t len)
{
	size_t key_len = key_length(line, len);
	if (key_len > REPORT_MAX_KEY_LEN || !utf8_valid(line, key_len) ||
	    list->count >= REPORT_MAX_KEY_DIGESTS)
		return -1;
	uint8_t sha[32];
	unsigned int sha_len = 0;
	if (EVP_Digest(line, len, sha, &sha_len, EVP_sha256(), NULL) != 1 || sha_len != 32)
		return -1;
	struct key_digest *grown = realloc(list->items, (list->count + 1) * sizeof(*grown));
	if (grown == NULL)
		return -1;
	list->items = grown;
	struct key_digest *key = &list->items[list->count];
	key->key = strndup(line, key_len);
	if (key->key == NULL)
		return -1;
	memcpy(key->digest, sha, sizeof(key->digest));
	list->count++;
	return 0;
}

static int compare_keys(const void *a, const void *b)
{
	return strcmp(((const struct key_digest *)a)->key, ((const struct key_digest *)b)->key);
}

int key_digests_compute(const char *canonical, size_t len, struct key_digest_list *out)
{
	*out = (struct key_digest_list){0};
	size_t pos = 0;
	while (pos < len) {
		const char *end = memchr(canonical + pos, '\n', len - pos);
		size_t line_len = end != NULL ? (size_t)(end - canonical) - pos : len - pos;
		if (add_key(out, canonical + pos, line_len) != 0) {
			key_digests_clear(out);
			return -1;
		}
		pos += line_len + 1;
	}
	/* The canonical form sorts the decoded keys; the report sorts them as sent. */
	if (out->count > 1)
		qsort(out->items, out->count, sizeof(*out->items), compare_keys);
	return 0;
}

void key_digests_clear(struct key_digest_list *list)
{
	for (size_t i = 0; i < list->count; i++)
		free(list->items[i].key);
	free(list->items);
	*list = (struct key_digest_list){0};
}
