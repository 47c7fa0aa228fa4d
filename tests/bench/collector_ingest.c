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
 * simulated node costs the generator two file descriptors):
 *   collector_ingest --generate ENDPOINT SERVER_PUBLIC KEYS_DIR FIRST COUNT
 *   collector_ingest --bare-sub ENDPOINT SECRET KEYS_DIR SECONDS
 */
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
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
#include "report_codec.h"

static long long now_ms(void)
{
	return harness_now_ms();
}

/* ---- the bare SUB: ZAP allow-list from KEYS_DIR, counts messages ---- */

struct zap_state {
	void *zap;
	volatile int stop;
	char (*keys)[41];
	size_t key_count;
};

static int compare_key(const void *a, const void *b)
{
	return strcmp((const char *)a, (const char *)b);
}

static void *zap_thread(void *arg)
{
	struct zap_state *st = arg;
	while (!st->stop) {
		zmq_pollitem_t item = {st->zap, 0, ZMQ_POLLIN, 0};
		if (zmq_poll(&item, 1, 50) <= 0)
			continue;
		zmq_msg_t frames[7];
		int n = 0, more = 1;
		while (more) {
			zmq_msg_t m;
			zmq_msg_init(&m);
			if (zmq_msg_recv(&m, st->zap, 0) < 0)
				break;
			more = zmq_msg_more(&m);
			if (n < 7)
				frames[n++] = m;
			else
				zmq_msg_close(&m);
		}
		char key[41] = "";
		if (n == 7 && zmq_msg_size(&frames[6]) == 32)
			zmq_z85_encode(key, zmq_msg_data(&frames[6]), 32);
		char *found = bsearch(key, st->keys, st->key_count, 41, compare_key);
		zmq_send(st->zap, "1.0", 3, ZMQ_SNDMORE);
		zmq_send(st->zap, zmq_msg_data(&frames[1]), zmq_msg_size(&frames[1]), ZMQ_SNDMORE);
		zmq_send(st->zap, found ? "200" : "400", 3, ZMQ_SNDMORE);
		zmq_send(st->zap, "", 0, ZMQ_SNDMORE);
		zmq_send(st->zap, "", 0, ZMQ_SNDMORE);
		zmq_send(st->zap, "", 0, 0);
		for (int i = 0; i < n; i++)
			zmq_msg_close(&frames[i]);
	}
	return NULL;
}

static int bare_sub(const char *endpoint, const char *secret, const char *keys_dir, int seconds)
{
	struct zap_state st = {0};
	DIR *d = opendir(keys_dir);
	struct dirent *e;
	size_t cap = 0;
	while (d != NULL && (e = readdir(d)) != NULL) {
		if (strstr(e->d_name, ".pub") == NULL)
			continue;
		char path[1024];
		snprintf(path, sizeof(path), "%s/%s", keys_dir, e->d_name);
		FILE *f = fopen(path, "r");
		if (f == NULL)
			continue;
		if (st.key_count == cap) {
			cap = cap ? cap * 2 : 1024;
			st.keys = realloc(st.keys, cap * 41);
		}
		if (fscanf(f, "%40s", st.keys[st.key_count]) == 1)
			st.key_count++;
		fclose(f);
	}
	if (d != NULL)
		closedir(d);
	qsort(st.keys, st.key_count, 41, compare_key);
	void *ctx = zmq_ctx_new();
	st.zap = zmq_socket(ctx, ZMQ_REP);
	zmq_bind(st.zap, "inproc://zeromq.zap.01");
	pthread_t thread;
	pthread_create(&thread, NULL, zap_thread, &st);
	void *sub = zmq_socket(ctx, ZMQ_SUB);
	int one = 1, hwm = 100000;
	int64_t max = REPORT_MAX_BYTES;
	zmq_setsockopt(sub, ZMQ_SUBSCRIBE, "", 0);
	zmq_setsockopt(sub, ZMQ_RCVHWM, &hwm, sizeof(hwm));
	zmq_setsockopt(sub, ZMQ_MAXMSGSIZE, &max, sizeof(max));
	zmq_setsockopt(sub, ZMQ_CURVE_SERVER, &one, sizeof(one));
	zmq_setsockopt(sub, ZMQ_CURVE_SECRETKEY, secret, 41);
	if (zmq_bind(sub, endpoint) != 0) {
		fprintf(stderr, "bare-sub: bind %s: %s\n", endpoint, zmq_strerror(zmq_errno()));
		return 1;
	}
	printf("ready\n");
	fflush(stdout);
	long long received = 0, start = 0, end = now_ms() + 600000;
	while (now_ms() < end) {
		zmq_msg_t m;
		zmq_msg_init(&m);
		if (zmq_msg_recv(&m, sub, 0) >= 0) {
			if (start == 0 && received == 1000) {
				start = now_ms(); /* count after the connections are up */
				end = start + seconds * 1000LL;
				received = 0;
			}
			received++;
		}
		zmq_msg_close(&m);
	}
	printf("received %lld in %d s\n", received, seconds);
	st.stop = 1;
	pthread_join(thread, NULL);
	int zero = 0;
	zmq_setsockopt(sub, ZMQ_LINGER, &zero, sizeof(zero));
	zmq_setsockopt(st.zap, ZMQ_LINGER, &zero, sizeof(zero));
	zmq_close(sub);
	zmq_close(st.zap);
	zmq_ctx_term(ctx);
	free(st.keys);
	return 0;
}

/* ---- the load generator ---- */

struct generator {
	void *ctx;
	void **sockets;
	NodeReport *reports;
	char (*node_ids)[32];
	uint8_t (*boot_ids)[16];
	size_t count;
	volatile int stop;
	long long sent;
	ConfigDigest digests[7];
	ConfigDigest *digest_ptrs[7];
	uint8_t sha[32];
	QueryCounters counters;
};

static volatile sig_atomic_t generator_stop;
static volatile sig_atomic_t generator_flood; /* SIGUSR1: from one report a second to all out */

static void on_generator_signal(int sig)
{
	if (sig == SIGUSR1)
		generator_flood = 1;
	else
		generator_stop = 1;
}

static void *generate(void *arg)
{
	struct generator *g = arg;
	uint8_t buf[4096];
	uint64_t seq = 1;
	while (!g->stop && !generator_stop) {
		long long sent_round = 0;
		int64_t stamp = (int64_t)time(NULL) * 1000;
		for (size_t i = 0; i < g->count && !g->stop; i++) {
			g->reports[i].seq = seq;
			g->reports[i].sent_unix_ms = stamp;
			size_t len = trinoguard__v1__node_report__pack(&g->reports[i], buf);
			if (zmq_send(g->sockets[i], buf, len, ZMQ_DONTWAIT) >= 0)
				sent_round++;
		}
		g->sent += sent_round;
		seq++;
		if (!generator_flood)
			usleep(1000000); /* as real agents do, until every node is connected */
		else if (sent_round == 0)
			usleep(1000);
	}
	return NULL;
}

static int setup_generator(struct generator *g, size_t first, size_t count, const char *endpoint,
                           const char *server_public, const char *keys_dir)
{
	memset(g, 0, sizeof(*g));
	g->count = count;
	g->ctx = zmq_ctx_new();
	zmq_ctx_set(g->ctx, ZMQ_MAX_SOCKETS, (int)count + 64);
	zmq_ctx_set(g->ctx, ZMQ_IO_THREADS, 1);
	g->sockets = calloc(count, sizeof(*g->sockets));
	g->reports = calloc(count, sizeof(*g->reports));
	g->node_ids = calloc(count, sizeof(*g->node_ids));
	g->boot_ids = calloc(count, sizeof(*g->boot_ids));
	memset(g->sha, 7, sizeof(g->sha));
	static const char *const paths[7] = {
	        "config.properties",        "node.properties",         "jvm.config",
	        "log.properties",           "catalog/tpch.properties", "catalog/hive.properties",
	        "catalog/memory.properties"};
	for (int k = 0; k < 7; k++) {
		ConfigDigest d = TRINOGUARD__V1__CONFIG_DIGEST__INIT;
		g->digests[k] = d;
		g->digests[k].path = (char *)paths[k];
		g->digests[k].has_sha256 = 1;
		g->digests[k].sha256.data = g->sha;
		g->digests[k].sha256.len = 32;
		g->digest_ptrs[k] = &g->digests[k];
	}
	QueryCounters c = TRINOGUARD__V1__QUERY_COUNTERS__INIT;
	g->counters = c;
	g->counters.has_state = 1;
	g->counters.state = TRINOGUARD__V1__COUNTER_STATE__COUNTERS_NOT_COORDINATOR;
	for (size_t i = 0; i < count; i++) {
		char public_key[41], secret_key[41], path[1024];
		zmq_curve_keypair(public_key, secret_key);
		snprintf(g->node_ids[i], sizeof(g->node_ids[i]), "bench-node-%05zu", first + i);
		snprintf(path, sizeof(path), "%s/%s.pub", keys_dir, g->node_ids[i]);
		char tmp[1100];
		snprintf(tmp, sizeof(tmp), "%s.tmp", path);
		FILE *f = fopen(tmp, "w");
		if (f == NULL)
			return -1;
		fprintf(f, "%s\n", public_key);
		fclose(f);
		rename(tmp, path); /* whole files only: the collector may be counting them */
		void *s = zmq_socket(g->ctx, ZMQ_PUB);
		if (s == NULL) {
			fprintf(stderr, "socket %zu: %s\n", i, zmq_strerror(zmq_errno()));
			return -1;
		}
		int hwm = 1000, linger = 0;
		zmq_setsockopt(s, ZMQ_SNDHWM, &hwm, sizeof(hwm));
		zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof(linger));
		zmq_setsockopt(s, ZMQ_CURVE_SERVERKEY, server_public, 41);
		zmq_setsockopt(s, ZMQ_CURVE_PUBLICKEY, public_key, 41);
		zmq_setsockopt(s, ZMQ_CURVE_SECRETKEY, secret_key, 41);
		if (zmq_connect(s, endpoint) != 0) {
			fprintf(stderr, "connect %zu: %s\n", i, zmq_strerror(zmq_errno()));
			return -1;
		}
		g->sockets[i] = s;
		for (int b = 0; b < 16; b++)
			g->boot_ids[i][b] = (uint8_t)(i >> (b % 4 * 8));
		NodeReport r = TRINOGUARD__V1__NODE_REPORT__INIT;
		r.has_schema_version = 1;
		r.schema_version = 1;
		r.agent_id = g->node_ids[i];
		r.has_boot_id = 1;
		r.boot_id.data = g->boot_ids[i];
		r.boot_id.len = 16;
		r.has_seq = r.has_sent_unix_ms = r.has_interval_ms = 1;
		r.interval_ms = 1000;
		r.cluster = "bench";
		r.node_id = g->node_ids[i];
		r.has_role = 1;
		r.role = TRINOGUARD__V1__NODE_ROLE__ROLE_WORKER;
		r.trino_version = "447";
		r.environment = "production";
		r.has_state = 1;
		r.state = TRINOGUARD__V1__NODE_STATE__STATE_ACTIVE;
		r.n_config = 7;
		r.config = g->digest_ptrs;
		r.counters = &g->counters;
		r.agent_version = "0.1.0";
		g->reports[i] = r;
	}
	return 0;
}

static void teardown_generator(struct generator *g)
{
	for (size_t i = 0; i < g->count; i++)
		if (g->sockets[i] != NULL)
			zmq_close(g->sockets[i]);
	zmq_ctx_term(g->ctx);
	free(g->sockets);
	free(g->reports);
	free(g->node_ids);
	free(g->boot_ids);
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

/* --generate: one generator process, flooding until SIGTERM. */
static int generator_main(const char *endpoint, const char *server_public, const char *keys_dir,
                          size_t first, size_t count)
{
	signal(SIGTERM, on_generator_signal);
	signal(SIGUSR1, on_generator_signal);
	struct generator g;
	if (setup_generator(&g, first, count, endpoint, server_public, keys_dir) != 0)
		return 1;
	generate(&g);
	teardown_generator(&g);
	return 0;
}

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

static int run(size_t nodes, int seconds, const char *self)
{
	char *dir = harness_tmpdir("tg-bench-ingest");
	if (dir == NULL || chdir(dir) != 0 || mkdir("keys", 0755) != 0)
		return 1;
	char server_public[41], server_secret[41];
	zmq_curve_keypair(server_public, server_secret);
	FILE *f = fopen("server.key", "w");
	fprintf(f, "%s\n", server_secret);
	fclose(f);
	chmod("server.key", 0600);
	int ports = harness_port_range(2);
	char endpoint[64], api[64], metrics_url[96], ini[1024];
	snprintf(endpoint, sizeof(endpoint), "tcp://127.0.0.1:%d", ports);
	snprintf(api, sizeof(api), "127.0.0.1:%d", ports + 1);
	snprintf(metrics_url, sizeof(metrics_url), "http://%s/metrics", api);

	/* generators: each makes its nodes' keys, connects and floods */
	pid_t generators[GENERATORS];
	for (size_t i = 0; i < GENERATORS; i++) {
		size_t first = nodes * i / GENERATORS, last = nodes * (i + 1) / GENERATORS;
		char first_text[32], count_text[32], log[64];
		snprintf(first_text, sizeof(first_text), "%zu", first);
		snprintf(count_text, sizeof(count_text), "%zu", last - first);
		snprintf(log, sizeof(log), "generator-%zu.log", i);
		const char *argv[] = {self,   "--generate", endpoint,   server_public,
		                      "keys", first_text,   count_text, NULL};
		generators[i] = harness_spawn(argv, log);
	}
	long long deadline = now_ms() + 120000;
	while (count_keys("keys") < nodes && now_ms() < deadline)
		usleep(50000);
	snprintf(ini, sizeof(ini),
	         "[collector]\nlisten = %s\nsecret_key_file = server.key\nallowed_keys_dir = keys\n"
	         "state_dir = state\ntick = 250ms\nlog_level = error\n[api]\nlisten = %s\n"
	         "[cluster.bench]\nmin_workers = 0\nstale_after = 1h\n",
	         endpoint, api);
	harness_write_file("collector.ini", ini);
	const char *argv[] = {TG_COLLECTOR_BIN, "-c", "collector.ini", NULL};
	pid_t collector = harness_spawn(argv, "collector.log");
	struct live_goal goal = {metrics_url, nodes};
	long long connect_start = now_ms();
	if (!harness_wait_until(all_live, &goal, 180000)) {
		fprintf(stderr, "collector_ingest: not every node got through (see %s)\n", dir);
		return 1;
	}
	long long connect_ms = now_ms() - connect_start;
	usleep(3000000); /* every node at one report a second: the normal state */
	long steady_rss = current_rss_kib(collector);
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
		return 1;
	}
	double elapsed = (double)(t1 - t0) / 1000.0;
	double received = metric_value(after, "trino_guard_reports_received_total") -
	                  metric_value(before, "trino_guard_reports_received_total");
	double accepted = metric_value(after, "trino_guard_reports_accepted_total") -
	                  metric_value(before, "trino_guard_reports_accepted_total");
	double p50 = tick_quantile(after, 0.50), p99 = tick_quantile(after, 0.99);
	long rss = peak_rss_kib(collector);
	free(before);
	free(after);
	harness_stop(collector, 5000);

	/* the ceiling: a bare SUB with the same keys, the same generators */
	char command[2048];
	snprintf(command, sizeof(command), "'%s' --bare-sub '%s' '%s' keys %d > bare.out 2>&1",
	         self, endpoint, server_secret, seconds);
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
	double ceiling = bare_count > 0 ? (double)bare_count / seconds : 0;
	double rate = received / elapsed;
	printf("%-8zu %12.0f %12.0f %12.0f %8.1f%% %10.3f %10.3f %11.1f %11.1f %9.1f\n", nodes,
	       rate, accepted / elapsed, ceiling, ceiling > 0 ? 100.0 * rate / ceiling : 0,
	       p50 * 1000, p99 * 1000, steady_rss / 1024.0, rss / 1024.0, connect_ms / 1000.0);
	fflush(stdout);
	if (chdir("/") == 0)
		harness_rmrf(dir);
	free(dir);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 6 && strcmp(argv[1], "--bare-sub") == 0)
		return bare_sub(argv[2], argv[3], argv[4], atoi(argv[5]));
	if (argc == 7 && strcmp(argv[1], "--generate") == 0)
		return generator_main(argv[2], argv[3], argv[4], (size_t)atol(argv[5]),
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
