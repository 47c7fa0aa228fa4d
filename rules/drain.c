/*
 * The drain gate's bookkeeping (drain.h): RunningQueries counts FINISHING
 * queries too (results still being read), so zero running and zero queued
 * means no client is still being served (docs/DESIGN.md §6).
 */
#include "drain.h"

#include <stdio.h>
#include <string.h>

static const struct fleet_node *
live_coordinator(const struct fleet *fleet, const struct cluster_settings *settings, int64_t now_ms)
{
	for (size_t i = 0; i < fleet->count; i++) {
		const struct fleet_node *node = fleet->nodes[i];
		if (strcmp(node->cluster, settings->name) == 0 &&
		    node->role == TRINOGUARD__V1__NODE_ROLE__ROLE_COORDINATOR &&
		    node_live(node, settings, now_ms))
			return node;
	}
	return NULL;
}

/*
 * The oldest unfinished query's creation on the collector's clock: the
 * coordinator measured its age (elapsedTime) when the agent asked, and the
 * report arrived at received_ms (its transit, under an interval, is not
 * counted). NULL: no live coordinator.
 */
static void observe_oldest(struct drain_state *state, const struct fleet_node *coordinator)
{
	state->oldest_query_since_ms = -1;
	state->query_list_error[0] = '\0';
	if (coordinator == NULL)
		return;
	snprintf(state->query_list_error, sizeof(state->query_list_error), "%s",
	         coordinator->query_list_error);
	if (coordinator->oldest_query_elapsed_ms >= 0)
		state->oldest_query_since_ms =
		        coordinator->received_ms - coordinator->oldest_query_elapsed_ms;
}

void drain_observe(struct drain_state *state, const struct fleet *fleet,
                   const struct cluster_settings *clusters, size_t cluster_count,
                   const char *cluster, int64_t now_ms)
{
	if (strcmp(state->cluster, cluster) != 0) {
		memset(state, 0, sizeof(*state));
		snprintf(state->cluster, sizeof(state->cluster), "%s", cluster);
		state->quiet_since_ms = -1;
		state->oldest_query_since_ms = -1;
	}
	const struct fleet_node *coordinator = NULL;
	for (size_t i = 0; i < cluster_count && coordinator == NULL; i++)
		if (strcmp(clusters[i].name, cluster) == 0)
			coordinator = live_coordinator(fleet, &clusters[i], now_ms);
	observe_oldest(state, coordinator);
	state->known = coordinator != NULL && coordinator->running >= 0 && coordinator->queued >= 0;
	if (!state->known) {
		/* not seen is not quiet: a coordinator that stopped reporting may still serve */
		state->quiet_since_ms = -1;
		return;
	}
	state->running = coordinator->running;
	state->queued = coordinator->queued;
	if (state->running > 0 || state->queued > 0)
		state->quiet_since_ms = -1;
	else if (state->quiet_since_ms < 0)
		state->quiet_since_ms = now_ms;
}

bool drain_done(const struct drain_state *state, int64_t quiet_ms, int64_t now_ms, char *why,
                size_t why_len)
{
	if (quiet_ms <= 0)
		return true;
	if (!state->known) {
		snprintf(why, why_len, "%s's running and queued queries are not known",
		         state->cluster);
		return false;
	}
	if (state->quiet_since_ms < 0) {
		snprintf(why, why_len, "%s still runs %lld queries and queues %lld", state->cluster,
		         (long long)state->running, (long long)state->queued);
		return false;
	}
	if (now_ms - state->quiet_since_ms < quiet_ms) {
		snprintf(why, why_len, "%s has had no query for %lld s of %lld s", state->cluster,
		         (long long)((now_ms - state->quiet_since_ms) / 1000),
		         (long long)(quiet_ms / 1000));
		return false;
	}
	return true;
}
