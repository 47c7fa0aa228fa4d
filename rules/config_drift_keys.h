/*
 * The keys a config-drift finding names: of a .properties file that differs
 * between groups of nodes, the first few keys on which the groups disagree,
 * each with a short digest per group and never a value. Pure.
 */
#ifndef TG_CONFIG_DRIFT_KEYS_H
#define TG_CONFIG_DRIFT_KEYS_H

#include <stdbool.h>
#include <stddef.h>

#include "fleet.h"

/* How many differing keys a finding names; the rest are counted. */
#define CONFIG_DRIFT_KEYS_NAMED 3

/*
 * Writes into OUT the keys on which the REP_COUNT versions in REPS (one per
 * group of nodes, NULL for a group without the file) differ, as
 * " in key K (1a2b3c4d | 5e6f7a8b)" or " in keys K1 (...), K2 (...), K3 (...)
 * and 4 more": each key's digest per group in REPS' order ("absent" where a
 * group lacks the key), or "(secret: digests withheld)" for a key whose name
 * looks secret. "" when some group has no key list (the file absent or
 * unreadable there, or its agent too old to list keys). 0, or -1 (memory).
 */
int config_drift_keys(const struct fleet_digest *const *reps, size_t rep_count, char *out,
                      size_t out_len);

/* True for a key whose name says it holds a secret ("connection-password", "...secret-key"). */
bool config_drift_key_looks_secret(const char *key);

#endif
