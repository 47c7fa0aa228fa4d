/*
 * Alert sinks: queueing, delivery, retries and Alertmanager re-sends.
 */
#include "alerts.h"
#include "clock.h"

#include <ctype.h>
#include <errno.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "alert_payload.h"
#include "alert_policy.h"
#include "alert_spool.h"
#include "durable_file.h"
#include "http_client.h"
#include "journal.h"
#include "log.h"
#include "secret_file.h"
#include "utf8.h"

#define BACKOFF_FIRST_MS   1000
#define BACKOFF_MAX_MS     300000
#define RETRY_AFTER_MAX_MS 3600000
#define EVENT_TTL_MS       300000 /* how long an event shows in Alertmanager */

struct sink {
	struct alerts *owner;
	const struct alert_section *settings;
	char *url; /* where to POST; a secret for slack */
	char *routing_key;
	char *headers[ALERT_SINK_MAX_HEADERS + 2]; /* Content-Type, header.NAME, NULL */
	struct alert_spool *spool;
	bool in_flight;
	uint64_t
	        in_flight_seq; /* the spool entry being sent (a full spool may drop it meanwhile) */
	bool dropping;         /* in an overflow episode: said once until the queue drains */
	int attempts;
	struct event *retry_timer;
	struct event *resend_timer;
	uint64_t sent, retried, failed, dropped;
};

struct alerts {
	struct event_base *base;
	struct http_client *http;
	struct journal *journal;
	const char *environment;
	const char *status_url; /* NULL when [api] public_url is unset */
	char status_url_buffer[1024];
	char source[256];
	struct sink sinks[COLLECTOR_MAX_ALERT_SINKS];
	size_t sink_count;
	/* held findings, the firing set (kept in firing_path across restarts), the reconcile */
	struct alert_policy policy;
	char firing_path[1024];
	bool firing_dirty;
};

static void deliver_next(struct sink *sink);
static void publish_now(struct alerts *alerts, const struct alert *alert);

static int64_t unix_ms(void)
{
	return clock_unix_ms();
}

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

static void journal_sink_event(struct sink *sink, const char *type, const char *key, long status,
                               const char *detail, bool sync)
{
	char clean[512];
	utf8_clean_copy(detail ? detail : "", 400, clean, sizeof(clean));
	journal_append(sink->owner->journal, unix_ms(),
	               json_pack("{s:s,s:s,s:s,s:I,s:s}", "type", type, "sink",
	                         sink->settings->name, "key", key, "status", (json_int_t)status,
	                         "detail", clean));
	if (sync)
		journal_sync(sink->owner->journal);
}

static void on_delivered(const struct http_response *response, void *arg)
{
	struct sink *sink = arg;
	sink->in_flight = false;
	const struct spool_entry *head = alert_spool_head(sink->spool);
	if (head == NULL || head->seq != sink->in_flight_seq) {
		deliver_next(sink); /* what was sent was dropped from the full queue meanwhile */
		return;
	}
	long status = response->status;
	if (response->ok && status >= 200 && status < 300) {
		sink->sent++;
		sink->attempts = 0;
		alert_spool_pop(sink->spool);
		if (alert_spool_count(sink->spool) == 0)
			sink->dropping = false;
		deliver_next(sink);
		return;
	}
	if (!response->ok || status == 429 || status >= 500) {
		sink->retried++;
		sink->attempts++;
		int64_t delay = backoff_ms(sink->attempts, response->retry_after_s);
		char why[160];
		if (response->ok)
			snprintf(why, sizeof(why), "HTTP %ld", status);
		else
			snprintf(why, sizeof(why), "%s",
			         response->error ? response->error : "failed");
		log_warn("alert sink %s: %s, attempt %d; retrying in %.1f s (%zu queued)",
		         sink->settings->name, why, sink->attempts, (double)delay / 1000.0,
		         alert_spool_count(sink->spool));
		struct timeval tv = {delay / 1000, (delay % 1000) * 1000};
		evtimer_add(sink->retry_timer, &tv);
		return;
	}
	/* any other answer is final: retrying the same body cannot help */
	sink->failed++;
	sink->attempts = 0;
	log_error("alert sink %s: HTTP %ld for %s, not retried: %.200s", sink->settings->name,
	          status, head->key, response->body ? response->body : "");
	journal_sink_event(sink, "alert-failed", head->key, status, response->body, true);
	alert_spool_pop(sink->spool);
	deliver_next(sink);
}

static void on_retry(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	deliver_next(arg);
}

static void deliver_next(struct sink *sink)
{
	if (sink->in_flight || evtimer_pending(sink->retry_timer, NULL))
		return;
	const struct spool_entry *head = alert_spool_head(sink->spool);
	if (head == NULL)
		return;
	struct http_request request = {
	        .method = "POST",
	        .url = sink->url,
	        .headers = (const char *const *)sink->headers,
	        .body = head->body,
	        .body_len = strlen(head->body),
	        .timeout_ms = sink->settings->timeout_ms,
	        .max_response_bytes = 64 * 1024,
	};
	sink->in_flight_seq = head->seq;
	char err[256];
	if (http_client_start(sink->owner->http, &request, on_delivered, sink, err, sizeof(err)) !=
	    0) {
		struct http_response failed = {.error = err, .retry_after_s = -1};
		sink->in_flight = true;
		on_delivered(&failed, sink);
		return;
	}
	sink->in_flight = true;
}

static char *body_for(const struct sink *sink, const struct alert *alert, int64_t started_ms)
{
	const struct alerts *alerts = sink->owner;
	json_t *body = NULL;
	switch (sink->settings->type) {
	case ALERT_SINK_PAGERDUTY: {
		struct pagerduty_fields fields = {sink->routing_key,
		                                  sink->settings->source ? sink->settings->source
		                                                         : alerts->source,
		                                  sink->settings->component, alerts->status_url};
		body = alert_pagerduty_body(alert, &fields);
		break;
	}
	case ALERT_SINK_ALERTMANAGER:
		body = alert_alertmanager_body(alert, started_ms, alerts->status_url, EVENT_TTL_MS);
		break;
	case ALERT_SINK_SLACK:
		body = alert_slack_body(alert, alerts->status_url);
		break;
	default:
		body = alert_webhook_body(alert, alerts->status_url);
		break;
	}
	if (body == NULL)
		return NULL;
	char *text = json_dumps(body, JSON_COMPACT);
	json_decref(body);
	return text;
}

static void enqueue(struct sink *sink, const struct alert *alert, int64_t started_ms)
{
	char *body = body_for(sink, alert, started_ms);
	if (body == NULL) {
		sink->failed++;
		log_error("alert sink %s: out of memory building %s", sink->settings->name,
		          alert->dedup_key);
		return;
	}
	int dropped = 0;
	int rc = alert_spool_push(sink->spool, alert->dedup_key, body, unix_ms(), &dropped);
	free(body);
	if (rc != 0) {
		sink->failed++;
		log_error("alert sink %s: could not spool %s", sink->settings->name,
		          alert->dedup_key);
		return;
	}
	if (dropped) {
		sink->dropped++;
		log_error("alert sink %s: queue full (%lld), the oldest alert was dropped",
		          sink->settings->name, (long long)sink->settings->max_queued);
		journal_sink_event(sink, "alert-dropped", alert->dedup_key, 0, "queue full", false);
		if (!sink->dropping) {
			sink->dropping = true;
			struct alert notice;
			char summary[256];
			snprintf(summary, sizeof(summary),
			         "alert sink %s is full (%lld queued): the oldest alerts are being "
			         "dropped; see trino_guard_alerts_dropped_total",
			         sink->settings->name, (long long)sink->settings->max_queued);
			alert_from_event(sink->owner->environment, "alerts-dropped",
			                 SEVERITY_CRITICAL, sink->settings->name, summary,
			                 unix_ms(), &notice);
			enqueue(sink, &notice, notice.at_unix_ms);
		}
	}
	/* sending starts at alerts_flush(), once the entry is durable */
}

static void on_resend(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct sink *sink = arg;
	/* a sink still catching up has these queued already */
	if (alert_spool_count(sink->spool) > 0)
		return;
	const struct alert_policy *policy = &sink->owner->policy;
	for (size_t i = 0; i < policy->firing_count; i++) {
		if ((int)policy->firing[i].severity >= sink->settings->min_severity)
			enqueue(sink, &policy->firing[i], policy->firing[i].at_unix_ms);
	}
	alert_spool_sync(sink->spool);
	deliver_next(sink);
}

/*
 * Writes the firing set (and what is carried over, until it is reconciled):
 * replaced durably. A failure is logged; alerts still go out.
 */
static void save_firing(struct alerts *alerts)
{
	const struct alert_policy *policy = &alerts->policy;
	json_t *list = json_array();
	size_t total = policy->firing_count + policy->carried_count;
	for (size_t i = 0; list != NULL && i < total; i++) {
		const struct alert *a = i < policy->firing_count
		                                ? &policy->firing[i]
		                                : &policy->carried[i - policy->firing_count];
		json_array_append_new(list,
		                      json_pack("{ss ss ss ss ss ss ss sI}", "key", a->dedup_key,
		                                "environment", a->environment, "rule", a->rule,
		                                "cluster", a->cluster, "subject", a->subject,
		                                "severity", severity_name(a->severity), "summary",
		                                a->summary, "at", (json_int_t)a->at_unix_ms));
	}
	char *text = list != NULL ? json_dumps(list, JSON_COMPACT) : NULL;
	char err[1200];
	if (text == NULL)
		log_error("%s: cannot encode the firing alerts", alerts->firing_path);
	else if (durable_file_replace(alerts->firing_path, text, strlen(text), 0600, err,
	                              sizeof(err)) != 0)
		log_error("cannot save the firing alerts: %s", err);
	free(text);
	json_decref(list);
}

static const char *text_of(json_t *object, const char *name)
{
	const char *text = json_string_value(json_object_get(object, name));
	return text != NULL ? text : "";
}

static void load_firing(struct alerts *alerts)
{
	json_t *list = json_load_file(alerts->firing_path, 0, NULL);
	size_t n = json_array_size(list);
	for (size_t i = 0; i < n; i++) {
		json_t *item = json_array_get(list, i);
		struct alert carried = {0}, *a = &carried;
		const char *key = json_string_value(json_object_get(item, "key"));
		const char *severity = json_string_value(json_object_get(item, "severity"));
		if (key == NULL || severity == NULL || severity_parse(severity, &a->severity) != 0)
			continue;
#define COPY(field, name) snprintf(a->field, sizeof(a->field), "%s", text_of(item, name))
		COPY(dedup_key, "key");
		COPY(environment, "environment");
		COPY(rule, "rule");
		COPY(cluster, "cluster");
		COPY(subject, "subject");
		COPY(summary, "summary");
#undef COPY
		a->at_unix_ms = json_integer_value(json_object_get(item, "at"));
		a->state = ALERT_FIRING;
		if (alert_policy_carry(&alerts->policy, a) != 0) {
			log_error("%s: out of memory: %zu firing alert(s) not resolved after the "
			          "restart",
			          alerts->firing_path, n - i);
			break;
		}
	}
	json_decref(list);
}

void alerts_flush(struct alerts *alerts, struct clock_now now)
{
	(void)now;
	if (alerts == NULL)
		return;
	struct alert due;
	while (alert_policy_next_due(&alerts->policy, now.mono_ms, &due))
		publish_now(alerts, &due);
	if (alerts->firing_dirty) {
		save_firing(alerts);
		alerts->firing_dirty = false;
	}
	for (size_t i = 0; i < alerts->sink_count; i++) {
		struct sink *sink = &alerts->sinks[i];
		if (sink->spool == NULL)
			continue;
		alert_spool_sync(sink->spool);
		deliver_next(sink);
	}
}

void alerts_reconcile(struct alerts *alerts, struct clock_now now)
{
	if (alerts == NULL || alerts->policy.reconciled)
		return;
	size_t count = 0;
	struct alert *resolves = alert_policy_reconcile(&alerts->policy, unix_ms(), &count);
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
	publish_now(alerts, alert);
}

static void publish_now(struct alerts *alerts, const struct alert *alert)
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
		if ((int)alert->severity < sink->settings->min_severity)
			continue;
		if (sink->settings->type == ALERT_SINK_LOG) {
			enum log_level level = alert->state == ALERT_RESOLVED      ? LOG_LEVEL_INFO
			                       : alert->severity >= SEVERITY_ERROR ? LOG_LEVEL_ERROR
			                                                           : LOG_LEVEL_WARN;
			log_msg(level, "alert %s [%s] %s: %s", alert_state_name(alert->state),
			        severity_name(alert->severity), alert->dedup_key, alert->summary);
			sink->sent++;
			continue;
		}
		enqueue(sink, alert, started);
	}
}

static int open_sink(struct alerts *alerts, struct sink *sink, const struct alert_section *s,
                     const char *state_dir, char *err, size_t err_len)
{
	sink->owner = alerts;
	sink->settings = s;
	char why[512];
	if (s->type == ALERT_SINK_PAGERDUTY) {
		sink->routing_key = secret_file_read(s->routing_key_file, why, sizeof(why));
		sink->url = strdup(s->url ? s->url : "https://events.pagerduty.com/v2/enqueue");
	} else if (s->type == ALERT_SINK_SLACK) {
		sink->url = secret_file_read(s->webhook_url_file, why, sizeof(why));
	} else if (s->type == ALERT_SINK_ALERTMANAGER) {
		size_t len = strlen(s->url) + 32;
		sink->url = malloc(len);
		if (sink->url != NULL) {
			const char *slash = s->url[strlen(s->url) - 1] == '/' ? "" : "/";
			snprintf(sink->url, len, "%s%sapi/v2/alerts", s->url, slash);
		}
	} else if (s->type == ALERT_SINK_WEBHOOK) {
		sink->url = strdup(s->url);
	}
	if (s->type != ALERT_SINK_LOG &&
	    (sink->url == NULL || (s->type == ALERT_SINK_PAGERDUTY && sink->routing_key == NULL))) {
		snprintf(err, err_len, "[alert.%s]: %s", s->name,
		         sink->url == NULL && s->type != ALERT_SINK_SLACK ? "out of memory" : why);
		return -1;
	}
	size_t h = 0;
	sink->headers[h++] = strdup("Content-Type: application/json");
	for (size_t i = 0; i < s->headers.count && h < ALERT_SINK_MAX_HEADERS + 1; i++) {
		const struct config_pair *header = &s->headers.items[i];
		size_t len = strlen(header->name) + strlen(header->value) + 3;
		char *line = malloc(len);
		if (line != NULL)
			snprintf(line, len, "%s: %s", header->name, header->value);
		sink->headers[h++] = line;
	}
	sink->headers[h] = NULL;
	if (s->type == ALERT_SINK_LOG)
		return 0;
	char path[1024];
	snprintf(path, sizeof(path), "%s/alerts-%s.spool", state_dir, s->name);
	size_t replay_dropped = 0;
	sink->spool =
	        alert_spool_open(path, (size_t)s->max_queued, &replay_dropped, why, sizeof(why));
	sink->retry_timer = evtimer_new(alerts->base, on_retry, sink);
	if (s->type == ALERT_SINK_ALERTMANAGER) {
		sink->resend_timer = event_new(alerts->base, -1, EV_PERSIST, on_resend, sink);
		struct timeval tv = {s->resend_ms / 1000, (s->resend_ms % 1000) * 1000};
		if (sink->resend_timer != NULL)
			evtimer_add(sink->resend_timer, &tv);
	}
	if (sink->spool == NULL || sink->retry_timer == NULL) {
		snprintf(err, err_len, "[alert.%s]: %s", s->name,
		         sink->spool == NULL ? why : "out of memory");
		return -1;
	}
	sink->dropped += replay_dropped;
	if (alert_spool_count(sink->spool) > 0)
		log_info("alert sink %s: %zu alert(s) from before the restart to deliver", s->name,
		         alert_spool_count(sink->spool));
	deliver_next(sink);
	return 0;
}

struct alerts *alerts_new(struct event_base *base, const struct collector_config *config,
                          struct journal *journal, struct clock_now now, char *err, size_t err_len)
{
	(void)now;
	struct alerts *alerts = calloc(1, sizeof(*alerts));
	if (alerts == NULL) {
		snprintf(err, err_len, "out of memory");
		return NULL;
	}
	alerts->base = base;
	alerts->journal = journal;
	/* jitter that differs between collectors, so an HA pair does not retry in step */
	srandom((unsigned)time(NULL) ^ (unsigned)getpid());
	alerts->environment = config->collector.environment;
	alert_policy_init(&alerts->policy, config->alerting.for_delay_ms);
	if (config->api.public_url != NULL) {
		const char *url = config->api.public_url;
		snprintf(alerts->status_url_buffer, sizeof(alerts->status_url_buffer),
		         "%s%sv1/status", url,
		         url[0] != '\0' && url[strlen(url) - 1] == '/' ? "" : "/");
		alerts->status_url = alerts->status_url_buffer;
	}
	snprintf(alerts->firing_path, sizeof(alerts->firing_path), "%s/alerts-firing.json",
	         config->collector.state_dir);
	load_firing(alerts);
	if (gethostname(alerts->source, sizeof(alerts->source)) != 0)
		snprintf(alerts->source, sizeof(alerts->source), "trino-guard-collector");
	alerts->http = http_client_new(base, err, err_len);
	if (alerts->http == NULL) {
		alerts_free(alerts);
		return NULL;
	}
	for (size_t i = 0; i < config->alert_count; i++) {
		alerts->sink_count++;
		if (open_sink(alerts, &alerts->sinks[i], &config->alerts[i],
		              config->collector.state_dir, err, err_len) != 0) {
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
		for (size_t h = 0; sink->headers[h] != NULL; h++)
			free(sink->headers[h]);
		secret_free(sink->url); /* a secret for slack */
		secret_free(sink->routing_key);
	}
	alert_policy_cleanup(&alerts->policy);
	free(alerts);
}

size_t alerts_sink_count(const struct alerts *alerts)
{
	return alerts != NULL ? alerts->sink_count : 0;
}

void alerts_sink_stats(const struct alerts *alerts, size_t index, int64_t now_unix_ms,
                       struct alert_sink_stats *out)
{
	const struct sink *sink = &alerts->sinks[index];
	out->name = sink->settings->name;
	out->type = alert_sink_type_names[sink->settings->type];
	out->sent = sink->sent;
	out->retried = sink->retried;
	out->failed = sink->failed;
	out->dropped = sink->dropped;
	out->queued = sink->spool ? alert_spool_count(sink->spool) : 0;
	const struct spool_entry *head = sink->spool ? alert_spool_head(sink->spool) : NULL;
	out->oldest_queued_ms = head != NULL ? now_unix_ms - head->queued_unix_ms : 0;
}
