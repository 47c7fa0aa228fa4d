/*
 * GET /v1/query as Trino answers it (sim_query_list.h): a JSON array of
 * BasicQueryInfo, finished queries included until they expire, each with
 * its "state" and "queryStats" ("createTime" in ISO-8601 UTC, "elapsedTime"
 * an airlift Duration); absent Optionals and nulls are left out, as airlift's
 * ObjectMapper does [trinodb/trino core/trino-main/src/main/java/io/trino/
 * server/QueryResource.java@03a4d53b, BasicQueryInfo.java@19a0b306,
 * BasicQueryStats.java@d9379fae]. The resource needs an authenticated user
 * and lists only what the access control lets that user view: with
 * --management-user set, another user sees only its own queries, as a file
 * access control with owner-only query rules does. Queries POSTed but never
 * polled are not listed: Trino dispatches them on the first poll.
 */
#include "sim_query_list.h"

#include <event2/http.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "sim_http.h"
#include "sim_metrics.h"
#include "sim_statement.h"

/* UNIX_MS as Trino writes a DateTime: "2026-12-02T17:14:39.123Z". */
static json_t *iso_time(int64_t unix_ms)
{
	time_t seconds = (time_t)(unix_ms / 1000);
	struct tm tm;
	char text[40], out[48];
	if (gmtime_r(&seconds, &tm) == NULL)
		return json_null();
	strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out, sizeof(out), "%s.%03dZ", text, (int)(unix_ms % 1000));
	return json_string(out);
}

static json_t *duration(int64_t ms)
{
	char text[32];
	sim_format_duration(ms > 0 ? ms : 0, text, sizeof(text));
	return json_string(text);
}

/* queryStats: the times Trino measures and the counters the sim does not model, at zero. */
static json_t *query_stats(const struct sim_query *q, int64_t now_ms, int64_t now_unix_ms)
{
	int64_t end_ms = q->ended_ms != 0 ? q->ended_ms : now_ms;
	int64_t queued_ms = (q->started_ms != 0 ? q->started_ms : end_ms) - q->created_ms;
	int64_t executing_ms = q->started_ms != 0 ? end_ms - q->started_ms : 0;
	json_t *stats = json_pack(
	        "{s:o,s:o,s:o,s:o,s:i,s:i,s:i,s:i,s:s,s:i,s:s,s:f,s:f,s:s,s:s,s:s,s:s,s:s,s:s,s:b,"
	        "s:[]}",
	        "createTime", iso_time(now_unix_ms - (now_ms - q->created_ms)), "queuedTime",
	        duration(queued_ms), "elapsedTime", duration(end_ms - q->created_ms),
	        "executionTime", duration(executing_ms), "totalDrivers", 0, "queuedDrivers", 0,
	        "runningDrivers", 0, "completedDrivers", 0, "rawInputDataSize", "0B",
	        "rawInputPositions", 0, "physicalInputDataSize", "0B", "cumulativeUserMemory", 0.0,
	        "cumulativeSystemMemory", 0.0, "userMemoryReservation", "0B",
	        "totalMemoryReservation", "0B", "peakUserMemoryReservation", "0B",
	        "peakTotalMemoryReservation", "0B", "totalCpuTime", "0.00ms", "totalScheduledTime",
	        "0.00ms", "fullyBlocked", false, "blockedReasons");
	if (stats != NULL && q->ended_ms != 0)
		json_object_set_new(stats, "endTime",
		                    iso_time(now_unix_ms - (now_ms - q->ended_ms)));
	return stats;
}

static json_t *query_info(const struct sim_query *q, const char *host, int64_t now_ms,
                          int64_t now_unix_ms)
{
	char self[512], sql[128];
	snprintf(self, sizeof(self), "http://%s/v1/query/%s", host, q->id);
	snprintf(sql, sizeof(sql), "SELECT 1 -- duration_ms=%lld rows=%d",
	         (long long)q->behaviour.duration_ms, q->behaviour.rows);
	/* in BasicQueryInfo's order: the error fields sit between queryStats and queryType */
	json_t *info =
	        json_pack("{s:s,s:{s:s,s:s,s:{},s:{}},s:[s],s:s,s:b,s:s,s:s,s:o}", "queryId", q->id,
	                  "session", "queryId", q->id, "user", q->user, "systemProperties",
	                  "catalogProperties", "resourceGroupId", "global", "state",
	                  sim_query_state_name(q), "scheduled", q->started_ms != 0, "self", self,
	                  "query", sql, "queryStats", query_stats(q, now_ms, now_unix_ms));
	if (info == NULL)
		return NULL;
	if (q->state == SIM_QUERY_FAILED) {
		json_object_set_new(info, "errorType", json_string(q->error_type));
		json_object_set_new(info, "errorCode",
		                    json_pack("{s:i,s:s,s:s,s:b}", "code",
		                              sim_error_code_of(q->error_name), "name",
		                              q->error_name, "type", q->error_type, "retriable",
		                              false));
	}
	json_object_set_new(info, "queryType", json_string("SELECT"));
	json_object_set_new(info, "retryPolicy", json_string("NONE"));
	return info;
}

void sim_query_list_serve(struct evhttp_request *req, struct sim_queries *queries,
                          const struct sim_cluster *cluster)
{
	char user[256];
	const char *why = NULL;
	if (sim_request_user(req, user, sizeof(user), &why) != 0) {
		sim_http_send_text(req, 401, "Unauthorized", "text/plain", why);
		return;
	}
	const char *host = evhttp_find_header(evhttp_request_get_input_headers(req), "Host");
	bool sees_all =
	        cluster->management_user[0] == '\0' || strcmp(user, cluster->management_user) == 0;
	int64_t now_ms = sim_now_ms(), now_unix_ms = clock_unix_ms();
	sim_queries_advance(queries, now_ms);
	json_t *list = json_array();
	for (size_t i = 0; list != NULL && i < SIM_MAX_QUERIES; i++) {
		const struct sim_query *q = &queries->slots[i];
		if (q->state == SIM_QUERY_FREE || q->state == SIM_QUERY_REGISTERED)
			continue;
		if (!sees_all && strcmp(q->user, user) != 0)
			continue;
		json_array_append_new(list, query_info(q, host != NULL ? host : "127.0.0.1", now_ms,
		                                       now_unix_ms));
	}
	if (list == NULL) {
		evhttp_send_error(req, 500, NULL);
		return;
	}
	sim_http_send_json(req, list);
}
