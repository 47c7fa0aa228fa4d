/*
 * Loading the allow-list. A malformed key file is an error naming the file,
 * never a silently smaller list; the same key under two names is refused too,
 * since the identity of a connection must be unambiguous.
 */
#include "allowlist.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "curve_keys.h"

static int compare_keys(const void *a, const void *b)
{
	return strcmp(((const struct allowed_key *)a)->public_z85,
	              ((const struct allowed_key *)b)->public_z85);
}

int allowlist_load(const char *dir, struct allowlist *list, char *err, size_t err_len)
{
	memset(list, 0, sizeof(*list));
	DIR *d = opendir(dir);
	if (d == NULL) {
		snprintf(err, err_len, "allowed_keys_dir %s: %s", dir, strerror(errno));
		return -1;
	}
	size_t capacity = 0;
	struct dirent *entry;
	int rc = 0;
	while ((entry = readdir(d)) != NULL) {
		const char *name = entry->d_name;
		size_t len = strlen(name);
		if (len <= 4 || strcmp(name + len - 4, ".pub") != 0 || name[0] == '.')
			continue;
		if (len - 4 >= sizeof(list->keys[0].node_id)) {
			snprintf(err, err_len, "%s/%s: node id too long", dir, name);
			rc = -1;
			break;
		}
		if (list->count == capacity) {
			capacity = capacity ? capacity * 2 : 64;
			struct allowed_key *grown = realloc(list->keys, capacity * sizeof(*grown));
			if (grown == NULL) {
				snprintf(err, err_len, "out of memory");
				rc = -1;
				break;
			}
			list->keys = grown;
		}
		struct allowed_key *key = &list->keys[list->count];
		char path[4096];
		snprintf(path, sizeof(path), "%s/%s", dir, name);
		if (curve_key_read_public(path, key->public_z85, err, err_len) != 0) {
			rc = -1;
			break;
		}
		memcpy(key->node_id, name, len - 4);
		key->node_id[len - 4] = '\0';
		list->count++;
	}
	closedir(d);
	if (rc == 0 && list->count > 1) {
		qsort(list->keys, list->count, sizeof(*list->keys), compare_keys);
		for (size_t i = 1; i < list->count; i++) {
			if (strcmp(list->keys[i].public_z85, list->keys[i - 1].public_z85) == 0) {
				snprintf(err, err_len,
				         "%s: %s.pub and %s.pub hold the same key; each node needs "
				         "its own",
				         dir, list->keys[i - 1].node_id, list->keys[i].node_id);
				rc = -1;
				break;
			}
		}
	}
	if (rc != 0)
		allowlist_free(list);
	return rc;
}

void allowlist_free(struct allowlist *list)
{
	free(list->keys);
	memset(list, 0, sizeof(*list));
}

const char *allowlist_lookup(const struct allowlist *list, const char *public_z85)
{
	struct allowed_key probe;
	snprintf(probe.public_z85, sizeof(probe.public_z85), "%s", public_z85);
	const struct allowed_key *found = list->count > 0
	                                          ? bsearch(&probe, list->keys, list->count,
	                                                    sizeof(*list->keys), compare_keys)
	                                          : NULL;
	return found != NULL ? found->node_id : NULL;
}
