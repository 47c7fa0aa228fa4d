/*
 * A fleet built from a few facts per node, for the rules' tests: each
 * node_spec becomes a NodeReport fed to fleet_update so that at NOW its last
 * report is age_ms old. Include after <cmocka.h> (feed asserts).
 */
#ifndef TG_FLEET_FIXTURE_H
#define TG_FLEET_FIXTURE_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "fleet.h"

#define NOW         1000000
#define COORD       TRINOGUARD__V1__NODE_ROLE__ROLE_COORDINATOR
#define WORKER      TRINOGUARD__V1__NODE_ROLE__ROLE_WORKER
#define ACTIVE      TRINOGUARD__V1__NODE_STATE__STATE_ACTIVE
#define UNREACHABLE TRINOGUARD__V1__NODE_STATE__STATE_UNREACHABLE
#define DRAINING    TRINOGUARD__V1__NODE_STATE__STATE_DRAINING
#define C_OK        TRINOGUARD__V1__COUNTER_STATE__COUNTERS_OK
#define C_403       TRINOGUARD__V1__COUNTER_STATE__COUNTERS_FORBIDDEN

/* A report built from a few facts; strings point into the struct. */
struct built_report {
	NodeReport report;
	QueryCounters counters;
	ConfigDigest digests[8];
	ConfigDigest *digest_ptrs[8];
	char paths[8][64];
	uint8_t sha[8][32];
	uint8_t boot_id[16];
};

struct node_spec {
	const char *id;
	const char *cluster;
	int role;
	const char *version; /* NULL: unreachable, no version */
	int state;
	int64_t age_ms;        /* since its last report */
	int64_t not_active_ms; /* how long it has been in `state` (when not ACTIVE) */
	const char *digests;   /* "path=xx;path=!" (xx: the byte repeated; !: unreadable) */
	int counters_state;    /* 0: none (workers) */
	int64_t active_nodes;  /* -1: not exported */
};

static inline void build(struct built_report *b, const struct node_spec *spec, uint64_t seq,
                         int boot)
{
	NodeReport init = TRINOGUARD__V1__NODE_REPORT__INIT;
	QueryCounters counters = TRINOGUARD__V1__QUERY_COUNTERS__INIT;
	memset(b, 0, sizeof(*b));
	b->report = init;
	b->counters = counters;
	memset(b->boot_id, boot, sizeof(b->boot_id));
	NodeReport *r = &b->report;
	r->has_schema_version = 1;
	r->schema_version = 1;
	r->agent_id = (char *)spec->id;
	r->has_boot_id = 1;
	r->boot_id.data = b->boot_id;
	r->boot_id.len = 16;
	r->has_seq = 1;
	r->seq = seq;
	r->has_sent_unix_ms = 1;
	r->sent_unix_ms = 1795515330000LL;
	r->has_interval_ms = 1;
	r->interval_ms = 1000;
	r->cluster = (char *)spec->cluster;
	r->node_id = (char *)spec->id;
	r->has_role = 1;
	r->role = spec->role;
	r->trino_version = (char *)spec->version;
	r->has_state = 1;
	r->state = spec->state;
	if (spec->counters_state != 0) {
		b->counters.has_state = 1;
		b->counters.state = spec->counters_state;
		if (spec->active_nodes >= 0) {
			b->counters.has_active_nodes = 1;
			b->counters.active_nodes = (uint32_t)spec->active_nodes;
		}
		r->counters = &b->counters;
	}
	const char *p = spec->digests != NULL ? spec->digests : "";
	size_t n = 0;
	while (*p != '\0' && n < 8) {
		const char *eq = strchr(p, '=');
		const char *end = strchr(p, ';');
		if (end == NULL)
			end = p + strlen(p);
		ConfigDigest d = TRINOGUARD__V1__CONFIG_DIGEST__INIT;
		b->digests[n] = d;
		snprintf(b->paths[n], sizeof(b->paths[n]), "%.*s", (int)(eq - p), p);
		b->digests[n].path = b->paths[n];
		if (eq[1] == '!') {
			b->digests[n].error = "Permission denied";
		} else {
			unsigned byte;
			sscanf(eq + 1, "%2x", &byte);
			memset(b->sha[n], (int)byte, 32);
			b->digests[n].has_sha256 = 1;
			b->digests[n].sha256.data = b->sha[n];
			b->digests[n].sha256.len = 32;
		}
		b->digest_ptrs[n] = &b->digests[n];
		n++;
		p = *end == ';' ? end + 1 : end;
	}
	r->n_config = n;
	r->config = b->digest_ptrs;
}

/* Feeds SPEC so that at NOW its last report is AGE old and its state NOT_ACTIVE_MS long. */
static inline void feed(struct fleet *fleet, const struct node_spec *spec)
{
	struct built_report b;
	int64_t last = NOW - spec->age_ms;
	if (spec->state != ACTIVE && spec->not_active_ms > 0) {
		build(&b, spec, 1, 1);
		assert_int_not_equal(fleet_update(fleet, &b.report, last - spec->not_active_ms),
		                     FLEET_NO_MEMORY);
	}
	build(&b, spec, 2, 1);
	assert_int_not_equal(fleet_update(fleet, &b.report, last), FLEET_NO_MEMORY);
}

#endif
