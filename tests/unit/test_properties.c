/*
 * Table-driven tests of the properties canonical form: one row per
 * java.util.Properties rule, and of jvm.config's.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "properties.h"

struct canon_case {
	const char *name;
	const char *input;
	const char *expected; /* NULL: an error containing `error` */
	const char *error;
};

static const struct canon_case cases[] = {
        {"equals separator", "a=b", "a=b\n", NULL},
        {"colon separator", "a:b", "a=b\n", NULL},
        {"whitespace separator", "a b", "a=b\n", NULL},
        {"tab and form feed separators", "a\tb\nc\fd", "a=b\nc=d\n", NULL},
        {"spaces around the separator", "a  =   b", "a=b\n", NULL},
        {"whitespace then equals: the rest is the value", "a b=c", "a=b=c\n", NULL},
        {"second separator belongs to the value", "a==b", "a==b\n", NULL},
        {"hash comment", "# comment\na=b", "a=b\n", NULL},
        {"bang comment", "! comment\na=b", "a=b\n", NULL},
        {"indented comment", "   # comment\na=b", "a=b\n", NULL},
        {"hash later in a line is part of the value", "a=b # c", "a=b # c\n", NULL},
        {"a comment cannot be continued", "# c \\\na=b", "a=b\n", NULL},
        {"odd trailing backslash continues", "a=b\\\n   c", "a=bc\n", NULL},
        {"continuation drops leading whitespace", "a=one, \\\n\t  two", "a=one, two\n", NULL},
        {"even trailing backslashes do not continue", "a=b\\\\\nc=d", "a=b\\\\\nc=d\n", NULL},
        {"three trailing backslashes continue", "a=b\\\\\\\n c", "a=b\\\\c\n", NULL},
        {"continuation into a blank line ends the entry", "a=b\\\n\nc=d", "a=b\nc=d\n", NULL},
        {"backslash at end of input", "a=b\\", "a=b\n", NULL},
        {"tab escape", "a=x\\ty", "a=x\ty\n", NULL},
        {"newline escape is escaped again on output", "a=x\\ny", "a=x\\ny\n", NULL},
        {"unicode escape", "a=\\u0041\\u00e9", "a=A\xc3\xa9\n", NULL},
        {"unknown escape is the character", "a=\\b\\q", "a=bq\n", NULL},
        {"escaped separator in a key", "a\\=b=c", "a\\=b=c\n", NULL},
        {"escaped colon in a key", "a\\:b:c", "a\\:b=c\n", NULL},
        {"escaped space in a key", "key\\ with\\ space=v", "key\\ with\\ space=v\n", NULL},
        {"surrogate pair", "a=\\uD83D\\uDE00", "a=\xf0\x9f\x98\x80\n", NULL},
        {"lone surrogate becomes ?", "a=\\uD83Dx", "a=?x\n", NULL},
        {"malformed unicode escape", "a=\\u12G4", NULL, "line 1: malformed \\uXXXX"},
        {"short unicode escape", "a=\\u12", NULL, "line 1: malformed \\uXXXX"},
        {"error names the logical line", "x=1\n\n# c\ny=\\uZZZZ", NULL, "line 4: malformed"},
        {"CRLF line ends", "a=1\r\nb=2\r\n", "a=1\nb=2\n", NULL},
        {"lone CR line ends", "a=1\rb=2\r", "a=1\nb=2\n", NULL},
        {"CRLF continuation", "a=1\\\r\n  2\r\nb=3", "a=12\nb=3\n", NULL},
        {"UTF-8 byte order mark",
         "\xef\xbb\xbf"
         "a=1",
         "a=1\n", NULL},
        {"last duplicate wins", "a=1\nb=x\na=2", "a=2\nb=x\n", NULL},
        {"values are trimmed", "a=  b  \t", "a=b\n", NULL},
        {"trailing escaped space is trimmed too", "a=b\\ ", "a=b\n", NULL},
        {"keys are sorted", "b=1\nc=3\na=2", "a=2\nb=1\nc=3\n", NULL},
        {"empty value", "a=", "a=\n", NULL},
        {"key alone", "a", "a=\n", NULL},
        {"leading whitespace on a line", "    a=b", "a=b\n", NULL},
        {"latin-1 bytes are read as ISO-8859-1", "a=caf\xe9", "a=caf\xc3\xa9\n", NULL},
        {"latin-1 byte equals its unicode escape", "a=caf\\u00e9", "a=caf\xc3\xa9\n", NULL},
        {"empty input", "", "", NULL},
        {"only comments and blank lines", "# x\n\n   \n! y\n", "", NULL},
        {"excluded keys are dropped", "node.id=1\nnode.environment=prod\nnode.data-dir=/d",
         "node.environment=prod\n", NULL},
        {"env placeholder stays raw", "secret=${ENV:SECRET}", "secret=${ENV:SECRET}\n", NULL},
};

static const char *const exclude[] = {"node.id", "node.data-dir"};

static void test_properties_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct canon_case *c = &cases[i];
		size_t out_len = 0;
		char err[128] = "";
		char *out = properties_canonicalize(c->input, strlen(c->input), exclude, 2,
		                                    &out_len, err, sizeof(err));
		if (c->expected == NULL) {
			if (out != NULL)
				fail_msg("case '%s': accepted as '%s'", c->name, out);
			if (strstr(err, c->error) == NULL)
				fail_msg("case '%s': error '%s' lacks '%s'", c->name, err,
				         c->error);
			continue;
		}
		if (out == NULL)
			fail_msg("case '%s': error %s", c->name, err);
		if (strcmp(out, c->expected) != 0 || out_len != strlen(c->expected))
			fail_msg("case '%s':\n got      '%s'\n expected '%s'", c->name, out,
			         c->expected);
		free(out);
	}
}

static void test_embedded_nul_bytes_are_kept_apart(void **state)
{
	(void)state;
	/* A NUL byte is a character like any other to Java: it must not cut the value. */
	const char one[] = "a=x\0y\nb=1";
	const char two[] = "a=x\0z\nb=1";
	size_t l1 = 0, l2 = 0;
	char err[64];
	char *a = properties_canonicalize(one, sizeof(one) - 1, NULL, 0, &l1, err, sizeof(err));
	char *b = properties_canonicalize(two, sizeof(two) - 1, NULL, 0, &l2, err, sizeof(err));
	assert_non_null(a);
	assert_non_null(b);
	assert_string_equal(a, "a=x\\u0000y\nb=1\n");
	assert_string_not_equal(a, b);
	free(a);
	free(b);
}

static void test_reordering_and_comments_do_not_change_the_form(void **state)
{
	(void)state;
	const char *original = "coordinator=true\n"
	                       "http-server.http.port=8080\n"
	                       "# memory\n"
	                       "query.max-memory=50GB\n";
	const char *edited = "! rewritten by the config tool\r\n"
	                     "query.max-memory : 50GB   \r\n"
	                     "\r\n"
	                     "http-server.http.port 8080\r\n"
	                     "coordinator=true\r\n";
	const char *changed =
	        "coordinator=true\nhttp-server.http.port=8080\nquery.max-memory=40GB\n";
	size_t l1, l2, l3;
	char err[64];
	char *a = properties_canonicalize(original, strlen(original), NULL, 0, &l1, err, 64);
	char *b = properties_canonicalize(edited, strlen(edited), NULL, 0, &l2, err, 64);
	char *c = properties_canonicalize(changed, strlen(changed), NULL, 0, &l3, err, 64);
	assert_string_equal(a, b);
	assert_string_not_equal(a, c);
	free(a);
	free(b);
	free(c);
}

struct jvm_case {
	const char *name;
	const char *input;
	const char *expected;
};

static const struct jvm_case jvm_cases[] = {
        {"order is kept", "-server\n-Xmx16G\n-Xmx8G\n", "-server\n-Xmx16G\n-Xmx8G"},
        {"comments and blank lines dropped", "# heap\n\n-Xmx16G\n   \n#-Xmx1G\n", "-Xmx16G"},
        {"lines are stripped", "  -server  \n\t-Xmx16G\r\n", "-server\n-Xmx16G"},
        {"no trailing newline", "-server", "-server"},
        {"empty", "", ""},
        {"a # inside an option stays", "-Dx=a#b\n", "-Dx=a#b"},
};

static void test_jvm_config_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(jvm_cases) / sizeof(jvm_cases[0]); i++) {
		size_t len;
		char *out = jvm_config_canonicalize(jvm_cases[i].input, strlen(jvm_cases[i].input),
		                                    &len);
		assert_non_null(out);
		if (strcmp(out, jvm_cases[i].expected) != 0)
			fail_msg("case '%s': got '%s'", jvm_cases[i].name, out);
		free(out);
	}
	/* reordering jvm.config is a change: the last -Xmx wins */
	size_t l1, l2;
	char *a = jvm_config_canonicalize("-Xmx1G\n-Xmx2G\n", 14, &l1);
	char *b = jvm_config_canonicalize("-Xmx2G\n-Xmx1G\n", 14, &l2);
	assert_string_not_equal(a, b);
	free(a);
	free(b);
}

static void test_lookup(void **state)
{
	(void)state;
	const char *text =
	        "node.environment=production\nnode.id = first\n# node.id=c\nnode.id:last  \n";
	char err[64];
	char *value = properties_lookup(text, strlen(text), "node.id", err, sizeof(err));
	assert_non_null(value);
	assert_string_equal(value, "last");
	free(value);
	assert_null(properties_lookup(text, strlen(text), "node.data-dir", err, sizeof(err)));
	assert_string_equal(err, "");
	assert_null(properties_lookup("a=\\u00", 7, "a", err, sizeof(err)));
	assert_non_null(strstr(err, "malformed"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_properties_table),
	        cmocka_unit_test(test_embedded_nul_bytes_are_kept_apart),
	        cmocka_unit_test(test_reordering_and_comments_do_not_change_the_form),
	        cmocka_unit_test(test_jvm_config_table),
	        cmocka_unit_test(test_lookup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
