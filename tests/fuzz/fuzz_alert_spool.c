/*
 * Fuzzes an alert sink's spool reader (collector/alerts/alert_spool.c): the
 * input is the spool file as a crash or a bad disk may leave it. Round trip:
 * what it replays, with one entry pushed, is what a second open replays;
 * popping the head retires exactly that entry for the next open too.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alert_spool.h"
#include "fuzz_check.h"
#include "fuzz_tmp.h"

#define MAX_ENTRIES 16

struct snapshot {
	size_t count;
	struct spool_entry entries[MAX_ENTRIES];
};

static void snapshot_free(struct snapshot *s)
{
	for (size_t i = 0; i < s->count; i++) {
		free(s->entries[i].key);
		free(s->entries[i].body);
	}
	s->count = 0;
}

static void copy_head(struct alert_spool *spool, struct snapshot *s)
{
	const struct spool_entry *head = alert_spool_head(spool);
	check(head != NULL && s->count < MAX_ENTRIES);
	struct spool_entry *copy = &s->entries[s->count++];
	*copy = *head;
	copy->key = strdup(head->key);
	copy->body = strdup(head->body);
	check(copy->key != NULL && copy->body != NULL);
}

static bool same_entry(const struct spool_entry *a, const struct spool_entry *b)
{
	return a->seq == b->seq && a->queued_unix_ms == b->queued_unix_ms &&
	       strcmp(a->key, b->key) == 0 && strcmp(a->body, b->body) == 0;
}

/* Opens PATH, pops every entry into S (oldest first), closes. */
static void drain(const char *path, struct snapshot *s)
{
	char err[1024] = "";
	size_t dropped = 0;
	struct alert_spool *spool = alert_spool_open(path, MAX_ENTRIES, &dropped, err, sizeof(err));
	check(spool != NULL && dropped == 0);
	while (alert_spool_count(spool) > 0) {
		copy_head(spool, s);
		check(alert_spool_pop(spool) == 0);
	}
	alert_spool_close(spool);
}

static void write_bytes(const char *path, const char *bytes, size_t len)
{
	FILE *file = fopen(path, "wb");
	check(file != NULL);
	check(len == 0 || fwrite(bytes, 1, len, file) == len);
	check(fclose(file) == 0);
}

static char *read_bytes(const char *path, size_t *len)
{
	FILE *file = fopen(path, "rb");
	check(file != NULL);
	check(fseek(file, 0, SEEK_END) == 0);
	long end = ftell(file);
	check(end >= 0 && fseek(file, 0, SEEK_SET) == 0);
	char *bytes = malloc((size_t)end + 1);
	check(bytes != NULL);
	*len = fread(bytes, 1, (size_t)end, file);
	check(*len == (size_t)end);
	fclose(file);
	return bytes;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char key[] = "trino-guard/test/fuzz/blue", body[] = "{\"text\":\"fuzz\"}";
	char path[512], err[1024] = "";
	fuzz_tmp_write("alerts-spool.jsonl", data, size, path, sizeof(path));
	size_t dropped = 0;
	struct alert_spool *spool = alert_spool_open(path, MAX_ENTRIES, &dropped, err, sizeof(err));
	check(spool != NULL);
	size_t count = alert_spool_count(spool);
	check(count <= MAX_ENTRIES);
	int full = 0;
	check(alert_spool_push(spool, key, body, 1764633600123LL, &full) == 0);
	check(alert_spool_sync(spool) == 0);
	check(full == (count == MAX_ENTRIES));
	size_t pending = alert_spool_count(spool);
	check(pending == (full ? count : count + 1));
	alert_spool_close(spool);
	size_t saved_len = 0;
	char *saved = read_bytes(path, &saved_len);

	/* everything pending, the pushed entry last with the highest seq */
	struct snapshot all, rest;
	memset(&all, 0, sizeof(all));
	memset(&rest, 0, sizeof(rest));
	drain(path, &all);
	check(all.count == pending);
	const struct spool_entry *pushed = &all.entries[pending - 1];
	check(strcmp(pushed->key, key) == 0 && strcmp(pushed->body, body) == 0);
	check(pushed->queued_unix_ms == 1764633600123LL);
	for (size_t i = 0; i + 1 < pending; i++)
		check(all.entries[i].seq < pushed->seq);

	/* the same file with its head retired: the rest, in order, at the next open */
	write_bytes(path, saved, saved_len);
	free(saved);
	spool = alert_spool_open(path, MAX_ENTRIES, &dropped, err, sizeof(err));
	check(spool != NULL && dropped == 0 && alert_spool_pop(spool) == 0);
	alert_spool_close(spool);
	drain(path, &rest);
	check(rest.count == pending - 1);
	for (size_t i = 0; i < rest.count; i++)
		check(same_entry(&rest.entries[i], &all.entries[i + 1]));
	snapshot_free(&all);
	snapshot_free(&rest);
	return 0;
}
