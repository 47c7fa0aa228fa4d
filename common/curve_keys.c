/*
 * Reading and writing CURVE key files. The key is checked to be valid Z85
 * of 32 bytes before it reaches libzmq, so a typo fails at start with the
 * file's name, not later as a silent handshake failure.
 */
#include "curve_keys.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

static int read_key(const char *path, char out[CURVE_KEY_Z85_LEN + 1], bool secret, char *err,
                    size_t err_len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, err_len, "%s: %s", path, strerror(errno));
		return -1;
	}
	struct stat st;
	if (fstat(fd, &st) != 0) {
		snprintf(err, err_len, "%s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	if (secret && (st.st_mode & 0077) != 0) {
		snprintf(err, err_len,
		         "%s: secret key file is readable by others (mode %04o); run chmod 600 %s",
		         path, (unsigned)(st.st_mode & 07777), path);
		close(fd);
		return -1;
	}
	char text[128];
	ssize_t n = read(fd, text, sizeof(text) - 1);
	close(fd);
	if (n < 0) {
		snprintf(err, err_len, "%s: %s", path, strerror(errno));
		return -1;
	}
	text[n] = '\0';
	size_t len = (size_t)n;
	while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == '\r' || text[len - 1] == ' '))
		text[--len] = '\0';
	uint8_t binary[32];
	if (len != CURVE_KEY_Z85_LEN || zmq_z85_decode(binary, text) == NULL) {
		snprintf(err, err_len, "%s: not a Z85 CURVE key (40 characters expected)", path);
		return -1;
	}
	memcpy(out, text, CURVE_KEY_Z85_LEN + 1);
	return 0;
}

int curve_key_read_public(const char *path, char out[CURVE_KEY_Z85_LEN + 1], char *err,
                          size_t err_len)
{
	return read_key(path, out, false, err, err_len);
}

int curve_key_read_secret(const char *path, char out[CURVE_KEY_Z85_LEN + 1], char *err,
                          size_t err_len)
{
	return read_key(path, out, true, err, err_len);
}

static int write_new_file(const char *path, const char *text, mode_t mode, char *err,
                          size_t err_len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	if (fd < 0) {
		snprintf(err, err_len, "%s: %s", path, strerror(errno));
		return -1;
	}
	size_t len = strlen(text);
	bool ok = write(fd, text, len) == (ssize_t)len && fsync(fd) == 0;
	/* the umask may have widened nothing, but make the mode exact */
	ok = ok && fchmod(fd, mode) == 0;
	if (close(fd) != 0 || !ok) {
		snprintf(err, err_len, "%s: %s", path, strerror(errno));
		unlink(path);
		return -1;
	}
	return 0;
}

int curve_keypair_write(const char *prefix, char *err, size_t err_len)
{
	char public_key[CURVE_KEY_Z85_LEN + 1], secret_key[CURVE_KEY_Z85_LEN + 1];
	if (zmq_curve_keypair(public_key, secret_key) != 0) {
		snprintf(err, err_len, "cannot generate a CURVE key pair: %s",
		         zmq_strerror(zmq_errno()));
		return -1;
	}
	char pub_path[4096], key_path[4096], line[64];
	snprintf(pub_path, sizeof(pub_path), "%s.pub", prefix);
	snprintf(key_path, sizeof(key_path), "%s.key", prefix);
	snprintf(line, sizeof(line), "%s\n", secret_key);
	if (write_new_file(key_path, line, 0600, err, err_len) != 0)
		return -1;
	snprintf(line, sizeof(line), "%s\n", public_key);
	if (write_new_file(pub_path, line, 0644, err, err_len) != 0) {
		unlink(key_path);
		return -1;
	}
	return 0;
}
