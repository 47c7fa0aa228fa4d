/*
 * The collector as a library: start and stop every part in order, and the
 * tick that evaluates the rules, journals and pages what changed, and steps
 * the cutover. Reads no clock of its own: the tick gets NOW from its caller.
 */
#include "collector.h"

#include <event2/http.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alerts.h"
#include "api.h"
#include "api_limits.h"
#include "backend_health.h"
#include "collector_check.h"
#include "cutover_runner.h"
#include "ha.h"
#include "ingest.h"
#include "journal.h"
#include "lb_drivers.h"
#include "log.h"
#include "secret_file.h"
#include "state_file.h"
#include "status.h"

#define JOURNAL_EVENTS_IN_MEMORY 10000

struct clock_now collector_clock(const struct collector *collector)
{
	return collector->read_clock != NULL ? collector->read_clock() : clock_read();
}

const char *collector_active_cluster(const struct collector *collector)
{
	return collector->cutover != NULL ? cutover_runner_active(collector->cutover) : "";
}

struct finding_change {
	struct collector *collector;
	struct clock_now now;
};

static void journal_finding(struct collector *collector, const char *type,
                            const struct finding *finding, int64_t now_unix_ms)
{
	json_t *event = status_finding_json(finding);
	json_object_set_new(event, "type", json_string(type));
	journal_append(collector->journal, now_unix_ms, event);
}

static void on_opened(const struct finding *finding, void *arg)
{
	struct finding_change *change = arg;
	struct collector *collector = change->collector;
	journal_finding(collector, "finding-opened", finding, change->now.unix_ms);
	struct alert alert;
	alert_from_finding(collector->config.collector.environment, finding, ALERT_FIRING,
	                   change->now.unix_ms, &alert);
	alerts_publish(collector->alerts, &alert, change->now);
	enum log_level level =
	        finding->severity == SEVERITY_CRITICAL ? LOG_LEVEL_ERROR : LOG_LEVEL_WARN;
	log_msg(level, "%s %s: %s", severity_name(finding->severity), finding->key,
	        finding->summary);
}

static void on_closed(const struct finding *finding, void *arg)
{
	struct finding_change *change = arg;
	struct collector *collector = change->collector;
	journal_finding(collector, "finding-closed", finding, change->now.unix_ms);
	struct alert alert;
	alert_from_finding(collector->config.collector.environment, finding, ALERT_RESOLVED,
	                   change->now.unix_ms, &alert);
	alerts_publish(collector->alerts, &alert, change->now);
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

/* The findings of NOW, the LB's and the watch's included, into NEXT. 0 or -1 (memory). */
static int evaluate(struct collector *collector, int64_t now_ms, struct finding_list *next)
{
	const char *lb_cluster, *lb_why, *degraded_cluster, *degraded_why;
	int rc = findings_evaluate(&collector->fleet, collector->clusters, collector->cluster_count,
	                           collector_active_cluster(collector), now_ms, next);
	if (rc == 0 && cutover_runner_lb_problem(collector->cutover, &lb_cluster, &lb_why))
		rc = findings_add_lb_failure(next, lb_cluster, lb_why);
	if (rc == 0 && cutover_runner_lb_warning_open(collector->cutover, &lb_cluster, &lb_why))
		rc = findings_add_lb_map_file(next, lb_cluster, lb_why);
	if (rc == 0 &&
	    cutover_runner_degraded(collector->cutover, &degraded_cluster, &degraded_why))
		rc = findings_add_degraded(next, degraded_cluster, degraded_why);
	if (rc == 0 && collector->ha != NULL && ha_etcd_lost(collector->ha, now_ms))
		rc = findings_add_etcd_unreachable(next, ha_last_error(collector->ha));
	char state_dir_why[1024];
	if (rc == 0 && state_dir_health_summary(&collector->state_dir_health,
	                                        collector->config.collector.state_dir,
	                                        state_dir_why, sizeof(state_dir_why)))
		rc = findings_add_state_dir(next, state_dir_why);
	char corrupt_why[1024];
	if (rc == 0 && alerts_firing_corrupt(collector->alerts, corrupt_why, sizeof(corrupt_why)))
		rc = findings_add_state_file_corrupt(next, corrupt_why);
	if (rc == 0)
		rc = lb_health_findings(backend_health_view(collector->backend_health),
		                        &collector->fleet, collector->clusters,
		                        collector->cluster_count,
		                        collector_active_cluster(collector),
		                        collector->config.lb.health_grace_ms, now_ms, next);
	return rc;
}

/* The election's step; a change of role journaled and logged. */
static void tick_ha(struct collector *collector, struct clock_now now)
{
	ha_tick(collector->ha, now.mono_ms);
	bool acting = ha_acting(collector->ha, now.mono_ms);
	if (acting == collector->ha_was_acting)
		return;
	collector->ha_was_acting = acting;
	const char *leader = ha_leader(collector->ha);
	if (acting)
		log_info("ha: this collector (%s) leads", ha_id(collector->ha));
	else if (strcmp(leader, ha_id(collector->ha)) == 0 || leader[0] == '\0')
		log_warn("ha: this collector (%s) stops acting: its lease may lapse (%s)",
		         ha_id(collector->ha), ha_last_error(collector->ha));
	else
		log_info("ha: this collector (%s) follows %s", ha_id(collector->ha), leader);
	journal_append(collector->journal, now.unix_ms,
	               json_pack("{s:s,s:s,s:s}", "type", "ha-role", "role",
	                         acting ? "leader" : "follower", "leader", leader));
	journal_sync(collector->journal);
}

/* Logs each id two clusters claim, once, when the set of them changes. */
static void log_conflicts(const struct query_route_map *before, const struct query_route_map *now)
{
	bool same = before->conflict_count == now->conflict_count;
	for (size_t i = 0; same && i < now->conflict_count; i++)
		same = strcmp(before->conflicts[i].coordinator_id,
		              now->conflicts[i].coordinator_id) == 0;
	for (size_t i = 0; !same && i < now->conflict_count; i++)
		log_warn("coordinator id %s is claimed by clusters %s and %s: its queries' polls "
		         "are routed nowhere (HAProxy answers 503) until one coordinator restarts",
		         now->conflicts[i].coordinator_id, now->conflicts[i].clusters[0],
		         now->conflicts[i].clusters[1]);
}

/*
 * Routing by query id (docs/DESIGN.md §7): learns the coordinators' ids
 * from the fleet and hands the LB the whole map when it changed, and every
 * 2 s anyway (an instance restarted or reloaded forgets what it was told).
 */
static void sync_query_routes(struct collector *collector, int64_t now_ms)
{
	bool changed = query_routes_update(&collector->query_routes, &collector->fleet,
	                                   collector->clusters, collector->cluster_count, now_ms);
	struct query_route_map map;
	query_routes_map(&collector->query_routes, collector->clusters, collector->cluster_count,
	                 &map);
	log_conflicts(&collector->query_route_map, &map);
	collector->query_route_map = map;
	const struct lb_driver *driver =
	        collector->cutover != NULL ? cutover_runner_driver(collector->cutover) : NULL;
	if (driver == NULL || driver->set_routes == NULL ||
	    (!changed && now_ms - collector->routes_synced_ms < 2000))
		return;
	if (collector->ha != NULL && !ha_acting(collector->ha, now_ms))
		return; /* only the leader writes to the LB; a new one syncs at its first tick */
	struct lb_route rows[QUERY_ROUTES_MAX];
	for (size_t i = 0; i < map.count; i++)
		rows[i] = (struct lb_route){map.routes[i].coordinator_id, map.routes[i].cluster};
	driver->set_routes(driver->impl, rows, map.count);
	collector->routes_synced_ms = now_ms;
}

void collector_tick(struct collector *collector, struct clock_now now)
{
	int64_t started_ns = clock_mono_ns();
	size_t forgotten = fleet_forget(&collector->fleet,
	                                now.mono_ms - collector->config.collector.forget_after_ms);
	if (forgotten > 0)
		log_info("forgot %zu node(s) not heard from for %lld s", forgotten,
		         (long long)(collector->config.collector.forget_after_ms / 1000));
	backend_health_tick(collector->backend_health, now);
	if (collector->ha != NULL)
		tick_ha(collector, now);
	if (!collector->findings_ready &&
	    findings_warmed_up(collector->clusters, collector->cluster_count,
	                       now.mono_ms - collector->started_ms))
		collector->findings_ready = true;
	state_dir_health_poll(&collector->state_dir_health, collector->journal, collector->alerts);
	if (collector->findings_ready) {
		struct finding_list next = {0};
		if (evaluate(collector, now.mono_ms, &next) != 0) {
			log_error("out of memory evaluating the rules");
			finding_list_free(&next);
		} else {
			struct finding_change change = {collector, now};
			findings_diff(&collector->findings, &next, on_opened, on_closed, &change);
			alerts_reconcile(collector->alerts, now); /* once, after a restart */
			alerts_flush(collector->alerts, now);
			finding_list_free(&collector->findings);
			collector->findings = next;
			journal_sync(collector->journal);
		}
		cutover_runner_tick(collector->cutover, now);
	}
	sync_query_routes(collector, now.mono_ms);
	record_tick(&collector->ticks, (double)(clock_mono_ns() - started_ns) / 1e9);
}

int collector_reload(struct collector *collector, char *err, size_t err_len)
{
	return ingest_reload_allowlist(collector->ingest, err, err_len);
}

static void setup_clusters(struct collector *collector)
{
	const struct collector_config *config = &collector->config;
	collector->cluster_count = config->cluster_count;
	for (size_t i = 0; i < config->cluster_count; i++) {
		struct cluster_settings *s = &collector->clusters[i];
		memset(s, 0, sizeof(*s));
		snprintf(s->name, sizeof(s->name), "%s", config->clusters[i].name);
		s->min_workers = config->clusters[i].min_workers;
		s->stale_after_ms = config->clusters[i].stale_after_ms;
		s->down_grace_ms = config->clusters[i].down_grace_ms;
		s->absent_from_ms = collector->started_ms + config->collector.absent_after_ms;
	}
}

/* A driver retries a failed attempt (from the driver's callback). */
static void on_lb_retry(const char *reason, void *arg)
{
	struct collector *collector = arg;
	if (collector->cutover != NULL)
		cutover_runner_lb_retrying(collector->cutover, reason, collector_clock(collector));
}

/* A driver says how a switch decided a step (from the driver's callback). */
static void on_lb_note(const char *note, void *arg)
{
	struct collector *collector = arg;
	if (collector->cutover != NULL)
		cutover_runner_lb_note(collector->cutover, note, collector_clock(collector));
}

/* A switch that worked left a problem behind (from the driver's callback). */
static void on_lb_warning(const char *warning, void *arg)
{
	struct collector *collector = arg;
	if (collector->cutover != NULL)
		cutover_runner_lb_warning(collector->cutover, warning, collector_clock(collector));
}

/* A driver asks whether CLUSTER's agents report it serving since SINCE_MS. */
static bool on_lb_cluster_ready(const char *cluster, int64_t since_ms, void *arg)
{
	struct collector *collector = arg;
	for (size_t i = 0; i < collector->cluster_count; i++)
		if (strcmp(collector->clusters[i].name, cluster) == 0)
			return lb_health_cluster_ready(&collector->fleet, &collector->clusters[i],
			                               since_ms,
			                               collector_clock(collector).mono_ms);
	return false;
}

/* The runner with the LB driver HOOKS give, or the one [lb] names; the health reader on it. */
static int start_cutover(struct collector *collector, const struct collector_hooks *hooks,
                         char *err, size_t err_len)
{
	struct lb_driver driver = {0};
	const struct lb_common driver_hooks = {
	        .on_retry = on_lb_retry,
	        .on_retry_arg = collector,
	        .on_note = on_lb_note,
	        .on_warning = on_lb_warning,
	        .cluster_ready = on_lb_cluster_ready,
	        .read_clock = collector->read_clock,
	};
	/* a saved state about a cluster no longer configured is refused at start */
	const char *names[COLLECTOR_MAX_CLUSTERS];
	for (size_t i = 0; i < collector->cluster_count; i++)
		names[i] = collector->clusters[i].name;
	if (state_file_check_clusters(collector->config.collector.state_dir,
	                              collector_clock(collector), names, collector->cluster_count,
	                              err, err_len) != 0)
		return -1;
	if (hooks != NULL && hooks->lb != NULL)
		driver = *hooks->lb;
	else if (lb_driver_from_config(collector->base, &collector->config, &driver_hooks, &driver,
	                               err, err_len) != 0)
		return -1;
	collector->cutover = cutover_runner_new(collector, &driver, err, err_len);
	if (collector->cutover == NULL) {
		if (driver.impl != NULL)
			driver.free(driver.impl);
		return -1;
	}
	const char *name = collector->config.lb.driver != NULL ? collector->config.lb.driver : "lb";
	collector->backend_health = backend_health_new(collector, name, &driver);
	if (collector->backend_health == NULL) {
		snprintf(err, err_len, "out of memory");
		return -1;
	}
	return 0;
}

static void on_ha_state(const char *text, size_t len, bool takeover, void *arg)
{
	struct collector *collector = arg;
	if (collector->cutover != NULL)
		cutover_runner_ha_state(collector->cutover, text, len, takeover);
}

static json_t *on_ha_carry_out(const struct ha_request *request, int *status, void *arg)
{
	struct collector *collector = arg;
	return cutover_runner_ha_carry_out(collector->cutover, request, status);
}

static void on_ha_saved(uint64_t seq, bool ok, void *arg)
{
	struct collector *collector = arg;
	if (collector->cutover != NULL)
		cutover_runner_ha_saved(collector->cutover, seq, ok);
}

/* [ha]: joins the election (before the runner, which then waits to lead). */
static int start_ha(struct collector *collector, char *err, size_t err_len)
{
	const struct ha_section *s = &collector->config.ha;
	if (s->etcd_endpoints.count == 0)
		return 0;
	char prefix[256], id[256];
	if (s->prefix != NULL)
		snprintf(prefix, sizeof(prefix), "%s", s->prefix);
	else
		snprintf(prefix, sizeof(prefix), "/trino-guard/%s",
		         collector->config.collector.environment);
	if (s->id != NULL) {
		snprintf(id, sizeof(id), "%s", s->id);
	} else {
		char host[128] = "collector";
		(void)gethostname(host, sizeof(host) - 1);
		host[sizeof(host) - 1] = '\0';
		const char *listen = collector->config.api.listen;
		const char *port = listen != NULL ? strrchr(listen, ':') : NULL;
		snprintf(id, sizeof(id), "%s%s", host, port != NULL ? port : "");
	}
	const char *endpoints[COLLECTOR_MAX_ETCD_ENDPOINTS + 1] = {0};
	for (size_t i = 0; i < s->etcd_endpoints.count && i < COLLECTOR_MAX_ETCD_ENDPOINTS; i++)
		endpoints[i] = s->etcd_endpoints.items[i];
	char *password = NULL, why[512];
	if (s->password_file != NULL &&
	    (password = secret_file_read(s->password_file, why, sizeof(why))) == NULL) {
		snprintf(err, err_len, "[ha] password_file %s", why);
		return -1;
	}
	const struct ha_options options = {
	        .endpoints = endpoints,
	        .prefix = prefix,
	        .id = id,
	        .lease_ttl_ms = s->lease_ttl_ms,
	        .request_timeout_ms = s->request_timeout_ms,
	        .ca_file = s->ca_file,
	        .cert_file = s->cert_file,
	        .key_file = s->key_file,
	        .username = s->username,
	        .password = password,
	};
	const struct ha_hooks hooks = {
	        .state = on_ha_state,
	        .carry_out = on_ha_carry_out,
	        .saved = on_ha_saved,
	        .arg = collector,
	};
	collector->ha = ha_new(collector->base, &options, &hooks, why, sizeof(why));
	secret_free(password); /* etcd keeps its own copy */
	if (collector->ha == NULL) {
		snprintf(err, err_len, "[ha]: %s", why);
		return -1;
	}
	log_info("ha: %s joins the election under %s on %s", id, prefix, endpoints[0]);
	return 0;
}

int collector_start(struct collector *collector, struct event_base *base,
                    struct collector_config *config, const struct collector_hooks *hooks, char *err,
                    size_t err_len)
{
	memset(collector, 0, sizeof(*collector));
	collector->base = base;
	collector->config = *config;
	memset(config, 0, sizeof(*config));
	collector->read_clock = hooks != NULL ? hooks->read_clock : NULL;
	struct clock_now now = collector_clock(collector);
	collector->started_ms = now.mono_ms;
	collector->started_unix_ms = now.unix_ms;
	setup_clusters(collector);
	fleet_init(&collector->fleet);
	const struct collector_section *c = &collector->config.collector;
	if (collector->config.api.token_file != NULL &&
	    (collector->api_token =
	             collector_read_token(collector->config.api.token_file, err, err_len)) == NULL)
		return -1;
	collector->journal = journal_open(c->state_dir, c->journal_max_bytes,
	                                  JOURNAL_EVENTS_IN_MEMORY, err, err_len);
	if (collector->journal == NULL)
		return -1;
	collector->alerts =
	        alerts_new(base, &collector->config, collector->journal, now, err, err_len);
	if (collector->alerts == NULL)
		return -1;
	collector->ingest = ingest_new(collector, err, err_len);
	if (collector->ingest == NULL)
		return -1;
	if (start_ha(collector, err, err_len) != 0 ||
	    start_cutover(collector, hooks, err, err_len) != 0)
		return -1;
	collector->api = api_start(collector, err, err_len);
	if (collector->api == NULL)
		return -1;
	if (!c->curve)
		log_warn("curve = off: reports are accepted from anyone who can reach %s, in "
		         "clear text",
		         c->listen);
	journal_append(collector->journal, now.unix_ms,
	               json_pack("{s:s,s:s,s:s,s:i}", "type", "collector-started", "version",
	                         TG_VERSION, "listen", c->listen, "clusters",
	                         (int)collector->cluster_count));
	journal_sync(collector->journal);
	return 0;
}

void collector_stop(struct collector *collector)
{
	if (collector->journal != NULL && collector->api != NULL)
		journal_append(collector->journal, collector_clock(collector).unix_ms,
		               json_pack("{s:s}", "type", "collector-stopped"));
	ha_free(collector->ha); /* answers the requests it holds while their connections live */
	if (collector->api != NULL)
		evhttp_free(collector->api);
	api_limits_free(collector->api_limits); /* after evhttp: its connections call back */
	cutover_runner_free(collector->cutover);
	backend_health_free(collector->backend_health);
	alerts_free(collector->alerts);
	ingest_free(collector->ingest);
	journal_close(collector->journal);
	finding_list_free(&collector->findings);
	fleet_cleanup(&collector->fleet);
	secret_free(collector->api_token);
	collector_config_free(&collector->config);
	memset(collector, 0, sizeof(*collector));
}
