/*
 * Stand-in collector. The ZAP handler runs in its own thread on a REP socket
 * bound to inproc://zeromq.zap.01 before the SUB binds (with no handler,
 * CURVE would let every client in).
 */
#include "report_receiver.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zmq.h>

#include "clock.h"

#define MAX_ALLOWED 64

struct allowed_key {
	char public_z85[41];
	char user_id[128];
};

struct report_receiver {
	void *context;
	void *sub;
	void *zap;
	pthread_t zap_thread;
	bool zap_running;
	volatile bool stop;
	pthread_mutex_t lock;
	struct allowed_key allowed[MAX_ALLOWED];
	size_t allowed_count;
	size_t refusals;
	size_t invalid;
	char endpoint[256];
};

static int64_t unix_ms(void)
{
	return clock_unix_ms();
}

static void *zap_main(void *arg)
{
	struct report_receiver *receiver = arg;
	while (!receiver->stop) {
		zmq_pollitem_t item = {receiver->zap, 0, ZMQ_POLLIN, 0};
		if (zmq_poll(&item, 1, 50) <= 0)
			continue;
		char frames[7][256];
		size_t sizes[7];
		int count = 0;
		int more = 1;
		while (more) {
			zmq_msg_t msg;
			zmq_msg_init(&msg);
			if (zmq_msg_recv(&msg, receiver->zap, 0) < 0) {
				zmq_msg_close(&msg);
				break;
			}
			if (count < 7) {
				sizes[count] = zmq_msg_size(&msg) < 255 ? zmq_msg_size(&msg) : 255;
				memcpy(frames[count], zmq_msg_data(&msg), sizes[count]);
				frames[count][sizes[count]] = '\0';
				count++;
			}
			more = zmq_msg_more(&msg);
			zmq_msg_close(&msg);
		}
		const char *status = "400";
		char user_id[128] = "";
		if (count == 7 && sizes[6] == 32) {
			char client_z85[41];
			zmq_z85_encode(client_z85, (const uint8_t *)frames[6], 32);
			pthread_mutex_lock(&receiver->lock);
			for (size_t i = 0; i < receiver->allowed_count; i++) {
				if (strcmp(receiver->allowed[i].public_z85, client_z85) == 0) {
					status = "200";
					snprintf(user_id, sizeof(user_id), "%s",
					         receiver->allowed[i].user_id);
				}
			}
			if (strcmp(status, "400") == 0)
				receiver->refusals++;
			pthread_mutex_unlock(&receiver->lock);
		}
		/* version, request id, status, text, user id, metadata */
		zmq_send(receiver->zap, "1.0", 3, ZMQ_SNDMORE);
		zmq_send(receiver->zap, frames[1], count > 1 ? sizes[1] : 0, ZMQ_SNDMORE);
		zmq_send(receiver->zap, status, 3, ZMQ_SNDMORE);
		zmq_send(receiver->zap, strcmp(status, "200") == 0 ? "OK" : "not allowed",
		         strcmp(status, "200") == 0 ? 2 : 11, ZMQ_SNDMORE);
		zmq_send(receiver->zap, user_id, strlen(user_id), ZMQ_SNDMORE);
		zmq_send(receiver->zap, "", 0, 0);
	}
	return NULL;
}

struct report_receiver *report_receiver_new(const char *endpoint, const char *server_secret,
                                            char *err, size_t err_len)
{
	struct report_receiver *receiver = calloc(1, sizeof(*receiver));
	pthread_mutex_init(&receiver->lock, NULL);
	receiver->context = zmq_ctx_new();
	if (server_secret != NULL) {
		receiver->zap = zmq_socket(receiver->context, ZMQ_REP);
		if (zmq_bind(receiver->zap, "inproc://zeromq.zap.01") != 0) {
			snprintf(err, err_len, "ZAP bind: %s", zmq_strerror(zmq_errno()));
			report_receiver_free(receiver);
			return NULL;
		}
		pthread_create(&receiver->zap_thread, NULL, zap_main, receiver);
		receiver->zap_running = true;
	}
	receiver->sub = zmq_socket(receiver->context, ZMQ_SUB);
	int one = 1;
	int64_t max_size = REPORT_MAX_BYTES;
	zmq_setsockopt(receiver->sub, ZMQ_SUBSCRIBE, "", 0);
	zmq_setsockopt(receiver->sub, ZMQ_MAXMSGSIZE, &max_size, sizeof(max_size));
	if (server_secret != NULL) {
		zmq_setsockopt(receiver->sub, ZMQ_CURVE_SERVER, &one, sizeof(one));
		zmq_setsockopt(receiver->sub, ZMQ_CURVE_SECRETKEY, server_secret, 41);
	}
	if (zmq_bind(receiver->sub, endpoint) != 0) {
		snprintf(err, err_len, "bind %s: %s", endpoint, zmq_strerror(zmq_errno()));
		report_receiver_free(receiver);
		return NULL;
	}
	size_t len = sizeof(receiver->endpoint);
	zmq_getsockopt(receiver->sub, ZMQ_LAST_ENDPOINT, receiver->endpoint, &len);
	return receiver;
}

void report_receiver_free(struct report_receiver *receiver)
{
	if (receiver == NULL)
		return;
	receiver->stop = true;
	if (receiver->zap_running)
		pthread_join(receiver->zap_thread, NULL);
	int zero = 0;
	if (receiver->sub != NULL) {
		zmq_setsockopt(receiver->sub, ZMQ_LINGER, &zero, sizeof(zero));
		zmq_close(receiver->sub);
	}
	if (receiver->zap != NULL) {
		zmq_setsockopt(receiver->zap, ZMQ_LINGER, &zero, sizeof(zero));
		zmq_close(receiver->zap);
	}
	zmq_ctx_term(receiver->context);
	pthread_mutex_destroy(&receiver->lock);
	free(receiver);
}

const char *report_receiver_endpoint(const struct report_receiver *receiver)
{
	return receiver->endpoint;
}

void report_receiver_allow(struct report_receiver *receiver, const char *public_z85,
                           const char *user_id)
{
	pthread_mutex_lock(&receiver->lock);
	if (receiver->allowed_count < MAX_ALLOWED) {
		struct allowed_key *key = &receiver->allowed[receiver->allowed_count++];
		snprintf(key->public_z85, sizeof(key->public_z85), "%s", public_z85);
		snprintf(key->user_id, sizeof(key->user_id), "%s", user_id);
	}
	pthread_mutex_unlock(&receiver->lock);
}

void report_receiver_deny(struct report_receiver *receiver, const char *public_z85)
{
	pthread_mutex_lock(&receiver->lock);
	for (size_t i = 0; i < receiver->allowed_count; i++) {
		if (strcmp(receiver->allowed[i].public_z85, public_z85) == 0) {
			receiver->allowed[i] = receiver->allowed[--receiver->allowed_count];
			i--;
		}
	}
	pthread_mutex_unlock(&receiver->lock);
}

size_t report_receiver_refusals(struct report_receiver *receiver)
{
	pthread_mutex_lock(&receiver->lock);
	size_t refusals = receiver->refusals;
	pthread_mutex_unlock(&receiver->lock);
	return refusals;
}

size_t report_receiver_invalid(const struct report_receiver *receiver)
{
	return receiver->invalid;
}

NodeReport *report_receiver_next(struct report_receiver *receiver, int timeout_ms)
{
	int64_t start_ms = clock_mono_ms();
	for (;;) {
		long elapsed = (long)(clock_mono_ms() - start_ms);
		if (elapsed >= timeout_ms)
			return NULL;
		zmq_pollitem_t item = {receiver->sub, 0, ZMQ_POLLIN, 0};
		if (zmq_poll(&item, 1, timeout_ms - elapsed) <= 0)
			continue;
		zmq_msg_t msg;
		zmq_msg_init(&msg);
		if (zmq_msg_recv(&msg, receiver->sub, ZMQ_DONTWAIT) < 0) {
			zmq_msg_close(&msg);
			continue;
		}
		enum report_reject reject;
		char detail[256];
		NodeReport *report = report_decode(zmq_msg_data(&msg), zmq_msg_size(&msg),
		                                   unix_ms(), &reject, detail, sizeof(detail));
		zmq_msg_close(&msg);
		if (report != NULL)
			return report;
		receiver->invalid++;
	}
}

void report_receiver_drain(struct report_receiver *receiver)
{
	NodeReport *report;
	while ((report = report_receiver_next(receiver, 1)) != NULL)
		report_free(report);
}
