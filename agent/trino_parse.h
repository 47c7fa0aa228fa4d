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
	int64_t uptime_ms;               /* -1 when absent */
	char node_id[TRINO_TEXT_LEN];    /* 477+, "" before */
	char state[32];                  /* 477+, "" before */
	char coordinator_id[16];         /* 477+ coordinators, "" otherwise */
	const char *coordinator_id_from; /* "info", "probe" (static), NULL without an id */
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
	TRINO_RUNNING, /* gauge */
	TRINO_QUEUED,  /* gauge */
	TRINO_COUNTER_COUNT
};

struct trino_counters {
	uint64_t values[TRINO_COUNTER_COUNT];
	unsigned found;                /* bit i set when values[i] was read */
	int64_t active_nodes;          /* ActiveNodeCount, -1 when not exported */
	const char *active_nodes_from; /* the metric or MBean that gave it (static), or NULL */
};

#define TRINO_ALL_COUNTERS ((1u << TRINO_COUNTER_COUNT) - 1)

/* The QueryManager attribute name of a counter: "CompletedQueries", "RunningQueries". */
const char *trino_counter_attribute(enum trino_counter counter);

#define TRINO_QUERY_MANAGER_METRIC_PREFIX "trino_execution_name_QueryManager_"

/*
 * Where a coordinator exports its active node count: the node manager was
 * trino.metadata:name=DiscoveryNodeManager up to 476 and is
 * trino.node:name=CoordinatorNodeManager from 477 (trinodb/trino
 * node/NodeManagerModule.java). A name[] that matches nothing is dropped from
 * the answer without an error, so the agent asks for both and keeps the one
 * that answered.
 */
struct trino_node_count_source {
	const char *metric; /* the OpenMetrics name */
	const char *mbean;  /* the JMX object name */
};

#define TRINO_NODE_COUNT_SOURCES 2
extern const struct trino_node_count_source trino_node_count_sources[TRINO_NODE_COUNT_SOURCES];

/*
 * Reads the label set at TEXT ("{a=\"x\",b=\"y\"}", OpenMetrics: quoted
 * values with the escapes \\ \" \n, so a value may hold '}' ',' '"').
 * Sets *CONSUMED to its length, braces included. LABEL, when not NULL, gets
 * each name and its unescaped value (NUL-terminated, valid for the call).
 * 0, or -1 with ERR.
 */
int trino_parse_labels(const char *text, size_t len, size_t *consumed,
                       void (*label)(const char *name, const char *value, void *arg), void *arg,
                       char *err, size_t err_len);

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

/* Reads ActiveNodeCount from the JMX JSON of the node manager (either name). */
int trino_parse_jmx_active_nodes(const char *body, size_t len, int64_t *active_nodes, char *err,
                                 size_t err_len);

#endif
