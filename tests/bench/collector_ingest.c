/*
 * Benchmark: collector ingest. A load generator publishes valid reports for N
 * simulated nodes (one CURVE key pair and one connection each, as real
 * agents) as fast as it can for a few seconds, into the real
 * trino-guard-collector while its rules tick, then into a bare SUB socket
 * with the same keys and ZAP allow-list that only counts messages (the
 * ceiling). Prints reports/s, tick p50/p99 (interpolated from the
 * collector's histogram), the collector's peak RSS, and the ratio.
 *
 *   collector_ingest [--nodes N ...] [--seconds S]   (default: 1000 and 10000 nodes, 10 s)
 *
 * Internal modes (the benchmark runs itself in other processes, since every
 * simulated node costs the generator two file descriptors), in
 * ingest_generator.c and ingest_bare_sub.c:
 *   collector_ingest --generate ENDPOINT SERVER_PUBLIC KEYS_DIR FIRST COUNT
 *   collector_ingest --bare-sub ENDPOINT SECRET KEYS_DIR SECONDS
 */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "harness.h"
#include "ingest_bare_sub.h"
#include "ingest_generator.h"

static long long now_ms(void)
{
	return harness_now_ms();
}

/* GET with a generous timeout: /metrics of 10k nodes is a few MB. */
static char *fetch_quietly(const char *url, bool quiet)
{
	struct harness_response response;
	if (harness_http("GET", url, NULL, NULL, 30000, &response) != 0 || response.status != 200) {
		if (!quiet)
			fprintf(stderr, "collector_ingest: GET %s: %ld %s\n", url, response.status,
			        response.error);
		harness_response_free(&response);
		return NULL;
	}
	return response.body;
}

static char *fetch(const char *url)
{
	return fetch_quietly(url, false);
}

/* The allow-list's place for the bench's nodes, all workers of cluster bench. */
#define BENCH_KEYS "keys/bench/worker"

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

static double metric_value(const char *text, const char *sample)
{
	char line[256];
	snprintf(line, sizeof(line), "\n%s ", sample);
	const char *at = strstr(text, line);
	return at != NULL ? strtod(at + strlen(line), NULL) : -1;
}

/* Quantile Q of the tick histogram, interpolated linearly within its bucket. */
static double tick_quantile(const char *metrics, double q)
{
	static const char *const bounds[] = {"0.0001", "0.00025", "0.0005", "0.001",
	                                     "0.0025", "0.005",   "0.01",   "0.025",
	                                     "0.05",   "0.1",     "0.25",   "1"};
	double total = metric_value(metrics, "trino_guard_tick_duration_seconds_count");
	double previous_bound = 0, previous_count = 0;
	for (size_t i = 0; i < sizeof(bounds) / sizeof(bounds[0]); i++) {
		char sample[128];
		snprintf(sample, sizeof(sample),
		         "trino_guard_tick_duration_seconds_bucket{le=\"%s\"}", bounds[i]);
		double count = metric_value(metrics, sample);
		double bound = atof(bounds[i]);
		if (count >= q * total) {
			double in_bucket = count - previous_count;
			double fraction =
			        in_bucket > 0 ? (q * total - previous_count) / in_bucket : 0;
			return previous_bound + fraction * (bound - previous_bound);
		}
		previous_bound = bound;
		previous_count = count;
	}
	return 1.0;
}

static long current_rss_kib(pid_t pid)
{
	char path[64], line[256];
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	FILE *f = fopen(path, "r");
	long kib = -1;
	while (f != NULL && fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "VmRSS: %ld kB", &kib) == 1)
			break;
	if (f != NULL)
		fclose(f);
	return kib;
}

static long peak_rss_kib(pid_t pid)
{
	char path[64], line[256];
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	FILE *f = fopen(path, "r");
	long kib = -1;
	while (f != NULL && fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "VmHWM: %ld kB", &kib) == 1)
			break;
	if (f != NULL)
		fclose(f);
	return kib;
}

#define GENERATORS 2

struct live_goal {
	const char *url;
	size_t nodes;
};

static bool all_live(void *arg)
{
	struct live_goal *goal = arg;
	char *text = fetch_quietly(goal->url, true); /* not up yet is expected */
	double live = text != NULL ? metric_value(text, "trino_guard_nodes{cluster=\"bench\","
	                                                "liveness=\"live\"}")
	                           : -1;
	free(text);
	return live >= (double)goal->nodes;
}

/* What the collector did under the flood, and at one report a second before it. */
struct flood_figures {
	double elapsed_s;
	double received;
	double accepted;
	double p50_s, p99_s;
	long steady_rss_kib;
	long peak_rss_kib;
};

/* The collector's CURVE key pair; the secret half in server.key for it to read. */
static void write_server_key(char server_public[41], char server_secret[41])
{
	zmq_curve_keypair(server_public, server_secret);
	FILE *f = fopen("server.key", "w");
	fprintf(f, "%s\n", server_secret);
	fclose(f);
	chmod("server.key", 0600);
}

/* Generators, each making its share of the nodes' keys, connecting and sending. */
static void spawn_generators(size_t nodes, const char *self, const char *endpoint,
                             const char *server_public, pid_t generators[GENERATORS])
{
	for (size_t i = 0; i < GENERATORS; i++) {
		size_t first = nodes * i / GENERATORS, last = nodes * (i + 1) / GENERATORS;
		char first_text[32], count_text[32], log[64];
		snprintf(first_text, sizeof(first_text), "%zu", first);
		snprintf(count_text, sizeof(count_text), "%zu", last - first);
		snprintf(log, sizeof(log), "generator-%zu.log", i);
		const char *argv[] = {self,       "--generate", endpoint,   server_public,
		                      BENCH_KEYS, first_text,   count_text, NULL};
		generators[i] = harness_spawn(argv, log);
	}
}

/* The collector, once every node's key is in keys/ (its allow-list is read at start). */
static pid_t start_collector(size_t nodes, const char *endpoint, const char *api)
{
	long long deadline = now_ms() + 120000;
	while (count_keys(BENCH_KEYS) < nodes && now_ms() < deadline)
		usleep(50000);
	char ini[1024];
	snprintf(ini, sizeof(ini),
	         "[collector]\nlisten = %s\nsecret_key_file = server.key\nallowed_keys_dir = keys\n"
	         "state_dir = state\ntick = 250ms\nlog_level = error\n[api]\nlisten = %s\n"
	         "[cluster.bench]\nmin_workers = 0\nstale_after = 1h\n",
	         endpoint, api);
	harness_write_file("collector.ini", ini);
	const char *argv[] = {TG_COLLECTOR_BIN, "-c", "collector.ini", NULL};
	return harness_spawn(argv, "collector.log");
}

/*
 * RSS at one report a second, then the flood: the collector's counters and
 * tick histogram over SECONDS. Stops the collector. -1 after printing why.
 */
static int measure_flood(pid_t collector, const pid_t generators[GENERATORS],
                         const char *metrics_url, int seconds, const char *dir,
                         struct flood_figures *fig)
{
	usleep(3000000); /* every node at one report a second: the normal state */
	fig->steady_rss_kib = current_rss_kib(collector);
	for (size_t i = 0; i < GENERATORS; i++)
		kill(generators[i], SIGUSR1);
	usleep(2000000); /* let the flood reach a steady state */
	char *before = fetch(metrics_url);
	long long t0 = now_ms();
	usleep((useconds_t)seconds * 1000000);
	char *after = fetch(metrics_url);
	long long t1 = now_ms();
	if (before == NULL || after == NULL) {
		fprintf(stderr,
		        "collector_ingest: the collector's /metrics did not answer (see "
		        "%s/collector.log)\n",
		        dir);
		return -1;
	}
	fig->elapsed_s = (double)(t1 - t0) / 1000.0;
	fig->received = metric_value(after, "trino_guard_reports_received_total") -
	                metric_value(before, "trino_guard_reports_received_total");
	fig->accepted = metric_value(after, "trino_guard_reports_accepted_total") -
	                metric_value(before, "trino_guard_reports_accepted_total");
	fig->p50_s = tick_quantile(after, 0.50);
	fig->p99_s = tick_quantile(after, 0.99);
	fig->peak_rss_kib = peak_rss_kib(collector);
	free(before);
	free(after);
	harness_stop(collector, 5000);
	return 0;
}

/*
 * The ceiling: a bare SUB with the same keys fed by the same generators,
 * which are stopped after it. Returns its reports/s, or 0 when it failed.
 */
static double measure_bare_ceiling(const char *self, const char *endpoint,
                                   const char *server_secret, int seconds, const char *dir,
                                   const pid_t generators[GENERATORS])
{
	char command[2048];
	snprintf(command, sizeof(command),
	         "'%s' --bare-sub '%s' '%s' " BENCH_KEYS " %d > bare.out 2>&1", self, endpoint,
	         server_secret, seconds);
	if (system(command) != 0)
		fprintf(stderr, "collector_ingest: the bare SUB failed (see %s/bare.out)\n", dir);
	for (size_t i = 0; i < GENERATORS; i++)
		harness_stop(generators[i], 10000);
	char *bare = harness_read_file("bare.out");
	long long bare_count = -1;
	const char *at = bare != NULL ? strstr(bare, "received ") : NULL;
	if (at != NULL)
		bare_count = atoll(at + 9);
	free(bare);
	return bare_count > 0 ? (double)bare_count / seconds : 0;
}

static void print_row(size_t nodes, const struct flood_figures *fig, double ceiling,
                      long long connect_ms)
{
	double rate = fig->received / fig->elapsed_s;
	printf("%-8zu %12.0f %12.0f %12.0f %8.1f%% %10.3f %10.3f %11.1f %11.1f %9.1f\n", nodes,
	       rate, fig->accepted / fig->elapsed_s, ceiling,
	       ceiling > 0 ? 100.0 * rate / ceiling : 0, fig->p50_s * 1000, fig->p99_s * 1000,
	       fig->steady_rss_kib / 1024.0, fig->peak_rss_kib / 1024.0, connect_ms / 1000.0);
	fflush(stdout);
}

/* One row of the table: NODES into the collector, then into the bare SUB. */
static int run(size_t nodes, int seconds, const char *self)
{
	char *dir = harness_tmpdir("tg-bench-ingest");
	if (dir == NULL || chdir(dir) != 0 || mkdir("keys", 0755) != 0 ||
	    mkdir("keys/bench", 0755) != 0 || mkdir(BENCH_KEYS, 0755) != 0)
		return 1;
	char server_public[41], server_secret[41];
	write_server_key(server_public, server_secret);
	int ports = harness_port_range(2);
	char endpoint[64], api[64], metrics_url[96];
	snprintf(endpoint, sizeof(endpoint), "tcp://127.0.0.1:%d", ports);
	snprintf(api, sizeof(api), "127.0.0.1:%d", ports + 1);
	snprintf(metrics_url, sizeof(metrics_url), "http://%s/metrics", api);

	pid_t generators[GENERATORS];
	spawn_generators(nodes, self, endpoint, server_public, generators);
	pid_t collector = start_collector(nodes, endpoint, api);
	struct live_goal goal = {metrics_url, nodes};
	long long connect_start = now_ms();
	if (!harness_wait_until(all_live, &goal, 180000)) {
		fprintf(stderr, "collector_ingest: not every node got through (see %s)\n", dir);
		return 1;
	}
	long long connect_ms = now_ms() - connect_start;
	struct flood_figures fig;
	if (measure_flood(collector, generators, metrics_url, seconds, dir, &fig) != 0)
		return 1;
	double ceiling =
	        measure_bare_ceiling(self, endpoint, server_secret, seconds, dir, generators);
	print_row(nodes, &fig, ceiling, connect_ms);
	if (chdir("/") == 0)
		harness_rmrf(dir);
	free(dir);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 6 && strcmp(argv[1], "--bare-sub") == 0)
		return ingest_bare_sub_main(argv[2], argv[3], argv[4], atoi(argv[5]));
	if (argc == 7 && strcmp(argv[1], "--generate") == 0)
		return ingest_generator_main(argv[2], argv[3], argv[4], (size_t)atol(argv[5]),
		                             (size_t)atol(argv[6]));
	size_t sizes[8];
	size_t size_count = 0;
	int seconds = 10;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--nodes") == 0 && i + 1 < argc && size_count < 8)
			sizes[size_count++] = (size_t)atol(argv[++i]);
		else if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc)
			seconds = atoi(argv[++i]);
		else {
			fprintf(stderr, "usage: collector_ingest [--nodes N ...] [--seconds S]\n");
			return 2;
		}
	}
	if (size_count == 0) {
		sizes[0] = 1000;
		sizes[1] = 10000;
		size_count = 2;
	}
	/* one connection per simulated node: two descriptors each in a generator */
	struct rlimit limit;
	getrlimit(RLIMIT_NOFILE, &limit);
	limit.rlim_cur = limit.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &limit) != 0 ||
	    limit.rlim_cur < 2 * sizes[size_count - 1] / GENERATORS + 256)
		fprintf(stderr, "collector_ingest: fd limit %llu may be too low\n",
		        (unsigned long long)limit.rlim_cur);
	char self[4096];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	self[n > 0 ? n : 0] = '\0';
	printf("collector_ingest: CURVE on, one key and connection per node, %d s per run, "
	       "tick 250ms\n",
	       seconds);
	printf("%-8s %14s %14s %14s %9s %10s %10s %10s %10s\n", "nodes", "ingested/s", "accepted/s",
	       "bare SUB/s", "of bare", "tick p50ms", "tick p99ms", "RSS MiB", "connect s");
	for (size_t i = 0; i < size_count; i++)
		if (run(sizes[i], seconds, self) != 0)
			return 1;
	printf("targets at 10k nodes: >= 200k reports/s (>= 50%% of bare), tick p99 < 5 ms, "
	       "RSS <= 64 MiB\n"
	       "RSS@1Hz: every node reporting once a second (the normal state); peak RSS: under "
	       "the flood, where libzmq holds a queue and receive buffers per connection\n");
	return 0;
}
