/*
 * A fully populated NodeReport for codec tests. Strings point at literals;
 * the struct lives in the caller's storage (struct report_fixture).
 */
#ifndef TG_REPORT_FIXTURE_H
#define TG_REPORT_FIXTURE_H

#include <string.h>

#include "report_codec.h"

struct report_fixture {
	NodeReport report;
	QueryCounters counters;
	ConfigDigest digests[2];
	ConfigDigest *digest_ptrs[2];
	KeyDigest keys[2];
	KeyDigest *key_ptrs[2];
	uint8_t key_digest[2][REPORT_KEY_DIGEST_BYTES];
	uint8_t boot_id[16];
	uint8_t sha[32];
};

/* 2026-11-24T10:15:30Z */
#define FIXTURE_SENT_MS 1795515330000LL

static inline void report_fixture_init(struct report_fixture *f)
{
	NodeReport report = TRINOGUARD__V1__NODE_REPORT__INIT;
	QueryCounters counters = TRINOGUARD__V1__QUERY_COUNTERS__INIT;
	ConfigDigest digest = TRINOGUARD__V1__CONFIG_DIGEST__INIT;
	for (int i = 0; i < 16; i++)
		f->boot_id[i] = (uint8_t)(0xa0 + i);
	for (int i = 0; i < 32; i++)
		f->sha[i] = (uint8_t)i;
	f->report = report;
	f->counters = counters;
	f->digests[0] = digest;
	f->digests[1] = digest;

	NodeReport *r = &f->report;
	r->has_schema_version = 1;
	r->schema_version = 1;
	r->agent_id = "agent-green-coord";
	r->has_boot_id = 1;
	r->boot_id.len = 16;
	r->boot_id.data = f->boot_id;
	r->has_seq = 1;
	r->seq = 42;
	r->has_sent_unix_ms = 1;
	r->sent_unix_ms = FIXTURE_SENT_MS;
	r->has_interval_ms = 1;
	r->interval_ms = 1000;
	r->cluster = "green";
	r->node_id = "green-coord";
	r->has_role = 1;
	r->role = TRINOGUARD__V1__NODE_ROLE__ROLE_COORDINATOR;
	r->trino_version = "447";
	r->environment = "production";
	r->has_state = 1;
	r->state = TRINOGUARD__V1__NODE_STATE__STATE_ACTIVE;
	r->has_trino_uptime_ms = 1;
	r->trino_uptime_ms = 280800000;
	r->agent_version = "0.1.0";

	f->digests[0].path = "config.properties";
	f->digests[0].has_sha256 = 1;
	f->digests[0].sha256.len = 32;
	f->digests[0].sha256.data = f->sha;
	KeyDigest key = TRINOGUARD__V1__KEY_DIGEST__INIT;
	static const char *const key_names[2] = {"coordinator", "query.max-memory"};
	for (int k = 0; k < 2; k++) {
		f->keys[k] = key;
		f->keys[k].key = (char *)key_names[k];
		memset(f->key_digest[k], k == 0 ? 0x11 : 0x33, REPORT_KEY_DIGEST_BYTES);
		f->keys[k].has_digest = 1;
		f->keys[k].digest.data = f->key_digest[k];
		f->keys[k].digest.len = REPORT_KEY_DIGEST_BYTES;
		f->key_ptrs[k] = &f->keys[k];
	}
	f->digests[0].n_keys = 2;
	f->digests[0].keys = f->key_ptrs;
	f->digests[0].has_keys_listed = 1;
	f->digests[0].keys_listed = 1;
	f->digests[1].path = "catalog/hive.properties";
	f->digests[1].error = "Permission denied";
	f->digest_ptrs[0] = &f->digests[0];
	f->digest_ptrs[1] = &f->digests[1];
	r->n_config = 2;
	r->config = f->digest_ptrs;

	QueryCounters *c = &f->counters;
	c->has_state = 1;
	c->state = TRINOGUARD__V1__COUNTER_STATE__COUNTERS_OK;
	c->has_completed = 1;
	c->completed = 1538;
	c->has_failed = 1;
	c->failed = 37;
	c->has_user_error = 1;
	c->user_error = 30;
	c->has_internal = 1;
	c->internal = 2;
	c->has_external = 1;
	c->external = 4;
	c->has_insufficient_resources = 1;
	c->insufficient_resources = 1;
	c->has_canceled = 1;
	c->canceled = 5;
	c->has_abandoned = 1;
	c->abandoned = 1;
	c->has_submitted = 1;
	c->submitted = 1541;
	c->has_running = 1;
	c->running = 3;
	c->has_queued = 1;
	c->queued = 0;
	c->source = "metrics";
	r->counters = c;
}

#endif
