/*
 * Cutting text at a UTF-8 character boundary (text_cut.h).
 */
#include "text_cut.h"

#include <stdio.h>
#include <string.h>

/* How long the sequence that LEAD starts is; 1 for ASCII and for bytes that start none. */
static size_t sequence_length(unsigned char lead)
{
	if (lead >= 0xF0 && lead <= 0xF4)
		return 4;
	if (lead >= 0xE0)
		return lead <= 0xEF ? 3 : 1;
	if (lead >= 0xC2)
		return 2;
	return 1;
}

void text_cut_partial(char *text)
{
	size_t len = strlen(text);
	size_t start = len;
	/* back over at most three continuation bytes to the lead byte */
	while (start > 0 && len - start < 3 && ((unsigned char)text[start - 1] & 0xC0) == 0x80)
		start--;
	if (start == 0)
		return;
	unsigned char lead = (unsigned char)text[start - 1];
	if (lead >= 0xC0 && sequence_length(lead) > len - (start - 1))
		text[start - 1] = '\0';
}

void text_copy(char *out, size_t out_len, const char *text)
{
	if (out_len == 0)
		return;
	int n = snprintf(out, out_len, "%s", text != NULL ? text : "");
	if (n >= 0 && (size_t)n >= out_len)
		text_cut_partial(out);
}
