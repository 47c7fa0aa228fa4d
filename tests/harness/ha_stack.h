/*
 * The high-availability stack on loopback: trino-sim blue and green with an
 * agent per node publishing to every collector, one real etcd, two HAProxy
 * instances (a and b, each with its own socket and map file) and three
 * collectors with [ha] on that etcd, each driving both HAProxies. Built from
 * stack_parts.h in the current directory (a temp dir); stopped with
 * harness_stop_all().
 */
#ifndef TG_HA_STACK_H
#define TG_HA_STACK_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "etcd_server.h"
#include "stack.h"

#define HA_MEMBERS 3
#define HA_PROXIES 2

struct ha_member {
	char id[16]; /* [ha] id: c0, c1, c2 */
	int zmq_port, api_port;
	char api[64];
	pid_t pid;
};

struct ha_stack {
	struct stack sims; /* dir, the sims' ports; its collector and HAProxy fields unused */
	struct etcd_server etcd;
	struct ha_member members[HA_MEMBERS];
	int frontends[HA_PROXIES];
	pid_t haproxies[HA_PROXIES];
	const char *lease_ttl;
	bool etcd_auth; /* etcd's auth on, the collectors with [ha] username and password_file */
};

/* What test_ha and the failover benchmark run (each target defines the TG_*_BIN paths). */
#define HA_STACK_OPTIONS                                                                           \
	{                                                                                          \
		.blue_version = "446", .green_version = "447", .workers = 1,                       \
		.agent_interval = "200ms", .tick = "100ms", .sim_bin = TG_SIM_BIN,                 \
		.agent_bin = TG_AGENT_BIN, .collector_bin = TG_COLLECTOR_BIN,                      \
		.haproxy_bin = TG_HAPROXY_BIN,                                                     \
	}

/*
 * Starts everything; LEASE_TTL is [ha] lease_ttl ("2s"); ETCD_AUTH turns
 * etcd's auth on for the collectors' user. 0, or -1 with a message on stderr.
 */
int ha_stack_start(struct ha_stack *h, const struct stack_options *o, const char *lease_ttl,
                   bool etcd_auth);

/* (Re)starts member I with its member-I.ini; 0 once /healthz answers. */
int ha_stack_start_member(struct ha_stack *h, const struct stack_options *o, int i);

/* Member I's /v1/status (NULL when it does not answer); caller json_decref()s. */
struct json_t *ha_stack_status(const struct ha_stack *h, int i);

/* The index of the member that says it is the leader; -1 when none or more than one does. */
int ha_stack_leader(const struct ha_stack *h);

/* Waits up to TIMEOUT_MS for exactly one leader among the live members; its index or -1. */
int ha_stack_wait_leader(const struct ha_stack *h, int timeout_ms);

/* What HAProxy P's map says for the active key ("" on error). */
void ha_stack_get_map(const struct ha_stack *h, int p, char *backend, size_t len);

/* Green's coordinator failing RATIO of queries (INTERNAL_ERROR; 0: healthy); the HTTP status. */
long ha_stack_green_fails(const struct ha_stack *h, double ratio);

/* Whether both HAProxies' maps say BACKEND now. */
bool ha_stack_maps_say(const struct ha_stack *h, const char *backend);

/* Waits up to TIMEOUT_MS until both HAProxies' maps say BACKEND. */
bool ha_stack_wait_maps(const struct ha_stack *h, const char *backend, int timeout_ms);

/* Waits up to TIMEOUT_MS until member I's status says PHASE (and ACTIVE unless NULL). */
bool ha_stack_wait_phase(const struct ha_stack *h, int i, const char *phase, const char *active,
                         int timeout_ms);

/* The value of SERIES (a whole series name with labels) on member I's /metrics; -1 if absent. */
double ha_stack_metric(const struct ha_stack *h, int i, const char *series);

/*
 * Every member's journal (state-I/journal.jsonl), one after the other, from
 * byte SKIP[i] of member I's (SKIP NULL: whole); the sizes in SIZES unless
 * NULL. Caller frees.
 */
char *ha_stack_journals(const size_t *skip, size_t *sizes);

#endif
