/*
 * The loopback stack's parts, for harnesses that assemble another stack from
 * them (ha_stack.c: three collectors, two HAProxies): the sims and the keys,
 * an HAProxy by file names, the agents with their collectors' endpoints.
 */
#ifndef TG_STACK_PARTS_H
#define TG_STACK_PARTS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "stack.h"

/* One HAProxy's files, relative to the stack's dir. */
struct stack_haproxy_files {
	const char *socket, *map, *cfg, *log;
};

/* The single stack's: admin.sock, active.map, haproxy.cfg, haproxy.log. */
extern const struct stack_haproxy_files stack_haproxy_single;

/*
 * Fills S (zeroed first) with the current directory and both sims' ports,
 * makes the server key pair and allows every node's key. 0, or -1 with a
 * message on stderr.
 */
int stack_start_sims(struct stack *s, const struct stack_options *o);

/* Whether URL (a char *) answers 200: a harness_wait_until condition. */
bool stack_url_ok(void *url);

/* A key pair for every node of both clusters, each public key in the allow-list. */
int stack_allow_all_nodes(const struct stack_options *o);

/* An HAProxy on FRONTEND in front of both sims, its map saying bk_blue; 0 once it answers. */
int stack_start_haproxy(const struct stack *s, const struct stack_options *o,
                        const struct stack_haproxy_files *files, int frontend, pid_t *pid);

/* What that HAProxy's `get map` says the active key maps to ("" on error). */
void stack_get_map_of(const struct stack *s, const struct stack_haproxy_files *files, char *backend,
                      size_t len);

/* One agent per node of both clusters, each polling its own sim port, publishing to ENDPOINTS. */
void stack_start_agents(const struct stack *s, const struct stack_options *o,
                        const char *endpoints);

#endif
