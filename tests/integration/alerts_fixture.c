/*
 * The fixture of the alert feed's tests: a PagerDuty stand-in (also the
 * webhook receiver) served by evhttp on the tests' own loop, and an alert
 * feed built from a collector.ini written for each test.
 */
#include "alerts_fixture.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>

#include "clock.h"
#include "harness.h"

struct alerts_fixture fx;
int state_number;
const char *routing_key = ROUTING_KEY;

static void on_request(struct evhttp_request *req, void *arg)
{
	(void)arg;
	if (fx.requests < 16)
		fx.arrived_mono_ms[fx.requests] = clock_mono_ms();
	fx.requests++;
	int status = fx.fail_all ? 503 : 202;
	if (fx.answer_count > 0) {
		status = fx.answers[0];
		memmove(fx.answers, fx.answers + 1, --fx.answer_count * sizeof(fx.answers[0]));
	}
	struct evbuffer *out = evbuffer_new();
	if (status == 429)
		evhttp_add_header(evhttp_request_get_output_headers(req), "Retry-After",
		                  fx.retry_after != NULL ? fx.retry_after : "1");
	if (status == 400)
		evbuffer_add_printf(out,
		                    "{\"status\":\"invalid event\",\"message\":\"Event object is "
		                    "invalid\"}");
	if (status >= 200 && status < 300 && fx.body_count < MAX_BODIES) {
		struct evbuffer *in = evhttp_request_get_input_buffer(req);
		size_t len = evbuffer_get_length(in);
		char *body = malloc(len + 1);
		evbuffer_remove(in, body, len);
		body[len] = '\0';
		const char *auth =
		        evhttp_find_header(evhttp_request_get_input_headers(req), "Authorization");
		fx.authorizations[fx.body_count] = strdup(auth != NULL ? auth : "");
		fx.bodies[fx.body_count++] = body;
		evbuffer_add_printf(out,
		                    "{\"status\":\"success\",\"message\":\"Event processed\"}");
	}
	evhttp_send_reply(req, status, "x", out);
	evbuffer_free(out);
	if (fx.body_count >= fx.wait_for)
		event_base_loopbreak(fx.base);
}

void serve(void)
{
	fx.server = evhttp_new(fx.base);
	assert_int_equal(evhttp_bind_socket(fx.server, "127.0.0.1", (uint16_t)fx.port), 0);
	evhttp_set_gencb(fx.server, on_request, NULL);
}

void stop_serving(void)
{
	evhttp_free(fx.server);
	fx.server = NULL;
}

/* Runs the loop until MS pass or, once WANT bodies arrived, sooner. */
static void run_loop(int ms, size_t want)
{
	fx.wait_for = want;
	if (fx.body_count < want)
		harness_run_loop(fx.base, ms);
}

/* Runs the loop for MS milliseconds whatever arrives. */
void run_for(int ms)
{
	run_loop(ms, SIZE_MAX);
}

/* Runs the loop until WANT bodies arrived or SECONDS passed, then lets the replies land. */
void run_until(size_t want, int seconds)
{
	run_loop(seconds * 1000, want);
	run_for(200);
}

void forget_bodies(void)
{
	for (size_t i = 0; i < fx.body_count; i++) {
		free(fx.bodies[i]);
		free(fx.authorizations[i]);
	}
	fx.body_count = 0;
	fx.requests = 0;
}

void start(struct setup *s, const char *extra)
{
	char path[512], key_path[512], text[4096];
	snprintf(key_path, sizeof(key_path), "%s/pagerduty.key", fx.dir);
	snprintf(text, sizeof(text), "%s\n", routing_key);
	harness_write_file(key_path, text);
	snprintf(text, sizeof(text),
	         "[collector]\ncurve = off\nstate_dir = %s/state-%d\nenvironment = prod\n"
	         "[api]\npublic_url = http://collector-01:7601\n"
	         "[cluster.blue]\n[cluster.green]\n"
	         "[alert.pagerduty]\nrouting_key_file = %s\nurl = "
	         "http://127.0.0.1:%d/v2/enqueue\nsource = collector-01\nmin_severity = warning\n"
	         "timeout = 2s\n%s",
	         fx.dir, state_number, key_path, fx.port, extra ? extra : "");
	snprintf(path, sizeof(path), "%s/collector.ini", fx.dir);
	harness_write_file(path, text);
	char err[512];
	memset(&s->config, 0, sizeof(s->config));
	if (collector_config_load(path, &s->config, err, sizeof(err)) != 0)
		fail_msg("config: %s", err);
	s->journal = journal_open(s->config.collector.state_dir, 1 << 20, 100, err, sizeof(err));
	assert_non_null(s->journal);
	s->alerts = alerts_new(fx.base, &s->config, s->journal, clock_read(), err, sizeof(err));
	if (s->alerts == NULL)
		fail_msg("alerts: %s", err);
}

void stop(struct setup *s)
{
	alerts_free(s->alerts);
	journal_close(s->journal);
	collector_config_free(&s->config);
}

struct finding mixed(void)
{
	struct finding f = {.kind = FINDING_MIXED_VERSION, .severity = SEVERITY_CRITICAL};
	strcpy(f.cluster, "green");
	strcpy(f.subject, "green-worker-2");
	strcpy(f.key, "mixed-version/green/green-worker-2");
	strcpy(f.summary, "green-worker-2 runs Trino 446, cluster green runs 447");
	return f;
}

void publish_finding(struct setup *s, enum alert_state state)
{
	struct finding f = mixed();
	struct alert a;
	alert_from_finding("prod", &f, state, 1795546800123LL, &a);
	alerts_publish(s->alerts, &a, clock_read());
	alerts_flush(s->alerts, clock_read());
}

const char *field(json_t *root, const char *a, const char *b)
{
	json_t *v = json_object_get(root, a);
	if (b != NULL)
		v = json_object_get(v, b);
	return json_string_value(v);
}

struct alert_sink_stats stats_of(struct setup *s, size_t index)
{
	struct alert_sink_stats st;
	alerts_sink_stats(s->alerts, index, 0, &st);
	return st;
}

int alerts_fixture_setup(void **state)
{
	(void)state;
	fx.base = event_base_new();
	fx.dir = harness_tmpdir("tg-alerts");
	fx.port = harness_port_range(1);
	if (fx.base == NULL || fx.dir == NULL || fx.port <= 0)
		return -1;
	serve();
	return 0;
}

int alerts_fixture_teardown(void **state)
{
	(void)state;
	if (fx.server != NULL)
		evhttp_free(fx.server);
	event_base_free(fx.base);
	char command[600];
	snprintf(command, sizeof(command), "rm -rf '%s'", fx.dir);
	free(fx.dir);
	return system(command);
}
