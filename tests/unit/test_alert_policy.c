/*
 * Unit tests for the alert policy (rules/alert_policy.c) on a fake clock:
 * for delays that hold findings back (and drop those that close in time),
 * the firing set with when each alert first fired, and the reconcile after
 * a restart. Each case is a script of steps and the transcript of what the
 * policy let out, run the way collector/alerts/ runs it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "alert_policy.h"

#define T0_UNIX 1795546800000LL /* the wall clock when the fake monotonic clock reads 0 */

#define M1 "mixed-version/green/w1"
#define M2 "mixed-version/green/w2"
#define D1 "trino-down/green/w1"
#define R1 "rollback/green"
#define L1 "lb-switch-failed/green"

enum op {
	OPEN,      /* a finding opens: published firing */
	CLOSE,     /* it closes: published resolved */
	EVENT,     /* a one-shot event is published */
	TICK,      /* the due held findings are let out (alerts_flush) */
	CARRY,     /* loaded from the firing set saved before the restart */
	RECONCILE, /* the first tick after the restart is done */
};

struct step {
	int64_t at_ms; /* on the fake monotonic clock */
	enum op op;
	const char *key; /* "<rule>/<cluster>[/<subject>]" */
};

struct policy_case {
	const char *name;
	int64_t for_ms[FINDING_KIND_COUNT];
	struct step steps[8];
	size_t step_count;
	/*
	 * What came out, step by step: "held KEY", "dropped KEY", or "sent KEY
	 * STATE since=MS" (when it first fired, on the fake clock) with " saved"
	 * when the firing set to save changed.
	 */
	const char *want;
	const char *firing; /* the firing set at the end, keys sorted */
};

static const struct policy_case cases[] = {
        {"a rule without a delay fires and resolves at once",
         {0},
         {{0, OPEN, M1}, {500, CLOSE, M1}},
         2,
         "sent " M1 " firing since=0 saved; sent " M1 " resolved since=0 saved",
         ""},
        {"a delayed finding is held until due and fires at the first tick after",
         {[FINDING_MIXED_VERSION] = 1000},
         {{0, OPEN, M1}, {999, TICK, NULL}, {1000, TICK, NULL}, {1200, TICK, NULL}},
         4,
         "held " M1 "; sent " M1 " firing since=0 saved",
         M1},
        {"a delayed finding that closes in time is dropped and never sent",
         {[FINDING_MIXED_VERSION] = 1000},
         {{0, OPEN, M1}, {200, CLOSE, M1}, {1500, TICK, NULL}},
         3,
         "held " M1 "; dropped " M1,
         ""},
        {"the delay is per rule: another rule fires at once",
         {[FINDING_MIXED_VERSION] = 1000},
         {{0, OPEN, M1}, {0, OPEN, D1}, {1000, TICK, NULL}},
         3,
         "held " M1 "; sent " D1 " firing since=0 saved; sent " M1 " firing since=0 saved",
         M1 " " D1},
        {"held again, a finding keeps its due time and takes the fresher alert",
         {[FINDING_MIXED_VERSION] = 1000},
         {{0, OPEN, M1}, {600, OPEN, M1}, {999, TICK, NULL}, {1000, TICK, NULL}},
         4,
         "held " M1 "; held " M1 "; sent " M1 " firing since=600 saved",
         M1},
        {"only the due findings leave the hold",
         {[FINDING_MIXED_VERSION] = 1000},
         {{0, OPEN, M1}, {500, OPEN, M2}, {1000, TICK, NULL}, {1500, TICK, NULL}},
         4,
         "held " M1 "; held " M2 "; sent " M1 " firing since=0 saved; sent " M2
         " firing since=500 saved",
         M1 " " M2},
        {"a finding that fires again keeps when it first fired, in its resolve too",
         {0},
         {{0, OPEN, M1}, {300, OPEN, M1}, {900, CLOSE, M1}},
         3,
         "sent " M1 " firing since=0 saved; sent " M1 " firing since=0 saved; sent " M1
         " resolved since=0 saved",
         ""},
        {"an event is sent at once and never fires",
         {[FINDING_MIXED_VERSION] = 1000},
         {{0, EVENT, R1}},
         1,
         "sent " R1 " event since=0",
         ""},
        {"an event named like a delayed rule is still sent at once",
         {[FINDING_LB_SWITCH_FAILED] = 1000},
         {{0, EVENT, L1}},
         1,
         "sent " L1 " event since=0",
         ""},
        {"the resolve of what never fired is sent and saves nothing",
         {0},
         {{0, CLOSE, M1}},
         1,
         "sent " M1 " resolved since=0",
         ""},
        {"after a restart what fires again fires at once, the rest is resolved",
         {[FINDING_MIXED_VERSION] = 1000, [FINDING_TRINO_DOWN] = 1000},
         {{-5000, CARRY, M1}, {-5000, CARRY, D1}, {100, OPEN, M1}, {100, RECONCILE, NULL}},
         4,
         "sent " M1 " firing since=100 saved; sent " D1 " resolved since=100",
         M1},
        {"the reconcile resolves once",
         {0},
         {{-5000, CARRY, D1}, {100, RECONCILE, NULL}, {200, RECONCILE, NULL}},
         3,
         "sent " D1 " resolved since=100",
         ""},
        {"what was carried over and closed before the reconcile is resolved once",
         {0},
         {{-5000, CARRY, D1}, {50, CLOSE, D1}, {100, RECONCILE, NULL}},
         3,
         "sent " D1 " resolved since=50 saved",
         ""},
        {"nothing carried over: the reconcile resolves nothing",
         {0},
         {{0, OPEN, M1}, {100, RECONCILE, NULL}},
         2,
         "sent " M1 " firing since=0 saved",
         M1},
};

static struct alert make_alert(const char *key, enum alert_state state, int64_t at_ms)
{
	struct alert a;
	memset(&a, 0, sizeof(a));
	snprintf(a.dedup_key, sizeof(a.dedup_key), "%s", key);
	snprintf(a.rule, sizeof(a.rule), "%.*s", (int)strcspn(key, "/"), key);
	snprintf(a.summary, sizeof(a.summary), "%s at %lld", key, (long long)at_ms);
	a.severity = SEVERITY_CRITICAL;
	a.state = state;
	a.at_unix_ms = T0_UNIX + at_ms;
	return a;
}

/* Appends TEXT to the transcript LOG, after a "; " unless it is the first. */
static void say(char *log, size_t len, const char *text)
{
	size_t used = strlen(log);
	snprintf(log + used, len - used, "%s%s", used > 0 ? "; " : "", text);
}

/* What collector/alerts/ does with an alert the policy lets out. */
static void send(struct alert_policy *policy, const struct alert *a, char *log, size_t len)
{
	int64_t started = 0;
	bool changed = false;
	assert_int_equal(alert_policy_track(policy, a, &started, &changed), 0);
	char line[512];
	snprintf(line, sizeof(line), "sent %s %s since=%lld%s", a->dedup_key,
	         alert_state_name(a->state), (long long)(started - T0_UNIX),
	         changed ? " saved" : "");
	say(log, len, line);
}

static void publish(struct alert_policy *policy, const struct alert *a, int64_t now_mono_ms,
                    char *log, size_t len)
{
	char line[512];
	switch (alert_policy_decide(policy, a, now_mono_ms)) {
	case ALERT_VERDICT_SEND:
		send(policy, a, log, len);
		break;
	case ALERT_VERDICT_HOLD:
		snprintf(line, sizeof(line), "held %s", a->dedup_key);
		say(log, len, line);
		break;
	case ALERT_VERDICT_DROP:
		snprintf(line, sizeof(line), "dropped %s", a->dedup_key);
		say(log, len, line);
		break;
	}
}

static void run_step(struct alert_policy *policy, const struct step *s, char *log, size_t len)
{
	static const enum alert_state states[] = {[OPEN] = ALERT_FIRING,
	                                          [CLOSE] = ALERT_RESOLVED,
	                                          [EVENT] = ALERT_EVENT,
	                                          [CARRY] = ALERT_FIRING};
	struct alert a;
	switch (s->op) {
	case OPEN:
	case CLOSE:
	case EVENT:
		a = make_alert(s->key, states[s->op], s->at_ms);
		publish(policy, &a, s->at_ms, log, len);
		break;
	case CARRY:
		a = make_alert(s->key, states[s->op], s->at_ms);
		assert_int_equal(alert_policy_carry(policy, &a), 0);
		break;
	case TICK:
		while (alert_policy_next_due(policy, s->at_ms, &a))
			send(policy, &a, log, len);
		break;
	case RECONCILE: {
		size_t count = 0;
		struct alert *resolves = alert_policy_reconcile(policy, T0_UNIX + s->at_ms, &count);
		for (size_t i = 0; i < count; i++)
			publish(policy, &resolves[i], s->at_ms, log, len);
		free(resolves);
		break;
	}
	}
}

static int compare_keys(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void firing_keys(const struct alert_policy *policy, char *out, size_t len)
{
	const char *keys[16];
	size_t n = 0;
	for (size_t i = 0; i < policy->firing_count && n < 16; i++)
		keys[n++] = policy->firing[i].dedup_key;
	qsort(keys, n, sizeof(keys[0]), compare_keys);
	out[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		size_t used = strlen(out);
		snprintf(out + used, len - used, "%s%s", i > 0 ? " " : "", keys[i]);
	}
}

static void test_policy_table(void **state)
{
	(void)state;
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		const struct policy_case *tc = &cases[c];
		struct alert_policy policy;
		alert_policy_init(&policy, tc->for_ms);
		char log[2048] = "", firing[1024];
		for (size_t i = 0; i < tc->step_count; i++)
			run_step(&policy, &tc->steps[i], log, sizeof(log));
		firing_keys(&policy, firing, sizeof(firing));
		if (strcmp(log, tc->want) != 0)
			fail_msg("%s:\n got  %s\n want %s", tc->name, log, tc->want);
		if (strcmp(firing, tc->firing) != 0)
			fail_msg("%s: firing\n got  '%s'\n want '%s'", tc->name, firing,
			         tc->firing);
		alert_policy_cleanup(&policy);
	}
}

static void test_reconcile_says_why_it_resolves(void **state)
{
	(void)state;
	struct alert_policy policy;
	alert_policy_init(&policy, NULL);
	struct alert a = make_alert(D1, ALERT_FIRING, -5000);
	snprintf(a.summary, sizeof(a.summary), "green-worker-1: Trino is down");
	assert_int_equal(alert_policy_carry(&policy, &a), 0);
	assert_int_equal(policy.carried_count, 1);
	size_t count = 0;
	struct alert *resolves = alert_policy_reconcile(&policy, T0_UNIX + 100, &count);
	assert_int_equal(count, 1);
	assert_int_equal(resolves[0].state, ALERT_RESOLVED);
	assert_int_equal(resolves[0].at_unix_ms, T0_UNIX + 100);
	assert_string_equal(resolves[0].dedup_key, D1);
	assert_string_equal(resolves[0].summary,
	                    "resolved (seen after a collector restart): green-worker-1: Trino is "
	                    "down");
	assert_int_equal(policy.carried_count, 0);
	assert_true(policy.reconciled);
	free(resolves);
	alert_policy_cleanup(&policy);
}

static void test_firing_lookup(void **state)
{
	(void)state;
	struct alert_policy policy;
	alert_policy_init(&policy, NULL);
	int64_t started;
	bool changed;
	for (int i = 0; i < 40; i++) { /* past the first allocation */
		char key[64];
		snprintf(key, sizeof(key), "node-stale/green/w%d", i);
		struct alert a = make_alert(key, ALERT_FIRING, i);
		assert_int_equal(alert_policy_track(&policy, &a, &started, &changed), 0);
		assert_true(changed);
	}
	const struct alert *found = alert_policy_firing(&policy, "node-stale/green/w17");
	assert_non_null(found);
	assert_int_equal(found->at_unix_ms, T0_UNIX + 17);
	assert_null(alert_policy_firing(&policy, "node-stale/green/w40"));
	assert_null(alert_policy_firing(&policy, ""));
	alert_policy_cleanup(&policy);
	alert_policy_cleanup(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_policy_table),
	        cmocka_unit_test(test_reconcile_says_why_it_resolves),
	        cmocka_unit_test(test_firing_lookup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
