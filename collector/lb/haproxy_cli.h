/*
 * HAProxy's runtime API (the stats socket), asynchronously on the loop: one
 * non-interactive command per connection; HAProxy answers and closes
 * (HAProxy's doc/management.txt, "Unix Socket commands"). Unix socket ("/run/haproxy/admin.sock") or
 * TCP ("127.0.0.1:9999").
 */
#ifndef TG_HAPROXY_CLI_H
#define TG_HAPROXY_CLI_H

#include <stddef.h>
#include <stdint.h>

struct event_base;
struct haproxy_request;

/* OUTPUT is the whole answer (NULL on failure, with ERROR); both borrowed for the call. */
typedef void (*haproxy_done_fn)(const char *output, const char *error, void *arg);

/*
 * Sends COMMAND to ADDRESS; DONE runs once from the loop. Returns a handle
 * (for haproxy_cancel), or NULL with ERR when it could not even start.
 */
struct haproxy_request *haproxy_command(struct event_base *base, const char *address,
                                        const char *command, int64_t timeout_ms,
                                        haproxy_done_fn done, void *arg, char *err, size_t err_len);

/* Drops a request; its callback is not called. */
void haproxy_cancel(struct haproxy_request *request);

#endif
