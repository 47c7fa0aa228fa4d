/*
 * The agent's start-up checks, in one place for the daemon and for
 * check-config: the node id (from agent.ini or node.properties), the CURVE
 * key files (the secret one private to its owner) and the Trino credential
 * files. Each is what publisher_new() or poller_new() would refuse.
 */
#include "agent_check.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config_check.h"
#include "curve_keys.h"
#include "properties.h"
#include "secret_file.h"

static char *node_id_from_properties(const char *etc_dir, char *err, size_t err_len)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/node.properties", etc_dir);
	FILE *f = fopen(path, "rb");
	if (f == NULL) {
		snprintf(err, err_len, "node_id is not set and %s cannot be read: %s", path,
		         strerror(errno));
		return NULL;
	}
	char text[65536];
	size_t len = fread(text, 1, sizeof(text), f);
	(void)fclose(f); /* read only: nothing to lose */
	char why[128] = "";
	char *node_id = properties_lookup(text, len, "node.id", why, sizeof(why));
	if (node_id == NULL || node_id[0] == '\0') {
		snprintf(err, err_len, "node_id is not set and %s has no node.id%s%s", path,
		         why[0] ? ": " : "", why);
		free(node_id);
		return NULL;
	}
	return node_id;
}

char *agent_resolve_node_id(const struct agent_config *config, char *err, size_t err_len)
{
	char *node_id = config->agent.node_id != NULL
	                        ? strdup(config->agent.node_id)
	                        : node_id_from_properties(config->trino.etc_dir, err, err_len);
	if (node_id == NULL) {
		if (config->agent.node_id != NULL)
			snprintf(err, err_len, "out of memory");
		return NULL;
	}
	if (!config_check_node_id(node_id)) {
		snprintf(err, err_len,
		         "node id '%s' is not one Trino accepts (letters, digits, '_' and '-', "
		         "starting with a letter or digit)",
		         node_id);
		free(node_id);
		return NULL;
	}
	return node_id;
}

/* The key files publisher_new() reads, with curve on. */
static void check_keys(struct config_check *check, const struct publish_section *collector)
{
	if (!collector->curve)
		return;
	char key[CURVE_KEY_Z85_LEN + 1], why[512];
	const char *publics[2] = {collector->server_public_key_file, collector->public_key_file};
	const char *names[2] = {"server_public_key_file", "public_key_file"};
	for (size_t i = 0; i < 2; i++)
		if (curve_key_read_public(publics[i], key, why, sizeof(why)) != 0)
			config_check_problem(check, "[collector] %s: %s", names[i], why);
	if (curve_key_read_secret(collector->secret_key_file, key, why, sizeof(why)) != 0)
		config_check_problem(check, "[collector] secret_key_file: %s", why);
	explicit_bzero(key, sizeof(key));
}

/* The secret files poller_new() reads, and the CA file curl will. */
static void check_trino(struct config_check *check, const struct trino_section *trino)
{
	const char *secrets[2] = {trino->basic_password_file, trino->bearer_token_file};
	const char *names[2] = {"basic_password_file", "bearer_token_file"};
	char why[512];
	for (size_t i = 0; i < 2; i++) {
		if (secrets[i] == NULL)
			continue;
		char *secret = secret_file_read(secrets[i], why, sizeof(why));
		if (secret == NULL)
			config_check_problem(check, "[trino] %s: %s", names[i], why);
		secret_free(secret);
	}
	if (trino->ca_file != NULL && access(trino->ca_file, R_OK) != 0)
		config_check_problem(check, "[trino] ca_file %s: %s", trino->ca_file,
		                     strerror(errno));
}

int agent_check_config(const char *path, bool offline, FILE *out, FILE *err_out)
{
	struct agent_config config = {0};
	char err[1024];
	if (agent_config_load(path, &config, err, sizeof(err)) != 0) {
		fprintf(err_out, "%s\n", err);
		agent_config_free(&config);
		return CONFIG_CHECK_INVALID;
	}
	struct config_check check = {.path = path, .offline = offline, .out = err_out};
	char *node_id = agent_resolve_node_id(&config, err, sizeof(err));
	if (node_id == NULL)
		config_check_problem(&check, "%s", err);
	check_keys(&check, &config.collector);
	check_trino(&check, &config.trino);
	int rc = config_check_exit(&check);
	if (rc == CONFIG_CHECK_OK)
		fprintf(out, "%s: OK (agent config: cluster %s, node %s)\n", path,
		        config.agent.cluster, node_id);
	free(node_id);
	agent_config_free(&config);
	return rc;
}
