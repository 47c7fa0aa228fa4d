/*
 * The simulated cluster's state and its query generator. Arrivals are a
 * Poisson process (exponential gaps) from a splitmix64 generator seeded on
 * the command line, so the sequence of outcomes repeats for a seed.
 */
#include "sim_model.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>

static uint64_t rng_next(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Uniform in (0, 1]. */
static double rng_uniform(uint64_t *state)
{
	return ((double)(rng_next(state) >> 11) + 1.0) / 9007199254740992.0;
}

/*
 * A coordinator's id, drawn at every (re)start as Trino's QueryIdGenerator
 * does: 5 characters of a-z and 2-9 without l and o. From the kernel's
 * random source, not the seeded generator: two sims started with one seed
 * must not share an id (real coordinators collide with probability 32^-5).
 */
static void random_coordinator_id(uint64_t *rng, char out[6])
{
	static const char alphabet[] = "abcdefghijkmnpqrstuvwxyz23456789";
	unsigned char bytes[5];
	if (getrandom(bytes, sizeof(bytes), 0) != (ssize_t)sizeof(bytes))
		for (int i = 0; i < 5; i++)
			bytes[i] = (unsigned char)rng_next(rng);
	for (int i = 0; i < 5; i++)
		out[i] = alphabet[bytes[i] % (sizeof(alphabet) - 1)];
	out[5] = '\0';
}

void sim_cluster_init(struct sim_cluster *cluster, const char *name, const char *version,
                      int workers, int port_base, uint64_t seed, int64_t now_ms)
{
	memset(cluster, 0, sizeof(*cluster));
	snprintf(cluster->name, sizeof(cluster->name), "%s", name);
	snprintf(cluster->environment, sizeof(cluster->environment), "production");
	cluster->rng_state = seed;
	cluster->error_type = SIM_ERROR_INTERNAL;
	cluster->next_arrival_ms = -1;
	cluster->node_count = (size_t)workers + 1;
	for (size_t i = 0; i < cluster->node_count; i++) {
		struct sim_node *node = &cluster->nodes[i];
		node->index = (int)i;
		node->coordinator = i == 0;
		node->port = port_base + (int)i;
		if (i == 0)
			snprintf(node->id, sizeof(node->id), "%s-coord", name);
		else
			snprintf(node->id, sizeof(node->id), "%s-worker-%zu", name, i);
		snprintf(node->version, sizeof(node->version), "%s", version);
		node->state = SIM_STATE_ACTIVE;
		node->started_ms = now_ms;
		random_coordinator_id(&cluster->rng_state, node->coordinator_id);
	}
}

static void schedule_next_arrival(struct sim_cluster *cluster, double from_ms)
{
	if (cluster->qps <= 0) {
		cluster->next_arrival_ms = -1;
		return;
	}
	double gap_s = -log(rng_uniform(&cluster->rng_state)) / cluster->qps;
	cluster->next_arrival_ms = from_ms + gap_s * 1000.0;
}

void sim_cluster_set_qps(struct sim_cluster *cluster, double qps, int64_t now_ms)
{
	cluster->qps = qps;
	schedule_next_arrival(cluster, (double)now_ms);
}

/* Counts one failed query of error TYPE as Trino's QueryManagerStats does. */
void sim_count_failure(struct sim_counters *c, enum sim_error_type type)
{
	c->failed++;
	switch (type) {
	case SIM_ERROR_USER:
		c->user_error++;
		break;
	case SIM_ERROR_INTERNAL:
		c->internal++;
		break;
	case SIM_ERROR_EXTERNAL:
		c->external++;
		break;
	case SIM_ERROR_INSUFFICIENT_RESOURCES:
		c->insufficient_resources++;
		break;
	}
}

/* One query from submission to its final state, counted as Trino's QueryManagerStats does. */
static void run_one_query(struct sim_cluster *cluster)
{
	struct sim_counters *c = &cluster->counters;
	c->submitted++;
	c->started++;
	c->completed++;
	double u = rng_uniform(&cluster->rng_state);
	if (u <= cluster->fail_ratio) {
		sim_count_failure(c, cluster->error_type);
		return;
	}
	if (u <= cluster->fail_ratio + cluster->user_error_ratio) {
		/* Background user errors: mostly bad SQL, one in five a cancel,
		 * which Trino counts as Failed + UserError + Canceled. */
		c->failed++;
		c->user_error++;
		if (rng_next(&cluster->rng_state) % 5 == 0)
			c->canceled++;
	}
}

void sim_cluster_advance(struct sim_cluster *cluster, int64_t now_ms)
{
	struct sim_node *coordinator = &cluster->nodes[0];
	/* A coordinator that does not answer runs no queries. */
	bool serving = !coordinator->down && !coordinator->hang &&
	               coordinator->state != SIM_STATE_SHUTTING_DOWN;
	while (cluster->next_arrival_ms >= 0 && cluster->next_arrival_ms <= (double)now_ms) {
		if (serving)
			run_one_query(cluster);
		schedule_next_arrival(cluster, cluster->next_arrival_ms);
	}
	/* Gauges: about qps x 0.5 s of background queries in flight, and the
	 * statement protocol's own. */
	uint64_t background = 0;
	if (serving && cluster->qps > 0)
		background = (uint64_t)llround(cluster->qps * 0.5 *
		                               (0.8 + 0.4 * rng_uniform(&cluster->rng_state)));
	cluster->counters.running = background + cluster->statement_running;
	cluster->counters.queued = cluster->statement_queued;
}

void sim_node_restart(struct sim_cluster *cluster, struct sim_node *node, int64_t now_ms)
{
	node->started_ms = now_ms;
	node->state = SIM_STATE_ACTIVE;
	random_coordinator_id(&cluster->rng_state, node->coordinator_id);
	if (node->coordinator)
		memset(&cluster->counters, 0, sizeof(cluster->counters));
}

bool sim_node_starting(const struct sim_cluster *cluster, const struct sim_node *node,
                       int64_t now_ms)
{
	return node->starting || now_ms - node->started_ms < cluster->startup_ms;
}

struct sim_node *sim_cluster_find(struct sim_cluster *cluster, const char *id)
{
	for (size_t i = 0; i < cluster->node_count; i++) {
		if (strcmp(cluster->nodes[i].id, id) == 0)
			return &cluster->nodes[i];
	}
	return NULL;
}

int sim_cluster_active_nodes(const struct sim_cluster *cluster)
{
	int active = 0;
	for (size_t i = 0; i < cluster->node_count; i++) {
		const struct sim_node *node = &cluster->nodes[i];
		/* Trino 477+ marks a node of another version INVALID, not active. */
		if (node->state == SIM_STATE_ACTIVE && !node->down && !node->hang &&
		    !node->hidden && strcmp(node->version, cluster->nodes[0].version) == 0)
			active++;
	}
	return active;
}

int sim_version_number(const char *version)
{
	return atoi(version);
}

static const char *const state_names[] = {"ACTIVE", "DRAINING", "DRAINED", "SHUTTING_DOWN"};
static const char *const error_type_names[] = {"USER_ERROR", "INTERNAL_ERROR", "EXTERNAL",
                                               "INSUFFICIENT_RESOURCES"};
static const char *const counters_mode_names[] = {"ok", "401", "403", "404"};

static int parse_name(const char *const *names, int count, const char *text)
{
	for (int i = 0; i < count; i++) {
		if (strcasecmp(names[i], text) == 0)
			return i;
	}
	return -1;
}

const char *sim_state_name(enum sim_node_state state)
{
	return state_names[state];
}

int sim_state_parse(const char *text, enum sim_node_state *state)
{
	int i = parse_name(state_names, 4, text);
	if (i < 0)
		return -1;
	*state = (enum sim_node_state)i;
	return 0;
}

const char *sim_error_type_name(enum sim_error_type type)
{
	return error_type_names[type];
}

int sim_error_type_parse(const char *text, enum sim_error_type *type)
{
	int i = parse_name(error_type_names, 4, text);
	if (i < 0)
		return -1;
	*type = (enum sim_error_type)i;
	return 0;
}

const char *sim_counters_mode_name(enum sim_counters_mode mode)
{
	return counters_mode_names[mode];
}

int sim_counters_mode_parse(const char *text, enum sim_counters_mode *mode)
{
	int i = parse_name(counters_mode_names, 4, text);
	if (i < 0)
		return -1;
	*mode = (enum sim_counters_mode)i;
	return 0;
}

void sim_format_duration(int64_t ms, char *out, size_t out_len)
{
	static const struct {
		const char *unit;
		double ms;
	} units[] = {{"d", 86400000.0}, {"h", 3600000.0}, {"m", 60000.0}, {"s", 1000.0}};
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if ((double)ms >= units[i].ms) {
			snprintf(out, out_len, "%.2f%s", (double)ms / units[i].ms, units[i].unit);
			return;
		}
	}
	snprintf(out, out_len, "%.2fms", (double)ms);
}
