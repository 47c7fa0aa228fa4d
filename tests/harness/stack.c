/*
 * The loopback stack. Keys are made before the collector starts (it refuses
 * an empty allow-list); agents start last.
 */
#include "stack.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "curve_keys.h"
#include "harness.h"
#include "stack_parts.h"

bool stack_url_ok(void *url)
{
	char *body = harness_get_ok(url);
	free(body);
	return body != NULL;
}

static int start_sim(const struct stack_options *o, const char *name, const char *version,
                     int *port, int *control)
{
	int base = harness_port_range(o->workers + 2);
	*port = base;
	*control = base + o->workers + 1;
	char p[16], c[16], w[16], url[64];
	snprintf(p, sizeof(p), "%d", base);
	snprintf(c, sizeof(c), "%d", *control);
	snprintf(w, sizeof(w), "%d", o->workers);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/control", *control);
	const char *argv[] = {o->sim_bin,
	                      "--cluster",
	                      name,
	                      "--version",
	                      version,
	                      "--workers",
	                      w,
	                      "--port-base",
	                      p,
	                      "--control-port",
	                      c,
	                      "--etc-root",
	                      "etc",
	                      "--qps",
	                      o->qps != NULL ? o->qps : "100",
	                      o->client_timeout_ms != NULL ? "--client-timeout-ms" : NULL,
	                      o->client_timeout_ms,
	                      NULL};
	harness_spawn(argv, "/dev/null");
	return harness_wait_until(stack_url_ok, url, 10000) ? 0 : -1;
}

long stack_control(int control_port, const char *node, const char *body)
{
	char url[128];
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/control/%s", control_port, node);
	struct harness_response r;
	harness_http("POST", url, NULL, body, 3000, &r);
	harness_response_free(&r);
	return r.status;
}

static int allow_node(const char *cluster, int i, const char *node)
{
	char err[256], from[64];
	if (curve_keypair_write(node, err, sizeof(err)) != 0) {
		fprintf(stderr, "stack: %s\n", err);
		return -1;
	}
	snprintf(from, sizeof(from), "%s.pub", node);
	return harness_allow_key(from, "keys", cluster, i == 0 ? "coordinator" : "worker", node);
}

static void start_agent(const char *endpoints, const struct stack_options *o, const char *node,
                        const char *cluster, int port)
{
	char ini[128], text[1024];
	snprintf(ini, sizeof(ini), "%s.ini", node);
	snprintf(text, sizeof(text),
	         "[agent]\ncluster = %s\ninterval = %s\n[trino]\nurl = http://127.0.0.1:%d\n"
	         "etc_dir = etc/%s\n%s[collector]\nendpoints = %s\n"
	         "server_public_key_file = server.pub\npublic_key_file = %s.pub\n"
	         "secret_key_file = %s.key\n",
	         cluster, o->agent_interval, port, node,
	         o->agent_trino != NULL ? o->agent_trino : "", endpoints, node, node);
	harness_write_file(ini, text);
	const char *argv[] = {o->agent_bin, "-c", ini, NULL};
	harness_spawn(argv, "/dev/null");
}

int stack_start_collector(struct stack *s, const struct stack_options *o)
{
	(void)o;
	const char *argv[] = {o->collector_bin, "-c", "collector.ini", NULL};
	s->collector = harness_spawn(argv, "collector.log");
	char url[128];
	snprintf(url, sizeof(url), "%s/healthz", s->api);
	return harness_wait_until(stack_url_ok, url, 10000) ? 0 : -1;
}

static const char *const stack_clusters[] = {"blue", "green"};

/* Node I of CLUSTER as the sims name it: 0 is the coordinator, then the workers. */
static void node_name(const char *cluster, int i, char *node, size_t len)
{
	if (i == 0)
		snprintf(node, len, "%s-coord", cluster);
	else
		snprintf(node, len, "%s-worker-%d", cluster, i);
}

/* Replaces the first FROM in TEXT (of SIZE bytes) by TO; -1 when there is none or no room. */
static int replace_first(char *text, size_t size, const char *from, const char *to)
{
	char *at = strstr(text, from);
	size_t from_len = strlen(from), to_len = strlen(to), len = strlen(text);
	if (at == NULL || len - from_len + to_len >= size)
		return -1;
	memmove(at + to_len, at + from_len, len - (size_t)(at - text) - from_len + 1);
	memcpy(at, to, to_len);
	return 0;
}

/* deploy's haproxy.cfg with its paths, bind and servers made local (into TEXT). */
static int local_haproxy_cfg(const struct stack *s, const char *cfg, char *text, size_t size)
{
	char *deployed = harness_read_file(cfg);
	if (deployed == NULL || strlen(deployed) >= size) {
		fprintf(stderr, "stack: cannot read %s\n", cfg);
		free(deployed);
		return -1;
	}
	snprintf(text, size, "%s", deployed);
	free(deployed);
	char socket[600], active[600], ids[600], bind[64], blue[128], green[128];
	snprintf(socket, sizeof(socket), "%s/admin.sock mode 600", s->dir);
	snprintf(active, sizeof(active), "%s/active.map", s->dir);
	snprintf(ids, sizeof(ids), "%s/query-ids.map", s->dir);
	snprintf(bind, sizeof(bind), "bind 127.0.0.1:%d", s->frontend);
	snprintf(blue, sizeof(blue), "server blue 127.0.0.1:%d check inter 200ms fall 2 rise 1",
	         s->blue);
	snprintf(green, sizeof(green), "server green 127.0.0.1:%d check inter 200ms fall 2 rise 1",
	         s->green);
	int rc = replace_first(text, size, "/run/haproxy/admin.sock mode 660", socket);
	while (rc == 0 && strstr(text, "/etc/haproxy/trino-guard/trino-query-ids.map") != NULL)
		rc = replace_first(text, size, "/etc/haproxy/trino-guard/trino-query-ids.map", ids);
	rc = rc != 0 ? rc : replace_first(text, size, "/etc/haproxy/trino-guard/trino.map", active);
	rc = rc != 0 ? rc : replace_first(text, size, "bind :8080", bind);
	rc = rc != 0 ? rc
	             : replace_first(text, size,
	                             "server blue-coord trino-blue-coordinator:8080 check", blue);
	rc = rc != 0 ? rc
	             : replace_first(text, size,
	                             "server green-coord trino-green-coordinator:8080 check",
	                             green);
	if (rc != 0)
		fprintf(stderr, "stack: %s no longer has the lines the stack rewrites\n", cfg);
	return rc;
}

const struct stack_haproxy_files stack_haproxy_single = {"admin.sock", "active.map", "haproxy.cfg",
                                                         "haproxy.log"};

int stack_start_haproxy(const struct stack *s, const struct stack_options *o,
                        const struct stack_haproxy_files *files, int frontend, pid_t *pid)
{
	char text[8192], url[128], map[600], socket[600];
	const char *cfg = files->cfg, *log = files->log;
	snprintf(map, sizeof(map), "%s/%s", s->dir, files->map);
	snprintf(socket, sizeof(socket), "%s/%s", s->dir, files->socket);
	harness_write_file(map, "active bk_blue\n");
	harness_write_file("query-ids.map", "");
	if (o->haproxy_cfg != NULL) {
		if (local_haproxy_cfg(s, o->haproxy_cfg, text, sizeof(text)) != 0)
			return -1;
	} else
		snprintf(text, sizeof(text),
		         "global\n    stats socket %s mode 600 level admin\n"
		         "defaults\n    mode http\n    timeout connect 2s\n    timeout client 10s\n"
		         "    timeout server 10s\n"
		         "frontend trino\n    bind 127.0.0.1:%d\n"
		         "    use_backend %%[str(active),map(%s,bk_blue)]\n"
		         "backend bk_blue\n    option httpchk GET /v1/info\n"
		         "    server blue 127.0.0.1:%d check inter 200ms fall 2 rise 1\n"
		         "backend bk_green\n    option httpchk GET /v1/info\n"
		         "    server green 127.0.0.1:%d check inter 200ms fall 2 rise 1\n",
		         socket, frontend, map, s->blue, s->green);
	harness_write_file(cfg, text);
	const char *haproxy[] = {o->haproxy_bin, "-db", "-f", cfg, NULL};
	*pid = harness_spawn(haproxy, log);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/v1/status", frontend);
	if (!harness_wait_until(stack_url_ok, url, 10000)) {
		fprintf(stderr, "stack: HAProxy did not start (see %s/%s)\n", s->dir, log);
		return -1;
	}
	return 0;
}

/* collector.ini: the haproxy driver on HAProxy's socket and map, both clusters. */
static void write_collector_ini(const struct stack *s, const struct stack_options *o)
{
	char text[8192], haproxy[2048];
	snprintf(haproxy, sizeof(haproxy),
	         "[lb]\ndriver = haproxy\npoll = 300ms\ntimeout = 1s\nretries = 2\n"
	         "[lb.haproxy]\nsockets = %s/admin.sock\nmap_file = %s/active.map\nkey = active\n"
	         "backend.blue = bk_blue\nbackend.green = bk_green\n%s%s%s",
	         s->dir, s->dir, o->query_routing ? "query_id_map = " : "",
	         o->query_routing ? s->dir : "", o->query_routing ? "/query-ids.map\n" : "");
	snprintf(text, sizeof(text),
	         "[collector]\nlisten = tcp://127.0.0.1:%d\nsecret_key_file = server.key\n"
	         "allowed_keys_dir = keys\nstate_dir = state\ntick = %s\ninitial_active = blue\n"
	         "[api]\nlisten = 127.0.0.1:%d\n%s"
	         "[watch]\nduration = %s\nsustain = 2s\n%s%s"
	         "[cluster.blue]\nmin_workers = %d\nstale_after = 3s\ndown_grace = 2s\n"
	         "[cluster.green]\nmin_workers = %d\nstale_after = 3s\ndown_grace = 2s\n%s",
	         s->zmq_port, o->tick, s->api_port, o->token != NULL ? "token_file = token\n" : "",
	         o->watch_duration != NULL ? o->watch_duration : "10m",
	         o->extra_watch != NULL ? o->extra_watch : "",
	         o->lb_sections != NULL ? o->lb_sections : haproxy, o->workers, o->workers,
	         o->extra_config != NULL ? o->extra_config : "");
	harness_write_file("collector.ini", text);
}

int stack_allow_all_nodes(const struct stack_options *o)
{
	for (int c = 0; c < 2; c++) {
		for (int i = 0; i <= o->workers; i++) {
			char node[64];
			node_name(stack_clusters[c], i, node, sizeof(node));
			if (allow_node(stack_clusters[c], i, node) != 0)
				return -1;
		}
	}
	return 0;
}

void stack_start_agents(const struct stack *s, const struct stack_options *o, const char *endpoints)
{
	for (int c = 0; c < 2; c++) {
		int port = c == 0 ? s->blue : s->green;
		for (int i = 0; i <= o->workers; i++) {
			char node[64];
			node_name(stack_clusters[c], i, node, sizeof(node));
			start_agent(endpoints, o, node, stack_clusters[c], port + i);
		}
	}
}

int stack_start_sims(struct stack *s, const struct stack_options *o)
{
	memset(s, 0, sizeof(*s));
	if (getcwd(s->dir, sizeof(s->dir)) == NULL || mkdir("keys", 0755) != 0)
		return -1;
	if (start_sim(o, "blue", o->blue_version, &s->blue, &s->blue_control) != 0 ||
	    start_sim(o, "green", o->green_version, &s->green, &s->green_control) != 0) {
		fprintf(stderr, "stack: the sims did not start\n");
		return -1;
	}
	char err[256];
	if (curve_keypair_write("server", err, sizeof(err)) != 0) {
		fprintf(stderr, "stack: %s\n", err);
		return -1;
	}
	return stack_allow_all_nodes(o);
}

int stack_start(struct stack *s, const struct stack_options *o)
{
	if (stack_start_sims(s, o) != 0)
		return -1;
	int ports = harness_port_range(3);
	s->zmq_port = ports;
	s->api_port = ports + 1;
	s->frontend = ports + 2;
	snprintf(s->api, sizeof(s->api), "http://127.0.0.1:%d", s->api_port);

	if (stack_start_haproxy(s, o, &stack_haproxy_single, s->frontend, &s->haproxy) != 0)
		return -1;
	if (o->token != NULL)
		harness_write_file("token", o->token);
	write_collector_ini(s, o);
	if (stack_start_collector(s, o) != 0) {
		fprintf(stderr, "stack: the collector did not start (see %s/collector.log)\n",
		        s->dir);
		return -1;
	}
	char endpoints[64];
	snprintf(endpoints, sizeof(endpoints), "tcp://127.0.0.1:%d", s->zmq_port);
	stack_start_agents(s, o, endpoints);
	return 0;
}

char *stack_served_by(const struct stack *s)
{
	char url[128];
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/v1/status", s->frontend);
	char *body = harness_get_ok(url);
	json_t *status = body != NULL ? json_loads(body, 0, NULL) : NULL;
	const char *node = json_string_value(json_object_get(status, "nodeId"));
	char *copy = strdup(node != NULL ? node : "none");
	json_decref(status);
	free(body);
	return copy;
}

void stack_get_map_of(const struct stack *s, const struct stack_haproxy_files *files, char *backend,
                      size_t len)
{
	backend[0] = '\0';
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (fd < 0)
		return;
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s/%s", s->dir, files->socket);
	char command[700], answer[1024];
	snprintf(command, sizeof(command), "get map %s/%s active\n", s->dir, files->map);
	ssize_t got = 0;
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0 &&
	    write(fd, command, strlen(command)) == (ssize_t)strlen(command)) {
		ssize_t n;
		while (got < (ssize_t)sizeof(answer) - 1 &&
		       (n = read(fd, answer + got, sizeof(answer) - 1 - (size_t)got)) > 0)
			got += n;
	}
	close(fd);
	answer[got > 0 ? got : 0] = '\0';
	const char *value = strstr(answer, "value=\"");
	if (value != NULL)
		snprintf(backend, len, "%.*s", (int)strcspn(value + 7, "\""), value + 7);
}

void stack_get_map(const struct stack *s, char *backend, size_t len)
{
	stack_get_map_of(s, &stack_haproxy_single, backend, len);
}

bool stack_phase(const struct stack *s, char *phase, size_t phase_len, char *active,
                 size_t active_len)
{
	char url[128];
	snprintf(url, sizeof(url), "%s/v1/status", s->api);
	char *body = harness_get_ok(url);
	json_t *status = body != NULL ? json_loads(body, 0, NULL) : NULL;
	json_t *cutover = json_object_get(status, "cutover");
	bool ok = json_is_object(cutover);
	if (ok) {
		snprintf(phase, phase_len, "%s",
		         json_string_value(json_object_get(cutover, "phase")));
		snprintf(active, active_len, "%s",
		         json_string_value(json_object_get(cutover, "active")));
	}
	json_decref(status);
	free(body);
	return ok;
}

struct phase_goal {
	const struct stack *stack;
	const char *phase, *active;
	char seen_phase[32], seen_active[64];
};

static bool phase_reached(void *arg)
{
	struct phase_goal *goal = arg;
	if (!stack_phase(goal->stack, goal->seen_phase, sizeof(goal->seen_phase), goal->seen_active,
	                 sizeof(goal->seen_active)))
		return false;
	return strcmp(goal->seen_phase, goal->phase) == 0 &&
	       (goal->active == NULL || strcmp(goal->seen_active, goal->active) == 0);
}

bool stack_wait_phase(const struct stack *s, const char *phase, const char *active, int timeout_ms)
{
	struct phase_goal goal = {.stack = s, .phase = phase, .active = active};
	snprintf(goal.seen_phase, sizeof(goal.seen_phase), "no answer");
	if (harness_wait_until(phase_reached, &goal, timeout_ms))
		return true;
	char url[128];
	snprintf(url, sizeof(url), "%s/v1/status", s->api);
	char *body = harness_get_ok(url);
	json_t *status = body != NULL ? json_loads(body, 0, NULL) : NULL;
	char *cutover = json_dumps(json_object_get(status, "cutover"), 0);
	char *findings = json_dumps(json_object_get(status, "findings"), 0);
	fprintf(stderr, "stack: not %s on %s after %d ms: %s on %s; cutover %s; findings %s\n",
	        phase, active != NULL ? active : "any cluster", timeout_ms, goal.seen_phase,
	        goal.seen_active, cutover != NULL ? cutover : "-",
	        findings != NULL ? findings : "-");
	free(findings);
	free(cutover);
	json_decref(status);
	free(body);
	return false;
}
