/*
 * The firing set on disk, state_dir/alerts-firing.json: the finding alerts
 * firing now (and, until the reconcile after a restart, those carried over
 * from before it), so that a collector that restarts can resolve what
 * cleared while it was down. A JSON array, replaced durably.
 */
#ifndef TG_ALERT_FIRING_FILE_H
#define TG_ALERT_FIRING_FILE_H

#include <stddef.h>
#include <stdint.h>

#include "alert_policy.h"

/* Replaces PATH with POLICY's firing and carried alerts. 0, or -1 with ERR. */
int alert_firing_file_save(const char *path, const struct alert_policy *policy, char *err,
                           size_t err_len);

/*
 * Adds every alert of PATH to what POLICY carries over; a missing or
 * unreadable file is an empty set (nothing to resolve), an entry without a
 * key or a known severity is skipped. A file that is no JSON array (it does
 * not parse, or holds something else) is moved aside to
 * PATH.corrupt-<NOW_UNIX_S> (.1, .2, ... when that exists), never deleted,
 * and the set is empty. 0; 1 for a corrupt file, ERR saying where it failed
 * ("PATH:LINE:COLUMN: why") and where it went; -1 with ERR when out of
 * memory (what was read so far is carried).
 */
int alert_firing_file_load(const char *path, int64_t now_unix_s, struct alert_policy *policy,
                           char *err, size_t err_len);

#endif
