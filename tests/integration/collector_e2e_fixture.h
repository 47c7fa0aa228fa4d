/*
 * The end-to-end collector fixture: two trino-sim clusters (green 447 with two
 * workers, blue 446 with one), one CURVE agent per node, the collector; and
 * the helpers its tests share (findings, metrics, sim control, keys).
 */
#ifndef TG_COLLECTOR_E2E_FIXTURE_H
#define TG_COLLECTOR_E2E_FIXTURE_H

#include <jansson.h>
#include <stdbool.h>
#include <sys/types.h>

struct sim {
	pid_t pid;
	int port;
	int control_port;
};

struct collector_e2e {
	char *dir;
	struct sim green; /* 447, 2 workers */
	struct sim blue;  /* 446, 1 worker */
	int zmq_port;
	int api_port;
	pid_t collector;
	char api[64];
	pid_t agents[8];
	const char *agent_nodes[8];
	size_t agent_count;
};

extern struct collector_e2e fx;

/* The version green's nodes pretend to be; set before collector_e2e_setup (default "447"). */
extern const char *collector_e2e_green_version;

bool url_ok(void *arg);
int start_sim(struct sim *sim, const char *name, const char *version, const char *workers);
void control(const struct sim *sim, const char *node, const char *body);
void keygen(const char *name);
void allow(const char *key_name, const char *cluster, const char *role, const char *node_id);
pid_t start_agent(const char *node_id, const char *cluster, int port, const char *key_name,
                  bool curve);
int start_collector(void);
json_t *get_json(const char *path);
json_t *finding(json_t *status, const char *key);
bool finding_state_is(void *arg);
void expect_finding(const char *key, bool open, int timeout_ms, char *summary);
bool no_findings(void *arg);
long long metric(const char *sample);
int collector_e2e_setup(void **state);
int collector_e2e_teardown(void **state);

#endif
