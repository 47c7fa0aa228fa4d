/*
 * The one clock: the only clock_gettime() calls in the tree, each checked.
 */
#include "clock.h"

#include <errno.h>
#include <string.h>
#include <time.h>

#include "log.h"

static int64_t last_mono_ns;
static int64_t last_unix_ns;
static uint64_t failures;

static int64_t read_ns(clockid_t id, int64_t *last, const char *name)
{
	struct timespec now;
	if (clock_gettime(id, &now) != 0) {
		if (failures++ == 0)
			log_error("clock_gettime(%s): %s; using the last reading", name,
			          strerror(errno));
		return *last;
	}
	int64_t ns = (int64_t)now.tv_sec * 1000000000 + now.tv_nsec;
	if (id == CLOCK_MONOTONIC && ns < *last)
		return *last; /* cannot happen; kept so callers may rely on it */
	*last = ns;
	return ns;
}

struct clock_now clock_read(void)
{
	return (struct clock_now){
	        .mono_ms = read_ns(CLOCK_MONOTONIC, &last_mono_ns, "CLOCK_MONOTONIC") / 1000000,
	        .unix_ms = read_ns(CLOCK_REALTIME, &last_unix_ns, "CLOCK_REALTIME") / 1000000,
	};
}

int64_t clock_mono_ms(void)
{
	return read_ns(CLOCK_MONOTONIC, &last_mono_ns, "CLOCK_MONOTONIC") / 1000000;
}

int64_t clock_mono_ns(void)
{
	return read_ns(CLOCK_MONOTONIC, &last_mono_ns, "CLOCK_MONOTONIC");
}

int64_t clock_unix_ms(void)
{
	return read_ns(CLOCK_REALTIME, &last_unix_ns, "CLOCK_REALTIME") / 1000000;
}

uint64_t clock_failures(void)
{
	return failures;
}
