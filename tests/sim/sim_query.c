/*
 * The statement protocol's query model (sim_query.h): the life of each query
 * a client runs and how Trino's QueryManager counts it. Counting rules
 * (docs/DESIGN.md §10): SubmittedQueries at the first poll, StartedQueries
 * when it leaves the queue, CompletedQueries at every final state,
 * FailedQueries and the error type's counter for failures, cancels and
 * abandons (both USER_ERROR), CanceledQueries and AbandonedQueries besides.
 */
#include "sim_query.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static uint64_t rng_next(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

void sim_queries_init(struct sim_queries *queries, struct sim_cluster *cluster,
                      int64_t client_timeout_ms, uint64_t seed)
{
	memset(queries, 0, sizeof(*queries));
	queries->cluster = cluster;
	queries->client_timeout_ms = client_timeout_ms;
	queries->rng_state = seed ^ 0x5eed5eed5eedULL;
}

static int parse_count(const char *value, long long max, long long *out)
{
	char *end;
	long long n = strtoll(value, &end, 10);
	if (*value == '\0' || (*end != '\0' && *end != ' ' && *end != '\n' && *end != ';') ||
	    n < 0 || n > max)
		return -1;
	*out = n;
	return 0;
}

/* One "key=value" word of the SQL text; words the sim does not know are SQL. */
static int parse_word(const char *word, struct sim_query_behaviour *out, char *why, size_t why_len)
{
	static const struct {
		const char *key;
		long long max;
	} numbers[] = {{"queued_ms=", 3600000}, {"duration_ms=", 3600000}, {"rows=", 100000}};
	long long n;
	for (size_t i = 0; i < sizeof(numbers) / sizeof(numbers[0]); i++) {
		size_t len = strlen(numbers[i].key);
		if (strncmp(word, numbers[i].key, len) != 0)
			continue;
		if (parse_count(word + len, numbers[i].max, &n) != 0) {
			snprintf(why, why_len, "%.*s must be a whole number from 0 to %lld",
			         (int)len - 1, word, numbers[i].max);
			return -1;
		}
		if (i == 0)
			out->queued_ms = n;
		else if (i == 1)
			out->duration_ms = n;
		else
			out->rows = (int)n;
		return 0;
	}
	if (strncmp(word, "fail=", 5) == 0) {
		char type[40];
		size_t len = strcspn(word + 5, " \n;'");
		snprintf(type, sizeof(type), "%.*s", (int)(len < 39 ? len : 39), word + 5);
		if (sim_error_type_parse(type, &out->error_type) != 0) {
			snprintf(why, why_len,
			         "fail= must be USER_ERROR, INTERNAL_ERROR, EXTERNAL or "
			         "INSUFFICIENT_RESOURCES");
			return -1;
		}
		out->fails = true;
	}
	return 0;
}

int sim_query_behaviour_parse(const char *sql, struct sim_query_behaviour *out, char *why,
                              size_t why_len)
{
	*out = (struct sim_query_behaviour){.rows = 1};
	for (const char *p = sql; *p != '\0';) {
		p += strspn(p, " \t\r\n(,");
		if (*p == '\0')
			break;
		if (parse_word(p, out, why, why_len) != 0)
			return -1;
		p += strcspn(p, " \t\r\n(,");
	}
	return 0;
}

/* Trino's QueryIdGenerator: the UTC time, a 5-digit sequence, the coordinator's id. */
static void make_query_id(struct sim_queries *queries, int64_t unix_ms, char *out, size_t out_len)
{
	time_t seconds = (time_t)(unix_ms / 1000);
	struct tm utc;
	gmtime_r(&seconds, &utc);
	snprintf(out, out_len, "%04d%02d%02d_%02d%02d%02d_%05u_%s", utc.tm_year + 1900,
	         utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec,
	         queries->sequence, queries->cluster->nodes[0].coordinator_id);
	queries->sequence = (queries->sequence + 1) % 100000;
}

/* A free slot, else the one whose query ended first; NULL when all are live. */
static struct sim_query *take_slot(struct sim_queries *queries)
{
	struct sim_query *oldest = NULL;
	for (size_t i = 0; i < SIM_MAX_QUERIES; i++) {
		struct sim_query *q = &queries->slots[i];
		if (q->state == SIM_QUERY_FREE)
			return q;
		bool final = q->state == SIM_QUERY_FINISHED || q->state == SIM_QUERY_FAILED;
		if (final && (oldest == NULL || q->last_poll_ms < oldest->last_poll_ms))
			oldest = q;
	}
	return oldest;
}

struct sim_query *sim_query_register(struct sim_queries *queries,
                                     const struct sim_query_behaviour *behaviour, const char *user,
                                     int64_t unix_ms, int64_t now_ms)
{
	struct sim_query *q = take_slot(queries);
	if (q == NULL)
		return NULL;
	uint32_t generation = q->generation + 1;
	memset(q, 0, sizeof(*q));
	q->generation = generation;
	q->state = SIM_QUERY_REGISTERED;
	make_query_id(queries, unix_ms, q->id, sizeof(q->id));
	snprintf(q->slug, sizeof(q->slug), "y%016llx%016llx",
	         (unsigned long long)rng_next(&queries->rng_state),
	         (unsigned long long)rng_next(&queries->rng_state));
	snprintf(q->user, sizeof(q->user), "%s", user);
	q->behaviour = *behaviour;
	q->token = 1;
	q->created_ms = now_ms;
	q->last_poll_ms = now_ms;
	return q;
}

struct sim_query *sim_query_find(struct sim_queries *queries, const char *id, const char *slug)
{
	for (size_t i = 0; i < SIM_MAX_QUERIES; i++) {
		struct sim_query *q = &queries->slots[i];
		if (q->state != SIM_QUERY_FREE && strcmp(q->id, id) == 0)
			return slug == NULL || strcmp(q->slug, slug) == 0 ? q : NULL;
	}
	return NULL;
}

/* Moves a query to FAILED with Trino's error code NAME of TYPE, counting it. */
static void fail_query(struct sim_queries *queries, struct sim_query *q, const char *name,
                       enum sim_error_type type, const char *text, int64_t now_ms)
{
	struct sim_counters *c = &queries->cluster->counters;
	q->state = SIM_QUERY_FAILED;
	q->ended_ms = now_ms;
	snprintf(q->error_name, sizeof(q->error_name), "%s", name);
	snprintf(q->error_type, sizeof(q->error_type), "%s", sim_error_type_name(type));
	snprintf(q->error_text, sizeof(q->error_text), "%s", text);
	c->completed++;
	sim_count_failure(c, type);
	if (strcmp(name, "ABANDONED_QUERY") == 0)
		c->abandoned++;
	else if (strcmp(name, "USER_CANCELED") == 0)
		c->canceled++;
}

/* Sets the cluster's share of the gauges the background traffic adds to. */
static void update_gauges(struct sim_queries *queries)
{
	sim_queries_gauges(queries, &queries->cluster->statement_queued,
	                   &queries->cluster->statement_running);
}

void sim_query_poll(struct sim_queries *queries, struct sim_query *q, int64_t now_ms)
{
	q->last_poll_ms = now_ms;
	if (q->state == SIM_QUERY_REGISTERED) {
		/* QueuedStatementResource submits the query on its first poll */
		q->state = SIM_QUERY_QUEUED;
		q->submitted_ms = now_ms;
		queries->cluster->counters.submitted++;
	}
	sim_queries_advance(queries, now_ms);
}

/* The error code Trino would give a failure of TYPE. */
static const char *error_name_of(enum sim_error_type type)
{
	switch (type) {
	case SIM_ERROR_USER:
		return "SYNTAX_ERROR";
	case SIM_ERROR_EXTERNAL:
		return "HIVE_METASTORE_ERROR";
	case SIM_ERROR_INSUFFICIENT_RESOURCES:
		return "EXCEEDED_GLOBAL_MEMORY_LIMIT";
	case SIM_ERROR_INTERNAL:
		break;
	}
	return "GENERIC_INTERNAL_ERROR";
}

static void advance_one(struct sim_queries *queries, struct sim_query *q, int64_t now_ms)
{
	bool live = q->state == SIM_QUERY_QUEUED || q->state == SIM_QUERY_RUNNING;
	if (q->state == SIM_QUERY_REGISTERED &&
	    now_ms - q->last_poll_ms > queries->client_timeout_ms) {
		q->state = SIM_QUERY_FREE; /* never submitted: Trino just forgets it */
		return;
	}
	if (!live)
		return;
	if (now_ms - q->last_poll_ms > queries->client_timeout_ms) {
		fail_query(queries, q, "ABANDONED_QUERY", SIM_ERROR_USER,
		           "Query was abandoned by the client, as it may have exited or stopped "
		           "checking for query results",
		           now_ms);
		return;
	}
	if (q->state == SIM_QUERY_QUEUED && now_ms - q->submitted_ms >= q->behaviour.queued_ms) {
		q->state = SIM_QUERY_RUNNING;
		q->started_ms = q->submitted_ms + q->behaviour.queued_ms;
		queries->cluster->counters.started++;
	}
	if (q->state == SIM_QUERY_RUNNING && q->behaviour.fails &&
	    now_ms - q->started_ms >= q->behaviour.duration_ms)
		fail_query(queries, q, error_name_of(q->behaviour.error_type),
		           q->behaviour.error_type, "Simulated failure asked by the query text",
		           now_ms);
}

void sim_queries_advance(struct sim_queries *queries, int64_t now_ms)
{
	for (size_t i = 0; i < SIM_MAX_QUERIES; i++)
		advance_one(queries, &queries->slots[i], now_ms);
	update_gauges(queries);
}

bool sim_query_rows_ready(const struct sim_query *q, int64_t now_ms)
{
	return q->state == SIM_QUERY_RUNNING && now_ms - q->started_ms >= q->behaviour.duration_ms;
}

int64_t sim_query_wait_ms(const struct sim_query *q, int64_t now_ms)
{
	int64_t wait = 1000;
	if (q->state == SIM_QUERY_QUEUED)
		wait = q->submitted_ms + q->behaviour.queued_ms - now_ms;
	else if (q->state == SIM_QUERY_RUNNING)
		wait = q->started_ms + q->behaviour.duration_ms - now_ms;
	else
		wait = 0;
	if (wait < 0)
		wait = 0;
	return wait > 1000 ? 1000 : wait;
}

void sim_query_finish(struct sim_queries *queries, struct sim_query *q, int64_t now_ms)
{
	if (q->state != SIM_QUERY_RUNNING)
		return;
	q->state = SIM_QUERY_FINISHED;
	q->ended_ms = now_ms;
	queries->cluster->counters.completed++;
	update_gauges(queries);
}

void sim_query_cancel(struct sim_queries *queries, struct sim_query *q, int64_t now_ms)
{
	if (q->state == SIM_QUERY_REGISTERED) {
		q->state = SIM_QUERY_FREE;
		return;
	}
	if (q->state == SIM_QUERY_QUEUED || q->state == SIM_QUERY_RUNNING)
		fail_query(queries, q, "USER_CANCELED", SIM_ERROR_USER, "Query was canceled",
		           now_ms);
	update_gauges(queries);
}

void sim_queries_clear(struct sim_queries *queries)
{
	for (size_t i = 0; i < SIM_MAX_QUERIES; i++) {
		struct sim_query *q = &queries->slots[i];
		if (q->state != SIM_QUERY_FREE) {
			q->state = SIM_QUERY_FREE;
			q->generation++;
		}
	}
	queries->sequence = 0;
	update_gauges(queries);
}

void sim_queries_gauges(const struct sim_queries *queries, uint64_t *queued, uint64_t *running)
{
	*queued = 0;
	*running = 0;
	for (size_t i = 0; i < SIM_MAX_QUERIES; i++) {
		if (queries->slots[i].state == SIM_QUERY_QUEUED)
			(*queued)++;
		else if (queries->slots[i].state == SIM_QUERY_RUNNING)
			(*running)++;
	}
}

const char *sim_query_state_name(const struct sim_query *q)
{
	switch (q->state) {
	case SIM_QUERY_REGISTERED:
	case SIM_QUERY_QUEUED:
		return "QUEUED";
	case SIM_QUERY_RUNNING:
		return q->data_sent ? "FINISHING" : "RUNNING";
	case SIM_QUERY_FINISHED:
		return "FINISHED";
	case SIM_QUERY_FAILED:
	case SIM_QUERY_FREE:
		break;
	}
	return "FAILED";
}
