/*
 * The http driver, from its [lb.http] section to the switch, on the daemon's
 * curl-multi client. A switch is the templated request, retried with a
 * doubling backoff on a network error or an unexpected status; then, when a
 * current request is configured, a read that must name the target.
 */
#include "lb_http.h"

#include <event2/event.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config.h"
#include "http_client.h"
#include "lb_probe.h"
#include "log.h"
#include "secret_file.h"

struct lb_http {
	struct event_base *base;
	struct http_client *http;
	char *method, *url, *body, *current_url, *current_json;
	char *headers[LB_HTTP_MAX_HEADERS];
	size_t header_count;
	const struct config_pairs *header_files; /* borrowed; NULL: none */
	struct request_headers secret_headers;   /* what they held when last read */
	long expect;
	int64_t timeout_ms;
	int retries;
	lb_retry_fn on_retry;
	void *on_retry_arg;
	struct event *retry_timer;
	/* the switch in progress */
	bool busy;
	char cluster[64];
	int attempt;
	lb_switch_done_fn switch_done;
	void *switch_arg;
	/* the current read in progress */
	bool reading;
	lb_current_done_fn current_done;
	void *current_arg;
};

static char *substitute(const char *text, const char *cluster)
{
	if (text == NULL)
		return NULL;
	size_t count = 0;
	for (const char *p = strstr(text, "{cluster}"); p != NULL; p = strstr(p + 9, "{cluster}"))
		count++;
	size_t len = strlen(text) + count * strlen(cluster) + 1;
	char *out = malloc(len);
	if (out == NULL)
		return NULL;
	size_t used = 0;
	for (const char *p = text; *p != '\0';) {
		if (strncmp(p, "{cluster}", 9) == 0) {
			memcpy(out + used, cluster, strlen(cluster));
			used += strlen(cluster);
			p += 9;
		} else {
			out[used++] = *p++;
		}
	}
	out[used] = '\0';
	return out;
}

/* The cluster named by BODY at PATH ("a.b.c"), or the trimmed body without a path. */
static int extract(const char *body, size_t len, const char *path, char *out, size_t out_len)
{
	if (path == NULL) {
		while (len > 0 &&
		       (body[len - 1] == '\n' || body[len - 1] == '\r' || body[len - 1] == ' '))
			len--;
		if (len == 0 || len >= out_len)
			return -1;
		memcpy(out, body, len);
		out[len] = '\0';
		return 0;
	}
	json_t *root = json_loadb(body, len, 0, NULL);
	json_t *node = root;
	char key[128];
	for (const char *p = path; node != NULL && *p != '\0';) {
		size_t n = strcspn(p, ".");
		snprintf(key, sizeof(key), "%.*s", (int)n, p);
		node = json_object_get(node, key);
		p += n + (p[n] == '.');
	}
	int rc = json_is_string(node) && json_string_length(node) < out_len ? 0 : -1;
	if (rc == 0)
		snprintf(out, out_len, "%s", json_string_value(node));
	json_decref(root);
	return rc;
}

static void attempt_switch(struct lb_http *lb);

static void finish_switch(struct lb_http *lb, bool ok, const char *error)
{
	lb->busy = false;
	lb->switch_done(ok, error, lb->switch_arg);
}

static void retry_or_fail(struct lb_http *lb, const char *error)
{
	if (lb_retry_later(&lb->attempt, lb->retries, lb->retry_timer, lb->on_retry,
	                   lb->on_retry_arg, error))
		return;
	finish_switch(lb, false, error);
}

static void on_verified(const char *cluster, const char *error, void *arg)
{
	struct lb_http *lb = arg;
	char why[600];
	if (cluster != NULL && strcmp(cluster, lb->cluster) == 0) {
		finish_switch(lb, true, NULL);
		return;
	}
	snprintf(why, sizeof(why), "switch to %s not verified: %s%s", lb->cluster,
	         cluster != NULL ? "the LB points at " : "", cluster != NULL ? cluster : error);
	retry_or_fail(lb, why);
}

static void start_current(struct lb_http *lb, lb_current_done_fn done, void *arg);

static void on_switch_answer(const struct http_response *response, void *arg)
{
	struct lb_http *lb = arg;
	bool expected = response->ok &&
	                (lb->expect != 0 ? response->status == lb->expect
	                                 : response->status >= 200 && response->status < 300);
	if (!expected) {
		char why[700];
		if (response->ok)
			snprintf(why, sizeof(why), "switch request for %s: HTTP %ld: %.300s",
			         lb->cluster, response->status, response->body);
		else
			snprintf(why, sizeof(why), "switch request for %s: %s", lb->cluster,
			         response->error);
		retry_or_fail(lb, why);
		return;
	}
	if (lb->current_url != NULL)
		start_current(lb, on_verified, lb); /* verify */
	else
		finish_switch(lb, true, NULL);
}

/* The headers of every request: header.NAME's, then header_file.NAME's. Their count. */
static size_t all_headers(const struct lb_http *lb, const char **out)
{
	size_t count = 0;
	for (size_t i = 0; i < lb->header_count; i++)
		out[count++] = lb->headers[i];
	for (size_t i = 0; i < lb->secret_headers.count; i++)
		out[count++] = lb->secret_headers.lines[i];
	return count;
}

static void attempt_switch(struct lb_http *lb)
{
	char *url = substitute(lb->url, lb->cluster);
	char *body = substitute(lb->body, lb->cluster);
	const char *given[2 * LB_HTTP_MAX_HEADERS];
	size_t given_count = all_headers(lb, given);
	const char *headers[2 * LB_HTTP_MAX_HEADERS + 2] = {0};
	char *expanded[2 * LB_HTTP_MAX_HEADERS] = {0};
	size_t count = 0;
	bool has_content_type = false;
	for (size_t i = 0; i < given_count; i++) {
		expanded[i] = substitute(given[i], lb->cluster);
		headers[count++] = expanded[i];
		has_content_type =
		        has_content_type ||
		        (expanded[i] != NULL && strncasecmp(expanded[i], "Content-Type:", 13) == 0);
	}
	/* JSON unless the operator says otherwise (Kubernetes wants merge-patch+json) */
	if (!has_content_type)
		headers[count++] = "Content-Type: application/json";
	struct http_request request = {
	        .method = lb->method,
	        .url = url,
	        .headers = headers,
	        .body = body,
	        .body_len = body != NULL ? strlen(body) : 0,
	        .timeout_ms = lb->timeout_ms,
	};
	char err[256];
	int rc = url != NULL ? http_client_start(lb->http, &request, on_switch_answer, lb, err,
	                                         sizeof(err))
	                     : -1;
	free(url);
	free(body);
	for (size_t i = 0; i < given_count; i++)
		secret_free(expanded[i]);
	if (rc != 0)
		retry_or_fail(lb, err);
}

static void on_retry(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	attempt_switch(arg);
}

static void on_current_answer(const struct http_response *response, void *arg)
{
	struct lb_http *lb = arg;
	lb->reading = false;
	char cluster[64], why[600];
	if (!response->ok) {
		snprintf(why, sizeof(why), "current request: %s", response->error);
		lb->current_done(NULL, why, lb->current_arg);
	} else if (response->status != 200) {
		snprintf(why, sizeof(why), "current request: HTTP %ld", response->status);
		lb->current_done(NULL, why, lb->current_arg);
	} else if (extract(response->body, response->body_len, lb->current_json, cluster,
	                   sizeof(cluster)) != 0) {
		snprintf(why, sizeof(why), "current request: no cluster at %s",
		         lb->current_json != NULL ? lb->current_json : "(body)");
		lb->current_done(NULL, why, lb->current_arg);
	} else {
		lb->current_done(cluster, NULL, lb->current_arg);
	}
}

static void start_current(struct lb_http *lb, lb_current_done_fn done, void *arg)
{
	if (lb->reading) {
		done(NULL, "a read of the LB is already in progress", arg);
		return;
	}
	const char *headers[2 * LB_HTTP_MAX_HEADERS + 1] = {0};
	all_headers(lb, headers);
	struct http_request request = {
	        .url = lb->current_url, .headers = headers, .timeout_ms = lb->timeout_ms};
	lb->current_done = done;
	lb->current_arg = arg;
	char err[256];
	lb->reading = true;
	if (http_client_start(lb->http, &request, on_current_answer, lb, err, sizeof(err)) != 0) {
		lb->reading = false;
		done(NULL, err, arg);
	}
}

static void driver_switch(void *impl, const char *cluster, lb_switch_done_fn done, void *arg)
{
	struct lb_http *lb = impl;
	if (lb->busy) {
		done(false, "a switch is already in progress", arg);
		return;
	}
	lb->busy = true;
	snprintf(lb->cluster, sizeof(lb->cluster), "%s", cluster);
	lb->attempt = 0;
	lb->switch_done = done;
	lb->switch_arg = arg;
	attempt_switch(lb);
}

static void driver_current(void *impl, lb_current_done_fn done, void *arg)
{
	struct lb_http *lb = impl;
	if (lb->busy) {
		done(NULL, "a switch is in progress", arg);
		return;
	}
	start_current(lb, done, arg);
}

static void driver_free(void *impl)
{
	lb_http_free(impl);
}

/* Reads the header_file.NAME files into LB's secret headers. 0, or -1 with ERR, LB unchanged. */
static int read_secret_headers(struct lb_http *lb, char *err, size_t err_len)
{
	struct request_headers next;
	int line = 0;
	char why[1200];
	if (request_headers_read(NULL, lb->header_files, &next, &line, why, sizeof(why)) != 0) {
		snprintf(err, err_len, "[lb.http] %s", why);
		return -1;
	}
	request_headers_move(&lb->secret_headers, &next);
	return 0;
}

static int driver_reload(void *impl, char *err, size_t err_len)
{
	return read_secret_headers(impl, err, err_len);
}

struct lb_driver lb_http_driver(struct lb_http *lb)
{
	return (struct lb_driver){
	        .impl = lb,
	        .switch_to = lb->url != NULL ? driver_switch : NULL,
	        .current = lb->current_url != NULL ? driver_current : NULL,
	        .free = driver_free,
	        .reload = lb->header_files != NULL ? driver_reload : NULL,
	};
}

struct lb_http *lb_http_new(struct event_base *base, const struct lb_http_settings *s, char *err,
                            size_t err_len)
{
	/* without a switch_url it only reads (driver = none's current_url) */
	if (s->switch_url == NULL && s->current_url == NULL) {
		snprintf(err, err_len,
		         "http driver: switch_url (or, to read only, current_url) is required");
		return NULL;
	}
	if (s->header_count > LB_HTTP_MAX_HEADERS) {
		snprintf(err, err_len, "http driver: at most %d headers", LB_HTTP_MAX_HEADERS);
		return NULL;
	}
	struct lb_http *lb = calloc(1, sizeof(*lb));
	if (lb == NULL) {
		snprintf(err, err_len, "out of memory");
		return NULL;
	}
	lb->base = base;
	lb->http = http_client_new(base, err, err_len);
	lb->method = strdup(s->switch_method != NULL ? s->switch_method : "POST");
	lb->url = s->switch_url != NULL ? strdup(s->switch_url) : NULL;
	lb->body = s->switch_body != NULL ? strdup(s->switch_body) : NULL;
	lb->current_url = s->current_url != NULL ? strdup(s->current_url) : NULL;
	lb->current_json = s->current_json != NULL ? strdup(s->current_json) : NULL;
	for (size_t i = 0; i < s->header_count; i++)
		lb->headers[lb->header_count++] = strdup(s->headers[i]);
	lb->header_files = s->header_files;
	lb->expect = s->switch_expect;
	lb->timeout_ms = s->timeout_ms > 0 ? s->timeout_ms : 5000;
	lb->retries = s->retries;
	lb->on_retry = s->on_retry;
	lb->on_retry_arg = s->on_retry_arg;
	lb->retry_timer = evtimer_new(base, on_retry, lb);
	if (lb->http == NULL || read_secret_headers(lb, err, err_len) != 0) {
		lb_http_free(lb);
		return NULL;
	}
	return lb;
}

void lb_http_free(struct lb_http *lb)
{
	if (lb == NULL)
		return;
	http_client_free(lb->http); /* cancels requests in flight */
	if (lb->retry_timer != NULL)
		event_free(lb->retry_timer);
	free(lb->method);
	free(lb->url);
	free(lb->body);
	free(lb->current_url);
	free(lb->current_json);
	for (size_t i = 0; i < lb->header_count; i++)
		free(lb->headers[i]);
	request_headers_free(&lb->secret_headers);
	free(lb);
}

/* [lb.http] as the loader fills it. */
struct lb_http_section {
	char *switch_method;
	char *switch_url;
	char *switch_body;
	struct config_pairs headers;      /* header.NAME = value */
	struct config_pairs header_files; /* header_file.NAME = /path */
	int64_t switch_expect;
	char *current_url;
	char *current_json;
};

static const struct config_key http_keys[] = {
        {"switch_method", CONFIG_STRING, offsetof(struct lb_http_section, switch_method), false,
         "POST", 0, 0, NULL},
        {"switch_url", CONFIG_STRING, offsetof(struct lb_http_section, switch_url), false, NULL, 0,
         0, NULL},
        {"switch_body", CONFIG_STRING, offsetof(struct lb_http_section, switch_body), false, NULL,
         0, 0, NULL},
        {"header", CONFIG_KEYED, offsetof(struct lb_http_section, headers), false, NULL, 0, 0,
         NULL},
        {"header_file", CONFIG_KEYED, offsetof(struct lb_http_section, header_files), false, NULL,
         0, 0, NULL},
        {"switch_expect", CONFIG_INT, offsetof(struct lb_http_section, switch_expect), false, "0",
         0, 599, NULL},
        {"current_url", CONFIG_STRING, offsetof(struct lb_http_section, current_url), false, NULL,
         0, 0, NULL},
        {"current_json", CONFIG_STRING, offsetof(struct lb_http_section, current_json), false, NULL,
         0, 0, NULL},
};

/* The switch URL's host and port, and the current URL's, accept a connection. */
static int http_probe(const void *section, int64_t timeout_ms, char *why, size_t why_len)
{
	const struct lb_http_section *h = section;
	const char *urls[2] = {h->switch_url, h->current_url};
	const char *keys[2] = {"switch_url", "current_url"};
	for (size_t i = 0; i < 2; i++) {
		char reason[512];
		if (urls[i] != NULL &&
		    lb_probe_url(urls[i], timeout_ms, reason, sizeof(reason)) != 0) {
			snprintf(why, why_len, "[lb.http] %s: %s", keys[i], reason);
			return -1;
		}
	}
	return 0;
}

/* A switch_url; headers that can be made (their count, each NAME once, the files read). */
static int http_check(const void *section, const struct lb_check_input *input, const char **key,
                      int *line, char *why, size_t why_len)
{
	(void)input;
	const struct lb_http_section *h = section;
	if (h->switch_url == NULL) {
		*key = "switch_url";
		snprintf(why, why_len, "[lb] driver = http needs [lb.http] switch_url");
		return -1;
	}
	/* every header_file read now: at load, so at SIGHUP and by check-config too */
	struct request_headers headers;
	char reason[1200];
	if (request_headers_read(&h->headers, &h->header_files, &headers, line, reason,
	                         sizeof(reason)) != 0) {
		snprintf(why, why_len, "[lb.http] %s", reason);
		return -1;
	}
	request_headers_free(&headers);
	return 0;
}

static int http_create(struct event_base *base, const void *section, const struct lb_common *common,
                       struct lb_driver *out, char *err, size_t err_len)
{
	const struct lb_http_section *h = section;
	struct lb_http_settings s = {
	        .switch_method = h->switch_method,
	        .switch_url = h->switch_url,
	        .switch_body = h->switch_body,
	        .header_files = &h->header_files,
	        .switch_expect = h->switch_expect,
	        .current_url = h->current_url,
	        .current_json = h->current_json,
	        .timeout_ms = common->timeout_ms,
	        .retries = common->retries,
	        .on_retry = common->on_retry,
	        .on_retry_arg = common->on_retry_arg,
	};
	/* header.NAME = value -> "NAME: value" (lb_http_new copies them) */
	char header_lines[LB_HTTP_MAX_HEADERS][512];
	for (size_t i = 0; i < h->headers.count; i++) {
		if (i == LB_HTTP_MAX_HEADERS) {
			snprintf(err, err_len, "[lb.http]: at most %d header.NAME keys",
			         LB_HTTP_MAX_HEADERS);
			return -1;
		}
		snprintf(header_lines[i], sizeof(header_lines[i]), "%s: %s",
		         h->headers.items[i].name, h->headers.items[i].value);
		s.headers[s.header_count++] = header_lines[i];
	}
	struct lb_http *http = lb_http_new(base, &s, err, err_len);
	if (http == NULL)
		return -1;
	*out = lb_http_driver(http);
	return 0;
}

const struct lb_driver_type lb_http_type = {
        .name = "http",
        .keys = http_keys,
        .key_count = sizeof(http_keys) / sizeof(http_keys[0]),
        .section_size = sizeof(struct lb_http_section),
        .check = http_check,
        .probe = http_probe,
        .create = http_create,
};
