/*
 * The JSON-lines journal. Lines are written whole with one write(2) on an
 * O_APPEND descriptor; a line cut by a crash is skipped when the file is
 * read back at start.
 */
#include "journal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

/* Lines kept for a disk that refuses them, oldest dropped beyond (still in the ring). */
#define JOURNAL_PENDING_MAX 4096

struct journal {
	char *path;
	char *rotated_path;
	int fd;
	int64_t size;
	int64_t max_bytes;
	uint64_t next_id;
	bool dirty;
	json_t **ring;
	size_t ring_capacity;
	size_t ring_start;
	size_t ring_count;
	/* lines the file refused (a full disk), written in order once it takes them */
	char *pending[JOURNAL_PENDING_MAX];
	size_t pending_start, pending_count;
	uint64_t pending_dropped;
	bool sync_failed;
	char failing_why[160];
};

static void ring_push(struct journal *journal, json_t *event)
{
	size_t slot = (journal->ring_start + journal->ring_count) % journal->ring_capacity;
	if (journal->ring_count == journal->ring_capacity) {
		json_decref(journal->ring[journal->ring_start]);
		journal->ring_start = (journal->ring_start + 1) % journal->ring_capacity;
	} else {
		journal->ring_count++;
	}
	journal->ring[slot] = event;
}

/*
 * The largest id restore() takes from a file. Ids are JSON integers (int64);
 * a line claiming one near INT64_MAX would leave no room for the next event,
 * whose id would wrap negative and be skipped at every later open, losing all
 * that follows. No collector writes 2^62 events (a million a second for
 * 146,000 years), so such a line is damage and is skipped like a torn one.
 */
#define JOURNAL_ID_MAX ((json_int_t)1 << 62)

/* Reads PATH's events into the ring and the next id. A bad line is skipped. */
static void restore(struct journal *journal, const char *path)
{
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return;
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	size_t skipped = 0;
	size_t line_number = 0;
	while ((len = getline(&line, &cap, f)) > 0) {
		line_number++;
		json_t *event = json_loadb(line, (size_t)len, 0, NULL);
		json_int_t id = json_integer_value(json_object_get(event, "id"));
		if (event != NULL && id > JOURNAL_ID_MAX)
			log_warn("%s:%zu: skipped: id %lld is beyond the journal's range (%lld)",
			         path, line_number, (long long)id, (long long)JOURNAL_ID_MAX);
		if (event == NULL || id <= 0 || id > JOURNAL_ID_MAX) {
			skipped++;
			json_decref(event);
			continue;
		}
		if ((uint64_t)id >= journal->next_id)
			journal->next_id = (uint64_t)id + 1;
		ring_push(journal, event);
	}
	free(line);
	(void)fclose(f); /* read only: nothing to lose */
	if (skipped > 0)
		log_warn("%s: skipped %zu unreadable line(s) (a crash mid-write?)", path, skipped);
}

static int open_file(struct journal *journal, char *err, size_t err_len)
{
	journal->fd = open(journal->path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
	if (journal->fd < 0) {
		snprintf(err, err_len, "%s: %s", journal->path, strerror(errno));
		return -1;
	}
	struct stat st;
	journal->size = fstat(journal->fd, &st) == 0 ? st.st_size : 0;
	/* A line torn by a crash has no newline: end it, or the next event would
	 * be glued to it and lost at the next read. */
	char last = '\n';
	if (journal->size > 0 && pread(journal->fd, &last, 1, journal->size - 1) != 1)
		last = '\n';
	if (last != '\n' && write(journal->fd, "\n", 1) == 1)
		journal->size++;
	return 0;
}

struct journal *journal_open(const char *state_dir, int64_t max_bytes, size_t keep_in_memory,
                             char *err, size_t err_len)
{
	if (mkdir(state_dir, 0750) != 0 && errno != EEXIST) {
		snprintf(err, err_len, "state_dir %s: %s", state_dir, strerror(errno));
		return NULL;
	}
	struct journal *journal = calloc(1, sizeof(*journal));
	if (journal == NULL) {
		snprintf(err, err_len, "out of memory");
		return NULL;
	}
	journal->fd = -1;
	journal->max_bytes = max_bytes;
	journal->next_id = 1;
	journal->ring_capacity = keep_in_memory > 0 ? keep_in_memory : 1;
	journal->ring = calloc(journal->ring_capacity, sizeof(*journal->ring));
	size_t len = strlen(state_dir) + 32;
	journal->path = malloc(len);
	journal->rotated_path = malloc(len);
	if (journal->ring == NULL || journal->path == NULL || journal->rotated_path == NULL) {
		snprintf(err, err_len, "out of memory");
		journal_close(journal);
		return NULL;
	}
	snprintf(journal->path, len, "%s/journal.jsonl", state_dir);
	snprintf(journal->rotated_path, len, "%s/journal.jsonl.1", state_dir);
	restore(journal, journal->rotated_path);
	restore(journal, journal->path);
	if (open_file(journal, err, err_len) != 0) {
		journal_close(journal);
		return NULL;
	}
	return journal;
}

void journal_close(struct journal *journal)
{
	if (journal == NULL)
		return;
	if (journal->fd >= 0) {
		journal_sync(journal);
		close(journal->fd);
	}
	for (size_t i = 0; i < journal->ring_count; i++)
		json_decref(journal->ring[(journal->ring_start + i) % journal->ring_capacity]);
	for (size_t i = 0; i < journal->pending_count; i++)
		free(journal->pending[(journal->pending_start + i) % JOURNAL_PENDING_MAX]);
	free(journal->ring);
	free(journal->path);
	free(journal->rotated_path);
	free(journal);
}

static void rotate(struct journal *journal)
{
	/* not journal_sync(): that writes the kept lines, which may call here */
	if (journal->dirty && fdatasync(journal->fd) != 0)
		log_error("journal %s: fdatasync: %s", journal->path, strerror(errno));
	journal->dirty = false;
	close(journal->fd);
	journal->fd = -1;
	if (rename(journal->path, journal->rotated_path) != 0)
		log_error("cannot rotate %s: %s", journal->path, strerror(errno));
	char err[512];
	if (open_file(journal, err, sizeof(err)) != 0)
		log_error("journal: %s", err);
}

/* Writes one whole line (TEXT, LEN bytes, newline included), rotating first when due. 0 or -1. */
static int write_line(struct journal *journal, const char *text, size_t len)
{
	if (journal->fd >= 0 && journal->size + (int64_t)len > journal->max_bytes &&
	    journal->size > 0)
		rotate(journal);
	ssize_t written = journal->fd >= 0 ? write(journal->fd, text, len) : -1;
	if (written == (ssize_t)len) {
		journal->size += (int64_t)len;
		journal->dirty = true;
		return 0;
	}
	snprintf(journal->failing_why, sizeof(journal->failing_why), "%s: %s", journal->path,
	         written < 0 ? strerror(errno) : "short write");
	/* a short write left part of a line: end it, so the next line stands alone */
	if (written > 0 && write(journal->fd, "\n", 1) == 1)
		journal->size += written + 1;
	return -1;
}

/* Writes the lines the file refused before, oldest first, until one fails. */
static void write_pending(struct journal *journal)
{
	while (journal->pending_count > 0) {
		char *text = journal->pending[journal->pending_start];
		if (write_line(journal, text, strlen(text)) != 0)
			return;
		free(text);
		journal->pending_start = (journal->pending_start + 1) % JOURNAL_PENDING_MAX;
		journal->pending_count--;
		if (journal->pending_count == 0)
			log_info("journal %s: the lines the disk refused are written",
			         journal->path);
	}
}

/* Keeps TEXT (taken) for write_pending(); the oldest goes when there is no room. */
static void keep_pending(struct journal *journal, char *text)
{
	if (journal->pending_count == JOURNAL_PENDING_MAX) {
		free(journal->pending[journal->pending_start]);
		journal->pending_start = (journal->pending_start + 1) % JOURNAL_PENDING_MAX;
		journal->pending_count--;
		journal->pending_dropped++;
	}
	journal->pending[(journal->pending_start + journal->pending_count) % JOURNAL_PENDING_MAX] =
	        text;
	journal->pending_count++;
}

uint64_t journal_append(struct journal *journal, int64_t now_unix_ms, json_t *event)
{
	time_t seconds = (time_t)(now_unix_ms / 1000);
	struct tm tm;
	gmtime_r(&seconds, &tm);
	char stamp[40];
	snprintf(stamp, sizeof(stamp), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900,
	         tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
	         (long)(now_unix_ms % 1000));
	uint64_t id = journal->next_id++;
	json_object_set_new(event, "id", json_integer((json_int_t)id));
	json_object_set_new(event, "time", json_string(stamp));
	char *text = json_dumps(event, JSON_COMPACT);
	if (text == NULL) {
		log_error("journal: cannot encode event %llu", (unsigned long long)id);
		json_decref(event);
		return 0;
	}
	size_t len = strlen(text);
	text[len] = '\n'; /* json_dumps leaves room for the NUL we overwrite */
	char *line = realloc(text, len + 2);
	if (line == NULL) {
		free(text);
		log_error("journal: out of memory for event %llu", (unsigned long long)id);
		ring_push(journal, event);
		return 0;
	}
	line[len + 1] = '\0';
	ring_push(journal, event);
	write_pending(journal); /* in order: what the disk refused before goes first */
	if (journal->pending_count == 0 && write_line(journal, line, len + 1) == 0) {
		free(line);
		return id;
	}
	if (journal->pending_count == 0)
		log_error("journal %s; keeping the lines in memory until the disk takes them",
		          journal->failing_why);
	keep_pending(journal, line);
	return 0;
}

int journal_sync(struct journal *journal)
{
	write_pending(journal);
	if (journal->dirty && journal->fd >= 0) {
		journal->dirty = false;
		bool failed = fdatasync(journal->fd) != 0;
		if (failed && !journal->sync_failed)
			log_error("journal %s: fdatasync: %s", journal->path, strerror(errno));
		if (failed)
			snprintf(journal->failing_why, sizeof(journal->failing_why),
			         "%s: fdatasync: %s", journal->path, strerror(errno));
		journal->sync_failed = failed;
	}
	return journal->pending_count > 0 || journal->sync_failed ? -1 : 0;
}

bool journal_failing(const struct journal *journal, const char **why)
{
	if (journal->pending_count == 0 && !journal->sync_failed)
		return false;
	if (why != NULL)
		*why = journal->failing_why;
	return true;
}

json_t *journal_since(const struct journal *journal, uint64_t since, size_t limit)
{
	json_t *events = json_array();
	for (size_t i = 0; i < journal->ring_count && json_array_size(events) < limit; i++) {
		json_t *event = journal->ring[(journal->ring_start + i) % journal->ring_capacity];
		if ((uint64_t)json_integer_value(json_object_get(event, "id")) > since)
			json_array_append(events, event);
	}
	return events;
}

uint64_t journal_last_id(const struct journal *journal)
{
	return journal->next_id - 1;
}
