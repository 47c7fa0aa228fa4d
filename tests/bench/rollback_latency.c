/*
 * Benchmark: how long from a fault in the new cluster to HAProxy sending users
 * back. Real processes (trino-sim blue and green, one agent per node, the
 * collector with the haproxy driver, a real HAProxy): each run cuts over to
 * green, lets it settle, injects 50 % INTERNAL_ERROR at 100 qps through the
 * sim's control API, and times until HAProxy's `get map` says bk_blue.
 * Reports every 200 ms (tick 100 ms), then the defaults (1 s, tick 250 ms).
 *
 *   rollback_latency [--runs N]   (default 10 per setting)
 */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "stack.h"

static int compare(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static bool steady(void *arg)
{
	const struct stack *s = arg;
	char url[128];
	snprintf(url, sizeof(url), "%s/v1/status", s->api);
	char *body = harness_get_ok(url);
	json_t *status = body != NULL ? json_loads(body, 0, NULL) : NULL;
	bool ok = status != NULL && json_array_size(json_object_get(status, "findings")) == 0 &&
	          !json_is_true(json_object_get(status, "warming_up"));
	json_decref(status);
	free(body);
	return ok;
}

static int measure(const char *interval, const char *tick, int runs, double *out)
{
	char *dir = harness_tmpdir("tg-bench-rollback");
	if (dir == NULL || chdir(dir) != 0)
		return -1;
	struct stack_options options = {
	        .blue_version = "446",
	        .green_version = "447",
	        .workers = 1,
	        .agent_interval = interval,
	        .tick = tick,
	        .sim_bin = TG_SIM_BIN,
	        .agent_bin = TG_AGENT_BIN,
	        .collector_bin = TG_COLLECTOR_BIN,
	        .haproxy_bin = TG_HAPROXY_BIN,
	};
	struct stack s;
	if (stack_start(&s, &options) != 0 || !harness_wait_until(steady, &s, 30000)) {
		fprintf(stderr, "rollback_latency: the stack did not come up (see %s)\n", dir);
		return -1;
	}
	char cutover_url[128];
	snprintf(cutover_url, sizeof(cutover_url), "%s/v1/cutover", s.api);
	for (int run = 0; run < runs; run++) {
		struct harness_response r;
		harness_http("POST", cutover_url, NULL, "{\"to\":\"green\",\"force\":true}", 30000,
		             &r);
		/* deadlines, not figures: generous for a loaded or sanitized build */
		if (!stack_wait_phase(&s, "WATCHING", NULL, 30000)) {
			fprintf(stderr,
			        "rollback_latency: no watch after the cutover (HTTP %ld: %s)\n",
			        r.status, r.body != NULL ? r.body : "");
			harness_response_free(&r);
			return -1;
		}
		harness_response_free(&r);
		usleep(2000 * 1000); /* green serving normally for a while */
		long long fault = harness_now_ms();
		stack_control(s.green_control, "green-coord",
		              "{\"fail_ratio\":0.5,\"error_type\":\"INTERNAL_ERROR\"}");
		char backend[64] = "";
		while (harness_now_ms() - fault < 60000) {
			stack_get_map(&s, backend, sizeof(backend));
			if (strcmp(backend, "bk_blue") == 0)
				break;
			usleep(5000);
		}
		out[run] = (double)(harness_now_ms() - fault) / 1000.0;
		stack_control(s.green_control, "green-coord", "{\"fail_ratio\":0}");
		if (strcmp(backend, "bk_blue") != 0 ||
		    !stack_wait_phase(&s, "ROLLED_BACK", NULL, 10000)) {
			fprintf(stderr, "rollback_latency: no rollback in run %d\n", run);
			return -1;
		}
	}
	harness_stop_all();
	if (chdir("/") == 0)
		harness_rmrf(dir);
	free(dir);
	return 0;
}

int main(int argc, char **argv)
{
	int runs = 10;
	if (argc == 3 && strcmp(argv[1], "--runs") == 0)
		runs = atoi(argv[2]);
	if (runs < 1) {
		fprintf(stderr, "usage: rollback_latency [--runs N]\n");
		return 2;
	}
	struct {
		const char *interval, *tick, *target;
	} settings[] = {{"200ms", "100ms", "<= 1.0 s median"}, {"1s", "250ms", "<= 3 s median"}};
	printf("rollback_latency: fault (50 %% INTERNAL_ERROR at 100 qps) to HAProxy's get map "
	       "showing blue, %d runs each\n",
	       runs);
	printf("%-22s %9s %9s %9s %9s   %s\n", "agent interval / tick", "median s", "p95 s",
	       "min s", "max s", "target");
	double *seconds = calloc((size_t)runs, sizeof(double));
	for (size_t i = 0; i < 2; i++) {
		if (measure(settings[i].interval, settings[i].tick, runs, seconds) != 0)
			return 1;
		qsort(seconds, (size_t)runs, sizeof(double), compare);
		int p95 = (int)ceil(0.95 * runs) - 1;
		char label[64];
		snprintf(label, sizeof(label), "%s / %s", settings[i].interval, settings[i].tick);
		printf("%-22s %9.2f %9.2f %9.2f %9.2f   %s\n", label,
		       runs % 2 ? seconds[runs / 2]
		                : (seconds[runs / 2 - 1] + seconds[runs / 2]) / 2,
		       seconds[p95], seconds[0], seconds[runs - 1], settings[i].target);
		fflush(stdout);
	}
	free(seconds);
	return 0;
}
