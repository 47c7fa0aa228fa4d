/*
 * trino-guard-agent: one per Trino node. Every interval it polls the local
 * Trino, refreshes the config digests and publishes one complete NodeReport
 * to every collector. A thin shell: the loop, signals and the command line.
 */
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "agent_check.h"
#include "agent_config.h"
#include "agent_metrics.h"
#include "clock.h"
#include "digests.h"
#include "http_client.h"
#include "log.h"
#include "poller.h"
#include "properties.h"
#include "publisher.h"
#include "report_build.h"
#include "report_codec.h"

struct agent {
	struct event_base *base;
	const char *config_path;
	struct agent_config config;
	char *node_id;
	char agent_id[256];
	uint8_t boot_id[REPORT_BOOT_ID_BYTES];
	uint64_t seq;
	struct http_client *http;
	struct poller *poller;
	struct digests *digests;
	struct publisher *publisher;
	struct agent_metrics_server *metrics;
	struct agent_counters counters; /* over the process's life, SIGHUPs included */
	int64_t started_unix_ms;
	int64_t cycle_started_ms;
	struct event *tick;
	struct event *deadline;
	struct event *signals[3];
	bool cycle_open;
	bool once;
	const char *dump_path;
	bool print;
	int exit_code;
};

static void usage(FILE *out)
{
	fprintf(out, "usage: trino-guard-agent [-c FILE] [--check-config] [--once --dump FILE] "
	             "[--print]\n"
	             "\n"
	             "Polls the local Trino node, hashes its config and publishes a report to the\n"
	             "collectors every interval.\n"
	             "\n"
	             "  -c, --config FILE   agent config (default /etc/trino-guard/agent.ini)\n"
	             "      --check-config  check the config file and what it names, then exit:\n"
	             "                      0 ok, 1 a key or node.properties is wrong, 2 bad file\n"
	             "      --offline       with --check-config: nothing over the network\n"
	             "      --once          poll once, then exit (with --dump)\n"
	             "      --dump FILE     write the encoded report of --once to FILE\n"
	             "      --print         also print each report as one JSON line on stdout\n"
	             "      --version       print the version\n"
	             "  -h, --help          this text\n"
	             "\n"
	             "Signals: SIGTERM/SIGINT exit cleanly; SIGHUP re-reads the config.\n");
}

static void stop_components(struct agent *agent)
{
	http_client_free(agent->http); /* cancels requests before the poller goes */
	agent->http = NULL;
	poller_free(agent->poller);
	agent->poller = NULL;
	digests_free(agent->digests);
	agent->digests = NULL;
	publisher_free(agent->publisher, 500);
	agent->publisher = NULL;
	agent_metrics_server_free(agent->metrics);
	agent->metrics = NULL;
	agent->cycle_open = false;
}

/* A scrape of the agent's /metrics: the counters and what the components know now. */
static void fill_metrics_view(void *arg, struct agent_metrics_view *view)
{
	struct agent *agent = arg;
	view->counters = &agent->counters;
	view->started_unix_ms = agent->started_unix_ms;
	view->collectors_connected = publisher_connected(agent->publisher);
	view->collector_endpoints = agent->config.collector.endpoints.count;
	view->trino_up = agent->poller != NULL && poller_snapshot(agent->poller)->info_ok;
}

static int start_components(struct agent *agent, char *err, size_t err_len)
{
	struct agent_config *config = &agent->config;
	agent->http = http_client_new(agent->base, err, err_len);
	if (agent->http == NULL)
		return -1;
	agent->poller = poller_new(agent->http, config, &agent->counters.polls, err, err_len);
	if (agent->poller == NULL)
		return -1;
	agent->digests =
	        digests_new(config->trino.etc_dir, config->config.exclude_keys.items,
	                    config->config.exclude_keys.count, config->config.extra_files.items,
	                    config->config.extra_files.count);
	if (agent->digests == NULL) {
		snprintf(err, err_len, "out of memory");
		return -1;
	}
	if (!agent->once) {
		agent->publisher = publisher_new(agent->base, &config->collector, err, err_len);
		if (agent->publisher == NULL)
			return -1;
		if (!config->collector.curve)
			log_warn("curve = off: reports travel in clear text and any process can "
			         "publish to the collector");
	}
	if (!agent->once && config->agent.metrics_port > 0) {
		agent->metrics = agent_metrics_server_new(
		        agent->base, config->agent.metrics_address, (int)config->agent.metrics_port,
		        fill_metrics_view, agent, err, err_len);
		if (agent->metrics == NULL)
			return -1;
		log_info("serving /metrics on %s port %lld", config->agent.metrics_address,
		         (long long)config->agent.metrics_port);
	}
	return 0;
}

static int write_dump(const char *path, const uint8_t *data, size_t len)
{
	FILE *f = fopen(path, "wb");
	if (f == NULL) {
		log_error("%s: %s", path, strerror(errno));
		return -1;
	}
	size_t written = fwrite(data, 1, len, f);
	if (fclose(f) != 0 || written != len) {
		log_error("%s: write failed", path);
		return -1;
	}
	return 0;
}

/* Builds, checks and sends the report of the cycle that just ended. */
static void publish(struct agent *agent)
{
	agent->cycle_open = false;
	event_del(agent->deadline);
	int64_t pending_since = poller_info_pending_since(agent->poller);
	struct clock_now now = clock_read();
	agent->counters.last_poll_duration_ms = now.mono_ms - agent->cycle_started_ms;
	struct report_input input = {
	        .agent_id = agent->agent_id,
	        .boot_id = agent->boot_id,
	        .seq = ++agent->seq,
	        .sent_unix_ms = now.unix_ms,
	        .interval_ms = (uint32_t)agent->config.agent.interval_ms,
	        .cluster = agent->config.agent.cluster,
	        .node_id = agent->node_id,
	        .snapshot = poller_snapshot(agent->poller),
	        .info_silent_ms = pending_since >= 0 ? now.mono_ms - pending_since : 0,
	        .digests = agent->digests,
	};
	size_t len = 0;
	uint8_t *buf = report_build_encode(&input, &len);
	if (buf == NULL) {
		log_error("cannot build a report: out of memory");
		agent->counters.reports_failed++;
		return;
	}
	/* Decode what we send with the collector's own checks: a report it would
	 * reject is a bug worth a loud log line, not a silent gap. */
	enum report_reject reject;
	char detail[256];
	NodeReport *check =
	        report_decode(buf, len, input.sent_unix_ms, &reject, detail, sizeof(detail));
	if (check == NULL) {
		log_error("report %llu would be rejected (%s: %s)", (unsigned long long)input.seq,
		          report_reject_name(reject), detail);
		agent->counters.reports_failed++;
	}
	if (agent->print && check != NULL) {
		char *json = report_to_json(check);
		if (json != NULL) {
			printf("%s\n", json);
			(void)fflush(stdout); /* --print: a reader gone is not an agent error */
			free(json);
		}
	}
	report_free(check);
	if (agent->once) {
		agent->exit_code =
		        agent->dump_path != NULL && write_dump(agent->dump_path, buf, len) ? 1 : 0;
		event_base_loopbreak(agent->base);
	} else {
		bool queued = publisher_connected(agent->publisher) > 0 &&
		              publisher_send(agent->publisher, buf, len) == 0;
		if (queued)
			agent->counters.reports_sent++;
		else
			agent->counters.reports_dropped++;
	}
	free(buf);
}

/* Every request of the cycle has answered. */
static void on_cycle_done(void *arg)
{
	struct agent *agent = arg;
	if (agent->cycle_open)
		publish(agent);
}

/* Half an interval passed and some request is still out: report what we know. */
static void on_deadline(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct agent *agent = arg;
	if (agent->cycle_open)
		publish(agent);
}

/* The interval timer: start a new cycle. */
static void on_tick(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct agent *agent = arg;
	if (agent->cycle_open)
		publish(agent); /* never skip a report, even if the last cycle is late */
	digests_refresh(agent->digests);
	agent->cycle_open = true;
	agent->cycle_started_ms = clock_mono_ms();
	int64_t wait_ms = agent->once ? agent->config.trino.timeout_ms + 1000
	                              : agent->config.agent.interval_ms / 2;
	struct timeval tv = {.tv_sec = wait_ms / 1000, .tv_usec = (wait_ms % 1000) * 1000};
	evtimer_add(agent->deadline, &tv);
	poller_start_cycle(agent->poller, clock_mono_ms(), on_cycle_done, agent);
}

static void arm_tick(struct agent *agent)
{
	int64_t ms = agent->config.agent.interval_ms;
	struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};
	event_del(agent->tick);
	event_add(agent->tick, &tv);
	/* The first report goes out now. (event_active() with EV_TIMEOUT would make
	 * libevent schedule the next tick from the old deadline, an interval late.) */
	on_tick(-1, 0, agent);
}

/* SIGHUP: re-read the config; keep running on the old one if the new one is bad. */
static void reload(struct agent *agent)
{
	struct agent_config fresh = {0};
	char err[1024];
	if (agent_config_load(agent->config_path, &fresh, err, sizeof(err)) != 0) {
		log_error("SIGHUP: %s; keeping the running configuration", err);
		agent_config_free(&fresh);
		return;
	}
	char *node_id = agent_resolve_node_id(&fresh, err, sizeof(err));
	if (node_id == NULL) {
		log_error("SIGHUP: %s; keeping the running configuration", err);
		agent_config_free(&fresh);
		return;
	}
	stop_components(agent);
	agent_config_free(&agent->config);
	agent->config = fresh;
	free(agent->node_id);
	agent->node_id = node_id;
	log_set_level((enum log_level)agent->config.agent.log_level);
	if (start_components(agent, err, sizeof(err)) != 0) {
		log_error("SIGHUP: %s; exiting", err);
		agent->exit_code = 1;
		event_base_loopbreak(agent->base);
		return;
	}
	log_info("configuration reloaded from %s", agent->config_path);
	arm_tick(agent);
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
	(void)what;
	struct agent *agent = arg;
	if (sig == SIGHUP) {
		reload(agent);
		return;
	}
	log_info("signal %d: exiting", (int)sig);
	event_base_loopbreak(agent->base);
}

static void make_identity(struct agent *agent)
{
	if (getrandom(agent->boot_id, sizeof(agent->boot_id), 0) != sizeof(agent->boot_id)) {
		/* no entropy source: still unique enough per start */
		uint64_t mix = (uint64_t)clock_unix_ms() ^ ((uint64_t)getpid() << 32);
		memcpy(agent->boot_id, &mix, sizeof(mix));
	}
	char host[128] = "unknown-host";
	gethostname(host, sizeof(host) - 1);
	snprintf(agent->agent_id, sizeof(agent->agent_id), "%.100s@%.100s", agent->node_id, host);
}

/*
 * Reads the command line into agent and *check_only. Returns -1 to go on, or
 * the exit code: 0 after --version or --help, 2 on a usage error.
 */
static int parse_command_line(int argc, char **argv, struct agent *agent, bool *check_only,
                              bool *offline)
{
	static const struct option options[] = {
	        {"config", required_argument, NULL, 'c'},
	        {"check-config", no_argument, NULL, 'k'},
	        {"once", no_argument, NULL, 'o'},
	        {"dump", required_argument, NULL, 'd'},
	        {"print", no_argument, NULL, 'p'},
	        {"version", no_argument, NULL, 'V'},
	        {"help", no_argument, NULL, 'h'},
	        {"offline", no_argument, NULL, 'O'},
	        {NULL, 0, NULL, 0},
	};
	int c;
	while ((c = getopt_long(argc, argv, "c:h", options, NULL)) != -1) {
		switch (c) {
		case 'c':
			agent->config_path = optarg;
			break;
		case 'k':
			*check_only = true;
			break;
		case 'O':
			*offline = true;
			break;
		case 'o':
			agent->once = true;
			break;
		case 'd':
			agent->dump_path = optarg;
			break;
		case 'p':
			agent->print = true;
			break;
		case 'V':
			printf("trino-guard-agent %s\n", TG_VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc || (agent->dump_path != NULL && !agent->once)) {
		usage(stderr);
		return 2;
	}
	return -1;
}

/* Loads the config and resolves the node id; logs why and returns -1 when either fails. */
static int load_configuration(struct agent *agent)
{
	char err[1024];
	if (agent_config_load(agent->config_path, &agent->config, err, sizeof(err)) != 0) {
		log_error("%s", err);
		agent_config_free(&agent->config);
		return -1;
	}
	log_set_level((enum log_level)agent->config.agent.log_level);
	agent->node_id = agent_resolve_node_id(&agent->config, err, sizeof(err));
	if (agent->node_id == NULL) {
		log_error("%s", err);
		agent_config_free(&agent->config);
		return -1;
	}
	return 0;
}

/* The loop's own events: the interval tick, the cycle deadline and the signals. */
static void add_loop_events(struct agent *agent)
{
	agent->tick = event_new(agent->base, -1, EV_PERSIST, on_tick, agent);
	agent->deadline = evtimer_new(agent->base, on_deadline, agent);
	const int signals[3] = {SIGTERM, SIGINT, SIGHUP};
	for (int i = 0; i < 3; i++) {
		agent->signals[i] = evsignal_new(agent->base, signals[i], on_signal, agent);
		evsignal_add(agent->signals[i], NULL);
	}
}

/* After the loop: the components first, then the loop's events and the loop itself. */
static void agent_cleanup(struct agent *agent)
{
	stop_components(agent);
	event_free(agent->tick);
	event_free(agent->deadline);
	for (int i = 0; i < 3; i++)
		event_free(agent->signals[i]);
	event_base_free(agent->base);
	agent_config_free(&agent->config);
	free(agent->node_id);
}

int main(int argc, char **argv)
{
	struct agent agent = {.config_path = "/etc/trino-guard/agent.ini",
	                      .counters = {.last_poll_duration_ms = -1}};
	bool check_only = false, offline = false;
	int exit_code = parse_command_line(argc, argv, &agent, &check_only, &offline);
	if (exit_code >= 0)
		return exit_code;
	if (check_only)
		return agent_check_config(agent.config_path, offline, stdout, stderr);
	log_init(argv[0], LOG_LEVEL_INFO);

	if (load_configuration(&agent) != 0)
		return 2;
	(void)signal(SIGPIPE, SIG_IGN); /* fails only for an invalid signal */
	make_identity(&agent);
	agent.started_unix_ms = clock_unix_ms();

	char err[1024];
	agent.base = event_base_new();
	if (agent.base == NULL || start_components(&agent, err, sizeof(err)) != 0) {
		log_error("%s", agent.base == NULL ? "cannot create the event loop" : err);
		stop_components(&agent);
		agent_config_free(&agent.config);
		free(agent.node_id);
		return 1;
	}
	add_loop_events(&agent);
	arm_tick(&agent);
	log_info("agent for node %s of cluster %s: polling %s every %lld ms", agent.node_id,
	         agent.config.agent.cluster, agent.config.trino.url,
	         (long long)agent.config.agent.interval_ms);

	event_base_dispatch(agent.base);

	agent_cleanup(&agent);
	return agent.exit_code;
}
