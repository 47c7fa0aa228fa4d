/*
 * Reading one raw HTTP answer of tests/fixtures/trino/ (see trino_fixture.h).
 */
#include "trino_fixture.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static char *read_all(const char *path, size_t *len, char *err, size_t err_len)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL) {
		snprintf(err, err_len, "%s: %s", path, strerror(errno));
		return NULL;
	}
	size_t cap = 4096, n = 0;
	char *buf = malloc(cap);
	while (buf != NULL) {
		n += fread(buf + n, 1, cap - n - 1, f);
		if (n < cap - 1)
			break;
		cap *= 2;
		char *grown = realloc(buf, cap);
		if (grown == NULL) {
			free(buf);
			buf = NULL;
		} else {
			buf = grown;
		}
	}
	fclose(f);
	if (buf == NULL) {
		snprintf(err, err_len, "%s: out of memory", path);
		return NULL;
	}
	buf[n] = '\0';
	*len = n;
	return buf;
}

/* Parses the status line and headers at TEXT, up to the empty line. */
static int parse_head(const char *text, const char *path, struct trino_fixture *fixture,
                      const char **body, char *err, size_t err_len)
{
	int consumed = 0;
	if (sscanf(text, "HTTP/1.1 %d %63[^\n]%n", &fixture->status, fixture->reason, &consumed) !=
	    2) {
		snprintf(err, err_len, "%s: no 'HTTP/1.1 STATUS REASON' line", path);
		return -1;
	}
	const char *p = text + consumed;
	if (*p == '\n')
		p++;
	while (*p != '\0' && *p != '\n') {
		const char *eol = strchr(p, '\n');
		if (eol == NULL) {
			snprintf(err, err_len, "%s: headers never end", path);
			return -1;
		}
		size_t len = (size_t)(eol - p);
		if (strncasecmp(p, "Content-Type: ", 14) == 0) {
			snprintf(fixture->content_type, sizeof(fixture->content_type), "%.*s",
			         (int)(len - 14), p + 14);
		} else {
			size_t used = strlen(fixture->headers);
			snprintf(fixture->headers + used, sizeof(fixture->headers) - used, "%.*s\n",
			         (int)len, p);
		}
		p = eol + 1;
	}
	if (*p != '\n') {
		snprintf(err, err_len, "%s: no empty line before the body", path);
		return -1;
	}
	*body = p + 1;
	return 0;
}

int trino_fixture_load(const char *dir, const char *name, struct trino_fixture *fixture, char *err,
                       size_t err_len)
{
	memset(fixture, 0, sizeof(*fixture));
	char path[1024];
	if (dir != NULL)
		snprintf(path, sizeof(path), "%s/%s", dir, name);
	else
		snprintf(path, sizeof(path), "%s", name);
	size_t len;
	char *text = read_all(path, &len, err, err_len);
	if (text == NULL)
		return -1;
	const char *body;
	if (parse_head(text, path, fixture, &body, err, err_len) != 0) {
		free(text);
		return -1;
	}
	fixture->body_len = len - (size_t)(body - text);
	fixture->body = malloc(fixture->body_len + 1);
	if (fixture->body == NULL) {
		free(text);
		snprintf(err, err_len, "%s: out of memory", path);
		return -1;
	}
	memcpy(fixture->body, body, fixture->body_len);
	fixture->body[fixture->body_len] = '\0';
	free(text);
	return 0;
}

void trino_fixture_cleanup(struct trino_fixture *fixture)
{
	free(fixture->body);
	fixture->body = NULL;
}
