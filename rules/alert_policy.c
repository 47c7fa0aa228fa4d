/*
 * The alert policy: held findings, the firing set and the restart
 * reconcile, over plain arrays (a few dozen alerts at most: a linear search
 * by dedup key is the simple choice).
 */
#include "alert_policy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void alert_policy_init(struct alert_policy *policy, const int64_t for_delay_ms[FINDING_KIND_COUNT])
{
	memset(policy, 0, sizeof(*policy));
	for (int kind = 0; kind < FINDING_KIND_COUNT; kind++)
		policy->for_delay_ms[kind] = for_delay_ms != NULL ? for_delay_ms[kind] : 0;
}

void alert_policy_cleanup(struct alert_policy *policy)
{
	if (policy == NULL)
		return;
	free(policy->held);
	free(policy->firing);
	free(policy->carried);
	memset(policy, 0, sizeof(*policy));
}

/* Makes room for one more ITEM_SIZE item in *ITEMS. 0, or -1 (memory). */
static int grow(void **items, size_t count, size_t *capacity, size_t item_size)
{
	if (count < *capacity)
		return 0;
	size_t wanted = *capacity ? *capacity * 2 : 16;
	void *grown = realloc(*items, wanted * item_size);
	if (grown == NULL)
		return -1;
	*items = grown;
	*capacity = wanted;
	return 0;
}

/* The index of KEY among the COUNT alerts at ALERTS, or -1. */
static long find_key(const struct alert *alerts, size_t count, const char *key)
{
	for (size_t i = 0; i < count; i++) {
		if (strcmp(alerts[i].dedup_key, key) == 0)
			return (long)i;
	}
	return -1;
}

static long find_held(const struct alert_policy *policy, const char *key)
{
	for (size_t i = 0; i < policy->held_count; i++) {
		if (strcmp(policy->held[i].alert.dedup_key, key) == 0)
			return (long)i;
	}
	return -1;
}

int alert_policy_carry(struct alert_policy *policy, const struct alert *alert)
{
	if (grow((void **)&policy->carried, policy->carried_count, &policy->carried_capacity,
	         sizeof(*policy->carried)) != 0)
		return -1;
	policy->carried[policy->carried_count++] = *alert;
	return 0;
}

/* The for delay of ALERT's rule; 0 for a rule that is not a finding's. */
static int64_t for_delay_ms(const struct alert_policy *policy, const struct alert *alert)
{
	enum finding_kind kind;
	if (finding_kind_parse(alert->rule, &kind) != 0)
		return 0;
	return policy->for_delay_ms[kind];
}

enum alert_verdict alert_policy_decide(struct alert_policy *policy, const struct alert *alert,
                                       int64_t now_mono_ms)
{
	if (alert->state == ALERT_EVENT)
		return ALERT_VERDICT_SEND;
	long held = find_held(policy, alert->dedup_key);
	if (held >= 0) {
		if (alert->state == ALERT_RESOLVED) {
			policy->held[held] = policy->held[--policy->held_count];
			return ALERT_VERDICT_DROP; /* it never fired, so nothing is resolved */
		}
		policy->held[held].alert = *alert; /* fresher summary, same due time */
		return ALERT_VERDICT_HOLD;
	}
	if (alert->state != ALERT_FIRING)
		return ALERT_VERDICT_SEND;
	if (find_key(policy->carried, policy->carried_count, alert->dedup_key) >= 0)
		return ALERT_VERDICT_SEND; /* it fired before the restart: its delay is long past */
	int64_t delay = for_delay_ms(policy, alert);
	if (delay <= 0)
		return ALERT_VERDICT_SEND;
	if (grow((void **)&policy->held, policy->held_count, &policy->held_capacity,
	         sizeof(*policy->held)) != 0)
		return ALERT_VERDICT_SEND; /* at once rather than never */
	policy->held[policy->held_count++] = (struct alert_held){*alert, now_mono_ms + delay};
	return ALERT_VERDICT_HOLD;
}

bool alert_policy_next_due(struct alert_policy *policy, int64_t now_mono_ms, struct alert *out)
{
	for (size_t i = 0; i < policy->held_count; i++) {
		if (policy->held[i].due_mono_ms > now_mono_ms)
			continue;
		*out = policy->held[i].alert;
		policy->held[i] = policy->held[--policy->held_count];
		return true;
	}
	return false;
}

int alert_policy_track(struct alert_policy *policy, const struct alert *alert,
                       int64_t *started_unix_ms, bool *changed)
{
	*started_unix_ms = alert->at_unix_ms;
	*changed = false;
	if (alert->state == ALERT_EVENT)
		return 0;
	long carried = find_key(policy->carried, policy->carried_count, alert->dedup_key);
	if (carried >= 0) {
		policy->carried[carried] = policy->carried[--policy->carried_count];
		*changed = true;
	}
	long firing = find_key(policy->firing, policy->firing_count, alert->dedup_key);
	if (firing >= 0) {
		*started_unix_ms = policy->firing[firing].at_unix_ms;
		if (alert->state == ALERT_RESOLVED) {
			policy->firing[firing] = policy->firing[--policy->firing_count];
		} else {
			/* fresher text; it fires since it first fired */
			policy->firing[firing] = *alert;
			policy->firing[firing].at_unix_ms = *started_unix_ms;
		}
		*changed = true;
		return 0;
	}
	if (alert->state != ALERT_FIRING)
		return 0;
	if (grow((void **)&policy->firing, policy->firing_count, &policy->firing_capacity,
	         sizeof(*policy->firing)) != 0)
		return -1;
	policy->firing[policy->firing_count++] = *alert;
	*changed = true;
	return 0;
}

const struct alert *alert_policy_firing(const struct alert_policy *policy, const char *key)
{
	long i = find_key(policy->firing, policy->firing_count, key);
	return i >= 0 ? &policy->firing[i] : NULL;
}

struct alert *alert_policy_reconcile(struct alert_policy *policy, int64_t now_unix_ms,
                                     size_t *count)
{
	*count = 0;
	if (policy->reconciled)
		return NULL;
	policy->reconciled = true;
	struct alert *resolves = policy->carried;
	*count = policy->carried_count;
	policy->carried = NULL;
	policy->carried_count = policy->carried_capacity = 0;
	for (size_t i = 0; i < *count; i++) {
		struct alert *a = &resolves[i];
		char summary[sizeof(a->summary)];
		snprintf(summary, sizeof(summary), "resolved (seen after a collector restart): %s",
		         a->summary);
		memcpy(a->summary, summary, sizeof(a->summary));
		a->state = ALERT_RESOLVED;
		a->at_unix_ms = now_unix_ms;
	}
	if (*count == 0) {
		free(resolves);
		return NULL;
	}
	return resolves;
}
