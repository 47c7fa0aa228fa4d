/*
 * CURVE key files (docs/DESIGN.md §4): NAME.pub holds the Z85 public key (40
 * characters) and a newline; NAME.key the Z85 secret key, mode 0600. A secret
 * key file that group or others can read is refused.
 */
#ifndef TG_CURVE_KEYS_H
#define TG_CURVE_KEYS_H

#include <stddef.h>

#define CURVE_KEY_Z85_LEN 40

/* Reads a public key file into OUT (41 bytes, NUL-terminated). 0, or -1 with ERR. */
int curve_key_read_public(const char *path, char out[CURVE_KEY_Z85_LEN + 1], char *err,
                          size_t err_len);

/* Reads a secret key file, refusing loose permissions. 0, or -1 with ERR. */
int curve_key_read_secret(const char *path, char out[CURVE_KEY_Z85_LEN + 1], char *err,
                          size_t err_len);

/*
 * Generates a key pair and writes PREFIX.pub (0644) and PREFIX.key (0600),
 * refusing to overwrite either. 0, or -1 with ERR.
 */
int curve_keypair_write(const char *prefix, char *err, size_t err_len);

#endif
