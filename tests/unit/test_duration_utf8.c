/*
 * Unit tests: duration parsing/printing and UTF-8 validation, table-driven.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "duration.h"
#include "log.h"
#include "utf8.h"

struct duration_case {
	const char *name;
	const char *text;
	int rc;
	int64_t ms;
	const char *error_contains;
};

static const struct duration_case duration_cases[] = {
        {"milliseconds", "250ms", 0, 250, NULL},
        {"seconds", "5s", 0, 5000, NULL},
        {"minutes", "30m", 0, 1800000, NULL},
        {"hours", "1h", 0, 3600000, NULL},
        {"days", "2d", 0, 172800000, NULL},
        {"zero is allowed", "0s", 0, 0, NULL},
        {"no unit is refused", "5", -1, 0, "has no unit"},
        {"unknown unit", "5y", -1, 0, "unknown unit"},
        {"unit with junk", "5sec", -1, 0, "unknown unit"},
        {"negative", "-5s", -1, 0, "not a duration"},
        {"empty", "", -1, 0, "empty"},
        {"space inside", "5 s", -1, 0, "unknown unit"},
        {"overflow", "99999999999999999999s", -1, 0, "out of range"},
        {"overflow after scaling", "9223372036854775807d", -1, 0, "out of range"},
};

static void test_duration_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(duration_cases) / sizeof(duration_cases[0]); i++) {
		const struct duration_case *c = &duration_cases[i];
		int64_t ms = -1;
		char err[256] = "";
		int rc = duration_parse_ms(c->text, &ms, err, sizeof(err));
		if (rc != c->rc)
			fail_msg("case '%s': rc %d, expected %d (%s)", c->name, rc, c->rc, err);
		if (rc == 0 && ms != c->ms)
			fail_msg("case '%s': %lld ms, expected %lld", c->name, (long long)ms,
			         (long long)c->ms);
		if (c->error_contains != NULL && strstr(err, c->error_contains) == NULL)
			fail_msg("case '%s': error '%s' lacks '%s'", c->name, err,
			         c->error_contains);
	}
}

static void test_duration_format_round_trip(void **state)
{
	(void)state;
	const int64_t values[] = {1, 250, 1000, 1500, 60000, 90000, 3600000, 86400000};
	const char *expected[] = {"1ms", "250ms", "1s", "1500ms", "1m", "90s", "1h", "1d"};
	for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
		char text[32], err[128];
		int64_t back = -1;
		duration_format(values[i], text, sizeof(text));
		assert_string_equal(text, expected[i]);
		assert_int_equal(duration_parse_ms(text, &back, err, sizeof(err)), 0);
		assert_int_equal(back, values[i]);
	}
}

static void test_duration_format_human(void **state)
{
	(void)state;
	const struct {
		int64_t ms;
		const char *text;
	} cases[] = {
	        {-5, "-"},         {0, "0s"},         {999, "0s"},       {45000, "45s"},
	        {60000, "1m"},     {312000, "5m12s"}, {312999, "5m12s"}, {3600000, "1h"},
	        {7380000, "2h3m"}, {7385000, "2h3m"}, {86400000, "1d"},  {100800000, "1d4h"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char text[32];
		duration_format_human(cases[i].ms, text, sizeof(text));
		assert_string_equal(text, cases[i].text);
	}
}

struct utf8_case {
	const char *name;
	const char *bytes;
	size_t len;
	bool valid;
};

static const struct utf8_case utf8_cases[] = {
        {"ascii", "trino-447", 9, true},
        {"two-byte e acute", "caf\xc3\xa9", 5, true},
        {"three-byte euro", "\xe2\x82\xac", 3, true},
        {"four-byte emoji", "\xf0\x9f\x98\x80", 4, true},
        {"empty", "", 0, true},
        {"embedded NUL is ascii", "a\0b", 3, true},
        {"lone continuation", "\x80", 1, false},
        {"truncated two-byte", "\xc3", 1, false},
        {"truncated three-byte", "\xe2\x82", 2, false},
        {"overlong slash", "\xc0\xaf", 2, false},
        {"overlong three-byte", "\xe0\x80\xaf", 3, false},
        {"surrogate half", "\xed\xa0\x80", 3, false},
        {"above U+10FFFF", "\xf4\x90\x80\x80", 4, false},
        {"invalid lead byte F5", "\xf5\x80\x80\x80", 4, false},
        {"bad continuation", "\xc3\x28", 2, false},
        {"latin-1 e acute", "caf\xe9", 4, false},
};

static void test_utf8_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(utf8_cases) / sizeof(utf8_cases[0]); i++) {
		const struct utf8_case *c = &utf8_cases[i];
		if (utf8_valid(c->bytes, c->len) != c->valid)
			fail_msg("case '%s': expected %s", c->name, c->valid ? "valid" : "invalid");
	}
}

struct clean_case {
	const char *name;
	const char *text;
	size_t max_bytes;
	const char *expected;
	bool changed;
};

static const struct clean_case clean_cases[] = {
        {"plain fits", "rollback to blue", 64, "rollback to blue", false},
        {"exact fit", "abcd", 4, "abcd", false},
        {"cut with ellipsis", "abcdefgh", 6, "abc\xe2\x80\xa6", true},
        {"latin-1 byte replaced", "caf\xe9!", 64, "caf\xef\xbf\xbd!", true},
        {"lone continuation replaced", "a\x80z", 64, "a\xef\xbf\xbdz", true},
        {"truncated sequence at end", "ok\xe2\x82", 64, "ok\xef\xbf\xbd\xef\xbf\xbd", true},
        /* the euro sign is 3 bytes: never split, the cut falls before it */
        {"cut at a character boundary", "ab\xe2\x82\xac\xe2\x82\xac", 7, "ab\xe2\x80\xa6", true},
        {"multibyte fits", "\xe2\x82\xac", 3, "\xe2\x82\xac", false},
        {"too small for anything", "abcdef", 2, "", true},
        {"empty", "", 8, "", false},
};

static void test_utf8_clean_copy_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(clean_cases) / sizeof(clean_cases[0]); i++) {
		const struct clean_case *c = &clean_cases[i];
		char out[64];
		bool changed = utf8_clean_copy(c->text, c->max_bytes, out, sizeof(out));
		if (strcmp(out, c->expected) != 0 || changed != c->changed)
			fail_msg("case '%s': got '%s' (changed %d)", c->name, out, changed);
		if (!utf8_valid(out, strlen(out)))
			fail_msg("case '%s': output is not UTF-8", c->name);
	}
	/* the output buffer bounds the copy as well as MAX_BYTES */
	char small[5];
	assert_true(utf8_clean_copy("abcdefgh", 100, small, sizeof(small)));
	assert_string_equal(small, "a\xe2\x80\xa6");
}

static void test_utf8_one_line_table(void **state)
{
	(void)state;
	static const struct {
		const char *name, *text;
		size_t max_bytes;
		const char *out;
	} cases[] = {
	        {"plain text stays", "Query not found", 200, "Query not found"},
	        {"newlines and tabs become spaces", "a\nb\r\tc", 200, "a b  c"},
	        {"other control characters become ?",
	         "a\x01"
	         "b\x1b",
	         200, "a?b?"},
	        {"cut at the bound", "abcdef", 4, "abcd"},
	        {"a character cut at the end is dropped", "ab\xc3\xa9", 3, "ab"},
	        {"a whole character at the end stays", "ab\xc3\xa9", 4, "ab\xc3\xa9"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char out[64];
		utf8_one_line(cases[i].text, strlen(cases[i].text), cases[i].max_bytes, out,
		              sizeof(out));
		if (strcmp(out, cases[i].out) != 0)
			fail_msg("%s: '%s'", cases[i].name, out);
	}
}

static void test_log_level_parse(void **state)
{
	(void)state;
	enum log_level level;
	assert_int_equal(log_level_parse("debug", &level), 0);
	assert_int_equal(level, LOG_LEVEL_DEBUG);
	assert_int_equal(log_level_parse("WARN", &level), 0);
	assert_int_equal(level, LOG_LEVEL_WARN);
	assert_int_equal(log_level_parse("verbose", &level), -1);
	/* the config choice list: a name for every level, in enum order, then its end */
	for (int i = 0; i < LOG_LEVEL_COUNT; i++) {
		assert_non_null(log_level_names[i]);
		assert_int_equal(log_level_parse(log_level_names[i], &level), 0);
		assert_int_equal(level, i);
	}
	assert_null(log_level_names[LOG_LEVEL_COUNT]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_duration_table),
	        cmocka_unit_test(test_duration_format_round_trip),
	        cmocka_unit_test(test_duration_format_human),
	        cmocka_unit_test(test_utf8_table),
	        cmocka_unit_test(test_utf8_clean_copy_table),
	        cmocka_unit_test(test_utf8_one_line_table),
	        cmocka_unit_test(test_log_level_parse),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
