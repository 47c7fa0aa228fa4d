/*
 * ha.h: the election (election.c) and, around it, the three things the
 * collectors share through etcd, each one request at a time from ha_tick:
 * the state key (the leader writes it, compared against the revision it
 * read or last wrote and against the leader key's value; followers read it
 * every MIRROR_EVERY_MS), the requests a follower puts (on its own lease, so
 * they die with it) and the leader takes (deleted first: a request is carried
 * out at most once), and the answers the leader puts for the follower to
 * read.
 */
#include "ha.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "election.h"
#include "etcd.h"
#include "http_client.h"
#include "log.h"

#define MIRROR_EVERY_MS   500  /* a follower reads the state this often */
#define REQUESTS_EVERY_MS 250  /* the leader looks for requests this often */
#define ANSWER_EVERY_MS   100  /* a follower looks for its answer this often */
#define FORWARD_WAIT_MS   5000 /* then it answers 202: queued */
#define MAX_FORWARDS      16
#define KEY_LEN           320

/* A request this collector handed to the leader, waiting for its answer. */
struct forward {
	struct ha *ha;
	bool used;
	char request_key[KEY_LEN];
	char answer_key[KEY_LEN];
	int64_t deadline_ms;
	int64_t next_look_ms;
	bool put_done; /* etcd has the request */
	bool in_flight;
	ha_forwarded_fn done;
	void *arg;
};

struct ha {
	struct http_client *http;
	struct etcd *etcd;
	struct election *election;
	struct ha_hooks hooks;
	char prefix[220];
	char leader_key[KEY_LEN], state_key[KEY_LEN], requests_key[KEY_LEN], answers_key[KEY_LEN];
	int64_t margin_ms;
	int64_t started_ms;

	/* the state key */
	bool synced;            /* acting: read since we lead, every write since succeeded */
	bool state_in_flight;   /* a read or a write */
	bool reading_to_lead;   /* the read in flight was sent while we led */
	int64_t state_revision; /* its mod revision as last read or written; 0: absent */
	int64_t next_mirror_ms;
	char *pending_text;  /* the next write, the latest state; NULL: none */
	bool write_not_sent; /* the last write could not even start: why */
	char write_error[256];
	uint64_t pending_seq, writing_seq, last_seq;

	/* the leader's requests */
	bool requests_in_flight;
	int64_t next_requests_ms;
	uint64_t forward_count;

	struct forward forwards[MAX_FORWARDS];
	struct ha_metrics counts; /* the counters; leader/etcd_up filled in on reading */
};

static int64_t mono_now(void);

struct ha *ha_new(struct event_base *base, const struct ha_options *o, const struct ha_hooks *hooks,
                  char *err, size_t err_len)
{
	struct ha *ha = calloc(1, sizeof(*ha));
	if (ha == NULL) {
		snprintf(err, err_len, "out of memory");
		return NULL;
	}
	ha->hooks = *hooks;
	snprintf(ha->prefix, sizeof(ha->prefix), "%s", o->prefix);
	size_t n = strlen(ha->prefix);
	while (n > 1 && ha->prefix[n - 1] == '/')
		ha->prefix[--n] = '\0';
	snprintf(ha->leader_key, sizeof(ha->leader_key), "%s/leader", ha->prefix);
	snprintf(ha->state_key, sizeof(ha->state_key), "%s/state", ha->prefix);
	snprintf(ha->requests_key, sizeof(ha->requests_key), "%s/requests/", ha->prefix);
	snprintf(ha->answers_key, sizeof(ha->answers_key), "%s/answers/", ha->prefix);
	/* an action started with a third of the lease left ends long before it lapses */
	ha->margin_ms = o->lease_ttl_ms / 3;
	ha->started_ms = mono_now();
	struct etcd_options eo = {
	        .endpoints = o->endpoints,
	        .timeout_ms = o->request_timeout_ms,
	        .ca_file = o->ca_file,
	        .cert_file = o->cert_file,
	        .key_file = o->key_file,
	        .username = o->username,
	        .password = o->password,
	};
	if ((ha->http = http_client_new(base, err, err_len)) == NULL ||
	    (ha->etcd = etcd_new(ha->http, &eo, err, err_len)) == NULL ||
	    (ha->election = election_new(ha->etcd, ha->leader_key, o->id, o->lease_ttl_ms, NULL,
	                                 err, err_len)) == NULL) {
		ha_free(ha);
		return NULL;
	}
	return ha;
}

static void forward_finish(struct forward *f, int status, json_t *answer)
{
	ha_forwarded_fn done = f->done;
	void *arg = f->arg;
	etcd_cancel(f->ha->etcd, f);
	f->used = false;
	done(status, answer, arg);
}

void ha_free(struct ha *ha)
{
	if (ha == NULL)
		return;
	for (size_t i = 0; i < MAX_FORWARDS; i++)
		if (ha->forwards[i].used && ha->etcd != NULL)
			forward_finish(&ha->forwards[i], 503,
			               json_pack("{s:s}", "error", "the collector is stopping"));
	election_free(ha->election);
	etcd_free(ha->etcd);
	http_client_free(ha->http);
	free(ha->pending_text);
	free(ha);
}

static int64_t mono_now(void)
{
	return clock_mono_ms();
}

static bool leads(const struct ha *ha, int64_t now_ms)
{
	return leadership_may_act(election_view(ha->election), now_ms, ha->margin_ms);
}

bool ha_acting(const struct ha *ha, int64_t now_ms)
{
	return ha->synced && leads(ha, now_ms);
}

/* Stops acting until the state is read again (a write failed, or we lost the lead). */
static void unsync(struct ha *ha)
{
	ha->synced = false;
	if (ha->pending_text != NULL) {
		free(ha->pending_text);
		ha->pending_text = NULL;
		if (ha->hooks.saved != NULL)
			ha->hooks.saved(ha->pending_seq, false, ha->hooks.arg);
	}
}

/* ----- the state key ----- */

static void send_write(struct ha *ha);

static void on_state_read(const struct etcd_result *r, void *arg)
{
	struct ha *ha = arg;
	ha->state_in_flight = false;
	int64_t now_ms = mono_now();
	ha->next_mirror_ms = now_ms + MIRROR_EVERY_MS;
	if (!r->ok) {
		log_debug("etcd: cannot read the state: %s", r->error);
		return;
	}
	const struct etcd_kv *kv = r->kv_count > 0 ? &r->kvs[0] : NULL;
	int64_t revision = kv != NULL ? kv->mod_revision : 0;
	/* a read sent before we led may predate the old leader's last write */
	bool takeover = ha->reading_to_lead && leads(ha, now_ms);
	if (!takeover && leads(ha, now_ms))
		return; /* the next tick reads it again, as the leader */
	if (!takeover && ha->state_revision == revision && ha->state_revision != 0)
		return; /* a follower, and nothing changed */
	ha->state_revision = revision;
	if (takeover)
		ha->synced = true;
	if (ha->hooks.state != NULL && (kv != NULL || takeover))
		ha->hooks.state(kv != NULL ? kv->value : NULL, kv != NULL ? kv->value_len : 0,
		                takeover, ha->hooks.arg);
}

static void read_state(struct ha *ha, bool to_lead)
{
	char err[256];
	ha->state_in_flight = true;
	ha->reading_to_lead = to_lead;
	if (etcd_get(ha->etcd, ha->state_key, false, on_state_read, ha, err, sizeof(err)) != 0) {
		ha->state_in_flight = false;
		log_warn("etcd: cannot read the state: %s", err);
	}
}

static void on_state_written(const struct etcd_result *r, void *arg)
{
	struct ha *ha = arg;
	ha->state_in_flight = false;
	uint64_t seq = ha->writing_seq;
	bool ok = r->ok && r->succeeded;
	if (ok) {
		ha->state_revision = r->revision;
	} else {
		ha->counts.saves_failed++;
		log_error("etcd: the cutover state was not written (%s): acting stops until it is "
		          "read again",
		          !r->ok ? r->error : "another collector leads or wrote it");
		/* a failed compare shows the leader key as it is */
		bool seen = false;
		for (size_t i = 0; r->ok && i < r->kv_count; i++)
			if (strcmp(r->kvs[i].key, ha->leader_key) == 0) {
				election_seen_holder(ha->election, r->kvs[i].value, mono_now());
				seen = true;
			}
		if (r->ok && !seen)
			election_seen_holder(ha->election, NULL, mono_now());
		unsync(ha); /* the writes queued after it fail with it */
	}
	if (ha->hooks.saved != NULL)
		ha->hooks.saved(seq, ok, ha->hooks.arg);
	if (ok && ha->pending_text != NULL)
		send_write(ha);
}

static void send_write(struct ha *ha)
{
	char *text = ha->pending_text;
	ha->pending_text = NULL;
	ha->writing_seq = ha->pending_seq;
	ha->state_in_flight = true;
	char err[256];
	const struct leadership *l = election_view(ha->election);
	int rc = etcd_put_guarded(ha->etcd, ha->state_key, text, ha->state_revision, ha->leader_key,
	                          l->self, on_state_written, ha, err, sizeof(err));
	free(text);
	if (rc != 0) {
		/* reported from the next tick: ha_save's caller hears of it after it returns */
		ha->state_in_flight = false;
		ha->write_not_sent = true;
		snprintf(ha->write_error, sizeof(ha->write_error), "%s", err);
	}
}

uint64_t ha_save(struct ha *ha, char *text, int64_t now_ms)
{
	if (!ha_acting(ha, now_ms)) {
		free(text);
		return 0;
	}
	free(ha->pending_text); /* a later state replaces one not written yet */
	ha->pending_text = text;
	ha->pending_seq = ++ha->last_seq;
	if (!ha->state_in_flight)
		send_write(ha);
	return ha->pending_seq;
}

/* ----- the leader's side of requests ----- */

static const struct {
	const char *name;
	enum cutover_event_kind kind;
} request_kinds[] = {
        {"cutover", EVENT_CUTOVER}, {"rollback", EVENT_ROLLBACK}, {"pause", EVENT_PAUSE},
        {"resume", EVENT_RESUME},   {"confirm", EVENT_CONFIRM},
};

static const char *kind_name(enum cutover_event_kind kind)
{
	for (size_t i = 0; i < sizeof(request_kinds) / sizeof(request_kinds[0]); i++)
		if (request_kinds[i].kind == kind)
			return request_kinds[i].name;
	return NULL;
}

static int decode_request(const char *text, size_t len, struct ha_request *out)
{
	json_error_t error;
	json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &error);
	const char *kind = NULL, *cluster = "", *reason = "", *by = "";
	int force = 0;
	int rc = -1;
	memset(out, 0, sizeof(*out));
	if (root != NULL &&
	    json_unpack(root, "{s:s,s?s,s?b,s?s,s?s}", "kind", &kind, "cluster", &cluster, "force",
	                &force, "reason", &reason, "by", &by) == 0) {
		for (size_t i = 0; i < sizeof(request_kinds) / sizeof(request_kinds[0]); i++)
			if (strcmp(kind, request_kinds[i].name) == 0) {
				out->kind = request_kinds[i].kind;
				rc = 0;
			}
		snprintf(out->cluster, sizeof(out->cluster), "%s", cluster);
		snprintf(out->reason, sizeof(out->reason), "%s", reason);
		snprintf(out->by, sizeof(out->by), "%s", by);
		out->force = force;
	}
	json_decref(root);
	return rc;
}

static void on_answer_put(const struct etcd_result *r, void *arg)
{
	(void)arg;
	if (!r->ok)
		log_warn("etcd: cannot put a request's answer: %s", r->error);
}

/* The request taken: carried out, and its answer left for the follower. */
struct taken {
	struct ha *ha;
	char key[KEY_LEN];
	struct ha_request request;
	bool valid;
};

static void on_request_taken(const struct etcd_result *r, void *arg)
{
	struct taken *t = arg;
	struct ha *ha = t->ha;
	ha->requests_in_flight = false;
	int64_t now_ms = mono_now();
	if (!r->ok || !r->succeeded || !ha_acting(ha, now_ms)) {
		free(t);
		return; /* gone already, or we no longer act: the next leader finds it */
	}
	int status = 400;
	json_t *answer = NULL;
	if (t->valid && ha->hooks.carry_out != NULL)
		answer = ha->hooks.carry_out(&t->request, &status, ha->hooks.arg);
	else
		answer = json_pack("{s:s}", "error", "the request could not be read");
	ha->counts.requests_carried++;
	const struct leadership *l = election_view(ha->election);
	json_t *out =
	        json_pack("{s:i,s:o?,s:s}", "status", status, "answer", answer, "by", l->self);
	char *text = out != NULL ? json_dumps(out, JSON_COMPACT) : NULL;
	json_decref(out);
	char answer_key[KEY_LEN * 2];
	snprintf(answer_key, sizeof(answer_key), "%s%s", ha->answers_key,
	         t->key + strlen(ha->requests_key));
	char err[256];
	/* on our lease: an answer nobody reads goes when we do */
	if (text == NULL || etcd_put_if_absent(ha->etcd, answer_key, text, l->lease_id,
	                                       on_answer_put, ha, err, sizeof(err)) != 0)
		log_warn("etcd: cannot put the answer to %s", t->key);
	free(text);
	free(t);
}

static void on_requests(const struct etcd_result *r, void *arg)
{
	struct ha *ha = arg;
	ha->requests_in_flight = false;
	ha->next_requests_ms = mono_now() + REQUESTS_EVERY_MS;
	if (!r->ok || r->kv_count == 0 || !ha_acting(ha, mono_now()))
		return;
	/* the oldest first; one at a time, each deleted before it is carried out */
	const struct etcd_kv *oldest = &r->kvs[0];
	for (size_t i = 1; i < r->kv_count; i++)
		if (r->kvs[i].create_revision < oldest->create_revision)
			oldest = &r->kvs[i];
	struct taken *t = calloc(1, sizeof(*t));
	if (t == NULL || strlen(oldest->key) >= sizeof(t->key)) {
		free(t);
		return;
	}
	t->ha = ha;
	snprintf(t->key, sizeof(t->key), "%s", oldest->key);
	t->valid = decode_request(oldest->value, oldest->value_len, &t->request) == 0;
	char err[256];
	ha->requests_in_flight = true;
	if (etcd_delete(ha->etcd, t->key, oldest->mod_revision, on_request_taken, t, err,
	                sizeof(err)) != 0) {
		ha->requests_in_flight = false;
		free(t);
	}
	ha->next_requests_ms = 0; /* more may wait: look again at the next tick */
}

/* ----- a follower's side of requests ----- */

static void on_answer_read(const struct etcd_result *r, void *arg)
{
	struct forward *f = arg;
	f->in_flight = false;
	if (!r->ok || r->kv_count == 0)
		return;
	json_error_t error;
	json_t *root = json_loadb(r->kvs[0].value, r->kvs[0].value_len, 0, &error);
	json_int_t status = 0;
	json_t *answer = NULL;
	const char *by = "";
	char err[256];
	(void)etcd_delete(f->ha->etcd, f->answer_key, 0, on_answer_put, f->ha, err, sizeof(err));
	if (root == NULL ||
	    json_unpack(root, "{s:I,s?o,s?s}", "status", &status, "answer", &answer, "by", &by) !=
	            0 ||
	    status < 100 || status > 599) {
		json_decref(root);
		forward_finish(
		        f, 502,
		        json_pack("{s:s}", "error", "the leader's answer could not be read"));
		return;
	}
	json_t *out = json_is_object(answer) ? json_incref(answer) : json_object();
	json_object_set_new(out, "carried_out_by", json_string(by));
	json_decref(root);
	forward_finish(f, (int)status, out);
}

static void on_request_put(const struct etcd_result *r, void *arg)
{
	struct forward *f = arg;
	f->in_flight = false;
	if (!r->ok) {
		forward_finish(
		        f, 503,
		        json_pack("{s:s,s:s}", "error",
		                  "etcd cannot be reached: the request was not handed to the "
		                  "leader",
		                  "etcd_error", r->error != NULL ? r->error : ""));
		return;
	}
	f->put_done = true;
}

static void forward_tick(struct forward *f, int64_t now_ms)
{
	struct ha *ha = f->ha;
	if (f->in_flight)
		return;
	if (now_ms >= f->deadline_ms) {
		const char *leader = ha_leader(ha);
		forward_finish(f, 202,
		               json_pack("{s:b,s:s,s:s,s:s}", "queued", 1, "request",
		                         f->request_key, "leader", leader, "note",
		                         "handed to the leader through etcd, not answered yet: "
		                         "see trino-guardctl status and events"));
		return;
	}
	if (!f->put_done || now_ms < f->next_look_ms)
		return;
	f->next_look_ms = now_ms + ANSWER_EVERY_MS;
	char err[256];
	f->in_flight = true;
	if (etcd_get(ha->etcd, f->answer_key, false, on_answer_read, f, err, sizeof(err)) != 0)
		f->in_flight = false;
}

int ha_forward(struct ha *ha, const struct ha_request *request, ha_forwarded_fn done, void *arg,
               int64_t now_ms, char *err, size_t err_len)
{
	struct forward *f = NULL;
	for (size_t i = 0; i < MAX_FORWARDS && f == NULL; i++)
		if (!ha->forwards[i].used)
			f = &ha->forwards[i];
	const char *kind = kind_name(request->kind);
	if (f == NULL || kind == NULL) {
		snprintf(err, err_len,
		         f == NULL ? "%d requests are waiting for the leader already"
		                   : "request %d cannot be handed to the leader",
		         f == NULL ? MAX_FORWARDS : (int)request->kind);
		return -1;
	}
	const struct leadership *l = election_view(ha->election);
	if (l->lease_id == 0) {
		/* a request on no lease would outlive us and could be carried out much later */
		snprintf(err, err_len, "no lease from etcd: %s",
		         l->last_error[0] ? l->last_error : "etcd has not answered");
		return -1;
	}
	json_t *body =
	        json_pack("{s:s,s:s,s:b,s:s,s:s}", "kind", kind, "cluster", request->cluster,
	                  "force", request->force, "reason", request->reason, "by", request->by);
	char *text = body != NULL ? json_dumps(body, JSON_COMPACT) : NULL;
	json_decref(body);
	if (text == NULL) {
		snprintf(err, err_len, "out of memory");
		return -1;
	}
	memset(f, 0, sizeof(*f));
	f->ha = ha;
	f->used = true;
	f->done = done;
	f->arg = arg;
	f->deadline_ms = now_ms + FORWARD_WAIT_MS;
	ha->forward_count++;
	char name[160];
	snprintf(name, sizeof(name), "%s-%lld-%llu", l->self, (long long)ha->started_ms,
	         (unsigned long long)ha->forward_count);
	snprintf(f->request_key, sizeof(f->request_key), "%s%s", ha->requests_key, name);
	snprintf(f->answer_key, sizeof(f->answer_key), "%s%s", ha->answers_key, name);
	f->in_flight = true;
	/* on our own lease: a request whose asker is gone is not carried out later */
	int rc = etcd_put_if_absent(ha->etcd, f->request_key, text, l->lease_id, on_request_put, f,
	                            err, err_len);
	free(text);
	if (rc != 0) {
		f->used = false;
		return -1;
	}
	ha->counts.requests_forwarded++;
	return 0;
}

/* ----- the tick ----- */

void ha_tick(struct ha *ha, int64_t now_ms)
{
	if (ha->write_not_sent) {
		ha->write_not_sent = false;
		struct etcd_result failed = {.ok = false, .error = ha->write_error};
		on_state_written(&failed, ha);
	}
	election_tick(ha->election, now_ms);
	bool lead = leads(ha, now_ms);
	if (!lead && ha->synced)
		unsync(ha);
	if (!ha->state_in_flight && lead && !ha->synced)
		read_state(ha, true); /* a new leader reads before it acts */
	else if (!ha->state_in_flight && !lead && now_ms >= ha->next_mirror_ms)
		read_state(ha, false);
	if (ha_acting(ha, now_ms) && !ha->requests_in_flight && now_ms >= ha->next_requests_ms) {
		char err[256];
		ha->requests_in_flight = true;
		if (etcd_get(ha->etcd, ha->requests_key, true, on_requests, ha, err, sizeof(err)) !=
		    0)
			ha->requests_in_flight = false;
	}
	for (size_t i = 0; i < MAX_FORWARDS; i++)
		if (ha->forwards[i].used)
			forward_tick(&ha->forwards[i], now_ms);
}

bool ha_etcd_lost(const struct ha *ha, int64_t now_ms)
{
	return leadership_etcd_lost(election_view(ha->election), now_ms, ha->started_ms);
}

const char *ha_last_error(const struct ha *ha)
{
	const char *why = election_view(ha->election)->last_error;
	return why[0] != '\0' ? why : "no answer";
}

const char *ha_leader(const struct ha *ha)
{
	return election_view(ha->election)->leader;
}

const char *ha_id(const struct ha *ha)
{
	return election_view(ha->election)->self;
}

json_t *ha_status(const struct ha *ha, int64_t now_ms)
{
	const struct leadership *l = election_view(ha->election);
	bool acting = ha_acting(ha, now_ms);
	return json_pack("{s:b,s:s,s:s,s:s,s:s,s:s,s:I,s:I,s:s,s:s}", "enabled", 1, "id", l->self,
	                 "role", acting ? "leader" : "follower", "leader", l->leader, "etcd",
	                 ha_etcd_lost(ha, now_ms) ? "unreachable" : "ok", "endpoint",
	                 etcd_endpoint(ha->etcd), "lease_ttl_seconds",
	                 (json_int_t)(l->ttl_ms / 1000), "terms", (json_int_t)l->terms,
	                 "last_error", l->last_error, "prefix", ha->prefix);
}

void ha_metrics(const struct ha *ha, int64_t now_ms, struct ha_metrics *out)
{
	*out = ha->counts;
	out->leader = ha_acting(ha, now_ms);
	out->etcd_up = !ha_etcd_lost(ha, now_ms);
	out->terms = election_view(ha->election)->terms;
}
