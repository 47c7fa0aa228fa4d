/*
 * The trino-gateway driver's wait after an activate: which state read proves
 * the target HEALTHY now, not as it was at the last round before the activate.
 */
#include "gateway_activation.h"

#include <string.h>

void gateway_activation_start(struct gateway_activation *a, int64_t now_ms)
{
	a->activated_ms = now_ms;
	a->seen_not_healthy = false;
}

enum gateway_activation_verdict gateway_activation_decide(struct gateway_activation *a,
                                                          const struct gateway_activation_read *r)
{
	bool healthy = r->status != NULL && strcmp(r->status, "HEALTHY") == 0;
	int64_t since = r->now_ms - a->activated_ms;
	if (!healthy) {
		/* PENDING (main resets on activate) or a round that found it down */
		a->seen_not_healthy = true;
		return since >= r->healthy_timeout_ms ? GATEWAY_GIVE_UP : GATEWAY_WAIT;
	}
	/* a change to HEALTHY after the activate was written by a later round */
	if (a->seen_not_healthy || since >= r->monitor_round_ms)
		return GATEWAY_PROCEED_ROUND;
	if (r->agents_ready)
		return GATEWAY_PROCEED_AGENTS;
	return since >= r->healthy_timeout_ms ? GATEWAY_GIVE_UP : GATEWAY_WAIT;
}

const char *gateway_activation_explain(enum gateway_activation_verdict verdict)
{
	switch (verdict) {
	case GATEWAY_PROCEED_ROUND:
		return "the gateway's health round newer than the activate says HEALTHY";
	case GATEWAY_PROCEED_AGENTS:
		return "the gateway says HEALTHY (maybe from a round before the activate) and the "
		       "target's agents report its coordinator ACTIVE since the activate";
	case GATEWAY_GIVE_UP:
		return "not proven HEALTHY in time";
	case GATEWAY_WAIT:
		break;
	}
	return "waiting for a health round newer than the activate";
}
