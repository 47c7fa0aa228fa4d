/*
 * A whole trino-guard stack on loopback for tests and benchmarks: trino-sim
 * blue and green, HAProxy with a map-driven use_backend in front, the
 * collector with the haproxy driver, and one agent per node, all in the
 * current directory (a temp dir) and stopped with harness_stop_all().
 */
#ifndef TG_STACK_H
#define TG_STACK_H

#include <stdbool.h>
#include <sys/types.h>

struct stack_options {
	const char *blue_version;   /* "446" */
	const char *green_version;  /* "447" */
	int workers;                /* per cluster */
	const char *agent_interval; /* "200ms" */
	const char *tick;           /* "100ms" */
	const char *extra_watch;    /* more [watch] lines, or NULL */
	const char *watch_duration; /* NULL: "10m" */
	const char *extra_config;   /* more sections at the end of collector.ini, or NULL */
	const char *token;          /* API token, or NULL */
	/* the [lb] and [lb.NAME] sections instead of the haproxy driver's, or NULL */
	const char *lb_sections;
	const char *sim_bin, *agent_bin, *collector_bin, *haproxy_bin;
	/*
	 * deploy/haproxy/haproxy.cfg: HAProxy runs that file, its paths, bind
	 * and servers made local; NULL: a plain map-driven use_backend.
	 */
	const char *haproxy_cfg;
	bool query_routing;            /* [lb.haproxy] query_id_map (needs haproxy_cfg) */
	const char *client_timeout_ms; /* the sims' --client-timeout-ms, NULL: Trino's 5 min */
	const char *qps;               /* the sims' background traffic, NULL: 100 */
	const char *agent_trino;       /* more [trino] lines for every agent, or NULL */
};

struct stack {
	char dir[512];
	int blue, green;                 /* coordinators' ports; worker i at +i */
	int blue_control, green_control; /* sims' control APIs */
	int zmq_port, api_port, frontend;
	char api[64];
	pid_t collector;
	pid_t haproxy;
};

/* Starts everything in the current directory. 0, or -1 with a message on stderr. */
int stack_start(struct stack *stack, const struct stack_options *options);

/* (Re)starts the collector with collector.ini; waits for /healthz. */
int stack_start_collector(struct stack *stack, const struct stack_options *options);

/* POSTs BODY to a sim's control API for NODE; returns the HTTP status. */
long stack_control(int control_port, const char *node, const char *body);

/* The node id answering through HAProxy ("none" when nothing does); caller frees. */
char *stack_served_by(const struct stack *stack);

/* What `get map` says the active key maps to, over the runtime API ("" on error). */
void stack_get_map(const struct stack *stack, char *backend, size_t len);

/* The cutover phase and active cluster from /v1/status; false when it did not answer. */
bool stack_phase(const struct stack *stack, char *phase, size_t phase_len, char *active,
                 size_t active_len);

/*
 * Waits up to TIMEOUT_MS for /v1/status to say PHASE on ACTIVE (NULL: on any
 * cluster). False at the deadline, with what it said last on stderr.
 */
bool stack_wait_phase(const struct stack *stack, const char *phase, const char *active,
                      int timeout_ms);

#endif
