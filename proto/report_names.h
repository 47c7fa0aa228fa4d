/*
 * Names of the report's enums for people, JSON and metric labels
 * ("coordinator", "ACTIVE", "forbidden"). Header-only, so rules/ can name a
 * node's state without linking the codec.
 */
#ifndef TG_REPORT_NAMES_H
#define TG_REPORT_NAMES_H

#include "trino_guard.pb-c.h"

static inline const char *report_role_name(int role)
{
	switch (role) {
	case TRINOGUARD__V1__NODE_ROLE__ROLE_COORDINATOR:
		return "coordinator";
	case TRINOGUARD__V1__NODE_ROLE__ROLE_WORKER:
		return "worker";
	default:
		return "unknown";
	}
}

static inline const char *report_state_name(int state)
{
	static const char *const names[] = {
	        [TRINOGUARD__V1__NODE_STATE__STATE_UNKNOWN] = "UNKNOWN",
	        [TRINOGUARD__V1__NODE_STATE__STATE_ACTIVE] = "ACTIVE",
	        [TRINOGUARD__V1__NODE_STATE__STATE_INACTIVE] = "INACTIVE",
	        [TRINOGUARD__V1__NODE_STATE__STATE_DRAINING] = "DRAINING",
	        [TRINOGUARD__V1__NODE_STATE__STATE_DRAINED] = "DRAINED",
	        [TRINOGUARD__V1__NODE_STATE__STATE_SHUTTING_DOWN] = "SHUTTING_DOWN",
	        [TRINOGUARD__V1__NODE_STATE__STATE_STARTING] = "STARTING",
	        [TRINOGUARD__V1__NODE_STATE__STATE_UNREACHABLE] = "UNREACHABLE",
	};
	if (state < 0 || state >= (int)(sizeof(names) / sizeof(names[0])) || names[state] == NULL)
		return "UNKNOWN";
	return names[state];
}

static inline const char *report_counter_state_name(int state)
{
	static const char *const names[] = {
	        [TRINOGUARD__V1__COUNTER_STATE__COUNTERS_UNKNOWN] = "unknown",
	        [TRINOGUARD__V1__COUNTER_STATE__COUNTERS_OK] = "ok",
	        [TRINOGUARD__V1__COUNTER_STATE__COUNTERS_UNAUTHORIZED] = "unauthorized",
	        [TRINOGUARD__V1__COUNTER_STATE__COUNTERS_FORBIDDEN] = "forbidden",
	        [TRINOGUARD__V1__COUNTER_STATE__COUNTERS_NOT_FOUND] = "not_found",
	        [TRINOGUARD__V1__COUNTER_STATE__COUNTERS_UNAVAILABLE] = "unavailable",
	        [TRINOGUARD__V1__COUNTER_STATE__COUNTERS_PARSE_ERROR] = "parse_error",
	        [TRINOGUARD__V1__COUNTER_STATE__COUNTERS_NOT_COORDINATOR] = "not_coordinator",
	        [TRINOGUARD__V1__COUNTER_STATE__COUNTERS_UNREACHABLE] = "unreachable",
	        [TRINOGUARD__V1__COUNTER_STATE__COUNTERS_HTTP_ERROR] = "http_error",
	        [TRINOGUARD__V1__COUNTER_STATE__COUNTERS_MISSING] = "missing",
	};
	if (state < 0 || state >= (int)(sizeof(names) / sizeof(names[0])) || names[state] == NULL)
		return "unknown";
	return names[state];
}

#endif
