/*
 * The fixture test_sim and test_sim_faults share: three trino-sim clusters
 * on 127.0.0.1 in a temp dir, and the requests both make of them. The
 * helpers fail the running cmocka test on an answer they did not expect.
 */
#ifndef TG_SIM_FIXTURE_H
#define TG_SIM_FIXTURE_H

#include <stdbool.h>
#include <sys/types.h>

#include <jansson.h>

struct sim {
	pid_t pid;
	int port_base;
	int control_port;
	char url[64];     /* coordinator */
	char control[64]; /* control API */
};

struct sim_fixture {
	char *dir;
	struct sim green; /* 479, 2 workers, etc dirs, 7 catalogs */
	struct sim blue;  /* 423: no /metrics counters, old /v1/info */
	struct sim old;   /* 447 with --management-user guard */
};

/* The one fixture of the running test program, set up once for all its tests. */
extern struct sim_fixture fx;

/* The header that passes the management check of a sim without --management-user. */
extern const char *const trino_user[];

struct counters {
	long long submitted, completed, failed, user_error, internal, external, insufficient,
	        canceled, abandoned;
};

struct completed_goal {
	const struct sim *sim;
	long long at_least;
};

/* cmocka group setup: starts the three sims (green, blue, old); -1 when one does not answer. */
int sim_fixture_setup(void **state);

/* cmocka group teardown: stops every sim and removes the temp dir. */
int sim_fixture_teardown(void **state);

/* GET URL, which must answer 200 with JSON; the caller decrefs. */
json_t *get_json(const char *url);

/* GET PATH of node INDEX of SIM (0 is the coordinator) as JSON; the caller decrefs. */
json_t *node_url_json(const struct sim *sim, int index, const char *path);

/* POSTs BODY to the control API for NODE; the status, and the body in *ANSWER (caller frees). */
long post_control(const struct sim *sim, const char *node, const char *body, char **answer);

/* POSTs BODY to the control API for NODE, which must answer 200. */
void must_post(const struct sim *sim, const char *node, const char *body);

/* True when TEXT matches the extended regular expression PATTERN. */
bool matches(const char *pattern, const char *text);

/* GET URL with HEADERS must answer STATUS, and BODY exactly unless it is NULL. */
void expect_status(const char *url, const char *const *headers, long status, const char *body);

/* The coordinator's query counters, from the control API. */
struct counters read_counters(const struct sim *sim);

/* harness_wait_until condition: the coordinator completed at least goal->at_least queries. */
bool completed_reached(void *arg);

#endif
