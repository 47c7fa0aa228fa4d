/*
 * Strict UTF-8 validation after RFC 3629 table 3-7 (well-formed byte
 * sequences), and the cleaning copy used before text goes into JSON.
 */
#include "utf8.h"

#include <stdint.h>
#include <string.h>

/* Bytes of the well-formed sequence at S (LEN bytes left), or 0 when it is not well-formed. */
static size_t sequence_length(const unsigned char *s, size_t len)
{
	unsigned char c = s[0];
	if (c < 0x80)
		return 1;
	size_t need;
	unsigned char lo = 0x80, hi = 0xBF;
	if (c >= 0xC2 && c <= 0xDF) {
		need = 1;
	} else if (c >= 0xE0 && c <= 0xEF) {
		need = 2;
		if (c == 0xE0)
			lo = 0xA0; /* overlong */
		else if (c == 0xED)
			hi = 0x9F; /* surrogates */
	} else if (c >= 0xF0 && c <= 0xF4) {
		need = 3;
		if (c == 0xF0)
			lo = 0x90; /* overlong */
		else if (c == 0xF4)
			hi = 0x8F; /* above U+10FFFF */
	} else {
		return 0;
	}
	if (len <= need)
		return 0;
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (size_t k = 2; k <= need; k++) {
		if (s[k] < 0x80 || s[k] > 0xBF)
			return 0;
	}
	return need + 1;
}

bool utf8_valid(const char *text, size_t len)
{
	const unsigned char *s = (const unsigned char *)text;
	size_t i = 0;
	while (i < len) {
		size_t n = sequence_length(s + i, len - i);
		if (n == 0)
			return false;
		i += n;
	}
	return true;
}

static const char replacement[] = "\xEF\xBF\xBD"; /* U+FFFD */
static const char ellipsis[] = "\xE2\x80\xA6";    /* U+2026 */

/*
 * Writes the cleaned TEXT to OUT (when not NULL) while it fits in LIMIT
 * bytes. Returns the bytes written; *COMPLETE says whether all of TEXT fit.
 */
static size_t clean_prefix(const char *text, char *out, size_t limit, bool *complete,
                           bool *replaced)
{
	const unsigned char *s = (const unsigned char *)text;
	size_t len = strlen(text), i = 0, used = 0;
	while (i < len) {
		size_t n = sequence_length(s + i, len - i);
		size_t piece_len = n ? n : sizeof(replacement) - 1;
		if (used + piece_len > limit)
			break;
		if (out)
			memcpy(out + used, n ? text + i : replacement, piece_len);
		used += piece_len;
		*replaced |= n == 0;
		i += n ? n : 1;
	}
	*complete = i == len;
	return used;
}

bool utf8_clean_copy(const char *text, size_t max_bytes, char *out, size_t out_size)
{
	if (out_size == 0)
		return true;
	size_t limit = out_size - 1 < max_bytes ? out_size - 1 : max_bytes;
	const size_t ellipsis_len = sizeof(ellipsis) - 1;
	bool complete, replaced = false;
	size_t used = clean_prefix(text, NULL, limit, &complete, &replaced);
	if (complete) {
		clean_prefix(text, out, limit, &complete, &replaced);
	} else if (limit < ellipsis_len) {
		used = 0;
	} else {
		used = clean_prefix(text, out, limit - ellipsis_len, &complete, &replaced);
		memcpy(out + used, ellipsis, ellipsis_len);
		used += ellipsis_len;
	}
	out[used] = '\0';
	return replaced || !complete;
}

void utf8_one_line(const char *text, size_t len, size_t max_bytes, char *out, size_t out_size)
{
	size_t n = 0;
	for (size_t i = 0; i < len && n + 1 < out_size && n < max_bytes; i++) {
		unsigned char c = (unsigned char)text[i];
		out[n++] =
		        (char)((c == '\n' || c == '\r' || c == '\t') ? ' ' : (c < 0x20 ? '?' : c));
	}
	out[n] = '\0';
	while (n > 0 && !utf8_valid(out, n))
		out[--n] = '\0'; /* cut a partial character at the end */
	if (!utf8_valid(out, n)) {
		for (size_t i = 0; i < n; i++)
			if ((unsigned char)out[i] >= 0x80)
				out[i] = '?';
	}
}
