/*
 * The one clock of every trino-guard program. Durations and deadlines use the
 * monotonic clock; wall time is only shown to people or compared with other
 * hosts. A callback reads the clock once, at its start, and passes the
 * reading down: nothing below it reads the clock again (curl's
 * docs/internals/TIME-KEEPING.md tells how mixing the two made time jump).
 */
#ifndef TG_CLOCK_H
#define TG_CLOCK_H

#include <stdint.h>

struct clock_now {
	int64_t mono_ms; /* CLOCK_MONOTONIC: only differences mean anything */
	int64_t unix_ms; /* CLOCK_REALTIME: milliseconds since 1970, for people and peers */
};

/*
 * Both clocks, read once. clock_gettime() cannot fail for these clocks on
 * Linux unless a seccomp filter forbids it; if it does, the failure is logged
 * once and the last good reading is returned, so the monotonic clock never
 * runs backwards.
 */
struct clock_now clock_read(void);

/* The monotonic clock alone, in milliseconds. */
int64_t clock_mono_ms(void);

/* The monotonic clock in nanoseconds, for measuring how long work took. */
int64_t clock_mono_ns(void);

/* The wall clock alone, in milliseconds since 1970. */
int64_t clock_unix_ms(void);

/* How many clock reads failed since the start (0 on a healthy host). */
uint64_t clock_failures(void);

#endif
