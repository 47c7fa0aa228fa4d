/*
 * trino-guardctl: the operator's command line to the collector. This file is
 * its two tables, one row per option and one per command, and what is made
 * from them: the parser, the usage, the bash completion and the dispatch.
 * Adding a command is a row here and a function in the file for its job.
 *
 * Exit codes: 0 ok; 1 findings are open (status); 2 error or bad usage.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <time.h>

#include "../../common/clock.h"
#include "../../common/duration.h"
#include "ctl.h"
#include "ctl_http.h"
#include "ctl_local.h"
#include "ctl_show.h"
#include "ctl_write.h"
#include "secret_file.h"

#define DEFAULT_URL "http://127.0.0.1:7601"

/* The command line as parsed: the options and the one command with its operand. */
struct command_line {
	struct ctl_options opt;
	const char *command;
	const char *operand;
	const char *extra; /* a word past the operand: always a usage error */
	bool help;
	bool version;
};

struct ctl_option {
	const char *name;  /* "--url" */
	const char *alias; /* "-h", or NULL */
	const char *value; /* what the value is called in the usage ("URL"); NULL: a flag */
	const char *summary;
	int (*set)(struct command_line *line, const char *value); /* 0, or -1 (said) */
};

struct ctl_command {
	const char *name;
	const char *operand; /* the one word it takes ("NAME"), or NULL for none */
	const char *usage;   /* its options, for the usage ("[--since ID]"), or NULL */
	const char *summary;
	int (*exec)(const struct ctl_options *opt, const char *operand);
	bool api;   /* talks to the collector: curl is set up first */
	bool token; /* a write call: the bearer token is read first */
};

static int set_url(struct command_line *line, const char *value)
{
	line->opt.url = value;
	return 0;
}

static int set_token_file(struct command_line *line, const char *value)
{
	line->opt.token_file = value;
	return 0;
}

static int set_json(struct command_line *line, const char *value)
{
	(void)value;
	line->opt.json = true;
	return 0;
}

static int set_after_id(struct command_line *line, const char *value)
{
	char *end;
	errno = 0;
	long long id = strtoll(value, &end, 10);
	if (end == value || *end != '\0' || id < 0 || errno != 0) {
		fprintf(stderr, "trino-guardctl: --after-id takes an event id, not '%s'\n", value);
		return -1;
	}
	line->opt.after_id = id;
	return 0;
}

/* "10m" (that long ago) or "2026-12-02T06:00:00Z" (UTC) into the journal's stamp form. */
static int set_since(struct command_line *line, const char *value)
{
	int64_t ago_ms = 0;
	char why[128];
	struct tm tm = {0};
	int used = 0;
	if (duration_parse_ms(value, &ago_ms, why, sizeof(why)) == 0 && ago_ms >= 0) {
		int64_t then = clock_unix_ms() - ago_ms;
		time_t seconds = (time_t)(then / 1000);
		if (gmtime_r(&seconds, &tm) == NULL)
			return -1;
		snprintf(line->opt.since_time, sizeof(line->opt.since_time),
		         "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
		         tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(then % 1000));
		return 0;
	}
	/* NOLINTNEXTLINE(cert-err34-c): field widths bound every number (no overflow) */
	if (sscanf(value, "%4d-%2d-%2dT%2d:%2d:%2dZ%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
	           &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &used) == 6 &&
	    used > 0 && value[used] == '\0') {
		snprintf(line->opt.since_time, sizeof(line->opt.since_time),
		         "%04d-%02d-%02dT%02d:%02d:%02d.000Z", tm.tm_year, tm.tm_mon, tm.tm_mday,
		         tm.tm_hour, tm.tm_min, tm.tm_sec);
		return 0;
	}
	fprintf(stderr,
	        "trino-guardctl: --since takes a duration (10m, 2h) or a UTC time "
	        "(2026-12-02T06:00:00Z), not '%s'%s\n",
	        value,
	        strspn(value, "0123456789") == strlen(value) ? "; an event id is --after-id" : "");
	return -1;
}

static int set_follow(struct command_line *line, const char *value)
{
	(void)value;
	line->opt.follow = true;
	return 0;
}

static int set_watch(struct command_line *line, const char *value)
{
	(void)value;
	line->opt.watch = true;
	return 0;
}

static int set_interval(struct command_line *line, const char *value)
{
	int64_t ms = 0;
	char why[128];
	if (duration_parse_ms(value, &ms, why, sizeof(why)) != 0 || ms < 100) {
		fprintf(stderr,
		        "trino-guardctl: --interval takes a duration of 100ms or more (2s), "
		        "not '%s'\n",
		        value);
		return -1;
	}
	line->opt.interval_ms = ms;
	return 0;
}

static int set_to(struct command_line *line, const char *value)
{
	line->opt.to = value;
	return 0;
}

static int set_reason(struct command_line *line, const char *value)
{
	line->opt.reason = value;
	return 0;
}

static int set_force(struct command_line *line, const char *value)
{
	(void)value;
	line->opt.force = true;
	return 0;
}

static int set_offline(struct command_line *line, const char *value)
{
	(void)value;
	line->opt.offline = true;
	return 0;
}

static int set_help(struct command_line *line, const char *value)
{
	(void)value;
	line->help = true;
	return 0;
}

static int set_version(struct command_line *line, const char *value)
{
	(void)value;
	line->version = true;
	return 0;
}

static const struct ctl_option options[] = {
        {.name = "--url",
         .value = "URL",
         .summary = "the collector's API (default $TRINO_GUARD_URL, else " DEFAULT_URL ")",
         .set = set_url},
        {.name = "--token-file",
         .value = "FILE",
         .summary = "write commands: the API token from FILE",
         .set = set_token_file},
        {.name = "--json", .summary = "print the API's JSON instead of a table", .set = set_json},
        {.name = "--since",
         .value = "WHEN",
         .summary = "events: from a duration ago (10m, 2h) or a UTC time (2026-12-02T06:00:00Z)",
         .set = set_since},
        {.name = "--after-id",
         .value = "ID",
         .summary = "events: only those after event ID",
         .set = set_after_id},
        {.name = "--follow",
         .alias = "-f",
         .summary = "events: keep printing new events until interrupted",
         .set = set_follow},
        {.name = "--watch",
         .alias = "-w",
         .summary = "status: redraw every --interval until interrupted",
         .set = set_watch},
        {.name = "--interval",
         .value = "DURATION",
         .summary = "status --watch, events --follow: how often (default 2s)",
         .set = set_interval},
        {.name = "--to",
         .value = "CLUSTER",
         .summary = "cutover: the cluster to move to; confirm-switch: the one switched to",
         .set = set_to},
        {.name = "--reason",
         .value = "TEXT",
         .summary = "cutover, rollback, pause, resume: why, kept in the journal",
         .set = set_reason},
        {.name = "--force",
         .summary = "cutover: past a failing gate; rollback: to an unhealthy cluster",
         .set = set_force},
        {.name = "--offline",
         .summary = "check-config: do not probe the load balancer",
         .set = set_offline},
        {.name = "--help", .alias = "-h", .summary = "print this usage", .set = set_help},
        {.name = "--version", .summary = "print trino-guardctl's version", .set = set_version},
};

static int command_help(const struct ctl_options *opt, const char *operand);
static int command_completion(const struct ctl_options *opt, const char *operand);

static const struct ctl_command commands[] = {
        {.name = "status",
         .usage = "[--watch] [--interval DURATION]",
         .summary = "clusters, versions, failure ratios, the cutover, open findings",
         .exec = ctl_show_status,
         .api = true},
        {.name = "nodes",
         .summary = "every node the collector knows",
         .exec = ctl_show_nodes,
         .api = true},
        {.name = "events",
         .usage = "[--since WHEN | --after-id ID] [--follow]",
         .summary = "the journal: who asked what and its outcome, transitions, findings, "
                    "alerts",
         .exec = ctl_show_events,
         .api = true},
        {.name = "cutover",
         .usage = "--to CLUSTER [--reason TEXT] [--force]",
         .summary = "move traffic to CLUSTER if the gate passes, then watch it",
         .exec = ctl_write_cutover,
         .api = true,
         .token = true},
        {.name = "confirm-switch",
         .usage = "[--to CLUSTER] [--reason TEXT]",
         .summary = "with [lb] driver = none: the load balancer was switched by hand; the "
                    "watch starts",
         .exec = ctl_write_confirm,
         .api = true,
         .token = true},
        {.name = "rollback",
         .usage = "[--reason TEXT] [--force]",
         .summary = "move traffic back to the previous cluster during a watch; calls off a "
                    "switch by hand not yet made",
         .exec = ctl_write_rollback,
         .api = true,
         .token = true},
        {.name = "pause",
         .usage = "[--reason TEXT]",
         .summary = "hold automatic decisions: journaled, alerted, the LB not touched",
         .exec = ctl_write_pause,
         .api = true,
         .token = true},
        {.name = "resume",
         .usage = "[--reason TEXT]",
         .summary = "let automatic decisions act again",
         .exec = ctl_write_resume,
         .api = true,
         .token = true},
        {.name = "keygen",
         .operand = "NAME",
         .summary = "write NAME.pub and NAME.key (mode 0600), a CURVE key pair",
         .exec = ctl_local_keygen},
        {.name = "check-config",
         .operand = "FILE",
         .usage = "[--offline]",
         .summary = "check an agent.ini or a collector.ini and what it names, as the "
                    "daemon would at start",
         .exec = ctl_local_check_config},
        {.name = "completion",
         .summary = "print a bash completion: source <(trino-guardctl completion)",
         .exec = command_completion},
        {.name = "help", .summary = "print this usage", .exec = command_help},
};

#define OPTION_COUNT  (sizeof(options) / sizeof(options[0]))
#define COMMAND_COUNT (sizeof(commands) / sizeof(commands[0]))

/* The usage column is this wide; a longer left side puts the summary on the next line. */
#define USAGE_COLUMN 24

static void usage_row(FILE *out, const char *left, const char *summary)
{
	if (strlen(left) < USAGE_COLUMN)
		fprintf(out, "  %-*s %s\n", USAGE_COLUMN, left, summary);
	else
		fprintf(out, "  %s\n  %-*s %s\n", left, USAGE_COLUMN, "", summary);
}

/* "keygen NAME", "events [--since ID]": a command as its row says to call it. */
static void command_synopsis(const struct ctl_command *c, char *text, size_t len)
{
	snprintf(text, len, "%s%s%s%s%s", c->name, c->operand ? " " : "",
	         c->operand ? c->operand : "", c->usage ? " " : "", c->usage ? c->usage : "");
}

static void usage(FILE *out)
{
	char left[128];
	fprintf(out, "usage: trino-guardctl [OPTIONS] COMMAND [ARGS]\n\ncommands:\n");
	for (size_t i = 0; i < COMMAND_COUNT; i++) {
		command_synopsis(&commands[i], left, sizeof(left));
		usage_row(out, left, commands[i].summary);
	}
	fprintf(out, "\noptions:\n");
	for (size_t i = 0; i < OPTION_COUNT; i++) {
		const struct ctl_option *o = &options[i];
		snprintf(left, sizeof(left), "%s%s%s%s%s", o->alias ? o->alias : "",
		         o->alias ? ", " : "", o->name, o->value ? " " : "",
		         o->value ? o->value : "");
		usage_row(out, left, o->summary);
	}
	fprintf(out, "\nenvironment:\n");
	usage_row(out, "TRINO_GUARD_URL", "the collector's API, when --url is not given");
	usage_row(out, "TRINO_GUARD_TOKEN", "the API token for the write commands");
	usage_row(out, "TRINO_GUARD_TOKEN_FILE", "a file holding it, read when the first is unset");
	fprintf(out, "\nExit codes: 0 ok; 1 findings are open (status), or the file is valid but "
	             "what it names is not (check-config); 2 error.\n");
}

static int command_help(const struct ctl_options *opt, const char *operand)
{
	(void)opt;
	(void)operand;
	usage(stdout);
	return CTL_EXIT_OK;
}

/* Completes the first word from the commands, later ones from the options. */
static int command_completion(const struct ctl_options *opt, const char *operand)
{
	(void)opt;
	(void)operand;
	printf("_trino_guardctl() {\n\tlocal commands='");
	for (size_t i = 0; i < COMMAND_COUNT; i++)
		printf("%s%s", i ? " " : "", commands[i].name);
	printf("'\n\tlocal options='");
	for (size_t i = 0; i < OPTION_COUNT; i++)
		printf("%s%s", i ? " " : "", options[i].name);
	printf("'\n\tlocal word=\"${COMP_WORDS[COMP_CWORD]}\"\n"
	       "\tif [[ $word == -* ]]; then\n"
	       "\t\tCOMPREPLY=($(compgen -W \"$options\" -- \"$word\"))\n"
	       "\telse\n"
	       "\t\tCOMPREPLY=($(compgen -W \"$commands\" -- \"$word\"))\n"
	       "\tfi\n"
	       "}\n"
	       "complete -o default -F _trino_guardctl trino-guardctl\n");
	return CTL_EXIT_OK;
}

static const struct ctl_option *option_find(const char *arg)
{
	for (size_t i = 0; i < OPTION_COUNT; i++)
		if (strcmp(arg, options[i].name) == 0 ||
		    (options[i].alias != NULL && strcmp(arg, options[i].alias) == 0))
			return &options[i];
	return NULL;
}

static const struct ctl_command *command_find(const char *name)
{
	for (size_t i = 0; i < COMMAND_COUNT; i++)
		if (strcmp(name, commands[i].name) == 0)
			return &commands[i];
	return NULL;
}

/* Options anywhere on the line; "--" ends them. 0, or -1 (said). */
static int parse(int argc, char **argv, struct command_line *line)
{
	bool options_end = false;
	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i];
		if (!options_end && strcmp(arg, "--") == 0) {
			options_end = true;
			continue;
		}
		if (options_end || arg[0] != '-' || arg[1] == '\0') {
			if (line->command == NULL)
				line->command = arg;
			else if (line->operand == NULL)
				line->operand = arg;
			else if (line->extra == NULL)
				line->extra = arg;
			continue;
		}
		const struct ctl_option *o = option_find(arg);
		if (o == NULL) {
			fprintf(stderr, "trino-guardctl: unknown option %s\n", arg);
			return -1;
		}
		/* "cutover --to --reason x" must not move traffic to a cluster named --reason */
		if (o->value != NULL && (i + 1 >= argc || option_find(argv[i + 1]) != NULL)) {
			fprintf(stderr, "trino-guardctl: %s needs a value (%s)%s%s\n", o->name,
			        o->value, i + 1 < argc ? ", not the option " : "",
			        i + 1 < argc ? argv[i + 1] : "");
			return -1;
		}
		if (o->set(line, o->value != NULL ? argv[++i] : NULL) != 0)
			return -1;
	}
	return 0;
}

/* The words after the command fit its row: an operand when it takes one, nothing more. */
static int check_words(const struct ctl_command *c, const struct command_line *line)
{
	if (c->operand != NULL && line->operand == NULL) {
		fprintf(stderr, "trino-guardctl: %s needs %s\n", c->name, c->operand);
		return -1;
	}
	const char *extra = c->operand != NULL ? line->extra : line->operand;
	if (extra != NULL) {
		fprintf(stderr, "trino-guardctl: %s: unexpected '%s'\n", c->name, extra);
		return -1;
	}
	return 0;
}

/* Runs C: the token and curl first when its row says so. Returns the exit code. */
static int run(const struct ctl_command *c, struct command_line *line)
{
	if (c->token && ctl_http_token(line->opt.token_file, &line->opt.token) != 0)
		return CTL_EXIT_ERROR;
	int rc = CTL_EXIT_ERROR;
	if (!c->api || ctl_http_init() == 0) {
		rc = c->exec(&line->opt, line->operand);
		if (c->api)
			ctl_http_cleanup();
	}
	secret_free(line->opt.token);
	line->opt.token = NULL;
	return rc;
}

/* Parses the line and runs the command it names; returns the exit code. */
static int dispatch(int argc, char **argv)
{
	const char *env_url = getenv("TRINO_GUARD_URL");
	struct command_line line = {
	        .opt = {.url = env_url != NULL && env_url[0] != '\0' ? env_url : DEFAULT_URL,
	                .color = isatty(STDOUT_FILENO) == 1,
	                .interval_ms = 2000},
	};
	if (parse(argc, argv, &line) != 0) {
		usage(stderr);
		return CTL_EXIT_ERROR;
	}
	if (line.help) {
		usage(stdout);
		return CTL_EXIT_OK;
	}
	if (line.version) {
		printf("trino-guardctl %s\n", TG_VERSION);
		return CTL_EXIT_OK;
	}
	if (line.command == NULL) {
		fprintf(stderr, "trino-guardctl: no command given\n");
		usage(stderr);
		return CTL_EXIT_ERROR;
	}
	const struct ctl_command *c = command_find(line.command);
	if (c == NULL) {
		fprintf(stderr, "trino-guardctl: unknown command '%s'\n", line.command);
		usage(stderr);
		return CTL_EXIT_ERROR;
	}
	if (check_words(c, &line) != 0) {
		char synopsis[128];
		command_synopsis(c, synopsis, sizeof(synopsis));
		fprintf(stderr, "usage: trino-guardctl [OPTIONS] %s\n", synopsis);
		return CTL_EXIT_ERROR;
	}
	return run(c, &line);
}

int main(int argc, char **argv)
{
	int rc = dispatch(argc, argv);
	/* A table cut short (disk full, a closed pipe) is not a success. */
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "trino-guardctl: writing the output: %s\n", strerror(errno));
		return CTL_EXIT_ERROR;
	}
	return rc;
}
