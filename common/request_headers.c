/*
 * A section's header.NAME and header_file.NAME keys made into request
 * header lines, the files read and checked on the way.
 */
#include "request_headers.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "secret_file.h"

/* Appends "NAME: VALUE" to OUT. 0, or -1 when out of memory. */
static int add_line(struct request_headers *out, const char *name, const char *value)
{
	size_t len = strlen(name) + strlen(value) + 3;
	char *line = malloc(len);
	if (line == NULL)
		return -1;
	snprintf(line, len, "%s: %s", name, value);
	out->lines[out->count++] = line;
	return 0;
}

/* Whether PAIRS has NAME, in any case. */
static bool has_name(const struct config_pairs *pairs, const char *name)
{
	for (size_t i = 0; i < pairs->count; i++)
		if (strcasecmp(pairs->items[i].name, name) == 0)
			return true;
	return false;
}

/* The checks that need no file: how many, and no NAME twice. 0, or -1 with WHY and *LINE. */
static int check_names(const struct config_pairs *values, const struct config_pairs *files,
                       int *line, char *why, size_t why_len)
{
	if (values->count + files->count > REQUEST_HEADERS_MAX) {
		bool in_values = values->count > REQUEST_HEADERS_MAX;
		const struct config_pair *extra =
		        in_values ? &values->items[REQUEST_HEADERS_MAX]
		                  : &files->items[REQUEST_HEADERS_MAX - values->count];
		*line = extra->line;
		snprintf(why, why_len,
		         "%s.%s: at most %d header.NAME and header_file.NAME keys in all",
		         in_values ? "header" : "header_file", extra->name, REQUEST_HEADERS_MAX);
		return -1;
	}
	for (size_t i = 0; i < files->count; i++) {
		const struct config_pair *file = &files->items[i];
		*line = file->line;
		if (file->value[0] != '/') {
			snprintf(why, why_len, "header_file.%s: '%s' is not an absolute path",
			         file->name, file->value);
			return -1;
		}
		if (!has_name(values, file->name))
			continue;
		snprintf(why, why_len,
		         "header_file.%s: header.%s is set too; give the header one value, in the "
		         "file or in the config",
		         file->name, file->name);
		return -1;
	}
	return 0;
}

int request_headers_read(const struct config_pairs *values, const struct config_pairs *files,
                         struct request_headers *out, int *line, char *why, size_t why_len)
{
	static const struct config_pairs none;
	if (values == NULL)
		values = &none;
	if (files == NULL)
		files = &none;
	memset(out, 0, sizeof(*out));
	if (check_names(values, files, line, why, why_len) != 0)
		return -1;
	for (size_t i = 0; i < values->count; i++) {
		if (add_line(out, values->items[i].name, values->items[i].value) != 0) {
			*line = values->items[i].line;
			snprintf(why, why_len, "header.%s: out of memory", values->items[i].name);
			request_headers_free(out);
			return -1;
		}
	}
	for (size_t i = 0; i < files->count; i++) {
		const struct config_pair *file = &files->items[i];
		char reason[1024];
		char *secret = secret_file_read_private(file->value, reason, sizeof(reason));
		int rc = secret != NULL ? add_line(out, file->name, secret) : -1;
		if (secret != NULL && rc != 0)
			snprintf(reason, sizeof(reason), "out of memory");
		secret_free(secret);
		if (rc != 0) {
			*line = file->line;
			snprintf(why, why_len, "header_file.%s: %s", file->name, reason);
			request_headers_free(out);
			return -1;
		}
	}
	return 0;
}

void request_headers_move(struct request_headers *to, struct request_headers *from)
{
	request_headers_free(to);
	*to = *from;
	memset(from, 0, sizeof(*from));
}

void request_headers_free(struct request_headers *headers)
{
	for (size_t i = 0; i < headers->count; i++)
		secret_free(headers->lines[i]);
	memset(headers, 0, sizeof(*headers));
}
