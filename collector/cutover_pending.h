/*
 * With [ha], the cutover's actions wait until the state that decided them is
 * in etcd: each batch keeps the number of the save it waits for, and leaves
 * the queue, in order, once that save (or a later one) is acknowledged.
 * Plain data, no I/O.
 */
#ifndef TG_CUTOVER_PENDING_H
#define TG_CUTOVER_PENDING_H

#include <stddef.h>
#include <stdint.h>

#include "cutover.h"

#define CUTOVER_PENDING_BATCHES 16

struct cutover_pending_batch {
	struct cutover_action actions[CUTOVER_MAX_ACTIONS];
	size_t count;
	uint64_t seq; /* the save it waits for */
};

struct cutover_pending {
	struct cutover_pending_batch batches[CUTOVER_PENDING_BATCHES];
	size_t count;
};

/*
 * Queues COUNT ACTIONS behind save SEQ. 0, or -1 when the queue was full and
 * its oldest batch was dropped to make room.
 */
int cutover_pending_add(struct cutover_pending *q, const struct cutover_action *actions,
                        size_t count, uint64_t seq);

/* Moves the batches waiting for saves up to SAVED into READY, in order; how many. */
size_t cutover_pending_take(struct cutover_pending *q, uint64_t saved,
                            struct cutover_pending_batch ready[CUTOVER_PENDING_BATCHES]);

#endif
