/*
 * Lost-query accounting's shell (rules/switch_loss.h): told of every switch
 * of the load balancer, it counts the old cluster's abandoned queries over
 * [watch] loss_settle from the fleet's samples, and when a switch settles
 * journals it (switch-loss), adds it to the per-pair total for /metrics and
 * pages it (queries-lost) when above zero. Its state lives in memory: a
 * collector restart forgets the switches still counting.
 */
#ifndef TG_SWITCH_ACCOUNTING_H
#define TG_SWITCH_ACCOUNTING_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "clock.h"
#include "collector.h"
#include "switch_loss.h"

#define LOST_QUERY_PAIRS (COLLECTOR_MAX_CLUSTERS * 2)

/* Settled losses of switches FROM -> TO since the collector started. */
struct lost_query_count {
	char from[FLEET_CLUSTER_LEN], to[FLEET_CLUSTER_LEN];
	uint64_t lost_queries;
};

struct switch_accounting {
	struct switch_loss_book book;
	struct lost_query_count pairs[LOST_QUERY_PAIRS];
	size_t pair_count;
};

/* Every pair of COLLECTOR's clusters at 0, so rate() sees the first loss. */
void switch_accounting_init(struct switch_accounting *accounting,
                            const struct collector *collector);

/* The LB now points at TO instead of FROM: that switch's counting starts. */
void switch_accounting_switched(struct switch_accounting *accounting, struct collector *collector,
                                const char *from, const char *to, bool rollback,
                                struct clock_now now);

/* Once per step: counts the newest samples, settles, journals and pages what is due. */
void switch_accounting_observe(struct switch_accounting *accounting, struct collector *collector,
                               struct clock_now now);

/* cutover.last_switch in /v1/status (new object), or NULL before the first switch. */
json_t *switch_accounting_status(const struct switch_accounting *accounting, struct clock_now now);

#endif
