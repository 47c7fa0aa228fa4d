/*
 * collector_ingest's ceiling (--bare-sub): a bare SUB socket with the
 * collector's CURVE key and a ZAP allow-list read from KEYS_DIR, which only
 * counts the messages it receives.
 */
#include "ingest_bare_sub.h"

#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "harness.h"
#include "report_codec.h"

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

/* One message taken: a function of its own so that callgrind counts the messages as its calls. */
__attribute__((noinline)) void ingest_bare_sub_took(long long *total)
{
	(*total)++;
}

int ingest_bare_sub_main(const char *endpoint, const char *secret, const char *keys_dir,
                         int seconds)
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
	long long received = 0, start = 0, end = harness_now_ms() + 600000;
	long long total = 0, next_progress = harness_now_ms() + 1000;
	int timeout_ms = 100;
	zmq_setsockopt(sub, ZMQ_RCVTIMEO, &timeout_ms, sizeof(timeout_ms));
	while (harness_now_ms() < end) {
		zmq_msg_t m;
		zmq_msg_init(&m);
		if (harness_now_ms() >= next_progress) {
			printf("count %lld\n", total); /* for a reader that waits for the fleet */
			fflush(stdout);
			next_progress += 1000;
		}
		if (zmq_msg_recv(&m, sub, 0) >= 0) {
			ingest_bare_sub_took(&total);
			if (start == 0 && received == 1000) {
				start = harness_now_ms(); /* count after the connections are up */
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
