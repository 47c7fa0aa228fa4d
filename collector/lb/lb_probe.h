/*
 * Whether what an [lb.NAME] section points at is there, for check-config
 * only (these block for up to TIMEOUT_MS; the daemon's loop never calls
 * them): a socket that accepts a connection, a URL's host and port that
 * accept one, a command that can be run.
 */
#ifndef TG_LB_PROBE_H
#define TG_LB_PROBE_H

#include <stddef.h>
#include <stdint.h>

/* Connects to ADDRESS, a unix socket path or host:port. 0, or -1 with WHY. */
int lb_probe_address(const char *address, int64_t timeout_ms, char *why, size_t why_len);

/* Connects to the host and port of an http:// or https:// URL. 0, or -1 with WHY. */
int lb_probe_url(const char *url, int64_t timeout_ms, char *why, size_t why_len);

/*
 * Whether the program a shell COMMAND starts with can be run: an
 * executable path, or a name found on PATH. 0, or -1 with WHY.
 */
int lb_probe_command(const char *command, char *why, size_t why_len);

#endif
