/*
 * Each API connection gets a bufferevent of ours (evhttp_set_bevcb) that we
 * hold a reference to, and a deadline timer. libevent 2.1's evhttp has no
 * connection cap of its own (evhttp_set_max_connections came in 2.2), its
 * timeout restarts with every byte read, and a bufferevent has no "freed"
 * callback: bufferevent_free() clears its callbacks and drops evhttp's
 * reference, so a sweep finds the connections whose callbacks are gone and
 * drops ours, which closes the socket. (A pass-through filter's free_context
 * would say it at once, but 2.1's filters hold back what evhttp writes
 * before it enables EV_WRITE, so answers stall.)
 */
#include "api_limits.h"

#include <errno.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/listener.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"
#include "log_limit.h"

/* after an accept() error, or at the descriptor reserve, the listener rests this long */
#define ACCEPT_PAUSE_MS 1000
#define SWEEP_EVERY_MS  100
#define LIMIT_LOG_BURST 3
#define LIMIT_LOG_EVERY 60000

struct api_connection {
	struct api_limits *limits;
	struct bufferevent *bev; /* evhttp's, and one reference of ours */
	struct event *deadline;
	bool closing_at_once; /* accepted past the descriptor reserve */
	struct api_connection *prev, *next;
};

struct api_limits {
	struct event_base *base;
	struct evconnlistener *listener;
	struct event *resume; /* re-enables the listener after an accept() error */
	struct event *sweep;  /* finds the connections evhttp has freed */
	struct timeval request_timeout;
	bool paused; /* the listener is disabled (cap, reserve or accept error) */
	struct api_connection *connections;
	struct api_limits_stats stats;
	struct log_limit log;
};

/* Whether evhttp has let go of CONN: bufferevent_free() clears the callbacks. */
static bool freed_by_evhttp(const struct api_connection *conn)
{
	bufferevent_data_cb read_cb, write_cb;
	bufferevent_event_cb event_cb;
	void *arg;
	bufferevent_getcb(conn->bev, &read_cb, &write_cb, &event_cb, &arg);
	return read_cb == NULL && write_cb == NULL && event_cb == NULL;
}

/* Woken by CONN's deadline: closes it as if its client had hung up (evhttp
 * frees it; the sweep then closes the socket). */
static void on_deadline(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct api_connection *conn = arg;
	if (freed_by_evhttp(conn))
		return;
	if (!conn->closing_at_once)
		conn->limits->stats.timed_out++;
	bufferevent_trigger_event(conn->bev, BEV_EVENT_EOF | BEV_EVENT_READING, 0);
}

static void pause_listener(struct api_limits *limits)
{
	if (!limits->paused && evconnlistener_disable(limits->listener) == 0)
		limits->paused = true;
}

static void resume_listener(struct api_limits *limits)
{
	if (limits->paused && limits->stats.open < (uint64_t)limits->stats.max_connections &&
	    !evtimer_pending(limits->resume, NULL) && evconnlistener_enable(limits->listener) == 0)
		limits->paused = false;
}

/* Pauses the listener for ACCEPT_PAUSE_MS; it resumes then if below the cap. */
static void rest_listener(struct api_limits *limits)
{
	static const struct timeval pause = {ACCEPT_PAUSE_MS / 1000,
	                                     (ACCEPT_PAUSE_MS % 1000) * 1000};
	pause_listener(limits);
	evtimer_add(limits->resume, &pause);
}

/* Woken by the resume timer: the rest after an accept() error is over. */
static void on_resume(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	resume_listener(arg);
}

static void say(struct api_limits *limits, const char *what)
{
	uint64_t held = 0;
	if (log_limit_allow(&limits->log, clock_read().mono_ms, &held))
		log_warn("api: %s (%llu more such lines held back)", what,
		         (unsigned long long)held);
	limits->stats.log_suppressed = limits->log.suppressed_total;
}

/* Whether fewer than API_FD_RESERVE descriptors are free: the lowest free one
 * (what F_DUPFD hands out) has every lower one in use below it. */
static bool reserve_reached(const struct api_limits *limits)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY)
		return false;
	int probe = fcntl(evconnlistener_get_fd(limits->listener), F_DUPFD_CLOEXEC, 0);
	if (probe < 0)
		return true; /* none free at all */
	close(probe);
	return (rlim_t)probe + API_FD_RESERVE >= rl.rlim_cur;
}

/* Drops our reference to CONN's bufferevent (closing its socket) and CONN. */
static void connection_free(struct api_connection *conn)
{
	struct api_limits *limits = conn->limits;
	event_free(conn->deadline);
	bufferevent_decref(conn->bev);
	if (conn->prev != NULL)
		conn->prev->next = conn->next;
	else
		limits->connections = conn->next;
	if (conn->next != NULL)
		conn->next->prev = conn->prev;
	free(conn);
	limits->stats.open--;
}

/* Woken every SWEEP_EVERY_MS while connections are open: frees those evhttp is done with. */
static void on_sweep(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct api_limits *limits = arg;
	for (struct api_connection *conn = limits->connections, *next; conn != NULL; conn = next) {
		next = conn->next;
		if (freed_by_evhttp(conn))
			connection_free(conn);
	}
	resume_listener(limits);
	if (limits->connections != NULL) {
		static const struct timeval every = {0, SWEEP_EVERY_MS * 1000};
		evtimer_add(limits->sweep, &every);
	}
}

/* Arms CONN's deadline and checks the cap and the reserve. */
static void admit(struct api_limits *limits, struct api_connection *conn)
{
	limits->stats.accepted++;
	limits->stats.open++;
	struct timeval deadline = limits->request_timeout;
	if (reserve_reached(limits)) {
		limits->stats.reserve_closed++;
		conn->closing_at_once = true;
		deadline = (struct timeval){0, 0};
		rest_listener(limits);
		char what[200];
		snprintf(
		        what, sizeof(what),
		        "closing a connection: fewer than %d descriptors left below RLIMIT_NOFILE, "
		        "kept for the load balancer and the state dir "
		        "(trino_guard_api_reserve_closed_total)",
		        API_FD_RESERVE);
		say(limits, what);
	}
	evtimer_add(conn->deadline, &deadline);
	if (!evtimer_pending(limits->sweep, NULL)) {
		static const struct timeval every = {0, SWEEP_EVERY_MS * 1000};
		evtimer_add(limits->sweep, &every);
	}
	if (limits->stats.open >= (uint64_t)limits->stats.max_connections && !limits->paused) {
		limits->stats.cap_reached++;
		pause_listener(limits);
		say(limits, "[api] max_connections reached: new connections wait until one closes "
		            "(trino_guard_api_connection_cap_reached_total)");
	}
}

/* evhttp asks for the bufferevent of a connection it has just accepted. */
static struct bufferevent *new_connection(struct event_base *base, void *arg)
{
	struct api_limits *limits = arg;
	struct api_connection *conn = calloc(1, sizeof(*conn));
	if (conn == NULL)
		return NULL; /* evhttp makes a plain one: this connection goes unbounded */
	conn->limits = limits;
	conn->deadline = evtimer_new(base, on_deadline, conn);
	conn->bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
	if (conn->deadline == NULL || conn->bev == NULL) {
		if (conn->deadline != NULL)
			event_free(conn->deadline);
		if (conn->bev != NULL)
			bufferevent_free(conn->bev);
		free(conn);
		return NULL;
	}
	bufferevent_incref(conn->bev); /* ours: evhttp's bufferevent_free() leaves it to us */
	conn->next = limits->connections;
	if (conn->next != NULL)
		conn->next->prev = conn;
	limits->connections = conn;
	admit(limits, conn);
	return conn->bev;
}

/* accept() failed with something other than a retriable error: rest the listener. */
static void on_accept_error(struct evconnlistener *listener, void *arg)
{
	(void)listener;
	struct api_limits *limits = arg;
	int error = EVUTIL_SOCKET_ERROR();
	limits->stats.accept_errors++;
	rest_listener(limits);
	char what[160];
	snprintf(what, sizeof(what), "accept(): %s; not accepting for %d ms", strerror(error),
	         ACCEPT_PAUSE_MS);
	say(limits, what);
}

struct api_limits *api_limits_new(struct event_base *base, struct evhttp *http,
                                  struct evconnlistener *listener, int64_t max_connections,
                                  int64_t request_timeout_ms, char *err, size_t err_len)
{
	struct api_limits *limits = calloc(1, sizeof(*limits));
	if (limits == NULL || (limits->resume = evtimer_new(base, on_resume, limits)) == NULL ||
	    (limits->sweep = evtimer_new(base, on_sweep, limits)) == NULL) {
		snprintf(err, err_len, "out of memory");
		if (limits != NULL && limits->resume != NULL)
			event_free(limits->resume);
		free(limits);
		return NULL;
	}
	limits->base = base;
	limits->listener = listener;
	limits->stats.max_connections = max_connections > 0 ? max_connections : 1;
	limits->request_timeout =
	        (struct timeval){request_timeout_ms / 1000, (request_timeout_ms % 1000) * 1000};
	log_limit_init(&limits->log, LIMIT_LOG_BURST, LIMIT_LOG_EVERY);
	evconnlistener_set_error_cb(listener, on_accept_error);
	evhttp_set_bevcb(http, new_connection, limits);
	return limits;
}

void api_limits_free(struct api_limits *limits)
{
	if (limits == NULL)
		return;
	/* evhttp_free() has freed every connection: ours are the last references */
	struct api_connection *next;
	for (struct api_connection *conn = limits->connections; conn != NULL; conn = next) {
		next = conn->next;
		connection_free(conn);
	}
	event_free(limits->resume);
	event_free(limits->sweep);
	free(limits);
}

const struct api_limits_stats *api_limits_stats(const struct api_limits *limits)
{
	return &limits->stats;
}
