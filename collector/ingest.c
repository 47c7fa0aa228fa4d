/*
 * Ingest on the collector's loop. Both sockets (SUB and the ZAP REP) are
 * watched through ZMQ_FD, which is edge-triggered: each wake-up drains until
 * ZMQ_EVENTS has no POLLIN, with a budget per wake-up so ingest cannot starve
 * the tick and the API. A spent budget resumes through a zero-delay timer,
 * not event_active(): libevent runs events activated during a pass in that
 * same pass, so self-activation would starve every other event, while an
 * expired timer is only run after the loop has polled I/O again.
 */
#include "ingest.h"

#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <zmq.h>

#include "allowlist.h"
#include "curve_keys.h"
#include "failure_ratio.h"
#include "ingest_monitor.h"
#include "log.h"
#include "log_limit.h"

#define INGEST_BUDGET 2048
/* ZMQ_RCVHWM is per connection, i.e. per agent. Reports are snapshots, one
 * per interval: a short backlog is plenty, and under overload dropping an
 * old snapshot loses nothing. (100000 here cost 930 MiB with 1000 flooding
 * publishers; see tests/bench/collector_ingest.) */
#define INGEST_RCVHWM_PER_AGENT 10
/* Agents all reconnect at once after a collector restart; libzmq's default
 * listen backlog of 100 turns that into a SYN flood on a large fleet. */
#define INGEST_LISTEN_BACKLOG 4096
/* No ZeroMQ heartbeats on this side: libzmq 4.3 keeps every connection's
 * heartbeat timers in one ordered map and cancels them by walking it, so with
 * thousands of agents each message cost O(agents) (60 % of the collector's
 * CPU in tests/bench/collector_ingest at 7k agents). A silent agent is found
 * by its missing reports (node-stale); TCP keepalive reaps dead connections. */
#define ZAP_BUDGET          256
#define ZAP_ENDPOINT        "inproc://zeromq.zap.01"
#define REJECT_LOG_EVERY_MS 60000
/* log lines of refused handshakes and dropped connections: a few, then a pause */
#define CONNECTION_LOG_BURST    5
#define CONNECTION_LOG_EVERY_MS 60000

struct ingest {
	struct collector *collector;
	void *context;
	void *sub;
	void *zap;
	struct event *sub_event;
	struct event *zap_event;
	struct event *sub_resume;
	struct event *zap_resume;
	struct ingest_monitor *monitor; /* the SUB's connection events */
	struct allowlist allowlist;
	struct ingest_stats stats;
	struct log_limit reject_log[INGEST_REJECT_COUNT];
	struct log_limit refusal_log;
};

const char *ingest_reject_name(int reason)
{
	if (reason == INGEST_REJECT_IDENTITY_MISMATCH)
		return "identity_mismatch";
	if (reason == INGEST_REJECT_UNKNOWN_CLUSTER)
		return "unknown_cluster";
	if (reason == INGEST_REJECT_CLUSTER_MISMATCH)
		return "cluster_mismatch";
	if (reason == INGEST_REJECT_ROLE_MISMATCH)
		return "role_mismatch";
	if (reason == INGEST_REJECT_KEY_REMOVED)
		return "key_removed";
	if (reason == INGEST_REJECT_RATE_LIMITED)
		return "rate_limited";
	return report_reject_name((enum report_reject)reason);
}

const struct ingest_stats *ingest_stats(const struct ingest *ingest)
{
	return &ingest->stats;
}

struct ingest_log_counts ingest_log_suppressed(const struct ingest *ingest)
{
	struct ingest_log_counts counts = {
	        .refused_handshakes = ingest->refusal_log.suppressed_total,
	        .disconnects = ingest_monitor_log_suppressed(ingest->monitor),
	};
	for (int r = 0; r < INGEST_REJECT_COUNT; r++)
		counts.rejected_reports += ingest->reject_log[r].suppressed_total;
	return counts;
}

size_t ingest_allowed_keys(const struct ingest *ingest)
{
	return ingest->allowlist.count;
}

/* Counts a reject, and logs each reason at most once a minute. */
static void reject(struct ingest *ingest, int reason, const char *peer, const char *detail,
                   int64_t now)
{
	ingest->stats.rejected[reason]++;
	if (log_limit_allow(&ingest->reject_log[reason], now, NULL)) {
		log_warn("report rejected (%s) from %s: %s (%llu so far; logged once a minute)",
		         ingest_reject_name(reason), peer, detail,
		         (unsigned long long)ingest->stats.rejected[reason]);
	}
}

/* The index of cluster NAME in the collector's, or -1. */
static int cluster_index(const struct collector *collector, const char *name)
{
	for (size_t i = 0; i < collector->cluster_count; i++)
		if (strcmp(collector->clusters[i].name, name) == 0)
			return (int)i;
	return -1;
}

/* The latest counter sample of NODE_ID into OUT; false when it has none. */
static bool latest_sample(const struct fleet *fleet, const char *node_id,
                          struct counter_sample *out)
{
	const struct fleet_node *node = fleet_find(fleet, node_id);
	const struct counter_sample *sample = node != NULL ? fleet_sample(node, 0) : NULL;
	if (sample != NULL)
		*out = *sample;
	return sample != NULL;
}

/* Records REPORT; a new counter sample continuing the last one adds to queries_total. */
static enum fleet_result record(struct collector *collector, int cluster, const NodeReport *report,
                                int64_t now_ms)
{
	struct counter_sample before, after;
	bool had = latest_sample(&collector->fleet, report->node_id, &before);
	enum fleet_result result = fleet_update(&collector->fleet, report, now_ms);
	if (had && latest_sample(&collector->fleet, report->node_id, &after) &&
	    after.received_ms != before.received_ms && same_series(&before, &after))
		query_outcomes_add(&before, &after, collector->queries_total[cluster]);
	return result;
}

/* Closes a connection libzmq owns: shutdown(), not close(), so libzmq sees
 * the error, drops the session and closes the descriptor itself; the agent
 * reconnects and meets the ZAP handler again. */
static void close_session(int fd)
{
	if (fd >= 0)
		shutdown(fd, SHUT_RDWR);
}

/*
 * Whether REPORT's node id is one the fleet holds in another cluster or role:
 * a role's key admits any node id of its cluster and role, never a name
 * another cluster's or the other role's node already has.
 */
static bool taken_by_another(const struct ingest *ingest, const NodeReport *report)
{
	const struct fleet_node *known = fleet_find(&ingest->collector->fleet, report->node_id);
	if (known == NULL)
		return false;
	return strcmp(known->cluster, report->cluster) != 0 ||
	       (known->role != TRINOGUARD__V1__NODE_ROLE__ROLE_UNKNOWN &&
	        known->role != (int)report->role);
}

/*
 * Whether REPORT may be recorded under the key its connection was admitted
 * with (the ZAP handler set User-Id to that key): the key's binding names the
 * node id, cluster and role it may speak for (docs/DESIGN.md §4). A key gone
 * from the allow-list since (SIGHUP) has its connection closed.
 */
static bool bound_report(struct ingest *ingest, zmq_msg_t *msg, const NodeReport *report,
                         const char *peer, int64_t now_ms)
{
	const char *user_id = zmq_msg_gets(msg, "User-Id");
	struct allowed_key *key =
	        user_id != NULL ? allowlist_lookup(&ingest->allowlist, user_id) : NULL;
	char detail[512];
	if (key == NULL) {
		snprintf(detail, sizeof(detail),
		         "key %s is no longer in the allow-list (node_id %s)",
		         user_id != NULL ? user_id : "(none)", report->node_id);
		reject(ingest, INGEST_REJECT_KEY_REMOVED, peer, detail, now_ms);
		/* ZMQ_SRCFD: the connection the message came in on (libzmq's
		 * stream_engine_base.cpp keeps it as the "__fd" property) */
		close_session(zmq_msg_get(msg, ZMQ_SRCFD));
		return false;
	}
	key->session_fd = zmq_msg_get(msg, ZMQ_SRCFD);
	if (allowlist_permits(key, report->cluster, report->role, report->node_id)) {
		if (key->node_id[0] != '\0' || !taken_by_another(ingest, report))
			return true;
		snprintf(detail, sizeof(detail),
		         "key of %s/%s.pub (any node id) reported as node_id %s, which the fleet "
		         "holds as another cluster's or role's node",
		         key->cluster, allowlist_role_name(key->role), report->node_id);
		reject(ingest, INGEST_REJECT_IDENTITY_MISMATCH, peer, detail, now_ms);
		return false;
	}
	int reason = key->node_id[0] != '\0' && strcmp(key->node_id, report->node_id) != 0
	                     ? INGEST_REJECT_IDENTITY_MISMATCH
	             : strcmp(key->cluster, report->cluster) != 0 ? INGEST_REJECT_CLUSTER_MISMATCH
	                                                          : INGEST_REJECT_ROLE_MISMATCH;
	snprintf(detail, sizeof(detail), "key of %s/%s/%s reported as %s of cluster %s, node_id %s",
	         key->cluster, allowlist_role_name(key->role), key->node_id[0] ? key->node_id : "*",
	         allowlist_role_name(report->role), report->cluster, report->node_id);
	reject(ingest, reason, peer, detail, now_ms);
	return false;
}

/*
 * Whether the key this message came under has sent more than
 * max_reports_per_second in the current second. Counted before decoding, so
 * a flooding agent costs a lookup per message, not a decode.
 */
static bool over_rate(struct ingest *ingest, zmq_msg_t *msg, int64_t now_ms, char *detail,
                      size_t detail_len)
{
	const char *user_id = zmq_msg_gets(msg, "User-Id");
	struct allowed_key *key =
	        user_id != NULL ? allowlist_lookup(&ingest->allowlist, user_id) : NULL;
	if (key == NULL)
		return false; /* bound_report() refuses it */
	if (now_ms < key->rate_window_ms || now_ms - key->rate_window_ms >= 1000) {
		key->rate_window_ms = now_ms;
		key->reports_in_window = 0;
	}
	int64_t limit = ingest->collector->config.collector.max_reports_per_second;
	if (++key->reports_in_window <= limit)
		return false;
	snprintf(detail, detail_len,
	         "the key of %s/%s/%s sent more than %lld reports in a second "
	         "([collector] max_reports_per_second)",
	         key->cluster, allowlist_role_name(key->role), key->node_id[0] ? key->node_id : "*",
	         (long long)limit);
	return true;
}

static void handle_report(struct ingest *ingest, zmq_msg_t *msg, struct clock_now now)
{
	struct collector *collector = ingest->collector;
	ingest->stats.received++;
	const char *peer = zmq_msg_gets(msg, "Peer-Address");
	if (peer == NULL)
		peer = "?";
	enum report_reject why;
	char detail[256];
	if (collector->config.collector.curve &&
	    over_rate(ingest, msg, now.mono_ms, detail, sizeof(detail))) {
		reject(ingest, INGEST_REJECT_RATE_LIMITED, peer, detail, now.mono_ms);
		return;
	}
	NodeReport *report = report_decode(zmq_msg_data(msg), zmq_msg_size(msg), now.unix_ms, &why,
	                                   detail, sizeof(detail));
	if (report == NULL) {
		reject(ingest, why, peer, detail, now.mono_ms);
		return;
	}
	if (collector->config.collector.curve &&
	    !bound_report(ingest, msg, report, peer, now.mono_ms)) {
		report_free(report);
		return;
	}
	int cluster = cluster_index(collector, report->cluster);
	if (cluster < 0) {
		snprintf(detail, sizeof(detail),
		         "node %s reports cluster '%s', which has no "
		         "[cluster.%s] section",
		         report->node_id, report->cluster, report->cluster);
		reject(ingest, INGEST_REJECT_UNKNOWN_CLUSTER, peer, detail, now.mono_ms);
		report_free(report);
		return;
	}
	enum fleet_result result = record(collector, cluster, report, now.mono_ms);
	if (result == FLEET_ACCEPTED || result == FLEET_NEW_BOOT)
		fleet_note_clock_offset(&collector->fleet, report->node_id,
		                        report->sent_unix_ms - now.unix_ms);
	if (result == FLEET_DUPLICATE)
		ingest->stats.duplicates++;
	else if (result == FLEET_NO_MEMORY)
		log_error("out of memory recording a report of %s", report->node_id);
	else
		ingest->stats.accepted++;
	report_free(report);
}

/* SUB's ZMQ_FD woke us: drain reports. */
static void on_sub(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct ingest *ingest = arg;
	struct clock_now now = collector_clock(ingest->collector);
	for (int budget = INGEST_BUDGET; budget > 0; budget--) {
		int events = 0;
		size_t size = sizeof(events);
		if (zmq_getsockopt(ingest->sub, ZMQ_EVENTS, &events, &size) != 0 ||
		    !(events & ZMQ_POLLIN))
			return;
		zmq_msg_t msg;
		zmq_msg_init(&msg);
		if (zmq_msg_recv(&msg, ingest->sub, ZMQ_DONTWAIT) < 0) {
			zmq_msg_close(&msg);
			return;
		}
		handle_report(ingest, &msg, now);
		zmq_msg_close(&msg);
	}
	static const struct timeval zero = {0, 0};
	evtimer_add(ingest->sub_resume, &zero);
}

/* The frames of a ZAP request (RFC 27 ZAP 1.0); CURVE sends one credential. */
enum zap_request_frame {
	ZAP_VERSION,
	ZAP_REQUEST_ID,
	ZAP_DOMAIN,
	ZAP_ADDRESS,
	ZAP_ROUTING_ID,
	ZAP_MECHANISM,
	ZAP_CREDENTIAL, /* the client's 32-byte CURVE public key */
	ZAP_CURVE_FRAMES,
	ZAP_MAX_FRAMES = 8 /* more is malformed: kept out, the rest closed */
};

/*
 * Sends the reply: version, request id, status code, status text, user id
 * (the client's key, whose binding each report is checked against) and empty
 * metadata. False when a frame
 * could not be sent (logged): libzmq then drops the partial reply and the
 * handshake times out, so the agent retries.
 */
static bool send_zap_reply(void *zap, const zmq_msg_t *request_id, const char *status,
                           const char *text, const char *user_id)
{
	const struct {
		const void *data;
		size_t len;
	} reply[] = {
	        {"1.0", 3},
	        {request_id != NULL ? zmq_msg_data((zmq_msg_t *)request_id) : "",
	         request_id != NULL ? zmq_msg_size((zmq_msg_t *)request_id) : 0},
	        {status, strlen(status)},
	        {text, strlen(text)},
	        {user_id, strlen(user_id)},
	        {"", 0},
	};
	size_t count = sizeof(reply) / sizeof(reply[0]);
	for (size_t i = 0; i < count; i++) {
		if (zmq_send(zap, reply[i].data, reply[i].len, i + 1 < count ? ZMQ_SNDMORE : 0) <
		    0) {
			log_error("ZAP reply frame %zu: %s", i, zmq_strerror(zmq_errno()));
			return false;
		}
	}
	return true;
}

/* One ZAP request: admit allow-listed CURVE keys. */
static void answer_zap(struct ingest *ingest, int64_t now_ms)
{
	zmq_msg_t frames[ZAP_MAX_FRAMES];
	int count = 0;
	int more = 1;
	while (more) {
		zmq_msg_t msg;
		zmq_msg_init(&msg);
		if (zmq_msg_recv(&msg, ingest->zap, ZMQ_DONTWAIT) < 0) {
			zmq_msg_close(&msg);
			break;
		}
		more = zmq_msg_more(&msg);
		if (count < ZAP_MAX_FRAMES)
			frames[count++] = msg;
		else
			zmq_msg_close(&msg);
	}
	const struct allowed_key *allowed = NULL;
	char client_key[41] = "";
	char address[64] = "?";
	if (count >= ZAP_CURVE_FRAMES && zmq_msg_size(&frames[ZAP_MECHANISM]) == 5 &&
	    memcmp(zmq_msg_data(&frames[ZAP_MECHANISM]), "CURVE", 5) == 0 &&
	    zmq_msg_size(&frames[ZAP_CREDENTIAL]) == 32) {
		zmq_z85_encode(client_key, zmq_msg_data(&frames[ZAP_CREDENTIAL]), 32);
		allowed = allowlist_lookup(&ingest->allowlist, client_key);
		size_t len = zmq_msg_size(&frames[ZAP_ADDRESS]) < sizeof(address) - 1
		                     ? zmq_msg_size(&frames[ZAP_ADDRESS])
		                     : sizeof(address) - 1;
		memcpy(address, zmq_msg_data(&frames[ZAP_ADDRESS]), len);
		address[len] = '\0';
	}
	if (allowed != NULL) {
		ingest->stats.keys_admitted++;
	} else {
		ingest->stats.keys_refused++;
		uint64_t held = 0;
		if (log_limit_allow(&ingest->refusal_log, now_ms, &held))
			log_warn("refused a connection from %s: key %s is not in the allow-list "
			         "(%llu more refused since the last such line)",
			         address, client_key[0] ? client_key : "(not CURVE)",
			         (unsigned long long)held);
	}
	send_zap_reply(ingest->zap, count > ZAP_REQUEST_ID ? &frames[ZAP_REQUEST_ID] : NULL,
	               allowed != NULL ? "200" : "400", allowed != NULL ? "OK" : "key not allowed",
	               allowed != NULL ? client_key : "");
	for (int i = 0; i < count; i++)
		zmq_msg_close(&frames[i]);
}

/* The ZAP REP's ZMQ_FD woke us: answer every pending request. */
static void on_zap(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct ingest *ingest = arg;
	int64_t now_ms = collector_clock(ingest->collector).mono_ms;
	for (int budget = ZAP_BUDGET; budget > 0; budget--) {
		int events = 0;
		size_t size = sizeof(events);
		/* re-read after every send: a send can make the socket readable silently */
		if (zmq_getsockopt(ingest->zap, ZMQ_EVENTS, &events, &size) != 0 ||
		    !(events & ZMQ_POLLIN))
			return;
		answer_zap(ingest, now_ms);
	}
	static const struct timeval zero = {0, 0};
	evtimer_add(ingest->zap_resume, &zero);
}

static struct event *watch(struct ingest *ingest, void *socket,
                           void (*callback)(evutil_socket_t, short, void *), char *err,
                           size_t err_len)
{
	int fd;
	size_t size = sizeof(fd);
	if (zmq_getsockopt(socket, ZMQ_FD, &fd, &size) != 0) {
		snprintf(err, err_len, "ZMQ_FD: %s", zmq_strerror(zmq_errno()));
		return NULL;
	}
	struct event *ev =
	        event_new(ingest->collector->base, fd, EV_READ | EV_PERSIST, callback, ingest);
	if (ev == NULL || event_add(ev, NULL) != 0) {
		snprintf(err, err_len, "cannot watch a ZeroMQ socket");
		if (ev != NULL)
			event_free(ev);
		return NULL;
	}
	/* messages or requests may be queued before the first edge */
	event_active(ev, EV_READ, 0);
	return ev;
}

static int set_int(void *socket, int option, int value)
{
	return zmq_setsockopt(socket, option, &value, sizeof(value));
}

struct ingest *ingest_new(struct collector *collector, char *err, size_t err_len)
{
	const struct collector_section *cfg = &collector->config.collector;
	struct ingest *ingest = calloc(1, sizeof(*ingest));
	if (ingest == NULL) {
		snprintf(err, err_len, "out of memory");
		return NULL;
	}
	ingest->collector = collector;
	for (int r = 0; r < INGEST_REJECT_COUNT; r++)
		log_limit_init(&ingest->reject_log[r], 1, REJECT_LOG_EVERY_MS);
	log_limit_init(&ingest->refusal_log, CONNECTION_LOG_BURST, CONNECTION_LOG_EVERY_MS);
	ingest->sub_resume = evtimer_new(collector->base, on_sub, ingest);
	ingest->zap_resume = evtimer_new(collector->base, on_zap, ingest);
	char secret_key[41] = "";
	if (ingest->sub_resume == NULL || ingest->zap_resume == NULL) {
		snprintf(err, err_len, "out of memory");
		goto fail;
	}
	if (cfg->curve) {
		if (allowlist_load(cfg->allowed_keys_dir, &ingest->allowlist, err, err_len) != 0)
			goto fail;
		if (ingest->allowlist.count == 0) {
			snprintf(err, err_len,
			         "allowed_keys_dir %s holds no <cluster>/<role>/<node-id>.pub file "
			         "(nor <cluster>/<role>.pub): "
			         "with CURVE on, no agent could report (refusing to start)",
			         cfg->allowed_keys_dir);
			goto fail;
		}
		if (curve_key_read_secret(cfg->secret_key_file, secret_key, err, err_len) != 0)
			goto fail;
	}
	ingest->context = zmq_ctx_new();
	if (ingest->context == NULL) {
		snprintf(err, err_len, "zmq_ctx_new: %s", zmq_strerror(zmq_errno()));
		goto fail;
	}
	if (cfg->curve) {
		/* The handler must be bound before the server socket: with none, libzmq
		 * lets every CURVE client in. */
		ingest->zap = zmq_socket(ingest->context, ZMQ_REP);
		if (ingest->zap == NULL || zmq_bind(ingest->zap, ZAP_ENDPOINT) != 0) {
			snprintf(err, err_len, "ZAP handler: %s", zmq_strerror(zmq_errno()));
			goto fail;
		}
		ingest->zap_event = watch(ingest, ingest->zap, on_zap, err, err_len);
		if (ingest->zap_event == NULL)
			goto fail;
	}
	ingest->sub = zmq_socket(ingest->context, ZMQ_SUB);
	int64_t max_size = INGEST_MAX_MESSAGE_BYTES;
	if (ingest->sub == NULL || zmq_setsockopt(ingest->sub, ZMQ_SUBSCRIBE, "", 0) != 0 ||
	    zmq_setsockopt(ingest->sub, ZMQ_MAXMSGSIZE, &max_size, sizeof(max_size)) != 0 ||
	    set_int(ingest->sub, ZMQ_RCVHWM, INGEST_RCVHWM_PER_AGENT) != 0 ||
	    set_int(ingest->sub, ZMQ_BACKLOG, INGEST_LISTEN_BACKLOG) != 0 ||
	    set_int(ingest->sub, ZMQ_TCP_KEEPALIVE, 1) != 0 ||
	    set_int(ingest->sub, ZMQ_TCP_KEEPALIVE_IDLE, 60) != 0 ||
	    set_int(ingest->sub, ZMQ_LINGER, 0) != 0 ||
	    zmq_setsockopt(ingest->sub, ZMQ_ZAP_DOMAIN, "trino-guard", 11) != 0) {
		snprintf(err, err_len, "SUB socket: %s", zmq_strerror(zmq_errno()));
		goto fail;
	}
	if (cfg->curve && (set_int(ingest->sub, ZMQ_CURVE_SERVER, 1) != 0 ||
	                   zmq_setsockopt(ingest->sub, ZMQ_CURVE_SECRETKEY, secret_key, 41) != 0)) {
		snprintf(err, err_len, "CURVE: %s", zmq_strerror(zmq_errno()));
		goto fail;
	}
	explicit_bzero(secret_key, sizeof(secret_key));
	ingest->monitor = ingest_monitor_new(collector->base, ingest->context, ingest->sub,
	                                     &ingest->stats, err, err_len);
	if (ingest->monitor == NULL)
		goto fail;
	if (zmq_bind(ingest->sub, cfg->listen) != 0) {
		snprintf(err, err_len, "cannot listen on %s: %s", cfg->listen,
		         zmq_strerror(zmq_errno()));
		goto fail;
	}
	ingest->sub_event = watch(ingest, ingest->sub, on_sub, err, err_len);
	if (ingest->sub_event == NULL)
		goto fail;
	return ingest;
fail:
	explicit_bzero(secret_key, sizeof(secret_key));
	ingest_free(ingest);
	return NULL;
}

int ingest_reload_allowlist(struct ingest *ingest, char *err, size_t err_len)
{
	const struct collector_section *cfg = &ingest->collector->config.collector;
	if (!cfg->curve)
		return 0;
	struct allowlist fresh;
	if (allowlist_load(cfg->allowed_keys_dir, &fresh, err, err_len) != 0)
		return -1;
	/* A kept key keeps its connection; a removed one loses it now, not at its
	 * agent's next reconnect, which may be days away. */
	for (size_t i = 0; i < ingest->allowlist.count; i++) {
		const struct allowed_key *old = &ingest->allowlist.keys[i];
		struct allowed_key *kept = allowlist_lookup(&fresh, old->public_z85);
		if (kept != NULL) {
			kept->session_fd = old->session_fd;
		} else if (old->session_fd >= 0) {
			log_warn("closing the connection of %s/%s/%s: its key left the allow-list",
			         old->cluster, allowlist_role_name(old->role), old->node_id);
			close_session(old->session_fd);
			ingest->stats.sessions_closed++;
		}
	}
	allowlist_free(&ingest->allowlist);
	ingest->allowlist = fresh;
	return 0;
}

void ingest_free(struct ingest *ingest)
{
	if (ingest == NULL)
		return;
	if (ingest->sub_resume != NULL)
		event_free(ingest->sub_resume);
	if (ingest->zap_resume != NULL)
		event_free(ingest->zap_resume);
	if (ingest->sub_event != NULL)
		event_free(ingest->sub_event);
	if (ingest->zap_event != NULL)
		event_free(ingest->zap_event);
	ingest_monitor_free(ingest->monitor, ingest->sub);
	if (ingest->sub != NULL) {
		set_int(ingest->sub, ZMQ_LINGER, 0);
		zmq_close(ingest->sub);
	}
	if (ingest->zap != NULL) {
		set_int(ingest->zap, ZMQ_LINGER, 0);
		zmq_close(ingest->zap);
	}
	if (ingest->context != NULL)
		zmq_ctx_term(ingest->context);
	allowlist_free(&ingest->allowlist);
	free(ingest);
}
