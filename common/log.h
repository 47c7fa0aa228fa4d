/*
 * Logging to stderr for both daemons: one line per message with a UTC
 * timestamp, the program name and a level; journald-friendly <N> priority
 * prefixes instead of timestamps when stderr is the journal.
 */
#ifndef TG_LOG_H
#define TG_LOG_H

#include <stdbool.h>

enum log_level {
	LOG_LEVEL_ERROR = 0,
	LOG_LEVEL_WARN,
	LOG_LEVEL_INFO,
	LOG_LEVEL_DEBUG,
	LOG_LEVEL_COUNT
};

/* "error", "warn", "info", "debug": indexed by enum log_level, NULL-terminated (a config choice). */
extern const char *const log_level_names[];

/* Sets the program name shown on every line and the least severe level printed. */
void log_init(const char *program, enum log_level level);
void log_set_level(enum log_level level);
enum log_level log_get_level(void);

/* Parses "error", "warn", "info" or "debug". Returns 0, or -1 for anything else. */
int log_level_parse(const char *text, enum log_level *level);

void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_error(...) log_msg(LOG_LEVEL_ERROR, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_LEVEL_WARN, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_LEVEL_DEBUG, __VA_ARGS__)

#endif
