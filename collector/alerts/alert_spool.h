/*
 * One alert sink's durable delivery queue: a FIFO of request bodies kept in
 * memory and in an append-only file in state_dir, so that a pager outage or
 * a collector restart loses nothing. Each entry is written and fdatasync'd
 * before it is queued; a delivered (or abandoned) entry gets a "done" line.
 * At open the file is replayed; when nothing is pending it is emptied, and
 * when it grows well past what is pending it is rewritten atomically.
 * Bounded: at MAX_ENTRIES the oldest entry is dropped and counted.
 * A full or failing disk loses nothing still running: an entry the file
 * refuses stays queued in memory (alert_spool_unwritten() counts them) and is
 * written as soon as a later push, sync or pop can.
 */
#ifndef TG_ALERT_SPOOL_H
#define TG_ALERT_SPOOL_H

#include <stddef.h>
#include <stdint.h>

struct alert_spool;

struct spool_entry {
	uint64_t seq;
	int64_t queued_unix_ms;
	char *key;  /* the alert's dedup key */
	char *body; /* the request body, JSON text */
};

/*
 * Opens (creating) PATH and replays what is pending. *DROPPED (when not
 * NULL) says how many replayed entries did not fit MAX_ENTRIES. NULL with
 * ERR on failure.
 */
struct alert_spool *alert_spool_open(const char *path, size_t max_entries, size_t *dropped,
                                     char *err, size_t err_len);
void alert_spool_close(struct alert_spool *spool);

/*
 * Queues an entry and appends it to the file; alert_spool_sync() makes it
 * durable (so a burst costs one fdatasync). When the file refuses it, it is
 * queued in memory all the same. When the spool is full the oldest entry is
 * dropped first and *DROPPED is set to 1 (else 0). 0, or -1 when it could
 * not be queued (out of memory, or the full spool's oldest entry could not
 * be retired in the file).
 */
int alert_spool_push(struct alert_spool *spool, const char *key, const char *body,
                     int64_t now_unix_ms, int *dropped);

/* Writes what is only in memory, then makes it durable (fdatasync). 0, or -1
 * when some entry is still not durable. */
int alert_spool_sync(struct alert_spool *spool);

/* Entries queued in memory that the file has refused so far. */
size_t alert_spool_unwritten(const struct alert_spool *spool);

/* The oldest pending entry, or NULL. Valid until the next push or pop. */
const struct spool_entry *alert_spool_head(const struct alert_spool *spool);

/* Marks the head delivered or abandoned (a head never written just leaves).
 * 0, or -1 when the mark could not be written: the head stays. */
int alert_spool_pop(struct alert_spool *spool);

size_t alert_spool_count(const struct alert_spool *spool);
/* Bytes of the spool file right now. */
int64_t alert_spool_file_bytes(const struct alert_spool *spool);

#endif
