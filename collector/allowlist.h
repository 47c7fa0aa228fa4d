/*
 * The collector's allow-list: one <node-id>.pub file per node in
 * allowed_keys_dir; the file name is the identity that key may report as.
 */
#ifndef TG_ALLOWLIST_H
#define TG_ALLOWLIST_H

#include <stddef.h>

struct allowed_key {
	char public_z85[41];
	char node_id[128];
};

struct allowlist {
	struct allowed_key *keys; /* sorted by key */
	size_t count;
};

/* Reads every *.pub of DIR. 0, or -1 with the file to blame in ERR. */
int allowlist_load(const char *dir, struct allowlist *list, char *err, size_t err_len);
void allowlist_free(struct allowlist *list);

/* The node id allowed to use PUBLIC_Z85, or NULL. */
const char *allowlist_lookup(const struct allowlist *list, const char *public_z85);

#endif
