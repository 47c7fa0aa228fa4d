/*
 * check-config's probes of a load balancer: one blocking connect with a
 * deadline (poll on a non-blocking socket), or a look along PATH. Nothing
 * is sent: a connection accepted is all "reachable" claims.
 */
#include "lb_probe.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

/* A non-blocking connect to SA, waited for up to TIMEOUT_MS. 0, or -1 with errno set. */
static int connect_within(int family, const struct sockaddr *sa, socklen_t len, int64_t timeout_ms)
{
	int fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	int rc = connect(fd, sa, len);
	if (rc != 0 && errno == EINPROGRESS) {
		struct pollfd p = {.fd = fd, .events = POLLOUT};
		int ready = poll(&p, 1, (int)timeout_ms);
		int soerr = 0;
		socklen_t soerr_len = sizeof(soerr);
		if (ready == 0) {
			errno = ETIMEDOUT;
		} else if (ready > 0 &&
		           getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &soerr_len) == 0) {
			rc = soerr == 0 ? 0 : -1;
			errno = soerr;
		}
	}
	int saved = errno;
	close(fd);
	errno = saved;
	return rc;
}

static int probe_unix(const char *path, int64_t timeout_ms, char *why, size_t why_len)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof(sun.sun_path)) {
		snprintf(why, why_len, "%s: path too long for a unix socket", path);
		return -1;
	}
	memcpy(sun.sun_path, path, strlen(path) + 1);
	if (connect_within(AF_UNIX, (struct sockaddr *)&sun, sizeof(sun), timeout_ms) != 0) {
		snprintf(why, why_len, "%s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

/* HOST and PORT, each resolved address tried in turn. */
static int probe_tcp(const char *host, const char *port, int64_t timeout_ms, char *why,
                     size_t why_len)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *found = NULL;
	int gai = getaddrinfo(host, port, &hints, &found);
	if (gai != 0) {
		snprintf(why, why_len, "%s:%s: %s", host, port, gai_strerror(gai));
		return -1;
	}
	int rc = -1;
	for (struct addrinfo *a = found; a != NULL && rc != 0; a = a->ai_next) {
		rc = connect_within(a->ai_family, a->ai_addr, a->ai_addrlen, timeout_ms);
		if (rc != 0)
			snprintf(why, why_len, "%s:%s: %s", host, port, strerror(errno));
	}
	freeaddrinfo(found);
	return rc;
}

/* "host:port" or "[v6]:port" into HOST and PORT. 0, or -1. */
static int split_host_port(const char *text, size_t len, char *host, size_t host_len, char *port,
                           size_t port_len)
{
	const char *colon = NULL;
	const char *start = text, *end = text + len;
	if (len > 0 && text[0] == '[') {
		const char *close = memchr(text, ']', len);
		if (close == NULL)
			return -1;
		start = text + 1;
		colon = close + 1 < end && close[1] == ':' ? close + 1 : NULL;
		end = close;
	} else {
		for (const char *p = text; p < end; p++)
			if (*p == ':')
				colon = p;
		if (colon != NULL)
			end = colon;
	}
	size_t hlen = (size_t)(end - start);
	if (hlen == 0 || hlen >= host_len)
		return -1;
	memcpy(host, start, hlen);
	host[hlen] = '\0';
	port[0] = '\0';
	if (colon != NULL) {
		size_t plen = (size_t)(text + len - colon - 1);
		if (plen == 0 || plen >= port_len)
			return -1;
		memcpy(port, colon + 1, plen);
		port[plen] = '\0';
	}
	return 0;
}

int lb_probe_address(const char *address, int64_t timeout_ms, char *why, size_t why_len)
{
	if (address[0] == '/')
		return probe_unix(address, timeout_ms, why, why_len);
	char host[256], port[16];
	if (split_host_port(address, strlen(address), host, sizeof(host), port, sizeof(port)) !=
	            0 ||
	    port[0] == '\0') {
		snprintf(why, why_len, "'%s' is neither a path nor host:port", address);
		return -1;
	}
	return probe_tcp(host, port, timeout_ms, why, why_len);
}

int lb_probe_url(const char *url, int64_t timeout_ms, char *why, size_t why_len)
{
	bool https = strncasecmp(url, "https://", 8) == 0;
	if (!https && strncasecmp(url, "http://", 7) != 0) {
		snprintf(why, why_len, "'%s' is not an http:// or https:// URL", url);
		return -1;
	}
	const char *authority = url + (https ? 8 : 7);
	size_t len = strcspn(authority, "/?#");
	const char *at = memchr(authority, '@', len); /* user:password@ */
	if (at != NULL) {
		len -= (size_t)(at + 1 - authority);
		authority = at + 1;
	}
	char host[256], port[16];
	if (split_host_port(authority, len, host, sizeof(host), port, sizeof(port)) != 0) {
		snprintf(why, why_len, "'%s': no host", url);
		return -1;
	}
	if (port[0] == '\0')
		snprintf(port, sizeof(port), "%s", https ? "443" : "80");
	return probe_tcp(host, port, timeout_ms, why, why_len);
}

int lb_probe_command(const char *command, char *why, size_t why_len)
{
	const char *p = command + strspn(command, " \t");
	size_t len = strcspn(p, " \t;|&<>()");
	char program[1024];
	if (len == 0 || len >= sizeof(program)) {
		snprintf(why, why_len, "'%s' names no program", command);
		return -1;
	}
	memcpy(program, p, len);
	program[len] = '\0';
	if (strchr(program, '=') != NULL || strchr(program, '{') != NULL)
		return 0; /* an assignment or a template first: the shell's business */
	if (strchr(program, '/') != NULL) {
		if (access(program, X_OK) != 0) {
			snprintf(why, why_len, "%s: %s", program, strerror(errno));
			return -1;
		}
		return 0;
	}
	const char *path = getenv("PATH");
	if (path == NULL)
		path = "/usr/bin:/bin";
	while (*path != '\0') {
		size_t dir_len = strcspn(path, ":");
		char candidate[2048];
		snprintf(candidate, sizeof(candidate), "%.*s/%s", (int)dir_len, path, program);
		if (access(candidate, X_OK) == 0)
			return 0;
		path += dir_len + (path[dir_len] == ':');
	}
	snprintf(why, why_len, "%s: not found on PATH", program);
	return -1;
}
