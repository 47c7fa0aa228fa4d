/*
 * Logging to stderr: "2026-11-24T10:15:30.123Z agent[42] warn: text".
 * Under systemd (JOURNAL_STREAM set) the line starts with "<4>" instead of a
 * timestamp, so journald records the priority and its own time.
 */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"

static const char *log_program = "trino-guard";
static enum log_level log_threshold = LOG_LEVEL_INFO;

const char *const log_level_names[] = {
        [LOG_LEVEL_ERROR] = "error",
        [LOG_LEVEL_WARN] = "warn",
        [LOG_LEVEL_INFO] = "info",
        [LOG_LEVEL_DEBUG] = "debug",
        NULL,
};
_Static_assert(sizeof(log_level_names) / sizeof(log_level_names[0]) == LOG_LEVEL_COUNT + 1,
               "one name per enum log_level");
/* syslog priorities: err, warning, info, debug */
static const int level_priorities[] = {3, 4, 6, 7};

void log_init(const char *program, enum log_level level)
{
	if (program != NULL) {
		const char *slash = strrchr(program, '/');
		log_program = slash != NULL ? slash + 1 : program;
	}
	log_threshold = level;
}

void log_set_level(enum log_level level)
{
	log_threshold = level;
}

enum log_level log_get_level(void)
{
	return log_threshold;
}

int log_level_parse(const char *text, enum log_level *level)
{
	for (size_t i = 0; i < LOG_LEVEL_COUNT; i++) {
		if (strcasecmp(text, log_level_names[i]) == 0) {
			*level = (enum log_level)i;
			return 0;
		}
	}
	return -1;
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	if (level > log_threshold)
		return;

	char message[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(message, sizeof(message), fmt, ap);
	va_end(ap);

	/* One fprintf per line, so lines from one process never interleave. */
	if (getenv("JOURNAL_STREAM") != NULL) {
		fprintf(stderr, "<%d>%s: %s\n", level_priorities[level], log_level_names[level],
		        message);
		return;
	}
	int64_t now_unix_ms = clock_unix_ms();
	time_t seconds = (time_t)(now_unix_ms / 1000);
	struct tm tm;
	char stamp[32];
	/* a year past 9999 does not fit; strftime's 0 leaves STAMP indeterminate */
	if (gmtime_r(&seconds, &tm) == NULL ||
	    strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm) == 0)
		snprintf(stamp, sizeof(stamp), "?");
	fprintf(stderr, "%s.%03ldZ %s[%ld] %s: %s\n", stamp, (long)(now_unix_ms % 1000),
	        log_program, (long)getpid(), log_level_names[level], message);
}
