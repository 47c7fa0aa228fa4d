/*
 * The cutover state on disk: state_dir/cutover.json, replaced atomically on
 * every transition (write a temp file, fsync it, rename it over the old one,
 * fsync the directory), so a crash at any moment leaves the old state or the
 * new one, never a torn file.
 */
#ifndef TG_STATE_FILE_H
#define TG_STATE_FILE_H

#include <stdbool.h>
#include <stddef.h>

#include "clock.h"
#include "cutover.h"
#include "degradation.h"

/*
 * Writes STATE (and CHECKPOINT, if not NULL), its monotonic times as wall time
 * by NOW (rules/cutover_times.h). 0, or -1 with ERR (the old file untouched).
 */
int state_file_save(const char *state_dir, const struct cutover_state *state,
                    const struct detector_checkpoint *checkpoint, struct clock_now now, char *err,
                    size_t err_len);

/*
 * The same state as cutover.json's text (JSON, NUL-terminated; the caller
 * frees), for the state kept in etcd; NULL when out of memory.
 */
char *state_file_encode(const struct cutover_state *state,
                        const struct detector_checkpoint *checkpoint, struct clock_now now);

/*
 * Reads a state from TEXT (LEN bytes, as state_file_encode wrote it; NAME in
 * errors), its wall times made monotonic by NOW. 0, or -1 with ERR.
 */
int state_file_decode(const char *text, size_t len, const char *name, struct clock_now now,
                      struct cutover_state *state, struct detector_checkpoint *checkpoint,
                      char *err, size_t err_len);

/*
 * Reads the state, its wall times made monotonic by NOW. Returns 0 with *FOUND false when there is none yet, 0 with
 * *FOUND true and STATE filled, or -1 with ERR for a file that cannot be
 * trusted (the collector then refuses to start rather than guess).
 */
int state_file_load(const char *state_dir, struct clock_now now, struct cutover_state *state,
                    struct detector_checkpoint *checkpoint, bool *found, char *err, size_t err_len);

/*
 * Refuses (-1 with ERR naming the file, the field and the cluster) a state
 * whose active or other cluster is none of the COUNT names in CLUSTERS, the
 * [cluster.NAME] sections: a state about a cluster the collector does not
 * know would have it switch to, or watch, nothing. An empty name (no active
 * cluster learnt yet, no standby) is fine, and so is no file; a file that
 * does not load is refused as state_file_load() refuses it.
 */
int state_file_check_clusters(const char *state_dir, struct clock_now now,
                              const char *const *clusters, size_t count, char *err, size_t err_len);

#endif
