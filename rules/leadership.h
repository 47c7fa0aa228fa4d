/*
 * Leadership through an etcd lease (docs/DESIGN.md §6, HA): what a collector
 * asks etcd next, what it makes of the answers, and whether it may act as the
 * leader now. Pure: times are parameters, on the monotonic clock, and the
 * answers come in as plain values.
 *
 * Fencing: etcd lets a lease expire no sooner than TTL after it received the
 * grant or the keep-alive that set it, which is after we sent it. So a lease
 * last renewed by a request sent at S is ours until S + TTL at the earliest,
 * whatever the network did since; the leader acts only while
 * now + margin < S + TTL, the margin covering the longest action it starts
 * (an LB switch) and clock rate error. It stops acting before the lease can
 * expire, never after.
 */
#ifndef TG_LEADERSHIP_H
#define TG_LEADERSHIP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LEADERSHIP_ID_LEN 128

enum leadership_role {
	ROLE_FOLLOWER, /* another collector leads, or nobody does yet */
	ROLE_LEADER,   /* we hold the leader key on a lease we keep alive */
};

enum leadership_step {
	STEP_NONE,      /* wait */
	STEP_GRANT,     /* ask for a lease of ttl_ms */
	STEP_CAMPAIGN,  /* put the leader key on our lease, if nobody holds it */
	STEP_KEEPALIVE, /* renew our lease */
};

struct leadership {
	char self[LEADERSHIP_ID_LEN];   /* our id, the leader key's value when we lead */
	char leader[LEADERSHIP_ID_LEN]; /* who leads, as etcd last said; "" unknown */
	enum leadership_role role;
	int64_t ttl_ms;
	int64_t lease_id;       /* ours; 0: none */
	int64_t lease_until_ms; /* our lease lives at least until this */
	int64_t next_step_ms;   /* no request before this */
	int64_t last_answer_ms; /* etcd last answered anything; -1: never */
	bool in_flight;         /* a request is out: one at a time */
	char last_error[256];   /* the last failure, for status; "" none */
	uint64_t terms;         /* times we became the leader */
};

void leadership_init(struct leadership *l, const char *self, int64_t ttl_ms);

/* What to ask etcd at NOW_MS (and marks it in flight), or STEP_NONE. */
enum leadership_step leadership_next(struct leadership *l, int64_t now_ms);

/* A lease granted: ID with TTL_S, by a request sent at SENT_MS. */
void leadership_granted(struct leadership *l, int64_t lease_id, int64_t ttl_s, int64_t sent_ms,
                        int64_t now_ms);

/* The campaign's answer: WON, or HOLDER holds the key (on HOLDER_LEASE). */
void leadership_campaigned(struct leadership *l, bool won, const char *holder, int64_t holder_lease,
                           int64_t sent_ms, int64_t now_ms);

/* A keep-alive answered with TTL_S (0: the lease is gone). */
void leadership_renewed(struct leadership *l, int64_t ttl_s, int64_t sent_ms, int64_t now_ms);

/* The leader key holds HOLDER (NULL: nobody), not us: we follow from now. */
void leadership_deposed(struct leadership *l, const char *holder, int64_t now_ms);

/* A request failed: etcd not reached, or it said no (WHY). */
void leadership_failed(struct leadership *l, const char *why, int64_t now_ms);

/* Whether we may act as the leader at NOW_MS, keeping MARGIN_MS in hand. */
bool leadership_may_act(const struct leadership *l, int64_t now_ms, int64_t margin_ms);

/* Whether etcd has not answered for a TTL (or never has, a TTL after INIT_MS). */
bool leadership_etcd_lost(const struct leadership *l, int64_t now_ms, int64_t init_ms);

#endif
