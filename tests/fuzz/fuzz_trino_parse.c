/*
 * Fuzzes every parser of what Trino answers the agent (agent/trino_parse.c):
 * /v1/info, /v1/info/state, OpenMetrics text, the JMX JSON of the
 * QueryManager and of the node manager, label sets and airlift durations.
 * The first byte picks the parser (so each keeps its own corpus shape); the
 * rest is the body. Properties: no parser reads past the body, every text it
 * fills is NUL-terminated, and a failure always says why.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_check.h"

#include "trino_parse.h"

static void check_text(const char *text, size_t size)
{
	check(memchr(text, '\0', size) != NULL);
}

static void check_counters(int result, const struct trino_counters *counters, const char *err)
{
	check(result >= -1 && result <= 1);
	if (result < 0)
		check(err[0] != '\0');
	if (result == 0)
		check((counters->found & TRINO_ALL_COUNTERS) == TRINO_ALL_COUNTERS);
	check(counters->active_nodes >= -1);
}

static void on_label(const char *name, const char *value, void *arg)
{
	(void)arg;
	check(name != NULL && value != NULL);
}

static void parse(unsigned which, const char *body, size_t len)
{
	char err[256] = "";
	struct trino_counters counters;
	switch (which % 6) {
	case 0: {
		struct trino_info info;
		if (trino_parse_info(body, len, &info, err, sizeof(err)) == 0) {
			check_text(info.version, sizeof(info.version));
			check_text(info.environment, sizeof(info.environment));
			check_text(info.node_id, sizeof(info.node_id));
			check_text(info.state, sizeof(info.state));
			check_text(info.coordinator_id, sizeof(info.coordinator_id));
		} else {
			check(err[0] != '\0');
		}
		break;
	}
	case 1: {
		char state[32];
		if (trino_parse_state(body, len, state, sizeof(state), err, sizeof(err)) == 0)
			check_text(state, sizeof(state));
		else
			check(err[0] != '\0');
		break;
	}
	case 2:
		memset(&counters, 0, sizeof(counters));
		counters.active_nodes = -1;
		check_counters(trino_parse_openmetrics(body, len, &counters, err, sizeof(err)),
		               &counters, err);
		break;
	case 3:
		memset(&counters, 0, sizeof(counters));
		counters.active_nodes = -1;
		check_counters(
		        trino_parse_jmx_query_manager(body, len, &counters, err, sizeof(err)),
		        &counters, err);
		break;
	case 4: {
		int64_t nodes = -1;
		if (trino_parse_jmx_active_nodes(body, len, &nodes, err, sizeof(err)) == 0)
			check(nodes >= 0);
		size_t consumed = 0;
		if (trino_parse_labels(body, len, &consumed, on_label, NULL, err, sizeof(err)) == 0)
			check(consumed <= len);
		break;
	}
	default: {
		/* A duration is a C string: the body up to its first NUL. */
		char *text = malloc(len + 1);
		check(text != NULL);
		memcpy(text, body, len);
		text[len] = '\0';
		int64_t ms = 0;
		trino_parse_duration_ms(text, &ms);
		free(text);
		break;
	}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	/* The body in a buffer of its own size, so a read past it is caught. */
	size_t len = size - 1;
	char *body = malloc(len != 0 ? len : 1);
	check(body != NULL);
	if (len != 0)
		memcpy(body, data + 1, len);
	parse(data[0], body, len);
	free(body);
	return 0;
}
