/*
 * collector.ini: where reports come in, who may send them, where state is
 * kept, the HTTP API, the load balancer ([lb] and the driver's [lb.NAME]),
 * alerting, and one [cluster.NAME] section per cluster.
 */
#ifndef TG_COLLECTOR_CONFIG_H
#define TG_COLLECTOR_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "findings.h"

#define COLLECTOR_MAX_CLUSTERS 16
/* [alerts] for.cluster-incomplete and for.trino-down unless set */
#define COLLECTOR_DEFAULT_HOLD_MS    60000
#define COLLECTOR_MAX_ALERT_SINKS    8
#define COLLECTOR_MAX_LB_DRIVERS     16 /* rows of the driver table (lb_drivers.c) */
#define COLLECTOR_MAX_ETCD_ENDPOINTS 8

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
	int64_t absent_after_ms; /* users on a cluster not heard from since start: a warning then */
	int64_t journal_max_bytes;
	int log_level;
	int64_t max_reports_per_second; /* per agent key; more are rejected as rate_limited */
};

struct api_section {
	char *listen; /* host:port */
	char *token_file;
	char *public_url;           /* how people reach this API; alerts link to its /v1/status */
	int64_t max_connections;    /* open API connections at once; the listener pauses at it */
	int64_t request_timeout_ms; /* a connection's whole life, not reset by each byte */
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
	int64_t drain_quiet_ms;            /* the drain gate: 0 off */
	char *drain_shutdown_command;      /* the drain action: NULL off; {cluster} replaced */
	int64_t drain_shutdown_timeout_ms; /* its run's bound */
	int64_t loss_settle_ms; /* a switch's AbandonedQueries delta is counted this long */
};

/*
 * [ha]: high availability on etcd. No section (no etcd_endpoints): one
 * collector with its state in state_dir/cutover.json.
 */
struct ha_section {
	struct config_list etcd_endpoints; /* "http://10.0.0.1:2379", ...; empty: HA off */
	char *prefix;                      /* the keys' prefix; NULL: /trino-guard/<environment> */
	int64_t lease_ttl_ms;              /* the leader's lease, whole seconds */
	char *id;                          /* this collector's name; NULL: host name:API port */
	int64_t request_timeout_ms;        /* each request to etcd */
	char *ca_file;                     /* trust for https endpoints; NULL: the system's */
	char *cert_file;                   /* client certificate (etcd --client-cert-auth) */
	char *key_file;                    /* its key */
	char *username;                    /* etcd's auth: the user; NULL: none */
	char *password_file;               /* its password, a secret file */
};

/*
 * [lb]: the driver and what every driver shares. Each driver's own
 * [lb.NAME] section is a struct only its file knows (collector/lb/), kept
 * here by the driver's row in the table (lb_drivers.c).
 */
struct lb_section {
	char *driver; /* a row's name in the driver table: "none", "haproxy", ... */
	int64_t timeout_ms;
	int64_t retries;
	int64_t poll_ms;         /* how often the LB's current target is read */
	int64_t health_grace_ms; /* a ready cluster's backend not HEALTHY this long: a finding */
	void *sections[COLLECTOR_MAX_LB_DRIVERS]; /* by row; allocated and freed by the loader */
};

struct alert_section {
	char name[64];
	int type;         /* enum alert_sink_type (alert_sinks.h); never AUTO after loading */
	int min_severity; /* enum severity */
	char *url;
	char *routing_key_file;           /* pagerduty */
	char *webhook_url_file;           /* slack */
	struct config_pairs headers;      /* header.NAME = value (webhook) */
	struct config_pairs header_files; /* header_file.NAME = /path: the value is its line */
	char *source;                     /* pagerduty payload.source; the host name when unset */
	char *component;
	int64_t resend_ms; /* alertmanager */
	int64_t timeout_ms;
	int64_t max_queued;
};

struct alerts_section {
	struct config_pairs for_rules; /* for.RULE = duration, as written */
	char *runbook_url;             /* the README's runbook; alerts link to #<rule> in it */
	/* the same, parsed once at load: indexed by enum finding_kind, 0 when unset */
	int64_t for_delay_ms[FINDING_KIND_COUNT];
};

struct collector_config {
	struct collector_section collector;
	struct api_section api;
	struct watch_section watch;
	struct ha_section ha;
	struct lb_section lb; /* and every [lb.NAME] */
	struct cluster_section clusters[COLLECTOR_MAX_CLUSTERS];
	size_t cluster_count;
	struct alerts_section alerting; /* [alerts]: what applies to every sink */
	struct alert_section alerts[COLLECTOR_MAX_ALERT_SINKS];
	size_t alert_count;
};

/* Loads and checks PATH. 0, or -1 with "FILE:LINE: why" (or "FILE: why") in ERR. */
int collector_config_load(const char *path, struct collector_config *config, char *err,
                          size_t err_len);
void collector_config_free(struct collector_config *config);

/* Called for each key that differs between two loaded configs (collector_config_diff). */
typedef void (*collector_config_change_fn)(const char *section, const char *key, void *ctx);

/*
 * Calls ON_CHANGE(SECTION, KEY, CTX) for every key whose value differs between
 * OLD and NEXT, both loaded: SECTION as the file names it ("collector",
 * "cluster.blue", "lb.haproxy"), KEY NULL for a [cluster.NAME] or
 * [alert.NAME] section only one of them has. Returns the number of calls.
 */
size_t collector_config_diff(const struct collector_config *old,
                             const struct collector_config *next,
                             collector_config_change_fn on_change, void *ctx);

/* Splits "host:port" ("[::1]:7601" too). 0, or -1. */
int collector_parse_host_port(const char *text, char *host, size_t host_len, int *port);

#endif
