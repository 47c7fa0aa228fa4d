/*
 * Monitor events arrive on a ZMQ_PAIR connected to the SUB's inproc monitor
 * endpoint; its ZMQ_FD is edge-triggered like any ZeroMQ socket's, so each
 * wake-up drains every event.
 */
#include "ingest_monitor.h"

#include <event2/event.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "clock.h"
#include "ingest.h"
#include "log.h"
#include "log_limit.h"

#define MONITOR_ENDPOINT  "inproc://trino-guard.ingest-monitor"
#define MONITOR_LOG_BURST 5
#define MONITOR_LOG_EVERY 60000

struct ingest_monitor {
	void *pair;
	struct event *event;
	struct ingest_stats *stats;
	struct log_limit disconnect_log;
	struct log_limit handshake_log;
};

/* One event of the SUB's monitor: two frames, 6 bytes (uint16 event, uint32
 * value, native byte order) then the endpoint (zmq_socket_monitor(3)). */
static bool read_monitor_event(void *monitor, uint16_t *event, uint32_t *value)
{
	zmq_msg_t frame;
	zmq_msg_init(&frame);
	if (zmq_msg_recv(&frame, monitor, ZMQ_DONTWAIT) < 0) {
		zmq_msg_close(&frame);
		return false;
	}
	bool ok = zmq_msg_size(&frame) == 6;
	if (ok) {
		memcpy(event, zmq_msg_data(&frame), 2);
		memcpy(value, (const char *)zmq_msg_data(&frame) + 2, 4);
	}
	bool more = zmq_msg_more(&frame);
	zmq_msg_close(&frame);
	while (more) { /* the endpoint, and anything a later libzmq adds */
		zmq_msg_init(&frame);
		if (zmq_msg_recv(&frame, monitor, ZMQ_DONTWAIT) < 0)
			more = false;
		else
			more = zmq_msg_more(&frame);
		zmq_msg_close(&frame);
	}
	return ok;
}

/* Counts EVENT of the SUB's monitor and logs it within the limit of its kind. */
static void note_connection_event(struct ingest_monitor *monitor, uint16_t event, uint32_t value,
                                  int64_t now_ms)
{
	uint64_t held = 0;
	if (event == ZMQ_EVENT_DISCONNECTED) {
		monitor->stats->disconnects++;
		if (log_limit_allow(&monitor->disconnect_log, now_ms, &held))
			log_info("an agent's connection ended: the agent went away, or sent a "
			         "message "
			         "over %d bytes, which libzmq drops with its connection (%llu more "
			         "since the last such line; trino_guard_agent_disconnects_total)",
			         INGEST_MAX_MESSAGE_BYTES, (unsigned long long)held);
	} else if (event == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL) {
		monitor->stats->handshake_failures++;
		if (log_limit_allow(&monitor->handshake_log, now_ms, &held))
			log_warn("an agent's handshake failed on the protocol (ZMTP error 0x%x: a "
			         "wrong server key, or an agent without CURVE; %llu more refused "
			         "since "
			         "the last such line)",
			         (unsigned)value, (unsigned long long)held);
	}
}

/* The monitor's ZMQ_FD woke us (edge-triggered, like the SUB's): drain its events. */
static void on_monitor(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct ingest_monitor *monitor = arg;
	int64_t now_ms = clock_read().mono_ms;
	for (;;) {
		int events = 0;
		size_t size = sizeof(events);
		if (zmq_getsockopt(monitor->pair, ZMQ_EVENTS, &events, &size) != 0 ||
		    !(events & ZMQ_POLLIN))
			return;
		uint16_t event = 0;
		uint32_t value = 0;
		if (read_monitor_event(monitor->pair, &event, &value))
			note_connection_event(monitor, event, value, now_ms);
	}
}

struct ingest_monitor *ingest_monitor_new(struct event_base *base, void *context, void *sub,
                                          struct ingest_stats *stats, char *err, size_t err_len)
{
	struct ingest_monitor *monitor = calloc(1, sizeof(*monitor));
	if (monitor == NULL) {
		snprintf(err, err_len, "out of memory");
		return NULL;
	}
	monitor->stats = stats;
	log_limit_init(&monitor->disconnect_log, MONITOR_LOG_BURST, MONITOR_LOG_EVERY);
	log_limit_init(&monitor->handshake_log, MONITOR_LOG_BURST, MONITOR_LOG_EVERY);
	int linger = 0, fd = -1;
	size_t fd_size = sizeof(fd);
	if (zmq_socket_monitor(sub, MONITOR_ENDPOINT,
	                       ZMQ_EVENT_DISCONNECTED | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL) != 0 ||
	    (monitor->pair = zmq_socket(context, ZMQ_PAIR)) == NULL ||
	    zmq_setsockopt(monitor->pair, ZMQ_LINGER, &linger, sizeof(linger)) != 0 ||
	    zmq_connect(monitor->pair, MONITOR_ENDPOINT) != 0 ||
	    zmq_getsockopt(monitor->pair, ZMQ_FD, &fd, &fd_size) != 0) {
		snprintf(err, err_len, "SUB socket monitor: %s", zmq_strerror(zmq_errno()));
		ingest_monitor_free(monitor, sub);
		return NULL;
	}
	monitor->event = event_new(base, fd, EV_READ | EV_PERSIST, on_monitor, monitor);
	if (monitor->event == NULL || event_add(monitor->event, NULL) != 0) {
		snprintf(err, err_len, "cannot watch the SUB socket monitor");
		ingest_monitor_free(monitor, sub);
		return NULL;
	}
	event_active(monitor->event, EV_READ, 0); /* events may be queued before the first edge */
	return monitor;
}

void ingest_monitor_free(struct ingest_monitor *monitor, void *sub)
{
	if (monitor == NULL)
		return;
	if (monitor->event != NULL)
		event_free(monitor->event);
	if (sub != NULL)
		zmq_socket_monitor(sub, NULL, 0);
	if (monitor->pair != NULL)
		zmq_close(monitor->pair);
	free(monitor);
}

uint64_t ingest_monitor_log_suppressed(const struct ingest_monitor *monitor)
{
	return monitor != NULL ? monitor->disconnect_log.suppressed_total +
	                                 monitor->handshake_log.suppressed_total
	                       : 0;
}
