/*
 * Trino version strings: equality is on the whole string; ordering (for
 * "the higher wins" ties and feature gates) understands releases ("447"),
 * local builds ("448-SNAPSHOT"), git describe builds ("354-161-g84416f6")
 * and Starburst's "423-e" / "423-e.3".
 */
#ifndef TG_VERSION_H
#define TG_VERSION_H

#include <stdbool.h>

/* The leading release number ("423-e.3" -> 423), or -1 when there is none. */
long version_major(const char *version);

/*
 * Orders two version strings: <0 when A is older, 0 when equal, >0 when newer.
 * SNAPSHOT < release < git-describe builds after it; Starburst "-e.P" by P.
 * Strings without a number sort below all numbered ones.
 */
int version_compare(const char *a, const char *b);

#endif
