/*
 * header_file.NAME = /path in every section that takes header.NAME ([lb.http]
 * and [alert.NAME]), one row per case, each run in both sections:
 * collector_config_load() reads the file (so check-config and SIGHUP do),
 * and refuses, at the key's collector.ini:LINE, a file that is missing,
 * empty, of two lines or open to group or others, a relative path, the
 * same NAME in header and header_file, and more than 8 headers in all. A
 * row that loads builds the sink or the driver with the file's value. And
 * SIGHUP on a whole collector reads the files again.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <event2/event.h>
#include <event2/http.h>
#include <sys/stat.h>

#include "alerts.h"
#include "clock.h"
#include "collector_config.h"
#include "collector_fixture.h"
#include "collector_reload.h"
#include "harness.h"
#include "lb_drivers.h"
#include "request_headers.h"

/* Lines 1-5: curve off (no keys needed), the state in the temp dir, the two clusters. */
#define HEAD "[collector]\ncurve = off\nstate_dir = %D/state\n[cluster.blue]\n[cluster.green]\n"

/* A section that takes headers: its text (the row's keys follow it) and where they start. */
struct section {
	const char *name; /* as errors name it */
	const char *text;
	int first_key_line;
};

static const struct section sections[] = {
        {"lb.http", "[lb]\ndriver = http\n[lb.http]\nswitch_url = http://127.0.0.1:9/\n", 10},
        {"alert.hook", "[alert.hook]\ntype = webhook\nurl = http://127.0.0.1:9/\n", 9},
};

struct row {
	const char *name;  /* what the row proves */
	const char *keys;  /* after the section; "%D" is the temp dir */
	int blamed_key;    /* the key (0: the first of KEYS) an error is at */
	const char *error; /* after "collector.ini:LINE: [SECTION] "; NULL: loads */
};

static const struct row rows[] = {
        {"a private one-line file loads", "header_file.Authorization = %D/token\n", 0, NULL},
        {"a file and a value of other names load",
         "header.X-Team = data\nheader_file.Authorization = %D/token\n", 0, NULL},
        {"a missing file is refused", "header_file.Authorization = %D/missing\n", 0,
         "header_file.Authorization: %D/missing: No such file or directory"},
        {"an empty file is refused", "header.X-Team = data\nheader_file.Authorization = %D/empty\n",
         1, "header_file.Authorization: %D/empty is empty"},
        {"a file of two lines is refused", "header_file.Authorization = %D/two-lines\n", 0,
         "header_file.Authorization: %D/two-lines holds more than one line"},
        {"a file others may read is refused", "header_file.Authorization = %D/world\n", 0,
         "header_file.Authorization: %D/world is open to group or others (mode 0644)"},
        {"a file its group may read is refused", "header_file.Authorization = %D/group\n", 0,
         "header_file.Authorization: %D/group is open to group or others (mode 0640)"},
        {"a relative path is refused", "header_file.Authorization = token\n", 0,
         "header_file.Authorization: 'token' is not an absolute path"},
        {"the same name in header and header_file is refused",
         "header.authorization = Bearer inline\nheader_file.Authorization = %D/token\n", 1,
         "header_file.Authorization: header.Authorization is set too"},
        {"nine headers with files among them are refused",
         "header.X-1 = 1\nheader.X-2 = 2\nheader.X-3 = 3\nheader.X-4 = 4\nheader.X-5 = 5\n"
         "header.X-6 = 6\nheader.X-7 = 7\nheader_file.X-8 = %D/token\n"
         "header_file.X-9 = %D/token\n",
         8, "header_file.X-9: at most 8 header.NAME and header_file.NAME keys in all"},
};

static char *dir;

/* TEXT with every "%D" replaced by the temp dir, into OUT. */
static void expand(const char *text, char *out, size_t out_len)
{
	size_t used = 0;
	for (const char *p = text; *p != '\0' && used + 1 < out_len; p++) {
		if (p[0] == '%' && p[1] == 'D') {
			used += (size_t)snprintf(out + used, out_len - used, "%s", dir);
			p++;
		} else {
			out[used++] = *p;
		}
	}
	out[used < out_len ? used : out_len - 1] = '\0';
}

static void write_secret(const char *name, const char *text, mode_t mode)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	assert_int_equal(harness_write_file(path, text), 0);
	assert_int_equal(chmod(path, mode), 0);
}

static int setup(void **state)
{
	(void)state;
	dir = harness_tmpdir("tg-header-files");
	if (dir == NULL)
		return -1;
	char state_dir[512];
	snprintf(state_dir, sizeof(state_dir), "%s/state", dir);
	if (mkdir(state_dir, 0700) != 0)
		return -1;
	write_secret("token", "Bearer from-the-file\n", 0600);
	write_secret("empty", "\n", 0600);
	write_secret("two-lines", "Bearer a\nBearer b\n", 0600);
	write_secret("world", "Bearer from-the-file\n", 0644);
	write_secret("group", "Bearer from-the-file\n", 0640);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	harness_rmrf(dir);
	free(dir);
	return 0;
}

static int load(const struct section *section, const struct row *row,
                struct collector_config *config, char *err, size_t err_len)
{
	char text[4096], expanded[8192], path[512];
	snprintf(text, sizeof(text), "%s%s%s", HEAD, section->text, row->keys);
	expand(text, expanded, sizeof(expanded));
	snprintf(path, sizeof(path), "%s/collector.ini", dir);
	assert_int_equal(harness_write_file(path, expanded), 0);
	memset(config, 0, sizeof(*config));
	return collector_config_load(path, config, err, err_len);
}

/* What the collector builds from a config that loaded: the driver, or the sink. */
static void build(const struct collector_config *config)
{
	struct event_base *base = event_base_new();
	assert_non_null(base);
	char err[1024] = "";
	struct lb_driver driver;
	if (lb_driver_from_config(base, config, NULL, &driver, err, sizeof(err)) != 0)
		fail_msg("the driver did not build: %s", err);
	if (driver.impl != NULL) {
		assert_non_null(driver.reload);
		if (driver.reload(driver.impl, err, sizeof(err)) != 0)
			fail_msg("the driver did not read its files again: %s", err);
		driver.free(driver.impl);
	}
	struct alerts *alerts = alerts_new(base, config, NULL, clock_read(), err, sizeof(err));
	if (alerts == NULL)
		fail_msg("the sinks did not open: %s", err);
	assert_int_equal(alerts_reload_headers(alerts, err, sizeof(err)), 0);
	alerts_free(alerts);
	event_base_free(base);
}

static void test_header_files(void **state)
{
	(void)state;
	for (size_t s = 0; s < sizeof(sections) / sizeof(sections[0]); s++) {
		const struct section *section = &sections[s];
		for (size_t r = 0; r < sizeof(rows) / sizeof(rows[0]); r++) {
			const struct row *row = &rows[r];
			struct collector_config config;
			char err[2048] = "";
			int rc = load(section, row, &config, err, sizeof(err));
			if (row->error == NULL) {
				if (rc != 0)
					fail_msg("[%s] %s: should load, but: %s", section->name,
					         row->name, err);
				build(&config);
			} else {
				char text[1024], expected[2048];
				snprintf(text, sizeof(text), "collector.ini:%d: [%s] %s",
				         section->first_key_line + row->blamed_key, section->name,
				         row->error);
				expand(text, expected, sizeof(expected));
				if (rc == 0 || strstr(err, expected) == NULL)
					fail_msg("[%s] %s: got '%s', not '%s'", section->name,
					         row->name, rc == 0 ? "loaded" : err, expected);
				if (strstr(err, "from-the-file") != NULL)
					fail_msg("[%s] %s: the error shows the secret: %s",
					         section->name, row->name, err);
			}
			collector_config_free(&config);
		}
	}
}

/* The lines request_headers_read makes: the values, then each file's one line. */
static void test_lines_are_the_values_then_the_files(void **state)
{
	(void)state;
	char path[512];
	snprintf(path, sizeof(path), "%s/token", dir);
	struct config_pair value = {"X-Team", "data", 3};
	struct config_pair file = {"Authorization", path, 4};
	struct config_pairs values = {&value, 1}, files = {&file, 1};
	struct request_headers headers;
	int line = 0;
	char why[512];
	assert_int_equal(request_headers_read(&values, &files, &headers, &line, why, sizeof(why)),
	                 0);
	assert_int_equal(headers.count, 2);
	assert_string_equal(headers.lines[0], "X-Team: data");
	assert_string_equal(headers.lines[1], "Authorization: Bearer from-the-file");
	request_headers_free(&headers);
	assert_int_equal(headers.count, 0);
}

/* The pager of the SIGHUP test: the Authorization header of the last request. */
static struct {
	struct evhttp *http;
	int port;
	size_t requests;
	char authorization[256];
} pager;

static void on_alert(struct evhttp_request *req, void *arg)
{
	(void)arg;
	const char *auth =
	        evhttp_find_header(evhttp_request_get_input_headers(req), "Authorization");
	snprintf(pager.authorization, sizeof(pager.authorization), "%s", auth ? auth : "");
	pager.requests++;
	evhttp_send_reply(req, 200, "OK", NULL);
}

static bool pager_heard(void *arg)
{
	return pager.requests >= *(size_t *)arg;
}

/* An info event from the running collector's sinks; waits until the pager has it. */
static void send_event(struct collector_fixture *f)
{
	struct alert a;
	alert_from_event("test", "cutover-held", SEVERITY_INFO, "green", "paused", 1, &a);
	alerts_publish(f->collector.alerts, &a, fixture_now);
	alerts_flush(f->collector.alerts, fixture_now);
	size_t want = pager.requests + 1;
	assert_true(fixture_run_until(f, pager_heard, &want, 5000));
}

/*
 * SIGHUP (collector_reload_config) on a running collector: a rotated
 * header_file goes out with the next alert; a header file that cannot be
 * read refuses the reload with its collector.ini:LINE, and the last good
 * value stays.
 */
static void test_sighup_reads_the_header_files_again(void **state)
{
	(void)state;
	static struct collector_fixture f;
	assert_int_equal(fixture_init(&f), 0);
	pager.requests = 0;
	pager.http = harness_http_listen(f.base, on_alert, NULL, &pager.port);
	assert_non_null(pager.http);
	char token[512], ini[512], extra[512], err[1024] = "";
	fixture_path(&f, "hook.token", token, sizeof(token));
	fixture_path(&f, "collector.ini", ini, sizeof(ini));
	assert_int_equal(harness_write_file(token, "Bearer before\n"), 0);
	assert_int_equal(chmod(token, 0600), 0);
	snprintf(extra, sizeof(extra),
	         "[alert.hook]\ntype = webhook\nurl = http://127.0.0.1:%d/\nmin_severity = info\n"
	         "header_file.Authorization = %s\n",
	         pager.port, token);
	assert_int_equal(fixture_start(&f, extra, false, NULL), 0);
	send_event(&f);
	assert_string_equal(pager.authorization, "Bearer before");

	assert_int_equal(harness_write_file(token, "Bearer after\n"), 0);
	if (collector_reload_config(&f.collector, ini, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	send_event(&f);
	assert_string_equal(pager.authorization, "Bearer after");

	assert_int_equal(chmod(token, 0640), 0);
	assert_int_equal(collector_reload_config(&f.collector, ini, err, sizeof(err)), -1);
	if (strstr(err, "collector.ini:") == NULL ||
	    strstr(err, "[alert.hook] header_file.Authorization: ") == NULL ||
	    strstr(err, "is open to group or others") == NULL)
		fail_msg("%s", err);
	send_event(&f);
	assert_string_equal(pager.authorization, "Bearer after");
	fixture_stop(&f);
	evhttp_free(pager.http);
	fixture_cleanup(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_header_files),
	        cmocka_unit_test(test_lines_are_the_values_then_the_files),
	        cmocka_unit_test(test_sighup_reads_the_header_files_again),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
