/*
 * The agent's Trino poller. Each request kind has one slot; a cycle starts
 * the kinds whose slot is free and counts them down as they answer. The
 * counters go /metrics -> JMX (-> the node-count MBean) as a chain of
 * requests within the same cycle.
 */
#include "poller.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "clock.h"
#include "coordinator_probe.h"
#include "http_client.h"
#include "log.h"
#include "secret_file.h"
#include "report_codec.h"
#include "utf8.h"

#define POLL_MAX_BODY      (256 * 1024)
#define METRICS_RECHECK_MS (10 * 60 * 1000) /* re-probe /metrics after falling back */

enum poll_kind { POLL_INFO, POLL_STATE, POLL_COUNTERS, POLL_QUERIES, POLL_KIND_COUNT };

/* Whether Trino answered /v1/info, as last logged: each change is one line. */
enum trino_seen { TRINO_SEEN_NOT_YET, TRINO_SEEN_UP, TRINO_SEEN_DOWN };

/* Which request of its kind's chain an answer belongs to. */
enum poll_stage {
	STAGE_SINGLE,           /* /v1/info, /v1/info/state, /v1/query: one request each */
	STAGE_METRICS,          /* counters from /metrics (OpenMetrics) */
	STAGE_JMX_QUERIES,      /* counters from the QueryManager MBean */
	STAGE_ACTIVE_NODES,     /* after JMX: the node count from DiscoveryNodeManager */
	STAGE_ACTIVE_NODES_477, /* or, when that MBean is gone, from CoordinatorNodeManager */
};

struct request_context {
	struct poller *poller;
	enum poll_kind kind;
	enum poll_stage stage;
	uint64_t cycle;
};

struct poller {
	struct http_client *http;
	/* one request of each kind at a time, so one context each; no allocation */
	struct request_context slots[POLL_KIND_COUNT];
	char *base_url;
	char *user_header;   /* "X-Trino-User: name" */
	char *bearer_header; /* "Authorization: Bearer ..." or NULL */
	char *basic_user;
	char *basic_password;
	char *ca_file;
	int64_t timeout_ms;
	int source_mode; /* enum counters_source */
	bool query_list; /* [trino] query_list */
	int64_t metrics_unusable_until_ms;
	bool metrics_lacks_counters; /* the last /metrics answer was 200 without them */
	bool in_flight[POLL_KIND_COUNT];
	int64_t info_started_ms;
	/* the cycle */
	uint64_t cycle;
	int pending; /* requests of this cycle not yet answered */
	void (*done)(void *arg);
	void *done_arg;
	int64_t now_ms;
	struct poll_snapshot snapshot;
	enum trino_seen trino_seen;      /* what the log last said of /v1/info */
	struct poll_counts *counts;      /* borrowed */
	struct coordinator_probe *probe; /* NULL unless [trino] coordinator_id_probe */
};

/* Counts one request to ENDPOINT and, when FAILED, one error. */
static void count_poll(struct poller *poller, enum poll_endpoint endpoint, bool failed)
{
	poller->counts->requests[endpoint]++;
	poller->counts->errors[endpoint] += failed;
}

/* The coordinator-id probe, with the poller's own URL and credentials. */
static int start_probe(struct poller *poller, const struct agent_config *config)
{
	struct coordinator_probe_target target = {
	        .base_url = poller->base_url,
	        .user = config->trino.probe_user,
	        .bearer_header = poller->bearer_header,
	        .basic_user = poller->basic_user,
	        .basic_password = poller->basic_password,
	        .ca_file = poller->ca_file,
	        .timeout_ms = poller->timeout_ms,
	};
	poller->probe = coordinator_probe_new(poller->http, &target);
	return poller->probe != NULL ? 0 : -1;
}

struct poller *poller_new(struct http_client *http, const struct agent_config *config,
                          struct poll_counts *counts, char *err, size_t err_len)
{
	struct poller *poller = calloc(1, sizeof(*poller));
	if (poller == NULL) {
		snprintf(err, err_len, "out of memory");
		return NULL;
	}
	poller->http = http;
	poller->counts = counts;
	poller->timeout_ms = config->trino.timeout_ms;
	poller->source_mode = config->trino.counters;
	poller->query_list = config->trino.query_list;
	poller->snapshot.counters_state = TRINOGUARD__V1__COUNTER_STATE__COUNTERS_UNKNOWN;
	poller->snapshot.counters.active_nodes = -1;
	snprintf(poller->snapshot.info_error, sizeof(poller->snapshot.info_error),
	         "not polled yet");
	size_t url_len = strlen(config->trino.url);
	while (url_len > 0 && config->trino.url[url_len - 1] == '/')
		url_len--;
	poller->base_url = strndup(config->trino.url, url_len);
	size_t header_len = strlen(config->trino.user) + 32;
	poller->user_header = malloc(header_len);
	if (poller->base_url == NULL || poller->user_header == NULL)
		goto fail_memory;
	snprintf(poller->user_header, header_len, "X-Trino-User: %s", config->trino.user);
	if (config->trino.ca_file != NULL &&
	    (poller->ca_file = strdup(config->trino.ca_file)) == NULL)
		goto fail_memory;
	if (config->trino.basic_user != NULL) {
		poller->basic_user = strdup(config->trino.basic_user);
		if (poller->basic_user == NULL)
			goto fail_memory;
		poller->basic_password =
		        secret_file_read(config->trino.basic_password_file, err, err_len);
		if (poller->basic_password == NULL) {
			poller_free(poller);
			return NULL;
		}
	}
	if (config->trino.bearer_token_file != NULL) {
		char *token = secret_file_read(config->trino.bearer_token_file, err, err_len);
		if (token == NULL) {
			poller_free(poller);
			return NULL;
		}
		size_t len = strlen(token) + 32;
		poller->bearer_header = malloc(len);
		if (poller->bearer_header != NULL)
			snprintf(poller->bearer_header, len, "Authorization: Bearer %s", token);
		secret_free(token);
		if (poller->bearer_header == NULL)
			goto fail_memory;
	}
	if (config->trino.coordinator_id_probe && start_probe(poller, config) != 0)
		goto fail_memory;
	return poller;
fail_memory:
	snprintf(err, err_len, "out of memory");
	poller_free(poller);
	return NULL;
}

void poller_free(struct poller *poller)
{
	if (poller == NULL)
		return;
	coordinator_probe_free(poller->probe);
	free(poller->base_url);
	free(poller->user_header);
	if (poller->bearer_header != NULL)
		explicit_bzero(poller->bearer_header, strlen(poller->bearer_header));
	free(poller->bearer_header);
	free(poller->basic_user);
	if (poller->basic_password != NULL)
		explicit_bzero(poller->basic_password, strlen(poller->basic_password));
	free(poller->basic_password);
	free(poller->ca_file);
	free(poller);
}

const struct poll_snapshot *poller_snapshot(const struct poller *poller)
{
	return &poller->snapshot;
}

int64_t poller_info_pending_since(const struct poller *poller)
{
	return poller->in_flight[POLL_INFO] ? poller->info_started_ms : -1;
}

static void cycle_step_done(struct poller *poller, uint64_t cycle)
{
	if (cycle != poller->cycle)
		return; /* a late answer to an earlier cycle */
	if (poller->pending > 0 && --poller->pending == 0 && poller->done != NULL) {
		void (*done)(void *) = poller->done;
		poller->done = NULL;
		done(poller->done_arg);
	}
}

static void on_answer(const struct http_response *response, void *arg);

static int start_request(struct poller *poller, enum poll_kind kind, enum poll_stage stage,
                         uint64_t cycle, const char *path)
{
	struct request_context *context = &poller->slots[kind];
	context->poller = poller;
	context->kind = kind;
	context->stage = stage;
	context->cycle = cycle;
	char url[2048];
	snprintf(url, sizeof(url), "%s%s", poller->base_url, path);
	const char *headers[3] = {poller->user_header, poller->bearer_header, NULL};
	struct http_request request = {
	        .url = url,
	        .headers = headers,
	        .timeout_ms = poller->timeout_ms,
	        .max_response_bytes = POLL_MAX_BODY,
	        .ca_file = poller->ca_file,
	        .basic_user = poller->basic_user,
	        .basic_password = poller->basic_password,
	};
	char err[256];
	if (http_client_start(poller->http, &request, on_answer, context, err, sizeof(err)) != 0) {
		log_warn("cannot poll %s: %s", url, err);
		return -1;
	}
	return 0;
}

static int start_metrics(struct poller *poller, uint64_t cycle)
{
	char path[1536] = "/metrics?";
	for (int i = 0; i < TRINO_COUNTER_COUNT; i++) {
		char name[160];
		snprintf(name, sizeof(name), "name%%5B%%5D=%s%s&",
		         TRINO_QUERY_MANAGER_METRIC_PREFIX,
		         trino_counter_attribute((enum trino_counter)i));
		strncat(path, name, sizeof(path) - strlen(path) - 1);
	}
	for (int i = 0; i < TRINO_NODE_COUNT_SOURCES; i++) {
		strncat(path,
		        i == 0 ? "name%5B%5D=" : "&name%5B%5D=", sizeof(path) - strlen(path) - 1);
		strncat(path, trino_node_count_sources[i].metric, sizeof(path) - strlen(path) - 1);
	}
	return start_request(poller, POLL_COUNTERS, STAGE_METRICS, cycle, path);
}

static int start_jmx(struct poller *poller, uint64_t cycle)
{
	return start_request(poller, POLL_COUNTERS, STAGE_JMX_QUERIES, cycle,
	                     "/v1/jmx/mbean/trino.execution:name=QueryManager");
}

/* Sets the counters' state from an HTTP answer that is not a usable 200. */
static void counters_failed(struct poller *poller, const struct http_response *response,
                            const char *source)
{
	struct poll_snapshot *snap = &poller->snapshot;
	char message[256];
	if (!response->ok) {
		snap->counters_state = TRINOGUARD__V1__COUNTER_STATE__COUNTERS_UNREACHABLE;
		snprintf(snap->counters_error, sizeof(snap->counters_error), "%s: %s", source,
		         response->error);
		return;
	}
	utf8_one_line(response->body, response->body_len, 200, message, sizeof(message));
	switch (response->status) {
	case 401:
		snap->counters_state = TRINOGUARD__V1__COUNTER_STATE__COUNTERS_UNAUTHORIZED;
		break;
	case 403:
		snap->counters_state = TRINOGUARD__V1__COUNTER_STATE__COUNTERS_FORBIDDEN;
		break;
	case 404:
		snap->counters_state = TRINOGUARD__V1__COUNTER_STATE__COUNTERS_NOT_FOUND;
		break;
	case 503:
		snap->counters_state = TRINOGUARD__V1__COUNTER_STATE__COUNTERS_UNAVAILABLE;
		break;
	default:
		snap->counters_state = TRINOGUARD__V1__COUNTER_STATE__COUNTERS_HTTP_ERROR;
		break;
	}
	snprintf(snap->counters_error, sizeof(snap->counters_error), "%s: HTTP %ld: %s", source,
	         response->status, message);
}

static void counters_ok(struct poller *poller, const struct trino_counters *counters,
                        const char *source)
{
	struct poll_snapshot *snap = &poller->snapshot;
	int64_t active_nodes = snap->counters.active_nodes;
	const char *active_nodes_from = snap->counters.active_nodes_from;
	snap->counters = *counters;
	if (counters->active_nodes < 0 && strcmp(source, "jmx") == 0) {
		/* filled by the next request */
		snap->counters.active_nodes = active_nodes;
		snap->counters.active_nodes_from = active_nodes_from;
	}
	snap->counters_state = TRINOGUARD__V1__COUNTER_STATE__COUNTERS_OK;
	snap->counters_error[0] = '\0';
	snap->counters_source = source;
}

static void counters_state(struct poller *poller, int state, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

static void counters_state(struct poller *poller, int state, const char *fmt, ...)
{
	struct poll_snapshot *snap = &poller->snapshot;
	snap->counters_state = state;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(snap->counters_error, sizeof(snap->counters_error), fmt, ap);
	va_end(ap);
}

/* The Trino version for a message, as /v1/info last said it. */
static const char *trino_version(const struct poller *poller)
{
	return poller->snapshot.have_info ? poller->snapshot.info.version : "unknown";
}

/*
 * /metrics answered. 200 with every counter: done. 200 without them (Trino
 * before 429: jmxutils < 1.24 did not walk the @Flatten QueryManagerStats)
 * or 404: in auto mode, JMX REST next. Returns true when the chain goes on.
 */
static bool on_metrics_answer(struct poller *poller, uint64_t cycle,
                              const struct http_response *response)
{
	struct trino_counters counters;
	char why[256];
	int rc = -1;
	if (response->ok && response->status == 200)
		rc = trino_parse_openmetrics(response->body, response->body_len, &counters, why,
		                             sizeof(why));
	count_poll(poller, POLL_ENDPOINT_METRICS, rc == -1);
	if (rc == 0) {
		poller->metrics_lacks_counters = false;
		counters_ok(poller, &counters, "metrics");
		return false;
	}
	poller->metrics_lacks_counters = rc == 1;
	if (rc == 1 || (response->ok && response->status == 404)) {
		if (poller->source_mode == COUNTERS_SOURCE_AUTO) {
			poller->metrics_unusable_until_ms = poller->now_ms + METRICS_RECHECK_MS;
			return start_jmx(poller, cycle) == 0;
		}
		if (rc == 1) {
			counters_state(
			        poller, TRINOGUARD__V1__COUNTER_STATE__COUNTERS_MISSING,
			        "%s: Trino %s ships the QueryManager counters in /metrics from "
			        "429 on; set [trino] counters = auto to read them over JMX",
			        why, trino_version(poller));
			return false;
		}
	}
	if (rc == -1 && response->ok && response->status == 200)
		counters_state(poller, TRINOGUARD__V1__COUNTER_STATE__COUNTERS_PARSE_ERROR,
		               "/metrics: %s", why);
	else
		counters_failed(poller, response, "/metrics");
	return false;
}

/* A 404 from JMX REST: what is missing, and what to do on this release. */
static void jmx_absent(struct poller *poller)
{
	if (poller->source_mode == COUNTERS_SOURCE_JMX)
		counters_state(poller, TRINOGUARD__V1__COUNTER_STATE__COUNTERS_NOT_FOUND,
		               "JMX: HTTP 404: Trino %s has no /v1/jmx (removed after 478); set "
		               "[trino] counters = auto or metrics",
		               trino_version(poller));
	else if (poller->metrics_lacks_counters)
		counters_state(poller, TRINOGUARD__V1__COUNTER_STATE__COUNTERS_MISSING,
		               "/metrics of Trino %s lacks the QueryManager counters and /v1/jmx "
		               "answers 404: no source has them; upgrade to 429 or later, or "
		               "enable JMX REST",
		               trino_version(poller));
	else
		counters_state(poller, TRINOGUARD__V1__COUNTER_STATE__COUNTERS_NOT_FOUND,
		               "/metrics and /v1/jmx both answer 404 on Trino %s",
		               trino_version(poller));
}

static int start_node_count(struct poller *poller, enum poll_stage stage, uint64_t cycle)
{
	char path[256];
	snprintf(path, sizeof(path), "/v1/jmx/mbean/%s",
	         trino_node_count_sources[stage == STAGE_ACTIVE_NODES ? 0 : 1].mbean);
	return start_request(poller, POLL_COUNTERS, stage, cycle, path);
}

/* The QueryManager MBean answered; then the node count. True when the chain goes on. */
static bool on_jmx_answer(struct poller *poller, uint64_t cycle,
                          const struct http_response *response)
{
	struct trino_counters counters;
	char why[256];
	if (response->ok && response->status == 404) {
		count_poll(poller, POLL_ENDPOINT_JMX, true);
		jmx_absent(poller);
		return false;
	}
	if (!response->ok || response->status != 200) {
		count_poll(poller, POLL_ENDPOINT_JMX, true);
		counters_failed(poller, response, "JMX");
		return false;
	}
	int rc = trino_parse_jmx_query_manager(response->body, response->body_len, &counters, why,
	                                       sizeof(why));
	count_poll(poller, POLL_ENDPOINT_JMX, rc != 0);
	if (rc != 0) {
		counters_state(poller, TRINOGUARD__V1__COUNTER_STATE__COUNTERS_PARSE_ERROR,
		               "JMX: %s", why);
		return false;
	}
	counters_ok(poller, &counters, "jmx");
	return start_node_count(poller, STAGE_ACTIVE_NODES, cycle) == 0;
}

/*
 * The node manager's MBean answered: the old name up to 476, the new one
 * from 477 (an unknown MBean answers 500), so a failed first asks the second.
 */
static bool on_node_count_answer(struct poller *poller, enum poll_stage stage, uint64_t cycle,
                                 const struct http_response *response)
{
	struct poll_snapshot *snap = &poller->snapshot;
	char why[256];
	int64_t active_nodes = -1;
	if (response->ok && response->status == 200 &&
	    trino_parse_jmx_active_nodes(response->body, response->body_len, &active_nodes, why,
	                                 sizeof(why)) == 0) {
		count_poll(poller, POLL_ENDPOINT_JMX, false);
		snap->counters.active_nodes = active_nodes;
		snap->counters.active_nodes_from =
		        trino_node_count_sources[stage == STAGE_ACTIVE_NODES ? 0 : 1].mbean;
		return false;
	}
	/* the old name's 500 from 477 on is the way to the new name, not an error */
	count_poll(poller, POLL_ENDPOINT_JMX,
	           stage != STAGE_ACTIVE_NODES || response->status != 500);
	if (stage == STAGE_ACTIVE_NODES)
		return start_node_count(poller, STAGE_ACTIVE_NODES_477, cycle) == 0;
	snap->counters.active_nodes = -1;
	snap->counters.active_nodes_from = NULL;
	return false;
}

/* One counters answer; returns true when the chain continues with another request. */
static bool on_counters_answer(struct poller *poller, enum poll_stage stage, uint64_t cycle,
                               const struct http_response *response)
{
	switch (stage) {
	case STAGE_METRICS:
		return on_metrics_answer(poller, cycle, response);
	case STAGE_JMX_QUERIES:
		return on_jmx_answer(poller, cycle, response);
	case STAGE_ACTIVE_NODES:
	case STAGE_ACTIVE_NODES_477:
		return on_node_count_answer(poller, stage, cycle, response);
	case STAGE_SINGLE:
		break;
	}
	return false;
}

/* One line when Trino stops answering /v1/info and one when it answers again. */
static void log_trino_seen(struct poller *poller)
{
	const struct poll_snapshot *snap = &poller->snapshot;
	enum trino_seen seen = snap->info_ok ? TRINO_SEEN_UP : TRINO_SEEN_DOWN;
	if (seen == poller->trino_seen)
		return;
	if (seen == TRINO_SEEN_DOWN)
		log_warn("Trino at %s is not answering (%s); reported as down until it does",
		         poller->base_url, snap->info_error);
	else
		log_info("Trino at %s %s: version %s, %s", poller->base_url,
		         poller->trino_seen == TRINO_SEEN_DOWN ? "answers again" : "answers",
		         snap->info.version, snap->info.coordinator ? "coordinator" : "worker");
	poller->trino_seen = seen;
}

static void on_info_answer(struct poller *poller, const struct http_response *response)
{
	struct poll_snapshot *snap = &poller->snapshot;
	char why[256];
	struct trino_info info;
	if (!response->ok) {
		snap->info_ok = false;
		snprintf(snap->info_error, sizeof(snap->info_error), "/v1/info: %s",
		         response->error);
	} else if (response->status != 200) {
		char message[256];
		utf8_one_line(response->body, response->body_len, 200, message, sizeof(message));
		snap->info_ok = false;
		snprintf(snap->info_error, sizeof(snap->info_error), "/v1/info: HTTP %ld: %s",
		         response->status, message);
	} else if (trino_parse_info(response->body, response->body_len, &info, why, sizeof(why)) !=
	           0) {
		snap->info_ok = false;
		snprintf(snap->info_error, sizeof(snap->info_error), "/v1/info: %s", why);
	} else {
		snap->info = info;
		snap->have_info = true;
		snap->info_ok = true;
		snap->info_error[0] = '\0';
		snap->info_answered_ms = clock_mono_ms(); /* this answer's callback */
		if (poller->probe != NULL) /* before 477: the probed id in coordinatorId's place */
			coordinator_probe_update(poller->probe, &snap->info,
			                         snap->info_answered_ms);
	}
	count_poll(poller, POLL_ENDPOINT_INFO, !snap->info_ok);
	log_trino_seen(poller);
}

static void start_kind(struct poller *poller, enum poll_kind kind);

/* What only a coordinator answers: the counters and, when asked for, the query list. */
static void start_coordinator_kinds(struct poller *poller)
{
	start_kind(poller, POLL_COUNTERS);
	if (poller->query_list)
		start_kind(poller, POLL_QUERIES);
}

static void on_state_answer(struct poller *poller, const struct http_response *response)
{
	struct poll_snapshot *snap = &poller->snapshot;
	char why[256];
	snap->state_ok = response->ok && response->status == 200 &&
	                 trino_parse_state(response->body, response->body_len, snap->state,
	                                   sizeof(snap->state), why, sizeof(why)) == 0;
	count_poll(poller, POLL_ENDPOINT_STATE, !snap->state_ok);
}

/* Called from the loop when one request finished (answered, failed or timed out). */
static void on_answer(const struct http_response *response, void *arg)
{
	const struct request_context *context = arg;
	struct poller *poller = context->poller;
	enum poll_kind kind = context->kind;
	uint64_t cycle = context->cycle;
	enum poll_stage stage = context->stage; /* the slot may be reused by a chained request */
	bool continues = false;
	switch (kind) {
	case POLL_INFO:
		on_info_answer(poller, response);
		/* A coordinator learnt of in this cycle gets its counters in this cycle too. */
		if (cycle == poller->cycle && poller->done != NULL && poller->snapshot.info_ok &&
		    poller->snapshot.info.coordinator)
			start_coordinator_kinds(poller);
		break;
	case POLL_STATE:
		on_state_answer(poller, response);
		break;
	case POLL_QUERIES:
		query_list_answer(&poller->snapshot.query_list, response);
		count_poll(poller, POLL_ENDPOINT_QUERIES, !poller->snapshot.query_list.ok);
		break;
	case POLL_COUNTERS:
		continues = on_counters_answer(poller, stage, cycle, response);
		break;
	case POLL_KIND_COUNT:
		break;
	}
	if (continues)
		return;
	poller->in_flight[kind] = false;
	cycle_step_done(poller, cycle);
}

static void start_kind(struct poller *poller, enum poll_kind kind)
{
	if (poller->in_flight[kind])
		return; /* still waiting on the last one: never pile up on a hung Trino */
	int rc;
	if (kind == POLL_INFO) {
		rc = start_request(poller, kind, STAGE_SINGLE, poller->cycle, "/v1/info");
		poller->info_started_ms = poller->now_ms;
	} else if (kind == POLL_STATE) {
		rc = start_request(poller, kind, STAGE_SINGLE, poller->cycle, "/v1/info/state");
	} else if (kind == POLL_QUERIES) {
		rc = start_request(poller, kind, STAGE_SINGLE, poller->cycle, "/v1/query");
	} else {
		bool use_jmx = poller->source_mode == COUNTERS_SOURCE_JMX ||
		               (poller->source_mode == COUNTERS_SOURCE_AUTO &&
		                poller->now_ms < poller->metrics_unusable_until_ms);
		rc = use_jmx ? start_jmx(poller, poller->cycle)
		             : start_metrics(poller, poller->cycle);
	}
	if (rc == 0) {
		poller->in_flight[kind] = true;
		poller->pending++;
	}
}

void poller_start_cycle(struct poller *poller, int64_t now_ms, void (*done)(void *arg), void *arg)
{
	poller->now_ms = now_ms;
	poller->cycle++;
	poller->done = done;
	poller->done_arg = arg;
	poller->pending = 1; /* held until every request is started */
	start_kind(poller, POLL_INFO);
	start_kind(poller, POLL_STATE);
	struct poll_snapshot *snap = &poller->snapshot;
	if (snap->have_info && snap->info.coordinator) {
		start_coordinator_kinds(poller);
	} else if (snap->have_info) {
		snap->counters_state = TRINOGUARD__V1__COUNTER_STATE__COUNTERS_NOT_COORDINATOR;
		snap->counters_error[0] = '\0';
	}
	cycle_step_done(poller, poller->cycle);
}
