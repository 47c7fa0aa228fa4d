/*
 * Asynchronous HTTP client: libcurl's multi interface driven by the daemon's
 * libevent loop (the hiperfifo pattern), so no request ever blocks the loop.
 * One callback per request, always called exactly once, from the loop, unless
 * the client is freed first.
 */
#ifndef TG_HTTP_CLIENT_H
#define TG_HTTP_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct event_base;
struct http_client;

struct http_request {
	const char *method; /* "GET" when NULL */
	const char *url;
	const char *const *headers; /* "Name: value" strings, NULL-terminated; may be NULL */
	const char *body;           /* request body, copied; may be NULL */
	size_t body_len;
	int64_t timeout_ms;        /* whole request; 0: 10 s */
	size_t max_response_bytes; /* larger bodies fail the request; 0: 1 MiB */
	const char *ca_file;       /* TLS trust; NULL: the system's */
	const char *cert_file;     /* TLS client certificate (PEM); NULL: none */
	const char *key_file;      /* its private key (PEM) */
	const char *basic_user;    /* HTTP Basic credentials; NULL: none */
	const char *basic_password;
};

struct http_response {
	long status;      /* HTTP status; 0 when no response arrived */
	const char *body; /* NUL-terminated; borrowed for the callback's duration */
	size_t body_len;
	int64_t retry_after_s; /* Retry-After in seconds, or -1 */
	bool ok;               /* a complete response arrived (any status) */
	const char *error; /* why not, when !ok: "connection refused", "timed out after 1000 ms" */
	int64_t elapsed_ms;
};

typedef void (*http_done_fn)(const struct http_response *response, void *arg);

/* Returns a new client on BASE, or NULL with a reason in ERR. */
struct http_client *http_client_new(struct event_base *base, char *err, size_t err_len);

/* Cancels every request in flight (their callbacks are not called) and frees. */
void http_client_free(struct http_client *client);

/*
 * Starts REQUEST; DONE(response, ARG) runs later from the loop. Everything in
 * REQUEST is copied. Returns 0, or -1 with a reason in ERR (DONE not called).
 */
int http_client_start(struct http_client *client, const struct http_request *request,
                      http_done_fn done, void *arg, char *err, size_t err_len);

/* Cancels the requests in flight whose callback argument is ARG (theirs are not called). */
void http_client_cancel(struct http_client *client, const void *arg);

/* Requests started and not yet finished. */
size_t http_client_in_flight(const struct http_client *client);

#endif
