/*
 * The durable alert queue of one sink. File format, one JSON object per
 * line: {"seq":N,"at":MS,"key":"...","body":"..."} queues an entry and
 * {"done":N} retires it. Entries leave in order, so "done" lines name the
 * oldest pending entry; a line torn by a crash is skipped at replay.
 *
 * A full or failing disk: an entry that cannot be written stays queued in
 * memory and is written by the next push, sync or pop that can. The entries
 * on disk are always the oldest ones (a prefix of the queue), so the file
 * keeps the queue's order; one that leaves before it was written needs no
 * "done" line. A failed write is cut off again so no torn line is left.
 */
#include "alert_spool.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <libgen.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "durable_file.h"
#include "log.h"

/* Rewrite the file when it is this large and mostly retired entries. */
#define COMPACT_MIN_BYTES (1 << 20)

struct slot {
	struct spool_entry entry;
	size_t line_bytes; /* what its line takes in the file */
};

struct alert_spool {
	char *path;
	int fd;
	struct slot *ring; /* grows while replaying; MAX_ENTRIES bounds it after */
	size_t capacity, start, count;
	size_t written; /* the first WRITTEN entries have their line in the file */
	size_t max_entries;
	uint64_t next_seq;
	bool refusing; /* the last write failed: said once, and once more when writes work again */
	int64_t file_bytes;
	int64_t pending_bytes; /* the bytes the pending entries' lines take */
};

static struct slot *slot_at(const struct alert_spool *spool, size_t i)
{
	return &spool->ring[(spool->start + i) % spool->capacity];
}

static struct spool_entry *at(const struct alert_spool *spool, size_t i)
{
	return &slot_at(spool, i)->entry;
}

static void entry_free(struct spool_entry *entry)
{
	free(entry->key);
	free(entry->body);
	memset(entry, 0, sizeof(*entry));
}

static char *entry_line(const struct spool_entry *entry)
{
	json_t *line = json_pack("{sI sI ss ss}", "seq", (json_int_t)entry->seq, "at",
	                         (json_int_t)entry->queued_unix_ms, "key", entry->key, "body",
	                         entry->body);
	if (line == NULL)
		return NULL;
	char *text = json_dumps(line, JSON_COMPACT);
	json_decref(line);
	return text;
}

/* Writes TEXT and a newline, then fdatasync when SYNC. 0 or -1. */
static int write_line(struct alert_spool *spool, const char *text, bool sync)
{
	size_t len = strlen(text);
	char *buffer = malloc(len + 1);
	if (buffer == NULL)
		return -1;
	/* NOLINTNEXTLINE(bugprone-not-null-terminated-result): a line, ended by '\n' */
	memcpy(buffer, text, len);
	buffer[len] = '\n';
	ssize_t written = write(spool->fd, buffer, len + 1);
	int write_errno = errno;
	free(buffer);
	if (written != (ssize_t)(len + 1)) {
		/* cut a short write off: the next line must not be glued to it */
		if (written > 0 && ftruncate(spool->fd, spool->file_bytes) != 0)
			log_error("%s: ftruncate: %s", spool->path, strerror(errno));
		if (!spool->refusing)
			log_error("%s: write: %s; alerts stay queued in memory and are written "
			          "when it takes them again",
			          spool->path, written < 0 ? strerror(write_errno) : "short write");
		spool->refusing = true;
		return -1;
	}
	if (spool->refusing)
		log_info("%s: written again", spool->path);
	spool->refusing = false;
	spool->file_bytes += (int64_t)len + 1;
	if (sync && fdatasync(spool->fd) != 0) {
		log_error("%s: fdatasync: %s", spool->path, strerror(errno));
		return -1;
	}
	return 0;
}

/* Removes the head from memory (not from the file). */
static void drop_head(struct alert_spool *spool)
{
	struct slot *head = slot_at(spool, 0);
	spool->pending_bytes -= (int64_t)head->line_bytes;
	entry_free(&head->entry);
	spool->start = (spool->start + 1) % spool->capacity;
	spool->count--;
}

/* Doubles the ring, keeping the entries in order. 0 or -1. */
static int grow(struct alert_spool *spool)
{
	size_t capacity = spool->capacity * 2;
	struct slot *ring = calloc(capacity, sizeof(*ring));
	if (ring == NULL)
		return -1;
	for (size_t i = 0; i < spool->count; i++)
		ring[i] = *slot_at(spool, i);
	free(spool->ring);
	spool->ring = ring;
	spool->capacity = capacity;
	spool->start = 0;
	return 0;
}

static int add_entry(struct alert_spool *spool, uint64_t seq, int64_t queued, const char *key,
                     const char *body, size_t line_bytes)
{
	if (spool->count == spool->capacity && grow(spool) != 0)
		return -1;
	struct slot *slot = slot_at(spool, spool->count);
	slot->entry.key = strdup(key);
	slot->entry.body = strdup(body);
	if (slot->entry.key == NULL || slot->entry.body == NULL) {
		entry_free(&slot->entry);
		return -1;
	}
	slot->entry.seq = seq;
	slot->entry.queued_unix_ms = queued;
	slot->line_bytes = line_bytes;
	spool->count++;
	spool->pending_bytes += (int64_t)line_bytes;
	return 0;
}

static void retire(struct alert_spool *spool, uint64_t seq)
{
	/* "done" lines name the head; anything else is stale and ignored */
	if (spool->count > 0 && at(spool, 0)->seq == seq)
		drop_head(spool);
}

static void replay(struct alert_spool *spool)
{
	FILE *f = fopen(spool->path, "r");
	if (f == NULL)
		return;
	char *line = NULL;
	size_t cap = 0, skipped = 0;
	ssize_t len;
	while ((len = getline(&line, &cap, f)) > 0) {
		json_t *item = json_loadb(line, (size_t)len, 0, NULL);
		json_t *done = json_object_get(item, "done");
		json_int_t seq = json_integer_value(json_object_get(item, "seq"));
		const char *key = json_string_value(json_object_get(item, "key"));
		const char *body = json_string_value(json_object_get(item, "body"));
		if (json_is_integer(done)) {
			retire(spool, (uint64_t)json_integer_value(done));
		} else if (seq > 0 && key != NULL && body != NULL) {
			json_int_t queued = json_integer_value(json_object_get(item, "at"));
			if (add_entry(spool, (uint64_t)seq, queued, key, body, (size_t)len) != 0)
				skipped++;
		} else {
			skipped++;
		}
		if (seq > 0 && (uint64_t)seq >= spool->next_seq)
			spool->next_seq = (uint64_t)seq + 1;
		json_decref(item);
	}
	free(line);
	(void)fclose(f); /* read only: nothing to lose */
	if (skipped > 0)
		log_warn("%s: skipped %zu unreadable line(s) (a crash mid-write?)", spool->path,
		         skipped);
}

static int open_file(struct alert_spool *spool, char *err, size_t err_len)
{
	spool->fd = open(spool->path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (spool->fd < 0) {
		snprintf(err, err_len, "%s: %s", spool->path, strerror(errno));
		return -1;
	}
	struct stat st;
	spool->file_bytes = fstat(spool->fd, &st) == 0 ? st.st_size : 0;
	char last = '\n';
	if (spool->file_bytes > 0 && pread(spool->fd, &last, 1, spool->file_bytes - 1) != 1)
		last = '\n';
	if (last != '\n' && write(spool->fd, "\n", 1) == 1)
		spool->file_bytes++; /* end a torn line so the next entry is not glued to it */
	return 0;
}

struct alert_spool *alert_spool_open(const char *path, size_t max_entries, size_t *dropped,
                                     char *err, size_t err_len)
{
	if (dropped != NULL)
		*dropped = 0;
	struct alert_spool *spool = calloc(1, sizeof(*spool));
	if (spool != NULL) {
		spool->fd = -1;
		spool->next_seq = 1;
		spool->max_entries = max_entries > 0 ? max_entries : 1;
		spool->capacity = spool->max_entries < 64 ? spool->max_entries : 64;
		spool->path = strdup(path);
		spool->ring = calloc(spool->capacity, sizeof(*spool->ring));
	}
	if (spool == NULL || spool->path == NULL || spool->ring == NULL) {
		snprintf(err, err_len, "out of memory");
		alert_spool_close(spool);
		return NULL;
	}
	replay(spool);
	spool->written = spool->count;
	if (open_file(spool, err, err_len) != 0) {
		alert_spool_close(spool);
		return NULL;
	}
	/* a bound lowered since the last run: the oldest go, and the file says so */
	while (spool->count > spool->max_entries && alert_spool_pop(spool) == 0) {
		if (dropped != NULL)
			(*dropped)++;
	}
	return spool;
}

void alert_spool_close(struct alert_spool *spool)
{
	if (spool == NULL)
		return;
	if (spool->fd >= 0)
		close(spool->fd);
	for (size_t i = 0; spool->ring != NULL && i < spool->count; i++)
		entry_free(at(spool, i));
	free(spool->ring);
	free(spool->path);
	free(spool);
}

/* Rewrites the file with only the pending entries, durably (durable_file.h). */
static int compact(struct alert_spool *spool)
{
	char *text = NULL;
	size_t bytes = 0;
	FILE *out = open_memstream(&text, &bytes);
	int rc = out != NULL ? 0 : -1;
	for (size_t i = 0; rc == 0 && i < spool->count; i++) {
		char *line = entry_line(at(spool, i));
		if (line == NULL || fprintf(out, "%s\n", line) < 0)
			rc = -1;
		free(line);
	}
	if (out != NULL && fclose(out) != 0)
		rc = -1;
	char err[1200];
	if (rc != 0)
		snprintf(err, sizeof(err), "%s: out of memory", spool->path);
	else
		rc = durable_file_replace(spool->path, text, bytes, 0600, err, sizeof(err));
	free(text);
	if (rc != 0) {
		log_warn("compaction failed: %s (the spool stays as it is)", err);
		return -1;
	}
	int new_fd = open(spool->path, O_RDWR | O_APPEND | O_CLOEXEC);
	if (new_fd < 0)
		return -1;
	close(spool->fd);
	spool->fd = new_fd;
	spool->file_bytes = (int64_t)bytes;
	spool->pending_bytes = (int64_t)bytes;
	spool->written = spool->count;
	return 0;
}

/* Writes the entries still only in memory, oldest first. 0 when all are on disk. */
static int write_pending(struct alert_spool *spool)
{
	while (spool->written < spool->count) {
		struct slot *slot = slot_at(spool, spool->written);
		char *line = entry_line(&slot->entry);
		int rc = line != NULL ? write_line(spool, line, false) : -1;
		free(line);
		if (rc != 0)
			return -1;
		spool->written++;
	}
	return 0;
}

int alert_spool_push(struct alert_spool *spool, const char *key, const char *body,
                     int64_t now_unix_ms, int *dropped)
{
	*dropped = 0;
	if (spool->count >= spool->max_entries) {
		if (alert_spool_pop(spool) != 0)
			return -1;
		*dropped = 1;
	}
	struct spool_entry entry = {spool->next_seq, now_unix_ms, (char *)key, (char *)body};
	char *line = entry_line(&entry);
	if (line == NULL)
		return -1;
	size_t line_bytes = strlen(line) + 1;
	free(line);
	if (add_entry(spool, spool->next_seq, now_unix_ms, key, body, line_bytes) != 0)
		return -1;
	spool->next_seq++;
	write_pending(spool); /* what the disk refuses stays queued in memory */
	return 0;
}

int alert_spool_sync(struct alert_spool *spool)
{
	if (write_pending(spool) != 0)
		return -1;
	if (fdatasync(spool->fd) != 0) {
		log_error("%s: fdatasync: %s", spool->path, strerror(errno));
		return -1;
	}
	return 0;
}

size_t alert_spool_unwritten(const struct alert_spool *spool)
{
	return spool->count - spool->written;
}

const struct spool_entry *alert_spool_head(const struct alert_spool *spool)
{
	return spool->count > 0 ? at(spool, 0) : NULL;
}

int alert_spool_pop(struct alert_spool *spool)
{
	if (spool->count == 0)
		return 0;
	if (spool->written == 0) { /* never written: nothing to retire in the file */
		drop_head(spool);
		return 0;
	}
	char line[48];
	snprintf(line, sizeof(line), "{\"done\":%llu}", (unsigned long long)at(spool, 0)->seq);
	if (write_line(spool, line, true) != 0)
		return -1;
	drop_head(spool);
	spool->written--;
	if (spool->count == 0) {
		if (ftruncate(spool->fd, 0) == 0 && fdatasync(spool->fd) == 0)
			spool->file_bytes = 0;
	} else if (spool->file_bytes > COMPACT_MIN_BYTES &&
	           spool->file_bytes > 4 * spool->pending_bytes) {
		compact(spool);
	}
	write_pending(spool);
	return 0;
}

size_t alert_spool_count(const struct alert_spool *spool)
{
	return spool->count;
}

int64_t alert_spool_file_bytes(const struct alert_spool *spool)
{
	return spool->file_bytes;
}
