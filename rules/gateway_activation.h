/*
 * After the trino-gateway driver activated a backend: may it deactivate the
 * others yet? Only once the gateway has proven the target HEALTHY by a health
 * round newer than the activate, or its own agents have (docs/DESIGN.md §7).
 * Released gateways (up to 20) leave /api/public/backends/NAME/state as the
 * last monitor round wrote it, so a HEALTHY read right after the activate may
 * be a minute old (trinodb/trino-gateway GatewayResource.java and
 * HaGatewayManager.java at tag 20, 376348ba); unreleased main sets PENDING on
 * activate (BackendLifecycleManager.java, 8abc0208), so a HEALTHY after a
 * PENDING is new. Pure: time is a parameter.
 */
#ifndef TG_GATEWAY_ACTIVATION_H
#define TG_GATEWAY_ACTIVATION_H

#include <stdbool.h>
#include <stdint.h>

enum gateway_activation_verdict {
	GATEWAY_WAIT,           /* read the state again later */
	GATEWAY_PROCEED_ROUND,  /* HEALTHY from a health round newer than the activate */
	GATEWAY_PROCEED_AGENTS, /* HEALTHY, and the target's agents report it ACTIVE since */
	GATEWAY_GIVE_UP,        /* not proven HEALTHY within the timeout */
};

/* One activation, from the activate's answer on. */
struct gateway_activation {
	int64_t activated_ms;  /* when the activate was answered */
	bool seen_not_healthy; /* a state other than HEALTHY was read since */
};

struct gateway_activation_read {
	const char *status;       /* trinoStatus just read: HEALTHY, PENDING, UNHEALTHY, ... */
	bool agents_ready;        /* a report received after the activate says ACTIVE */
	int64_t monitor_round_ms; /* a round that started after the activate is over by then */
	int64_t healthy_timeout_ms;
	int64_t now_ms;
};

void gateway_activation_start(struct gateway_activation *a, int64_t now_ms);

/* Takes one state read into A and decides. */
enum gateway_activation_verdict gateway_activation_decide(struct gateway_activation *a,
                                                          const struct gateway_activation_read *r);

/* How VERDICT proved the target, for the log and the journal. */
const char *gateway_activation_explain(enum gateway_activation_verdict verdict);

#endif
