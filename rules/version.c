/*
 * Ordering of Trino version strings: "447", "447-SNAPSHOT", "354-161-g84416f6"
 * (git describe), Starburst's "443-e.4" (Trino's NodeVersion is a free string).
 */
#include "version.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

struct version_parts {
	long major; /* -1: none */
	int rank;   /* 0 snapshot, 1 release or build, 2 Starburst */
	long patch; /* Starburst e.P, or commits after the tag */
	const char *suffix;
};

static long parse_number(const char *text, const char **end)
{
	long value = 0;
	const char *p = text;
	while (isdigit((unsigned char)*p) && value < 100000000L) {
		value = value * 10 + (*p - '0');
		p++;
	}
	*end = p;
	return p == text ? -1 : value;
}

static struct version_parts version_split(const char *version)
{
	struct version_parts parts = {.major = -1, .rank = 1, .patch = 0, .suffix = version};
	const char *rest;
	parts.major = parse_number(version, &rest);
	if (parts.major < 0)
		return parts;
	parts.suffix = rest;
	if (*rest == '\0')
		return parts;
	if (strcmp(rest, "-SNAPSHOT") == 0) {
		parts.rank = 0;
		return parts;
	}
	if (strncmp(rest, "-e", 2) == 0 && (rest[2] == '\0' || rest[2] == '.')) {
		parts.rank = 2;
		if (rest[2] == '.') {
			const char *end;
			long patch = parse_number(rest + 3, &end);
			parts.patch = patch < 0 ? 0 : patch;
		}
		return parts;
	}
	if (rest[0] == '-' && isdigit((unsigned char)rest[1])) {
		const char *end;
		long commits = parse_number(rest + 1, &end);
		if (strncmp(end, "-g", 2) == 0)
			parts.patch = commits;
	}
	return parts;
}

long version_major(const char *version)
{
	return version_split(version).major;
}

int version_compare(const char *a, const char *b)
{
	struct version_parts pa = version_split(a);
	struct version_parts pb = version_split(b);
	if (pa.major != pb.major)
		return pa.major < pb.major ? -1 : 1;
	if (pa.rank != pb.rank)
		return pa.rank < pb.rank ? -1 : 1;
	if (pa.patch != pb.patch)
		return pa.patch < pb.patch ? -1 : 1;
	int c = strcmp(pa.suffix, pb.suffix);
	return c < 0 ? -1 : (c > 0 ? 1 : 0);
}
