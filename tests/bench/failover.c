/*
 * Benchmark: how long from a fault mid-watch to both HAProxies on blue with
 * three collectors in [ha] on a real etcd (ha_stack.h: the sims, an agent
 * per node, two HAProxies). Each run cuts over to green through the leader,
 * waits a random 0.5-3 s into the watch, then either kills the leader with
 * SIGKILL and turns on 50 % INTERNAL_ERROR on green at once, or, beside it
 * in the same run, turns on the failures with the leader alive. It times
 * until both HAProxies' `get map` say bk_blue, and counts the successful LB
 * switches to blue in every collector's journal: more than one in a run is
 * a double switch, and fails the benchmark.
 *
 *   failover [--runs N] [--lease-ttl 5s]   (default 10 runs of each fault)
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ha_stack.h"
#include "harness.h"

static const struct stack_options options = HA_STACK_OPTIONS;

struct tally {
	double seconds[64];
	int runs, double_switches;
};

static int compare(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* Successful LB switches to blue journaled since SEEN. */
static int switches_to_blue(const size_t *seen)
{
	char *since = ha_stack_journals(seen, NULL);
	int count = 0;
	const char *needle = "\"type\":\"lb-switch\",\"cluster\":\"blue\",\"ok\":true";
	for (const char *at = strstr(since, needle); at != NULL; at = strstr(at + 1, needle))
		count++;
	free(since);
	return count;
}

/* A forced cutover to green through the leader, watched on both HAProxies; the leader or -1. */
static int watch_green(const struct ha_stack *h)
{
	ha_stack_green_fails(h, 0);
	int leader = ha_stack_wait_leader(h, 30000);
	if (leader < 0)
		return -1;
	char url[128];
	snprintf(url, sizeof(url), "%s/v1/cutover", h->members[leader].api);
	const char *headers[] = {"Content-Type: application/json", NULL};
	struct harness_response r;
	harness_http("POST", url, headers, "{\"to\":\"green\",\"force\":true}", 15000, &r);
	long status = r.status;
	harness_response_free(&r);
	/* deadlines, not figures: generous for a loaded machine */
	if (status != 202 || !ha_stack_wait_phase(h, leader, "WATCHING", "green", 30000) ||
	    !ha_stack_wait_maps(h, "bk_green", 30000)) {
		fprintf(stderr, "failover: the cutover to green did not start a watch (HTTP %ld)\n",
		        status);
		return -1;
	}
	return leader;
}

static bool on_blue(void *arg)
{
	return ha_stack_maps_say(arg, "bk_blue");
}

/* One run: a watch, a random wait, the fault; the time to blue into TALLY. */
static int run_once(struct ha_stack *h, bool kill_leader, struct tally *tally)
{
	int leader = watch_green(h);
	if (leader < 0)
		return -1;
	size_t seen[HA_MEMBERS];
	free(ha_stack_journals(NULL, seen));
	usleep((useconds_t)(500 + rand() % 2500) * 1000);
	long long fault = harness_now_ms();
	if (kill_leader)
		harness_kill9(h->members[leader].pid);
	ha_stack_green_fails(h, 0.5);
	if (!harness_wait_until(on_blue, h, 60000)) {
		fprintf(stderr, "failover: HAProxy not on blue 60 s after the fault\n");
		return -1;
	}
	tally->seconds[tally->runs++] = (double)(harness_now_ms() - fault) / 1000.0;
	ha_stack_green_fails(h, 0);
	int next = ha_stack_wait_leader(h, 30000);
	if (next < 0 || !ha_stack_wait_phase(h, next, "ROLLED_BACK", "blue", 30000))
		return -1;
	if (switches_to_blue(seen) != 1)
		tally->double_switches++;
	if (kill_leader && ha_stack_start_member(h, &options, leader) != 0)
		return -1;
	return 0;
}

static void print_row(const char *label, struct tally *t, const char *goal)
{
	qsort(t->seconds, (size_t)t->runs, sizeof(double), compare);
	double median = t->runs % 2 ? t->seconds[t->runs / 2]
	                            : (t->seconds[t->runs / 2 - 1] + t->seconds[t->runs / 2]) / 2;
	printf("%-34s %5d %9.2f %9.2f %9.2f %8d   %s\n", label, t->runs, median, t->seconds[0],
	       t->seconds[t->runs - 1], t->double_switches, goal);
}

int main(int argc, char **argv)
{
	int runs = 10;
	const char *lease_ttl = "5s";
	for (int i = 1; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--runs") == 0)
			runs = atoi(argv[i + 1]);
		else if (strcmp(argv[i], "--lease-ttl") == 0)
			lease_ttl = argv[i + 1];
		else
			runs = 0;
	}
	if (runs < 1 || runs > 64 || argc % 2 == 0) {
		fprintf(stderr, "usage: failover [--runs N (1-64)] [--lease-ttl 5s]\n");
		return 2;
	}
	srand((unsigned)time(NULL));
	char *dir = harness_tmpdir("tg-bench-failover");
	if (dir == NULL || chdir(dir) != 0)
		return 1;
	struct ha_stack h;
	if (ha_stack_start(&h, &options, lease_ttl, false) != 0 ||
	    ha_stack_wait_leader(&h, 30000) < 0) {
		fprintf(stderr, "failover: the stack did not come up (see %s)\n", dir);
		return 1;
	}
	struct tally alive = {0}, killed = {0};
	int rc = 0;
	for (int run = 0; run < runs && rc == 0; run++)
		rc = run_once(&h, false, &alive) != 0 || run_once(&h, true, &killed) != 0;
	if (rc != 0) {
		fprintf(stderr, "failover: a run did not complete (see %s)\n", dir);
		harness_stop_all();
		return 1;
	}
	char goal[64];
	int ttl_s = atoi(lease_ttl);
	snprintf(goal, sizeof(goal), "median <= %d s (lease_ttl + 1 s)", ttl_s + 1);
	printf("failover: fault mid-watch to both HAProxies on blue; 3 collectors, lease_ttl %s, "
	       "green 50 %% INTERNAL_ERROR at 100 qps\n",
	       lease_ttl);
	printf("%-34s %5s %9s %9s %9s %8s   %s\n", "fault", "runs", "median s", "min s", "max s",
	       "doubles", "goal");
	print_row("green fails, leader alive", &alive, "the reference");
	print_row("leader kill -9, then green fails", &killed, goal);
	harness_stop_all();
	if (chdir("/") == 0)
		harness_rmrf(dir);
	free(dir);
	return alive.double_switches + killed.double_switches > 0;
}
