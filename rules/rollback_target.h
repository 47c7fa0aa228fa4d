/*
 * May users go back to a cluster? The check before a rollback (docs/DESIGN.md §6):
 * the cluster to fall back on needs a live ACTIVE coordinator, min_workers
 * live ACTIVE workers and no mixed versions. Pure.
 */
#ifndef TG_ROLLBACK_TARGET_H
#define TG_ROLLBACK_TARGET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "findings.h"
#include "fleet.h"

/*
 * True when CLUSTER, one of CLUSTERS, can take users back at NOW_MS given the
 * open FINDINGS; otherwise false with WHY, one line for people. A cluster that
 * is not configured (any more) has no live ACTIVE coordinator; CLUSTER ""
 * (nothing to fall back on) is never fit and leaves WHY "".
 */
bool rollback_target_fit(const struct fleet *fleet, const struct cluster_settings *clusters,
                         size_t cluster_count, const struct finding_list *findings,
                         const char *cluster, int64_t now_ms, char *why, size_t why_len);

#endif
