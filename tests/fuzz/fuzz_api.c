/*
 * Fuzzes the collector's HTTP API in-process (collector/api.c): one
 * collector per process (a fake clock, a fake LB that switches when asked,
 * state in a temp dir, an API token), and each input is the raw bytes of a
 * client connection to its API (requests with any method, path, headers
 * and body, pipelined or cut short). After each input the clock moves a
 * second and the collector ticks. Properties: /v1/status always encodes to
 * JSON, and cutover.json agrees with the runner (phase, active, other,
 * paused; STEADY on the initial cluster while there is no file).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <event2/http.h>
#include <fcntl.h>
#include <jansson.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "collector.h"
#include "cutover_runner.h"
#include "fuzz_check.h"
#include "fuzz_tmp.h"
#include "log.h"
#include "state_file.h"
#include "status.h"

static struct clock_now fake_now = {5000000, 1764633600000};
static struct event_base *base;
static struct collector collector;
static int api_port = -1;
static char state_dir[300];

static struct clock_now fake_clock(void)
{
	return fake_now;
}

/* The fake LB: a switch succeeds from the loop; a read says where the last one went. */
struct fake_lb {
	char current[64];
	lb_switch_done_fn done;
	void *arg;
	struct event *later;
};

static struct fake_lb lb = {.current = "blue"};

static void on_later(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	lb_switch_done_fn done = lb.done;
	lb.done = NULL;
	if (done != NULL)
		done(true, NULL, lb.arg);
}

static void lb_switch(void *impl, const char *cluster, lb_switch_done_fn done, void *arg)
{
	(void)impl;
	snprintf(lb.current, sizeof(lb.current), "%s", cluster);
	lb.done = done;
	lb.arg = arg;
	event_active(lb.later, 0, 0);
}

static void lb_current(void *impl, lb_current_done_fn done, void *arg)
{
	(void)impl;
	done(lb.current, NULL, arg);
}

static void lb_free(void *impl)
{
	(void)impl;
}

static void port_of(struct evhttp_bound_socket *bound, void *arg)
{
	struct sockaddr_in addr;
	socklen_t len = sizeof(addr);
	if (getsockname(evhttp_bound_socket_get_fd(bound), (struct sockaddr *)&addr, &len) == 0)
		*(int *)arg = ntohs(addr.sin_port);
}

static void write_text(const char *path, const char *text)
{
	FILE *file = fopen(path, "w");
	check(file != NULL && fputs(text, file) >= 0 && fclose(file) == 0);
}

static void start_collector(void)
{
	log_set_level(LOG_LEVEL_ERROR);
	const char *dir = fuzz_tmp_dir();
	char ini[400], token[400], text[4096];
	snprintf(state_dir, sizeof(state_dir), "%s/state", dir);
	snprintf(token, sizeof(token), "%s/api.token", dir);
	write_text(token, "fuzz-token-0123456789\n");
	check(chmod(token, 0600) == 0);
	snprintf(text, sizeof(text),
	         "[collector]\nlisten = ipc://%s/ingest.sock\ncurve = off\nstate_dir = %s\n"
	         "environment = fuzz\ninitial_active = blue\n"
	         "[api]\nlisten = 127.0.0.1:0\ntoken_file = %s\n"
	         "[cluster.blue]\nmin_workers = 1\nstale_after = 5s\n"
	         "[cluster.green]\nmin_workers = 1\nstale_after = 5s\n",
	         dir, state_dir, token);
	snprintf(ini, sizeof(ini), "%s/collector.ini", dir);
	write_text(ini, text);
	struct collector_config config;
	memset(&config, 0, sizeof(config));
	char err[1024];
	if (collector_config_load(ini, &config, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s\n", err);
		check(!"the fuzz config loads");
	}
	base = event_base_new();
	check(base != NULL);
	lb.later = event_new(base, -1, 0, on_later, NULL);
	check(lb.later != NULL);
	static struct lb_driver driver = {
	        .switch_to = lb_switch, .current = lb_current, .free = lb_free};
	driver.impl = &lb;
	struct collector_hooks hooks = {.read_clock = fake_clock, .lb = &driver};
	if (collector_start(&collector, base, &config, &hooks, err, sizeof(err)) != 0) {
		fprintf(stderr, "collector_start: %s\n", err);
		check(!"the collector starts");
	}
	evhttp_foreach_bound_socket(collector.api, port_of, &api_port);
	check(api_port > 0);
}

/*
 * A connection to the API, made without blocking: the API accepts only
 * while its loop runs, and at its connection cap (or with the listen queue
 * full) a blocking connect would wait in the kernel, where libFuzzer's
 * timer interrupts it. The property: it is accepted within the API's
 * request_timeout (10 s, when the connections holding the cap must end).
 */
static int connect_api(void)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	check(fd >= 0);
	struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)api_port)};
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	int rc = connect(fd, (struct sockaddr *)&addr, sizeof(addr));
	check(rc == 0 || errno == EINPROGRESS || errno == EINTR);
	for (int waited = 0; rc != 0; waited++) {
		check(waited < 15000); /* about 15 s of 1 ms polls */
		event_base_loop(base, EVLOOP_NONBLOCK);
		struct pollfd p = {.fd = fd, .events = POLLOUT};
		if (poll(&p, 1, 1) == 1) {
			int error = 0;
			socklen_t len = sizeof(error);
			check(getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &len) == 0);
			check(error == 0);
			rc = 0;
		}
	}
	return fd;
}

/* Sends DATA on a connection of its own, reads what comes back until the API goes quiet. */
static void converse(const uint8_t *data, size_t size)
{
	int fd = connect_api();
	size_t sent = 0;
	bool closed = false, shut = false;
	for (int idle = 0; !closed && idle < 40;) {
		bool moved = false;
		if (sent < size) {
			ssize_t n = send(fd, data + sent, size - sent, MSG_NOSIGNAL);
			if (n > 0) {
				sent += (size_t)n;
				moved = true;
			} else if (n < 0) {
				sent = size; /* the API closed on us */
			}
		}
		event_base_loop(base, EVLOOP_NONBLOCK);
		char answer[65536];
		ssize_t got = recv(fd, answer, sizeof(answer), 0);
		if (got > 0)
			moved = true;
		else if (got == 0)
			closed = true;
		idle = moved ? 0 : idle + 1;
		if (!closed && idle == 40 && !shut) {
			/* quiet: half-close, as a client that gave up, and let the API finish */
			shutdown(fd, SHUT_WR);
			shut = true;
			idle = 0;
		}
	}
	close(fd);
	for (int i = 0; i < 8; i++)
		event_base_loop(base, EVLOOP_NONBLOCK);
}

static const char *text_of(json_t *object, const char *name)
{
	const char *text = json_string_value(json_object_get(object, name));
	return text != NULL ? text : "";
}

/* /v1/status encodes; cutover.json says what the runner holds. */
static void check_invariants(void)
{
	json_t *status = status_json(&collector, fake_now);
	check(status != NULL);
	char *encoded = json_dumps(status, JSON_COMPACT);
	check(encoded != NULL);
	free(encoded);
	json_decref(status);

	json_t *runner = cutover_runner_status(collector.cutover, fake_now);
	check(runner != NULL);
	struct cutover_state state;
	struct detector_checkpoint checkpoint;
	bool found = false;
	char err[1024] = "";
	memset(&state, 0, sizeof(state));
	if (state_file_load(state_dir, fake_now, &state, &checkpoint, &found, err, sizeof(err)) !=
	    0) {
		fprintf(stderr, "cutover.json: %s\n", err);
		check(!"cutover.json loads");
	}
	if (!found) {
		snprintf(state.active, sizeof(state.active), "blue");
		snprintf(state.other, sizeof(state.other), "%s", text_of(runner, "other"));
		state.phase = PHASE_STEADY;
	}
	if (strcmp(text_of(runner, "phase"), cutover_phase_name(state.phase)) != 0 ||
	    strcmp(text_of(runner, "active"), state.active) != 0 ||
	    strcmp(text_of(runner, "other"), state.other) != 0 ||
	    json_is_true(json_object_get(runner, "paused")) != state.paused) {
		char *shown = json_dumps(runner, JSON_COMPACT);
		fprintf(stderr, "runner %s; cutover.json %s %s/%s paused %d (found %d)\n", shown,
		        cutover_phase_name(state.phase), state.active, state.other, state.paused,
		        found);
		free(shown);
		check(!"cutover.json agrees with the runner");
	}
	json_decref(runner);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (base == NULL)
		start_collector();
	converse(data, size);
	fake_now.mono_ms += 1000;
	fake_now.unix_ms += 1000;
	collector_tick(&collector, fake_now);
	event_base_loop(base, EVLOOP_NONBLOCK);
	check_invariants();
	return 0;
}
