/*
 * The http load-balancer driver: one templated request switches the LB (for
 * a Kubernetes Service selector patch, a cloud API, anything with an HTTP
 * API), {cluster} replaced in the URL, headers and body; an expected status;
 * and an optional request reading where the LB points, the cluster taken
 * from a JSON path (or the whole trimmed body), which also verifies a switch.
 */
#ifndef TG_LB_HTTP_H
#define TG_LB_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "lb.h"
#include "request_headers.h"

struct event_base;
struct http_client;
struct lb_http;

/* header.NAME and header_file.NAME keys of [lb.http]: the config refuses more. */
#define LB_HTTP_MAX_HEADERS REQUEST_HEADERS_MAX

struct lb_http_settings {
	const char *switch_method; /* "PATCH", "POST", ...; NULL: POST */
	const char *switch_url;    /* NULL: a reader of current_url only */
	const char *switch_body;   /* may be NULL */
	const char
	        *headers[LB_HTTP_MAX_HEADERS]; /* "Name: value", also sent on the current request */
	size_t header_count;
	/*
	 * header_file.NAME = /path (may be NULL): each file's line is the
	 * header's value, read at lb_http_new and again at each reload.
	 * Borrowed for the driver's life.
	 */
	const struct config_pairs *header_files;
	long switch_expect;       /* the status meaning success; 0: any 2xx */
	const char *current_url;  /* NULL: cannot tell where the LB points */
	const char *current_json; /* "spec.selector.cluster"; NULL: the trimmed body */
	int64_t timeout_ms;
	int retries;
	lb_retry_fn on_retry; /* optional */
	void *on_retry_arg;
};

struct lb_http *lb_http_new(struct event_base *base, const struct lb_http_settings *settings,
                            char *err, size_t err_len);
void lb_http_free(struct lb_http *lb);
/* The driver behind the generic interface (no switch_to without a switch_url). */
struct lb_driver lb_http_driver(struct lb_http *lb);

/* [lb] driver = http, configured by [lb.http]: its row in the driver table (lb_drivers.c). */
extern const struct lb_driver_type lb_http_type;

#endif
