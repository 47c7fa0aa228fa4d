/*
 * election.h: each tick asks rules/leadership.c for its next step and, when
 * there is one, sends it; the answer's callback feeds it back with the time
 * the request was sent (the fencing rule counts the lease from then) and the
 * time it arrived. A request that cannot even start counts as failed.
 */
#include "election.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "etcd.h"

struct election {
	struct etcd *etcd;
	char leader_key[256];
	struct leadership leadership;
	enum leadership_step step; /* in flight; STEP_NONE: nothing */
	int64_t sent_ms;
	int64_t (*now_ms)(void);
};

struct election *election_new(struct etcd *etcd, const char *leader_key, const char *self,
                              int64_t ttl_ms, int64_t (*now_ms)(void), char *err, size_t err_len)
{
	if (ttl_ms < 2000 || ttl_ms % 1000 != 0) {
		snprintf(err, err_len, "the lease TTL must be whole seconds, at least 2 s");
		return NULL;
	}
	if (self == NULL || self[0] == '\0' || strlen(self) >= LEADERSHIP_ID_LEN ||
	    strlen(leader_key) >= sizeof(((struct election *)0)->leader_key)) {
		snprintf(err, err_len, "a collector's id must be 1 to %d characters",
		         LEADERSHIP_ID_LEN - 1);
		return NULL;
	}
	struct election *e = calloc(1, sizeof(*e));
	if (e == NULL) {
		snprintf(err, err_len, "out of memory");
		return NULL;
	}
	e->etcd = etcd;
	e->now_ms = now_ms != NULL ? now_ms : clock_mono_ms;
	snprintf(e->leader_key, sizeof(e->leader_key), "%s", leader_key);
	leadership_init(&e->leadership, self, ttl_ms);
	return e;
}

void election_free(struct election *election)
{
	if (election == NULL)
		return;
	etcd_cancel(election->etcd, election);
	free(election);
}

static void on_answer(const struct etcd_result *r, void *arg)
{
	struct election *e = arg;
	struct leadership *l = &e->leadership;
	int64_t now = e->now_ms();
	enum leadership_step step = e->step;
	e->step = STEP_NONE;
	if (!r->ok) {
		leadership_failed(l, r->error, now);
		return;
	}
	switch (step) {
	case STEP_GRANT:
		leadership_granted(l, r->lease_id, r->ttl_s, e->sent_ms, now);
		break;
	case STEP_CAMPAIGN: {
		/* a failed compare carries the key as it is: who holds it, on which lease */
		const struct etcd_kv *holder = r->kv_count > 0 ? &r->kvs[0] : NULL;
		leadership_campaigned(l, r->succeeded, holder != NULL ? holder->value : NULL,
		                      holder != NULL ? holder->lease : 0, e->sent_ms, now);
		break;
	}
	case STEP_KEEPALIVE:
		leadership_renewed(l, r->ttl_s, e->sent_ms, now);
		break;
	case STEP_NONE:
		break;
	}
}

void election_tick(struct election *election, int64_t now_ms)
{
	struct leadership *l = &election->leadership;
	enum leadership_step step = leadership_next(l, now_ms);
	if (step == STEP_NONE)
		return;
	char err[256];
	int rc = -1;
	election->step = step;
	election->sent_ms = now_ms;
	switch (step) {
	case STEP_GRANT:
		rc = etcd_lease_grant(election->etcd, l->ttl_ms / 1000, on_answer, election, err,
		                      sizeof(err));
		break;
	case STEP_CAMPAIGN:
		rc = etcd_put_if_absent(election->etcd, election->leader_key, l->self, l->lease_id,
		                        on_answer, election, err, sizeof(err));
		break;
	case STEP_KEEPALIVE:
		rc = etcd_lease_keepalive(election->etcd, l->lease_id, on_answer, election, err,
		                          sizeof(err));
		break;
	case STEP_NONE:
		break;
	}
	if (rc != 0) {
		election->step = STEP_NONE;
		leadership_failed(l, err, now_ms);
	}
}

void election_seen_holder(struct election *election, const char *holder, int64_t now_ms)
{
	struct leadership *l = &election->leadership;
	if (l->role != ROLE_LEADER || (holder != NULL && strcmp(holder, l->self) == 0))
		return;
	leadership_deposed(l, holder, now_ms);
}

const struct leadership *election_view(const struct election *election)
{
	return &election->leadership;
}
