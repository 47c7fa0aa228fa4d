/*
 * The agent fixture of test_agent and test_agent_daemon: the collector's
 * keys and stand-in receiver, the sims, and starting agents against them.
 */
#include "agent_fixture.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <unistd.h>

#include "curve_keys.h"
#include "harness.h"

struct agent_fixture fx;

static bool sim_ready(void *arg)
{
	struct sim *sim = arg;
	char url[128];
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/control", sim->control_port);
	char *body = harness_get_ok(url);
	free(body);
	return body != NULL;
}

static int start_sim(struct sim *sim, const char *name, const char *version, const char *workers,
                     const char *extra1, const char *extra2)
{
	int base = harness_port_range(4);
	if (base < 0)
		return -1;
	sim->port = base;
	sim->control_port = base + 3;
	char port[16], control[16], etc[512], log[512];
	snprintf(port, sizeof(port), "%d", sim->port);
	snprintf(control, sizeof(control), "%d", sim->control_port);
	snprintf(etc, sizeof(etc), "%s/etc", fx.dir);
	snprintf(log, sizeof(log), "%s/sim-%s.log", fx.dir, name);
	const char *argv[] = {
	        TG_SIM_BIN, "--cluster",   name,  "--version",      version, "--workers",
	        workers,    "--port-base", port,  "--control-port", control, "--etc-root",
	        etc,        "--qps",       "100", extra1,           extra2,  NULL};
	sim->pid = harness_spawn(argv, log);
	return harness_wait_until(sim_ready, sim, 10000) ? 0 : -1;
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

void agent_keys(const char *node, char public_key[41])
{
	char prefix[512], path[600], err[256];
	snprintf(prefix, sizeof(prefix), "%s/%s", fx.dir, node);
	snprintf(path, sizeof(path), "%s.pub", prefix);
	if (access(path, R_OK) != 0 && curve_keypair_write(prefix, err, sizeof(err)) != 0)
		fail_msg("keygen: %s", err);
	if (curve_key_read_public(path, public_key, err, sizeof(err)) != 0)
		fail_msg("%s", err);
}

const char *write_agent_ini(const char *node, const struct sim *sim, int worker,
                            const char *interval, const char *endpoint, const char *extra)
{
	char public_key[41];
	agent_keys(node, public_key);
	char ini[512], text[4096];
	snprintf(ini, sizeof(ini), "%s/%s.ini", fx.dir, node);
	snprintf(text, sizeof(text),
	         "[agent]\ncluster = test\ninterval = %s\n"
	         "[trino]\nurl = http://127.0.0.1:%d\netc_dir = etc/%s\ntimeout = 5s\n%s\n"
	         "[collector]\nendpoints = %s\nserver_public_key_file = server.pub\n"
	         "public_key_file = %s.pub\nsecret_key_file = %s.key\n",
	         interval, sim->port + worker, node, extra != NULL ? extra : "",
	         endpoint != NULL ? endpoint : report_receiver_endpoint(fx.receiver), node, node);
	harness_write_file(ini, text);
	static char path[512];
	snprintf(path, sizeof(path), "%s", ini);
	return path;
}

pid_t start_agent(const char *node, const struct sim *sim, int worker, const char *interval,
                  const char *endpoint, const char *extra)
{
	const char *ini = write_agent_ini(node, sim, worker, interval, endpoint, extra);
	char log[512];
	snprintf(log, sizeof(log), "%s/agent-%s.log", fx.dir, node);
	const char *argv[] = {TG_AGENT_BIN, "-c", ini, NULL};
	return harness_spawn(argv, log);
}

NodeReport *next_from(const char *node_id, int timeout_ms)
{
	long long deadline = harness_now_ms() + harness_scaled_ms(timeout_ms);
	while (harness_now_ms() < deadline) {
		NodeReport *report =
		        report_receiver_next(fx.receiver, (int)(deadline - harness_now_ms()));
		if (report == NULL)
			return NULL;
		if (strcmp(report->node_id, node_id) == 0)
			return report;
		report_free(report);
	}
	return NULL;
}

NodeReport *wait_report(const char *node_id, bool (*pred)(const NodeReport *), int timeout_ms)
{
	long long deadline = harness_now_ms() + harness_scaled_ms(timeout_ms);
	while (harness_now_ms() < deadline) {
		NodeReport *report = next_from(node_id, (int)(deadline - harness_now_ms()));
		if (report == NULL)
			return NULL;
		if (pred(report))
			return report;
		report_free(report);
	}
	return NULL;
}

int agent_fixture_setup(void **state)
{
	(void)state;
	fx.dir = harness_tmpdir("tg-agent-test");
	if (fx.dir == NULL || chdir(fx.dir) != 0)
		return -1;
	char prefix[512], err[256];
	snprintf(prefix, sizeof(prefix), "%s/server", fx.dir);
	if (curve_keypair_write(prefix, err, sizeof(err)) != 0 ||
	    curve_key_read_public("server.pub", fx.server_public, err, sizeof(err)) != 0 ||
	    curve_key_read_secret("server.key", fx.server_secret, err, sizeof(err)) != 0)
		return -1;
	fx.receiver = report_receiver_new("tcp://127.0.0.1:*", fx.server_secret, err, sizeof(err));
	if (fx.receiver == NULL)
		return -1;
	const char *nodes[] = {"green-coord", "green-worker-1", "old-coord", "guarded-coord"};
	for (size_t i = 0; i < 4; i++) {
		char public_key[41];
		agent_keys(nodes[i], public_key);
		report_receiver_allow(fx.receiver, public_key, nodes[i]);
	}
	if (start_sim(&fx.green, "green", "447", "1", NULL, NULL) != 0 ||
	    start_sim(&fx.old, "old", "423-e.3", "0", NULL, NULL) != 0 ||
	    start_sim(&fx.guarded, "guarded", "447", "0", "--management-user", "guard") != 0)
		return -1;
	return 0;
}

int agent_fixture_teardown(void **state)
{
	(void)state;
	harness_stop_all();
	report_receiver_free(fx.receiver);
	harness_rmrf(fx.dir);
	free(fx.dir);
	return 0;
}
