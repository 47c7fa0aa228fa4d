/*
 * The end-to-end collector fixture (collector_e2e_fixture.h).
 */
#include "collector_e2e_fixture.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "curve_keys.h"
#include "harness.h"

struct collector_e2e fx;
const char *collector_e2e_green_version = "447";

bool url_ok(void *arg)
{
	char *body = harness_get_ok(arg);
	free(body);
	return body != NULL;
}

int start_sim(struct sim *sim, const char *name, const char *version, const char *workers)
{
	int base = harness_port_range(4);
	sim->port = base;
	sim->control_port = base + 3;
	char port[16], control[16], url[64];
	snprintf(port, sizeof(port), "%d", sim->port);
	snprintf(control, sizeof(control), "%d", sim->control_port);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/control", sim->control_port);
	const char *argv[] = {TG_SIM_BIN, "--cluster",      name,    "--version",
	                      version,    "--workers",      workers, "--port-base",
	                      port,       "--control-port", control, "--etc-root",
	                      "etc",      "--qps",          "50",    NULL};
	char log[64];
	snprintf(log, sizeof(log), "sim-%s.log", name);
	sim->pid = harness_spawn(argv, log);
	return harness_wait_until(url_ok, url, 10000) ? 0 : -1;
}

void control(const struct sim *sim, const char *node, const char *body)
{
	char url[256];
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/control/%s", sim->control_port, node);
	struct harness_response response;
	harness_http("POST", url, NULL, body, 5000, &response);
	if (response.status != 200)
		fail_msg("control %s %s: %ld %s", node, body, response.status, response.body);
	harness_response_free(&response);
}

void keygen(const char *name)
{
	char err[256];
	if (access(name, F_OK) != 0) {
		char prefix[128];
		snprintf(prefix, sizeof(prefix), "%s", name);
		if (curve_keypair_write(prefix, err, sizeof(err)) != 0)
			fail_msg("keygen %s: %s", name, err);
	}
}

void allow(const char *key_name, const char *cluster, const char *role, const char *node_id)
{
	char from[128];
	snprintf(from, sizeof(from), "%s.pub", key_name);
	if (harness_allow_key(from, "keys", cluster, role, node_id) != 0)
		fail_msg("cannot allow %s as %s/%s/%s", key_name, cluster, role, node_id);
}

/* Starts an agent for NODE_ID of CLUSTER on PORT, with KEY_NAME's key pair. */
pid_t start_agent(const char *node_id, const char *cluster, int port, const char *key_name,
                  bool curve)
{
	char ini[128], log[128], text[2048];
	snprintf(ini, sizeof(ini), "agent-%s-%s.ini", node_id, key_name);
	snprintf(log, sizeof(log), "agent-%s-%s.log", node_id, key_name);
	snprintf(text, sizeof(text),
	         "[agent]\ncluster = %s\nnode_id = %s\ninterval = 200ms\n"
	         "[trino]\nurl = http://127.0.0.1:%d\netc_dir = etc/%s\n"
	         "[collector]\nendpoints = tcp://127.0.0.1:%d\ncurve = %s\n"
	         "server_public_key_file = server.pub\npublic_key_file = %s.pub\n"
	         "secret_key_file = %s.key\n",
	         cluster, node_id, port, node_id, fx.zmq_port, curve ? "on" : "off", key_name,
	         key_name);
	harness_write_file(ini, text);
	const char *argv[] = {TG_AGENT_BIN, "-c", ini, NULL};
	return harness_spawn(argv, log);
}

int start_collector(void)
{
	char text[1024];
	snprintf(text, sizeof(text),
	         "[collector]\nlisten = tcp://127.0.0.1:%d\nsecret_key_file = server.key\n"
	         "allowed_keys_dir = keys\nstate_dir = state\ntick = 100ms\nenvironment = test\n"
	         "initial_active = blue\n"
	         "[api]\nlisten = 127.0.0.1:%d\n"
	         "[cluster.blue]\nmin_workers = 1\nstale_after = 2s\n"
	         "[cluster.green]\nmin_workers = 2\nstale_after = 2s\n",
	         fx.zmq_port, fx.api_port);
	harness_write_file("collector.ini", text);
	const char *argv[] = {TG_COLLECTOR_BIN, "-c", "collector.ini", NULL};
	fx.collector = harness_spawn(argv, "collector.log");
	char url[128];
	snprintf(url, sizeof(url), "%s/healthz", fx.api);
	return harness_wait_until(url_ok, url, 10000) ? 0 : -1;
}

json_t *get_json(const char *path)
{
	char url[256];
	snprintf(url, sizeof(url), "%s%s", fx.api, path);
	char *body = harness_get_ok(url);
	if (body == NULL)
		return NULL;
	json_t *value = json_loads(body, 0, NULL);
	free(body);
	return value;
}

json_t *finding(json_t *status, const char *key)
{
	size_t i;
	json_t *f;
	json_array_foreach(json_object_get(status, "findings"), i, f)
	{
		if (strcmp(json_string_value(json_object_get(f, "key")), key) == 0)
			return f;
	}
	return NULL;
}

struct finding_wait {
	const char *key;
	bool open;
	char summary[1024];
};

bool finding_state_is(void *arg)
{
	struct finding_wait *w = arg;
	json_t *status = get_json("/v1/status");
	if (status == NULL)
		return false;
	json_t *f = finding(status, w->key);
	if (f != NULL)
		snprintf(w->summary, sizeof(w->summary), "%s",
		         json_string_value(json_object_get(f, "summary")));
	bool ok = (f != NULL) == w->open;
	json_decref(status);
	return ok;
}

void expect_finding(const char *key, bool open, int timeout_ms, char *summary)
{
	struct finding_wait w = {.key = key, .open = open};
	if (!harness_wait_until(finding_state_is, &w, timeout_ms)) {
		json_t *status = get_json("/v1/status");
		char *text = json_dumps(json_object_get(status, "findings"), JSON_INDENT(1));
		fail_msg("finding %s is not %s after %d ms; open: %s", key,
		         open ? "open" : "closed", timeout_ms, text);
	}
	if (summary != NULL)
		snprintf(summary, 1024, "%s", w.summary);
}

bool no_findings(void *arg)
{
	(void)arg;
	json_t *status = get_json("/v1/status");
	bool none = status != NULL && json_array_size(json_object_get(status, "findings")) == 0 &&
	            !json_is_true(json_object_get(status, "warming_up"));
	json_decref(status);
	return none;
}

/* As many live nodes in /v1/status as the fixture started agents. */
static bool all_agents_live(void *arg)
{
	(void)arg;
	json_t *status = get_json("/v1/status");
	json_int_t live = 0;
	size_t i;
	json_t *cluster;
	json_array_foreach(json_object_get(status, "clusters"), i, cluster)
	{
		live += json_integer_value(json_object_get(cluster, "nodes_live"));
	}
	json_decref(status);
	return live == (json_int_t)fx.agent_count;
}

long long metric(const char *sample)
{
	char url[128];
	snprintf(url, sizeof(url), "%s/metrics", fx.api);
	char *body = harness_get_ok(url);
	if (body == NULL)
		return -1;
	long long value = -1;
	char line[256];
	snprintf(line, sizeof(line), "\n%s ", sample); /* the sample, not its # HELP line */
	const char *at = strstr(body, line);
	if (at != NULL)
		value = atoll(at + strlen(line));
	free(body);
	return value;
}

int collector_e2e_setup(void **state)
{
	(void)state;
	fx.dir = harness_tmpdir("tg-collector-test");
	if (fx.dir == NULL || chdir(fx.dir) != 0 || mkdir("keys", 0755) != 0)
		return -1;
	int ports = harness_port_range(2);
	fx.zmq_port = ports;
	fx.api_port = ports + 1;
	snprintf(fx.api, sizeof(fx.api), "http://127.0.0.1:%d", fx.api_port);
	if (start_sim(&fx.green, "green", collector_e2e_green_version, "2") != 0 ||
	    start_sim(&fx.blue, "blue", "446", "1") != 0)
		return -1;
	keygen("server");
	struct {
		const char *node;
		const char *cluster;
		int port;
	} nodes[] = {
	        {"green-coord", "green", fx.green.port},
	        {"green-worker-1", "green", fx.green.port + 1},
	        {"green-worker-2", "green", fx.green.port + 2},
	        {"blue-coord", "blue", fx.blue.port},
	        {"blue-worker-1", "blue", fx.blue.port + 1},
	};
	for (size_t i = 0; i < 5; i++) {
		keygen(nodes[i].node);
		allow(nodes[i].node, nodes[i].cluster,
		      strstr(nodes[i].node, "coord") != NULL ? "coordinator" : "worker",
		      nodes[i].node);
	}
	if (start_collector() != 0)
		return -1;
	for (size_t i = 0; i < 5; i++) {
		fx.agent_nodes[i] = nodes[i].node;
		fx.agents[i] = start_agent(nodes[i].node, nodes[i].cluster, nodes[i].port,
		                           nodes[i].node, true);
	}
	fx.agent_count = 5;
	/* every agent heard from, then no finding: on a loaded machine the
	 * warm-up can end before the first report, with nothing to find yet */
	return harness_wait_until(all_agents_live, NULL, 30000) &&
	                       harness_wait_until(no_findings, NULL, 15000)
	               ? 0
	               : -1;
}

int collector_e2e_teardown(void **state)
{
	(void)state;
	harness_stop_all();
	if (chdir("/") == 0)
		harness_rmrf(fx.dir);
	free(fx.dir);
	return 0;
}
