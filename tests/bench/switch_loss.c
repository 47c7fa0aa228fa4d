/*
 * Benchmark: how many clients' queries a switch loses. The npm trino-client
 * runs N concurrent long queries through a real HAProxy in front of
 * trino-sim blue (478) and green (479), with agents and the collector's
 * haproxy driver: one batch on blue across a cutover to green, one on green
 * across the automatic rollback that follows when green fails half its
 * queries. Each run does both switches, first with routing by query id
 * (deploy/haproxy/haproxy.cfg, [lb.haproxy] query_id_map), then with the
 * plain one-entry map. A query is lost when the client itself says it
 * failed: its own outcomes are the ground truth. Beside them, what the
 * collector's lost-query accounting journaled for the same switch (the old
 * cluster's AbandonedQueries delta over [watch] loss_settle).
 *
 *   switch_loss [--runs N] [--queries N] [--quick]   (default 10 runs of 50)
 *
 * Exits 1 when routing lost a query or a run could not be measured.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "stack.h"
#include "stack_queries.h"

#define MAX_RUNS   100
#define LONG_QUERY "SELECT 1 -- duration_ms=45000 rows=2"
#define DEADLINE   60000 /* ms: generous for a loaded or sanitized build, not a figure */

enum { SWITCH_CUTOVER, SWITCH_ROLLBACK, SWITCH_COUNT };
static const char *const switch_names[SWITCH_COUNT] = {
        [SWITCH_CUTOVER] = "cutover", [SWITCH_ROLLBACK] = "auto rollback"};

struct mode {
	const char *name;
	bool routing;
	int lost[SWITCH_COUNT][MAX_RUNS];          /* failed queries per switch per run */
	long long counted[SWITCH_COUNT][MAX_RUNS]; /* the collector's count, -1: unknown */
	char example[SWITCH_COUNT][256];           /* one failed query's error */
};

struct bench {
	int runs, queries;
	struct stack stack;
	char blue_id[16], green_id[16];
	const char *dir;
};

static const struct stack_client client = {TG_NODE_BIN, TG_CLIENT_DIR};

static struct stack_options stack_options(bool routing)
{
	struct stack_options o = {
	        .blue_version = "478",
	        .green_version = "479",
	        .workers = 1,
	        .agent_interval = "200ms",
	        .tick = "100ms",
	        .sim_bin = TG_SIM_BIN,
	        .agent_bin = TG_AGENT_BIN,
	        .collector_bin = TG_COLLECTOR_BIN,
	        .haproxy_bin = TG_HAPROXY_BIN,
	        /* orphans of the plain map are abandoned before the next run */
	        .client_timeout_ms = "15000",
	        .extra_watch = "loss_settle = 20s\n", /* longer than the client timeout */
	        .qps = "20",
	};
	if (routing) {
		o.haproxy_cfg = TG_SOURCE_DIR "/deploy/haproxy/haproxy.cfg";
		o.query_routing = true;
	}
	return o;
}

/* Starts a batch of the client's queries and waits until all run on CONTROL_PORT's sim. */
static pid_t start_batch(struct bench *b, const char *out, int control_port)
{
	pid_t pid = stack_client_start(&b->stack, &client, b->queries, LONG_QUERY, out);
	if (pid <= 0 || !stack_wait_statement_running(control_port, b->queries, DEADLINE)) {
		fprintf(stderr, "switch_loss: the client's queries did not all start (see %s)\n",
		        b->dir);
		return -1;
	}
	return pid;
}

/* Both switches, each with a batch of queries in flight across it. */
static int switch_twice(struct bench *b, pid_t *batch, const char out[][600])
{
	struct stack *s = &b->stack;
	batch[SWITCH_CUTOVER] = start_batch(b, out[SWITCH_CUTOVER], s->blue_control);
	if (batch[SWITCH_CUTOVER] < 0)
		return -1;
	if (stack_api_post(s, NULL, "/v1/cutover",
	                   "{\"to\":\"green\",\"force\":true,\"reason\":\"switch_loss\"}") != 202 ||
	    !stack_wait_phase(s, "WATCHING", "green", DEADLINE))
		return -1;
	/* the plain map's orphans count as running until abandoned, after the client timeout */
	if (stack_statement_running(s->blue_control) != b->queries) {
		fprintf(stderr, "switch_loss: blue's batch ended before the cutover was over\n");
		return -1;
	}
	batch[SWITCH_ROLLBACK] = start_batch(b, out[SWITCH_ROLLBACK], s->green_control);
	if (batch[SWITCH_ROLLBACK] < 0)
		return -1;
	if (!stack_wait_phase(s, "WATCHING", "green", 1000)) {
		fprintf(stderr, "switch_loss: green was rolled back before its fault\n");
		return -1;
	}
	stack_control(s->green_control, "green-coord",
	              "{\"fail_ratio\":0.5,\"error_type\":\"INTERNAL_ERROR\"}");
	bool rolled_back = stack_wait_phase(s, "ROLLED_BACK", "blue", DEADLINE);
	stack_control(s->green_control, "green-coord", "{\"fail_ratio\":0}");
	if (!rolled_back)
		return -1;
	if (stack_statement_running(s->green_control) != b->queries) {
		fprintf(stderr, "switch_loss: green's batch ended before the rollback\n");
		return -1;
	}
	return 0;
}

struct journaled {
	int wanted;
	struct stack_switch_loss entries[2 * MAX_RUNS];
	int count;
};

static bool losses_journaled(void *arg)
{
	struct journaled *j = arg;
	j->count = stack_switch_losses("state/journal.jsonl", j->entries, 2 * MAX_RUNS);
	return j->count >= j->wanted;
}

/* What the collector journaled for RUN's two switches into MODE (-1 where it did not). */
static void collector_counts(struct mode *mode, int run)
{
	static struct journaled j;
	j.wanted = 2 * (run + 1);
	harness_wait_until(losses_journaled, &j, DEADLINE);
	for (int w = 0; w < SWITCH_COUNT; w++) {
		mode->counted[w][run] = -1;
		const char *kind = w == SWITCH_CUTOVER ? "cutover" : "rollback";
		for (int i = 2 * run; i < j.count && i < 2 * run + 2; i++)
			if (strcmp(j.entries[i].kind, kind) == 0 && j.entries[i].counted)
				mode->counted[w][run] = j.entries[i].lost_queries;
	}
}

/* One run: both switches, then every query's outcome counted into MODE. */
static int one_run(struct bench *b, struct mode *mode, int run)
{
	char out[SWITCH_COUNT][600];
	for (int w = 0; w < SWITCH_COUNT; w++)
		snprintf(out[w], sizeof(out[w]), "%s/%s-run%d-%d.out", b->dir,
		         mode->routing ? "routed" : "plain", run, w);
	pid_t batch[SWITCH_COUNT] = {-1, -1};
	int rc = switch_twice(b, batch, out);
	const char *ids[SWITCH_COUNT] = {b->blue_id, b->green_id};
	for (int w = 0; w < SWITCH_COUNT && rc == 0; w++) {
		struct stack_client_outcomes o;
		if (!stack_client_wait(batch[w], 2 * DEADLINE) ||
		    stack_client_outcomes(out[w], ids[w], &o) != 0 || o.done != b->queries ||
		    o.off_cluster != 0) {
			fprintf(stderr,
			        "switch_loss: the client's %s batch did not end as it "
			        "should (see %s)\n",
			        switch_names[w], out[w]);
			rc = -1;
			break;
		}
		mode->lost[w][run] = o.failed;
		if (mode->example[w][0] == '\0' && o.error[0] != '\0')
			snprintf(mode->example[w], sizeof(mode->example[w]), "%s", o.error);
	}
	/* the plain map's orphans are abandoned (client timeout) before the next run */
	if (rc == 0 && (!stack_wait_statement_running(b->stack.blue_control, 0, DEADLINE) ||
	                !stack_wait_statement_running(b->stack.green_control, 0, DEADLINE)))
		rc = -1;
	if (rc == 0)
		collector_counts(mode, run);
	return rc;
}

static int measure(struct bench *b, struct mode *mode)
{
	char *dir = harness_tmpdir("tg-bench-switch-loss");
	if (dir == NULL || chdir(dir) != 0)
		return -1;
	b->dir = dir;
	struct stack_options options = stack_options(mode->routing);
	int rc = stack_start(&b->stack, &options) == 0 &&
	                         stack_wait_ready(&b->stack, mode->routing ? 2 : 0, DEADLINE)
	                 ? 0
	                 : -1;
	stack_coordinator_id(b->stack.blue, b->blue_id, sizeof(b->blue_id));
	stack_coordinator_id(b->stack.green, b->green_id, sizeof(b->green_id));
	for (int run = 0; run < b->runs && rc == 0; run++)
		rc = one_run(b, mode, run);
	harness_stop_all();
	if (rc != 0)
		fprintf(stderr, "switch_loss: %s mode failed; its files are kept in %s\n",
		        mode->name, dir);
	else if (chdir("/") == 0)
		harness_rmrf(dir);
	free(dir);
	return rc;
}

/* Appends VALUE (a "?" when negative) to the space-separated LIST of SIZE bytes. */
static void append_count(char *list, size_t size, long long value)
{
	size_t used = strlen(list);
	if (value < 0)
		snprintf(list + used, size - used, "%s?", used > 0 ? " " : "");
	else
		snprintf(list + used, size - used, "%s%lld", used > 0 ? " " : "", value);
}

static void print_row(const struct bench *b, const struct mode *mode, int w, int *total_out)
{
	char per_run[8 * MAX_RUNS + 1] = "", counted[8 * MAX_RUNS + 1] = "";
	int total = 0, max = 0;
	for (int run = 0; run < b->runs; run++) {
		append_count(per_run, sizeof(per_run), mode->lost[w][run]);
		append_count(counted, sizeof(counted), mode->counted[w][run]);
		total += mode->lost[w][run];
		max = mode->lost[w][run] > max ? mode->lost[w][run] : max;
	}
	char share[32];
	snprintf(share, sizeof(share), "%d/%d", total, b->runs * b->queries);
	printf("| %s | %s | %s | %s | %d | %s |\n", mode->name, switch_names[w], per_run, share,
	       max, counted);
	*total_out = total;
}

static void print_table(const struct bench *b, const struct mode *modes, int count,
                        int *routed_lost)
{
	printf("| mode | switch | lost per run (of %d), as the client saw them | total | max | "
	       "the collector's count per run |\n",
	       b->queries);
	printf("|---|---|---|---|---|---|\n");
	*routed_lost = 0;
	for (int m = 0; m < count; m++) {
		for (int w = 0; w < SWITCH_COUNT; w++) {
			int total;
			print_row(b, &modes[m], w, &total);
			if (modes[m].routing)
				*routed_lost += total;
		}
	}
	for (int m = 0; m < count; m++)
		for (int w = 0; w < SWITCH_COUNT; w++)
			if (modes[m].example[w][0] != '\0')
				printf("%s, %s: e.g. %s\n", modes[m].name, switch_names[w],
				       modes[m].example[w]);
}

static int parse_args(int argc, char **argv, struct bench *b)
{
	b->runs = 10;
	b->queries = 50;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--quick") == 0) {
			b->runs = 1;
			b->queries = 10;
		} else if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc)
			b->runs = atoi(argv[++i]);
		else if (strcmp(argv[i], "--queries") == 0 && i + 1 < argc)
			b->queries = atoi(argv[++i]);
		else
			b->runs = 0;
	}
	if (b->runs < 1 || b->runs > MAX_RUNS || b->queries < 1 || b->queries > 500) {
		fprintf(stderr, "usage: switch_loss [--runs 1-%d] [--queries 1-500] [--quick]\n",
		        MAX_RUNS);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static struct bench b;
	static struct mode modes[] = {{.name = "routing by query id", .routing = true},
	                              {.name = "plain map", .routing = false}};
	if (parse_args(argc, argv, &b) != 0)
		return 2;
	if (!stack_client_installed(&client)) {
		fprintf(stderr, "switch_loss: the npm trino-client is not installed "
		                "(deploy/install-deps.sh)\n");
		return 1;
	}
	printf("switch_loss: %d concurrent queries of the npm trino-client (45 s each) through "
	       "HAProxy across a cutover blue 478 -> green 479 and across the automatic "
	       "rollback when green fails 50 %% of its queries; %d runs per mode\n\n",
	       b.queries, b.runs);
	fflush(stdout);
	for (size_t m = 0; m < sizeof(modes) / sizeof(modes[0]); m++)
		if (measure(&b, &modes[m]) != 0)
			return 1;
	int routed_lost;
	print_table(&b, modes, 2, &routed_lost);
	printf("\ngoal: 0 of %d lost with routing at both switches over %d runs: %s (%d lost)\n",
	       b.queries, b.runs, routed_lost == 0 ? "met" : "NOT met", routed_lost);
	return routed_lost == 0 ? 0 : 1;
}
