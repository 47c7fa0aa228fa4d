/*
 * Fuzzes the haproxy driver's handling of HAProxy's answers
 * (collector/lb/haproxy_cli.c, lb_haproxy.c, lb_haproxy_routes.c): a fake
 * runtime API on a unix socket in the same loop answers each command with
 * the next piece of the input (pieces split at NUL bytes; none left: an
 * empty answer). The driver switches to green, reads where the LB points
 * and syncs the query-id map. Properties: a switch ends exactly once, and
 * succeeds only after a `get map` answered green's backend; a read names a
 * configured cluster or gives an error; what the driver sends to change the
 * query-id map is only set/add/del map commands on that map.
 */
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "fuzz_check.h"
#include "fuzz_tmp.h"
#include "lb_haproxy.h"
#include "log.h"

#define ROUTES_MAP "/etc/haproxy/query-ids.map"

struct fake_haproxy {
	const uint8_t *data;
	size_t size, offset;
	unsigned open_connections, activity;
	char last_command[16384];
	char last_answer[16384];
};

static struct fake_haproxy fake;

/* The next NUL-terminated piece of the input, as HAProxy's answer. */
static void next_answer(char *out, size_t out_len)
{
	size_t len = 0;
	while (fake.offset + len < fake.size && fake.data[fake.offset + len] != 0)
		len++;
	size_t copied = len < out_len - 1 ? len : out_len - 1;
	memcpy(out, fake.data + fake.offset, copied);
	out[copied] = '\0';
	fake.offset += len < fake.size - fake.offset ? len + 1 : len;
}

/* Each command an apply of the query-id map sends is a set, add or del on that map. */
static void check_routes_commands(const char *line)
{
	static const char *const verbs[] = {"set map " ROUTES_MAP " ", "add map " ROUTES_MAP " ",
	                                    "del map " ROUTES_MAP " "};
	char copy[sizeof(fake.last_command)];
	snprintf(copy, sizeof(copy), "%s", line);
	char *rest = copy;
	while (rest != NULL) {
		char *command = strsep(&rest, ";");
		if (command[0] == '\0')
			continue; /* the ';' that ends the last command */
		bool known = false;
		for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
			known = known || strncmp(command, verbs[i], strlen(verbs[i])) == 0;
		if (!known)
			fprintf(stderr, "query-id map command: '%s'\n", command);
		check(known);
	}
}

static void on_drained(struct bufferevent *bev, void *arg)
{
	(void)arg;
	bufferevent_free(bev);
	fake.open_connections--;
	fake.activity++;
}

static void on_command(struct bufferevent *bev, void *arg)
{
	(void)arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	size_t len = 0;
	char *line = evbuffer_readln(in, &len, EVBUFFER_EOL_LF);
	if (line == NULL)
		return;
	snprintf(fake.last_command, sizeof(fake.last_command), "%s", line);
	free(line);
	if (strncmp(fake.last_command, "show map", 8) != 0 &&
	    strncmp(fake.last_command, "show stat", 9) != 0 &&
	    strncmp(fake.last_command, "get map", 7) != 0 &&
	    strncmp(fake.last_command, "set map /etc/haproxy/active.map active ", 39) != 0)
		check_routes_commands(fake.last_command);
	next_answer(fake.last_answer, sizeof(fake.last_answer));
	fake.activity++;
	bufferevent_disable(bev, EV_READ);
	if (fake.last_answer[0] == '\0') {
		on_drained(bev, NULL); /* nothing to write: the write callback would never run */
		return;
	}
	bufferevent_setcb(bev, NULL, on_drained, NULL, NULL);
	bufferevent_write(bev, fake.last_answer, strlen(fake.last_answer));
}

static void on_accept(struct evconnlistener *listener, evutil_socket_t fd, struct sockaddr *sa,
                      int socklen, void *arg)
{
	(void)listener;
	(void)sa;
	(void)socklen;
	(void)arg;
	struct bufferevent *bev = bufferevent_socket_new(evconnlistener_get_base(listener), fd,
	                                                 BEV_OPT_CLOSE_ON_FREE);
	check(bev != NULL);
	bufferevent_setcb(bev, on_command, NULL, NULL, NULL);
	bufferevent_enable(bev, EV_READ | EV_WRITE);
	fake.open_connections++;
	fake.activity++;
}

struct outcome {
	int calls;
	bool ok;
	char cluster[64];
	char error[1024];
};

static void on_switched(bool ok, const char *error, void *arg)
{
	struct outcome *outcome = arg;
	outcome->calls++;
	outcome->ok = ok;
	snprintf(outcome->error, sizeof(outcome->error), "%s", error != NULL ? error : "");
	/* success only once green's backend was read back */
	if (ok)
		check(strncmp(fake.last_command, "get map ", 8) == 0 &&
		      strstr(fake.last_answer, "value=\"green_be\"") != NULL);
	else
		check(error != NULL && error[0] != '\0');
}

static void on_current(const char *cluster, const char *error, void *arg)
{
	struct outcome *outcome = arg;
	outcome->calls++;
	if (cluster == NULL)
		check(error != NULL && error[0] != '\0');
	else
		check(strcmp(cluster, "blue") == 0 || strcmp(cluster, "green") == 0);
	snprintf(outcome->cluster, sizeof(outcome->cluster), "%s", cluster != NULL ? cluster : "");
}

/* Runs the loop until OUTCOME was called (or, when NULL, nothing moved for a while). */
static void run(struct event_base *base, const struct outcome *outcome)
{
	for (int idle = 0; idle < 50;) {
		unsigned before = fake.activity;
		event_base_loop(base, EVLOOP_NONBLOCK);
		if (outcome != NULL && outcome->calls > 0)
			return;
		idle = fake.activity != before || fake.open_connections > 0 ? 0 : idle + 1;
	}
	check(outcome == NULL);
}

static struct event_base *base;
static struct evconnlistener *listener;
static char socket_path[300];

static void start_fake(void)
{
	log_set_level(LOG_LEVEL_ERROR);
	base = event_base_new();
	check(base != NULL);
	snprintf(socket_path, sizeof(socket_path), "%s/admin.sock", fuzz_tmp_dir());
	struct sockaddr_un un;
	memset(&un, 0, sizeof(un));
	un.sun_family = AF_UNIX;
	snprintf(un.sun_path, sizeof(un.sun_path), "%s", socket_path);
	unlink(socket_path);
	listener = evconnlistener_new_bind(base, on_accept, NULL,
	                                   LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE, 16,
	                                   (struct sockaddr *)&un, (int)sizeof(un));
	check(listener != NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (base == NULL)
		start_fake();
	memset(&fake, 0, sizeof(fake));
	fake.data = data;
	fake.size = size;
	struct lb_haproxy_settings settings = {
	        .sockets = {socket_path},
	        .socket_count = 1,
	        .map = "/etc/haproxy/active.map",
	        .key = "active",
	        .query_id_map = ROUTES_MAP,
	        .backends = {{"blue", "blue_be"}, {"green", "green_be"}},
	        .backend_count = 2,
	        .timeout_ms = 5000,
	        .retries = 0,
	};
	char err[512];
	struct lb_haproxy *lb = lb_haproxy_new(base, &settings, err, sizeof(err));
	check(lb != NULL);

	struct outcome switched = {0}, current = {0};
	lb_haproxy_switch(lb, "green", on_switched, &switched);
	run(base, &switched);
	check(switched.calls == 1);

	lb_haproxy_current(lb, on_current, &current);
	run(base, &current);
	check(current.calls == 1);

	struct lb_driver driver = lb_haproxy_driver(lb);
	static const struct lb_route routes[] = {
	        {"20261202_063000_00001_abcde", "blue"}, {"abcde", "blue"}, {"fghij", "green"}};
	driver.set_routes(driver.impl, routes, sizeof(routes) / sizeof(routes[0]));
	run(base, NULL);
	run(base, NULL); /* a plan's changes go out once the show map was answered */
	lb_haproxy_free(lb);
	check(switched.calls == 1 && current.calls == 1);
	return 0;
}
