/*
 * The agent's ZeroMQ PUB socket: one connect per collector endpoint, CURVE
 * client keys, heartbeats. Its socket monitor logs connection changes once
 * each and reconnects with backoff after an authentication failure, which
 * libzmq does not do by itself.
 */
#ifndef TG_PUBLISHER_H
#define TG_PUBLISHER_H

#include <stddef.h>
#include <stdint.h>

#include "agent_config.h"

struct event_base;
struct publisher;

/* Reads the key files and connects. Returns NULL with ERR. */
struct publisher *publisher_new(struct event_base *base, const struct publish_section *config,
                                char *err, size_t err_len);

/* Queues one message to every connected collector; never blocks. 0, or -1 when dropped. */
int publisher_send(struct publisher *publisher, const uint8_t *data, size_t len);

/* Collector endpoints with a completed handshake now; 0 for NULL. */
size_t publisher_connected(const struct publisher *publisher);

/* Closes the socket, giving queued messages LINGER_MS to leave. */
void publisher_free(struct publisher *publisher, int linger_ms);

#endif
