/*
 * collector_ingest's load generator (--generate): COUNT simulated nodes, one
 * CURVE key pair and one PUB connection each as real agents, sending valid
 * reports once a second and, after SIGUSR1, as fast as they can.
 */
#include "ingest_generator.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "report_codec.h"

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

/* What every node's report shares: seven config digests of one hash, a worker's counters. */
static void generator_init_shared(struct generator *g)
{
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
}

/* Puts the node's public key in KEYS_DIR, the collector's allow-list; -1 when it cannot. */
static int write_node_key(const char *keys_dir, const char *node_id, const char *public_key)
{
	char path[1024];
	snprintf(path, sizeof(path), "%s/%s.pub", keys_dir, node_id);
	char tmp[1100];
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	FILE *f = fopen(tmp, "w");
	if (f == NULL)
		return -1;
	fprintf(f, "%s\n", public_key);
	fclose(f);
	rename(tmp, path); /* whole files only: the collector may be counting them */
	return 0;
}

/* Node I's PUB socket with its CURVE keys, connected; NULL after printing why. */
static void *connect_node(void *ctx, size_t i, const char *endpoint, const char *server_public,
                          const char *public_key, const char *secret_key)
{
	void *s = zmq_socket(ctx, ZMQ_PUB);
	if (s == NULL) {
		fprintf(stderr, "socket %zu: %s\n", i, zmq_strerror(zmq_errno()));
		return NULL;
	}
	int hwm = 1000, linger = 0;
	zmq_setsockopt(s, ZMQ_SNDHWM, &hwm, sizeof(hwm));
	zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof(linger));
	zmq_setsockopt(s, ZMQ_CURVE_SERVERKEY, server_public, 41);
	zmq_setsockopt(s, ZMQ_CURVE_PUBLICKEY, public_key, 41);
	zmq_setsockopt(s, ZMQ_CURVE_SECRETKEY, secret_key, 41);
	if (zmq_connect(s, endpoint) != 0) {
		fprintf(stderr, "connect %zu: %s\n", i, zmq_strerror(zmq_errno()));
		return NULL;
	}
	return s;
}

/* Node I's report, a healthy worker's; generate() gives it a new seq and time each round. */
static void node_report_init(struct generator *g, size_t i)
{
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
	generator_init_shared(g);
	for (size_t i = 0; i < count; i++) {
		char public_key[41], secret_key[41];
		zmq_curve_keypair(public_key, secret_key);
		snprintf(g->node_ids[i], sizeof(g->node_ids[i]), "bench-node-%05zu", first + i);
		if (write_node_key(keys_dir, g->node_ids[i], public_key) != 0)
			return -1;
		void *s = connect_node(g->ctx, i, endpoint, server_public, public_key, secret_key);
		if (s == NULL)
			return -1;
		g->sockets[i] = s;
		node_report_init(g, i);
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

int ingest_generator_main(const char *endpoint, const char *server_public, const char *keys_dir,
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
