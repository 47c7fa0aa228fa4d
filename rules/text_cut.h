/*
 * Text cut to fit a fixed buffer without splitting a UTF-8 character: a
 * string cut mid-character is invalid UTF-8, which jansson refuses, so a
 * state file, a journal event or a status answer holding it would be lost.
 * Pure (rules/ links libc and libm only, so common/utf8.c is not used).
 */
#ifndef TG_TEXT_CUT_H
#define TG_TEXT_CUT_H

#include <stddef.h>

/* Drops an incomplete UTF-8 sequence at the end of the NUL-terminated TEXT. */
void text_cut_partial(char *text);

/* Copies TEXT (NULL: "") into OUT of OUT_LEN bytes, cut at a character boundary. */
void text_copy(char *out, size_t out_len, const char *text);

#endif
