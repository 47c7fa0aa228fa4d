/*
 * Loading the allow-list: <cluster>/<role>/<node-id>.pub for one node, and
 * <cluster>/<role>.pub for every node of one role of a cluster (a pod fleet,
 * whose node ids are pod names no one knows ahead). A malformed key file is
 * an error naming the file,
 * never a silently smaller list; the same key under two names is refused too,
 * since the identity of a connection must be unambiguous.
 */
#include "allowlist.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "curve_keys.h"
#include "trino_guard.pb-c.h"

static const char *const role_dirs[] = {
        [TRINOGUARD__V1__NODE_ROLE__ROLE_COORDINATOR] = "coordinator",
        [TRINOGUARD__V1__NODE_ROLE__ROLE_WORKER] = "worker",
};

const char *allowlist_role_name(int role)
{
	if (role == TRINOGUARD__V1__NODE_ROLE__ROLE_COORDINATOR ||
	    role == TRINOGUARD__V1__NODE_ROLE__ROLE_WORKER)
		return role_dirs[role];
	return "unknown";
}

static int compare_keys(const void *a, const void *b)
{
	return strcmp(((const struct allowed_key *)a)->public_z85,
	              ((const struct allowed_key *)b)->public_z85);
}

static bool is_key_file(const char *name)
{
	size_t len = strlen(name);
	return len > 4 && strcmp(name + len - 4, ".pub") == 0 && name[0] != '.';
}

static bool is_directory(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static struct allowed_key *append(struct allowlist *list, size_t *capacity)
{
	if (list->count == *capacity) {
		size_t grown_capacity = *capacity ? *capacity * 2 : 64;
		struct allowed_key *grown = realloc(list->keys, grown_capacity * sizeof(*grown));
		if (grown == NULL)
			return NULL;
		list->keys = grown;
		*capacity = grown_capacity;
	}
	struct allowed_key *key = &list->keys[list->count];
	memset(key, 0, sizeof(*key));
	key->session_fd = -1;
	return key;
}

/* Reads every <node-id>.pub of DIR/CLUSTER/<role>; a missing role directory is none. */
static int load_role(const char *dir, const char *cluster, int role, struct allowlist *list,
                     size_t *capacity, char *err, size_t err_len)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s/%s", dir, cluster, role_dirs[role]);
	DIR *d = opendir(path);
	if (d == NULL) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, err_len, "%s: %s", path, strerror(errno));
		return -1;
	}
	int rc = 0;
	struct dirent *entry;
	while (rc == 0 && (entry = readdir(d)) != NULL) {
		const char *name = entry->d_name;
		if (!is_key_file(name))
			continue;
		size_t id_len = strlen(name) - 4;
		struct allowed_key *key = append(list, capacity);
		char file[4096 + 256];
		snprintf(file, sizeof(file), "%s/%s", path, name);
		if (key == NULL) {
			snprintf(err, err_len, "out of memory");
			rc = -1;
		} else if (id_len >= sizeof(key->node_id)) {
			snprintf(err, err_len, "%s: node id too long", file);
			rc = -1;
		} else if (curve_key_read_public(file, key->public_z85, err, err_len) != 0) {
			rc = -1;
		} else {
			snprintf(key->cluster, sizeof(key->cluster), "%s", cluster);
			key->role = role;
			memcpy(key->node_id, name, id_len);
			key->node_id[id_len] = '\0';
			list->count++;
		}
	}
	closedir(d);
	return rc;
}

/*
 * A key file directly in DIR/CLUSTER: coordinator.pub or worker.pub, one key
 * for every node of that role (pods, whose names no one can know ahead), or
 * a misplaced node key, refused with where it goes.
 */
static int load_role_key(const char *dir, const char *cluster, const char *name,
                         struct allowlist *list, size_t *capacity, char *err, size_t err_len)
{
	char file[4096 + 256];
	snprintf(file, sizeof(file), "%s/%s/%s", dir, cluster, name);
	int role = -1;
	if (strcmp(name, "coordinator.pub") == 0)
		role = TRINOGUARD__V1__NODE_ROLE__ROLE_COORDINATOR;
	else if (strcmp(name, "worker.pub") == 0)
		role = TRINOGUARD__V1__NODE_ROLE__ROLE_WORKER;
	if (role < 0) {
		snprintf(err, err_len,
		         "%s: a key directly in a cluster's directory is one role's key, named "
		         "coordinator.pub or worker.pub; one node's key goes to "
		         "%s/%s/<coordinator|worker>/%s",
		         file, dir, cluster, name);
		return -1;
	}
	struct allowed_key *key = append(list, capacity);
	if (key == NULL) {
		snprintf(err, err_len, "out of memory");
		return -1;
	}
	if (curve_key_read_public(file, key->public_z85, err, err_len) != 0)
		return -1;
	snprintf(key->cluster, sizeof(key->cluster), "%s", cluster);
	key->role = role;
	key->node_id[0] = '\0'; /* any node id */
	list->count++;
	return 0;
}

/* The role keys (coordinator.pub, worker.pub) of DIR/CLUSTER, then each role's node keys. */
static int load_cluster(const char *dir, const char *cluster, struct allowlist *list,
                        size_t *capacity, char *err, size_t err_len)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s", dir, cluster);
	DIR *d = opendir(path);
	if (d == NULL) {
		snprintf(err, err_len, "%s: %s", path, strerror(errno));
		return -1;
	}
	int rc = 0;
	struct dirent *entry;
	while (rc == 0 && (entry = readdir(d)) != NULL)
		if (is_key_file(entry->d_name))
			rc = load_role_key(dir, cluster, entry->d_name, list, capacity, err,
			                   err_len);
	closedir(d);
	if (rc != 0)
		return -1;
	if (load_role(dir, cluster, TRINOGUARD__V1__NODE_ROLE__ROLE_COORDINATOR, list, capacity,
	              err, err_len) != 0)
		return -1;
	return load_role(dir, cluster, TRINOGUARD__V1__NODE_ROLE__ROLE_WORKER, list, capacity, err,
	                 err_len);
}

/* One entry of DIR: a cluster's directory, or a key file of the old layout. */
static int load_entry(const char *dir, const char *name, struct allowlist *list, size_t *capacity,
                      char *err, size_t err_len)
{
	if (name[0] == '.')
		return 0;
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (is_key_file(name)) {
		snprintf(err, err_len,
		         "%s: keys are bound to a cluster and a role now: move it to "
		         "%s/<cluster>/coordinator/%s or %s/<cluster>/worker/%s",
		         path, dir, name, dir, name);
		return -1;
	}
	if (!is_directory(path))
		return 0;
	struct allowed_key probe;
	if (strlen(name) >= sizeof(probe.cluster)) {
		snprintf(err, err_len, "%s: cluster name too long", path);
		return -1;
	}
	return load_cluster(dir, name, list, capacity, err, err_len);
}

/* Where KEY was read from, relative to the allow-list's directory. */
static void key_place(const struct allowed_key *key, char *out, size_t out_len)
{
	if (key->node_id[0] == '\0')
		snprintf(out, out_len, "%s/%s.pub", key->cluster, allowlist_role_name(key->role));
	else
		snprintf(out, out_len, "%s/%s/%s.pub", key->cluster, allowlist_role_name(key->role),
		         key->node_id);
}

static int refuse_duplicates(const char *dir, const struct allowlist *list, char *err,
                             size_t err_len)
{
	for (size_t i = 1; i < list->count; i++) {
		const struct allowed_key *a = &list->keys[i - 1], *b = &list->keys[i];
		if (strcmp(a->public_z85, b->public_z85) == 0) {
			char first[256], second[256];
			key_place(a, first, sizeof(first));
			key_place(b, second, sizeof(second));
			snprintf(err, err_len,
			         "%s: %s and %s hold the same key; each node, or each role's key, "
			         "needs its own",
			         dir, first, second);
			return -1;
		}
	}
	return 0;
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
	while (rc == 0 && (entry = readdir(d)) != NULL)
		rc = load_entry(dir, entry->d_name, list, &capacity, err, err_len);
	closedir(d);
	if (rc == 0 && list->count > 1) {
		qsort(list->keys, list->count, sizeof(*list->keys), compare_keys);
		rc = refuse_duplicates(dir, list, err, err_len);
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

struct allowed_key *allowlist_lookup(const struct allowlist *list, const char *public_z85)
{
	struct allowed_key probe = {0};
	snprintf(probe.public_z85, sizeof(probe.public_z85), "%s", public_z85);
	return list->count > 0
	               ? bsearch(&probe, list->keys, list->count, sizeof(*list->keys), compare_keys)
	               : NULL;
}

bool allowlist_permits(const struct allowed_key *key, const char *cluster, int role,
                       const char *node_id)
{
	if (strcmp(key->cluster, cluster) != 0)
		return false;
	/* A role's key stands for no one node: the role it names is all that binds
	 * it besides the cluster, so a report must state it (a worker's key with
	 * an unknown role could otherwise speak for the coordinator's node id). */
	if (key->node_id[0] == '\0')
		return role == key->role;
	if (role != TRINOGUARD__V1__NODE_ROLE__ROLE_UNKNOWN && role != key->role)
		return false;
	return strcmp(key->node_id, node_id) == 0;
}
