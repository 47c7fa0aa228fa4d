/*
 * CURVE key files: keygen writes a usable pair with the right modes, readers
 * refuse loose secret-key permissions, bad text and missing files.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>
#include <cmocka.h>

#include "curve_keys.h"

static char dir[] = "/tmp/tg-keys-XXXXXX";

static void path_of(char *out, size_t len, const char *name)
{
	snprintf(out, len, "%s/%s", dir, name);
}

static void test_keygen_writes_a_matching_pair(void **state)
{
	(void)state;
	char prefix[256], pub_path[300], key_path[300], err[512];
	path_of(prefix, sizeof(prefix), "collector");
	assert_int_equal(curve_keypair_write(prefix, err, sizeof(err)), 0);
	snprintf(pub_path, sizeof(pub_path), "%s.pub", prefix);
	snprintf(key_path, sizeof(key_path), "%s.key", prefix);
	struct stat st;
	assert_int_equal(stat(key_path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(stat(pub_path, &st), 0);
	assert_int_equal(st.st_size, 41); /* 40 characters and a newline */

	char public_key[41], secret_key[41], derived[41];
	assert_int_equal(curve_key_read_public(pub_path, public_key, err, sizeof(err)), 0);
	assert_int_equal(curve_key_read_secret(key_path, secret_key, err, sizeof(err)), 0);
	assert_int_equal(zmq_curve_public(derived, secret_key), 0);
	assert_string_equal(derived, public_key);

	/* never overwrites */
	assert_int_equal(curve_keypair_write(prefix, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "File exists"));
}

static void test_secret_key_readable_by_others_is_refused(void **state)
{
	(void)state;
	char prefix[256], key_path[300], err[512];
	path_of(prefix, sizeof(prefix), "loose");
	assert_int_equal(curve_keypair_write(prefix, err, sizeof(err)), 0);
	snprintf(key_path, sizeof(key_path), "%s.key", prefix);
	chmod(key_path, 0644);
	char key[41];
	assert_int_equal(curve_key_read_secret(key_path, key, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "readable by others (mode 0644); run chmod 600"));
	chmod(key_path, 0640);
	assert_int_equal(curve_key_read_secret(key_path, key, err, sizeof(err)), -1);
	chmod(key_path, 0400);
	assert_int_equal(curve_key_read_secret(key_path, key, err, sizeof(err)), 0);
}

static void test_bad_key_text_and_missing_files(void **state)
{
	(void)state;
	char path[300], err[512], key[41];
	path_of(path, sizeof(path), "short.pub");
	FILE *f = fopen(path, "w");
	fputs("tooshort\n", f);
	fclose(f);
	assert_int_equal(curve_key_read_public(path, key, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "not a Z85 CURVE key"));

	path_of(path, sizeof(path), "badchars.pub");
	f = fopen(path, "w");
	fputs("~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~\n", f); /* 40 chars, '~' is not Z85 */
	fclose(f);
	assert_int_equal(curve_key_read_public(path, key, err, sizeof(err)), -1);

	path_of(path, sizeof(path), "absent.pub");
	assert_int_equal(curve_key_read_public(path, key, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "No such file"));
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
	        cmocka_unit_test(test_keygen_writes_a_matching_pair),
	        cmocka_unit_test(test_secret_key_readable_by_others_is_refused),
	        cmocka_unit_test(test_bad_key_text_and_missing_files),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
