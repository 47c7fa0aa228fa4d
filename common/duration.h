/*
 * Durations as operators write them in config files and on command lines:
 * "250ms", "5s", "30m", "1h", "2d". Parsed to milliseconds.
 */
#ifndef TG_DURATION_H
#define TG_DURATION_H

#include <stddef.h>
#include <stdint.h>

/*
 * Parses TEXT into *MS. A unit is required ("5" is refused: seconds or
 * milliseconds?). Returns 0, or -1 with a reason in ERR.
 */
int duration_parse_ms(const char *text, int64_t *ms, char *err, size_t err_len);

/* Writes MS the way duration_parse_ms reads it back ("1500ms", "5s", "30m"). */
void duration_format(int64_t ms, char *out, size_t out_len);

/*
 * Writes MS for people, to the second, the two largest units only:
 * "45s", "5m12s", "2h3m", "1d4h"; "0s" under a second, "-" when negative
 * (a clock that went back).
 */
void duration_format_human(int64_t ms, char *out, size_t out_len);

#endif
