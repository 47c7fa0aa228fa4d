/*
 * The Trino contract fixtures of tests/fixtures/trino/: raw HTTP answers
 * (status line, headers, an empty line, the body), read into a struct so the
 * parser tests, the fixture server and the sim-matches-fixtures test read
 * them the same way.
 */
#ifndef TG_TRINO_FIXTURE_H
#define TG_TRINO_FIXTURE_H

#include <stddef.h>

struct trino_fixture {
	int status;
	char reason[64];
	char content_type[128]; /* "" when the answer has none */
	char headers[512];      /* every header line but Content-Type, "\n"-separated */
	char *body;             /* NUL-terminated; body_len bytes (owned) */
	size_t body_len;
};

/* Reads DIR/NAME (DIR NULL: NAME is a path). 0, or -1 with ERR. */
int trino_fixture_load(const char *dir, const char *name, struct trino_fixture *fixture, char *err,
                       size_t err_len);

void trino_fixture_cleanup(struct trino_fixture *fixture);

#endif
