/*
 * One-line summaries cut to fit a field: on a word, never inside a
 * parenthesis, never inside a UTF-8 sequence, and marked as cut. Pure.
 */
#ifndef TG_SUMMARY_H
#define TG_SUMMARY_H

#include <stddef.h>

/*
 * Copies TEXT into OUT (OUT_SIZE bytes, at least 16). Text that does not fit
 * ends at the last space before the limit, before any parenthesis still open
 * there, followed by "...".
 */
void summary_cut(const char *text, char *out, size_t out_size);

#endif
