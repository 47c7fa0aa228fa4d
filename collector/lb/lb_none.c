/*
 * The [lb.none] section: its keys, their check, and the read-only driver
 * built from them (an exec or http driver without a switch, so the reading
 * is theirs: its own process group and timeout, or the curl-multi client).
 */
#include "lb_none.h"

#include <stdio.h>
#include <string.h>

#include "config.h"
#include "lb_drivers.h"
#include "lb_exec.h"
#include "lb_http.h"
#include "lb_probe.h"

/* [lb.none] as the loader fills it. */
struct lb_none_section {
	char *current_command; /* prints the cluster the LB points at; optional */
	char *current_url;     /* answers it; optional, not with current_command */
	char *current_json;    /* where in current_url's JSON; NULL: the whole body */
	int64_t current_timeout_ms;
	int64_t traffic_queries; /* 0: the traffic is no evidence */
	int64_t traffic_quiet_ms;
};

static const struct config_key none_keys[] = {
        {"current_command", CONFIG_STRING, offsetof(struct lb_none_section, current_command), false,
         NULL, 0, 0, NULL},
        {"current_url", CONFIG_STRING, offsetof(struct lb_none_section, current_url), false, NULL,
         0, 0, NULL},
        {"current_json", CONFIG_STRING, offsetof(struct lb_none_section, current_json), false, NULL,
         0, 0, NULL},
        {"current_timeout", CONFIG_DURATION, offsetof(struct lb_none_section, current_timeout_ms),
         false, "10s", 100, 3600000, NULL},
        {"traffic_queries", CONFIG_INT, offsetof(struct lb_none_section, traffic_queries), false,
         "20", 0, 1000000000, NULL},
        {"traffic_quiet", CONFIG_DURATION, offsetof(struct lb_none_section, traffic_quiet_ms),
         false, "1m", 1000, 86400000, NULL},
};

/* One probe at most, and current_json only with current_url. */
static int none_check(const void *section, const struct lb_check_input *input, const char **key,
                      int *line, char *why, size_t why_len)
{
	(void)input;
	(void)line;
	const struct lb_none_section *n = section;
	if (n->current_command != NULL && n->current_url != NULL) {
		*key = "current_url";
		snprintf(why, why_len,
		         "[lb.none] current_command and current_url: give one way to read the LB");
		return -1;
	}
	if (n->current_json != NULL && n->current_url == NULL) {
		*key = "current_json";
		snprintf(why, why_len, "[lb.none] current_json needs current_url");
		return -1;
	}
	return 0;
}

/* The probe's program can be run, or its URL's host and port accept a connection. */
static int none_probe(const void *section, int64_t timeout_ms, char *why, size_t why_len)
{
	const struct lb_none_section *n = section;
	char reason[512];
	if (n->current_command != NULL &&
	    lb_probe_command(n->current_command, reason, sizeof(reason)) != 0) {
		snprintf(why, why_len, "[lb.none] current_command: %s", reason);
		return -1;
	}
	if (n->current_url != NULL &&
	    lb_probe_url(n->current_url, timeout_ms, reason, sizeof(reason)) != 0) {
		snprintf(why, why_len, "[lb.none] current_url: %s", reason);
		return -1;
	}
	return 0;
}

/* No probe: no driver at all (OUT stays empty); else a reader that cannot switch. */
static int none_create(struct event_base *base, const void *section, const struct lb_common *common,
                       struct lb_driver *out, char *err, size_t err_len)
{
	(void)common; /* [lb] timeout and retries are a switch's; a reading has its own */
	const struct lb_none_section *n = section;
	if (n->current_command != NULL) {
		struct lb_exec_settings s = {.current_command = n->current_command,
		                             .current_timeout_ms = n->current_timeout_ms};
		struct lb_exec *exec = lb_exec_new(base, &s, err, err_len);
		if (exec == NULL)
			return -1;
		*out = lb_exec_driver(exec);
	} else if (n->current_url != NULL) {
		struct lb_http_settings s = {.current_url = n->current_url,
		                             .current_json = n->current_json,
		                             .timeout_ms = n->current_timeout_ms};
		struct lb_http *http = lb_http_new(base, &s, err, err_len);
		if (http == NULL)
			return -1;
		*out = lb_http_driver(http);
	}
	return 0;
}

const struct lb_driver_type lb_none_type = {
        .name = "none",
        .keys = none_keys,
        .key_count = sizeof(none_keys) / sizeof(none_keys[0]),
        .section_size = sizeof(struct lb_none_section),
        .check = none_check,
        .probe = none_probe,
        .create = none_create,
};

void lb_none_traffic(const struct collector_config *config, struct traffic_shift_settings *out)
{
	size_t row = 0;
	const struct lb_none_section *n = NULL;
	if (lb_driver_type_find(lb_none_type.name, &row) != NULL)
		n = config->lb.sections[row];
	out->min_queries = n != NULL ? (uint64_t)n->traffic_queries : 0;
	out->quiet_ms = n != NULL ? n->traffic_quiet_ms : 0;
}
