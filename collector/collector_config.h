/*
 * collector.ini: where reports come in, who may send them, where state is
 * kept, the HTTP API, and one [cluster.NAME] section per cluster.
 */
#ifndef TG_COLLECTOR_CONFIG_H
#define TG_COLLECTOR_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"

#define COLLECTOR_MAX_CLUSTERS    16
#define COLLECTOR_MAX_ALERT_SINKS 8

struct collector_section {
	char *listen;
	char *secret_key_file;
	char *allowed_keys_dir;
	char *state_dir;
	int64_t tick_ms;
	char *environment;
	bool curve;
	char *initial_active;
	int64_t forget_after_ms;
	int64_t journal_max_bytes;
	int log_level;
};

struct api_section {
	char *listen; /* host:port */
	char *token_file;
	char *public_url; /* how people reach this API; alerts link to its /v1/status */
};

struct cluster_section {
	char name[64];
	int64_t min_workers;
	int64_t stale_after_ms;
	int64_t down_grace_ms;
};

struct watch_section {
	int64_t duration_ms;
	int64_t window_ms;
	double max_failure_ratio;
	double baseline_factor;
	int64_t baseline_window_ms;
	double detect_factor;
	double evidence_threshold;
	struct config_list failure_types;
	unsigned failure_type_bits; /* from failure_types, set by the loader */
	double user_error_factor;
	int64_t sustain_ms;
	bool dry_run;
};

enum lb_driver_kind {
	LB_DRIVER_NONE,
	LB_DRIVER_HAPROXY,
	LB_DRIVER_EXEC,
	LB_DRIVER_HTTP,
	LB_DRIVER_GATEWAY,
};

struct lb_section {
	int driver; /* enum lb_driver_kind */
	int64_t timeout_ms;
	int64_t retries;
	int64_t poll_ms; /* how often the LB's current target is read */
};

struct lb_haproxy_section {
	struct config_list sockets;
	char *map_file;
	char *key;
	struct config_pairs backends; /* backend.CLUSTER = haproxy backend */
};

struct lb_exec_section {
	char *switch_command;  /* with {cluster} */
	char *current_command; /* prints the cluster; optional */
};

struct lb_http_section {
	char *switch_method;
	char *switch_url;
	char *switch_body;
	struct config_pairs headers; /* header.NAME = value */
	int64_t switch_expect;
	char *current_url;
	char *current_json;
};

struct lb_gateway_section {
	char *url;
	struct config_pairs backends; /* backend.CLUSTER = gateway backend name */
	char *authorization_file;     /* holds "Basic ..." or "Bearer ..." */
	int64_t healthy_timeout_ms;
	int64_t health_poll_ms;
};

enum alert_sink_type {
	ALERT_SINK_AUTO, /* from the section's name */
	ALERT_SINK_PAGERDUTY,
	ALERT_SINK_ALERTMANAGER,
	ALERT_SINK_SLACK,
	ALERT_SINK_WEBHOOK,
	ALERT_SINK_LOG,
};

struct alert_section {
	char name[64];
	int type;         /* enum alert_sink_type; never AUTO after loading */
	int min_severity; /* enum severity */
	char *url;
	char *routing_key_file;      /* pagerduty */
	char *webhook_url_file;      /* slack */
	struct config_pairs headers; /* header.NAME = value (webhook) */
	char *source;                /* pagerduty payload.source; the host name when unset */
	char *component;
	int64_t resend_ms; /* alertmanager */
	int64_t timeout_ms;
	int64_t max_queued;
};

struct alerts_section {
	struct config_pairs for_rules; /* for.RULE = duration */
};

struct collector_config {
	struct collector_section collector;
	struct api_section api;
	struct watch_section watch;
	struct lb_section lb;
	struct lb_haproxy_section lb_haproxy;
	struct lb_exec_section lb_exec;
	struct lb_http_section lb_http;
	struct lb_gateway_section lb_gateway;
	struct cluster_section clusters[COLLECTOR_MAX_CLUSTERS];
	size_t cluster_count;
	struct alerts_section alerting; /* [alerts]: what applies to every sink */
	struct alert_section alerts[COLLECTOR_MAX_ALERT_SINKS];
	size_t alert_count;
};

extern const struct config_schema collector_config_schema;

/* Loads and checks PATH. 0, or -1 with "FILE:LINE: why" (or "FILE: why") in ERR. */
int collector_config_load(const char *path, struct collector_config *config, char *err,
                          size_t err_len);
void collector_config_free(struct collector_config *config);

/* Splits "host:port" ("[::1]:7601" too). 0, or -1. */
int collector_parse_host_port(const char *text, char *host, size_t host_len, int *port);

#endif
