/*
 * What the tests of trino-guardctl share: a real collector with an API token
 * and no agents, started (and restarted) on loopback in a temp dir; runs of
 * trino-guardctl with their exit code, stdout and stderr; waits on files.
 */
#include "ctl_fixture.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

struct ctl_fixture fx;

/* Runs trino-guardctl with the NULL-ended ARGS; free with run_free(). */
struct run ctl(const char *const *args)
{
	const char *argv[24] = {TG_CTL_BIN};
	size_t n = 1;
	for (size_t i = 0; args[i] != NULL && n < 23; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	unlink("ctl.out");
	unlink("ctl.err");
	pid_t pid = harness_spawn_split(argv, "ctl.out", "ctl.err");
	assert_true(pid > 0);
	int status = harness_wait_exit(pid, 30000);
	struct run r = {.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1,
	                .out = harness_read_file("ctl.out"),
	                .err = harness_read_file("ctl.err")};
	assert_non_null(r.out);
	assert_non_null(r.err);
	return r;
}

void run_free(struct run *r)
{
	free(r->out);
	free(r->err);
}

/* Fails naming the run when TEXT does not contain WANT. */
void expect_in(const char *text, const char *want, const char *what)
{
	if (strstr(text, want) == NULL)
		fail_msg("%s lacks '%s':\n%s", what, want, text);
}

bool url_ok(void *arg)
{
	char *body = harness_get_ok(arg);
	free(body);
	return body != NULL;
}

/* The collector of collector.ini, answering its API: 0, or -1. */
int start_collector(void)
{
	const char *argv[] = {TG_COLLECTOR_BIN, "-c", "collector.ini", NULL};
	fx.collector = harness_spawn(argv, "collector.log");
	if (fx.collector <= 0)
		return -1;
	char url[128];
	snprintf(url, sizeof(url), "%s/healthz", fx.api);
	return harness_wait_until(url_ok, url, 30000) ? 0 : -1;
}

int ctl_fixture_setup(void **state)
{
	(void)state;
	fx.dir = harness_tmpdir("tg-ctl-test");
	if (fx.dir == NULL || chdir(fx.dir) != 0)
		return -1;
	int ports = harness_port_range(3);
	snprintf(fx.api, sizeof(fx.api), "http://127.0.0.1:%d", ports + 1);
	snprintf(fx.dead, sizeof(fx.dead), "http://127.0.0.1:%d", ports + 2);
	char text[1024];
	snprintf(text, sizeof(text),
	         "[collector]\ncurve = off\nlisten = tcp://127.0.0.1:%d\nstate_dir = state\n"
	         "environment = test\ninitial_active = blue\ntick = 100ms\n"
	         "[api]\nlisten = 127.0.0.1:%d\ntoken_file = api.token\n"
	         "[cluster.blue]\n[cluster.green]\n",
	         ports, ports + 1);
	if (harness_write_file("api.token", TOKEN "\n") != 0 ||
	    harness_write_file("collector.ini", text) != 0)
		return -1;
	return start_collector();
}

int ctl_fixture_teardown(void **state)
{
	(void)state;
	harness_stop_all();
	if (getenv("TG_KEEP_TEST_DIR") == NULL && chdir("/") == 0)
		harness_rmrf(fx.dir);
	free(fx.dir);
	return 0;
}

/* Every test starts without a token in the environment. */
int no_token(void **state)
{
	(void)state;
	unsetenv("TRINO_GUARD_TOKEN");
	unsetenv("TRINO_GUARD_TOKEN_FILE");
	unsetenv("TRINO_GUARD_URL");
	return 0;
}

/* A file of the test's directory holding a text (a wait's condition). */
struct file_has {
	const char *path, *text;
	int times; /* at least */
};

int count_in(const char *text, const char *want)
{
	int n = 0;
	for (const char *at = text; (at = strstr(at, want)) != NULL; at += strlen(want))
		n++;
	return n;
}

static bool file_has(void *arg)
{
	const struct file_has *f = arg;
	char *text = harness_read_file(f->path);
	bool yes = text != NULL && count_in(text, f->text) >= f->times;
	free(text);
	return yes;
}

void wait_for(const char *path, const char *text, int times)
{
	struct file_has goal = {path, text, times};
	if (!harness_wait_until(file_has, &goal, 30000)) {
		char *got = harness_read_file(path);
		fail_msg("%s has not '%s' %d time(s) within 30 s:\n%s", path, text, times,
		         got != NULL ? got : "(nothing)");
	}
}

void post_resume(const char *reason)
{
	const char *args[] = {"--url", fx.api, "resume", "--reason", reason, NULL};
	struct run r = ctl(args);
	assert_int_equal(r.exit_code, 0);
	run_free(&r);
}

/* trino-guardctl ARGS... (NULL-ended) with the token; its exit code is WANT, stdout has TEXT. */
void expect_ctl(int want, const char *text, const char *const *args)
{
	struct run r = ctl(args);
	if (r.exit_code != want || strstr(r.out, text) == NULL)
		fail_msg("%s: exit %d (want %d), stdout lacks '%s':\n%s%s", args[2], r.exit_code,
		         want, text, r.out, r.err);
	run_free(&r);
}
