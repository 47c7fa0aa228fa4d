/*
 * The coordinator-id probe (coordinator_probe.h). One request at a time: the
 * POST, then the DELETE of the nextUri it got. Trino registers a POSTed query
 * and submits it only on the first GET of that nextUri
 * (QueuedStatementResource.Query.submitIfNeeded); a DELETE before that only
 * marks it, and the unsubmitted entry is dropped at query.client.timeout
 * (trinodb/trino core/trino-main/src/main/java/io/trino/dispatcher/
 * QueuedStatementResource.java, commit 620120e6ae7fc1d25e86b3c618c24533ee416bb3).
 * The POST needs an authenticated user; nothing is executed, so no access
 * rule for queries applies.
 */
#include "coordinator_probe.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "http_client.h"
#include "log.h"
#include "trino_statement.h"
#include "utf8.h"

#define PROBE_MAX_BODY  (64 * 1024)
#define PROBE_RETRY_MS  (30 * 1000) /* after a probe that failed */
#define PROBE_STATEMENT "SELECT 1"

struct coordinator_probe {
	struct http_client *http;
	struct coordinator_probe_target target; /* borrowed strings */
	char *user_header;                      /* "X-Trino-User: name" */
	bool in_flight;                         /* the POST or its DELETE */
	bool cancelling;                        /* the request in flight is the DELETE */
	uint64_t generation;                    /* one per coordinator start seen */
	uint64_t request_generation;            /* the generation the POST in flight is for */
	char id[TRINO_COORDINATOR_ID_LEN + 1];  /* "" while unknown */
	int64_t retry_at_ms;                    /* no probe before (monotonic) */
	int64_t last_uptime_ms;                 /* of the previous answer, -1 none */
	int64_t last_start_ms;                  /* its start, answered_ms - uptime */
	char version[TRINO_TEXT_LEN];           /* for the log */
};

struct coordinator_probe *coordinator_probe_new(struct http_client *http,
                                                const struct coordinator_probe_target *target)
{
	struct coordinator_probe *probe = calloc(1, sizeof(*probe));
	if (probe == NULL)
		return NULL;
	size_t len = strlen(target->user) + 32;
	probe->user_header = malloc(len);
	if (probe->user_header == NULL) {
		free(probe);
		return NULL;
	}
	snprintf(probe->user_header, len, "X-Trino-User: %s", target->user);
	probe->http = http;
	probe->target = *target;
	probe->last_uptime_ms = -1;
	return probe;
}

void coordinator_probe_free(struct coordinator_probe *probe)
{
	if (probe == NULL)
		return;
	free(probe->user_header);
	free(probe);
}

const char *coordinator_probe_id(const struct coordinator_probe *probe)
{
	return probe->id[0] != '\0' ? probe->id : NULL;
}

bool coordinator_probe_restarted(int64_t uptime_before_ms, int64_t start_before_ms,
                                 int64_t uptime_now_ms, int64_t start_now_ms)
{
	if (uptime_before_ms < 0 || uptime_now_ms < 0)
		return false; /* no uptime: nothing to compare */
	if (uptime_now_ms < uptime_before_ms)
		return true;
	return start_now_ms - start_before_ms > 1000 + uptime_now_ms / 100;
}

static void on_probe_answer(const struct http_response *response, void *arg);

static int start_probe_request(struct coordinator_probe *probe, const char *method,
                               const char *path, const char *body)
{
	const struct coordinator_probe_target *t = &probe->target;
	char url[2048];
	snprintf(url, sizeof(url), "%s%s", t->base_url, path);
	const char *headers[] = {probe->user_header, "X-Trino-Source: trino-guard",
	                         "Content-Type: text/plain; charset=utf-8", t->bearer_header, NULL};
	struct http_request request = {
	        .method = method,
	        .url = url,
	        .headers = headers,
	        .body = body,
	        .body_len = body != NULL ? strlen(body) : 0,
	        .timeout_ms = t->timeout_ms,
	        .max_response_bytes = PROBE_MAX_BODY,
	        .ca_file = t->ca_file,
	        .basic_user = t->basic_user,
	        .basic_password = t->basic_password,
	};
	char err[256];
	if (http_client_start(probe->http, &request, on_probe_answer, probe, err, sizeof(err)) !=
	    0) {
		log_warn("coordinator id probe: cannot start %s %s: %s", method, url, err);
		return -1;
	}
	probe->in_flight = true;
	return 0;
}

/* Why a POST answer gives no id, into WHY; 0 with ANSWER filled when it does. */
static int read_post_answer(const struct http_response *response,
                            struct trino_statement_answer *answer, char *why, size_t why_len)
{
	char parse_error[384];
	if (!response->ok) {
		snprintf(why, why_len, "%s", response->error);
		return -1;
	}
	if (response->status != 200) {
		char message[256];
		utf8_one_line(response->body, response->body_len, 200, message, sizeof(message));
		snprintf(why, why_len, "HTTP %ld: %s", response->status, message);
		return -1;
	}
	if (trino_parse_statement_answer(response->body, response->body_len, answer, parse_error,
	                                 sizeof(parse_error)) != 0) {
		snprintf(why, why_len, "%s", parse_error);
		return -1;
	}
	return 0;
}

/* The POST answered: keep the id (unless the coordinator restarted since), cancel the query. */
static void on_post_answer(struct coordinator_probe *probe, const struct http_response *response)
{
	struct trino_statement_answer answer;
	char why[512];
	if (read_post_answer(response, &answer, why, sizeof(why)) != 0) {
		log_warn("coordinator id probe: POST %s/v1/statement: %s; retrying in %d s",
		         probe->target.base_url, why, PROBE_RETRY_MS / 1000);
		probe->retry_at_ms = clock_mono_ms() + PROBE_RETRY_MS;
		return;
	}
	if (probe->request_generation == probe->generation) {
		memcpy(probe->id, answer.coordinator_id, sizeof(probe->id));
		log_info("coordinator id %s, read from the id of query %s (Trino %s publishes no "
		         "coordinatorId in /v1/info)",
		         probe->id, answer.query_id, probe->version);
	}
	if (answer.next_path[0] != '\0' &&
	    start_probe_request(probe, "DELETE", answer.next_path, NULL) == 0)
		probe->cancelling = true;
}

/* The DELETE answered: 204, or the query is left to Trino's client timeout. */
static void on_delete_answer(struct coordinator_probe *probe, const struct http_response *response)
{
	if (response->ok && (response->status == 204 || response->status == 200))
		return;
	char why[256];
	if (response->ok)
		snprintf(why, sizeof(why), "HTTP %ld", response->status);
	else
		snprintf(why, sizeof(why), "%s", response->error);
	log_warn("coordinator id probe: cannot cancel the probe query at %s: %s; it was never "
	         "submitted, and Trino drops it at query.client.timeout",
	         probe->target.base_url, why);
}

/* From the loop: the probe's POST or DELETE finished (answered, failed or timed out). */
static void on_probe_answer(const struct http_response *response, void *arg)
{
	struct coordinator_probe *probe = arg;
	probe->in_flight = false;
	if (probe->cancelling) {
		probe->cancelling = false;
		on_delete_answer(probe, response);
		return;
	}
	on_post_answer(probe, response);
}

void coordinator_probe_update(struct coordinator_probe *probe, struct trino_info *info,
                              int64_t answered_ms)
{
	if (!info->coordinator || info->coordinator_id[0] != '\0')
		return; /* a worker, or a coordinator that publishes its id (477+) */
	int64_t start_ms = info->uptime_ms >= 0 ? answered_ms - info->uptime_ms : -1;
	if (coordinator_probe_restarted(probe->last_uptime_ms, probe->last_start_ms,
	                                info->uptime_ms, start_ms)) {
		if (probe->id[0] != '\0')
			log_info("the coordinator restarted (uptime %lld ms): its id %s is gone; "
			         "probing again",
			         (long long)info->uptime_ms, probe->id);
		probe->id[0] = '\0';
		probe->generation++;
		probe->retry_at_ms = 0;
	}
	probe->last_uptime_ms = info->uptime_ms;
	probe->last_start_ms = start_ms;
	snprintf(probe->version, sizeof(probe->version), "%s", info->version);
	if (probe->id[0] != '\0') {
		memcpy(info->coordinator_id, probe->id, sizeof(probe->id));
		info->coordinator_id_from = "probe";
		return;
	}
	if (probe->in_flight || info->starting || answered_ms < probe->retry_at_ms)
		return;
	probe->request_generation = probe->generation;
	if (start_probe_request(probe, "POST", "/v1/statement", PROBE_STATEMENT) != 0)
		probe->retry_at_ms = answered_ms + PROBE_RETRY_MS;
}
