/*
 * Canonical forms of Trino's config files, so that a digest changes when
 * what Trino reads changes, and not when a file is reordered or a comment is
 * edited. Pure: text in, canonical text out.
 */
#ifndef TG_PROPERTIES_H
#define TG_PROPERTIES_H

#include <stddef.h>

/*
 * Parses a .properties file with java.util.Properties.load rules (ISO-8859-1
 * bytes, `=`/`:`/whitespace separators, `#`/`!` comments, backslash
 * continuations and escapes, last duplicate wins), trims values as Airlift
 * does, drops EXCLUDE_KEYS, and writes the rest sorted as "key=value\n" in
 * UTF-8. A UTF-8 byte order mark at the start is ignored. In the output, '\'
 * and line breaks are escaped in keys and values, and '=', ':' and whitespace
 * in keys, so that different contents never print alike.
 *
 * Returns the canonical text (caller frees) and its length in *OUT_LEN, or
 * NULL with "line N: why" in ERR (a malformed \uXXXX escape, out of memory).
 */
char *properties_canonicalize(const char *text, size_t len, const char *const *exclude_keys,
                              size_t exclude_count, size_t *out_len, char *err, size_t err_len);

/*
 * The value of KEY in a .properties text (the last one wins), decoded and
 * trimmed as properties_canonicalize reads it. Returns a new string (caller
 * frees); NULL with ERR when the key is absent ("" in ERR) or the text bad.
 */
char *properties_lookup(const char *text, size_t len, const char *key, char *err, size_t err_len);

/*
 * jvm.config as the launcher reads it: each line stripped of surrounding
 * whitespace, blank and '#' lines dropped, order kept, joined with '\n'.
 * Returns the text (caller frees), or NULL when out of memory.
 */
char *jvm_config_canonicalize(const char *text, size_t len, size_t *out_len);

#endif
