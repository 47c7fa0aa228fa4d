/*
 * SHA-256 digests of a Trino etc dir, one per file path relative to it:
 * config.properties, node.properties, jvm.config, log.properties (when
 * present), every .properties file in catalog/ and the configured extra files;
 * for .properties files also one digest per key (agent/key_digests.c).
 * A file is re-read only when its size, mtime or inode change; a file that
 * cannot be read is reported with its error, not skipped.
 */
#ifndef TG_DIGESTS_H
#define TG_DIGESTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "key_digests.h"

/* More files than fit a report: the agent reports the core files
 * (config.properties, node.properties, jvm.config, log.properties) and the
 * first others in path order, and says how many matched. */
#define DIGESTS_MAX_FILES 512

struct digest_file {
	char *path; /* relative to the etc dir */
	uint8_t sha256[32];
	bool ok; /* false: error holds why */
	char error[256];
	/* .properties files: every key of the canonical form, when keys_listed */
	struct key_digest_list keys;
	bool keys_listed;
	/* what the hash was computed from */
	off_t size;
	struct timespec mtime;
	ino_t inode;
	bool hashed;
};

struct digests {
	char *etc_dir;
	char **exclude_keys;
	size_t exclude_count;
	char **extra_patterns;
	size_t extra_count;
	struct digest_file *files;
	size_t count;
	size_t rehashed_total; /* files read and hashed since start (for tests) */
	bool truncated;        /* more than DIGESTS_MAX_FILES matched */
	size_t listed;         /* how many matched, reported or not */
};

/* Trino's node-specific keys, left out of every canonical form (docs/DESIGN.md §3). */
extern const char *const digests_default_exclude_keys[];
extern const size_t digests_default_exclude_count;

/*
 * Prepares digests of ETC_DIR. EXTRA_EXCLUDE adds keys to the defaults;
 * EXTRA_PATTERNS are globs relative to ETC_DIR. Returns NULL when out of memory.
 */
struct digests *digests_new(const char *etc_dir, char *const *extra_exclude, size_t exclude_count,
                            char *const *extra_patterns, size_t pattern_count);
void digests_free(struct digests *digests);

/* Re-lists the files and re-hashes the changed ones. */
void digests_refresh(struct digests *digests);

#endif
