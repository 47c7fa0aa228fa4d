/*
 * The collector's config table and its checks: CURVE needs a secret key and
 * an allow-list dir; an API reachable from other hosts needs a token; the
 * [lb] driver is a row of the driver table, which brings its [lb.NAME]
 * section and its check (collector/lb/lb_drivers.c); [ha] and [alert.NAME]
 * are files of their own (collector_config_ha.c, collector_config_alert.c).
 */
#include "collector_config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collector_config_alert.h"
#include "collector_config_ha.h"
#include "config_diff.h"
#include "duration.h"
#include "failure_ratio.h"
#include "findings.h"
#include "lb_drivers.h"
#include "log.h"

#define KEY(section, name, type, field, required, def)                                             \
	{                                                                                          \
		name, type, offsetof(struct section, field), required, def, 0, 0, NULL             \
	}

static const struct config_key collector_keys[] = {
        KEY(collector_section, "listen", CONFIG_STRING, listen, false, "tcp://0.0.0.0:7600"),
        KEY(collector_section, "secret_key_file", CONFIG_PATH, secret_key_file, false, NULL),
        KEY(collector_section, "allowed_keys_dir", CONFIG_PATH, allowed_keys_dir, false, NULL),
        KEY(collector_section, "state_dir", CONFIG_PATH, state_dir, false, "/var/lib/trino-guard"),
        {"tick", CONFIG_DURATION, offsetof(struct collector_section, tick_ms), false, "250ms", 10,
         60000, NULL},
        KEY(collector_section, "environment", CONFIG_STRING, environment, false, "production"),
        KEY(collector_section, "curve", CONFIG_BOOL, curve, false, "on"),
        KEY(collector_section, "initial_active", CONFIG_STRING, initial_active, false, NULL),
        {"forget_after", CONFIG_DURATION, offsetof(struct collector_section, forget_after_ms),
         false, "1h", 60000, 30LL * 86400000, NULL},
        {"absent_after", CONFIG_DURATION, offsetof(struct collector_section, absent_after_ms),
         false, "2m", 0, 86400000, NULL},
        {"journal_max_bytes", CONFIG_SIZE, offsetof(struct collector_section, journal_max_bytes),
         false, "64MiB", 65536, 1e12, NULL},
        {"log_level", CONFIG_CHOICE, offsetof(struct collector_section, log_level), false, "info",
         0, 0, log_level_names},
        {"max_reports_per_second", CONFIG_INT,
         offsetof(struct collector_section, max_reports_per_second), false, "20", 1, 10000, NULL},
};

static const struct config_key api_keys[] = {
        KEY(api_section, "listen", CONFIG_STRING, listen, false, "127.0.0.1:7601"),
        KEY(api_section, "token_file", CONFIG_PATH, token_file, false, NULL),
        KEY(api_section, "public_url", CONFIG_STRING, public_url, false, NULL),
        {"max_connections", CONFIG_INT, offsetof(struct api_section, max_connections), false, "64",
         1, 10000, NULL},
        {"request_timeout", CONFIG_DURATION, offsetof(struct api_section, request_timeout_ms),
         false, "10s", 1000, 600000, NULL},
};

static const struct config_key watch_keys[] = {
        {"duration", CONFIG_DURATION, offsetof(struct watch_section, duration_ms), false, "30m",
         1000, 7 * 86400000LL, NULL},
        {"window", CONFIG_DURATION, offsetof(struct watch_section, window_ms), false, "60s", 1000,
         3600000, NULL},
        {"max_failure_ratio", CONFIG_DOUBLE, offsetof(struct watch_section, max_failure_ratio),
         false, "0.05", 0.0001, 0.9, NULL},
        {"baseline_factor", CONFIG_DOUBLE, offsetof(struct watch_section, baseline_factor), false,
         "3", 1, 100, NULL},
        {"baseline_window", CONFIG_DURATION, offsetof(struct watch_section, baseline_window_ms),
         false, "15m", 60000, 86400000, NULL},
        {"detect_factor", CONFIG_DOUBLE, offsetof(struct watch_section, detect_factor), false, "2",
         1.1, 100, NULL},
        {"evidence_threshold", CONFIG_DOUBLE, offsetof(struct watch_section, evidence_threshold),
         false, "15", 1, 1000, NULL},
        {"failure_types", CONFIG_LIST, offsetof(struct watch_section, failure_types), false,
         "internal, external, insufficient_resources", 0, 0, NULL},
        {"user_error_factor", CONFIG_DOUBLE, offsetof(struct watch_section, user_error_factor),
         false, "3", 0, 100, NULL},
        {"sustain", CONFIG_DURATION, offsetof(struct watch_section, sustain_ms), false, "5s", 0,
         600000, NULL},
        {"dry_run", CONFIG_BOOL, offsetof(struct watch_section, dry_run), false, "false", 0, 0,
         NULL},
        {"drain_quiet", CONFIG_DURATION, offsetof(struct watch_section, drain_quiet_ms), false,
         "0s", 0, 86400000, NULL},
        KEY(watch_section, "drain_shutdown_command", CONFIG_STRING, drain_shutdown_command, false,
            NULL),
        {"drain_shutdown_timeout", CONFIG_DURATION,
         offsetof(struct watch_section, drain_shutdown_timeout_ms), false, "60s", 1000, 3600000,
         NULL},
        {"loss_settle", CONFIG_DURATION, offsetof(struct watch_section, loss_settle_ms), false,
         "6m", 1000, 86400000, NULL},
};

static const struct config_key lb_keys[] = {
        KEY(lb_section, "driver", CONFIG_STRING, driver, false, "none"),
        {"timeout", CONFIG_DURATION, offsetof(struct lb_section, timeout_ms), false, "2s", 100,
         60000, NULL},
        {"retries", CONFIG_INT, offsetof(struct lb_section, retries), false, "3", 0, 10, NULL},
        {"poll", CONFIG_DURATION, offsetof(struct lb_section, poll_ms), false, "1s", 100, 60000,
         NULL},
        {"health_grace", CONFIG_DURATION, offsetof(struct lb_section, health_grace_ms), false, "3m",
         0, 3600000, NULL},
};

/* The driver is a row of the table; the choice is the table's names. */
static int validate_lb(void *object, const char **key, char *why, size_t why_len)
{
	const struct lb_section *lb = object;
	if (lb_driver_type_find(lb->driver, NULL) != NULL)
		return 0;
	char names[256];
	lb_driver_type_names(names, sizeof(names));
	*key = "driver";
	snprintf(why, why_len, "driver: '%s' is not one of %s", lb->driver, names);
	return -1;
}

static int validate_watch(void *object, const char **key, char *why, size_t why_len)
{
	struct watch_section *w = object;
	w->failure_type_bits = 0;
	for (size_t i = 0; i < w->failure_types.count; i++) {
		unsigned type = failure_type_parse(w->failure_types.items[i]);
		w->failure_type_bits |= type;
		if (type == 0) {
			*key = "failure_types";
			snprintf(why, why_len,
			         "failure_types: '%s' is not internal, external, "
			         "insufficient_resources or user_error",
			         w->failure_types.items[i]);
			return -1;
		}
	}
	if (w->failure_type_bits == 0) {
		*key = "failure_types";
		snprintf(why, why_len, "failure_types names no failure type");
		return -1;
	}
	if (w->drain_shutdown_command != NULL && w->drain_quiet_ms == 0) {
		/* without the gate, stable does not wait for the old cluster's queries */
		*key = "drain_shutdown_command";
		snprintf(why, why_len, "drain_shutdown_command needs drain_quiet (the drain gate)");
		return -1;
	}
	if (w->drain_shutdown_command != NULL &&
	    strstr(w->drain_shutdown_command, "{cluster}") == NULL) {
		*key = "drain_shutdown_command";
		snprintf(why, why_len, "drain_shutdown_command must contain {cluster}");
		return -1;
	}
	return 0;
}

static const struct config_key cluster_keys[] = {
        {"min_workers", CONFIG_INT, offsetof(struct cluster_section, min_workers), false, "1", 0,
         100000, NULL},
        {"stale_after", CONFIG_DURATION, offsetof(struct cluster_section, stale_after_ms), false,
         NULL, 100, 3600000, NULL},
        {"down_grace", CONFIG_DURATION, offsetof(struct cluster_section, down_grace_ms), false,
         "10s", 0, 3600000, NULL},
};

static int validate_collector(void *object, const char **key, char *why, size_t why_len)
{
	struct collector_section *c = object;
	if (strncmp(c->listen, "tcp://", 6) != 0 && strncmp(c->listen, "ipc://", 6) != 0) {
		*key = "listen";
		snprintf(why, why_len, "listen '%s' must start with tcp:// or ipc://", c->listen);
		return -1;
	}
	if (c->curve && (c->secret_key_file == NULL || c->allowed_keys_dir == NULL)) {
		*key = "curve";
		snprintf(why, why_len,
		         "%s is required with curve on (or set curve = off to accept anyone)",
		         c->secret_key_file == NULL ? "secret_key_file" : "allowed_keys_dir");
		return -1;
	}
	if (c->environment[0] == '\0' || strpbrk(c->environment, "/ \t") != NULL) {
		*key = "environment";
		snprintf(why, why_len, "environment must be a word without '/' or spaces");
		return -1;
	}
	return 0;
}

int collector_parse_host_port(const char *text, char *host, size_t host_len, int *port)
{
	const char *colon = strrchr(text, ':');
	if (colon == NULL || colon == text)
		return -1;
	const char *start = text, *end = colon;
	if (*start == '[' && end[-1] == ']') {
		start++;
		end--;
	}
	if ((size_t)(end - start) >= host_len)
		return -1;
	memcpy(host, start, (size_t)(end - start));
	host[end - start] = '\0';
	char *stop;
	long value = strtol(colon + 1, &stop, 10);
	if (*stop != '\0' || value < 0 || value > 65535 || colon[1] == '\0')
		return -1;
	*port = (int)value;
	return 0;
}

/*
 * Only a literal loopback address (127.0.0.0/8, ::1) or the name localhost:
 * a host name such as 127.example.com is whatever DNS says, so it is not
 * loopback however it begins. inet_pton takes the dotted quad only (no
 * "127.1" shorthand, no trailing text).
 */
static bool loopback(const char *host)
{
	struct in_addr v4;
	struct in6_addr v6;
	if (strcmp(host, "localhost") == 0)
		return true;
	if (inet_pton(AF_INET, host, &v4) == 1)
		return (ntohl(v4.s_addr) >> 24) == 127;
	return inet_pton(AF_INET6, host, &v6) == 1 && IN6_IS_ADDR_LOOPBACK(&v6);
}

static int validate_api(void *object, const char **key, char *why, size_t why_len)
{
	struct api_section *api = object;
	char host[256];
	int port;
	if (collector_parse_host_port(api->listen, host, sizeof(host), &port) != 0) {
		*key = "listen";
		snprintf(why, why_len, "listen '%s' is not host:port", api->listen);
		return -1;
	}
	if (!loopback(host) && api->token_file == NULL) {
		*key = "listen";
		snprintf(why, why_len,
		         "listening on %s (not loopback) requires token_file: the API can move "
		         "production traffic",
		         host);
		return -1;
	}
	return 0;
}

static void *cluster_instance(void *target, const char *name, char *err, size_t err_len)
{
	struct collector_config *config = target;
	if (config->cluster_count == COLLECTOR_MAX_CLUSTERS) {
		snprintf(err, err_len, "at most %d clusters", COLLECTOR_MAX_CLUSTERS);
		return NULL;
	}
	if (strlen(name) >= sizeof(config->clusters[0].name) ||
	    strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") !=
	            strlen(name)) {
		snprintf(err, err_len,
		         "a cluster name uses letters, digits, '-', '_' and '.' (at most 63)");
		return NULL;
	}
	struct cluster_section *cluster = &config->clusters[config->cluster_count++];
	memset(cluster, 0, sizeof(*cluster));
	snprintf(cluster->name, sizeof(cluster->name), "%s", name);
	return cluster;
}

static const struct config_key alerting_keys[] = {
        KEY(alerts_section, "for", CONFIG_KEYED, for_rules, false, NULL),
        KEY(alerts_section, "runbook_url", CONFIG_STRING, runbook_url, false, NULL),
};

/*
 * Every for.RULE is a duration, parsed here once into the table by finding
 * kind. A RULE that names no finding holds nothing back (as it always did).
 * Two rules are held by default, because a single node restarting (a rolling
 * restart, a worker replaced by its autoscaler) opens them for a minute and
 * pages nobody's business: cluster-incomplete and trino-down. The watched
 * cluster's degradation test reads the findings, not the pages, so it still
 * sees them at once. for.RULE = 0s pages them at once.
 */
static int validate_alerting(void *object, const char **key, char *why, size_t why_len)
{
	struct alerts_section *a = object;
	memset(a->for_delay_ms, 0, sizeof(a->for_delay_ms));
	a->for_delay_ms[FINDING_CLUSTER_INCOMPLETE] = COLLECTOR_DEFAULT_HOLD_MS;
	a->for_delay_ms[FINDING_TRINO_DOWN] = COLLECTOR_DEFAULT_HOLD_MS;
	for (size_t i = 0; i < a->for_rules.count; i++) {
		const struct config_pair *rule = &a->for_rules.items[i];
		int64_t ms;
		char err[128];
		if (duration_parse_ms(rule->value, &ms, err, sizeof(err)) != 0 || ms < 0) {
			*key = "for";
			snprintf(why, why_len, "for.%s: %s", rule->name, err);
			return -1;
		}
		enum finding_kind kind;
		if (finding_kind_parse(rule->name, &kind) == 0)
			a->for_delay_ms[kind] = ms;
	}
	return 0;
}

static void *cluster_at(void *target, size_t index)
{
	struct collector_config *config = target;
	return index < config->cluster_count ? &config->clusters[index] : NULL;
}

#define SECTION(section_name, field, key_table, check)                                             \
	{                                                                                          \
		.name = (section_name), .keys = (key_table),                                       \
		.key_count = sizeof(key_table) / sizeof((key_table)[0]),                           \
		.offset = offsetof(struct collector_config, field), .validate = (check)            \
	}

static const struct config_section fixed_sections[] = {
        SECTION("collector", collector, collector_keys, validate_collector),
        SECTION("api", api, api_keys, validate_api),
        SECTION("watch", watch, watch_keys, validate_watch),
        {.name = "ha",
         .keys = collector_config_ha_keys,
         .key_count = COLLECTOR_CONFIG_HA_KEY_COUNT,
         .offset = offsetof(struct collector_config, ha),
         .validate = collector_config_ha_validate},
        SECTION("lb", lb, lb_keys, validate_lb),
        {.name = "cluster.",
         .is_family = true,
         .keys = cluster_keys,
         .key_count = sizeof(cluster_keys) / sizeof(cluster_keys[0]),
         .instance = cluster_instance,
         .instance_at = cluster_at},
        SECTION("alerts", alerting, alerting_keys, validate_alerting),
        {.name = "alert.",
         .is_family = true,
         .keys = collector_config_alert_keys,
         .key_count = COLLECTOR_CONFIG_ALERT_KEY_COUNT,
         .instance = collector_config_alert_instance,
         .instance_at = collector_config_alert_at,
         .validate = collector_config_alert_validate},
};

#define FIXED_SECTIONS (sizeof(fixed_sections) / sizeof(fixed_sections[0]))

/*
 * The rules that span sections, in the order they are reported: clusters
 * to guard, the chosen driver's own check, [ha] with endpoints,
 * initial_active among them.
 */
static int check_collector(void *target, const struct config_where *where, int *line, char *why,
                           size_t why_len)
{
	const struct collector_config *config = target;
	if (config->cluster_count == 0) {
		snprintf(why, why_len,
		         "no [cluster.NAME] section: name the clusters to guard "
		         "(e.g. [cluster.blue] and [cluster.green])");
		return -1;
	}
	if (lb_driver_check(config, where, line, why, why_len) != 0)
		return -1;
	if (collector_config_ha_check(config, where, line, why, why_len) != 0)
		return -1;
	const char *active = config->collector.initial_active;
	if (active != NULL) {
		bool found = false;
		for (size_t i = 0; i < config->cluster_count; i++)
			found = found || strcmp(config->clusters[i].name, active) == 0;
		if (!found) {
			snprintf(why, why_len,
			         "[collector] initial_active '%s' is not a [cluster.NAME] section",
			         active);
			return -1;
		}
	}
	return 0;
}

/*
 * The schema: the fixed sections, then one [lb.NAME] per row of the driver
 * table with the driver's keys, its struct allocated by the loader into
 * lb.sections[row]. Built for each load and free, on the caller's stack: the
 * rows are other files' constants, which a static initializer cannot read.
 */
struct collector_schema {
	struct config_section sections[FIXED_SECTIONS + COLLECTOR_MAX_LB_DRIVERS];
	char lb_names[COLLECTOR_MAX_LB_DRIVERS][64];
	struct config_schema schema;
};

static void collector_schema_build(struct collector_schema *s)
{
	size_t count = 0;
	for (size_t i = 0; i < FIXED_SECTIONS; i++)
		s->sections[count++] = fixed_sections[i];
	for (size_t row = 0; row < lb_driver_type_count(); row++) {
		const struct lb_driver_type *type = lb_driver_type_at(row);
		if (type->keys == NULL)
			continue; /* none: no section */
		lb_driver_section_name(type, s->lb_names[row], sizeof(s->lb_names[row]));
		s->sections[count++] = (struct config_section){
		        .name = s->lb_names[row],
		        .keys = type->keys,
		        .key_count = type->key_count,
		        .offset = offsetof(struct collector_config, lb.sections) +
		                  row * sizeof(void *),
		        .size = type->section_size,
		};
	}
	s->schema = (struct config_schema){
	        .sections = s->sections, .section_count = count, .check = check_collector};
}

int collector_config_load(const char *path, struct collector_config *config, char *err,
                          size_t err_len)
{
	struct collector_schema schema;
	collector_schema_build(&schema);
	return config_load(&schema.schema, path, config, err, err_len);
}

void collector_config_free(struct collector_config *config)
{
	struct collector_schema schema;
	collector_schema_build(&schema);
	config_free(&schema.schema, config);
}

/* The name of a [cluster.NAME] or [alert.NAME] instance: both structs begin with it. */
static const char *instance_name(const struct config_section *section, const void *instance)
{
	if (section->instance_at == cluster_at)
		return ((const struct cluster_section *)instance)->name;
	return ((const struct alert_section *)instance)->name;
}

static void *instance_named(const struct config_section *section, void *target, const char *name)
{
	void *instance;
	for (size_t i = 0; (instance = section->instance_at(target, i)) != NULL; i++)
		if (strcmp(instance_name(section, instance), name) == 0)
			return instance;
	return NULL;
}

static size_t diff_keys(const struct config_section *section, const char *name, const void *old,
                        const void *next, collector_config_change_fn on_change, void *ctx)
{
	size_t changes = 0;
	for (size_t k = 0; k < section->key_count; k++) {
		if (!config_key_differs(&section->keys[k], old, next))
			continue;
		on_change(name, section->keys[k].name, ctx);
		changes++;
	}
	return changes;
}

/* Instances by name: changed keys of those in both, then those only one has. */
static size_t diff_family(const struct config_section *section, struct collector_config *old,
                          struct collector_config *next, collector_config_change_fn on_change,
                          void *ctx)
{
	size_t changes = 0;
	char name[128];
	void *instance;
	for (size_t i = 0; (instance = section->instance_at(old, i)) != NULL; i++) {
		snprintf(name, sizeof(name), "%s%s", section->name,
		         instance_name(section, instance));
		void *other = instance_named(section, next, instance_name(section, instance));
		if (other != NULL) {
			changes += diff_keys(section, name, instance, other, on_change, ctx);
		} else {
			on_change(name, NULL, ctx);
			changes++;
		}
	}
	for (size_t i = 0; (instance = section->instance_at(next, i)) != NULL; i++) {
		if (instance_named(section, old, instance_name(section, instance)) != NULL)
			continue;
		snprintf(name, sizeof(name), "%s%s", section->name,
		         instance_name(section, instance));
		on_change(name, NULL, ctx);
		changes++;
	}
	return changes;
}

size_t collector_config_diff(const struct collector_config *old,
                             const struct collector_config *next,
                             collector_config_change_fn on_change, void *ctx)
{
	struct collector_schema schema;
	collector_schema_build(&schema);
	/* read only; the family iterators take the targets as writable */
	struct collector_config *a = (struct collector_config *)old;
	struct collector_config *b = (struct collector_config *)next;
	size_t changes = 0;
	for (size_t i = 0; i < schema.schema.section_count; i++) {
		const struct config_section *section = &schema.sections[i];
		if (section->is_family) {
			changes += diff_family(section, a, b, on_change, ctx);
			continue;
		}
		const void *x = (const char *)a + section->offset;
		const void *y = (const char *)b + section->offset;
		if (section->size != 0) { /* a driver's own struct, through its pointer */
			x = *(void *const *)x;
			y = *(void *const *)y;
			if (x == NULL || y == NULL)
				continue;
		}
		changes += diff_keys(section, section->name, x, y, on_change, ctx);
	}
	return changes;
}
