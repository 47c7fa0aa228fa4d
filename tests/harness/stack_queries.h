/*
 * Clients' queries through a loopback stack (stack.h): the npm trino-client
 * driver (tests/client/run_queries.js) started against HAProxy, the outcomes
 * it reports, and what the sims and the collector say about those queries.
 * Shared by test_no_lost_queries and the switch_loss benchmark.
 */
#ifndef TG_STACK_QUERIES_H
#define TG_STACK_QUERIES_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "stack.h"

/* The npm client: node's path and the folder holding run_queries.js and node_modules. */
struct stack_client {
	const char *node_bin;
	const char *client_dir;
};

/* True when node and the pinned trino-client are installed (deploy/install-deps.sh). */
bool stack_client_installed(const struct stack_client *client);

/*
 * Starts QUERIES concurrent queries of SQL through the stack's HAProxy; the
 * driver's JSON lines go to OUT_PATH. Returns its PID, or -1.
 */
pid_t stack_client_start(const struct stack *stack, const struct stack_client *client, int queries,
                         const char *sql, const char *out_path);

/* Waits up to TIMEOUT_MS for the driver PID to end; false if it did not. */
bool stack_client_wait(pid_t pid, int timeout_ms);

/* What the driver reported for its queries, counted from its "done" lines. */
struct stack_client_outcomes {
	int done;        /* queries that ended */
	int finished;    /* ... with every page read */
	int failed;      /* ... with an error: lost, seen from the client */
	int not_found;   /* failed ones whose error says "Query not found" */
	int off_cluster; /* ids not made by the expected coordinator */
	char error[256]; /* the first failed query's id and error, "" if none */
};

/*
 * Reads the driver's output at OUT_PATH; COORDINATOR_ID (NULL: any) is the
 * 5-character id every query's id should end in. 0, or -1 when unreadable.
 */
int stack_client_outcomes(const char *out_path, const char *coordinator_id,
                          struct stack_client_outcomes *outcomes);

/* The coordinator id /v1/info on PORT publishes into OUT ("" when none). */
void stack_coordinator_id(int port, char *out, size_t len);

/* The clients' queries running on the sim behind CONTROL_PORT (-1: no answer). */
long long stack_statement_running(int control_port);

/* Waits up to TIMEOUT_MS for exactly COUNT clients' queries running there. */
bool stack_wait_statement_running(int control_port, long long count, int timeout_ms);

/*
 * The collector is ready for a cutover: no finding open, not warming up,
 * and (ROUTES > 0) that many coordinator ids in its query routes.
 */
bool stack_wait_ready(const struct stack *stack, size_t routes, int timeout_ms);

/* POSTs BODY to the collector's API PATH with TOKEN (NULL: none); the HTTP status. */
long stack_api_post(const struct stack *stack, const char *token, const char *path,
                    const char *body);

/* One settled switch as the collector's journal has it (its lost-query accounting). */
struct stack_switch_loss {
	char from[32];
	char kind[16]; /* "cutover" or "rollback" */
	long long lost_queries;
	bool counted; /* the old cluster's AbandonedQueries was seen */
};

/* The switch-loss entries of the journal at PATH, oldest first, up to MAX; how many, or -1. */
int stack_switch_losses(const char *journal_path, struct stack_switch_loss *out, int max);

#endif
