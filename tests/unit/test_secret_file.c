/*
 * Unit tests for secret files (common/secret_file.c): one line kept, the
 * newline and trailing blanks dropped, every malformed file refused with
 * the path named and the content never shown.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "secret_file.h"

static char dir[] = "/tmp/tg-secret-XXXXXX";

struct secret_case {
	const char *name;
	const char *content;  /* NULL: no file */
	const char *expected; /* NULL: refused */
	const char *error;    /* part of the error when refused */
};

static const struct secret_case cases[] = {
        {"one line", "s3cr3t-token-value\n", "s3cr3t-token-value", NULL},
        {"no newline", "abc", "abc", NULL},
        {"windows newline and blanks", "abc  \r\n", "abc", NULL},
        {"empty", "", NULL, "is empty"},
        {"only a newline", "\n", NULL, "is empty"},
        {"two lines", "first-secret\nsecond\n", NULL, "holds more than one line"},
        {"missing", NULL, NULL, "No such file or directory"},
};

static void test_secret_files(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct secret_case *c = &cases[i];
		char path[128];
		snprintf(path, sizeof(path), "%s/secret-%zu", dir, i);
		if (c->content != NULL) {
			FILE *f = fopen(path, "w");
			assert_non_null(f);
			fputs(c->content, f);
			fclose(f);
		}
		char err[256] = "";
		char *secret = secret_file_read(path, err, sizeof(err));
		if (c->expected != NULL) {
			if (secret == NULL || strcmp(secret, c->expected) != 0)
				fail_msg("case '%s': got '%s' (%s)", c->name,
				         secret ? secret : "NULL", err);
		} else {
			if (secret != NULL)
				fail_msg("case '%s': accepted '%s'", c->name, secret);
			if (strstr(err, path) == NULL || strstr(err, c->error) == NULL)
				fail_msg("case '%s': error '%s'", c->name, err);
			if (c->content != NULL && c->content[0] != '\0' && c->content[0] != '\n' &&
			    strstr(err, "first-secret") != NULL)
				fail_msg("case '%s': the error shows the secret", c->name);
		}
		secret_free(secret);
	}
	secret_free(NULL);
}

static int setup(void **state)
{
	(void)state;
	return mkdtemp(dir) != NULL ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	char command[128];
	snprintf(command, sizeof(command), "rm -rf '%s'", dir);
	return system(command);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_secret_files),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
