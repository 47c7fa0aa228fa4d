/*
 * The trino-sim fixture of test_sim and test_sim_faults: starting the three
 * clusters, and the GETs and control POSTs both programs make.
 */
#include "sim_fixture.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <regex.h>

#include "harness.h"

struct sim_fixture fx;

const char *const trino_user[] = {"X-Trino-User: trino-guard", NULL};

static bool sim_ready(void *arg)
{
	struct sim *sim = arg;
	char *body = harness_get_ok(sim->control);
	free(body);
	return body != NULL;
}

static int start_sim(struct sim *sim, const char *name, const char *version, int workers,
                     const char *extra1, const char *extra2)
{
	sim->port_base = harness_port_range(workers + 2);
	if (sim->port_base < 0)
		return -1;
	sim->control_port = sim->port_base + workers + 1;
	char port[16], control[16], workers_text[16], etc[512], log[512];
	snprintf(port, sizeof(port), "%d", sim->port_base);
	snprintf(control, sizeof(control), "%d", sim->control_port);
	snprintf(workers_text, sizeof(workers_text), "%d", workers);
	snprintf(etc, sizeof(etc), "%s/etc-%s", fx.dir, name);
	snprintf(log, sizeof(log), "%s/sim-%s.log", fx.dir, name);
	const char *argv[24] = {
	        TG_SIM_BIN,   "--cluster",   name,  "--version",      version, "--workers",
	        workers_text, "--port-base", port,  "--control-port", control, "--etc-root",
	        etc,          "--qps",       "200", "--seed",         "7"};
	int argc = 17;
	if (extra1 != NULL)
		argv[argc++] = extra1;
	if (extra2 != NULL)
		argv[argc++] = extra2;
	argv[argc] = NULL;
	sim->pid = harness_spawn(argv, log);
	snprintf(sim->url, sizeof(sim->url), "http://127.0.0.1:%d", sim->port_base);
	snprintf(sim->control, sizeof(sim->control), "http://127.0.0.1:%d/control",
	         sim->control_port);
	return harness_wait_until(sim_ready, sim, 10000) ? 0 : -1;
}

int sim_fixture_setup(void **state)
{
	(void)state;
	fx.dir = harness_tmpdir("tg-sim-test");
	if (fx.dir == NULL)
		return -1;
	if (start_sim(&fx.green, "green", "479", 2, "--catalogs", "7") != 0 ||
	    start_sim(&fx.blue, "blue", "423-e.3", 1, NULL, NULL) != 0 ||
	    start_sim(&fx.old, "old", "447", 1, "--management-user", "guard") != 0)
		return -1;
	return 0;
}

int sim_fixture_teardown(void **state)
{
	(void)state;
	harness_stop_all();
	harness_rmrf(fx.dir);
	free(fx.dir);
	return 0;
}

json_t *get_json(const char *url)
{
	char *body = harness_get_ok(url);
	if (body == NULL)
		fail_msg("GET %s did not answer 200", url);
	json_error_t error;
	json_t *value = json_loads(body, JSON_DECODE_ANY, &error);
	if (value == NULL)
		fail_msg("GET %s: not JSON (%s): %s", url, error.text, body);
	free(body);
	return value;
}

json_t *node_url_json(const struct sim *sim, int index, const char *path)
{
	char url[256];
	snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", sim->port_base + index, path);
	return get_json(url);
}

long post_control(const struct sim *sim, const char *node, const char *body, char **answer)
{
	char url[256];
	snprintf(url, sizeof(url), "%s/%s", sim->control, node);
	struct harness_response response;
	harness_http("POST", url, NULL, body, 5000, &response);
	if (answer != NULL)
		*answer = strdup(response.body != NULL ? response.body : "");
	harness_response_free(&response);
	return response.status;
}

void must_post(const struct sim *sim, const char *node, const char *body)
{
	char *answer = NULL;
	long status = post_control(sim, node, body, &answer);
	if (status != 200)
		fail_msg("POST %s %s -> %ld %s", node, body, status, answer);
	free(answer);
}

bool matches(const char *pattern, const char *text)
{
	regex_t re;
	assert_int_equal(regcomp(&re, pattern, REG_EXTENDED | REG_NOSUB), 0);
	bool ok = regexec(&re, text, 0, NULL, 0) == 0;
	regfree(&re);
	return ok;
}

void expect_status(const char *url, const char *const *headers, long status, const char *body)
{
	struct harness_response response;
	harness_http("GET", url, headers, NULL, 3000, &response);
	if (response.status != status)
		fail_msg("GET %s: %ld, expected %ld (%s)", url, response.status, status,
		         response.body);
	if (body != NULL && strcmp(response.body, body) != 0)
		fail_msg("GET %s: body '%s', expected '%s'", url, response.body, body);
	harness_response_free(&response);
}

struct counters read_counters(const struct sim *sim)
{
	json_t *control = get_json(sim->control);
	json_t *c = json_object_get(json_array_get(json_object_get(control, "nodes"), 0),
	                            "query_counters");
	struct counters out = {
	        json_integer_value(json_object_get(c, "submitted")),
	        json_integer_value(json_object_get(c, "completed")),
	        json_integer_value(json_object_get(c, "failed")),
	        json_integer_value(json_object_get(c, "user_error")),
	        json_integer_value(json_object_get(c, "internal")),
	        json_integer_value(json_object_get(c, "external")),
	        json_integer_value(json_object_get(c, "insufficient_resources")),
	        json_integer_value(json_object_get(c, "canceled")),
	        json_integer_value(json_object_get(c, "abandoned")),
	};
	json_decref(control);
	return out;
}

bool completed_reached(void *arg)
{
	struct completed_goal *goal = arg;
	return read_counters(goal->sim).completed >= goal->at_least;
}
