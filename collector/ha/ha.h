/*
 * High availability on etcd (docs/DESIGN.md §6, HA): the collector's one
 * door to it. Under PREFIX: `leader` (the election's key, on a lease),
 * `state` (the cutover state, written by the leader only, each write
 * compared against the revision it last wrote and against the leader key
 * still holding its id), `requests/` (operators' requests a follower took,
 * for the leader to carry out) and `answers/` (the leader's answers to them).
 *
 * Every collector keeps ingesting, evaluating and serving its API; only the
 * one that acts (ha_acting) steps the cutover, switches the load balancer and
 * sends cutover events. The others mirror the state from etcd. Nothing here
 * blocks: requests go out from ha_tick and come back through the hooks.
 */
#ifndef TG_HA_H
#define TG_HA_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cutover.h"

struct event_base;
struct ha;

struct ha_options {
	const char *const *endpoints; /* etcd's URLs, NULL-terminated */
	const char *prefix;           /* "/trino-guard/production" */
	const char *id;               /* this collector's name, unique among them */
	int64_t lease_ttl_ms;         /* whole seconds */
	int64_t request_timeout_ms;
	const char *ca_file, *cert_file, *key_file; /* NULL: none */
	const char *username, *password;            /* etcd's auth; NULL: none */
};

/* An operator's request, as a follower hands it to the leader. */
struct ha_request {
	enum cutover_event_kind kind; /* EVENT_CUTOVER, _ROLLBACK, _PAUSE, _RESUME, _CONFIRM */
	char cluster[CUTOVER_NAME_LEN];
	bool force;
	char reason[CUTOVER_TEXT_LEN];
	char by[200]; /* who asked, and through which collector */
};

struct ha_hooks {
	/*
	 * etcd's cutover state, TEXT (LEN bytes; NULL: etcd has none yet). For a
	 * follower: the state to mirror, each time it changed. With TAKEOVER: we
	 * have just become the leader (or must read the state again after a
	 * failed write) and act on nothing before this.
	 */
	void (*state)(const char *text, size_t len, bool takeover, void *arg);
	/* The leader carries out a follower's request: the answer (new) and its status. */
	json_t *(*carry_out)(const struct ha_request *request, int *status, void *arg);
	/* The save numbered SEQ is in etcd (OK), or not and the state is read again. */
	void (*saved)(uint64_t seq, bool ok, void *arg);
	void *arg;
};

/* A forwarded request's answer: STATUS and the leader's answer (taken). */
typedef void (*ha_forwarded_fn)(int status, json_t *answer, void *arg);

/* Joins the election under OPTIONS on BASE. NULL with ERR. */
struct ha *ha_new(struct event_base *base, const struct ha_options *options,
                  const struct ha_hooks *hooks, char *err, size_t err_len);

/* Answers pending forwards with 503, cancels what is in flight and frees. */
void ha_free(struct ha *ha);

/* The election's step, the state's mirror or first read, the leader's requests: at NOW_MS. */
void ha_tick(struct ha *ha, int64_t now_ms);

/*
 * Whether this collector may act now: it leads, its lease cannot lapse
 * within the margin an action needs, and it has read the state since it
 * became the leader.
 */
bool ha_acting(const struct ha *ha, int64_t now_ms);

/*
 * Writes the state TEXT (taken) to etcd after the writes before it; its
 * number, reported by the saved hook. 0 when this collector does not act:
 * nothing is written.
 */
uint64_t ha_save(struct ha *ha, char *text, int64_t now_ms);

/*
 * Hands REQUEST to the leader through etcd; DONE(status, answer, ARG) runs
 * once, later: the leader's answer, or 202 when it has not answered within
 * a few seconds, or 503 when etcd cannot be reached. 0, or -1 with ERR
 * (DONE not called).
 */
int ha_forward(struct ha *ha, const struct ha_request *request, ha_forwarded_fn done, void *arg,
               int64_t now_ms, char *err, size_t err_len);

/* Whether etcd has not answered for a lease's time. */
bool ha_etcd_lost(const struct ha *ha, int64_t now_ms);

/* Why etcd last failed us ("" when it answered). */
const char *ha_last_error(const struct ha *ha);

/* Who leads as far as etcd last said ("" unknown), and this collector's id. */
const char *ha_leader(const struct ha *ha);
const char *ha_id(const struct ha *ha);

/* The "ha" object of /v1/status (new). */
json_t *ha_status(const struct ha *ha, int64_t now_ms);

struct ha_metrics {
	bool leader;                 /* this collector acts */
	bool etcd_up;                /* etcd answered within a lease's time */
	uint64_t terms;              /* times it became the leader */
	uint64_t requests_carried;   /* followers' requests carried out as the leader */
	uint64_t requests_forwarded; /* requests handed to the leader */
	uint64_t saves_failed;       /* state writes etcd refused or did not answer */
};

void ha_metrics(const struct ha *ha, int64_t now_ms, struct ha_metrics *out);

#endif
