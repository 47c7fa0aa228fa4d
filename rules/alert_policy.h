/*
 * The alert policy (docs/DESIGN.md §8): when a finding's alert goes out. A rule with
 * an `[alerts] for.RULE` delay holds its findings back until they have been
 * open that long, and one that closes sooner is never sent. The firing set
 * says which finding alerts fire now (the caller keeps it across restarts);
 * after a restart, what fired before and has not fired again is resolved.
 * Pure: time is a parameter, nothing here reads a clock or a file.
 */
#ifndef TG_ALERT_POLICY_H
#define TG_ALERT_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alert.h"
#include "findings.h"

/* A finding that opened and is not due yet. */
struct alert_held {
	struct alert alert;
	int64_t due_mono_ms;
};

/*
 * Callers read the arrays (borrowed: valid until the next call that is
 * given the policy) and change them only through the functions below.
 */
struct alert_policy {
	int64_t for_delay_ms[FINDING_KIND_COUNT]; /* per rule; 0: fires at once */
	struct alert_held *held;
	size_t held_count, held_capacity;
	struct alert *firing; /* finding alerts firing now, since their at_unix_ms */
	size_t firing_count, firing_capacity;
	struct alert *carried; /* firing before the restart, not seen since */
	size_t carried_count, carried_capacity;
	bool reconciled;
};

enum alert_verdict {
	ALERT_VERDICT_SEND, /* deliver it now (then tell alert_policy_track) */
	ALERT_VERDICT_HOLD, /* a finding within its rule's for delay: kept back */
	ALERT_VERDICT_DROP, /* a held finding closed before it was due: nothing to send */
};

/* An empty policy with the for delays of FOR_DELAY_MS (indexed by enum finding_kind). */
void alert_policy_init(struct alert_policy *policy, const int64_t for_delay_ms[FINDING_KIND_COUNT]);
void alert_policy_cleanup(struct alert_policy *policy);

/* Adds ALERT, firing before the restart, to what is carried over. 0, or -1 (memory). */
int alert_policy_carry(struct alert_policy *policy, const struct alert *alert);

/*
 * What to do with ALERT, published at NOW_MONO_MS. Sent at once: events,
 * resolves of what is not held, findings whose rule has no delay, and
 * findings carried over from before the restart (their delay is long past).
 * A finding whose rule has a delay is held until NOW_MONO_MS + delay; held
 * again, it keeps its due time and takes the fresher text; its resolve is
 * dropped with it. Out of memory, a finding is sent (rather at once than
 * never).
 */
enum alert_verdict alert_policy_decide(struct alert_policy *policy, const struct alert *alert,
                                       int64_t now_mono_ms);

/* Takes the next held finding due at NOW_MONO_MS into OUT; false when none is. */
bool alert_policy_next_due(struct alert_policy *policy, int64_t now_mono_ms, struct alert *out);

/*
 * Records that ALERT is sent now. A firing finding joins the firing set, or
 * refreshes its entry and keeps when it first fired; a resolved one leaves
 * it; either is no longer carried over. Events change nothing.
 * *STARTED_UNIX_MS: when it first fired (Alertmanager's startsAt, also in
 * its resolve). *CHANGED: whether what is saved (firing and carried) did.
 * 0, or -1 when out of memory (not recorded; it is still to be sent).
 */
int alert_policy_track(struct alert_policy *policy, const struct alert *alert,
                       int64_t *started_unix_ms, bool *changed);

/* The firing alert whose dedup key is KEY, or NULL. Borrowed. */
const struct alert *alert_policy_firing(const struct alert_policy *policy, const char *key);

/*
 * The first time, after the findings of the first tick after a start were
 * published and tracked: what was carried over and has not fired again, as
 * resolves at NOW_UNIX_MS, into a new array the caller frees (NULL when
 * none), *COUNT of them. Nothing is carried over afterwards. Later calls
 * give none.
 */
struct alert *alert_policy_reconcile(struct alert_policy *policy, int64_t now_unix_ms,
                                     size_t *count);

#endif
