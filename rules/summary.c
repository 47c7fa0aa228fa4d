/*
 * Cutting summaries on a word: a pager shows the start of a long summary,
 * and a cut in the middle of "(HTTP 503: ..." reads as a broken message.
 */
#include "summary.h"

#include <string.h>

#define ELLIPSIS "..."

/*
 * Where to cut TEXT to keep at most ROOM bytes (TEXT is longer): at the last
 * space up to ROOM, or before the outermost parenthesis still open there;
 * at ROOM itself when the text has no space that early.
 */
static size_t word_cut(const char *text, size_t room)
{
	size_t cut = 0, depth = 0, open = 0, cut_depth = 0, cut_open = 0;
	for (size_t i = 0; i <= room; i++) {
		if (text[i] == ' ') {
			cut = i;
			cut_depth = depth;
			cut_open = open;
		}
		if (i == room)
			break;
		if (text[i] == '(' && depth++ == 0)
			open = i;
		else if (text[i] == ')' && depth > 0)
			depth--;
	}
	if (cut == 0)
		cut = room;
	else if (cut_depth > 0)
		cut = cut_open;
	while (cut > 0 && (text[cut - 1] == ' ' || text[cut - 1] == ':' || text[cut - 1] == ','))
		cut--;
	while (cut > 0 && ((unsigned char)text[cut] & 0xC0) == 0x80)
		cut--; /* never inside a UTF-8 sequence */
	return cut;
}

void summary_cut(const char *text, char *out, size_t out_size)
{
	size_t len = strlen(text);
	if (len < out_size) {
		memcpy(out, text, len + 1);
		return;
	}
	size_t cut = word_cut(text, out_size - sizeof(ELLIPSIS));
	memcpy(out, text, cut);
	memcpy(out + cut, ELLIPSIS, sizeof(ELLIPSIS));
}
