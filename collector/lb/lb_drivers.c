/*
 * The load-balancer drivers, one row each (OpenSMTPD's table backends): a
 * driver is one file exporting one struct lb_driver_type; adding a driver is
 * that file and a row below. [lb] driver = NAME is looked up here by name.
 */
#include "lb_drivers.h"

#include <stdio.h>
#include <string.h>

#include "config.h"
#include "lb_exec.h"
#include "lb_gateway.h"
#include "lb_haproxy.h"
#include "lb_http.h"
#include "lb_none.h"

/* In the order [lb] driver lists them in its error message; none, the default, first. */
static const struct lb_driver_type *const lb_driver_types[] = {
        &lb_none_type, &lb_haproxy_type, &lb_exec_type, &lb_http_type, &lb_gateway_type,
};

#define LB_DRIVER_ROWS (sizeof(lb_driver_types) / sizeof(lb_driver_types[0]))

_Static_assert(LB_DRIVER_ROWS <= COLLECTOR_MAX_LB_DRIVERS,
               "collector_config keeps one section per row: raise COLLECTOR_MAX_LB_DRIVERS");

size_t lb_driver_type_count(void)
{
	return LB_DRIVER_ROWS;
}

const struct lb_driver_type *lb_driver_type_at(size_t row)
{
	return row < LB_DRIVER_ROWS ? lb_driver_types[row] : NULL;
}

const struct lb_driver_type *lb_driver_type_find(const char *name, size_t *row)
{
	for (size_t i = 0; name != NULL && i < LB_DRIVER_ROWS; i++) {
		if (strcmp(lb_driver_types[i]->name, name) != 0)
			continue;
		if (row != NULL)
			*row = i;
		return lb_driver_types[i];
	}
	return NULL;
}

void lb_driver_type_names(char *out, size_t out_len)
{
	size_t used = 0;
	out[0] = '\0';
	for (size_t i = 0; i < LB_DRIVER_ROWS && used < out_len; i++) {
		int n = snprintf(out + used, out_len - used, "%s%s", i > 0 ? "|" : "",
		                 lb_driver_types[i]->name);
		if (n < 0)
			return;
		used += (size_t)n;
	}
}

void lb_driver_section_name(const struct lb_driver_type *type, char *out, size_t out_len)
{
	snprintf(out, out_len, "lb.%s", type->name);
}

int lb_driver_check(const struct collector_config *config, const struct config_where *where,
                    int *line, char *why, size_t why_len)
{
	size_t row = 0;
	const struct lb_driver_type *type = lb_driver_type_find(config->lb.driver, &row);
	if (type == NULL) { /* refused already by the [lb] section's own check */
		*line = config_where_line(where, "lb", "driver");
		snprintf(why, why_len, "[lb] driver '%s' is no driver of this build",
		         config->lb.driver != NULL ? config->lb.driver : "(none)");
		return -1;
	}
	if (type->check == NULL)
		return 0;
	const char *clusters[COLLECTOR_MAX_CLUSTERS];
	for (size_t i = 0; i < config->cluster_count; i++)
		clusters[i] = config->clusters[i].name;
	struct lb_check_input input = {clusters, config->cluster_count};
	const char *key = NULL;
	int blame = 0;
	if (type->check(config->lb.sections[row], &input, &key, &blame, why, why_len) == 0)
		return 0;
	char section[64];
	lb_driver_section_name(type, section, sizeof(section));
	if (blame == 0 && key != NULL)
		blame = config_where_line(where, section, key);
	if (blame == 0)
		blame = config_where_line(where, section, NULL);
	if (blame == 0)
		blame = config_where_line(where, "lb", "driver");
	*line = blame;
	return -1;
}

int lb_driver_probe(const struct collector_config *config, char *why, size_t why_len)
{
	size_t row = 0;
	const struct lb_driver_type *type = lb_driver_type_find(config->lb.driver, &row);
	if (type == NULL || type->probe == NULL)
		return 0;
	return type->probe(config->lb.sections[row], config->lb.timeout_ms, why, why_len);
}

int lb_driver_from_config(struct event_base *base, const struct collector_config *config,
                          const struct lb_common *hooks, struct lb_driver *out, char *err,
                          size_t err_len)
{
	memset(out, 0, sizeof(*out));
	if (config->lb.driver == NULL)
		return 0; /* a config nobody loaded has no driver, as driver = none */
	const char *name = config->lb.driver;
	size_t row = 0;
	const struct lb_driver_type *type = lb_driver_type_find(name, &row);
	if (type == NULL) {
		snprintf(err, err_len, "[lb] driver '%s' is no driver of this build", name);
		return -1;
	}
	if (type->create == NULL)
		return 0;
	const void *section = config->lb.sections[row];
	if (type->keys != NULL && section == NULL) {
		snprintf(err, err_len, "[lb.%s] was not loaded", type->name);
		return -1;
	}
	struct lb_common common = {0};
	if (hooks != NULL)
		common = *hooks;
	common.timeout_ms = config->lb.timeout_ms;
	common.retries = (int)config->lb.retries;
	return type->create(base, section, &common, out, err, err_len);
}
