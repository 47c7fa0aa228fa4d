/*
 * trino-guard-collector: options, signals and the event loop around the
 * collector library (collector.c), which does the work: it receives the
 * agents' reports, evaluates the guardrail rules every tick, runs the
 * cutover, pages and serves the HTTP API.
 */
#include <event2/event.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collector.h"
#include "collector_check.h"
#include "collector_reload.h"
#include "log.h"

static void usage(FILE *out)
{
	fprintf(out,
	        "usage: trino-guard-collector [-c FILE] [--check-config]\n"
	        "\n"
	        "Receives trino-guard-agent reports, finds mixed versions and config drift,\n"
	        "journals findings and serves the HTTP API.\n"
	        "\n"
	        "  -c, --config FILE   collector config (default /etc/trino-guard/collector.ini)\n"
	        "      --check-config  check the config file and what it names, then exit:\n"
	        "                      0 ok, 1 a key, the allow-list or the LB is wrong, 2 bad "
	        "file\n"
	        "      --offline       with --check-config: do not probe the load balancer\n"
	        "      --version       print the version\n"
	        "  -h, --help          this text\n"
	        "\n"
	        "Signals: SIGTERM/SIGINT exit cleanly; SIGHUP re-reads the config file, applies\n"
	        "what can change live and logs each change that needs a restart.\n");
}

/* What the loop's callbacks reach: the collector, and the file SIGHUP reads again. */
struct daemon_context {
	struct collector *collector;
	const char *config_path;
};

/* The tick timer: one clock reading, one evaluation. */
static void on_tick(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct daemon_context *context = arg;
	collector_tick(context->collector, collector_clock(context->collector));
}

/*
 * SIGHUP reads the config file again (collector_reload.c logs what it
 * applied and what waits for a restart); SIGTERM and SIGINT end the loop.
 */
static void on_signal(evutil_socket_t sig, short what, void *arg)
{
	(void)what;
	struct daemon_context *context = arg;
	if (sig == SIGHUP) {
		char err[1024];
		if (collector_reload_config(context->collector, context->config_path, err,
		                            sizeof(err)) < 0)
			log_error("SIGHUP: %s; nothing applied, the running configuration is kept",
			          err);
		return;
	}
	log_info("signal %d: exiting", (int)sig);
	event_base_loopbreak(context->collector->base);
}

/* Parses the options; returns -1 to go on, else the exit code. */
static int parse_options(int argc, char **argv, const char **config_path, bool *check_only,
                         bool *offline)
{
	static const struct option options[] = {
	        {"config", required_argument, NULL, 'c'}, {"check-config", no_argument, NULL, 'k'},
	        {"offline", no_argument, NULL, 'O'},      {"version", no_argument, NULL, 'V'},
	        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0},
	};
	int c;
	while ((c = getopt_long(argc, argv, "c:h", options, NULL)) != -1) {
		switch (c) {
		case 'c':
			*config_path = optarg;
			break;
		case 'k':
			*check_only = true;
			break;
		case 'O':
			*offline = true;
			break;
		case 'V':
			printf("trino-guard-collector %s\n", TG_VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		usage(stderr);
		return 2;
	}
	return -1;
}

/* Runs the loop until a signal ends it. 0, or 1 when the loop could not start. */
static int run(struct daemon_context *context)
{
	struct collector *collector = context->collector;
	int exit_code = 1;
	struct event *tick = event_new(collector->base, -1, EV_PERSIST, on_tick, context);
	struct event *signals[3] = {NULL, NULL, NULL};
	const int signal_numbers[3] = {SIGTERM, SIGINT, SIGHUP};
	int64_t tick_ms = collector->config.collector.tick_ms;
	struct timeval every = {.tv_sec = tick_ms / 1000, .tv_usec = (tick_ms % 1000) * 1000};
	for (int i = 0; i < 3; i++) {
		signals[i] = evsignal_new(collector->base, signal_numbers[i], on_signal, context);
		if (signals[i] == NULL || evsignal_add(signals[i], NULL) != 0) {
			log_error("cannot install signal handlers");
			goto done;
		}
	}
	if (tick == NULL || event_add(tick, &every) != 0) {
		log_error("cannot start the tick timer");
		goto done;
	}
	log_info("collector %s: reports on %s (CURVE %s), API on http://%s, %zu clusters",
	         TG_VERSION, collector->config.collector.listen,
	         collector->config.collector.curve ? "on" : "off", collector->config.api.listen,
	         collector->cluster_count);
	if (event_base_dispatch(collector->base) != 0)
		log_error("the event loop failed");
	else
		exit_code = 0;
done:
	if (tick != NULL)
		event_free(tick);
	for (int i = 0; i < 3; i++)
		if (signals[i] != NULL)
			event_free(signals[i]);
	return exit_code;
}

int main(int argc, char **argv)
{
	const char *config_path = "/etc/trino-guard/collector.ini";
	bool check_only = false, offline = false;
	int early = parse_options(argc, argv, &config_path, &check_only, &offline);
	if (early >= 0)
		return early;
	if (check_only)
		return collector_check_config(config_path, offline, stdout, stderr);
	log_init(argv[0], LOG_LEVEL_INFO);
	static struct collector_config config;
	char err[1024];
	if (collector_config_load(config_path, &config, err, sizeof(err)) != 0) {
		log_error("%s", err);
		collector_config_free(&config);
		return 2;
	}
	log_set_level((enum log_level)config.collector.log_level);
	(void)signal(SIGPIPE, SIG_IGN); /* fails only for an invalid signal */
	struct event_base *base = event_base_new();
	if (base == NULL) {
		log_error("cannot create the event loop");
		collector_config_free(&config);
		return 1;
	}
	static struct collector collector;
	int exit_code = 1;
	if (collector_start(&collector, base, &config, NULL, err, sizeof(err)) != 0)
		log_error("%s", err);
	else
		exit_code = run(&(struct daemon_context){&collector, config_path});
	collector_stop(&collector);
	event_base_free(base);
	return exit_code;
}
