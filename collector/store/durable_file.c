/*
 * The one durable replace: temp file, fsync, rename, fsync the directory.
 */
#include "durable_file.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int write_all(int fd, const char *data, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, data, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

static int sync_directory_of(const char *path, char *err, size_t err_len)
{
	char *copy = strdup(path);
	if (copy == NULL) {
		snprintf(err, err_len, "%s: out of memory", path);
		return -1;
	}
	const char *dir_name = dirname(copy);
	int dir = open(dir_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int rc = dir >= 0 && fsync(dir) == 0 ? 0 : -1;
	if (rc != 0)
		snprintf(err, err_len, "fsync %s: %s", dir_name, strerror(errno));
	if (dir >= 0)
		close(dir);
	free(copy);
	return rc;
}

int durable_file_replace(const char *path, const void *data, size_t len, mode_t mode, char *err,
                         size_t err_len)
{
	size_t tmp_len = strlen(path) + sizeof(".trino-guard.tmp");
	char *tmp = malloc(tmp_len);
	if (tmp == NULL) {
		snprintf(err, err_len, "%s: out of memory", path);
		return -1;
	}
	snprintf(tmp, tmp_len, "%s.trino-guard.tmp", path);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0) {
		snprintf(err, err_len, "%s: %s", tmp, strerror(errno));
		free(tmp);
		return -1;
	}
	if (write_all(fd, data, len) != 0 || fsync(fd) != 0) {
		snprintf(err, err_len, "%s: %s", tmp, strerror(errno));
		close(fd);
		unlink(tmp);
		free(tmp);
		return -1;
	}
	if (close(fd) != 0 || rename(tmp, path) != 0) {
		snprintf(err, err_len, "%s: %s", path, strerror(errno));
		unlink(tmp);
		free(tmp);
		return -1;
	}
	free(tmp);
	return sync_directory_of(path, err, err_len);
}
