/*
 * Parsers for what Trino answers the agent: /v1/info, /v1/info/state, the
 * OpenMetrics text of /metrics and the JMX JSON of the QueryManager MBean.
 * Pure functions over a body; no I/O.
 */
#ifndef TG_TRINO_PARSE_H
#define TG_TRINO_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TRINO_TEXT_LEN 128

struct trino_info {
	char version[TRINO_TEXT_LEN]; /* nodeVersion.version, verbatim */
	char environment[TRINO_TEXT_LEN];
	bool coordinator;
	bool starting;
	int64_t uptime_ms;            /* -1 when absent */
	char node_id[TRINO_TEXT_LEN]; /* 477+, "" before */
	char state[32];               /* 477+, "" before */
	char coordinator_id[16];      /* 477+ coordinators, "" otherwise */
};

/* Parses /v1/info. 0, or -1 with a reason in ERR (not JSON, no version, ...). */
int trino_parse_info(const char *body, size_t len, struct trino_info *info, char *err,
                     size_t err_len);

/* Parses /v1/info/state, a bare JSON string: "ACTIVE". Copies it to STATE. */
int trino_parse_state(const char *body, size_t len, char *state, size_t state_len, char *err,
                      size_t err_len);

/* airlift Duration text ("3.25d", "17.27ms", "2.04h") in milliseconds. 0 or -1. */
int trino_parse_duration_ms(const char *text, int64_t *ms);

/* The QueryManager counters the agent reports. */
enum trino_counter {
	TRINO_COMPLETED,
	TRINO_FAILED,
	TRINO_USER_ERROR,
	TRINO_INTERNAL,
	TRINO_EXTERNAL,
	TRINO_INSUFFICIENT_RESOURCES,
	TRINO_CANCELED,
	TRINO_ABANDONED,
	TRINO_SUBMITTED,
	TRINO_RUNNING, /* gauge */
	TRINO_QUEUED,  /* gauge */
	TRINO_COUNTER_COUNT
};

struct trino_counters {
	uint64_t values[TRINO_COUNTER_COUNT];
	unsigned found;       /* bit i set when values[i] was read */
	int64_t active_nodes; /* ActiveNodeCount, -1 when not exported */
};

#define TRINO_ALL_COUNTERS ((1u << TRINO_COUNTER_COUNT) - 1)

/* The QueryManager attribute name of a counter: "CompletedQueries", "RunningQueries". */
const char *trino_counter_attribute(enum trino_counter counter);

/* The OpenMetrics name of ActiveNodeCount. */
#define TRINO_ACTIVE_NODES_METRIC         "trino_metadata_name_DiscoveryNodeManager_ActiveNodeCount"
#define TRINO_QUERY_MANAGER_METRIC_PREFIX "trino_execution_name_QueryManager_"

/*
 * Parses OpenMetrics text. Returns 0 when every counter was found, 1 when the
 * text is fine but some are missing (Trino before ~429: fall back to JMX),
 * -1 with ERR when the text is not OpenMetrics or a value is not a number.
 */
int trino_parse_openmetrics(const char *body, size_t len, struct trino_counters *counters,
                            char *err, size_t err_len);

/*
 * Parses the JMX JSON of trino.execution:name=QueryManager. Same returns as
 * trino_parse_openmetrics.
 */
int trino_parse_jmx_query_manager(const char *body, size_t len, struct trino_counters *counters,
                                  char *err, size_t err_len);

/* Reads ActiveNodeCount from the JMX JSON of trino.metadata:name=DiscoveryNodeManager. */
int trino_parse_jmx_active_nodes(const char *body, size_t len, int64_t *active_nodes, char *err,
                                 size_t err_len);

#endif
