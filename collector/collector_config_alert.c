/*
 * collector.ini's [alert.NAME] sections: the keys of struct alert_section,
 * the instances of the family, and each sink's check (its type's required
 * keys, an http(s) url, headers that can be made, the header files read).
 */
#include "collector_config_alert.h"

#include <stdio.h>
#include <string.h>

#include "alert_sinks.h"
#include "findings.h"
#include "request_headers.h"

const struct config_key collector_config_alert_keys[] = {
        {"type", CONFIG_CHOICE, offsetof(struct alert_section, type), false, "auto", 0, 0,
         alert_sink_type_names},
        {"min_severity", CONFIG_CHOICE, offsetof(struct alert_section, min_severity), false,
         "warning", 0, 0, severity_names},
        {"url", CONFIG_STRING, offsetof(struct alert_section, url), false, NULL, 0, 0, NULL},
        {"routing_key_file", CONFIG_PATH, offsetof(struct alert_section, routing_key_file), false,
         NULL, 0, 0, NULL},
        {"webhook_url_file", CONFIG_PATH, offsetof(struct alert_section, webhook_url_file), false,
         NULL, 0, 0, NULL},
        {"header", CONFIG_KEYED, offsetof(struct alert_section, headers), false, NULL, 0, 0, NULL},
        {"header_file", CONFIG_KEYED, offsetof(struct alert_section, header_files), false, NULL, 0,
         0, NULL},
        {"source", CONFIG_STRING, offsetof(struct alert_section, source), false, NULL, 0, 0, NULL},
        {"component", CONFIG_STRING, offsetof(struct alert_section, component), false, "trino", 0,
         0, NULL},
        {"resend", CONFIG_DURATION, offsetof(struct alert_section, resend_ms), false, "60s", 1000,
         3600000, NULL},
        {"timeout", CONFIG_DURATION, offsetof(struct alert_section, timeout_ms), false, "10s", 100,
         120000, NULL},
        {"max_queued", CONFIG_INT, offsetof(struct alert_section, max_queued), false, "10000", 1,
         1000000, NULL},
};

_Static_assert(sizeof(collector_config_alert_keys) / sizeof(collector_config_alert_keys[0]) ==
                       COLLECTOR_CONFIG_ALERT_KEY_COUNT,
               "COLLECTOR_CONFIG_ALERT_KEY_COUNT is the rows of collector_config_alert_keys");

void *collector_config_alert_instance(void *target, const char *name, char *err, size_t err_len)
{
	struct collector_config *config = target;
	for (size_t i = 0; i < config->alert_count; i++) {
		if (strcmp(config->alerts[i].name, name) == 0)
			return &config->alerts[i];
	}
	if (config->alert_count == COLLECTOR_MAX_ALERT_SINKS) {
		snprintf(err, err_len, "at most %d [alert.NAME] sections",
		         COLLECTOR_MAX_ALERT_SINKS);
		return NULL;
	}
	if (strlen(name) >= sizeof(config->alerts[0].name) ||
	    strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_") !=
	            strlen(name)) {
		snprintf(err, err_len, "an alert sink name uses letters, digits, '-' and '_'");
		return NULL;
	}
	struct alert_section *alert = &config->alerts[config->alert_count++];
	memset(alert, 0, sizeof(*alert));
	snprintf(alert->name, sizeof(alert->name), "%s", name);
	return alert;
}

void *collector_config_alert_at(void *target, size_t index)
{
	struct collector_config *config = target;
	return index < config->alert_count ? &config->alerts[index] : NULL;
}

/*
 * The headers can be made: their count, no NAME twice, and every
 * header_file read (at load, so at SIGHUP too) and refused with its line.
 */
static int check_alert_headers(const struct alert_section *a, const char **key, char *why,
                               size_t why_len)
{
	struct request_headers headers;
	int line = 0;
	if (request_headers_read(&a->headers, &a->header_files, &headers, &line, why, why_len) ==
	    0) {
		request_headers_free(&headers);
		return 0;
	}
	/* the loader blames "KIND.NAME" at its pair's line; it reads the name at once */
	static char blamed[160];
	const struct config_pairs *kinds[2] = {&a->headers, &a->header_files};
	const char *names[2] = {"header", "header_file"};
	for (size_t k = 0; k < 2; k++)
		for (size_t i = 0; i < kinds[k]->count; i++)
			if (kinds[k]->items[i].line == line) {
				snprintf(blamed, sizeof(blamed), "%s.%s", names[k],
				         kinds[k]->items[i].name);
				*key = blamed;
			}
	return -1;
}

/*
 * The type from the name when none is given; then the keys its type needs
 * (its row says) and the keys every sink may have.
 */
int collector_config_alert_validate(void *object, const char **key, char *why, size_t why_len)
{
	struct alert_section *a = object;
	if (a->type == ALERT_SINK_AUTO)
		a->type = alert_sink_type_named(a->name);
	const struct alert_sink_backend *backend = alert_sink_backend(a->type);
	if (backend == NULL) {
		snprintf(why, why_len,
		         "needs type = pagerduty, alertmanager, slack, webhook or log (or a "
		         "section name that is one of them)");
		return -1;
	}
	if (backend->check != NULL && backend->check(a, key, why, why_len) != 0)
		return -1;
	if (a->url != NULL && strncmp(a->url, "http://", 7) != 0 &&
	    strncmp(a->url, "https://", 8) != 0) {
		*key = "url";
		snprintf(why, why_len, "url must start with http:// or https://");
		return -1;
	}
	return check_alert_headers(a, key, why, why_len);
}
