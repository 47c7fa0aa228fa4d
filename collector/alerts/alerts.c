/*
 * The alert feed's I/O: what rules/alert_policy.c lets out goes to every
 * sink at or above its min_severity; a sink that sends over HTTP gets it
 * through its durable spool, one request at a time, retried with backoff.
 * The sink types are the rows of alert_sinks.h; the sinks' headers are in
 * alerts_headers.c, what the feed shows of itself in alerts_view.c.
 */
#include "alerts.h"
#include "alerts_impl.h"

#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alert_firing_file.h"
#include "alert_policy.h"
#include "alert_sinks.h"
#include "alert_spool.h"
#include "clock.h"
#include "http_client.h"
#include "journal.h"
#include "log.h"
#include "secret_file.h"
#include "utf8.h"

#define BACKOFF_FIRST_MS   1000
#define BACKOFF_MAX_MS     300000
#define RETRY_AFTER_MAX_MS 3600000

/*
 * Time: the clock is read once, at the start of each callback of the loop
 * (on_delivered, on_retry, on_resend), or comes from the caller of the
 * public functions, and is passed down; nothing below reads it again.
 */
static void deliver_next(struct sink *sink, struct clock_now now);
static void publish_now(struct alerts *alerts, const struct alert *alert, struct clock_now now);

static int64_t backoff_ms(int attempts, int64_t retry_after_s)
{
	int64_t delay = BACKOFF_FIRST_MS;
	for (int i = 1; i < attempts && delay < BACKOFF_MAX_MS; i++)
		delay *= 2;
	if (delay > BACKOFF_MAX_MS)
		delay = BACKOFF_MAX_MS;
	delay = delay / 2 + (int64_t)(random() % (delay / 2 + 1)); /* jitter: 50-100 % */
	if (retry_after_s > 0) {
		int64_t asked = retry_after_s * 1000;
		if (asked > RETRY_AFTER_MAX_MS)
			asked = RETRY_AFTER_MAX_MS;
		if (asked > delay)
			delay = asked;
	}
	return delay;
}

/* Arms the retry timer DELAY_MS from now. 0, or -1 (logged: the sink waits for the next flush). */
static int retry_in(struct sink *sink, int64_t delay_ms)
{
	struct timeval tv = {delay_ms / 1000, (delay_ms % 1000) * 1000};
	if (evtimer_add(sink->retry_timer, &tv) != 0) {
		log_error("alert sink %s: cannot arm the retry timer; retrying at the next tick",
		          sink->settings->name);
		return -1;
	}
	return 0;
}

static void journal_sink_event(struct sink *sink, const char *type, const char *key, long status,
                               const char *detail, bool sync, int64_t now_unix_ms)
{
	char clean[512];
	utf8_clean_copy(detail ? detail : "", 400, clean, sizeof(clean));
	json_t *event =
	        json_pack("{s:s,s:s,s:s,s:I,s:s}", "type", type, "sink", sink->settings->name,
	                  "key", key, "status", (json_int_t)status, "detail", clean);
	if (event == NULL) {
		log_error("alert sink %s: out of memory journaling %s of %s", sink->settings->name,
		          type, key);
		return;
	}
	journal_append(sink->owner->journal, now_unix_ms, event); /* 0 when it failed: logged */
	if (sync && journal_sync(sink->owner->journal) != 0)
		log_error("alert sink %s: the journal could not be synced", sink->settings->name);
}

/*
 * Marks the head of the spool done (delivered, or given up on). When the
 * mark cannot be written (a full or failing disk) the entry stays at the
 * head, known to be done: deliver_next() retries the mark, never the
 * request, so a receiver does not get it twice. 0, or -1 (retry armed).
 */
static int finish_head(struct sink *sink)
{
	sink->head_done = true;
	if (alert_spool_pop(sink->spool) != 0) {
		sink->attempts++;
		int64_t delay = backoff_ms(sink->attempts, -1);
		log_error("alert sink %s: cannot mark a delivered alert in its spool; retrying in "
		          "%.1f s (after a restart it may be sent again)",
		          sink->settings->name, (double)delay / 1000.0);
		retry_in(sink, delay);
		return -1;
	}
	sink->head_done = false;
	sink->attempts = 0;
	if (alert_spool_count(sink->spool) == 0)
		sink->dropping = false;
	return 0;
}

/* 429, 5xx or no answer: the same request later, after a backoff or what Retry-After asks. */
static void retry_later(struct sink *sink, const struct http_response *response)
{
	sink->retried++;
	sink->attempts++;
	int64_t delay = backoff_ms(sink->attempts, response->retry_after_s);
	char why[160];
	if (response->ok)
		snprintf(why, sizeof(why), "HTTP %ld", response->status);
	else
		snprintf(why, sizeof(why), "%s", response->error ? response->error : "failed");
	log_warn("alert sink %s: %s, attempt %d; retrying in %.1f s (%zu queued)",
	         sink->settings->name, why, sink->attempts, (double)delay / 1000.0,
	         alert_spool_count(sink->spool));
	retry_in(sink, delay);
}

static void handle_response(struct sink *sink, const struct http_response *response,
                            struct clock_now now)
{
	sink->in_flight = false;
	const struct spool_entry *head = alert_spool_head(sink->spool);
	if (head == NULL || head->seq != sink->in_flight_seq) {
		/* what was sent was dropped from the full queue meanwhile */
		deliver_next(sink, now);
		return;
	}
	long status = response->status;
	if (response->ok && status >= 200 && status < 300) {
		sink->sent++;
		if (finish_head(sink) == 0)
			deliver_next(sink, now);
		return;
	}
	if (!response->ok || status == 429 || status >= 500) {
		retry_later(sink, response);
		return;
	}
	/* any other answer is final: retrying the same body cannot help */
	sink->failed++;
	log_error("alert sink %s: HTTP %ld for %s, not retried: %.200s", sink->settings->name,
	          status, head->key, response->body ? response->body : "");
	journal_sink_event(sink, "alert-failed", head->key, status, response->body, true,
	                   now.unix_ms);
	if (finish_head(sink) == 0)
		deliver_next(sink, now);
}

/*
 * The receiver answered, or the request failed: woken by the HTTP client.
 * Touches this sink's spool, counters and timers.
 */
static void on_delivered(const struct http_response *response, void *arg)
{
	handle_response(arg, response, clock_read());
}

/* Woken by the retry timer: the backoff after a failed attempt (or spool mark) is over. */
static void on_retry(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	deliver_next(arg, clock_read());
}

/* Sends the head of the spool unless a request or a retry is pending. */
static void deliver_next(struct sink *sink, struct clock_now now)
{
	if (sink->in_flight || evtimer_pending(sink->retry_timer, NULL))
		return;
	const struct spool_entry *head = alert_spool_head(sink->spool);
	if (sink->head_done) {
		if (head == NULL || head->seq != sink->in_flight_seq)
			sink->head_done = false; /* a full spool dropped it meanwhile */
		else if (finish_head(sink) != 0)
			return;
		head = alert_spool_head(sink->spool);
	}
	if (head == NULL)
		return;
	sink->in_flight_seq = head->seq;
	sink->in_flight = true;
	char *sendable = sink->backend->sendable != NULL
	                         ? sink->backend->sendable(&sink->target, head->body)
	                         : NULL;
	const char *body = sink->backend->sendable != NULL ? sendable : head->body;
	if (body == NULL) {
		struct http_response failed = {.error = "out of memory", .retry_after_s = -1};
		handle_response(sink, &failed, now);
		return;
	}
	struct http_request request = {
	        .method = "POST",
	        .url = sink->backend->url_for != NULL
	                       ? sink->backend->url_for(&sink->target, head->body)
	                       : sink->target.url,
	        .headers = sink->headers,
	        .body = body,
	        .body_len = strlen(body),
	        .timeout_ms = sink->settings->timeout_ms,
	        .max_response_bytes = 64 * 1024,
	};
	char err[256];
	int started = http_client_start(sink->owner->http, &request, on_delivered, sink, err,
	                                sizeof(err));
	secret_free(sendable); /* the client copied it */
	if (started != 0) {
		struct http_response failed = {.error = err, .retry_after_s = -1};
		handle_response(sink, &failed, now);
	}
}

static char *body_for(const struct sink *sink, const struct alert *alert, int64_t started_ms)
{
	const struct alerts *alerts = sink->owner;
	struct alert_sink_context context = {
	        .settings = sink->settings,
	        .target = &sink->target,
	        .host_name = alerts->host_name,
	        .status_url = alerts->status_url,
	        .runbook_base = alerts->runbook_base,
	};
	json_t *body = sink->backend->body(&context, alert, started_ms);
	if (body == NULL)
		return NULL;
	char *text = json_dumps(body, JSON_COMPACT);
	json_decref(body);
	return text;
}

static void enqueue(struct sink *sink, const struct alert *alert, int64_t started_ms,
                    int64_t now_unix_ms);

/* Queues the notice that SINK is full, once per overflow episode. */
static void say_dropping(struct sink *sink, int64_t now_unix_ms)
{
	if (sink->dropping)
		return;
	sink->dropping = true;
	struct alert notice;
	char summary[256];
	snprintf(summary, sizeof(summary),
	         "alert sink %s is full (%lld queued): the oldest alerts are being dropped; see "
	         "trino_guard_alerts_dropped_total",
	         sink->settings->name, (long long)sink->settings->max_queued);
	alert_from_event(sink->owner->environment, "alerts-dropped", SEVERITY_CRITICAL,
	                 sink->settings->name, summary, now_unix_ms, &notice);
	enqueue(sink, &notice, notice.at_unix_ms, now_unix_ms);
}

/* Spools ALERT's body for SINK; sending starts at alerts_flush(), once it is durable. */
static void enqueue(struct sink *sink, const struct alert *alert, int64_t started_ms,
                    int64_t now_unix_ms)
{
	char *body = body_for(sink, alert, started_ms);
	if (body == NULL) {
		sink->failed++;
		log_error("alert sink %s: out of memory building %s", sink->settings->name,
		          alert->dedup_key);
		return;
	}
	int dropped = 0;
	int rc = alert_spool_push(sink->spool, alert->dedup_key, body, now_unix_ms, &dropped);
	free(body);
	if (rc != 0) {
		sink->failed++;
		log_error("alert sink %s: could not queue %s (out of memory, or the full queue's "
		          "oldest alert could not be retired on disk)",
		          sink->settings->name, alert->dedup_key);
		return;
	}
	if (dropped) {
		sink->dropped++;
		log_error("alert sink %s: queue full (%lld), the oldest alert was dropped",
		          sink->settings->name, (long long)sink->settings->max_queued);
		journal_sink_event(sink, "alert-dropped", alert->dedup_key, 0, "queue full", false,
		                   now_unix_ms);
		say_dropping(sink, now_unix_ms);
	}
}

/* Makes what was spooled durable, then sends. */
static void sync_and_send(struct sink *sink, struct clock_now now)
{
	/* a full disk fails this at every tick: said when it starts, and when it ends */
	bool synced = alert_spool_sync(sink->spool) == 0;
	if (!synced && !sink->spool_failing)
		log_error("alert sink %s: the spool is not durable (%zu alert(s) only in memory); "
		          "sending anyway, and writing them when the disk takes them",
		          sink->settings->name, alert_spool_unwritten(sink->spool));
	else if (synced && sink->spool_failing)
		log_info("alert sink %s: the spool is durable again", sink->settings->name);
	sink->spool_failing = !synced;
	deliver_next(sink, now);
}

/*
 * Woken by the resend timer, every `resend` on Alertmanager sinks: the firing
 * set again, so none expires there. Reads the policy's firing set, writes the spool.
 */
static void on_resend(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct clock_now now = clock_read();
	struct sink *sink = arg;
	/* a sink still catching up has these queued already */
	if (alert_spool_count(sink->spool) > 0)
		return;
	const struct alert_policy *policy = &sink->owner->policy;
	for (size_t i = 0; i < policy->firing_count; i++) {
		const struct alert *firing = &policy->firing[i];
		if ((int)firing->severity >= sink->settings->min_severity)
			enqueue(sink, firing, firing->at_unix_ms, now.unix_ms);
	}
	sync_and_send(sink, now);
}

void alerts_flush(struct alerts *alerts, struct clock_now now)
{
	if (alerts == NULL)
		return;
	struct alert due;
	while (alert_policy_next_due(&alerts->policy, now.mono_ms, &due))
		publish_now(alerts, &due, now);
	if (alerts->firing_dirty) {
		/* alerts still go out; the set stays dirty and is saved again next time */
		char err[1200];
		bool saved = alert_firing_file_save(alerts->firing_path, &alerts->policy, err,
		                                    sizeof(err)) == 0;
		if (!saved && !alerts->firing_save_failed)
			log_error("cannot save the firing alerts: %s; retried at every tick", err);
		else if (saved && alerts->firing_save_failed)
			log_info("the firing alerts are saved again");
		if (!saved)
			snprintf(alerts->firing_why, sizeof(alerts->firing_why), "%s", err);
		alerts->firing_save_failed = !saved;
		alerts->firing_dirty = !saved;
	}
	for (size_t i = 0; i < alerts->sink_count; i++) {
		if (alerts->sinks[i].spool != NULL)
			sync_and_send(&alerts->sinks[i], now);
	}
}

void alerts_reconcile(struct alerts *alerts, struct clock_now now)
{
	if (alerts == NULL || alerts->policy.reconciled)
		return;
	size_t count = 0;
	struct alert *resolves = alert_policy_reconcile(&alerts->policy, now.unix_ms, &count);
	if (count > 0) {
		log_info("resolving %zu alert(s) that cleared while the collector was down", count);
		alerts->firing_dirty = true; /* nothing is carried over any more */
	}
	for (size_t i = 0; i < count; i++)
		alerts_publish(alerts, &resolves[i], now);
	free(resolves);
	alerts_flush(alerts, now);
}

void alerts_publish(struct alerts *alerts, const struct alert *alert, struct clock_now now)
{
	if (alerts == NULL)
		return;
	if (alert_policy_decide(&alerts->policy, alert, now.mono_ms) != ALERT_VERDICT_SEND)
		return;
	publish_now(alerts, alert, now);
}

static void publish_now(struct alerts *alerts, const struct alert *alert, struct clock_now now)
{
	/* Alertmanager's startsAt: when a finding first fired, also in its resolve */
	int64_t started;
	bool changed;
	if (alert_policy_track(&alerts->policy, alert, &started, &changed) != 0)
		log_error("out of memory: %s is sent but not kept in the firing set",
		          alert->dedup_key);
	if (changed)
		alerts->firing_dirty = true;
	for (size_t i = 0; i < alerts->sink_count; i++) {
		struct sink *sink = &alerts->sinks[i];
		if ((int)alert->severity < sink->settings->min_severity &&
		    !(sink->backend->takes_changes && alert_is_change(alert)))
			continue;
		if (sink->backend->write != NULL) {
			sink->backend->write(alert);
			sink->sent++;
			continue;
		}
		enqueue(sink, alert, started, now.unix_ms);
	}
}

/* The spool (replayed: what a previous run left goes out now) and the timers. 0, or -1. */
static int open_delivery(struct alerts *alerts, struct sink *sink, const char *state_dir, char *why,
                         size_t why_len)
{
	const struct alert_section *s = sink->settings;
	char path[1024];
	snprintf(path, sizeof(path), "%s/alerts-%s.spool", state_dir, s->name);
	size_t replay_dropped = 0;
	sink->spool = alert_spool_open(path, (size_t)s->max_queued, &replay_dropped, why, why_len);
	if (sink->spool == NULL)
		return -1;
	sink->dropped += replay_dropped;
	sink->retry_timer = evtimer_new(alerts->base, on_retry, sink);
	if (sink->retry_timer == NULL) {
		snprintf(why, why_len, "out of memory");
		return -1;
	}
	if (sink->backend->resends_firing) {
		sink->resend_timer = event_new(alerts->base, -1, EV_PERSIST, on_resend, sink);
		struct timeval tv = {s->resend_ms / 1000, (s->resend_ms % 1000) * 1000};
		if (sink->resend_timer == NULL || evtimer_add(sink->resend_timer, &tv) != 0) {
			snprintf(why, why_len, "cannot start the resend timer");
			return -1;
		}
	}
	if (alert_spool_count(sink->spool) > 0)
		log_info("alert sink %s: %zu alert(s) from before the restart to deliver", s->name,
		         alert_spool_count(sink->spool));
	return 0;
}

static int open_sink(struct alerts *alerts, struct sink *sink, const struct alert_section *s,
                     const char *state_dir, struct clock_now now, char *err, size_t err_len)
{
	sink->owner = alerts;
	sink->settings = s;
	sink->backend = alert_sink_backend(s->type);
	char why[512];
	if (sink->backend == NULL) {
		snprintf(err, err_len, "[alert.%s]: no sink type", s->name);
		return -1;
	}
	if (sink->backend->open != NULL &&
	    sink->backend->open(s, &sink->target, why, sizeof(why)) != 0) {
		snprintf(err, err_len, "[alert.%s]: %s", s->name, why);
		return -1;
	}
	if (alerts_sink_headers_open(sink, err, err_len) != 0)
		return -1;
	if (sink->backend->body == NULL)
		return 0; /* it writes; nothing to spool or send */
	if (open_delivery(alerts, sink, state_dir, why, sizeof(why)) != 0) {
		snprintf(err, err_len, "[alert.%s]: %s", s->name, why);
		return -1;
	}
	deliver_next(sink, now);
	return 0;
}

/* [api] public_url + "/v1/status", linked from every alert; unset: none. */
static void set_status_url(struct alerts *alerts, const char *public_url)
{
	if (public_url == NULL)
		return;
	size_t len = strlen(public_url);
	snprintf(alerts->status_url_buffer, sizeof(alerts->status_url_buffer), "%s%sv1/status",
	         public_url, len > 0 && public_url[len - 1] == '/' ? "" : "/");
	alerts->status_url = alerts->status_url_buffer;
}

struct alerts *alerts_new(struct event_base *base, const struct collector_config *config,
                          struct journal *journal, struct clock_now now, char *err, size_t err_len)
{
	struct alerts *alerts = calloc(1, sizeof(*alerts));
	if (alerts == NULL) {
		snprintf(err, err_len, "out of memory");
		return NULL;
	}
	alerts->base = base;
	alerts->journal = journal;
	/* jitter that differs between collectors, so an HA pair does not retry in step */
	srandom((unsigned)now.unix_ms ^ (unsigned)now.mono_ms ^ (unsigned)getpid());
	alerts->environment = config->collector.environment;
	alert_policy_init(&alerts->policy, config->alerting.for_delay_ms);
	set_status_url(alerts, config->api.public_url);
	alerts->runbook_base = config->alerting.runbook_url;
	snprintf(alerts->firing_path, sizeof(alerts->firing_path), "%s/alerts-firing.json",
	         config->collector.state_dir);
	char why[sizeof(alerts->firing_corrupt)];
	int loaded = alert_firing_file_load(alerts->firing_path, now.unix_ms / 1000,
	                                    &alerts->policy, why, sizeof(why));
	if (loaded < 0)
		log_error("%s; those are not resolved after the restart", why);
	if (loaded > 0) {
		snprintf(alerts->firing_corrupt, sizeof(alerts->firing_corrupt), "%s", why);
		log_error("the firing alerts' file does not parse: %s; starting with none firing "
		          "(alerts firing before the restart are not resolved by it)",
		          why);
	}
	if (gethostname(alerts->host_name, sizeof(alerts->host_name)) != 0)
		snprintf(alerts->host_name, sizeof(alerts->host_name), "trino-guard-collector");
	alerts->http = http_client_new(base, err, err_len);
	if (alerts->http == NULL) {
		alerts_free(alerts);
		return NULL;
	}
	for (size_t i = 0; i < config->alert_count; i++) {
		alerts->sink_count++;
		if (open_sink(alerts, &alerts->sinks[i], &config->alerts[i],
		              config->collector.state_dir, now, err, err_len) != 0) {
			alerts_free(alerts);
			return NULL;
		}
	}
	return alerts;
}

void alerts_free(struct alerts *alerts)
{
	if (alerts == NULL)
		return;
	http_client_free(alerts->http); /* callbacks of requests in flight do not run */
	for (size_t i = 0; i < alerts->sink_count; i++) {
		struct sink *sink = &alerts->sinks[i];
		alert_spool_close(sink->spool);
		if (sink->retry_timer != NULL)
			event_free(sink->retry_timer);
		if (sink->resend_timer != NULL)
			event_free(sink->resend_timer);
		request_headers_free(&sink->extra);
		alert_sink_target_free(&sink->target);
	}
	alert_policy_cleanup(&alerts->policy);
	free(alerts);
}
