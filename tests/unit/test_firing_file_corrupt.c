/*
 * A corrupt state_dir/alerts-firing.json under a whole collector: at start
 * it is moved aside to alerts-firing.json.corrupt-<unix time> (never
 * deleted, never over an older one), the log names the file, line and
 * column, the collector starts with no alert firing, and the warning
 * state-file-corrupt opens: journaled, in /v1/status and paged.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <errno.h>
#include <event2/buffer.h>
#include <event2/http.h>
#include <fcntl.h>
#include <jansson.h>
#include <sys/stat.h>
#include <unistd.h>

#include "collector_fixture.h"
#include "harness.h"
#include "journal.h"
#include "status.h"

#define RULE "state-file-corrupt"

/* Line 3, column 12 is where jansson stops: "invalid token near 'oops'". */
static const char corrupt[] = "[\n{\"key\": \"mixed-version/blue\", \"severity\": \"critical\"},\n"
                              "{\"key\": oops}\n]\n";

static struct collector_fixture fx;

/* The webhook's receiver on the fixture's loop: counts RULE's firing alerts and all resolves. */
static struct {
	struct evhttp *http;
	int port;
	size_t firing, resolved;
} pager;

static void on_alert(struct evhttp_request *req, void *arg)
{
	(void)arg;
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	size_t len = evbuffer_get_length(in);
	json_t *body = json_loadb((const char *)evbuffer_pullup(in, -1), len, 0, NULL);
	const char *rule = json_string_value(json_object_get(body, "rule"));
	const char *state = json_string_value(json_object_get(body, "state"));
	if (rule != NULL && state != NULL && strcmp(rule, RULE) == 0 &&
	    strcmp(state, "firing") == 0)
		pager.firing++;
	if (state != NULL && strcmp(state, "resolved") == 0)
		pager.resolved++;
	json_decref(body);
	evhttp_send_reply(req, 200, "OK", NULL);
}

static void pager_start(void)
{
	memset(&pager, 0, sizeof(pager));
	pager.http = harness_http_listen(fx.base, on_alert, NULL, &pager.port);
	assert_non_null(pager.http);
}

/* Writes the corrupt firing set into the fixture's state dir; its path in OUT. */
static void write_corrupt(char *out, size_t out_len)
{
	char state[512];
	fixture_path(&fx, "state", state, sizeof(state));
	assert_true(mkdir(state, 0700) == 0 || errno == EEXIST);
	snprintf(out, out_len, "%s/alerts-firing.json", state);
	assert_int_equal(harness_write_file(out, corrupt), 0);
}

/* Starts the collector with a webhook sink on the pager; its log (stderr) goes to LOG. */
static void start_logging_to(const char *log)
{
	char extra[256];
	snprintf(extra, sizeof(extra),
	         "[alert.pager]\ntype = webhook\nurl = http://127.0.0.1:%d/\n"
	         "min_severity = warning\n",
	         pager.port);
	fflush(stderr);
	int saved = dup(STDERR_FILENO);
	int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(saved >= 0 && fd >= 0);
	dup2(fd, STDERR_FILENO);
	close(fd);
	int rc = fixture_start(&fx, extra, false, NULL);
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	assert_int_equal(rc, 0);
}

static bool paged(void *arg)
{
	(void)arg;
	return pager.firing > 0;
}

/* The finding RULE in /v1/status, or NULL; borrowed from STATUS. */
static json_t *status_finding(json_t *status)
{
	size_t i;
	json_t *finding;
	json_array_foreach(json_object_get(status, "findings"), i, finding)
	{
		if (strcmp(json_string_value(json_object_get(finding, "rule")), RULE) == 0)
			return finding;
	}
	return NULL;
}

static bool journaled_open(void)
{
	json_t *events = journal_since(fx.collector.journal, 0, 10000);
	size_t i;
	json_t *event;
	bool seen = false;
	json_array_foreach(events, i, event)
	{
		const char *type = json_string_value(json_object_get(event, "type"));
		const char *key = json_string_value(json_object_get(event, "key"));
		seen = seen || (type != NULL && key != NULL &&
		                strcmp(type, "finding-opened") == 0 && strcmp(key, RULE) == 0);
	}
	json_decref(events);
	return seen;
}

static void test_corrupt_firing_set_is_moved_aside_and_paged(void **state)
{
	(void)state;
	assert_int_equal(fixture_init(&fx), 0);
	pager_start();
	char path[600], aside[700], log[600];
	write_corrupt(path, sizeof(path));
	snprintf(aside, sizeof(aside), "%s.corrupt-%lld", path,
	         (long long)(FIXTURE_UNIX_START_MS / 1000));
	fixture_path(&fx, "collector.log", log, sizeof(log));
	start_logging_to(log);

	/* moved aside, byte for byte, before anything saved the set again */
	assert_int_equal(access(path, F_OK), -1);
	char *kept = harness_read_file(aside);
	assert_non_null(kept);
	assert_string_equal(kept, corrupt);
	free(kept);
	/* the log: the file, where it failed, where it went */
	char *text = harness_read_file(log);
	assert_non_null(text);
	char where[700];
	snprintf(where, sizeof(where), "%s:3:12: invalid token near 'oops'", path);
	if (strstr(text, where) == NULL || strstr(text, aside) == NULL)
		fail_msg("the log does not say '%s' and '%s':\n%s", where, aside, text);
	free(text);

	/* past the start-up grace: the warning is open, journaled, shown and paged */
	for (int i = 0; i < 10; i++) {
		fixture_advance(1000);
		collector_tick(&fx.collector, fixture_now);
	}
	assert_true(fixture_run_until(&fx, paged, NULL, 5000));
	assert_true(journaled_open());
	json_t *status = status_json(&fx.collector, fixture_now);
	json_t *finding = status_finding(status);
	assert_non_null(finding);
	assert_string_equal(json_string_value(json_object_get(finding, "severity")), "warning");
	assert_non_null(strstr(json_string_value(json_object_get(finding, "summary")), aside));
	json_decref(status);
	/* an empty firing set: the broken file's alert is not resolved as if it were known */
	assert_int_equal(pager.resolved, 0);
	fixture_stop(&fx);
	evhttp_free(pager.http);
	fixture_cleanup(&fx);
}

/* Two corrupt starts within one second: the second file goes to .1, the first stays. */
static void test_an_older_corrupt_file_is_never_replaced(void **state)
{
	(void)state;
	assert_int_equal(fixture_init(&fx), 0);
	pager_start();
	char path[600], first[700], second[700], log[600];
	fixture_path(&fx, "collector.log", log, sizeof(log));
	write_corrupt(path, sizeof(path));
	snprintf(first, sizeof(first), "%s.corrupt-%lld", path,
	         (long long)(FIXTURE_UNIX_START_MS / 1000));
	snprintf(second, sizeof(second), "%s.1", first);
	start_logging_to(log);
	fixture_stop(&fx);
	assert_int_equal(harness_write_file(path, "{\"not\": \"an array\"}"), 0);
	start_logging_to(log);
	char *kept = harness_read_file(first);
	char *next = harness_read_file(second);
	assert_non_null(kept);
	assert_non_null(next);
	assert_string_equal(kept, corrupt);
	assert_string_equal(next, "{\"not\": \"an array\"}");
	free(kept);
	free(next);
	char *text = harness_read_file(log);
	assert_non_null(strstr(text, "not a JSON array"));
	free(text);
	fixture_stop(&fx);
	evhttp_free(pager.http);
	fixture_cleanup(&fx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_corrupt_firing_set_is_moved_aside_and_paged),
	        cmocka_unit_test(test_an_older_corrupt_file_is_never_replaced),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
