/*
 * The lease's life (leadership.h): grant, campaign, keep alive a third of the
 * TTL after the last renewal, step down when the lease may be gone. A
 * follower keeps a lease of its own alive too and campaigns every
 * campaign_interval, so that it can take the leader key the moment the
 * leader's lease lets go of it.
 */
#include "leadership.h"

#include <stdio.h>
#include <string.h>

/* How often a follower tries for the key, and a failed request is retried. */
static int64_t campaign_interval(const struct leadership *l)
{
	int64_t interval = l->ttl_ms / 10;
	return interval < 200 ? 200 : interval;
}

/* When our lease wants its next keep-alive: two thirds of the TTL before it may end. */
static int64_t renew_at(const struct leadership *l)
{
	return l->lease_until_ms - 2 * l->ttl_ms / 3;
}

static void step_down(struct leadership *l)
{
	l->role = ROLE_FOLLOWER;
	if (strcmp(l->leader, l->self) == 0)
		l->leader[0] = '\0';
}

void leadership_init(struct leadership *l, const char *self, int64_t ttl_ms)
{
	memset(l, 0, sizeof(*l));
	snprintf(l->self, sizeof(l->self), "%s", self);
	l->ttl_ms = ttl_ms;
	l->role = ROLE_FOLLOWER;
	l->last_answer_ms = -1;
}

enum leadership_step leadership_next(struct leadership *l, int64_t now_ms)
{
	if (l->lease_id != 0 && now_ms >= l->lease_until_ms) {
		/* the lease may have expired: whatever we held with it, we no longer do */
		step_down(l);
		l->lease_id = 0;
		l->next_step_ms = now_ms;
	}
	if (l->in_flight || now_ms < l->next_step_ms)
		return STEP_NONE;
	enum leadership_step step;
	if (l->lease_id == 0)
		step = STEP_GRANT;
	else if (now_ms >= renew_at(l))
		step = STEP_KEEPALIVE;
	else if (l->role == ROLE_LEADER)
		return STEP_NONE;
	else
		step = STEP_CAMPAIGN;
	l->in_flight = true;
	return step;
}

/* An answer arrived at NOW_MS: etcd is there. */
static void answered(struct leadership *l, int64_t now_ms)
{
	l->in_flight = false;
	l->last_answer_ms = now_ms;
	l->last_error[0] = '\0';
}

/* The lease, renewed by a request sent at SENT_MS, lives TTL_S from then. */
static void lease_lives(struct leadership *l, int64_t ttl_s, int64_t sent_ms)
{
	l->lease_until_ms = sent_ms + ttl_s * 1000;
}

void leadership_granted(struct leadership *l, int64_t lease_id, int64_t ttl_s, int64_t sent_ms,
                        int64_t now_ms)
{
	answered(l, now_ms);
	if (lease_id == 0 || ttl_s <= 0) {
		snprintf(l->last_error, sizeof(l->last_error), "etcd granted no lease");
		l->next_step_ms = now_ms + campaign_interval(l);
		return;
	}
	l->lease_id = lease_id;
	lease_lives(l, ttl_s, sent_ms);
	l->next_step_ms = now_ms; /* campaign at once */
}

void leadership_campaigned(struct leadership *l, bool won, const char *holder, int64_t holder_lease,
                           int64_t sent_ms, int64_t now_ms)
{
	(void)sent_ms;
	answered(l, now_ms);
	if (won || (holder_lease == l->lease_id && l->lease_id != 0)) {
		if (l->role != ROLE_LEADER)
			l->terms++;
		l->role = ROLE_LEADER;
		snprintf(l->leader, sizeof(l->leader), "%s", l->self);
		l->next_step_ms = renew_at(l);
		return;
	}
	step_down(l);
	snprintf(l->leader, sizeof(l->leader), "%s", holder != NULL ? holder : "");
	l->next_step_ms = now_ms + campaign_interval(l);
}

void leadership_renewed(struct leadership *l, int64_t ttl_s, int64_t sent_ms, int64_t now_ms)
{
	answered(l, now_ms);
	if (ttl_s <= 0) {
		/* etcd let the lease go: the leader key went with it */
		snprintf(l->last_error, sizeof(l->last_error), "etcd says our lease has expired");
		step_down(l);
		l->lease_id = 0;
		l->next_step_ms = now_ms;
		return;
	}
	lease_lives(l, ttl_s, sent_ms);
	l->next_step_ms = l->role == ROLE_LEADER ? renew_at(l) : now_ms + campaign_interval(l);
}

void leadership_deposed(struct leadership *l, const char *holder, int64_t now_ms)
{
	l->role = ROLE_FOLLOWER;
	snprintf(l->leader, sizeof(l->leader), "%s", holder != NULL ? holder : "");
	snprintf(l->last_error, sizeof(l->last_error), "the leader key is %s's, not ours",
	         holder != NULL ? holder : "nobody's");
	if (!l->in_flight)
		l->next_step_ms = now_ms; /* campaign again: the key may be free */
}

void leadership_failed(struct leadership *l, const char *why, int64_t now_ms)
{
	l->in_flight = false;
	snprintf(l->last_error, sizeof(l->last_error), "%s", why != NULL ? why : "");
	l->next_step_ms = now_ms + campaign_interval(l);
}

bool leadership_may_act(const struct leadership *l, int64_t now_ms, int64_t margin_ms)
{
	return l->role == ROLE_LEADER && l->lease_id != 0 && now_ms + margin_ms < l->lease_until_ms;
}

bool leadership_etcd_lost(const struct leadership *l, int64_t now_ms, int64_t init_ms)
{
	int64_t since = l->last_answer_ms >= 0 ? l->last_answer_ms : init_ms;
	return now_ms - since >= l->ttl_ms;
}
