/*
 * trino-guardctl: the operator's command line. Reads the collector's HTTP
 * API and prints tables for people (colour only on a terminal) or the API's
 * JSON for scripts; also generates key pairs and checks config files.
 *
 * Exit codes: 0 ok; 1 findings are open (status); 2 error.
 */
#include <curl/curl.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent_config.h"
#include "collector_config.h"
#include "curve_keys.h"
#include "secret_file.h"

#define EXIT_OK       0
#define EXIT_FINDINGS 1
#define EXIT_ERROR    2

struct options {
	const char *url;
	bool json;
	bool color;
	long long since;
	const char *to;
	const char *reason;
	bool force;
};

static void usage(FILE *out)
{
	fprintf(out,
	        "usage: trino-guardctl [--url URL] [--json] COMMAND [ARGS]\n"
	        "\n"
	        "  status                 clusters, versions, nodes, failure ratios, open "
	        "findings\n"
	        "  nodes                  every node the collector knows\n"
	        "  events [--since ID]    the journal: findings opened and closed, starts, stops\n"
	        "  keygen NAME            write NAME.pub and NAME.key (mode 0600), a CURVE key "
	        "pair\n"
	        "  check-config FILE      check an agent.ini or collector.ini\n"
	        "\n"
	        "  --url URL   the collector's API (default http://127.0.0.1:7601)\n"
	        "  --json      print the API's JSON instead of a table\n"
	        "\n"
	        "Exit codes: 0 ok, 1 findings are open (status), 2 error.\n");
}

static size_t collect(char *data, size_t size, size_t count, void *arg)
{
	char **body = arg;
	size_t len = *body != NULL ? strlen(*body) : 0;
	char *grown = realloc(*body, len + size * count + 1);
	if (grown == NULL)
		return 0;
	memcpy(grown + len, data, size * count);
	grown[len + size * count] = '\0';
	*body = grown;
	return size * count;
}

/* GETs PATH from the API and parses the JSON answer; NULL with a message on stderr. */
static json_t *api_get(const struct options *opt, const char *path)
{
	char url[1024];
	snprintf(url, sizeof(url), "%s%s", opt->url, path);
	CURL *curl = curl_easy_init();
	if (curl == NULL)
		return NULL;
	char *body = NULL;
	char error[CURL_ERROR_SIZE] = "";
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 10000L);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, &body);
	curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error);
	CURLcode rc = curl_easy_perform(curl);
	long status = 0;
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(curl);
	if (rc != CURLE_OK) {
		fprintf(stderr, "trino-guardctl: %s: %s\n", url,
		        error[0] ? error : curl_easy_strerror(rc));
		free(body);
		return NULL;
	}
	json_t *value = body != NULL ? json_loads(body, 0, NULL) : NULL;
	if (status != 200 || value == NULL) {
		const char *message = json_string_value(json_object_get(value, "error"));
		fprintf(stderr, "trino-guardctl: %s: HTTP %ld%s%s\n", url, status,
		        message ? ": " : "", message ? message : "");
		json_decref(value);
		free(body);
		return NULL;
	}
	free(body);
	return value;
}

/* POSTs BODY to PATH; prints the answer; exit code 0 when accepted. */
static int api_post(const struct options *opt, const char *path, json_t *body)
{
	char url[1024];
	snprintf(url, sizeof(url), "%s%s", opt->url, path);
	char *payload = json_dumps(body, JSON_COMPACT);
	json_decref(body);
	CURL *curl = curl_easy_init();
	if (curl == NULL || payload == NULL)
		return EXIT_ERROR;
	struct curl_slist *headers = curl_slist_append(NULL, "Content-Type: application/json");
	char token_header[600];
	const char *token = getenv("TRINO_GUARD_TOKEN");
	char *token_from_file = NULL;
	const char *token_file = getenv("TRINO_GUARD_TOKEN_FILE");
	if (token == NULL && token_file != NULL) {
		char why[512];
		token = token_from_file = secret_file_read(token_file, why, sizeof(why));
		if (token == NULL)
			fprintf(stderr, "trino-guardctl: TRINO_GUARD_TOKEN_FILE %s\n", why);
	}
	if (token != NULL) {
		snprintf(token_header, sizeof(token_header), "Authorization: Bearer %s", token);
		headers = curl_slist_append(headers, token_header);
		explicit_bzero(token_header, sizeof(token_header));
	}
	secret_free(token_from_file);
	char *answer = NULL;
	char error[CURL_ERROR_SIZE] = "";
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_POSTFIELDS, payload);
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 10000L);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, &answer);
	curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error);
	CURLcode rc = curl_easy_perform(curl);
	long status = 0;
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
	curl_slist_free_all(headers);
	curl_easy_cleanup(curl);
	free(payload);
	if (rc != CURLE_OK) {
		fprintf(stderr, "trino-guardctl: %s: %s\n", url, error[0] ? error : "failed");
		free(answer);
		return EXIT_ERROR;
	}
	json_t *parsed = answer != NULL ? json_loads(answer, 0, NULL) : NULL;
	if (opt->json) {
		printf("%s", answer != NULL ? answer : "");
	} else {
		const char *message = json_string_value(json_object_get(parsed, "message"));
		printf("%s\n", message != NULL ? message : (answer != NULL ? answer : ""));
		size_t i;
		json_t *check;
		json_array_foreach(json_object_get(parsed, "failed_checks"), i, check)
		{
			printf("  - %s\n", json_string_value(check));
		}
	}
	json_decref(parsed);
	free(answer);
	return status == 200 || status == 202 ? EXIT_OK : EXIT_ERROR;
}

static const char *str(json_t *object, const char *key)
{
	const char *value = json_string_value(json_object_get(object, key));
	return value != NULL ? value : "";
}

static const char *severity_color(const struct options *opt, const char *severity)
{
	if (!opt->color)
		return "";
	if (strcmp(severity, "critical") == 0 || strcmp(severity, "error") == 0)
		return "\033[31m";
	if (strcmp(severity, "warning") == 0)
		return "\033[33m";
	return "";
}

static const char *reset(const struct options *opt)
{
	return opt->color ? "\033[0m" : "";
}

static void print_json(json_t *value)
{
	char *text = json_dumps(value, JSON_INDENT(2));
	printf("%s\n", text != NULL ? text : "null");
	free(text);
}

static int cmd_status(const struct options *opt)
{
	json_t *status = api_get(opt, "/v1/status");
	if (status == NULL)
		return EXIT_ERROR;
	size_t open = json_array_size(json_object_get(status, "findings"));
	if (opt->json) {
		print_json(status);
		json_decref(status);
		return open > 0 ? EXIT_FINDINGS : EXIT_OK;
	}
	printf("environment %s, active cluster %s, collector up %lld s%s\n\n",
	       str(status, "environment"),
	       json_is_string(json_object_get(status, "active")) ? str(status, "active") : "(none)",
	       (long long)json_integer_value(json_object_get(status, "uptime_seconds")),
	       json_is_true(json_object_get(status, "warming_up")) ? " (warming up)" : "");
	json_t *cutover = json_object_get(status, "cutover");
	if (json_is_object(cutover)) {
		printf("cutover: %s, active %s%s%s\n", str(cutover, "phase"),
		       str(cutover, "active"),
		       json_is_true(json_object_get(cutover, "paused")) ? ", PAUSED" : "",
		       json_is_true(json_object_get(cutover, "dry_run")) ? ", dry run" : "");
		json_t *watch = json_object_get(cutover, "watch");
		if (json_is_object(watch)) {
			json_t *failures = json_object_get(watch, "failures");
			json_t *users = json_object_get(watch, "user_errors");
			printf("watching %s: %lld s left; failures %.1f %% vs tolerated %.1f %%, "
			       "evidence %.1f/%.0f; user errors evidence %.1f/%.0f\n",
			       str(cutover, "active"),
			       (long long)json_integer_value(
			               json_object_get(watch, "seconds_left")),
			       100 * json_number_value(
			                     json_object_get(failures, "estimated_ratio")),
			       100 * json_number_value(json_object_get(failures, "p0")),
			       json_number_value(json_object_get(failures, "score")),
			       json_number_value(json_object_get(failures, "threshold")),
			       json_number_value(json_object_get(users, "score")),
			       json_number_value(json_object_get(users, "threshold")));
		}
		if (str(cutover, "reason")[0] != '\0')
			printf("last reason: %s\n", str(cutover, "reason"));
		printf("\n");
	}
	printf("%-12s %-6s %-10s %-22s %-7s %-32s %s\n", "CLUSTER", "ACTIVE", "VERSION", "VERSIONS",
	       "NODES", "FAILURES (60s, 99% interval)", "FINDINGS");
	size_t i;
	json_t *cluster;
	json_array_foreach(json_object_get(status, "clusters"), i, cluster)
	{
		char versions[128] = "";
		const char *version;
		json_t *count;
		json_object_foreach(json_object_get(cluster, "versions"), version, count)
		{
			size_t len = strlen(versions);
			snprintf(versions + len, sizeof(versions) - len, "%s%s:%lld",
			         len ? " " : "", version, (long long)json_integer_value(count));
		}
		char nodes[32], failures[64] = "-";
		snprintf(nodes, sizeof(nodes), "%lld/%lld",
		         (long long)json_integer_value(json_object_get(cluster, "nodes_live")),
		         (long long)json_integer_value(json_object_get(cluster, "nodes_total")));
		json_t *ratio = json_object_get(cluster, "failure_ratio");
		if (json_is_object(ratio))
			snprintf(failures, sizeof(failures), "%.2f%% of %lld [%.2f-%.2f%%]",
			         100 * json_number_value(json_object_get(ratio, "ratio")),
			         (long long)json_integer_value(json_object_get(ratio, "queries")),
			         100 * json_number_value(json_object_get(ratio, "lower_99")),
			         100 * json_number_value(json_object_get(ratio, "upper_99")));
		printf("%-12s %-6s %-10s %-22s %-7s %-32s %zu\n", str(cluster, "name"),
		       json_is_true(json_object_get(cluster, "active")) ? "*" : "",
		       str(cluster, "reference_version")[0] ? str(cluster, "reference_version")
		                                            : "-",
		       versions[0] ? versions : "-", nodes, failures,
		       json_array_size(json_object_get(cluster, "findings")));
	}
	if (open > 0) {
		printf("\nOPEN FINDINGS\n");
		json_t *f;
		json_array_foreach(json_object_get(status, "findings"), i, f)
		{
			printf("%s%-9s%s %s\n          %s\n",
			       severity_color(opt, str(f, "severity")), str(f, "severity"),
			       reset(opt), str(f, "key"), str(f, "summary"));
		}
	} else {
		printf("\nno open findings\n");
	}
	json_decref(status);
	return open > 0 ? EXIT_FINDINGS : EXIT_OK;
}

static int cmd_nodes(const struct options *opt)
{
	json_t *nodes = api_get(opt, "/v1/nodes");
	if (nodes == NULL)
		return EXIT_ERROR;
	if (opt->json) {
		print_json(nodes);
		json_decref(nodes);
		return EXIT_OK;
	}
	printf("%-28s %-10s %-12s %-10s %-14s %-5s %-10s %s\n", "NODE", "CLUSTER", "ROLE",
	       "VERSION", "STATE", "LIVE", "LAST SEEN", "CONFIG");
	size_t i;
	json_t *node;
	json_array_foreach(nodes, i, node)
	{
		char seen[32], config[32];
		snprintf(seen, sizeof(seen), "%.1fs ago",
		         json_number_value(json_object_get(node, "last_seen_seconds")));
		snprintf(config, sizeof(config), "%lld files%s",
		         (long long)json_integer_value(json_object_get(node, "config_files")),
		         json_integer_value(json_object_get(node, "config_errors")) > 0 ? ", errors"
		                                                                        : "");
		printf("%-28s %-10s %-12s %-10s %-14s %-5s %-10s %s\n", str(node, "node_id"),
		       str(node, "cluster"), str(node, "role"),
		       str(node, "version")[0] ? str(node, "version") : "-", str(node, "state"),
		       json_is_true(json_object_get(node, "live")) ? "yes" : "NO", seen, config);
	}
	json_decref(nodes);
	return EXIT_OK;
}

static int cmd_events(const struct options *opt)
{
	char path[128];
	snprintf(path, sizeof(path), "/v1/events?since=%lld&limit=10000", opt->since);
	json_t *answer = api_get(opt, path);
	if (answer == NULL)
		return EXIT_ERROR;
	if (opt->json) {
		print_json(answer);
		json_decref(answer);
		return EXIT_OK;
	}
	size_t i;
	json_t *event;
	json_array_foreach(json_object_get(answer, "events"), i, event)
	{
		const char *type = str(event, "type");
		char what[1200];
		if (strcmp(type, "transition") == 0)
			snprintf(what, sizeof(what), "%s -> %s, active %s%s%s", str(event, "from"),
			         str(event, "to"), str(event, "active"),
			         str(event, "reason")[0] ? ": " : "", str(event, "reason"));
		else if (strcmp(type, "alert") == 0)
			snprintf(what, sizeof(what), "%s %s: %s", str(event, "severity"),
			         str(event, "name"), str(event, "summary"));
		else if (strcmp(type, "request") == 0)
			snprintf(what, sizeof(what), "%s %s%s%s", str(event, "request"),
			         str(event, "cluster"),
			         json_is_true(json_object_get(event, "force")) ? " (forced)" : "",
			         str(event, "reason")[0] ? "" : "");
		else if (strncmp(type, "lb-switch", 9) == 0)
			snprintf(what, sizeof(what), "%s%s%s", str(event, "cluster"),
			         json_is_false(json_object_get(event, "ok")) ? ": failed: " : "",
			         str(event, "error"));
		else if (strncmp(type, "finding-", 8) == 0)
			snprintf(what, sizeof(what), "%s: %s", str(event, "key"),
			         str(event, "summary"));
		else
			snprintf(what, sizeof(what), "%s", str(event, "version"));
		printf("%-6lld %s %s%-16s%s %s\n",
		       (long long)json_integer_value(json_object_get(event, "id")),
		       str(event, "time"), severity_color(opt, str(event, "severity")), type,
		       reset(opt), what);
	}
	json_decref(answer);
	return EXIT_OK;
}

static int cmd_keygen(const char *name)
{
	char err[512];
	if (curve_keypair_write(name, err, sizeof(err)) != 0) {
		fprintf(stderr, "trino-guardctl: %s\n", err);
		return EXIT_ERROR;
	}
	printf("wrote %s.pub and %s.key (mode 0600)\n", name, name);
	return EXIT_OK;
}

/* An agent config has an [agent] section; anything else is read as a collector's. */
static int cmd_check_config(const char *path)
{
	char *text = NULL;
	FILE *f = fopen(path, "r");
	if (f != NULL) {
		char line[512];
		while (fgets(line, sizeof(line), f) != NULL)
			if (strncmp(line, "[agent]", 7) == 0)
				text = "agent";
		fclose(f);
	}
	char err[1024];
	int rc;
	if (text != NULL) {
		struct agent_config config = {0};
		rc = agent_config_load(path, &config, err, sizeof(err));
		agent_config_free(&config);
	} else {
		struct collector_config config = {0};
		rc = collector_config_load(path, &config, err, sizeof(err));
		collector_config_free(&config);
	}
	if (rc != 0) {
		fprintf(stderr, "%s\n", err);
		return EXIT_ERROR;
	}
	printf("%s: OK (%s config)\n", path, text != NULL ? "agent" : "collector");
	return EXIT_OK;
}

int main(int argc, char **argv)
{
	struct options opt = {.url = "http://127.0.0.1:7601", .color = isatty(STDOUT_FILENO)};
	const char *command = NULL;
	const char *argument = NULL;
	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i];
		if (strcmp(arg, "--url") == 0 && i + 1 < argc) {
			opt.url = argv[++i];
		} else if (strcmp(arg, "--json") == 0) {
			opt.json = true;
		} else if (strcmp(arg, "--since") == 0 && i + 1 < argc) {
			char *end;
			opt.since = strtoll(argv[++i], &end, 10);
			if (*end != '\0' || opt.since < 0) {
				fprintf(stderr, "trino-guardctl: --since takes an event id\n");
				return EXIT_ERROR;
			}
		} else if (strcmp(arg, "--to") == 0 && i + 1 < argc) {
			opt.to = argv[++i];
		} else if (strcmp(arg, "--reason") == 0 && i + 1 < argc) {
			opt.reason = argv[++i];
		} else if (strcmp(arg, "--force") == 0) {
			opt.force = true;
		} else if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
			usage(stdout);
			return EXIT_OK;
		} else if (strcmp(arg, "--version") == 0) {
			printf("trino-guardctl %s\n", TG_VERSION);
			return EXIT_OK;
		} else if (arg[0] == '-') {
			fprintf(stderr, "trino-guardctl: unknown option %s\n", arg);
			usage(stderr);
			return EXIT_ERROR;
		} else if (command == NULL) {
			command = arg;
		} else if (argument == NULL) {
			argument = arg;
		} else {
			usage(stderr);
			return EXIT_ERROR;
		}
	}
	if (command == NULL) {
		usage(stderr);
		return EXIT_ERROR;
	}
	if (strcmp(command, "keygen") == 0 || strcmp(command, "check-config") == 0) {
		if (argument == NULL) {
			fprintf(stderr, "trino-guardctl: %s needs an argument\n", command);
			return EXIT_ERROR;
		}
		return strcmp(command, "keygen") == 0 ? cmd_keygen(argument)
		                                      : cmd_check_config(argument);
	}
	if (argument != NULL) {
		usage(stderr);
		return EXIT_ERROR;
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	int rc;
	if (strcmp(command, "status") == 0)
		rc = cmd_status(&opt);
	else if (strcmp(command, "nodes") == 0)
		rc = cmd_nodes(&opt);
	else if (strcmp(command, "events") == 0)
		rc = cmd_events(&opt);
	else if (strcmp(command, "cutover") == 0) {
		if (opt.to == NULL) {
			fprintf(stderr, "trino-guardctl: cutover needs --to CLUSTER\n");
			rc = EXIT_ERROR;
		} else {
			rc = api_post(&opt, "/v1/cutover",
			              json_pack("{s:s,s:b,s:s}", "to", opt.to, "force", opt.force,
			                        "reason",
			                        opt.reason ? opt.reason : "trino-guardctl"));
		}
	} else if (strcmp(command, "rollback") == 0)
		rc = api_post(&opt, "/v1/rollback",
		              json_pack("{s:b,s:s}", "force", opt.force, "reason",
		                        opt.reason ? opt.reason : "trino-guardctl"));
	else if (strcmp(command, "pause") == 0 || strcmp(command, "resume") == 0) {
		char path[32];
		snprintf(path, sizeof(path), "/v1/%s", command);
		rc = api_post(&opt, path, json_object());
	} else {
		fprintf(stderr, "trino-guardctl: unknown command '%s'\n", command);
		usage(stderr);
		rc = EXIT_ERROR;
	}
	curl_global_cleanup();
	return rc;
}
