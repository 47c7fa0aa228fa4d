/*
 * Writes Trino-style etc dirs (docs/DESIGN.md §3) in the plain
 * key=value form Trino's documentation shows, and edits them for faults.
 */
#include "sim_etc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int write_file(const char *dir, const char *name, const char *content, char *err,
                      size_t err_len)
{
	char path[1024];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	if (f == NULL) {
		snprintf(err, err_len, "%s: %s", path, strerror(errno));
		return -1;
	}
	fputs(content, f);
	if (fclose(f) != 0) {
		snprintf(err, err_len, "%s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

static int make_dir(const char *path, char *err, size_t err_len)
{
	if (mkdir(path, 0755) != 0 && errno != EEXIST) {
		snprintf(err, err_len, "mkdir %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

static const char *const known_catalogs[][2] = {
        {"tpch", "connector.name=tpch\ntpch.splits-per-node=4\n"},
        {"tpcds", "connector.name=tpcds\n"},
        {"memory", "connector.name=memory\nmemory.max-data-per-node=128MB\n"},
        {"blackhole", "connector.name=blackhole\n"},
        {"jmx", "connector.name=jmx\n"},
};

static int write_node(const struct sim_cluster *cluster, const struct sim_node *node, int catalogs,
                      char *err, size_t err_len)
{
	char text[2048];
	const struct sim_node *coordinator = &cluster->nodes[0];
	if (make_dir(node->etc_dir, err, err_len) != 0)
		return -1;

	snprintf(text, sizeof(text),
	         "coordinator=%s\n"
	         "%s"
	         "http-server.http.port=%d\n"
	         "discovery.uri=http://127.0.0.1:%d\n"
	         "query.max-memory=50GB\n"
	         "query.max-memory-per-node=8GB\n"
	         "memory.heap-headroom-per-node=2GB\n",
	         node->coordinator ? "true" : "false",
	         node->coordinator ? "node-scheduler.include-coordinator=false\n" : "", node->port,
	         coordinator->port);
	if (write_file(node->etc_dir, "config.properties", text, err, err_len) != 0)
		return -1;

	snprintf(text, sizeof(text),
	         "node.environment=%s\n"
	         "node.id=%s\n"
	         "node.data-dir=/var/trino/data/%s\n",
	         cluster->environment, node->id, node->id);
	if (write_file(node->etc_dir, "node.properties", text, err, err_len) != 0)
		return -1;

	if (write_file(node->etc_dir, "jvm.config",
	               "-server\n"
	               "-Xmx16G\n"
	               "-XX:InitialRAMPercentage=80\n"
	               "-XX:MaxRAMPercentage=80\n"
	               "-XX:G1HeapRegionSize=32M\n"
	               "-XX:+ExplicitGCInvokesConcurrent\n"
	               "-XX:+ExitOnOutOfMemoryError\n"
	               "-XX:+HeapDumpOnOutOfMemoryError\n"
	               "-Djdk.attach.allowAttachSelf=true\n",
	               err, err_len) != 0)
		return -1;
	if (write_file(node->etc_dir, "log.properties", "io.trino=INFO\n", err, err_len) != 0)
		return -1;

	char catalog_dir[600];
	snprintf(catalog_dir, sizeof(catalog_dir), "%s/catalog", node->etc_dir);
	if (make_dir(catalog_dir, err, err_len) != 0)
		return -1;
	for (int i = 0; i < catalogs; i++) {
		char name[64];
		if (i < 5) {
			snprintf(name, sizeof(name), "%s.properties", known_catalogs[i][0]);
			snprintf(text, sizeof(text), "%s", known_catalogs[i][1]);
		} else {
			snprintf(name, sizeof(name), "hive_%d.properties", i - 4);
			snprintf(text, sizeof(text),
			         "connector.name=hive\n"
			         "hive.metastore.uri=thrift://metastore-%d.example.net:9083\n"
			         "hive.max-partitions-per-scan=100000\n"
			         "hive.non-managed-table-writes-enabled=true\n",
			         i - 4);
		}
		if (write_file(catalog_dir, name, text, err, err_len) != 0)
			return -1;
	}
	return 0;
}

int sim_etc_write(struct sim_cluster *cluster, const char *root, int catalogs, char *err,
                  size_t err_len)
{
	if (make_dir(root, err, err_len) != 0)
		return -1;
	for (size_t i = 0; i < cluster->node_count; i++) {
		struct sim_node *node = &cluster->nodes[i];
		char dir[sizeof(node->etc_dir)];
		snprintf(dir, sizeof(dir), "%s/%s", root, node->id);
		memcpy(node->etc_dir, dir, sizeof(dir));
		if (write_node(cluster, node, catalogs, err, err_len) != 0)
			return -1;
	}
	return 0;
}

static bool safe_relative_path(const char *file)
{
	if (file[0] == '\0' || file[0] == '/')
		return false;
	/* no ".." component anywhere */
	const char *p = file;
	while ((p = strstr(p, "..")) != NULL) {
		bool starts = p == file || p[-1] == '/';
		bool ends = p[2] == '\0' || p[2] == '/';
		if (starts && ends)
			return false;
		p += 2;
	}
	return true;
}

static bool safe_token(const char *text)
{
	return strpbrk(text, "\n\r") == NULL;
}

int sim_etc_set(const struct sim_node *node, const char *file, const char *key, const char *value,
                char *err, size_t err_len)
{
	if (node->etc_dir[0] == '\0') {
		snprintf(err, err_len, "the sim was started without --etc-root");
		return -1;
	}
	if (!safe_relative_path(file)) {
		snprintf(err, err_len, "file '%s' must be a path inside the etc dir", file);
		return -1;
	}
	if (key[0] == '\0' || !safe_token(key) || !safe_token(value) || strchr(key, '=') != NULL) {
		snprintf(err, err_len,
		         "key and value must be one line, and the key non-empty "
		         "without '='");
		return -1;
	}
	char path[1024], tmp[1100];
	snprintf(path, sizeof(path), "%s/%s", node->etc_dir, file);
	snprintf(tmp, sizeof(tmp), "%s.sim-tmp", path);
	FILE *in = fopen(path, "r");
	if (in == NULL) {
		snprintf(err, err_len, "%s: %s", file, strerror(errno));
		return -1;
	}
	FILE *out = fopen(tmp, "w");
	if (out == NULL) {
		snprintf(err, err_len, "%s: %s", tmp, strerror(errno));
		fclose(in);
		return -1;
	}
	char line[4096];
	size_t key_len = strlen(key);
	bool replaced = false;
	while (fgets(line, sizeof(line), in) != NULL) {
		if (!replaced && strncmp(line, key, key_len) == 0 && line[key_len] == '=') {
			fprintf(out, "%s=%s\n", key, value);
			replaced = true;
		} else {
			fputs(line, out);
		}
	}
	if (!replaced)
		fprintf(out, "%s=%s\n", key, value);
	fclose(in);
	if (fclose(out) != 0 || rename(tmp, path) != 0) {
		snprintf(err, err_len, "%s: %s", path, strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
}
