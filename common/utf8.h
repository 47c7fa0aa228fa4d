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

#endif
