/*
 * The trino-gateway driver, from its [lb.trino-gateway] section to the
 * switch, as a small sequence on the curl-multi client:
 * ACTIVATE -> (poll STATE until HEALTHY) -> DEACTIVATE each other backend ->
 * VERIFY. Each request is retried with a doubling backoff; activating first
 * and deactivating last leaves no moment without a backend (reference §8).
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
#include "config.h"
#include "http_client.h"
#include "log.h"
#include "secret_file.h"

enum gateway_step { STEP_ACTIVATE, STEP_STATE, STEP_DEACTIVATE, STEP_VERIFY };

struct lb_gateway {
	struct event_base *base;
	struct http_client *http;
	char *url;
	char *authorization_header;
	char *clusters[LB_GATEWAY_MAX_BACKENDS];
	char *backends[LB_GATEWAY_MAX_BACKENDS];
	size_t backend_count;
	int64_t timeout_ms, healthy_timeout_ms, poll_ms;
	int retries;
	lb_retry_fn on_retry;
	void *on_retry_arg;
	struct event *timer;
	/* the switch in progress */
	bool busy;
	enum gateway_step step;
	size_t target;       /* index of the target backend */
	size_t deactivating; /* index of the backend being deactivated */
	int attempt;
	int64_t pending_until_ms;
	char last_state[32];
	lb_switch_done_fn switch_done;
	void *switch_arg;
	/* current() */
	bool reading;
	lb_current_done_fn current_done;
	void *current_arg;
};

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
		lb->pending_until_ms = clock_mono_ms() + lb->healthy_timeout_ms;
		break;
	case STEP_STATE: {
		json_t *state = json_loadb(response->body, response->body_len, 0, NULL);
		const char *status = json_string_value(json_object_get(state, "trinoStatus"));
		snprintf(lb->last_state, sizeof(lb->last_state), "%s",
		         status != NULL ? status : "unknown");
		json_decref(state);
		if (strcmp(lb->last_state, "HEALTHY") != 0) {
			if (clock_mono_ms() >= lb->pending_until_ms) {
				snprintf(why, sizeof(why),
				         "trino-gateway: backend %s stayed %s for %lld s after "
				         "activation; nothing was deactivated",
				         target, lb->last_state,
				         (long long)(lb->healthy_timeout_ms / 1000));
				finish(lb, false, why);
				return;
			}
			again_after(lb, lb->poll_ms);
			return;
		}
		lb->step = STEP_DEACTIVATE;
		lb->deactivating = 0;
		if (!next_to_deactivate(lb))
			lb->step = STEP_VERIFY;
		break;
	}
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

static void driver_free(void *impl)
{
	lb_gateway_free(impl);
}

struct lb_driver lb_gateway_driver(struct lb_gateway *lb)
{
	return (struct lb_driver){lb, driver_switch, driver_current, driver_free};
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
	lb->retries = s->retries;
	lb->on_retry = s->on_retry;
	lb->on_retry_arg = s->on_retry_arg;
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

/* [lb.trino-gateway] as the loader fills it. */
struct lb_gateway_section {
	char *url;
	struct config_pairs backends; /* backend.CLUSTER = gateway backend name */
	char *authorization_file;     /* holds "Basic ..." or "Bearer ..." */
	int64_t healthy_timeout_ms;
	int64_t health_poll_ms;
};

static const struct config_key gateway_keys[] = {
        {"url", CONFIG_STRING, offsetof(struct lb_gateway_section, url), false, NULL, 0, 0, NULL},
        {"backend", CONFIG_KEYED, offsetof(struct lb_gateway_section, backends), false, NULL, 0, 0,
         NULL},
        {"authorization_file", CONFIG_PATH, offsetof(struct lb_gateway_section, authorization_file),
         false, NULL, 0, 0, NULL},
        {"healthy_timeout", CONFIG_DURATION,
         offsetof(struct lb_gateway_section, healthy_timeout_ms), false, "3m", 1000, 3600000, NULL},
        {"health_poll", CONFIG_DURATION, offsetof(struct lb_gateway_section, health_poll_ms), false,
         "1s", 100, 60000, NULL},
};

/* A url, and a gateway backend for every cluster. */
static int gateway_check(const void *section, const struct lb_check_input *input, const char **key,
                         int *line, char *why, size_t why_len)
{
	(void)line;
	const struct lb_gateway_section *g = section;
	if (g->url == NULL) {
		*key = "url";
		snprintf(why, why_len, "[lb] driver = trino-gateway needs [lb.trino-gateway] url");
		return -1;
	}
	for (size_t i = 0; i < input->cluster_count; i++) {
		const char *name = input->clusters[i];
		if (config_pairs_get(&g->backends, name) == NULL) {
			snprintf(why, why_len,
			         "[lb.trino-gateway] has no backend.%s = <backend name> for "
			         "cluster %s",
			         name, name);
			return -1;
		}
	}
	return 0;
}

static int gateway_create(struct event_base *base, const void *section,
                          const struct lb_common *common, struct lb_driver *out, char *err,
                          size_t err_len)
{
	const struct lb_gateway_section *g = section;
	struct lb_gateway_settings s = {
	        .url = g->url,
	        .timeout_ms = common->timeout_ms,
	        .retries = common->retries,
	        .on_retry = common->on_retry,
	        .on_retry_arg = common->on_retry_arg,
	        .healthy_timeout_ms = g->healthy_timeout_ms,
	        .poll_ms = g->health_poll_ms,
	};
	for (size_t i = 0; i < g->backends.count && i < LB_GATEWAY_MAX_BACKENDS; i++) {
		s.backends[i].cluster = g->backends.items[i].name;
		s.backends[i].backend = g->backends.items[i].value;
		s.backend_count++;
	}
	char *authorization = NULL;
	if (g->authorization_file != NULL) {
		char why[512];
		authorization = secret_file_read(g->authorization_file, why, sizeof(why));
		if (authorization == NULL) {
			snprintf(err, err_len, "[lb.trino-gateway] authorization_file %s", why);
			return -1;
		}
		s.authorization = authorization;
	}
	struct lb_gateway *gateway = lb_gateway_new(base, &s, err, err_len);
	secret_free(authorization);
	if (gateway == NULL)
		return -1;
	*out = lb_gateway_driver(gateway);
	return 0;
}

const struct lb_driver_type lb_gateway_type = {
        .name = "trino-gateway",
        .keys = gateway_keys,
        .key_count = sizeof(gateway_keys) / sizeof(gateway_keys[0]),
        .section_size = sizeof(struct lb_gateway_section),
        .check = gateway_check,
        .create = gateway_create,
};
