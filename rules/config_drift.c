/*
 * The config-drift rule (docs/DESIGN.md §5): every config file a live node
 * reports must have the same digest on the nodes that must agree on it
 * (catalogs on every node, the rest within one role). The finding names the
 * groups of nodes by digest and, where the agents list them, the keys that
 * differ (rules/config_drift_keys.c). A node with more files than a report
 * carries is a finding of its own (config-truncated).
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_drift_keys.h"
#include "findings.h"

static bool is_catalog(const char *path)
{
	return strncmp(path, "catalog/", 8) == 0;
}

static const struct fleet_digest *digest_of(const struct fleet_node *node, const char *path)
{
	for (size_t i = 0; i < node->digest_count; i++)
		if (strcmp(node->digests[i].path, path) == 0)
			return &node->digests[i];
	return NULL;
}

/* A short printable form of one node's version of a file. */
static void describe(const struct fleet_digest *digest, char *out, size_t out_len)
{
	if (digest == NULL)
		snprintf(out, out_len, "absent");
	else if (!digest->ok)
		snprintf(out, out_len, "unreadable");
	else
		snprintf(out, out_len, "%02x%02x%02x%02x", digest->sha256[0], digest->sha256[1],
		         digest->sha256[2], digest->sha256[3]);
}

static bool same_digest(const struct fleet_digest *a, const struct fleet_digest *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	if (!a->ok || !b->ok)
		return a->ok == b->ok;
	return memcmp(a->sha256, b->sha256, 32) == 0;
}

/*
 * Names the groups of GROUP's nodes by their version of PATH into OUT
 * ("1a2b3c4d: w1, w2; absent: w3"), each group's version in REPS (NULL:
 * absent), in the same order; their number in *REP_COUNT.
 */
static int name_groups(const char *path, const struct fleet_node **group, size_t count,
                       const struct fleet_digest **reps, size_t *rep_count, char *out,
                       size_t out_len)
{
	bool *printed = calloc(count, sizeof(*printed));
	if (printed == NULL)
		return -1;
	out[0] = '\0';
	*rep_count = 0;
	for (size_t i = 0; i < count; i++) {
		if (printed[i])
			continue;
		const struct fleet_digest *d = digest_of(group[i], path);
		reps[(*rep_count)++] = d;
		char label[32];
		describe(d, label, sizeof(label));
		size_t len = strlen(out);
		snprintf(out + len, out_len - len, "%s%s: ", len ? "; " : "", label);
		bool first_member = true;
		for (size_t k = i; k < count; k++) {
			if (printed[k] || !same_digest(d, digest_of(group[k], path)))
				continue;
			printed[k] = true;
			len = strlen(out);
			snprintf(out + len, out_len - len, "%s%s", first_member ? "" : ", ",
			         group[k]->node_id);
			first_member = false;
		}
	}
	free(printed);
	return 0;
}

/* One drift check: PATH among the nodes in GROUP (one role, or all for catalogs). */
static int check_path(const struct cluster_settings *settings, const char *path,
                      const char *role_label, const struct fleet_node **group, size_t count,
                      struct finding_list *out)
{
	bool differs = false;
	const struct fleet_digest *first = digest_of(group[0], path);
	for (size_t i = 1; i < count && !differs; i++)
		differs = !same_digest(first, digest_of(group[i], path));
	if (!differs)
		return 0;
	const struct fleet_digest **reps = calloc(count, sizeof(*reps));
	if (reps == NULL)
		return -1;
	char groups[900], keys[600];
	size_t rep_count = 0;
	int rc = name_groups(path, group, count, reps, &rep_count, groups, sizeof(groups));
	if (rc == 0)
		rc = config_drift_keys(reps, rep_count, keys, sizeof(keys));
	free(reps);
	if (rc != 0)
		return -1;
	char subject[FLEET_TEXT_LEN];
	if (role_label[0] != '\0')
		snprintf(subject, sizeof(subject), "%s/%s", role_label, path);
	else
		snprintf(subject, sizeof(subject), "%s", path);
	return finding_add(out, FINDING_CONFIG_DRIFT, SEVERITY_WARNING, settings->name, subject,
	                   "%s differs between %s%snodes of %s%s: %s", path, role_label,
	                   role_label[0] ? " " : "", settings->name, keys, groups) != NULL
	               ? 0
	               : -1;
}

static int path_seen(const char *const *paths, size_t count, const char *path)
{
	for (size_t i = 0; i < count; i++)
		if (strcmp(paths[i], path) == 0)
			return 1;
	return 0;
}

/* Every config path some live node of GROUP reports, checked across GROUP. */
static int drift_in_group(const struct cluster_settings *settings, const char *role_label,
                          const struct fleet_node **group, size_t count, bool catalogs,
                          struct finding_list *out)
{
	if (count < 2)
		return 0;
	size_t cap = 0;
	for (size_t i = 0; i < count; i++)
		cap += group[i]->digest_count;
	const char **paths = calloc(cap + 1, sizeof(*paths));
	if (paths == NULL)
		return -1;
	size_t path_count = 0;
	for (size_t i = 0; i < count; i++) {
		for (size_t k = 0; k < group[i]->digest_count; k++) {
			const char *path = group[i]->digests[k].path;
			if (is_catalog(path) != catalogs || path_seen(paths, path_count, path))
				continue;
			paths[path_count++] = path;
		}
	}
	int rc = 0;
	for (size_t i = 0; i < path_count && rc == 0; i++)
		rc = check_path(settings, paths[i], role_label, group, count, out);
	free(paths);
	return rc;
}

/* A node whose agent could not report every file: drift in the rest goes unseen. */
static int truncated_nodes(const struct fleet_node **live, size_t live_count,
                           const struct cluster_settings *settings, struct finding_list *out)
{
	for (size_t i = 0; i < live_count; i++) {
		const struct fleet_node *node = live[i];
		if (node->config_files_total <= node->digest_count)
			continue;
		if (finding_add(out, FINDING_CONFIG_TRUNCATED, SEVERITY_WARNING, settings->name,
		                node->node_id,
		                "%s has %zu config files: %zu are checked for drift "
		                "(config.properties, node.properties, jvm.config, log.properties, "
		                "then the first in path order), %zu are not: more than one report "
		                "carries",
		                node->node_id, node->config_files_total, node->digest_count,
		                node->config_files_total - node->digest_count) == NULL)
			return -1;
	}
	return 0;
}

int findings_config_drift(const struct fleet_node **live, size_t live_count,
                          const struct cluster_settings *settings, struct finding_list *out)
{
	if (truncated_nodes(live, live_count, settings, out) != 0)
		return -1;
	const struct fleet_node **group = calloc(live_count + 1, sizeof(*group));
	if (group == NULL)
		return -1;
	/* catalogs must match on every node, whatever its role (Trino 477+ requires it) */
	size_t count = 0;
	for (size_t i = 0; i < live_count; i++)
		if (live[i]->role != TRINOGUARD__V1__NODE_ROLE__ROLE_UNKNOWN)
			group[count++] = live[i];
	int rc = drift_in_group(settings, "", group, count, true, out);
	/* everything else within one role */
	static const struct {
		int role;
		const char *label;
	} roles[] = {{TRINOGUARD__V1__NODE_ROLE__ROLE_COORDINATOR, "coordinator"},
	             {TRINOGUARD__V1__NODE_ROLE__ROLE_WORKER, "worker"}};
	for (size_t r = 0; r < 2 && rc == 0; r++) {
		count = 0;
		for (size_t i = 0; i < live_count; i++)
			if (live[i]->role == roles[r].role)
				group[count++] = live[i];
		rc = drift_in_group(settings, roles[r].label, group, count, false, out);
	}
	free(group);
	return rc;
}
