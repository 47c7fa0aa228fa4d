/*
 * The collector's allow-list: allowed_keys_dir/<cluster>/<role>/<node-id>.pub,
 * role "coordinator" or "worker". Each key may report only as that node id, in
 * that cluster, in that role. allowed_keys_dir/<cluster>/<role>.pub is one key
 * for every node of that role in that cluster (Kubernetes pods): any node id,
 * but only that cluster and that role. A key file directly in
 * allowed_keys_dir (the layout before the binding) is refused with the place
 * it must move to.
 */
#ifndef TG_ALLOWLIST_H
#define TG_ALLOWLIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct allowed_key {
	char public_z85[41];
	char cluster[64];
	int role; /* TRINOGUARD__V1__NODE_ROLE__ROLE_COORDINATOR or __WORKER */
	/* The node id this key speaks for; "" admits any node id of the cluster
	 * and role (a key shared by every node of one role). */
	char node_id[128];
	/* Not read from disk: the descriptor of the last connection that brought
	 * a report under this key, or -1 (ingest closes it when the key goes). */
	int session_fd;
	/* Not read from disk: the reports counted in the current second, for
	 * [collector] max_reports_per_second. */
	int64_t rate_window_ms;
	int64_t reports_in_window;
};

struct allowlist {
	struct allowed_key *keys; /* sorted by key */
	size_t count;
};

/*
 * Reads DIR/<cluster>/<role>/<node-id>.pub and DIR/<cluster>/<role>.pub. 0, or
 * -1 with the file to blame in ERR.
 */
int allowlist_load(const char *dir, struct allowlist *list, char *err, size_t err_len);
void allowlist_free(struct allowlist *list);

/* The binding of PUBLIC_Z85, or NULL when the key is not allowed. */
struct allowed_key *allowlist_lookup(const struct allowlist *list, const char *public_z85);

/* "coordinator", "worker", or "unknown" for a role no key can be bound to. */
const char *allowlist_role_name(int role);

/*
 * Whether KEY may send a report as NODE_ID in CLUSTER with ROLE. A report
 * whose role is unknown (Trino did not answer) passes the role check: the
 * agent cannot tell, and the node id and cluster still bind it; under a
 * role's key (any node id) the report must state that role.
 */
bool allowlist_permits(const struct allowed_key *key, const char *cluster, int role,
                       const char *node_id);

#endif
