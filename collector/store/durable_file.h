/*
 * Replacing a file so that a crash at any moment leaves either the old
 * content or the new, never a mix or nothing: write a temp file in the same
 * directory, fsync it, rename it over the old one, fsync the directory (the
 * rename is durable only once the directory is; see rename(2) and fsync(2)).
 * Used for every file the collector replaces whole: the cutover state, the
 * alert firing set, compacted alert spools and HAProxy's map file.
 */
#ifndef TG_DURABLE_FILE_H
#define TG_DURABLE_FILE_H

#include <stddef.h>
#include <sys/types.h>

/*
 * Replaces PATH with the LEN bytes of DATA, created with MODE when new.
 * 0, or -1 with "PATH: why" in ERR; on error PATH is as it was (a temp file
 * left by a crash is overwritten by the next call).
 */
int durable_file_replace(const char *path, const void *data, size_t len, mode_t mode, char *err,
                         size_t err_len);

#endif
