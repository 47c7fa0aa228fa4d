/*
 * trino-guardctl against a real collector (no agents, an API token; the
 * fixture is ctl_fixture.h). Covered: --help and help list every command and
 * option, and every command they list runs; --version; the completion;
 * output that cannot be written is exit 2; bad usage (an unknown command or
 * option, a missing value or operand, a word too many, a --since that is an
 * id) exits 2 with the usage on stderr and nothing on stdout; the write
 * commands send the token and stop when it cannot be read; events show who
 * asked each request, its reason and its outcome (a refused one "refused:
 * why", a wrong token too); events --since takes a duration or a time and
 * --after-id an id; failed calls name the method and URL.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <pwd.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ctl_fixture.h"
#include "harness.h"

static const char *const command_names[] = {
        "status", "nodes",  "events", "cutover",      "confirm-switch", "rollback",
        "pause",  "resume", "keygen", "check-config", "completion",     "help",
};
/* How each option's row starts in the usage (not just a mention in a command's line). */
static const char *const option_rows[] = {
        "\n  --url URL ",
        "\n  --token-file FILE ",
        "\n  --json ",
        "\n  --since WHEN ",
        "\n  --after-id ID ",
        "\n  -f, --follow ",
        "\n  -w, --watch ",
        "\n  --interval DURATION",
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
	expect_in(completion.out, "--since --after-id --follow --watch --interval", "completion");
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
	        {"a since that is no time",
	         {"events", "--since", "x"},
	         "--since takes a duration (10m, 2h) or a UTC time",
	         true},
	        {"a since that is an id",
	         {"events", "--since", "120"},
	         "not '120'; an event id is --after-id",
	         true},
	        {"an id that is not one",
	         {"events", "--after-id", "x"},
	         "--after-id takes an event id",
	         true},
	        {"a negative id",
	         {"events", "--after-id", "-3"},
	         "--after-id takes an event id",
	         true},
	        {"an interval without a unit",
	         {"status", "--watch", "--interval", "2"},
	         "--interval takes a duration",
	         true},
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

static void test_events_show_who_asked_why_and_the_outcome(void **state)
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

	/* a wrong token is refused before anything is decided, and journaled all the same */
	setenv("TRINO_GUARD_TOKEN", "not-the-token", 1);
	const char *wrong_args[] = {"--url", fx.api, "pause", "--reason", "wrong token", NULL};
	struct run wrong = ctl(wrong_args);
	assert_int_equal(wrong.exit_code, 2);
	run_free(&wrong);
	unsetenv("TRINO_GUARD_TOKEN");

	/* who asked: the name trino-guardctl sends, that it showed the token, the peer */
	char by[256];
	const char *sudo_user = getenv("SUDO_USER");
	const struct passwd *pw = getpwuid(geteuid());
	char host[128] = "";
	gethostname(host, sizeof(host) - 1);
	snprintf(by, sizeof(by), " by %s@%s, token from 127.0.0.1:",
	         sudo_user != NULL && sudo_user[0] ? sudo_user : pw->pw_name, host);
	const char *events_args[] = {"--url", fx.api, "events", NULL};
	struct run events = ctl(events_args);
	assert_int_equal(events.exit_code, 0);
	const struct {
		const char *request, *after_by;
	} lines[] = {
	        {"request          pause", ": maintenance window -> done: paused"},
	        {"request          resume", " -> done: resumed"},
	        {"request          rollback (forced)",
	         ": users report errors -> refused: no watch in progress"},
	        {"request          cutover green",
	         ": upgrade to 447 -> refused: cutover to green refused: "},
	        {"request          pause", " -> refused: a valid bearer token is required"},
	};
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		char want[512];
		snprintf(want, sizeof(want), "%s%s", lines[i].request, by);
		expect_in(events.out, want, "events");
		expect_in(events.out, lines[i].after_by, "events");
	}
	run_free(&events);
}

static void test_events_since_a_duration_or_a_time_and_after_an_id(void **state)
{
	(void)state;
	setenv("TRINO_GUARD_TOKEN_FILE", "api.token", 1);
	const char *mark_args[] = {"--url", fx.api, "resume", "--reason", "since-mark", NULL};
	struct run mark = ctl(mark_args);
	assert_int_equal(mark.exit_code, 0);
	run_free(&mark);
	const char *recent_args[] = {"--url", fx.api, "events", "--since", "10m", NULL};
	struct run recent = ctl(recent_args);
	assert_int_equal(recent.exit_code, 0);
	expect_in(recent.out, "since-mark", "--since 10m");
	expect_in(recent.out, "collector-started", "--since 10m");
	run_free(&recent);
	const char *future_args[] = {"--url", fx.api, "events", "--since", "2999-01-01T00:00:00Z",
	                             NULL};
	struct run future = ctl(future_args);
	assert_int_equal(future.exit_code, 0);
	assert_string_equal(future.out, "");
	run_free(&future);
	const char *past_args[] = {"--url", fx.api, "events", "--since", "2000-01-01T00:00:00Z",
	                           NULL};
	struct run past = ctl(past_args);
	assert_int_equal(past.exit_code, 0);
	expect_in(past.out, "since-mark", "--since a time long ago");
	/* the mark's id: every event after it, none before */
	char *line = strstr(past.out, "since-mark");
	assert_non_null(line);
	while (line > past.out && line[-1] != '\n')
		line--;
	long long mark_id = atoll(line);
	assert_true(mark_id > 1);
	char after[32];
	snprintf(after, sizeof(after), "%lld", mark_id - 1);
	const char *after_args[] = {"--url", fx.api, "events", "--after-id", after, NULL};
	struct run from_mark = ctl(after_args);
	assert_int_equal(from_mark.exit_code, 0);
	expect_in(from_mark.out, "since-mark", "--after-id");
	if (strstr(from_mark.out, "collector-started") != NULL)
		fail_msg("--after-id %s shows an older event:\n%s", after, from_mark.out);
	run_free(&from_mark);
	run_free(&past);
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
	        cmocka_unit_test_setup(test_events_show_who_asked_why_and_the_outcome, no_token),
	        cmocka_unit_test_setup(test_write_commands_send_the_token_or_stop, no_token),
	        cmocka_unit_test_setup(test_failed_calls_name_the_method_and_url, no_token),
	        cmocka_unit_test_setup(test_events_since_a_duration_or_a_time_and_after_an_id,
	                               no_token),
	};
	return cmocka_run_group_tests(tests, ctl_fixture_setup, ctl_fixture_teardown);
}
