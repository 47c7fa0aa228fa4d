/*
 * The in-process collector of the collector's unit tests: config in a temp
 * dir, a fake clock, a bounded loop runner and report builders.
 */
#include "collector_fixture.h"

#include <arpa/inet.h>
#include <event2/event.h>
#include <event2/http.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "harness.h"

struct clock_now fixture_now;

struct clock_now fixture_clock(void)
{
	return fixture_now;
}

void fixture_advance(int64_t ms)
{
	fixture_now.mono_ms += ms;
	fixture_now.unix_ms += ms;
}

/* Wakes the loop now and then, so a pass never blocks for long. */
static void on_wake(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
}

int fixture_init(struct collector_fixture *f)
{
	memset(f, 0, sizeof(*f));
	fixture_now = (struct clock_now){FIXTURE_MONO_START_MS, FIXTURE_UNIX_START_MS};
	f->dir = harness_tmpdir("tg-unit-collector");
	f->base = event_base_new();
	if (f->dir == NULL || f->base == NULL)
		return -1;
	f->wake = event_new(f->base, -1, EV_PERSIST, on_wake, NULL);
	return f->wake != NULL ? 0 : -1;
}

void fixture_path(const struct collector_fixture *f, const char *name, char *out, size_t out_len)
{
	snprintf(out, out_len, "%s/%s", f->dir, name);
}

/* TEXT with every "%DIR%" replaced by DIR, into OUT. */
static int expand(const char *text, const char *dir, char *out, size_t out_len)
{
	size_t used = 0;
	while (*text != '\0') {
		const char *piece = text;
		size_t len = 1;
		if (strncmp(text, "%DIR%", 5) == 0) {
			piece = dir;
			len = strlen(dir);
			text += 5;
		} else {
			text++;
		}
		if (used + len >= out_len)
			return -1;
		memcpy(out + used, piece, len);
		used += len;
	}
	out[used] = '\0';
	return 0;
}

int fixture_start(struct collector_fixture *f, const char *extra, bool curve, struct lb_driver *lb)
{
	static char text[8192], expanded[16384];
	snprintf(f->listen, sizeof(f->listen), "ipc://%s/ingest.sock", f->dir);
	snprintf(text, sizeof(text),
	         "[collector]\nlisten = %s\ncurve = %s\n%sstate_dir = %%DIR%%/state\n"
	         "environment = test\n%s"
	         "[api]\nlisten = 127.0.0.1:0\n"
	         "[cluster.blue]\nmin_workers = 1\nstale_after = 5s\n"
	         "[cluster.green]\nmin_workers = 1\nstale_after = 5s\n%s",
	         f->listen, curve ? "on" : "off",
	         curve ? "secret_key_file = %DIR%/server.key\nallowed_keys_dir = %DIR%/keys\n" : "",
	         f->no_initial_active ? "" : "initial_active = blue\n", extra != NULL ? extra : "");
	char ini[512];
	fixture_path(f, "collector.ini", ini, sizeof(ini));
	if (expand(text, f->dir, expanded, sizeof(expanded)) != 0 ||
	    harness_write_file(ini, expanded) != 0) {
		fprintf(stderr, "cannot write %s\n", ini);
		return -1;
	}
	struct collector_config config;
	memset(&config, 0, sizeof(config));
	char err[1024];
	if (collector_config_load(ini, &config, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s\n", err);
		collector_config_free(&config);
		return -1;
	}
	struct collector_hooks hooks = {.read_clock = fixture_clock, .lb = lb};
	f->running = true;
	if (collector_start(&f->collector, f->base, &config, &hooks, err, sizeof(err)) != 0) {
		fprintf(stderr, "collector_start: %s\n", err);
		fixture_stop(f);
		return -1;
	}
	return 0;
}

void fixture_stop(struct collector_fixture *f)
{
	if (f->running)
		collector_stop(&f->collector);
	f->running = false;
}

void fixture_cleanup(struct collector_fixture *f)
{
	fixture_stop(f);
	if (f->wake != NULL)
		event_free(f->wake);
	if (f->base != NULL)
		event_base_free(f->base);
	harness_rmrf(f->dir);
	free(f->dir);
	memset(f, 0, sizeof(*f));
}

bool fixture_run_until(struct collector_fixture *f, bool (*cond)(void *arg), void *arg,
                       int timeout_ms)
{
	static const struct timeval every = {0, 2000};
	long long deadline = harness_now_ms() + timeout_ms;
	bool held = cond(arg);
	event_add(f->wake, &every);
	while (!held && harness_now_ms() < deadline) {
		/* blocks at most until the wake timer: no busy loop, no fixed sleep */
		event_base_loop(f->base, EVLOOP_ONCE);
		held = cond(arg);
	}
	event_del(f->wake);
	return held;
}

struct port_search {
	int port;
};

static void port_of(struct evhttp_bound_socket *bound, void *arg)
{
	struct port_search *search = arg;
	struct sockaddr_in addr;
	socklen_t len = sizeof(addr);
	if (getsockname(evhttp_bound_socket_get_fd(bound), (struct sockaddr *)&addr, &len) == 0 &&
	    addr.sin_family == AF_INET)
		search->port = ntohs(addr.sin_port);
}

int fixture_api_port(const struct collector_fixture *f)
{
	struct port_search search = {-1};
	if (f->collector.api != NULL)
		evhttp_foreach_bound_socket(f->collector.api, port_of, &search);
	return search.port;
}

void fixture_report(struct report_fixture *r, const char *node_id, const char *cluster,
                    bool coordinator, const char *version, uint64_t seq)
{
	report_fixture_init(r);
	NodeReport *report = &r->report;
	report->agent_id = (char *)node_id;
	report->node_id = (char *)node_id;
	report->cluster = (char *)cluster;
	report->trino_version = (char *)version;
	report->seq = seq;
	report->sent_unix_ms = fixture_now.unix_ms;
	report->role = coordinator ? TRINOGUARD__V1__NODE_ROLE__ROLE_COORDINATOR
	                           : TRINOGUARD__V1__NODE_ROLE__ROLE_WORKER;
	if (!coordinator)
		report->counters = NULL;
}
