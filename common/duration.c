/*
 * Parsing and printing of durations ("250ms", "5s", "30m", "1h", "2d").
 */
#include "duration.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct duration_unit {
	const char *suffix;
	int64_t ms;
};

/* Longest suffixes first, so "ms" is not read as "m" followed by junk. */
static const struct duration_unit units[] = {
        {"ms", 1}, {"s", 1000}, {"m", 60 * 1000}, {"h", 3600 * 1000}, {"d", 86400 * 1000},
};

int duration_parse_ms(const char *text, int64_t *ms, char *err, size_t err_len)
{
	if (text == NULL || *text == '\0') {
		snprintf(err, err_len, "empty duration");
		return -1;
	}
	if (!isdigit((unsigned char)text[0])) {
		snprintf(err, err_len, "'%s' is not a duration (use e.g. 250ms, 5s, 30m, 1h)",
		         text);
		return -1;
	}
	errno = 0;
	char *end = NULL;
	long long value = strtoll(text, &end, 10);
	if (errno != 0 || value < 0) {
		snprintf(err, err_len, "'%s' is out of range", text);
		return -1;
	}
	if (*end == '\0') {
		snprintf(err, err_len, "'%s' has no unit (use e.g. %sms or %ss)", text, text, text);
		return -1;
	}
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(end, units[i].suffix) == 0) {
			if (value > INT64_MAX / units[i].ms) {
				snprintf(err, err_len, "'%s' is out of range", text);
				return -1;
			}
			*ms = (int64_t)value * units[i].ms;
			return 0;
		}
	}
	snprintf(err, err_len, "'%s' has an unknown unit '%s' (use ms, s, m, h or d)", text, end);
	return -1;
}

void duration_format(int64_t ms, char *out, size_t out_len)
{
	for (size_t i = sizeof(units) / sizeof(units[0]); i-- > 1;) {
		if (ms != 0 && ms % units[i].ms == 0) {
			snprintf(out, out_len, "%lld%s", (long long)(ms / units[i].ms),
			         units[i].suffix);
			return;
		}
	}
	snprintf(out, out_len, "%lldms", (long long)ms);
}

void duration_format_human(int64_t ms, char *out, size_t out_len)
{
	if (ms < 0) {
		snprintf(out, out_len, "-");
		return;
	}
	int64_t seconds = ms / 1000;
	static const struct {
		int64_t seconds;
		const char *suffix;
	} steps[] = {{86400, "d"}, {3600, "h"}, {60, "m"}, {1, "s"}};
	for (size_t i = 0; i + 1 < sizeof(steps) / sizeof(steps[0]); i++) {
		if (seconds < steps[i].seconds)
			continue;
		int64_t rest = (seconds % steps[i].seconds) / steps[i + 1].seconds;
		if (rest == 0)
			snprintf(out, out_len, "%lld%s", (long long)(seconds / steps[i].seconds),
			         steps[i].suffix);
		else
			snprintf(out, out_len, "%lld%s%lld%s",
			         (long long)(seconds / steps[i].seconds), steps[i].suffix,
			         (long long)rest, steps[i + 1].suffix);
		return;
	}
	snprintf(out, out_len, "%llds", (long long)seconds);
}
