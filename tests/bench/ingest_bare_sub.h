/*
 * collector_ingest --bare-sub: the ceiling the collector's ingest is measured against.
 */
#ifndef TG_INGEST_BARE_SUB_H
#define TG_INGEST_BARE_SUB_H

/*
 * Binds a CURVE SUB on ENDPOINT with SECRET, allows the public keys in
 * KEYS_DIR, prints "ready", then counts the messages of SECONDS (after the
 * first 1000) and prints "received N in S s"; meanwhile, every second, "count
 * N" with all it has received so far. Returns the exit code.
 */
/* Counts one message into *TOTAL (its calls are what fleet_cost counts under callgrind). */
void ingest_bare_sub_took(long long *total);

int ingest_bare_sub_main(const char *endpoint, const char *secret, const char *keys_dir,
                         int seconds);

#endif
