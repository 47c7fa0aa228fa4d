/*
 * collector_ingest --generate: one load-generator process.
 */
#ifndef TG_INGEST_GENERATOR_H
#define TG_INGEST_GENERATOR_H

#include <stddef.h>

/*
 * Makes the keys of nodes FIRST .. FIRST+COUNT-1 in KEYS_DIR, connects each
 * to ENDPOINT (the collector's SERVER_PUBLIC key) and sends until SIGTERM.
 * Returns the exit code.
 */
int ingest_generator_main(const char *endpoint, const char *server_public, const char *keys_dir,
                          size_t first, size_t count);

#endif
