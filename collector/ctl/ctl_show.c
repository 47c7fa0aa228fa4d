/*
 * status, nodes and events: GET the API and print a table for people, or the
 * API's JSON (--json) for scripts. Colour only when stdout is a terminal.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <time.h>

#include "../../common/clock.h"
#include "../../common/duration.h"
#include "ctl_follow.h"
#include "ctl_http.h"
#include "ctl_show.h"

/* OBJECT's string KEY, or "" when absent or not a string. */
static const char *str(const json_t *object, const char *key)
{
	const char *value = json_string_value(json_object_get(object, key));
	return value != NULL ? value : "";
}

static double number(const json_t *object, const char *key)
{
	return json_number_value(json_object_get(object, key));
}

static long long integer(const json_t *object, const char *key)
{
	return (long long)json_integer_value(json_object_get(object, key));
}

static const char *severity_color(const struct ctl_options *opt, const char *severity)
{
	if (!opt->color)
		return "";
	if (strcmp(severity, "critical") == 0 || strcmp(severity, "error") == 0)
		return "\033[31m";
	if (strcmp(severity, "warning") == 0)
		return "\033[33m";
	return "";
}

static const char *color_reset(const struct ctl_options *opt)
{
	return opt->color ? "\033[0m" : "";
}

/* SECONDS for people: "5m12s". */
static void human(double seconds, char *out, size_t len)
{
	duration_format_human((int64_t)(seconds * 1000), out, len);
}

/*
 * How long ago a journal stamp ("2026-12-02T04:42:07.123Z") was, for people:
 * "5m12s ago", or "" when the stamp does not parse.
 */
static void stamp_age(const char *stamp, int64_t now_unix_ms, char *out, size_t len)
{
	struct tm tm = {0};
	int ms = 0;
	out[0] = '\0';
	/* NOLINTNEXTLINE(cert-err34-c): field widths bound every number (no overflow) */
	if (sscanf(stamp, "%4d-%2d-%2dT%2d:%2d:%2d.%3dZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
	           &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &ms) != 7)
		return;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	int64_t then = (int64_t)timegm(&tm) * 1000 + ms;
	char age[32];
	duration_format_human(now_unix_ms - then, age, sizeof(age));
	snprintf(out, len, "%s ago", age);
}

static int print_json(const json_t *value)
{
	char *text = json_dumps(value, JSON_INDENT(2));
	if (text == NULL) {
		fprintf(stderr, "trino-guardctl: cannot print the answer as JSON\n");
		return -1;
	}
	printf("%s\n", text);
	free(text);
	return 0;
}

/* The cutover block of /v1/status: phase, the watch's evidence, the last reason. */
static void print_cutover(const json_t *cutover)
{
	printf("cutover: %s, active %s%s%s\n", str(cutover, "phase"), str(cutover, "active"),
	       json_is_true(json_object_get(cutover, "paused")) ? ", PAUSED" : "",
	       json_is_true(json_object_get(cutover, "dry_run")) ? ", dry run" : "");
	const json_t *by_hand = json_object_get(cutover, "switch_by_hand");
	if (json_is_object(by_hand))
		printf("NO [lb] DRIVER: %s; users stay on %s until then; %s\n",
		       str(by_hand, "todo"), str(by_hand, "from"), str(by_hand, "seen_when"));
	const json_t *watch = json_object_get(cutover, "watch");
	if (json_is_object(watch)) {
		const json_t *failures = json_object_get(watch, "failures");
		const json_t *users = json_object_get(watch, "user_errors");
		char left[32];
		human(number(watch, "seconds_left"), left, sizeof(left));
		printf("watching %s: %s left; failures %.1f %% vs tolerated %.1f %%, "
		       "evidence %.1f/%.0f; user errors evidence %.1f/%.0f\n",
		       str(cutover, "active"), left, 100 * number(failures, "estimated_ratio"),
		       100 * number(failures, "p0"), number(failures, "score"),
		       number(failures, "threshold"), number(users, "score"),
		       number(users, "threshold"));
	}
	const json_t *drain = json_object_get(cutover, "drain");
	if (str(drain, "waiting_for")[0] != '\0' &&
	    json_object_get(drain, "oldest_query_age_seconds") != NULL)
		printf("stable waits: %s; its oldest query is %lld s old\n",
		       str(drain, "waiting_for"), integer(drain, "oldest_query_age_seconds"));
	else if (str(drain, "waiting_for")[0] != '\0')
		printf("stable waits: %s\n", str(drain, "waiting_for"));
	const json_t *last = json_object_get(cutover, "last_switch");
	if (json_is_object(last))
		printf("last switch: %s %s -> %s, %lld queries lost%s\n", str(last, "switch"),
		       str(last, "from"), str(last, "to"), integer(last, "lost_queries"),
		       !json_is_true(json_object_get(last, "counted"))
		               ? " (its counters unseen: unknown)"
		       : json_is_true(json_object_get(last, "settled"))
		               ? ""
		               : " so far, still counting");
	if (str(cutover, "reason")[0] != '\0')
		printf("last reason: %s\n", str(cutover, "reason"));
	printf("\n");
}

/* One row of the clusters table. */
static void print_cluster(const json_t *cluster)
{
	char versions[128] = "";
	const char *version;
	json_t *count;
	json_object_foreach(json_object_get(cluster, "versions"), version, count)
	{
		size_t len = strlen(versions);
		snprintf(versions + len, sizeof(versions) - len, "%s%s:%lld", len ? " " : "",
		         version, (long long)json_integer_value(count));
	}
	char nodes[32], failures[64] = "-";
	snprintf(nodes, sizeof(nodes), "%lld/%lld", integer(cluster, "nodes_live"),
	         integer(cluster, "nodes_total"));
	const json_t *ratio = json_object_get(cluster, "failure_ratio");
	if (json_is_object(ratio))
		snprintf(failures, sizeof(failures), "%.2f%% of %lld [%.2f-%.2f%%]",
		         100 * number(ratio, "ratio"), integer(ratio, "queries"),
		         100 * number(ratio, "lower_99"), 100 * number(ratio, "upper_99"));
	const char *reference = str(cluster, "reference_version");
	printf("%-12s %-6s %-10s %-22s %-7s %-32s %zu\n", str(cluster, "name"),
	       json_is_true(json_object_get(cluster, "active")) ? "*" : "",
	       reference[0] ? reference : "-", versions[0] ? versions : "-", nodes, failures,
	       json_array_size(json_object_get(cluster, "findings")));
}

static void print_findings(const struct ctl_options *opt, const json_t *findings)
{
	if (json_array_size(findings) == 0) {
		printf("\nno open findings\n");
		return;
	}
	printf("\nOPEN FINDINGS\n");
	size_t i;
	json_t *f;
	json_array_foreach(findings, i, f)
	{
		printf("%s%-9s%s %s\n          %s\n", severity_color(opt, str(f, "severity")),
		       str(f, "severity"), color_reset(opt), str(f, "key"), str(f, "summary"));
	}
}

int ctl_show_status(const struct ctl_options *opt, const char *operand)
{
	(void)operand;
	if (opt->watch)
		return ctl_follow_status(opt);
	json_t *status = ctl_http_get(opt, "/v1/status");
	if (status == NULL)
		return CTL_EXIT_ERROR;
	return ctl_show_status_print(opt, status);
}

int ctl_show_status_print(const struct ctl_options *opt, json_t *status)
{
	const json_t *findings = json_object_get(status, "findings");
	int rc = json_array_size(findings) > 0 ? CTL_EXIT_FINDINGS : CTL_EXIT_OK;
	if (opt->json) {
		if (print_json(status) != 0)
			rc = CTL_EXIT_ERROR;
		json_decref(status);
		return rc;
	}
	char uptime[32];
	human(number(status, "uptime_seconds"), uptime, sizeof(uptime));
	printf("environment %s, active cluster %s, collector up %s%s\n\n",
	       str(status, "environment"),
	       json_is_string(json_object_get(status, "active")) ? str(status, "active") : "(none)",
	       uptime, json_is_true(json_object_get(status, "warming_up")) ? " (warming up)" : "");
	const json_t *ha = json_object_get(status, "ha");
	if (json_is_true(json_object_get(ha, "enabled")))
		printf("ha: this collector (%s) is the %s; leader %s; etcd %s%s%s\n\n",
		       str(ha, "id"), str(ha, "role"),
		       str(ha, "leader")[0] ? str(ha, "leader") : "(none)", str(ha, "etcd"),
		       str(ha, "last_error")[0] ? ": " : "", str(ha, "last_error"));
	if (json_is_object(json_object_get(status, "cutover")))
		print_cutover(json_object_get(status, "cutover"));
	printf("%-12s %-6s %-10s %-22s %-7s %-32s %s\n", "CLUSTER", "ACTIVE", "VERSION", "VERSIONS",
	       "NODES", "FAILURES (60s, 99% interval)", "FINDINGS");
	size_t i;
	json_t *cluster;
	json_array_foreach(json_object_get(status, "clusters"), i, cluster)
	{
		print_cluster(cluster);
	}
	print_findings(opt, findings);
	json_decref(status);
	return rc;
}

int ctl_show_nodes(const struct ctl_options *opt, const char *operand)
{
	(void)operand;
	json_t *nodes = ctl_http_get(opt, "/v1/nodes");
	if (nodes == NULL)
		return CTL_EXIT_ERROR;
	if (opt->json) {
		int rc = print_json(nodes) == 0 ? CTL_EXIT_OK : CTL_EXIT_ERROR;
		json_decref(nodes);
		return rc;
	}
	printf("%-28s %-10s %-12s %-10s %-14s %-5s %-10s %s\n", "NODE", "CLUSTER", "ROLE",
	       "VERSION", "STATE", "LIVE", "LAST SEEN", "CONFIG");
	size_t i;
	json_t *node;
	json_array_foreach(nodes, i, node)
	{
		char seen[48], age[32], config[32];
		human(number(node, "last_seen_seconds"), age, sizeof(age));
		snprintf(seen, sizeof(seen), "%s ago", age);
		snprintf(config, sizeof(config), "%lld files%s", integer(node, "config_files"),
		         integer(node, "config_errors") > 0 ? ", errors" : "");
		printf("%-28s %-10s %-12s %-10s %-14s %-5s %-10s %s\n", str(node, "node_id"),
		       str(node, "cluster"), str(node, "role"),
		       str(node, "version")[0] ? str(node, "version") : "-", str(node, "state"),
		       json_is_true(json_object_get(node, "live")) ? "yes" : "NO", seen, config);
	}
	json_decref(nodes);
	return CTL_EXIT_OK;
}

/*
 * A request event: "cutover green (forced) by alice@ops1, token from 10.0.0.5:41234:
 * upgrade to 447 -> refused: cutover to green refused: 2 check(s) failed".
 */
static void describe_request(const json_t *event, char *what, size_t len)
{
	const char *cluster = str(event, "cluster");
	const char *reason = str(event, "reason");
	const char *by = str(event, "by");
	const char *outcome = str(event, "outcome");
	snprintf(what, len, "%s%s%s%s%s%s%s%s%s%s", str(event, "request"), cluster[0] ? " " : "",
	         cluster, json_is_true(json_object_get(event, "force")) ? " (forced)" : "",
	         by[0] ? " by " : "", by, reason[0] ? ": " : "", reason, outcome[0] ? " -> " : "",
	         outcome);
}

/* The part of an event's line after its type, by type. */
static void describe_event(const json_t *event, const char *type, char *what, size_t len)
{
	if (strcmp(type, "transition") == 0)
		snprintf(what, len, "%s -> %s, active %s%s%s", str(event, "from"), str(event, "to"),
		         str(event, "active"), str(event, "reason")[0] ? ": " : "",
		         str(event, "reason"));
	else if (strcmp(type, "alert") == 0)
		snprintf(what, len, "%s %s: %s", str(event, "severity"), str(event, "name"),
		         str(event, "summary"));
	else if (strcmp(type, "request") == 0)
		describe_request(event, what, len);
	else if (strncmp(type, "lb-switch", 9) == 0)
		snprintf(what, len, "%s%s%s", str(event, "cluster"),
		         json_is_false(json_object_get(event, "ok")) ? ": failed: " : "",
		         str(event, "error"));
	else if (strncmp(type, "finding-", 8) == 0)
		snprintf(what, len, "%s: %s", str(event, "key"), str(event, "summary"));
	else
		snprintf(what, len, "%s", str(event, "version"));
}

/* One line per event of EVENTS; returns the id of the last one, or AFTER when none. */
long long ctl_show_event_lines(const struct ctl_options *opt, const json_t *events, long long after)
{
	int64_t now = clock_unix_ms();
	size_t i;
	json_t *event;
	json_array_foreach(events, i, event)
	{
		const char *type = str(event, "type");
		char what[1600], age[48];
		describe_event(event, type, what, sizeof(what));
		stamp_age(str(event, "time"), now, age, sizeof(age));
		printf("%-6lld %s %-12s %s%-16s%s %s\n", integer(event, "id"), str(event, "time"),
		       age, severity_color(opt, str(event, "severity")), type, color_reset(opt),
		       what);
		after = integer(event, "id");
	}
	return after;
}

void ctl_show_events_path(const struct ctl_options *opt, long long after_id, char *path, size_t len)
{
	snprintf(path, len, "/v1/events?after_id=%lld&limit=10000%s%s", after_id,
	         opt->since_time[0] ? "&since_time=" : "", opt->since_time);
}

int ctl_show_events(const struct ctl_options *opt, const char *operand)
{
	(void)operand;
	if (opt->follow)
		return ctl_follow_events(opt);
	char path[160];
	ctl_show_events_path(opt, opt->after_id, path, sizeof(path));
	json_t *answer = ctl_http_get(opt, path);
	if (answer == NULL)
		return CTL_EXIT_ERROR;
	if (opt->json) {
		int rc = print_json(answer) == 0 ? CTL_EXIT_OK : CTL_EXIT_ERROR;
		json_decref(answer);
		return rc;
	}
	ctl_show_event_lines(opt, json_object_get(answer, "events"), opt->after_id);
	json_decref(answer);
	return CTL_EXIT_OK;
}
