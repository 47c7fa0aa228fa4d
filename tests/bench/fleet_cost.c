/*
 * Benchmark: what a fleet costs the collector at its normal load, not a
 * flood. N simulated nodes (one CURVE key pair and connection each, as real
 * agents) report once a second; the real trino-guard-collector takes them
 * while its rules tick, then, in the same run with the same keys and
 * allow-list, a bare SUB socket that only counts (the floor). For each: CPU
 * share of one core, RSS, the collector's tick p50/p99, and instructions per
 * report counted by valgrind's callgrind over the same kind of window (all
 * threads, libzmq's CURVE included; repeatable on a loaded machine, unlike
 * CPU time).
 *
 *   fleet_cost [--nodes N ...] [--seconds S] [--no-callgrind]
 *              (default: 1000 and 10000 nodes, 20 s windows)
 *
 * Internal modes, shared with collector_ingest (ingest_generator.c,
 * ingest_bare_sub.c): --generate ... and --bare-sub ...
 */
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

#include "fleet_probe.h"
#include "harness.h"
#include "ingest_bare_sub.h"
#include "ingest_generator.h"

#define GENERATORS 2
#define VALGRIND   "/usr/bin/valgrind"
/* The allow-list's place for the bench's nodes, all workers of cluster bench. */
#define BENCH_KEYS "keys/bench/worker"

/* One receiver's figures over its window. */
struct receiver_figures {
	double reports_per_s;
	double cpu_percent;
	long rss_kib;
	double tick_p50_s, tick_p99_s; /* the collector's only */
	double ir_per_report;          /* -1 without callgrind */
	double callgrind_reports_per_s;
	double callgrind_handshakes_per_s;
};

/* One run's shared setting: where, which endpoint and keys, how long. */
struct run {
	size_t nodes;
	int seconds;
	bool callgrind;
	const char *self;
	char endpoint[64], api[64], metrics_url[96];
	char server_public[41], server_secret[41];
};

static size_t count_keys(const char *dir)
{
	size_t n = 0;
	DIR *d = opendir(dir);
	struct dirent *e;
	while (d != NULL && (e = readdir(d)) != NULL) {
		size_t len = strlen(e->d_name);
		n += len > 4 && strcmp(e->d_name + len - 4, ".pub") == 0;
	}
	if (d != NULL)
		closedir(d);
	return n;
}

static bool all_keys_written(void *arg)
{
	const struct run *run = arg;
	return count_keys(BENCH_KEYS) >= run->nodes;
}

static bool all_live(void *arg)
{
	const struct run *run = arg;
	char *text = fleet_fetch(run->metrics_url, true); /* not up yet is expected */
	double live = text != NULL ? metric_value(text, "trino_guard_nodes{cluster=\"bench\","
	                                                "liveness=\"live\"}")
	                           : -1;
	free(text);
	return live >= (double)run->nodes;
}

/* ARGV, or ARGV under callgrind writing PREFIX.N, into OUT (room for 16). */
static void wrap_argv(const char *const *argv, bool callgrind, const char *prefix, char *out_file,
                      size_t out_file_size, const char *out[16])
{
	size_t n = 0;
	if (callgrind) {
		snprintf(out_file, out_file_size, "--callgrind-out-file=%s", prefix);
		out[n++] = VALGRIND;
		out[n++] = "--tool=callgrind";
		out[n++] = out_file;
	}
	while (*argv != NULL && n < 15)
		out[n++] = *argv++;
	out[n] = NULL;
}

static pid_t start_collector(const struct run *run, bool callgrind)
{
	char ini[1024];
	snprintf(ini, sizeof(ini),
	         "[collector]\nlisten = %s\nsecret_key_file = server.key\nallowed_keys_dir = keys\n"
	         "state_dir = state\ntick = 250ms\nlog_level = error\n[api]\nlisten = %s\n"
	         "[cluster.bench]\nmin_workers = 0\nstale_after = 1h\n",
	         run->endpoint, run->api);
	harness_write_file("collector.ini", ini);
	const char *argv[] = {TG_COLLECTOR_BIN, "-c", "collector.ini", NULL};
	const char *wrapped[16];
	char out_file[64];
	wrap_argv(argv, callgrind, "collector.cg", out_file, sizeof(out_file), wrapped);
	return harness_spawn(wrapped, callgrind ? "collector-callgrind.log" : "collector.log");
}

/*
 * A receiver is steady when it takes the fleet at a steady rate: three looks
 * in a row within 10 % of the look before, at least half the fleet a second
 * (nodes still connecting) and not more than the fleet (the reports the agents
 * queued while no receiver was bound). Not "N a second": on a loaded machine
 * the generators' rounds take a while beyond their second.
 */
struct rate_wait {
	const struct run *run;
	double last_count, last_s, last_rate;
	int steady_looks;
};

static bool rate_steady(struct rate_wait *wait, double count, double now_s)
{
	if (count < 0)
		return false;
	if (wait->last_s > 0 && now_s > wait->last_s) {
		double rate = (count - wait->last_count) / (now_s - wait->last_s);
		double nodes = (double)wait->run->nodes;
		bool steady = rate >= 0.5 * nodes && rate <= 1.1 * nodes &&
		              rate >= 0.9 * wait->last_rate && rate <= 1.1 * wait->last_rate;
		wait->steady_looks = steady ? wait->steady_looks + 1 : 0;
		wait->last_rate = rate;
	}
	wait->last_count = count;
	wait->last_s = now_s;
	return wait->steady_looks >= 3;
}

/* The collector's count of reports received, once a second or so. */
static bool collector_steady(void *arg)
{
	struct rate_wait *wait = arg;
	if (wait->last_s > 0 && (double)harness_now_ms() / 1000.0 < wait->last_s + 1)
		return false;
	char *text = fleet_fetch(wait->run->metrics_url, true);
	double count = text != NULL ? metric_value(text, "trino_guard_reports_received_total") : -1;
	free(text);
	return rate_steady(wait, count, (double)harness_now_ms() / 1000.0);
}

/*
 * The collector natively over one window once every node is live: its
 * counters and tick histogram from /metrics, its CPU and RSS from /proc.
 */
static int measure_collector(const struct run *run, struct receiver_figures *fig)
{
	pid_t pid = start_collector(run, false);
	struct rate_wait wait = {run, 0, 0, 0, 0};
	bool live = harness_wait_until(all_live, (void *)run, 300000);
	if (!live || !harness_wait_until(collector_steady, &wait, 180000)) {
		fprintf(stderr,
		        "fleet_cost: the collector did not take every node's reports (%s; last "
		        "rate %.0f reports/s)\n",
		        live ? "every node live" : "not every node live", wait.last_rate);
		harness_stop(pid, 10000);
		return -1;
	}
	struct process_usage u0, u1;
	long long t0 = harness_now_ms();
	char *before = fleet_fetch(run->metrics_url, false);
	int rc0 = process_usage_read(pid, &u0);
	usleep((useconds_t)run->seconds * 1000000);
	int rc1 = process_usage_read(pid, &u1);
	char *after = fleet_fetch(run->metrics_url, false);
	long long t1 = harness_now_ms();
	harness_stop(pid, 30000);
	int rc = -1;
	if (before != NULL && after != NULL && rc0 == 0 && rc1 == 0) {
		double elapsed_s = (double)(t1 - t0) / 1000.0;
		fig->reports_per_s = (metric_value(after, "trino_guard_reports_received_total") -
		                      metric_value(before, "trino_guard_reports_received_total")) /
		                     elapsed_s;
		fig->cpu_percent = process_cpu_percent(&u0, &u1, elapsed_s);
		fig->rss_kib = u1.rss_kib;
		fig->tick_p50_s = tick_quantile_between(before, after, 0.50);
		fig->tick_p99_s = tick_quantile_between(before, after, 0.99);
		rc = 0;
	} else {
		fprintf(stderr, "fleet_cost: the collector's window failed (see collector.log)\n");
	}
	free(before);
	free(after);
	return rc;
}

/*
 * The collector's instructions per report under callgrind. It cannot keep up
 * with the fleet there, so more of its ticks fall on each report than at full
 * speed; the ticks (on_tick, with what they call) are put back at the rate
 * they have natively: 4 a second (tick 250ms) over the reports a second the
 * native window took.
 */
static int measure_collector_callgrind(const struct run *run, struct receiver_figures *fig)
{
	pid_t pid = start_collector(run, true);
	struct callgrind_window_result result;
	int rc = callgrind_window(pid, "collector.cg", "report_decode", "on_tick", "on_zap",
	                          run->seconds, &result);
	harness_stop(pid, 30000);
	if (rc != 0) {
		fprintf(stderr, "fleet_cost: no window of the collector under callgrind "
		                "(see collector-callgrind.log)\n");
		return -1;
	}
	fig->callgrind_reports_per_s = result.messages_per_s;
	fig->callgrind_handshakes_per_s = result.handshakes_per_s;
	fig->ir_per_report = result.ir_per_message;
	if (fig->reports_per_s > 0)
		fig->ir_per_report += result.tick_ir * 4 / fig->reports_per_s;
	return 0;
}

/* The bare SUB's progress: the last "count N" line of bare.out and how many there are. */
static long long bare_count(int *lines)
{
	char *text = harness_read_file("bare.out");
	long long count = -1;
	*lines = 0;
	for (const char *at = text; at != NULL && (at = strstr(at, "count ")) != NULL; at += 6) {
		count = atoll(at + 6);
		(*lines)++;
	}
	free(text);
	return count;
}

/* The bare SUB's progress lines: one a second of its own. */
static bool bare_steady(void *arg)
{
	struct rate_wait *wait = arg;
	int lines;
	long long count = bare_count(&lines);
	if (lines <= (int)wait->last_s)
		return false;
	return rate_steady(wait, (double)count, (double)lines);
}

static pid_t start_bare(const struct run *run, bool callgrind)
{
	unlink("bare.out");
	const char *argv[] = {run->self,  "--bare-sub", run->endpoint, run->server_secret,
	                      BENCH_KEYS, "86400",      NULL};
	const char *wrapped[16];
	char out_file[64];
	wrap_argv(argv, callgrind, "bare.cg", out_file, sizeof(out_file), wrapped);
	return harness_spawn_split(wrapped, "bare.out", "bare.err");
}

/*
 * The bare SUB natively over one window once it takes the whole fleet: its
 * count from its progress lines (one a second, so the rate is over whole
 * seconds of its own), CPU and RSS from /proc.
 */
static int measure_bare(const struct run *run, struct receiver_figures *fig)
{
	pid_t pid = start_bare(run, false);
	struct rate_wait wait = {run, 0, 0, 0, 0};
	if (!harness_wait_until(bare_steady, &wait, 180000)) {
		fprintf(stderr, "fleet_cost: the bare SUB did not take the fleet (see bare.err)\n");
		harness_stop(pid, 10000);
		return -1;
	}
	struct process_usage u0, u1;
	int lines0, lines1;
	long long t0 = harness_now_ms(), c0 = bare_count(&lines0);
	int rc0 = process_usage_read(pid, &u0);
	usleep((useconds_t)run->seconds * 1000000);
	int rc1 = process_usage_read(pid, &u1);
	long long c1 = bare_count(&lines1), t1 = harness_now_ms();
	harness_stop(pid, 30000);
	if (rc0 != 0 || rc1 != 0 || lines1 <= lines0) {
		fprintf(stderr, "fleet_cost: the bare SUB's window failed (see bare.err)\n");
		return -1;
	}
	fig->reports_per_s = (double)(c1 - c0) / (lines1 - lines0);
	fig->cpu_percent = process_cpu_percent(&u0, &u1, (double)(t1 - t0) / 1000.0);
	fig->rss_kib = u1.rss_kib;
	return 0;
}

/* The bare SUB's instructions per message under callgrind (its ZAP thread's included). */
static int measure_bare_callgrind(const struct run *run, struct receiver_figures *fig)
{
	pid_t pid = start_bare(run, true);
	struct callgrind_window_result result;
	int rc = callgrind_window(pid, "bare.cg", "ingest_bare_sub_took", "(no tick)", "zap_thread",
	                          run->seconds, &result);
	harness_stop(pid, 30000);
	if (rc != 0) {
		fprintf(stderr,
		        "fleet_cost: no window of the bare SUB under callgrind (see bare.err)\n");
		return -1;
	}
	fig->callgrind_reports_per_s = result.messages_per_s;
	fig->callgrind_handshakes_per_s = result.handshakes_per_s;
	fig->ir_per_report = result.ir_per_message;
	return 0;
}

/* The collector's CURVE key pair; the secret half in server.key for it to read. */
static int write_server_key(struct run *run)
{
	if (zmq_curve_keypair(run->server_public, run->server_secret) != 0)
		return -1;
	char text[64];
	snprintf(text, sizeof(text), "%s\n", run->server_secret);
	if (harness_write_file("server.key", text) != 0)
		return -1;
	return chmod("server.key", 0600);
}

/* Generators, each making its share of the nodes' keys, connecting and sending once a second. */
static void spawn_generators(const struct run *run, pid_t generators[GENERATORS])
{
	for (size_t i = 0; i < GENERATORS; i++) {
		size_t first = run->nodes * i / GENERATORS,
		       last = run->nodes * (i + 1) / GENERATORS;
		char first_text[32], count_text[32], log[64];
		snprintf(first_text, sizeof(first_text), "%zu", first);
		snprintf(count_text, sizeof(count_text), "%zu", last - first);
		snprintf(log, sizeof(log), "generator-%zu.log", i);
		const char *argv[] = {run->self,  "--generate", run->endpoint, run->server_public,
		                      BENCH_KEYS, first_text,   count_text,    NULL};
		generators[i] = harness_spawn(argv, log);
	}
}

/* Every window of one fleet size: the collector, then the bare SUB, natively and under callgrind. */
static int measure_all(const struct run *run, struct receiver_figures *collector,
                       struct receiver_figures *bare)
{
	*collector = *bare = (struct receiver_figures){.ir_per_report = -1};
	if (measure_collector(run, collector) != 0 ||
	    (run->callgrind && measure_collector_callgrind(run, collector) != 0))
		return -1;
	if (measure_bare(run, bare) != 0 ||
	    (run->callgrind && measure_bare_callgrind(run, bare) != 0))
		return -1;
	return 0;
}

static void print_row(const struct run *run, const struct receiver_figures *c,
                      const struct receiver_figures *b)
{
	char ir[32] = "-", bare_ir[32] = "-", ratio[32] = "-";
	if (c->ir_per_report > 0 && b->ir_per_report > 0) {
		snprintf(ir, sizeof(ir), "%.0f", c->ir_per_report);
		snprintf(bare_ir, sizeof(bare_ir), "%.0f", b->ir_per_report);
		snprintf(ratio, sizeof(ratio), "%.2f", c->ir_per_report / b->ir_per_report);
	}
	printf("%-7zu %10.0f %9.2f %9.1f %8.3f %8.3f %11s %9.2f %9.1f %11s %7s\n", run->nodes,
	       c->reports_per_s, c->cpu_percent, c->rss_kib / 1024.0, c->tick_p50_s * 1000,
	       c->tick_p99_s * 1000, ir, b->cpu_percent, b->rss_kib / 1024.0, bare_ir, ratio);
	if (run->callgrind)
		printf("        (under callgrind the collector took %.0f reports/s and %.1f "
		       "handshakes/s, the bare SUB %.0f and %.1f)\n",
		       c->callgrind_reports_per_s, c->callgrind_handshakes_per_s,
		       b->callgrind_reports_per_s, b->callgrind_handshakes_per_s);
	fflush(stdout);
}

/* Notes a goal at 10,000 nodes: "goal: ... met" or "MISSED". */
static void print_goals(const struct run *run, const struct receiver_figures *c,
                        const struct receiver_figures *b)
{
	if (run->nodes != 10000)
		return;
	printf("goal at 10,000 nodes x 1 Hz: collector <= 25 %% of a core: %.1f %%, %s\n",
	       c->cpu_percent, c->cpu_percent <= 25 ? "met" : "MISSED");
	printf("goal at 10,000 nodes x 1 Hz: collector RSS <= 512 MiB: %.0f MiB, %s\n",
	       c->rss_kib / 1024.0, c->rss_kib <= 512 * 1024 ? "met" : "MISSED");
	if (c->ir_per_report > 0 && b->ir_per_report > 0)
		printf("goal at 10,000 nodes x 1 Hz: instructions per report <= 2 x the bare "
		       "SUB's: %.2f x, %s\n",
		       c->ir_per_report / b->ir_per_report,
		       c->ir_per_report <= 2 * b->ir_per_report ? "met" : "MISSED");
}

/* One fleet size, in a directory of its own; -1 after printing why. */
static int run_size(struct run *run)
{
	char *dir = harness_tmpdir("tg-bench-fleet");
	if (dir == NULL || chdir(dir) != 0 || mkdir("keys", 0755) != 0 ||
	    mkdir("keys/bench", 0755) != 0 || mkdir(BENCH_KEYS, 0755) != 0 ||
	    write_server_key(run) != 0) {
		fprintf(stderr, "fleet_cost: cannot set up a directory for the run\n");
		return -1;
	}
	int port = harness_port_range(2);
	snprintf(run->endpoint, sizeof(run->endpoint), "tcp://127.0.0.1:%d", port);
	snprintf(run->api, sizeof(run->api), "127.0.0.1:%d", port + 1);
	snprintf(run->metrics_url, sizeof(run->metrics_url), "http://%s/metrics", run->api);
	pid_t generators[GENERATORS];
	spawn_generators(run, generators);
	struct receiver_figures collector, bare;
	int rc = -1;
	if (!harness_wait_until(all_keys_written, run, 300000))
		fprintf(stderr, "fleet_cost: the generators did not make every key (see %s)\n",
		        dir);
	else if (measure_all(run, &collector, &bare) == 0)
		rc = 0;
	for (size_t i = 0; i < GENERATORS; i++)
		harness_stop(generators[i], 10000);
	if (rc == 0) {
		print_row(run, &collector, &bare);
		print_goals(run, &collector, &bare);
		if (chdir("/") == 0)
			harness_rmrf(dir);
	} else {
		fprintf(stderr, "fleet_cost: left %s for a look\n", dir);
	}
	free(dir);
	return rc;
}

/* One connection per simulated node: two descriptors each in a generator. */
static void raise_fd_limit(size_t largest)
{
	struct rlimit limit;
	getrlimit(RLIMIT_NOFILE, &limit);
	limit.rlim_cur = limit.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &limit) != 0 ||
	    limit.rlim_cur < 2 * largest / GENERATORS + 256)
		fprintf(stderr, "fleet_cost: fd limit %llu may be too low\n",
		        (unsigned long long)limit.rlim_cur);
}

int main(int argc, char **argv)
{
	if (argc == 6 && strcmp(argv[1], "--bare-sub") == 0)
		return ingest_bare_sub_main(argv[2], argv[3], argv[4], atoi(argv[5]));
	if (argc == 7 && strcmp(argv[1], "--generate") == 0)
		return ingest_generator_main(argv[2], argv[3], argv[4], (size_t)atol(argv[5]),
		                             (size_t)atol(argv[6]));
	size_t sizes[8], size_count = 0;
	int seconds = 20;
	bool callgrind = true;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--nodes") == 0 && i + 1 < argc && size_count < 8)
			sizes[size_count++] = (size_t)atol(argv[++i]);
		else if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc)
			seconds = atoi(argv[++i]);
		else if (strcmp(argv[i], "--no-callgrind") == 0)
			callgrind = false;
		else {
			fprintf(stderr, "usage: fleet_cost [--nodes N ...] [--seconds S] "
			                "[--no-callgrind]\n");
			return 2;
		}
	}
	if (size_count == 0) {
		sizes[size_count++] = 1000;
		sizes[size_count++] = 10000;
	}
	if (callgrind && access(VALGRIND, X_OK) != 0) {
		fprintf(stderr, "fleet_cost: %s is missing (deploy/install-deps.sh)\n", VALGRIND);
		return 1;
	}
	raise_fd_limit(sizes[size_count - 1]);
	char self[4096];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	self[n > 0 ? n : 0] = '\0';
	printf("fleet_cost: every node reports once a second over CURVE (one key and connection "
	       "each); %d s windows; tick 250ms\n"
	       "CPU: %% of one core; RSS now; Ir: instructions per report under callgrind, all "
	       "threads; bare: a SUB with the same keys and allow-list that only counts\n",
	       seconds);
	printf("%-7s %10s %9s %9s %8s %8s %11s %9s %9s %11s %7s\n", "nodes", "reports/s", "CPU %",
	       "RSS MiB", "tick p50", "tick p99", "Ir/report", "bare CPU", "bare RSS", "bare Ir",
	       "Ir x");
	for (size_t i = 0; i < size_count; i++) {
		struct run run = {.nodes = sizes[i],
		                  .seconds = seconds,
		                  .callgrind = callgrind,
		                  .self = self};
		if (run_size(&run) != 0)
			return 1;
	}
	printf("tick p50/p99 in ms, from the collector's histogram over the window\n");
	return 0;
}
