/*
 * Reading one-line secret files, and wiping them after use.
 */
#include "secret_file.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define SECRET_MAX 4096

/* The secret of FILE (named PATH in errors), which it closes. */
static char *read_secret(FILE *f, const char *path, char *err, size_t err_len)
{
	char buffer[SECRET_MAX + 1];
	size_t n = fread(buffer, 1, sizeof(buffer) - 1, f);
	int failed = ferror(f);
	(void)fclose(f); /* read only: nothing to lose */
	buffer[n] = '\0';
	while (n > 0 && isspace((unsigned char)buffer[n - 1]))
		buffer[--n] = '\0';
	const char *why = failed                            ? "cannot be read"
	                  : n == 0                          ? "is empty"
	                  : n >= SECRET_MAX                 ? "is too long for a secret"
	                  : strpbrk(buffer, "\r\n") != NULL ? "holds more than one line"
	                                                    : NULL;
	char *secret = why == NULL ? strdup(buffer) : NULL;
	explicit_bzero(buffer, sizeof(buffer));
	if (why != NULL)
		snprintf(err, err_len, "%s %s", path, why);
	else if (secret == NULL)
		snprintf(err, err_len, "%s: out of memory", path);
	return secret;
}

char *secret_file_read(const char *path, char *err, size_t err_len)
{
	FILE *f = fopen(path, "r");
	if (f == NULL) {
		snprintf(err, err_len, "%s: %s", path, strerror(errno));
		return NULL;
	}
	return read_secret(f, path, err, err_len);
}

char *secret_file_read_private(const char *path, char *err, size_t err_len)
{
	FILE *f = fopen(path, "r");
	if (f == NULL) {
		snprintf(err, err_len, "%s: %s", path, strerror(errno));
		return NULL;
	}
	struct stat st;
	if (fstat(fileno(f), &st) != 0) {
		snprintf(err, err_len, "%s: %s", path, strerror(errno));
		(void)fclose(f); /* read only: nothing to lose */
		return NULL;
	}
	if ((st.st_mode & 0077) != 0) {
		snprintf(err, err_len,
		         "%s is open to group or others (mode %04o); run chmod 600 %s", path,
		         (unsigned)(st.st_mode & 07777), path);
		(void)fclose(f); /* read only: nothing to lose */
		return NULL;
	}
	return read_secret(f, path, err, err_len);
}

void secret_free(char *secret)
{
	if (secret == NULL)
		return;
	explicit_bzero(secret, strlen(secret));
	free(secret);
}
