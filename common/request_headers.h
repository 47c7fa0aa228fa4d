/*
 * The extra headers of an outgoing request, as a config section gives them:
 * header.NAME = value in the file, or header_file.NAME = /path for a secret
 * (a bearer token) that lives in its own file, one line, only its owner may
 * read. Made into the "NAME: value" lines the HTTP client sends.
 */
#ifndef TG_REQUEST_HEADERS_H
#define TG_REQUEST_HEADERS_H

#include <stddef.h>

#include "config.h"

/* The most header.NAME and header_file.NAME keys a section may have, together. */
#define REQUEST_HEADERS_MAX 8

struct request_headers {
	char *lines[REQUEST_HEADERS_MAX]; /* "NAME: value", owned (a secret's wiped when freed) */
	size_t count;
};

/*
 * Fills OUT (zeroed by the caller, or freed before) from VALUES
 * (header.NAME) and then FILES (header_file.NAME, each file read with
 * secret_file_read_private). Refused: more than REQUEST_HEADERS_MAX in all,
 * a NAME in both (HTTP's names ignore case), a file that cannot be read, is
 * empty, holds more than one line or is open to group or others. 0, or -1
 * with WHY ("header_file.Authorization: /etc/x is empty", never a secret)
 * and in *LINE the blamed key's line; OUT is then empty.
 */
int request_headers_read(const struct config_pairs *values, const struct config_pairs *files,
                         struct request_headers *out, int *line, char *why, size_t why_len);

/* Replaces *TO with FROM (taken: FROM is left empty), the old lines wiped. */
void request_headers_move(struct request_headers *to, struct request_headers *from);

/* Wipes and frees the lines; zeroes HEADERS. */
void request_headers_free(struct request_headers *headers);

#endif
