/*
 * The cutover state machine (docs/DESIGN.md §6), pure: (state, event, facts) ->
 * (new state, actions, answer). The collector feeds it requests, ticks and
 * what the load balancer did or shows, carries out the actions (switch the
 * LB, alert), journals every transition and persists the state.
 *
 *   STEADY(active=A, standby=B) --cutover(B), gate ok--> SWITCHING(A -> B)
 *   SWITCHING --LB switched--> WATCHING(active=B, previous=A, until)
 *   SWITCHING --LB failed--> STEADY(A), critical alert
 *   WATCHING --degraded, A healthy--> ROLLING_BACK(B -> A)
 *   WATCHING --degraded, A not healthy--> WATCHING, critical "B degraded and A unavailable"
 *   WATCHING --until reached--> STEADY(active=B, standby=A), "A may be shut down"
 *   ROLLING_BACK --LB switched--> ROLLED_BACK(active=A, failed=B)
 *   ROLLING_BACK --LB failed--> WATCHING, critical, retried after a pause
 *   STEADY --LB seen on B without us--> WATCHING (external cutover)
 *   restarted in SWITCHING(A -> B): LB on A --> STEADY(A), "interrupted";
 *       LB on B, elsewhere or unreadable --> the switch to B again (idempotent)
 *   restarted in ROLLING_BACK(B -> A) --> the switch to A again, whatever the LB says
 *   first start, no active cluster known: the one the LB points at becomes active
 * Paused or dry-run: decisions are alerted, the LB is not touched.
 * Without a driver ([lb] driver = none, facts.manual_lb) people move the LB:
 *   STEADY --cutover(B)--> SWITCHING(A -> B), "switch the LB to B by hand now"
 *   SWITCHING --confirmed, the LB or the traffic seen on B--> WATCHING(active=B)
 *   SWITCHING --rollback--> STEADY(A): the switch by hand is called off
 *   WATCHING --degraded--> ROLLING_BACK(B -> A), "switch the LB back to A by hand now"
 *   ROLLING_BACK --confirmed, the LB or the traffic seen on A--> ROLLED_BACK(active=A)
 *   a restart while a switch by hand is awaited: reminded, nothing is switched
 */
#ifndef TG_CUTOVER_H
#define TG_CUTOVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "degradation.h"
#include "findings.h"
#include "gate.h"

#define CUTOVER_NAME_LEN    64
#define CUTOVER_TEXT_LEN    512
#define CUTOVER_MAX_ACTIONS 4
#define CUTOVER_RETRY_MS    5000

enum cutover_phase {
	PHASE_STEADY,
	PHASE_SWITCHING,
	PHASE_WATCHING,
	PHASE_ROLLING_BACK,
	PHASE_ROLLED_BACK,
};

struct cutover_state {
	enum cutover_phase phase;
	char active[CUTOVER_NAME_LEN]; /* where the LB sends users */
	char other[CUTOVER_NAME_LEN];  /* standby; switch target; previous; or the failed one */
	/* Times on the monotonic clock (facts.now_ms): a wall-clock step neither
	 * ends a watch early nor blocks a retry. cutover.json holds them as wall
	 * time (rules/cutover_times.h), since a monotonic reading dies with the host. */
	int64_t since_ms;         /* watch start */
	int64_t until_ms;         /* watch end */
	struct baseline baseline; /* the old cluster's, taken at cutover */
	bool paused;
	bool degraded_alerted; /* "degraded, cannot roll back" said once per watch */
	int64_t retry_ms;      /* no new rollback attempt before this */
	char reason[CUTOVER_TEXT_LEN];
};

enum cutover_event_kind {
	EVENT_CUTOVER,  /* to, force, reason */
	EVENT_ROLLBACK, /* force, reason */
	EVENT_PAUSE,
	EVENT_RESUME,
	EVENT_TICK,
	EVENT_LB_RESULT,   /* cluster, ok, error: a switch we asked for finished */
	EVENT_LB_OBSERVED, /* cluster: what the LB points at now */
	/*
	 * The collector started in this state and no switch of its own is under
	 * way (one may have been cut off by the crash): cluster is what the LB
	 * points at, "" when it cannot be read.
	 */
	EVENT_RECOVER,
	/*
	 * The operator says the LB was switched by hand (manual_lb): cluster
	 * is where it now points, "" for the switch awaited.
	 */
	EVENT_CONFIRM,
	/*
	 * Users' queries were seen moving to CLUSTER (rules/traffic_shift.h),
	 * TEXT the evidence: ends a switch by hand (manual_lb) like the LB seen
	 * on the target; ignored otherwise.
	 */
	EVENT_TRAFFIC_MOVED,
};

struct cutover_event {
	enum cutover_event_kind kind;
	char cluster[CUTOVER_NAME_LEN];
	bool force;
	bool ok;
	char text[CUTOVER_TEXT_LEN]; /* reason or error */
};

/* What the collector knows at this moment. */
struct cutover_facts {
	int64_t now_ms; /* the monotonic clock */
	bool dry_run;
	bool manual_lb; /* no [lb] driver: people switch the LB and confirm it */
	/* with manual_lb, what else ends the wait: [lb.none]'s read of the LB, the traffic */
	bool hand_switch_read, hand_switch_traffic;
	int64_t watch_ms;
	bool target_known;              /* the event's cluster has a [cluster.NAME] section */
	const struct gate_result *gate; /* for EVENT_CUTOVER's target */
	struct baseline baseline;       /* the active cluster's, for a watch that starts now */
	enum verdict verdict;           /* of the watched cluster */
	char explanation[CUTOVER_TEXT_LEN];
	bool previous_healthy; /* a rollback target: live coordinator, min_workers, not mixed */
	char previous_problem[CUTOVER_TEXT_LEN];
	bool switch_in_flight; /* a switch we asked for has not answered yet */
	/* the drain gate (drain.h): the old cluster has not been quiet long enough yet */
	bool previous_busy;
	char previous_busy_why[CUTOVER_TEXT_LEN];
	/* the drain action is configured (and the gate on): stable also shuts the old cluster down */
	bool drain_shutdown;
	/* the standby if the event's cluster is the active one: the first other cluster */
	char standby_of_event[CUTOVER_NAME_LEN];
};

enum cutover_action_kind {
	ACTION_SWITCH_LB,   /* cluster */
	ACTION_ALERT,       /* severity, name, text */
	ACTION_START_WATCH, /* reset the degradation detector against state.baseline */
	/* the drain action: send SHUTTING_DOWN to the workers of cluster, the drained old one */
	ACTION_DRAIN_SHUTDOWN,
};

struct cutover_action {
	enum cutover_action_kind kind;
	char cluster[CUTOVER_NAME_LEN];
	enum severity severity;
	char name[32]; /* "cutover", "rollback", "stable", ... */
	char text[CUTOVER_TEXT_LEN];
};

struct cutover_result {
	struct cutover_state next;
	struct cutover_action actions[CUTOVER_MAX_ACTIONS];
	size_t action_count;
	int status;                    /* for requests: 200, 202, 400, 409 */
	char answer[CUTOVER_TEXT_LEN]; /* for requests: why */
	bool changed;                  /* next differs from the state given */
};

/* The state at first start: STEADY with ACTIVE (may be "") and STANDBY. */
void cutover_state_init(struct cutover_state *state, const char *active, const char *standby);

/* True when A and B are the same state, field by field (never their padding). */
bool cutover_state_equal(const struct cutover_state *a, const struct cutover_state *b);

void cutover_step(const struct cutover_state *state, const struct cutover_event *event,
                  const struct cutover_facts *facts, struct cutover_result *result);

const char *cutover_phase_name(enum cutover_phase phase);

#endif
