/*
 * The trino-gateway driver's switch, as a small sequence on the curl-multi
 * client: ACTIVATE -> (poll STATE until a health round newer than the
 * activate, or the target's agents, prove it HEALTHY) -> DEACTIVATE each
 * other backend -> VERIFY; and the read of every backend's health. Each
 * request is retried with a doubling backoff; activating first and
 * deactivating last leaves no moment without a backend.
 */
#include "lb_gateway.h"

#include <event2/event.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "gateway_activation.h"
#include "http_client.h"
#include "log.h"

enum gateway_step { STEP_ACTIVATE, STEP_STATE, STEP_DEACTIVATE, STEP_VERIFY };

struct lb_gateway {
	struct event_base *base;
	struct http_client *http;
	char *url;
	char *authorization_header;
	char *clusters[LB_GATEWAY_MAX_BACKENDS];
	char *backends[LB_GATEWAY_MAX_BACKENDS];
	size_t backend_count;
	int64_t timeout_ms, healthy_timeout_ms, poll_ms, monitor_round_ms;
	int retries;
	lb_retry_fn on_retry;
	void *on_retry_arg; /* every hook's */
	lb_note_fn on_note;
	lb_cluster_ready_fn cluster_ready;
	struct clock_now (*read_clock)(void);
	struct event *timer;
	/* the switch in progress */
	bool busy;
	enum gateway_step step;
	size_t target;       /* index of the target backend */
	size_t deactivating; /* index of the backend being deactivated */
	int attempt;
	struct gateway_activation activation;
	char last_state[32];
	lb_switch_done_fn switch_done;
	void *switch_arg;
	/* current() */
	bool reading;
	lb_current_done_fn current_done;
	void *current_arg;
	/* backend_health(): one request per backend, answered when all are in */
	size_t health_pending;
	struct health_read {
		struct lb_gateway *lb;
		size_t index;
		char status[32]; /* "" until read */
		char error[256];
	} health[LB_GATEWAY_MAX_BACKENDS];
	lb_health_done_fn health_done;
	void *health_arg;
};

static int64_t now_ms(const struct lb_gateway *lb)
{
	return lb->read_clock != NULL ? lb->read_clock().mono_ms : clock_mono_ms();
}

static void run_step(struct lb_gateway *lb);

static void finish(struct lb_gateway *lb, bool ok, const char *error)
{
	lb->busy = false;
	lb->switch_done(ok, error, lb->switch_arg);
}

static void again_after(struct lb_gateway *lb, int64_t ms)
{
	struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};
	evtimer_add(lb->timer, &tv);
}

static void retry_or_fail(struct lb_gateway *lb, const char *error)
{
	if (lb_retry_later(&lb->attempt, lb->retries, lb->timer, lb->on_retry, lb->on_retry_arg,
	                   error))
		return;
	finish(lb, false, error);
}

/* Skips the target while deactivating. Returns false when none is left. */
static bool next_to_deactivate(struct lb_gateway *lb)
{
	while (lb->deactivating < lb->backend_count &&
	       (lb->deactivating == lb->target ||
	        strcmp(lb->backends[lb->deactivating], lb->backends[lb->target]) == 0))
		lb->deactivating++;
	return lb->deactivating < lb->backend_count;
}

static bool names_backend(json_t *list, const char *name)
{
	size_t i;
	json_t *backend;
	json_array_foreach(list, i, backend)
	{
		const char *n = json_string_value(json_object_get(backend, "name"));
		if (n != NULL && strcmp(n, name) == 0)
			return true;
	}
	return false;
}

/* TRINOSTATUS of a ClusterStats body into OUT ("unknown" when absent). */
static void read_status(const struct http_response *response, char *out, size_t out_len)
{
	json_t *state = json_loadb(response->body, response->body_len, 0, NULL);
	const char *status = json_string_value(json_object_get(state, "trinoStatus"));
	snprintf(out, out_len, "%s", status != NULL ? status : "unknown");
	json_decref(state);
}

/*
 * A state read after the activate: true when the target is proven HEALTHY
 * (said how in the log and to on_note), false when the switch waits or
 * failed (already reported).
 */
static bool after_state(struct lb_gateway *lb, const struct http_response *response)
{
	const char *target = lb->backends[lb->target];
	read_status(response, lb->last_state, sizeof(lb->last_state));
	int64_t now = now_ms(lb);
	bool healthy = strcmp(lb->last_state, "HEALTHY") == 0;
	struct gateway_activation_read read = {
	        .status = lb->last_state,
	        .agents_ready = healthy && lb->cluster_ready != NULL &&
	                        lb->cluster_ready(lb->clusters[lb->target],
	                                          lb->activation.activated_ms, lb->on_retry_arg),
	        .monitor_round_ms = lb->monitor_round_ms,
	        .healthy_timeout_ms = lb->healthy_timeout_ms,
	        .now_ms = now,
	};
	enum gateway_activation_verdict verdict = gateway_activation_decide(&lb->activation, &read);
	char text[800];
	switch (verdict) {
	case GATEWAY_WAIT:
		again_after(lb, lb->poll_ms);
		return false;
	case GATEWAY_GIVE_UP:
		snprintf(text, sizeof(text),
		         "trino-gateway: backend %s stayed %s for %lld s after activation (%s); "
		         "nothing was deactivated",
		         target, lb->last_state, (long long)(lb->healthy_timeout_ms / 1000),
		         healthy ? "no health round newer than the activate came"
		                 : "the gateway routes nothing to it");
		finish(lb, false, text);
		return false;
	case GATEWAY_PROCEED_ROUND:
	case GATEWAY_PROCEED_AGENTS:
		break;
	}
	snprintf(text, sizeof(text),
	         "trino-gateway: backend %s proven HEALTHY %lld ms after the activate: %s; "
	         "deactivating the others",
	         target, (long long)(now - lb->activation.activated_ms),
	         gateway_activation_explain(verdict));
	log_info("%s", text);
	if (lb->on_note != NULL)
		lb->on_note(text, lb->on_retry_arg);
	return true;
}

static void on_answer(const struct http_response *response, void *arg)
{
	struct lb_gateway *lb = arg;
	char why[800];
	const char *target = lb->backends[lb->target];
	if (!response->ok || response->status != 200) {
		if (response->ok)
			snprintf(why, sizeof(why), "trino-gateway: %s for %s: HTTP %ld: %.200s",
			         lb->step == STEP_ACTIVATE     ? "activate"
			         : lb->step == STEP_STATE      ? "state"
			         : lb->step == STEP_DEACTIVATE ? "deactivate"
			                                       : "active backends",
			         lb->step == STEP_DEACTIVATE ? lb->backends[lb->deactivating]
			                                     : target,
			         response->status, response->body);
		else
			snprintf(why, sizeof(why), "trino-gateway: %s", response->error);
		/* an unknown backend (404) will not appear by retrying */
		if (response->ok && response->status == 404)
			lb->attempt = lb->retries;
		retry_or_fail(lb, why);
		return;
	}
	lb->attempt = 0;
	switch (lb->step) {
	case STEP_ACTIVATE:
		lb->step = STEP_STATE;
		gateway_activation_start(&lb->activation, now_ms(lb));
		break;
	case STEP_STATE:
		if (!after_state(lb, response))
			return;
		lb->step = STEP_DEACTIVATE;
		lb->deactivating = 0;
		if (!next_to_deactivate(lb))
			lb->step = STEP_VERIFY;
		break;
	case STEP_DEACTIVATE:
		lb->deactivating++;
		if (!next_to_deactivate(lb))
			lb->step = STEP_VERIFY;
		break;
	case STEP_VERIFY: {
		json_t *active = json_loadb(response->body, response->body_len, 0, NULL);
		bool ok = json_is_array(active) && names_backend(active, target);
		for (size_t i = 0; ok && i < lb->backend_count; i++)
			if (strcmp(lb->backends[i], target) != 0 &&
			    names_backend(active, lb->backends[i]))
				ok = false;
		json_decref(active);
		if (!ok) {
			snprintf(why, sizeof(why),
			         "trino-gateway: after the switch the active backends are not just "
			         "%s: %.200s",
			         target, response->body);
			retry_or_fail(lb, why);
			return;
		}
		finish(lb, true, NULL);
		return;
	}
	}
	run_step(lb);
}

static void request(struct lb_gateway *lb, const char *method, const char *path, http_done_fn done,
                    void *arg)
{
	char url[1024], err[256];
	snprintf(url, sizeof(url), "%s%s", lb->url, path);
	const char *headers[2] = {lb->authorization_header, NULL};
	struct http_request r = {
	        .method = method, .url = url, .headers = headers, .timeout_ms = lb->timeout_ms};
	if (strcmp(method, "POST") == 0) {
		r.body = "";
		r.body_len = 0;
	}
	if (http_client_start(lb->http, &r, done, arg, err, sizeof(err)) != 0) {
		struct http_response failed = {.error = err, .retry_after_s = -1};
		done(&failed, arg);
	}
}

static void run_step(struct lb_gateway *lb)
{
	char path[512];
	switch (lb->step) {
	case STEP_ACTIVATE:
		snprintf(path, sizeof(path), "/gateway/backend/activate/%s",
		         lb->backends[lb->target]);
		request(lb, "POST", path, on_answer, lb);
		break;
	case STEP_STATE:
		snprintf(path, sizeof(path), "/api/public/backends/%s/state",
		         lb->backends[lb->target]);
		request(lb, "GET", path, on_answer, lb);
		break;
	case STEP_DEACTIVATE:
		snprintf(path, sizeof(path), "/gateway/backend/deactivate/%s",
		         lb->backends[lb->deactivating]);
		request(lb, "POST", path, on_answer, lb);
		break;
	case STEP_VERIFY:
		request(lb, "GET", "/gateway/backend/active", on_answer, lb);
		break;
	}
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	run_step(arg);
}

static void driver_switch(void *impl, const char *cluster, lb_switch_done_fn done, void *arg)
{
	struct lb_gateway *lb = impl;
	size_t target = lb->backend_count;
	for (size_t i = 0; i < lb->backend_count; i++)
		if (strcmp(lb->clusters[i], cluster) == 0)
			target = i;
	if (target == lb->backend_count || lb->busy) {
		done(false,
		     lb->busy ? "a switch is already in progress"
		              : "no trino-gateway backend for that cluster",
		     arg);
		return;
	}
	lb->busy = true;
	lb->target = target;
	lb->step = STEP_ACTIVATE;
	lb->attempt = 0;
	lb->switch_done = done;
	lb->switch_arg = arg;
	run_step(lb);
}

static void on_active(const struct http_response *response, void *arg)
{
	struct lb_gateway *lb = arg;
	lb->reading = false;
	if (!response->ok || response->status != 200) {
		char why[300];
		snprintf(why, sizeof(why), "trino-gateway active backends: %s",
		         response->ok ? "unexpected status" : response->error);
		lb->current_done(NULL, why, lb->current_arg);
		return;
	}
	json_t *active = json_loadb(response->body, response->body_len, 0, NULL);
	const char *found = NULL;
	int clusters = 0;
	for (size_t i = 0; i < lb->backend_count; i++) {
		if (names_backend(active, lb->backends[i]) &&
		    (found == NULL || strcmp(found, lb->clusters[i]) != 0)) {
			found = lb->clusters[i];
			clusters++;
		}
	}
	json_decref(active);
	if (clusters == 1)
		lb->current_done(found, NULL, lb->current_arg);
	else
		lb->current_done(NULL,
		                 clusters == 0 ? "no cluster's backend is active"
		                               : "several clusters' backends are active",
		                 lb->current_arg);
}

static void driver_current(void *impl, lb_current_done_fn done, void *arg)
{
	struct lb_gateway *lb = impl;
	if (lb->busy || lb->reading) {
		done(NULL, "busy", arg);
		return;
	}
	lb->reading = true;
	lb->current_done = done;
	lb->current_arg = arg;
	request(lb, "GET", "/gateway/backend/active", on_active, lb);
}

/* One backend's state for backend_health(); the last answer reports them all. */
static void on_health(const struct http_response *response, void *arg)
{
	struct health_read *h = arg;
	struct lb_gateway *lb = h->lb;
	if (response->ok && response->status == 200)
		read_status(response, h->status, sizeof(h->status));
	else if (response->ok)
		snprintf(h->error, sizeof(h->error), "GET /api/public/backends/%s/state: HTTP %ld",
		         lb->backends[h->index], response->status);
	else
		snprintf(h->error, sizeof(h->error), "%s", response->error);
	if (--lb->health_pending > 0)
		return;
	struct lb_backend_health out[LB_GATEWAY_MAX_BACKENDS];
	for (size_t i = 0; i < lb->backend_count; i++)
		out[i] = (struct lb_backend_health){
		        .cluster = lb->clusters[i],
		        .backend = lb->backends[i],
		        .status = lb->health[i].status[0] != '\0' ? lb->health[i].status : NULL,
		        .error = lb->health[i].error,
		};
	lb->health_done(out, lb->backend_count, lb->health_arg);
}

/* Every backend's /api/public/backends/NAME/state, read in parallel. */
static void driver_backend_health(void *impl, lb_health_done_fn done, void *arg)
{
	struct lb_gateway *lb = impl;
	if (lb->health_pending > 0) {
		done(NULL, 0, arg);
		return;
	}
	lb->health_done = done;
	lb->health_arg = arg;
	lb->health_pending = lb->backend_count;
	for (size_t i = 0; i < lb->backend_count; i++) {
		lb->health[i] = (struct health_read){.lb = lb, .index = i};
		char path[512];
		snprintf(path, sizeof(path), "/api/public/backends/%s/state", lb->backends[i]);
		request(lb, "GET", path, on_health, &lb->health[i]);
	}
}

static void driver_free(void *impl)
{
	lb_gateway_free(impl);
}

struct lb_driver lb_gateway_driver(struct lb_gateway *lb)
{
	return (struct lb_driver){
	        .impl = lb,
	        .switch_to = driver_switch,
	        .current = driver_current,
	        .free = driver_free,
	        .backend_health = driver_backend_health,
	};
}

struct lb_gateway *lb_gateway_new(struct event_base *base, const struct lb_gateway_settings *s,
                                  char *err, size_t err_len)
{
	if (s->url == NULL || s->backend_count == 0 || s->backend_count > LB_GATEWAY_MAX_BACKENDS) {
		snprintf(err, err_len,
		         "trino-gateway driver: url and a backend per cluster are "
		         "required");
		return NULL;
	}
	struct lb_gateway *lb = calloc(1, sizeof(*lb));
	if (lb == NULL) {
		snprintf(err, err_len, "out of memory");
		return NULL;
	}
	lb->base = base;
	lb->http = http_client_new(base, err, err_len);
	size_t len = strlen(s->url);
	while (len > 0 && s->url[len - 1] == '/')
		len--;
	lb->url = strndup(s->url, len);
	if (s->authorization != NULL) {
		size_t n = strlen(s->authorization) + 32;
		lb->authorization_header = malloc(n);
		if (lb->authorization_header != NULL)
			snprintf(lb->authorization_header, n, "Authorization: %s",
			         s->authorization);
	}
	for (size_t i = 0; i < s->backend_count; i++) {
		lb->clusters[i] = strdup(s->backends[i].cluster);
		lb->backends[i] = strdup(s->backends[i].backend);
		lb->backend_count++;
	}
	lb->timeout_ms = s->timeout_ms > 0 ? s->timeout_ms : 5000;
	lb->healthy_timeout_ms = s->healthy_timeout_ms > 0 ? s->healthy_timeout_ms : 180000;
	lb->poll_ms = s->poll_ms > 0 ? s->poll_ms : 1000;
	lb->monitor_round_ms = s->monitor_round_ms > 0 ? s->monitor_round_ms : 70000;
	lb->retries = s->retries;
	lb->on_retry = s->on_retry;
	lb->on_retry_arg = s->on_retry_arg;
	lb->on_note = s->on_note;
	lb->cluster_ready = s->cluster_ready;
	lb->read_clock = s->read_clock;
	lb->timer = evtimer_new(base, on_timer, lb);
	if (lb->http == NULL || lb->url == NULL || lb->timer == NULL) {
		lb_gateway_free(lb);
		return NULL;
	}
	return lb;
}

void lb_gateway_free(struct lb_gateway *lb)
{
	if (lb == NULL)
		return;
	http_client_free(lb->http);
	if (lb->timer != NULL)
		event_free(lb->timer);
	free(lb->url);
	free(lb->authorization_header);
	for (size_t i = 0; i < lb->backend_count; i++) {
		free(lb->clusters[i]);
		free(lb->backends[i]);
	}
	free(lb);
}
