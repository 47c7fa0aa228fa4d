/*
 * Per-key digests of a .properties file's canonical form, so that the
 * config-drift finding can name the keys that differ while no value ever
 * leaves the node.
 */
#ifndef TG_KEY_DIGESTS_H
#define TG_KEY_DIGESTS_H

#include <stddef.h>
#include <stdint.h>

#include "report_codec.h"

struct key_digest {
	char *key; /* as in the canonical form, escaped where it must be */
	uint8_t digest[REPORT_KEY_DIGEST_BYTES];
};

struct key_digest_list {
	struct key_digest *items; /* sorted by key (strcmp), each key once */
	size_t count;
};

/*
 * Splits CANONICAL (LEN bytes of properties_canonicalize's output, one
 * "key=value\n" line per key) into OUT, each key with the first
 * REPORT_KEY_DIGEST_BYTES of the SHA-256 of its whole line. Returns 0, or -1
 * (OUT empty) when out of memory, when a key is longer than
 * REPORT_MAX_KEY_LEN or is not UTF-8 (the report could not carry it), or when
 * a file has more than REPORT_MAX_KEY_DIGESTS keys.
 */
int key_digests_compute(const char *canonical, size_t len, struct key_digest_list *out);

/* Frees what key_digests_compute made; the list is empty afterwards. */
void key_digests_clear(struct key_digest_list *list);

#endif
