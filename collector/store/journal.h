/*
 * The event journal: JSON lines in state_dir/journal.jsonl, each with a
 * monotonic id, fsync'd once per batch, rotated by size to journal.jsonl.1.
 * The newest events are also kept in memory for GET /v1/events, and restored
 * from the file at start.
 */
#ifndef TG_JOURNAL_H
#define TG_JOURNAL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct journal;

/* Opens (creating STATE_DIR and the file as needed). NULL with ERR. */
struct journal *journal_open(const char *state_dir, int64_t max_bytes, size_t keep_in_memory,
                             char *err, size_t err_len);
void journal_close(struct journal *journal);

/*
 * Appends EVENT (an object; "id" and "time", from NOW_UNIX_MS, are added; the
 * reference is stolen). Returns the id, or 0 when writing failed (logged):
 * the event is in memory all the same, and its line is kept (up to 4096
 * lines) and written, in order, by the next append or sync that the disk
 * takes.
 */
uint64_t journal_append(struct journal *journal, int64_t now_unix_ms, json_t *event);

/* Writes the kept lines, then makes the appended events durable (fdatasync).
 * 0, or -1 while some line is not durable. */
int journal_sync(struct journal *journal);

/* True while some line is not on disk or the last fdatasync failed; *WHY
 * (when not NULL) says which file and why, valid until the next call. */
bool journal_failing(const struct journal *journal, const char **why);

/* A new array of up to LIMIT events with id > SINCE, oldest first. */
json_t *journal_since(const struct journal *journal, uint64_t since, size_t limit);

/* The id of the newest event (0 when none). */
uint64_t journal_last_id(const struct journal *journal);

#endif
