/*
 * SIGHUP: collector.ini read again, what can change live applied, every other
 * change named with the reason it waits for a restart.
 */
#ifndef TG_COLLECTOR_RELOAD_H
#define TG_COLLECTOR_RELOAD_H

#include <stddef.h>

struct collector;

/*
 * Loads PATH again and compares it with the running config. Live, without a
 * restart: [collector] log_level, forget_after and absent_after, and each
 * [cluster.NAME]'s min_workers, stale_after and down_grace; the allow-list's
 * files, the API token's file and every header_file.NAME (of the alert sinks
 * and of the http driver) are read again in any case. Every other
 * change is logged as not applied, with why, and the running value kept.
 * Returns 0 when every change was applied, 1 when some were refused, -1 with
 * ERR when the file is not valid (a header file it cannot read among it) or
 * the allow-list or token cannot be read (then nothing is applied).
 */
int collector_reload_config(struct collector *collector, const char *path, char *err,
                            size_t err_len);

#endif
