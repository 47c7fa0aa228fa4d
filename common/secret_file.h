/*
 * Secret files: API tokens, PagerDuty routing keys, Slack webhook URLs,
 * Authorization header values. A secret is one line; the newline and
 * trailing blanks are dropped. Its content never appears in an error.
 */
#ifndef TG_SECRET_FILE_H
#define TG_SECRET_FILE_H

#include <stddef.h>

/* Reads PATH: a new string (free with secret_free), or NULL with ERR ("PATH: why"). */
char *secret_file_read(const char *path, char *err, size_t err_len);

/*
 * The same, for a secret only its owner may read: a file group or others
 * can read (mode & 077) is refused too (the fstat of the file opened, so a
 * file swapped in between is not what is judged).
 */
char *secret_file_read_private(const char *path, char *err, size_t err_len);

/* Wipes and frees SECRET (NULL is fine). */
void secret_free(char *secret);

#endif
