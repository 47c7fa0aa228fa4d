/*
 * UTF-8 validation. Strings from the wire and from Trino are checked before
 * they are stored or put into JSON: jansson refuses invalid UTF-8, which
 * would silently drop an alert or an API answer.
 */
#ifndef TG_UTF8_H
#define TG_UTF8_H

#include <stdbool.h>
#include <stddef.h>

/* True when the LEN bytes at TEXT are well-formed UTF-8 (no overlongs, no surrogates, <= U+10FFFF). */
bool utf8_valid(const char *text, size_t len);

/*
 * Copies the NUL-terminated TEXT into OUT (OUT_SIZE bytes, always
 * terminated) as well-formed UTF-8 of at most MAX_BYTES bytes: each byte
 * that starts no well-formed sequence becomes U+FFFD, and text that does
 * not fit is cut at a character boundary and ends in U+2026. Returns true
 * when the copy differs from TEXT.
 */
bool utf8_clean_copy(const char *text, size_t max_bytes, char *out, size_t out_size);

/*
 * Keeps a server's message fit for a report or a log line: the LEN bytes at
 * TEXT, at most MAX_BYTES of them, into OUT (OUT_SIZE bytes, always
 * terminated) on one line (newlines and tabs become spaces, other control
 * characters '?'), a character cut at the end dropped, and where the rest is
 * still not UTF-8 every byte above 0x7f a '?'.
 */
void utf8_one_line(const char *text, size_t len, size_t max_bytes, char *out, size_t out_size);

#endif
