/*
 * The fixture test_agent and test_agent_daemon share: a stand-in collector
 * with CURVE on, three trino-sim clusters in a temp dir (the current
 * directory), and the agents started against them. The helpers fail the
 * running cmocka test when a step does not work.
 */
#ifndef TG_AGENT_FIXTURE_H
#define TG_AGENT_FIXTURE_H

#include <stdbool.h>
#include <sys/types.h>

#include "report_receiver.h"

struct sim {
	pid_t pid;
	int port;
	int control_port;
};

struct agent_fixture {
	char *dir;
	struct sim green;   /* 447, one worker, /metrics */
	struct sim old;     /* 423-e.3: JMX only */
	struct sim guarded; /* 447 with --management-user guard */
	char server_public[41];
	char server_secret[41];
	struct report_receiver *receiver;
};

/* The one fixture of the running test program, set up once for all its tests. */
extern struct agent_fixture fx;

/*
 * cmocka group setup: the server keys, the receiver allowing the four agents'
 * keys, and the sims green, old and guarded. -1 when a step fails.
 */
int agent_fixture_setup(void **state);

/* cmocka group teardown: stops every process, frees the receiver, removes the temp dir. */
int agent_fixture_teardown(void **state);

/* POSTs BODY to SIM's control API for NODE, which must answer 200. */
void control(const struct sim *sim, const char *node, const char *body);

/* Writes keys for NODE (once) and returns the public key. */
void agent_keys(const char *node, char public_key[41]);

/*
 * Writes NODE's agent.ini for port SIM+WORKER, publishing to ENDPOINT (NULL:
 * the fixture's receiver); EXTRA goes into [trino]. Returns its path (static).
 */
const char *write_agent_ini(const char *node, const struct sim *sim, int worker,
                            const char *interval, const char *endpoint, const char *extra);

/* Writes NODE's agent.ini and starts the agent. */
pid_t start_agent(const char *node, const struct sim *sim, int worker, const char *interval,
                  const char *endpoint, const char *extra);

/* The next report from NODE_ID within TIMEOUT_MS, skipping other nodes'; the caller frees. */
NodeReport *next_from(const char *node_id, int timeout_ms);

/* Waits for a report from NODE_ID that satisfies PRED; the caller frees. */
NodeReport *wait_report(const char *node_id, bool (*pred)(const NodeReport *), int timeout_ms);

#endif
