/*
 * The collector's start-up checks for check-config: each is what
 * collector_start() (ingest, the journal, the alert sinks, the API, the LB
 * driver) would refuse, said one line each instead of the first alone.
 */
#include "collector_check.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "allowlist.h"
#include "collector_config.h"
#include "config_check.h"
#include "curve_keys.h"
#include "lb_drivers.h"
#include "secret_file.h"

char *collector_read_token(const char *path, char *err, size_t err_len)
{
	char why[512];
	char *token = secret_file_read(path, why, sizeof(why));
	if (token == NULL) {
		snprintf(err, err_len, "token_file %s", why);
		return NULL;
	}
	if (strlen(token) < 16) {
		snprintf(err, err_len, "token_file %s: the token must be at least 16 characters",
		         path);
		secret_free(token);
		return NULL;
	}
	return token;
}

/* The secret key, and every allow-list file a valid key named after a valid node id. */
static void check_keys(struct config_check *check, const struct collector_section *c)
{
	if (!c->curve)
		return;
	char key[CURVE_KEY_Z85_LEN + 1], why[1024];
	if (curve_key_read_secret(c->secret_key_file, key, why, sizeof(why)) != 0)
		config_check_problem(check, "[collector] secret_key_file: %s", why);
	explicit_bzero(key, sizeof(key));
	struct allowlist list;
	if (allowlist_load(c->allowed_keys_dir, &list, why, sizeof(why)) != 0) {
		config_check_problem(check, "[collector] %s", why);
		return;
	}
	if (list.count == 0)
		config_check_problem(
		        check,
		        "[collector] allowed_keys_dir %s holds no "
		        "<cluster>/<role>/<node-id>.pub or <cluster>/<role>.pub: no agent can "
		        "report",
		        c->allowed_keys_dir);
	for (size_t i = 0; i < list.count; i++) {
		const struct allowed_key *entry = &list.keys[i];
		if (entry->node_id[0] != '\0' && !config_check_node_id(entry->node_id))
			config_check_problem(
			        check,
			        "%s/%s/%s/%s.pub: '%s' is not a node id Trino accepts "
			        "(letters, digits, '_' and '-'): no agent can report as it",
			        c->allowed_keys_dir, entry->cluster,
			        allowlist_role_name(entry->role), entry->node_id, entry->node_id);
	}
	allowlist_free(&list);
}

/* The token, the state dir and the sinks' secret files. */
static void check_files(struct config_check *check, const struct collector_config *config)
{
	char why[1024];
	if (config->api.token_file != NULL) {
		char *token = collector_read_token(config->api.token_file, why, sizeof(why));
		if (token == NULL)
			config_check_problem(check, "[api] %s", why);
		secret_free(token);
	}
	if (config->ha.password_file != NULL) {
		char *password = secret_file_read(config->ha.password_file, why, sizeof(why));
		if (password == NULL)
			config_check_problem(check, "[ha] password_file %s", why);
		secret_free(password);
	}
	const char *state_dir = config->collector.state_dir;
	if (access(state_dir, W_OK | X_OK) != 0 && errno != ENOENT)
		config_check_problem(check, "[collector] state_dir %s: %s", state_dir,
		                     strerror(errno));
	for (size_t i = 0; i < config->alert_count; i++) {
		const struct alert_section *a = &config->alerts[i];
		const char *files[2] = {a->routing_key_file, a->webhook_url_file};
		const char *names[2] = {"routing_key_file", "webhook_url_file"};
		for (size_t k = 0; k < 2; k++) {
			if (files[k] == NULL)
				continue;
			char *secret = secret_file_read(files[k], why, sizeof(why));
			if (secret == NULL)
				config_check_problem(check, "[alert.%s] %s: %s", a->name, names[k],
				                     why);
			secret_free(secret);
		}
	}
}

int collector_check_config(const char *path, bool offline, FILE *out, FILE *err_out)
{
	static struct collector_config config; /* large: not on the stack */
	memset(&config, 0, sizeof(config));
	char err[1024];
	if (collector_config_load(path, &config, err, sizeof(err)) != 0) {
		fprintf(err_out, "%s\n", err);
		collector_config_free(&config);
		return CONFIG_CHECK_INVALID;
	}
	struct config_check check = {.path = path, .offline = offline, .out = err_out};
	check_keys(&check, &config.collector);
	check_files(&check, &config);
	if (!offline && lb_driver_probe(&config, err, sizeof(err)) != 0)
		config_check_problem(&check, "%s (--offline skips this)", err);
	int rc = config_check_exit(&check);
	if (rc == CONFIG_CHECK_OK)
		fprintf(out, "%s: OK (collector config: %zu clusters, driver %s%s)\n", path,
		        config.cluster_count, config.lb.driver, offline ? ", not probed" : "");
	collector_config_free(&config);
	return rc;
}
