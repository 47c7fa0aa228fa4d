/*
 * A private temp dir for fuzz targets whose reader takes a path: made once
 * per process (mkdtemp), each input written to a file in it before the read.
 */
#ifndef TG_FUZZ_TMP_H
#define TG_FUZZ_TMP_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_check.h"

static inline const char *fuzz_tmp_dir(void)
{
	static char dir[256];
	if (dir[0] == '\0') {
		const char *base = getenv("TMPDIR");
		snprintf(dir, sizeof(dir), "%s/tg-fuzz-XXXXXX", base != NULL ? base : "/tmp");
		check(mkdtemp(dir) != NULL);
	}
	return dir;
}

/* Writes DATA to NAME in the temp dir; PATH gets its path. */
static inline void fuzz_tmp_write(const char *name, const void *data, size_t size, char *path,
                                  size_t path_len)
{
	snprintf(path, path_len, "%s/%s", fuzz_tmp_dir(), name);
	FILE *file = fopen(path, "wb");
	check(file != NULL);
	check(size == 0 || fwrite(data, 1, size, file) == size);
	check(fclose(file) == 0);
}

#endif
