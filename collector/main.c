/*
 * trino-guard-collector: receives the agents' reports, keeps the fleet
 * table, evaluates the guardrail rules every tick, journals each finding
 * as it opens and closes, and serves the HTTP API. A thin shell around
 * rules/: the loop, the clock, signals and files live here.
 */
#include <errno.h>
#include <event2/event.h>
#include <event2/http.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "alerts.h"
#include "api.h"
#include "collector.h"
#include "cutover_runner.h"
#include "ingest.h"
#include "journal.h"
#include "log.h"
#include "secret_file.h"
#include "status.h"

#define JOURNAL_EVENTS_IN_MEMORY 10000

int64_t collector_now_ms(void)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

int64_t collector_unix_ms(void)
{
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	return (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

static void usage(FILE *out)
{
	fprintf(out,
	        "usage: trino-guard-collector [-c FILE] [--check-config]\n"
	        "\n"
	        "Receives trino-guard-agent reports, finds mixed versions and config drift,\n"
	        "journals findings and serves the HTTP API.\n"
	        "\n"
	        "  -c, --config FILE   collector config (default /etc/trino-guard/collector.ini)\n"
	        "      --check-config  check the config file and exit (0 when valid)\n"
	        "      --version       print the version\n"
	        "  -h, --help          this text\n"
	        "\n"
	        "Signals: SIGTERM/SIGINT exit cleanly; SIGHUP re-reads the allowed keys.\n");
}

static void journal_finding(struct collector *collector, const char *type,
                            const struct finding *finding)
{
	json_t *event = status_finding_json(finding);
	json_object_set_new(event, "type", json_string(type));
	journal_append(collector->journal, event);
}

static void on_opened(const struct finding *finding, void *arg)
{
	struct collector *collector = arg;
	journal_finding(collector, "finding-opened", finding);
	struct alert alert;
	alert_from_finding(collector->config.collector.environment, finding, ALERT_FIRING,
	                   collector_unix_ms(), &alert);
	alerts_publish(collector->alerts, &alert);
	enum log_level level =
	        finding->severity == SEVERITY_CRITICAL ? LOG_LEVEL_ERROR : LOG_LEVEL_WARN;
	log_msg(level, "%s %s: %s", severity_name(finding->severity), finding->key,
	        finding->summary);
}

static void on_closed(const struct finding *finding, void *arg)
{
	struct collector *collector = arg;
	journal_finding(collector, "finding-closed", finding);
	struct alert alert;
	alert_from_finding(collector->config.collector.environment, finding, ALERT_RESOLVED,
	                   collector_unix_ms(), &alert);
	alerts_publish(collector->alerts, &alert);
	log_info("resolved %s", finding->key);
}

static void record_tick(struct tick_stats *ticks, double seconds)
{
	ticks->count++;
	ticks->sum_seconds += seconds;
	ticks->last_seconds = seconds;
	for (int i = 0; i < TICK_BUCKETS; i++)
		if (seconds <= tick_bucket_bounds[i])
			ticks->buckets[i]++;
}

/* No finding is judged before every agent had time to report once. */
static int64_t warmup_ms(const struct collector *collector)
{
	int64_t warmup = 3000;
	for (size_t i = 0; i < collector->cluster_count; i++)
		if (collector->clusters[i].stale_after_ms > warmup)
			warmup = collector->clusters[i].stale_after_ms;
	return warmup;
}

/* The tick timer: evaluate the rules and journal what changed. */
static void on_tick(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct collector *collector = arg;
	struct timespec start, end;
	clock_gettime(CLOCK_MONOTONIC, &start);
	int64_t now = collector_now_ms();
	size_t forgotten =
	        fleet_forget(&collector->fleet, now - collector->config.collector.forget_after_ms);
	if (forgotten > 0)
		log_info("forgot %zu node(s) not heard from for %lld s", forgotten,
		         (long long)(collector->config.collector.forget_after_ms / 1000));
	if (!collector->findings_ready && now - collector->started_ms >= warmup_ms(collector))
		collector->findings_ready = true;
	if (collector->findings_ready) {
		struct finding_list next = {0};
		const char *lb_cluster, *lb_why;
		int rc = findings_evaluate(&collector->fleet, collector->clusters,
		                           collector->cluster_count, now, &next);
		if (rc == 0 && cutover_runner_lb_problem(collector->cutover, &lb_cluster, &lb_why))
			rc = findings_add_lb_failure(&next, lb_cluster, lb_why);
		const char *degraded_cluster, *degraded_why;
		if (rc == 0 &&
		    cutover_runner_degraded(collector->cutover, &degraded_cluster, &degraded_why))
			rc = findings_add_degraded(&next, degraded_cluster, degraded_why);
		if (rc != 0) {
			log_error("out of memory evaluating the rules");
			finding_list_free(&next);
		} else {
			findings_diff(&collector->findings, &next, on_opened, on_closed, collector);
			alerts_reconcile(collector->alerts); /* once, after a restart */
			alerts_flush(collector->alerts);
			finding_list_free(&collector->findings);
			collector->findings = next;
			journal_sync(collector->journal);
		}
		cutover_runner_tick(collector->cutover, now);
	}
	clock_gettime(CLOCK_MONOTONIC, &end);
	record_tick(&collector->ticks, (double)(end.tv_sec - start.tv_sec) +
	                                       (double)(end.tv_nsec - start.tv_nsec) / 1e9);
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
	(void)what;
	struct collector *collector = arg;
	if (sig == SIGHUP) {
		char err[1024];
		if (ingest_reload_allowlist(collector->ingest, err, sizeof(err)) != 0)
			log_error("SIGHUP: %s; keeping the current allow-list", err);
		else
			log_info("SIGHUP: allow-list reloaded (%zu keys)",
			         ingest_allowed_keys(collector->ingest));
		return;
	}
	log_info("signal %d: exiting", (int)sig);
	event_base_loopbreak(collector->base);
}

/* The API token: a secret file, long enough not to be guessed. */
static char *read_token(const char *path, char *err, size_t err_len)
{
	char why[512];
	char *token = secret_file_read(path, why, sizeof(why));
	if (token == NULL) {
		snprintf(err, err_len, "token_file %s", why);
		return NULL;
	}
	if (strlen(token) < 16) {
		snprintf(err, err_len, "token_file %s: the token must be at least 16 characters",
		         path);
		secret_free(token);
		return NULL;
	}
	return token;
}

static void setup_clusters(struct collector *collector)
{
	const struct collector_config *config = &collector->config;
	collector->cluster_count = config->cluster_count;
	if (config->collector.initial_active != NULL)
		snprintf(collector->active_cluster, sizeof(collector->active_cluster), "%s",
		         config->collector.initial_active);
	for (size_t i = 0; i < config->cluster_count; i++) {
		struct cluster_settings *s = &collector->clusters[i];
		memset(s, 0, sizeof(*s));
		snprintf(s->name, sizeof(s->name), "%s", config->clusters[i].name);
		s->min_workers = config->clusters[i].min_workers;
		s->stale_after_ms = config->clusters[i].stale_after_ms;
		s->down_grace_ms = config->clusters[i].down_grace_ms;
		s->active = strcmp(s->name, collector->active_cluster) == 0;
	}
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
	        {"config", required_argument, NULL, 'c'},
	        {"check-config", no_argument, NULL, 'k'},
	        {"version", no_argument, NULL, 'V'},
	        {"help", no_argument, NULL, 'h'},
	        {NULL, 0, NULL, 0},
	};
	static struct collector collector;
	collector.config_path = "/etc/trino-guard/collector.ini";
	bool check_only = false;
	int c;
	while ((c = getopt_long(argc, argv, "c:h", options, NULL)) != -1) {
		switch (c) {
		case 'c':
			collector.config_path = optarg;
			break;
		case 'k':
			check_only = true;
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
	log_init(argv[0], LOG_LEVEL_INFO);
	char err[1024];
	if (collector_config_load(collector.config_path, &collector.config, err, sizeof(err)) !=
	    0) {
		log_error("%s", err);
		collector_config_free(&collector.config);
		return 2;
	}
	log_set_level((enum log_level)collector.config.collector.log_level);
	if (check_only) {
		printf("%s: OK (%zu clusters)\n", collector.config_path,
		       collector.config.cluster_count);
		collector_config_free(&collector.config);
		return 0;
	}
	signal(SIGPIPE, SIG_IGN);
	setup_clusters(&collector);
	fleet_init(&collector.fleet);
	collector.started_ms = collector_now_ms();
	collector.started_unix_ms = collector_unix_ms();
	int exit_code = 1;
	struct evhttp *api = NULL;
	struct event *tick = NULL, *signals[3] = {NULL, NULL, NULL};
	collector.base = event_base_new();
	if (collector.base == NULL) {
		log_error("cannot create the event loop");
		goto done;
	}
	if (collector.config.api.token_file != NULL &&
	    (collector.api_token = read_token(collector.config.api.token_file, err, sizeof(err))) ==
	            NULL) {
		log_error("%s", err);
		goto done;
	}
	collector.journal = journal_open(collector.config.collector.state_dir,
	                                 collector.config.collector.journal_max_bytes,
	                                 JOURNAL_EVENTS_IN_MEMORY, err, sizeof(err));
	if (collector.journal == NULL) {
		log_error("%s", err);
		goto done;
	}
	collector.alerts =
	        alerts_new(collector.base, &collector.config, collector.journal, err, sizeof(err));
	if (collector.alerts == NULL) {
		log_error("%s", err);
		goto done;
	}
	collector.ingest = ingest_new(&collector, err, sizeof(err));
	if (collector.ingest == NULL) {
		log_error("%s", err);
		goto done;
	}
	collector.cutover = cutover_runner_new(&collector, err, sizeof(err));
	if (collector.cutover == NULL) {
		log_error("%s", err);
		goto done;
	}
	api = api_start(&collector, err, sizeof(err));
	if (api == NULL) {
		log_error("%s", err);
		goto done;
	}
	if (!collector.config.collector.curve)
		log_warn("curve = off: reports are accepted from anyone who can reach %s, in "
		         "clear text",
		         collector.config.collector.listen);
	tick = event_new(collector.base, -1, EV_PERSIST, on_tick, &collector);
	int64_t tick_ms = collector.config.collector.tick_ms;
	struct timeval every = {.tv_sec = tick_ms / 1000, .tv_usec = (tick_ms % 1000) * 1000};
	const int signal_numbers[3] = {SIGTERM, SIGINT, SIGHUP};
	for (int i = 0; i < 3; i++) {
		signals[i] = evsignal_new(collector.base, signal_numbers[i], on_signal, &collector);
		if (signals[i] == NULL || evsignal_add(signals[i], NULL) != 0) {
			log_error("cannot install signal handlers");
			goto done;
		}
	}
	if (tick == NULL || event_add(tick, &every) != 0) {
		log_error("cannot start the tick timer");
		goto done;
	}
	json_t *started = json_pack("{s:s,s:s,s:s,s:i}", "type", "collector-started", "version",
	                            TG_VERSION, "listen", collector.config.collector.listen,
	                            "clusters", (int)collector.cluster_count);
	journal_append(collector.journal, started);
	journal_sync(collector.journal);
	log_info("collector %s: reports on %s (CURVE %s), API on http://%s, %zu clusters",
	         TG_VERSION, collector.config.collector.listen,
	         collector.config.collector.curve ? "on" : "off", collector.config.api.listen,
	         collector.cluster_count);

	event_base_dispatch(collector.base);

	journal_append(collector.journal, json_pack("{s:s}", "type", "collector-stopped"));
	exit_code = 0;
done:
	if (api != NULL)
		evhttp_free(api);
	cutover_runner_free(collector.cutover);
	alerts_free(collector.alerts);
	ingest_free(collector.ingest);
	journal_close(collector.journal);
	if (tick != NULL)
		event_free(tick);
	for (int i = 0; i < 3; i++)
		if (signals[i] != NULL)
			event_free(signals[i]);
	if (collector.base != NULL)
		event_base_free(collector.base);
	finding_list_free(&collector.findings);
	fleet_cleanup(&collector.fleet);
	secret_free(collector.api_token);
	collector_config_free(&collector.config);
	return exit_code;
}
