/*
 * cutover_pending.h: a small ordered queue of action batches.
 */
#include "cutover_pending.h"

#include <string.h>

int cutover_pending_add(struct cutover_pending *q, const struct cutover_action *actions,
                        size_t count, uint64_t seq)
{
	int rc = 0;
	if (q->count == CUTOVER_PENDING_BATCHES) {
		memmove(&q->batches[0], &q->batches[1], (q->count - 1) * sizeof(q->batches[0]));
		q->count--;
		rc = -1;
	}
	if (count > CUTOVER_MAX_ACTIONS)
		count = CUTOVER_MAX_ACTIONS;
	struct cutover_pending_batch *b = &q->batches[q->count++];
	memcpy(b->actions, actions, count * sizeof(b->actions[0]));
	b->count = count;
	b->seq = seq;
	return rc;
}

size_t cutover_pending_take(struct cutover_pending *q, uint64_t saved,
                            struct cutover_pending_batch ready[CUTOVER_PENDING_BATCHES])
{
	size_t done = 0;
	while (done < q->count && q->batches[done].seq <= saved)
		done++;
	memcpy(ready, q->batches, done * sizeof(ready[0]));
	memmove(&q->batches[0], &q->batches[done], (q->count - done) * sizeof(q->batches[0]));
	q->count -= done;
	return done;
}
