/*
 * The counting relay of http_tap.h: one thread polling the listening socket
 * and every pair of connections; a request is counted at each " HTTP/1."
 * seen in the bytes sent upstream (the end of a request line), looked for
 * across reads.
 */
#include "http_tap.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define TAP_PAIRS 32
#define MARK      " HTTP/1."

struct tap_pair {
	int client, upstream;    /* -1: unused */
	char tail[sizeof(MARK)]; /* the last bytes sent upstream, for a mark split by reads */
};

struct http_tap {
	int listener, port, upstream_port;
	pthread_t thread;
	volatile int stop;
	pthread_mutex_t lock;
	struct http_tap_totals totals;
	struct tap_pair pairs[TAP_PAIRS];
};

static int listen_loopback(int *port)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in addr = {.sin_family = AF_INET,
	                           .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(addr);
	if (fd < 0 || bind(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0 ||
	    listen(fd, 16) != 0 || getsockname(fd, (struct sockaddr *)&addr, &len) != 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	*port = ntohs(addr.sin_port);
	return fd;
}

static int connect_upstream(int port)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in addr = {.sin_family = AF_INET,
	                           .sin_port = htons((uint16_t)port),
	                           .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	if (fd >= 0 && connect(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static void close_pair(struct tap_pair *pair)
{
	close(pair->client);
	close(pair->upstream);
	pair->client = pair->upstream = -1;
}

/* Request lines in DATA, with the previous read's tail in front; keeps the new tail. */
static long long count_requests(struct tap_pair *pair, const char *data, size_t len)
{
	size_t tail_len = strlen(pair->tail);
	char *joined = malloc(tail_len + len + 1);
	if (joined == NULL)
		return 0;
	memcpy(joined, pair->tail, tail_len);
	memcpy(joined + tail_len, data, len);
	joined[tail_len + len] = '\0';
	long long found = 0;
	size_t total = tail_len + len;
	for (size_t i = 0; i + strlen(MARK) <= total; i++)
		found += memcmp(joined + i, MARK, strlen(MARK)) == 0;
	size_t keep = total < strlen(MARK) - 1 ? total : strlen(MARK) - 1;
	memcpy(pair->tail, joined + total - keep, keep);
	pair->tail[keep] = '\0';
	free(joined);
	return found;
}

/* Moves what FROM has to TO; false when either side is done. */
static bool relay(struct http_tap *tap, struct tap_pair *pair, bool upward)
{
	char buf[16384];
	int from = upward ? pair->client : pair->upstream,
	    to = upward ? pair->upstream : pair->client;
	ssize_t n = read(from, buf, sizeof(buf));
	if (n <= 0)
		return false;
	for (ssize_t sent = 0; sent < n;) {
		ssize_t w = write(to, buf + sent, (size_t)(n - sent));
		if (w < 0 && errno != EINTR)
			return false;
		sent += w > 0 ? w : 0;
	}
	long long requests = upward ? count_requests(pair, buf, (size_t)n) : 0;
	pthread_mutex_lock(&tap->lock);
	*(upward ? &tap->totals.bytes_up : &tap->totals.bytes_down) += n;
	tap->totals.requests += requests;
	pthread_mutex_unlock(&tap->lock);
	return true;
}

static void accept_one(struct http_tap *tap)
{
	int client = accept(tap->listener, NULL, NULL);
	if (client < 0)
		return;
	int upstream = connect_upstream(tap->upstream_port);
	for (int i = 0; i < TAP_PAIRS && upstream >= 0; i++) {
		if (tap->pairs[i].client < 0) {
			tap->pairs[i] = (struct tap_pair){.client = client, .upstream = upstream};
			pthread_mutex_lock(&tap->lock);
			tap->totals.connections++;
			pthread_mutex_unlock(&tap->lock);
			return;
		}
	}
	close(client); /* upstream refused, or no room: the client sees a closed connection */
	if (upstream >= 0)
		close(upstream);
}

static void *tap_thread(void *arg)
{
	struct http_tap *tap = arg;
	while (!tap->stop) {
		struct pollfd fds[1 + 2 * TAP_PAIRS];
		fds[0] = (struct pollfd){.fd = tap->listener, .events = POLLIN};
		for (int i = 0; i < TAP_PAIRS; i++) {
			fds[1 + 2 * i] =
			        (struct pollfd){.fd = tap->pairs[i].client, .events = POLLIN};
			fds[2 + 2 * i] =
			        (struct pollfd){.fd = tap->pairs[i].upstream, .events = POLLIN};
		}
		if (poll(fds, 1 + 2 * TAP_PAIRS, 100) <= 0)
			continue;
		if (fds[0].revents & POLLIN)
			accept_one(tap);
		for (int i = 0; i < TAP_PAIRS; i++) {
			struct tap_pair *pair = &tap->pairs[i];
			if (pair->client < 0)
				continue;
			bool open = true;
			if (fds[1 + 2 * i].revents & (POLLIN | POLLHUP | POLLERR))
				open = relay(tap, pair, true);
			if (open && fds[2 + 2 * i].revents & (POLLIN | POLLHUP | POLLERR))
				open = relay(tap, pair, false);
			if (!open)
				close_pair(pair);
		}
	}
	return NULL;
}

struct http_tap *http_tap_start(int upstream_port, char *err, size_t err_len)
{
	struct http_tap *tap = calloc(1, sizeof(*tap));
	if (tap == NULL) {
		snprintf(err, err_len, "http_tap: out of memory");
		return NULL;
	}
	tap->upstream_port = upstream_port;
	for (int i = 0; i < TAP_PAIRS; i++)
		tap->pairs[i].client = tap->pairs[i].upstream = -1;
	pthread_mutex_init(&tap->lock, NULL);
	tap->listener = listen_loopback(&tap->port);
	if (tap->listener < 0 || pthread_create(&tap->thread, NULL, tap_thread, tap) != 0) {
		snprintf(err, err_len, "http_tap: cannot listen on loopback: %s", strerror(errno));
		if (tap->listener >= 0)
			close(tap->listener);
		pthread_mutex_destroy(&tap->lock);
		free(tap);
		return NULL;
	}
	return tap;
}

int http_tap_port(const struct http_tap *tap)
{
	return tap->port;
}

void http_tap_totals(struct http_tap *tap, struct http_tap_totals *out)
{
	pthread_mutex_lock(&tap->lock);
	*out = tap->totals;
	pthread_mutex_unlock(&tap->lock);
}

void http_tap_stop(struct http_tap *tap)
{
	if (tap == NULL)
		return;
	tap->stop = 1;
	pthread_join(tap->thread, NULL);
	for (int i = 0; i < TAP_PAIRS; i++)
		if (tap->pairs[i].client >= 0)
			close_pair(&tap->pairs[i]);
	close(tap->listener);
	pthread_mutex_destroy(&tap->lock);
	free(tap);
}
