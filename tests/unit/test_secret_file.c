/*
 * Unit tests for secret files (common/secret_file.c): one line kept, the
 * newline and trailing blanks dropped, every malformed file refused with
 * the path named and the content never shown; a private one also refused
 * when group or others may open it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <sys/stat.h>

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

struct private_case {
	const char *name;
	unsigned mode;
	const char *error; /* NULL: read */
};

static const struct private_case private_cases[] = {
        {"owner only", 0600, NULL},
        {"owner read only", 0400, NULL},
        {"group may read", 0640, "is open to group or others (mode 0640); run chmod 600"},
        {"others may read", 0604, "is open to group or others (mode 0604)"},
        {"group may write", 0620, "is open to group or others (mode 0620)"},
};

/* secret_file_read_private: the same, and only for its owner's eyes. */
static void test_private_secret_files(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(private_cases) / sizeof(private_cases[0]); i++) {
		const struct private_case *c = &private_cases[i];
		char path[128];
		snprintf(path, sizeof(path), "%s/private-%zu", dir, i);
		FILE *f = fopen(path, "w");
		assert_non_null(f);
		fputs("first-secret\n", f);
		fclose(f);
		assert_int_equal(chmod(path, (mode_t)c->mode), 0);
		char err[256] = "";
		char *secret = secret_file_read_private(path, err, sizeof(err));
		if (c->error == NULL && (secret == NULL || strcmp(secret, "first-secret") != 0))
			fail_msg("case '%s': got '%s' (%s)", c->name, secret ? secret : "NULL",
			         err);
		if (c->error != NULL &&
		    (secret != NULL || strstr(err, path) == NULL || strstr(err, c->error) == NULL ||
		     strstr(err, "first-secret") != NULL))
			fail_msg("case '%s': secret %s, error '%s'", c->name,
			         secret ? "read" : "refused", err);
		secret_free(secret);
	}
	char err[256] = "";
	assert_null(secret_file_read_private("/nonexistent/secret", err, sizeof(err)));
	assert_non_null(strstr(err, "No such file or directory"));
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
	        cmocka_unit_test(test_private_secret_files),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
