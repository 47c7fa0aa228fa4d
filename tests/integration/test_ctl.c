/*
 * trino-guardctl against a real collector (no agents, an API token). Covered:
 * --help and help list every command and option, and every command they list
 * runs; --version; the completion; output that cannot be written is exit 2;
 * bad usage (an unknown command or option, a missing value or operand, a word
 * too many) exits 2 with the usage on stderr and nothing on stdout; the write
 * commands send the token and stop when it cannot be read; a request's reason
 * shows in events; failed calls name the method and URL.
 */
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

#define TOKEN "ctl-test-token-0123456789"

static struct {
	char *dir;
	char api[64];
	char dead[64]; /* a loopback URL nothing listens on */
} fx;

/* What one run of trino-guardctl did. */
struct run {
	int exit_code; /* -1 when it did not exit by itself within 10 s */
	char *out;
	char *err;
};

/* Runs trino-guardctl with the NULL-ended ARGS; free with run_free(). */
static struct run ctl(const char *const *args)
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

static void run_free(struct run *r)
{
	free(r->out);
	free(r->err);
}

/* Fails naming the run when TEXT does not contain WANT. */
static void expect_in(const char *text, const char *want, const char *what)
{
	if (strstr(text, want) == NULL)
		fail_msg("%s lacks '%s':\n%s", what, want, text);
}

static bool url_ok(void *arg)
{
	char *body = harness_get_ok(arg);
	free(body);
	return body != NULL;
}

static int setup(void **state)
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
	const char *argv[] = {TG_COLLECTOR_BIN, "-c", "collector.ini", NULL};
	if (harness_spawn(argv, "collector.log") <= 0)
		return -1;
	char url[128];
	snprintf(url, sizeof(url), "%s/healthz", fx.api);
	return harness_wait_until(url_ok, url, 30000) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	harness_stop_all();
	if (getenv("TG_KEEP_TEST_DIR") == NULL && chdir("/") == 0)
		harness_rmrf(fx.dir);
	free(fx.dir);
	return 0;
}

/* Every test starts without a token in the environment. */
static int no_token(void **state)
{
	(void)state;
	unsetenv("TRINO_GUARD_TOKEN");
	unsetenv("TRINO_GUARD_TOKEN_FILE");
	unsetenv("TRINO_GUARD_URL");
	return 0;
}

static const char *const command_names[] = {
        "status", "nodes",  "events",       "cutover",    "rollback", "pause",
        "resume", "keygen", "check-config", "completion", "help",
};
/* How each option's row starts in the usage (not just a mention in a command's line). */
static const char *const option_rows[] = {
        "\n  --url URL ",
        "\n  --token-file FILE ",
        "\n  --json ",
        "\n  --since ID ",
        "\n  --to CLUSTER ",
        "\n  --reason TEXT ",
        "\n  --force ",
        "\n  -h, --help ",
        "\n  --version ",
        "\n  --offline ",
        "\n  TRINO_GUARD_URL ",
        "\n  TRINO_GUARD_TOKEN ",
        "\n  TRINO_GUARD_TOKEN_FILE ",
};

/* The first word of each line of the usage's "commands:" block: what it offers. */
static size_t listed_commands(char *usage, char names[][32], size_t max)
{
	char *block = strstr(usage, "\ncommands:\n");
	assert_non_null(block);
	size_t n = 0;
	for (char *line = block + strlen("\ncommands:\n"); *line != '\n' && *line != '\0';) {
		char *end = strchr(line, '\n');
		assert_non_null(end);
		if (line[0] == ' ' && line[1] == ' ' && line[2] != ' ' && n < max)
			sscanf(line, "%31s", names[n++]);
		line = end + 1;
	}
	return n;
}

static void test_help_lists_every_command_and_option(void **state)
{
	(void)state;
	const char *help_args[] = {"--help", NULL};
	struct run help = ctl(help_args);
	assert_int_equal(help.exit_code, 0);
	assert_string_equal(help.err, "");
	for (size_t i = 0; i < sizeof(command_names) / sizeof(command_names[0]); i++) {
		char line[64];
		snprintf(line, sizeof(line), "\n  %s ", command_names[i]);
		expect_in(help.out, line, "--help");
	}
	for (size_t i = 0; i < sizeof(option_rows) / sizeof(option_rows[0]); i++)
		expect_in(help.out, option_rows[i], "--help");
	expect_in(help.out, "cutover --to CLUSTER [--reason TEXT] [--force]", "--help");

	const char *word_args[] = {"help", NULL};
	struct run word = ctl(word_args);
	assert_int_equal(word.exit_code, 0);
	assert_string_equal(word.out, help.out);

	/* and the other way round: every command the usage offers is one it runs */
	char names[32][32];
	size_t n = listed_commands(help.out, names, 32);
	assert_int_equal(n, sizeof(command_names) / sizeof(command_names[0]));
	for (size_t i = 0; i < n; i++) {
		const char *args[] = {"--url", fx.dead, names[i], NULL};
		struct run r = ctl(args);
		if (strstr(r.err, "unknown command") != NULL)
			fail_msg("--help offers '%s', which is an unknown command", names[i]);
		run_free(&r);
	}
	run_free(&word);
	run_free(&help);
}

static void test_version_and_completion(void **state)
{
	(void)state;
	const char *version_args[] = {"--version", NULL};
	struct run version = ctl(version_args);
	assert_int_equal(version.exit_code, 0);
	assert_string_equal(version.out, "trino-guardctl " TG_VERSION "\n");
	run_free(&version);

	const char *completion_args[] = {"completion", NULL};
	struct run completion = ctl(completion_args);
	assert_int_equal(completion.exit_code, 0);
	expect_in(completion.out, "complete -o default -F _trino_guardctl trino-guardctl",
	          "completion");
	expect_in(completion.out, "check-config completion help'", "completion");
	expect_in(completion.out, "--force --offline --help --version'", "completion");
	run_free(&completion);

	/* output that cannot be written is an error, not a silent success */
	const char *argv[] = {TG_CTL_BIN, "--help", NULL};
	unlink("full.err");
	pid_t pid = harness_spawn_split(argv, "/dev/full", "full.err");
	assert_true(pid > 0);
	int status = harness_wait_exit(pid, 30000);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 2);
	char *err = harness_read_file("full.err");
	assert_non_null(err);
	expect_in(err, "trino-guardctl: writing the output: No space left on device", "/dev/full");
	free(err);
}

static void test_bad_usage_exits_2_with_the_usage_on_stderr(void **state)
{
	(void)state;
	static const struct {
		const char *name;
		const char *args[5];
		const char *message;
		bool full_usage; /* the whole usage, or the command's own line */
	} cases[] = {
	        {"unknown command", {"frobnicate"}, "unknown command 'frobnicate'", true},
	        {"unknown option", {"--frobnicate", "status"}, "unknown option --frobnicate", true},
	        {"no command", {"--json"}, "no command given", true},
	        {"option without its value",
	         {"status", "--url"},
	         "--url needs a value (URL)",
	         true},
	        {"a value that is the next option",
	         {"cutover", "--to", "--reason", "x"},
	         "--to needs a value (CLUSTER), not the option --reason",
	         true},
	        {"an id that is not one",
	         {"events", "--since", "x"},
	         "--since takes an event id",
	         true},
	        {"a negative id", {"events", "--since", "-3"}, "--since takes an event id", true},
	        {"operand missing", {"keygen"}, "keygen needs NAME", false},
	        {"a word too many", {"status", "now"}, "status: unexpected 'now'", false},
	        {"a word past the operand",
	         {"check-config", "a.ini", "b.ini"},
	         "check-config: unexpected 'b.ini'",
	         false},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct run r = ctl(cases[i].args);
		if (r.exit_code != 2 || r.out[0] != '\0')
			fail_msg("%s: exit %d, stdout '%s'", cases[i].name, r.exit_code, r.out);
		expect_in(r.err, cases[i].message, cases[i].name);
		if (cases[i].full_usage) {
			expect_in(r.err, "usage: trino-guardctl [OPTIONS] COMMAND [ARGS]",
			          cases[i].name);
			for (size_t c = 0; c < sizeof(command_names) / sizeof(command_names[0]);
			     c++)
				expect_in(r.err, command_names[c], cases[i].name);
		} else {
			char synopsis[64];
			snprintf(synopsis, sizeof(synopsis), "usage: trino-guardctl [OPTIONS] %s",
			         cases[i].args[0]);
			expect_in(r.err, synopsis, cases[i].name);
		}
		run_free(&r);
	}
}

static void test_events_show_the_reason_of_each_request(void **state)
{
	(void)state;
	setenv("TRINO_GUARD_TOKEN_FILE", "api.token", 1);
	const char *pause_args[] = {"--url", fx.api, "pause", "--reason", "maintenance window",
	                            NULL};
	struct run pause = ctl(pause_args);
	assert_int_equal(pause.exit_code, 0);
	expect_in(pause.out, "paused", "pause");
	run_free(&pause);
	const char *resume_args[] = {"--url", fx.api, "resume", NULL};
	struct run resume = ctl(resume_args);
	assert_int_equal(resume.exit_code, 0);
	run_free(&resume);
	/* refused (no watch, no node reporting) but journaled with the reason */
	const char *rollback_args[] = {
	        "--url", fx.api, "rollback", "--reason", "users report errors", "--force", NULL};
	struct run rollback = ctl(rollback_args);
	assert_int_equal(rollback.exit_code, 2);
	expect_in(rollback.out, "nothing to roll back", "rollback");
	run_free(&rollback);
	const char *cutover_args[] = {"--url", fx.api,     "cutover",        "--to",
	                              "green", "--reason", "upgrade to 447", NULL};
	struct run cutover = ctl(cutover_args);
	assert_int_equal(cutover.exit_code, 2);
	expect_in(cutover.out, "cutover to green refused", "cutover");
	expect_in(cutover.out, "\n  - ", "cutover"); /* the failing checks */
	run_free(&cutover);

	const char *events_args[] = {"--url", fx.api, "events", NULL};
	struct run events = ctl(events_args);
	assert_int_equal(events.exit_code, 0);
	expect_in(events.out, "request          pause: maintenance window\n", "events");
	expect_in(events.out, "request          resume\n", "events");
	expect_in(events.out, "request          rollback (forced): users report errors\n",
	          "events");
	expect_in(events.out, "request          cutover green: upgrade to 447\n", "events");
	run_free(&events);
}

static void test_write_commands_send_the_token_or_stop(void **state)
{
	(void)state;
	const char *pause_args[] = {"--url", fx.api, "pause", "--reason", "token check", NULL};
	struct run r = ctl(pause_args); /* none: the collector says what is missing */
	assert_int_equal(r.exit_code, 2);
	expect_in(r.err, "POST /v1/pause: HTTP 401: a valid bearer token is required", "no token");
	expect_in(r.err,
	          "no token was sent; the write commands need the token in the collector's "
	          "[api] token_file: set TRINO_GUARD_TOKEN or TRINO_GUARD_TOKEN_FILE, or pass "
	          "--token-file FILE",
	          "no token's hint");
	run_free(&r);

	setenv("TRINO_GUARD_TOKEN", "not-the-token", 1);
	r = ctl(pause_args);
	assert_int_equal(r.exit_code, 2);
	expect_in(r.err, "HTTP 401", "a wrong token");
	expect_in(r.err, "the token sent was refused; ", "a wrong token's hint");
	run_free(&r);

	/* --token-file wins over the environment; an unreadable one sends nothing */
	const char *file_args[] = {"--url", fx.api, "--token-file", "api.token", "pause", NULL};
	r = ctl(file_args);
	assert_int_equal(r.exit_code, 0);
	run_free(&r);
	const char *no_file_args[] = {"--url",         fx.api,   "--token-file",
	                              "no-such.token", "resume", NULL};
	r = ctl(no_file_args);
	assert_int_equal(r.exit_code, 2);
	expect_in(r.err, "--token-file no-such.token", "an unreadable --token-file");
	assert_null(strstr(r.err, "HTTP"));
	run_free(&r);

	/* an unreadable token file stops the ctl before it sends anything */
	unsetenv("TRINO_GUARD_TOKEN");
	setenv("TRINO_GUARD_TOKEN_FILE", "no-such.token", 1);
	r = ctl(pause_args);
	assert_int_equal(r.exit_code, 2);
	expect_in(r.err, "TRINO_GUARD_TOKEN_FILE no-such.token", "an unreadable token file");
	assert_null(strstr(r.err, "HTTP"));
	run_free(&r);

	setenv("TRINO_GUARD_TOKEN", TOKEN, 1); /* the variable wins over the file */
	r = ctl(pause_args);
	assert_int_equal(r.exit_code, 0);
	run_free(&r);
	const char *resume_args[] = {"--url", fx.api, "resume", NULL};
	r = ctl(resume_args);
	assert_int_equal(r.exit_code, 0);
	run_free(&r);

	/* reading needs no token */
	no_token(NULL);
	const char *status_args[] = {"--url", fx.api, "--json", "status", NULL};
	r = ctl(status_args);
	assert_true(r.exit_code == 0 || r.exit_code == 1);
	expect_in(r.out, "\"environment\": \"test\"", "status");
	run_free(&r);
}

static void test_failed_calls_name_the_method_and_url(void **state)
{
	(void)state;
	const char *status_args[] = {"--url", fx.dead, "status", NULL};
	struct run r = ctl(status_args);
	assert_int_equal(r.exit_code, 2);
	char want[128];
	snprintf(want, sizeof(want), "trino-guardctl: GET %s/v1/status: ", fx.dead);
	expect_in(r.err, want, "status against nothing");
	expect_in(r.err, "(is the collector running there? --url or TRINO_GUARD_URL names another)",
	          "the hint for a collector that is down");
	assert_string_equal(r.out, "");
	run_free(&r);

	/* TRINO_GUARD_URL when --url is not given; --url over it */
	setenv("TRINO_GUARD_URL", fx.api, 1);
	const char *env_args[] = {"nodes", NULL};
	r = ctl(env_args);
	assert_int_equal(r.exit_code, 0);
	expect_in(r.out, "NODE", "nodes at TRINO_GUARD_URL");
	run_free(&r);
	setenv("TRINO_GUARD_URL", fx.dead, 1);
	r = ctl(env_args);
	assert_int_equal(r.exit_code, 2);
	snprintf(want, sizeof(want), "GET %s/v1/nodes: ", fx.dead);
	expect_in(r.err, want, "nodes at a dead TRINO_GUARD_URL");
	run_free(&r);
	const char *override_args[] = {"--url", fx.api, "nodes", NULL};
	r = ctl(override_args);
	assert_int_equal(r.exit_code, 0);
	run_free(&r);
	unsetenv("TRINO_GUARD_URL");

	const char *resume_args[] = {"--url", fx.dead, "resume", NULL};
	r = ctl(resume_args);
	assert_int_equal(r.exit_code, 2);
	snprintf(want, sizeof(want), "trino-guardctl: POST %s/v1/resume: ", fx.dead);
	expect_in(r.err, want, "resume against nothing");
	run_free(&r);

	/* an endpoint the collector does not have: its JSON error is shown */
	char url[128];
	snprintf(url, sizeof(url), "%s/nowhere", fx.api);
	const char *nodes_args[] = {"--url", url, "nodes", NULL};
	r = ctl(nodes_args);
	assert_int_equal(r.exit_code, 2);
	expect_in(r.err, "/nowhere/v1/nodes: HTTP 404: no such endpoint", "a wrong --url");
	run_free(&r);

	/* a trailing slash on --url is not a different path */
	snprintf(url, sizeof(url), "%s/", fx.api);
	const char *slash_args[] = {"--url", url, "nodes", NULL};
	r = ctl(slash_args);
	assert_int_equal(r.exit_code, 0);
	expect_in(r.out, "NODE", "nodes with a trailing slash");
	run_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup(test_help_lists_every_command_and_option, no_token),
	        cmocka_unit_test_setup(test_version_and_completion, no_token),
	        cmocka_unit_test_setup(test_bad_usage_exits_2_with_the_usage_on_stderr, no_token),
	        cmocka_unit_test_setup(test_events_show_the_reason_of_each_request, no_token),
	        cmocka_unit_test_setup(test_write_commands_send_the_token_or_stop, no_token),
	        cmocka_unit_test_setup(test_failed_calls_name_the_method_and_url, no_token),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
