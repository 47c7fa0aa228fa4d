/*
 * The allow-list's layout and bindings: <cluster>/<role>/<node-id>.pub binds
 * a key to one node; <cluster>/<role>.pub (Kubernetes pods) to any node id of
 * one role of one cluster, never another role or cluster, and never a report
 * that does not state its role; a key of either kind misplaced is refused
 * naming where it goes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <sys/stat.h>
#include <unistd.h>

#include "allowlist.h"
#include "curve_keys.h"
#include "trino_guard.pb-c.h"

enum {
	COORDINATOR = TRINOGUARD__V1__NODE_ROLE__ROLE_COORDINATOR,
	WORKER = TRINOGUARD__V1__NODE_ROLE__ROLE_WORKER,
	UNKNOWN = TRINOGUARD__V1__NODE_ROLE__ROLE_UNKNOWN,
};

struct permits_case {
	const char *name;
	const char *key_node_id; /* "": a role's key */
	int key_role;
	const char *cluster;
	int role;
	const char *node_id;
	bool permitted;
};

static const struct permits_case permits_cases[] = {
        {"node key, its own node", "w1", WORKER, "blue", WORKER, "w1", true},
        {"node key, unknown role (Trino never answered)", "w1", WORKER, "blue", UNKNOWN, "w1",
         true},
        {"node key, another node id", "w1", WORKER, "blue", WORKER, "w2", false},
        {"node key, as coordinator", "w1", WORKER, "blue", COORDINATOR, "w1", false},
        {"node key, another cluster", "w1", WORKER, "green", WORKER, "w1", false},
        {"role key, any pod name", "", WORKER, "blue", WORKER, "trino-worker-7f9c4-x2lpq", true},
        {"role key, another pod name", "", WORKER, "blue", WORKER, "trino-worker-7f9c4-9zkdm",
         true},
        {"role key, as coordinator", "", WORKER, "blue", COORDINATOR, "trino-coordinator-0", false},
        {"role key, another cluster", "", WORKER, "green", WORKER, "trino-worker-1", false},
        {"role key, role not stated", "", WORKER, "blue", UNKNOWN, "trino-coordinator-0", false},
        {"coordinators' role key, a coordinator", "", COORDINATOR, "blue", COORDINATOR,
         "trino-coordinator-0", true},
};

static void test_permits(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(permits_cases) / sizeof(permits_cases[0]); i++) {
		const struct permits_case *c = &permits_cases[i];
		struct allowed_key key = {.role = c->key_role, .session_fd = -1};
		snprintf(key.cluster, sizeof(key.cluster), "blue");
		snprintf(key.node_id, sizeof(key.node_id), "%s", c->key_node_id);
		bool got = allowlist_permits(&key, c->cluster, c->role, c->node_id);
		if (got != c->permitted)
			fail_msg("%s: permitted %d, expected %d", c->name, got, c->permitted);
	}
}

static char dir[64];

static void keygen_at(const char *relative)
{
	char prefix[512], err[256], path[600];
	snprintf(prefix, sizeof(prefix), "%s/%s", dir, relative);
	for (char *slash = strchr(prefix + strlen(dir) + 1, '/'); slash != NULL;
	     slash = strchr(slash + 1, '/')) {
		*slash = '\0';
		mkdir(prefix, 0755);
		*slash = '/';
	}
	if (curve_keypair_write(prefix, err, sizeof(err)) != 0)
		fail_msg("keygen %s: %s", prefix, err);
	snprintf(path, sizeof(path), "%s.key", prefix);
	unlink(path); /* only the .pub belongs in an allow-list */
}

static int make_dir(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/tg-allowlist.XXXXXX");
	return mkdtemp(dir) != NULL ? 0 : -1;
}

static int remove_dir(void **state)
{
	(void)state;
	char command[128];
	snprintf(command, sizeof(command), "rm -rf '%s'", dir);
	return system(command) == 0 ? 0 : -1;
}

static const struct allowed_key *find(const struct allowlist *list, const char *cluster, int role,
                                      const char *node_id)
{
	for (size_t i = 0; i < list->count; i++)
		if (strcmp(list->keys[i].cluster, cluster) == 0 && list->keys[i].role == role &&
		    strcmp(list->keys[i].node_id, node_id) == 0)
			return &list->keys[i];
	return NULL;
}

static void test_role_keys_load_beside_node_keys(void **state)
{
	(void)state;
	keygen_at("blue/worker"); /* blue/worker.pub: every worker of blue */
	keygen_at("blue/coordinator/trino-coordinator-0");
	keygen_at("green/coordinator"); /* green/coordinator.pub */
	struct allowlist list;
	char err[1024];
	if (allowlist_load(dir, &list, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	assert_int_equal(list.count, 3);
	assert_non_null(find(&list, "blue", WORKER, ""));
	assert_non_null(find(&list, "blue", COORDINATOR, "trino-coordinator-0"));
	assert_non_null(find(&list, "green", COORDINATOR, ""));
	allowlist_free(&list);
}

static void test_misplaced_key_in_a_cluster_dir_is_refused(void **state)
{
	(void)state;
	keygen_at("blue/trino-worker-1");
	struct allowlist list;
	char err[1024] = "";
	assert_int_equal(allowlist_load(dir, &list, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "blue/trino-worker-1.pub: a key directly in a cluster's "
	                            "directory is one role's key, named coordinator.pub or "
	                            "worker.pub"));
	assert_non_null(strstr(err, "/blue/<coordinator|worker>/trino-worker-1.pub"));
	char path[256];
	snprintf(path, sizeof(path), "%s/blue/trino-worker-1.pub", dir);
	unlink(path);
}

static void test_one_key_as_role_key_and_node_key_is_refused(void **state)
{
	(void)state;
	char from[256], to[256], command[600];
	snprintf(from, sizeof(from), "%s/blue/worker.pub", dir);
	snprintf(to, sizeof(to), "%s/blue/worker/trino-worker-9.pub", dir);
	snprintf(command, sizeof(command), "mkdir -p '%s/blue/worker' && cp '%s' '%s'", dir, from,
	         to);
	assert_int_equal(system(command), 0);
	struct allowlist list;
	char err[1024] = "";
	assert_int_equal(allowlist_load(dir, &list, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "blue/worker.pub"));
	assert_non_null(strstr(err, "blue/worker/trino-worker-9.pub"));
	assert_non_null(strstr(err, "hold the same key"));
	unlink(to);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_permits),
	        cmocka_unit_test(test_role_keys_load_beside_node_keys),
	        cmocka_unit_test(test_misplaced_key_in_a_cluster_dir_is_refused),
	        cmocka_unit_test(test_one_key_as_role_key_and_node_key_is_refused),
	};
	return cmocka_run_group_tests(tests, make_dir, remove_dir);
}
