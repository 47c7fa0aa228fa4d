/*
 * java.util.Properties, as Trino loads config.properties and catalog files
 * (Trino reads them with airlift's ConfigurationLoader, i.e. the javadoc of
 * java.util.Properties.load(Reader) and
 * its LineReader/loadConvert). Logical lines are cut from the raw bytes first;
 * escapes are decoded afterwards, per key and value, into UTF-8.
 */
#include "properties.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct buffer {
	char *data;
	size_t len;
	size_t cap;
	bool failed;
};

static void buffer_put(struct buffer *b, const char *data, size_t len)
{
	if (b->failed)
		return;
	if (b->len + len + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		while (cap < b->len + len + 1)
			cap *= 2;
		char *grown = realloc(b->data, cap);
		if (grown == NULL) {
			b->failed = true;
			return;
		}
		b->data = grown;
		b->cap = cap;
	}
	memcpy(b->data + b->len, data, len);
	b->len += len;
	b->data[b->len] = '\0';
}

static void buffer_putc(struct buffer *b, char c)
{
	buffer_put(b, &c, 1);
}

static void buffer_put_codepoint(struct buffer *b, uint32_t cp)
{
	char out[4];
	if (cp == 0) {
		/* U+0000 as in Java's modified UTF-8, so strings stay NUL-terminated */
		buffer_put(b, "\xC0\x80", 2);
	} else if (cp < 0x80) {
		buffer_putc(b, (char)cp);
	} else if (cp < 0x800) {
		out[0] = (char)(0xC0 | (cp >> 6));
		out[1] = (char)(0x80 | (cp & 0x3F));
		buffer_put(b, out, 2);
	} else if (cp < 0x10000) {
		out[0] = (char)(0xE0 | (cp >> 12));
		out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
		out[2] = (char)(0x80 | (cp & 0x3F));
		buffer_put(b, out, 3);
	} else {
		out[0] = (char)(0xF0 | (cp >> 18));
		out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
		out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
		out[3] = (char)(0x80 | (cp & 0x3F));
		buffer_put(b, out, 4);
	}
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\f';
}

struct entry {
	char *key;
	char *value;
	size_t order;
};

struct parser {
	const unsigned char *text;
	size_t len;
	size_t pos;
	int line;         /* natural line being read, from 1 */
	int logical_line; /* where the current logical line began */
	struct entry *entries;
	size_t count;
	size_t cap;
	char *err;
	size_t err_len;
};

/*
 * Reads the next logical line into LINE (raw bytes, continuations joined).
 * Returns false at the end of the input. Mirrors Properties.LineReader.
 */
static bool read_logical_line(struct parser *p, struct buffer *line)
{
	line->len = 0;
	bool skip_white = true;
	bool appended_line_begin = false;
	bool is_comment = false;
	bool preceding_backslash = false;
	bool skip_lf = false;
	while (p->pos < p->len) {
		char c = (char)p->text[p->pos++];
		if (skip_lf) {
			skip_lf = false;
			if (c == '\n') {
				continue;
			}
		}
		if (skip_white) {
			if (is_space(c))
				continue;
			if (!appended_line_begin && (c == '\r' || c == '\n')) {
				p->line++;
				if (c == '\r')
					skip_lf = true;
				continue;
			}
			skip_white = false;
			appended_line_begin = false;
		}
		if (line->len == 0) {
			is_comment = c == '#' || c == '!';
			p->logical_line = p->line;
		}
		if (c != '\n' && c != '\r') {
			buffer_putc(line, c);
			preceding_backslash = c == '\\' ? !preceding_backslash : false;
			continue;
		}
		/* end of a natural line */
		p->line++;
		if (c == '\r')
			skip_lf = true;
		if (is_comment || line->len == 0) {
			is_comment = false;
			skip_white = true;
			line->len = 0;
			continue;
		}
		if (preceding_backslash) {
			line->len--; /* the continuation backslash */
			skip_white = true;
			appended_line_begin = true;
			preceding_backslash = false;
			continue;
		}
		return true;
	}
	if (is_comment || line->len == 0)
		return false;
	if (preceding_backslash)
		line->len--;
	return true;
}

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * Decodes escapes of RAW[0..len) into OUT as UTF-8 (Properties.loadConvert).
 * Plain bytes are ISO-8859-1 characters. Returns 0, or -1 for a malformed \u.
 */
static int convert(const char *raw, size_t len, struct buffer *out)
{
	uint32_t high_surrogate = 0;
	size_t i = 0;
	while (i < len) {
		uint32_t cp;
		unsigned char c = (unsigned char)raw[i++];
		if (c != '\\') {
			cp = c;
		} else if (i == len) {
			cp = '\0'; /* a lone trailing backslash reads as U+0000 in Java */
		} else {
			c = (unsigned char)raw[i++];
			if (c == 'u') {
				if (len - i < 4)
					return -1;
				cp = 0;
				for (int k = 0; k < 4; k++) {
					int v = hex_value(raw[i + (size_t)k]);
					if (v < 0)
						return -1;
					cp = cp * 16 + (uint32_t)v;
				}
				i += 4;
			} else if (c == 't') {
				cp = '\t';
			} else if (c == 'r') {
				cp = '\r';
			} else if (c == 'n') {
				cp = '\n';
			} else if (c == 'f') {
				cp = '\f';
			} else {
				cp = c;
			}
		}
		/* UTF-16 surrogates from \u escapes pair up; a lone one becomes '?'
		 * as Java's UTF-8 encoder writes it. */
		if (high_surrogate != 0) {
			if (cp >= 0xDC00 && cp <= 0xDFFF) {
				buffer_put_codepoint(out,
				                     0x10000 + ((high_surrogate - 0xD800) << 10) +
				                             (cp - 0xDC00));
				high_surrogate = 0;
				continue;
			}
			buffer_putc(out, '?');
			high_surrogate = 0;
		}
		if (cp >= 0xD800 && cp <= 0xDBFF) {
			high_surrogate = cp;
			continue;
		}
		if (cp >= 0xDC00 && cp <= 0xDFFF) {
			buffer_putc(out, '?');
			continue;
		}
		buffer_put_codepoint(out, cp);
	}
	if (high_surrogate != 0)
		buffer_putc(out, '?');
	return 0;
}

/* Java's String.trim: drops characters <= U+0020 at both ends. */
static void trim(struct buffer *b)
{
	size_t start = 0;
	while (start < b->len && (unsigned char)b->data[start] <= ' ')
		start++;
	size_t end = b->len;
	while (end > start && (unsigned char)b->data[end - 1] <= ' ')
		end--;
	memmove(b->data, b->data + start, end - start);
	b->len = end - start;
	b->data[b->len] = '\0';
}

static int add_entry(struct parser *p, char *key, char *value)
{
	if (p->count == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 32;
		struct entry *grown = realloc(p->entries, cap * sizeof(*grown));
		if (grown == NULL)
			return -1;
		p->entries = grown;
		p->cap = cap;
	}
	p->entries[p->count] = (struct entry){key, value, p->count};
	p->count++;
	return 0;
}

/* Splits one logical line into key and value (Properties.load0) and stores them. */
static int parse_line(struct parser *p, const char *line, size_t limit)
{
	size_t key_len = 0;
	size_t value_start = limit;
	bool has_separator = false;
	bool preceding_backslash = false;
	while (key_len < limit) {
		char c = line[key_len];
		if ((c == '=' || c == ':') && !preceding_backslash) {
			value_start = key_len + 1;
			has_separator = true;
			break;
		}
		if (is_space(c) && !preceding_backslash) {
			value_start = key_len + 1;
			break;
		}
		preceding_backslash = c == '\\' ? !preceding_backslash : false;
		key_len++;
	}
	while (value_start < limit) {
		char c = line[value_start];
		if (!is_space(c)) {
			if (!has_separator && (c == '=' || c == ':'))
				has_separator = true;
			else
				break;
		}
		value_start++;
	}
	struct buffer key = {0}, value = {0};
	buffer_put(&key, "", 0);
	buffer_put(&value, "", 0);
	if (convert(line, key_len, &key) != 0 ||
	    convert(line + value_start, limit - value_start, &value) != 0) {
		snprintf(p->err, p->err_len, "line %d: malformed \\uXXXX escape", p->logical_line);
		free(key.data);
		free(value.data);
		return -1;
	}
	if (key.failed || value.failed) {
		snprintf(p->err, p->err_len, "out of memory");
		free(key.data);
		free(value.data);
		return -1;
	}
	trim(&value);
	if (add_entry(p, key.data, value.data) != 0) {
		snprintf(p->err, p->err_len, "out of memory");
		free(key.data);
		free(value.data);
		return -1;
	}
	return 0;
}

/* By key, then by position, so the last duplicate is the last of its run. */
static int compare_entries(const void *a, const void *b)
{
	const struct entry *ea = a, *eb = b;
	int c = strcmp(ea->key, eb->key);
	if (c != 0)
		return c;
	return ea->order < eb->order ? -1 : 1;
}

static bool excluded(const char *key, const char *const *exclude_keys, size_t exclude_count)
{
	for (size_t i = 0; i < exclude_count; i++) {
		if (strcmp(key, exclude_keys[i]) == 0)
			return true;
	}
	return false;
}

static void put_escaped(struct buffer *out, const char *text, bool is_key)
{
	for (const char *p = text; *p != '\0'; p++) {
		char c = *p;
		if ((unsigned char)c == 0xC0 && (unsigned char)p[1] == 0x80) {
			buffer_put(out, "\\u0000", 6);
			p++;
			continue;
		}
		/* A key's leading '#' or '!' too: unescaped, the line would read back
		 * as a comment. */
		if (c == '\\' || c == '\n' || c == '\r' ||
		    (is_key && (c == '=' || c == ':' || is_space(c))) ||
		    (is_key && p == text && (c == '#' || c == '!'))) {
			buffer_putc(out, '\\');
			c = (char)(c == '\n'   ? 'n'
			           : c == '\r' ? 'r'
			           : c == '\t' ? 't'
			           : c == '\f' ? 'f'
			                       : c);
		}
		buffer_putc(out, c);
	}
}

char *properties_canonicalize(const char *text, size_t len, const char *const *exclude_keys,
                              size_t exclude_count, size_t *out_len, char *err, size_t err_len)
{
	struct parser p = {.text = (const unsigned char *)text,
	                   .len = len,
	                   .line = 1,
	                   .err = err,
	                   .err_len = err_len};
	if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0)
		p.pos = 3;
	struct buffer line = {0};
	char *result = NULL;
	while (read_logical_line(&p, &line)) {
		if (line.failed) {
			snprintf(err, err_len, "out of memory");
			goto done;
		}
		if (parse_line(&p, line.data, line.len) != 0)
			goto done;
	}
	if (p.count > 1)
		qsort(p.entries, p.count, sizeof(*p.entries), compare_entries);
	struct buffer out = {0};
	buffer_put(&out, "", 0);
	for (size_t i = 0; i < p.count; i++) {
		bool last_of_key =
		        i + 1 == p.count || strcmp(p.entries[i].key, p.entries[i + 1].key) != 0;
		if (!last_of_key || excluded(p.entries[i].key, exclude_keys, exclude_count))
			continue;
		put_escaped(&out, p.entries[i].key, true);
		buffer_putc(&out, '=');
		put_escaped(&out, p.entries[i].value, false);
		buffer_putc(&out, '\n');
	}
	if (out.failed) {
		free(out.data);
		snprintf(err, err_len, "out of memory");
		goto done;
	}
	result = out.data;
	*out_len = out.len;
done:
	for (size_t i = 0; i < p.count; i++) {
		free(p.entries[i].key);
		free(p.entries[i].value);
	}
	free(p.entries);
	free(line.data);
	return result;
}

char *properties_lookup(const char *text, size_t len, const char *key, char *err, size_t err_len)
{
	struct parser p = {.text = (const unsigned char *)text,
	                   .len = len,
	                   .line = 1,
	                   .err = err,
	                   .err_len = err_len};
	if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0)
		p.pos = 3;
	struct buffer line = {0};
	char *result = NULL;
	bool failed = false;
	while (!failed && read_logical_line(&p, &line))
		failed = line.failed || parse_line(&p, line.data, line.len) != 0;
	if (!failed) {
		for (size_t i = p.count; i-- > 0;) {
			if (strcmp(p.entries[i].key, key) == 0) {
				result = p.entries[i].value;
				p.entries[i].value = NULL;
				break;
			}
		}
		if (result == NULL && err_len > 0)
			err[0] = '\0';
	}
	for (size_t i = 0; i < p.count; i++) {
		free(p.entries[i].key);
		free(p.entries[i].value);
	}
	free(p.entries);
	free(line.data);
	return result;
}

char *jvm_config_canonicalize(const char *text, size_t len, size_t *out_len)
{
	struct buffer out = {0};
	buffer_put(&out, "", 0);
	size_t pos = 0;
	bool first = true;
	while (pos < len) {
		size_t end = pos;
		while (end < len && text[end] != '\n')
			end++;
		size_t start = pos;
		size_t stop = end;
		while (start < stop && (unsigned char)text[start] <= ' ')
			start++;
		while (stop > start && (unsigned char)text[stop - 1] <= ' ')
			stop--;
		if (stop > start && text[start] != '#') {
			if (!first)
				buffer_putc(&out, '\n');
			buffer_put(&out, text + start, stop - start);
			first = false;
		}
		pos = end + 1;
	}
	if (out.failed) {
		free(out.data);
		return NULL;
	}
	*out_len = out.len;
	return out.data;
}
