/*
 * The leader election of high availability: the shell around
 * rules/leadership.c that sends what it asks for to etcd (lease grant,
 * campaign for the leader key, keep-alive) and hands it the answers, one
 * request at a time, from the daemon's loop. Whether this collector may act
 * as the leader is leadership_may_act() on election_view().
 */
#ifndef TG_ELECTION_H
#define TG_ELECTION_H

#include <stdbool.h>
#include <stdint.h>

#include "leadership.h"

struct etcd;
struct election;

/*
 * An election for LEADER_KEY among collectors, this one named SELF, on
 * leases of TTL_MS (whole seconds), through ETCD (borrowed). NOW_MS reads
 * the monotonic clock (NULL: clock_mono_ms). NULL with a reason in ERR.
 */
struct election *election_new(struct etcd *etcd, const char *leader_key, const char *self,
                              int64_t ttl_ms, int64_t (*now_ms)(void), char *err, size_t err_len);

/* Cancels the request in flight, if any, and frees. The lease lapses on its own. */
void election_free(struct election *election);

/* Sends the next request leadership asks for at NOW_MS, if any. */
void election_tick(struct election *election, int64_t now_ms);

/*
 * etcd showed HOLDER in the leader key (a guarded write's failed compare):
 * if that is not us, we do not lead, whatever our lease says.
 */
void election_seen_holder(struct election *election, const char *holder, int64_t now_ms);

/* Where the election stands: role, leader, lease, last error. */
const struct leadership *election_view(const struct election *election);

#endif
