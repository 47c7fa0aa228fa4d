/*
 * libcurl multi on libevent: curl tells us which sockets to watch
 * (CURLMOPT_SOCKETFUNCTION) and when to wake it (CURLMOPT_TIMERFUNCTION); we
 * hand socket readiness and timer expiries back with curl_multi_socket_action
 * and collect finished transfers with curl_multi_info_read.
 */
#include "http_client.h"

#include <curl/curl.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"

#define HTTP_DEFAULT_TIMEOUT_MS   10000
#define HTTP_DEFAULT_MAX_RESPONSE (1024 * 1024)

struct http_transfer {
	struct http_client *client;
	CURL *easy;
	struct curl_slist *headers;
	char *body_copy;
	char *response;
	size_t response_len;
	size_t response_cap;
	size_t max_response_bytes;
	bool too_large;
	int64_t timeout_ms;
	int64_t started_ms; /* monotonic */
	http_done_fn done;
	void *arg;
	char curl_error[CURL_ERROR_SIZE];
	struct http_transfer *next;
};

struct http_socket {
	struct event *event;
	curl_socket_t fd;
};

struct http_client {
	struct event_base *base;
	CURLM *multi;
	struct event *timer;
	struct http_transfer *transfers;
	size_t in_flight;
};

static int curl_global_ready;

static void transfer_unlink(struct http_client *client, struct http_transfer *transfer)
{
	for (struct http_transfer **p = &client->transfers; *p != NULL; p = &(*p)->next) {
		if (*p == transfer) {
			*p = transfer->next;
			client->in_flight--;
			return;
		}
	}
}

static void transfer_free(struct http_transfer *transfer)
{
	if (transfer == NULL)
		return;
	if (transfer->easy != NULL)
		curl_easy_cleanup(transfer->easy);
	curl_slist_free_all(transfer->headers);
	free(transfer->body_copy);
	free(transfer->response);
	free(transfer);
}

static const char *describe_failure(CURLcode code, const struct http_transfer *transfer, char *out,
                                    size_t out_len)
{
	if (transfer->too_large) {
		snprintf(out, out_len, "response body larger than %zu bytes",
		         transfer->max_response_bytes);
	} else if (code == CURLE_OPERATION_TIMEDOUT) {
		snprintf(out, out_len, "timed out after %lld ms", (long long)transfer->timeout_ms);
	} else if (code == CURLE_COULDNT_CONNECT) {
		snprintf(out, out_len, "connection refused (%s)",
		         transfer->curl_error[0] ? transfer->curl_error : curl_easy_strerror(code));
	} else {
		snprintf(out, out_len, "%s",
		         transfer->curl_error[0] ? transfer->curl_error : curl_easy_strerror(code));
	}
	return out;
}

/* Hands finished transfers to their callbacks. Called outside curl's callbacks. */
static void collect_finished(struct http_client *client)
{
	CURLMsg *message;
	int pending;
	while ((message = curl_multi_info_read(client->multi, &pending)) != NULL) {
		if (message->msg != CURLMSG_DONE)
			continue;
		struct http_transfer *transfer = NULL;
		curl_easy_getinfo(message->easy_handle, CURLINFO_PRIVATE, (char **)&transfer);
		CURLcode code = message->data.result;
		curl_multi_remove_handle(client->multi, transfer->easy);
		transfer_unlink(client, transfer);

		struct http_response response = {.retry_after_s = -1};
		/* cppcheck-suppress variableScope ; response.error points into it */
		char why[CURL_ERROR_SIZE + 64];
		response.elapsed_ms = clock_mono_ms() - transfer->started_ms;
		if (code == CURLE_OK) {
			curl_easy_getinfo(transfer->easy, CURLINFO_RESPONSE_CODE, &response.status);
			curl_off_t retry_after = -1;
			if (curl_easy_getinfo(transfer->easy, CURLINFO_RETRY_AFTER, &retry_after) ==
			            CURLE_OK &&
			    retry_after > 0)
				response.retry_after_s = (int64_t)retry_after;
			response.ok = true;
			response.body = transfer->response != NULL ? transfer->response : "";
			response.body_len = transfer->response_len;
		} else {
			response.error = describe_failure(code, transfer, why, sizeof(why));
			response.body = "";
		}
		transfer->done(&response, transfer->arg);
		transfer_free(transfer);
	}
}

static void on_socket_ready(evutil_socket_t fd, short what, void *arg)
{
	struct http_client *client = arg;
	int action = ((what & EV_READ) ? CURL_CSELECT_IN : 0) |
	             ((what & EV_WRITE) ? CURL_CSELECT_OUT : 0);
	int running;
	curl_multi_socket_action(client->multi, fd, action, &running);
	/* No timer cleanup here: a callback in collect_finished may start a new
	 * transfer, whose timer curl has just armed; curl removes it with -1. */
	collect_finished(client);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct http_client *client = arg;
	int running;
	curl_multi_socket_action(client->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	collect_finished(client);
}

/* CURLMOPT_TIMERFUNCTION: one-shot timer; never call curl from here. */
static int on_curl_timer(CURLM *multi, long timeout_ms, void *arg)
{
	(void)multi;
	struct http_client *client = arg;
	if (timeout_ms < 0) {
		evtimer_del(client->timer);
		return 0;
	}
	struct timeval tv = {.tv_sec = timeout_ms / 1000, .tv_usec = (timeout_ms % 1000) * 1000};
	evtimer_add(client->timer, &tv);
	return 0;
}

/* CURLMOPT_SOCKETFUNCTION: watch, re-watch or forget one socket. */
static int on_curl_socket(CURL *easy, curl_socket_t fd, int what, void *arg, void *socket_arg)
{
	(void)easy;
	struct http_client *client = arg;
	struct http_socket *sock = socket_arg;
	if (what == CURL_POLL_REMOVE) {
		if (sock != NULL) {
			event_free(sock->event);
			free(sock);
			curl_multi_assign(client->multi, fd, NULL);
		}
		return 0;
	}
	short kind = EV_PERSIST | ((what & CURL_POLL_IN) ? EV_READ : 0) |
	             ((what & CURL_POLL_OUT) ? EV_WRITE : 0);
	if (sock == NULL) {
		sock = calloc(1, sizeof(*sock));
		if (sock == NULL)
			return -1;
		sock->fd = fd;
		curl_multi_assign(client->multi, fd, sock);
	} else {
		event_free(sock->event);
	}
	sock->event = event_new(client->base, fd, kind, on_socket_ready, client);
	if (sock->event == NULL)
		return -1;
	return event_add(sock->event, NULL);
}

static size_t on_body(char *data, size_t size, size_t count, void *arg)
{
	struct http_transfer *transfer = arg;
	size_t len = size * count;
	if (transfer->response_len + len > transfer->max_response_bytes) {
		transfer->too_large = true;
		return 0; /* makes curl fail the transfer with CURLE_WRITE_ERROR */
	}
	if (transfer->response_len + len + 1 > transfer->response_cap) {
		size_t cap = transfer->response_cap ? transfer->response_cap * 2 : 4096;
		while (cap < transfer->response_len + len + 1)
			cap *= 2;
		char *grown = realloc(transfer->response, cap);
		if (grown == NULL)
			return 0;
		transfer->response = grown;
		transfer->response_cap = cap;
	}
	memcpy(transfer->response + transfer->response_len, data, len);
	transfer->response_len += len;
	transfer->response[transfer->response_len] = '\0';
	return len;
}

struct http_client *http_client_new(struct event_base *base, char *err, size_t err_len)
{
	if (!curl_global_ready) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
			snprintf(err, err_len, "curl_global_init failed");
			return NULL;
		}
		curl_global_ready = 1;
	}
	struct http_client *client = calloc(1, sizeof(*client));
	if (client == NULL) {
		snprintf(err, err_len, "out of memory");
		return NULL;
	}
	client->base = base;
	client->multi = curl_multi_init();
	client->timer = evtimer_new(base, on_timer, client);
	if (client->multi == NULL || client->timer == NULL) {
		snprintf(err, err_len, "cannot create the curl multi handle or its timer");
		http_client_free(client);
		return NULL;
	}
	curl_multi_setopt(client->multi, CURLMOPT_SOCKETFUNCTION, on_curl_socket);
	curl_multi_setopt(client->multi, CURLMOPT_SOCKETDATA, client);
	curl_multi_setopt(client->multi, CURLMOPT_TIMERFUNCTION, on_curl_timer);
	curl_multi_setopt(client->multi, CURLMOPT_TIMERDATA, client);
	return client;
}

void http_client_free(struct http_client *client)
{
	if (client == NULL)
		return;
	while (client->transfers != NULL) {
		struct http_transfer *transfer = client->transfers;
		curl_multi_remove_handle(client->multi, transfer->easy);
		transfer_unlink(client, transfer);
		transfer_free(transfer);
	}
	if (client->multi != NULL)
		curl_multi_cleanup(client->multi);
	if (client->timer != NULL)
		event_free(client->timer);
	free(client);
}

void http_client_cancel(struct http_client *client, const void *arg)
{
	struct http_transfer *next;
	for (struct http_transfer *transfer = client->transfers; transfer != NULL;
	     transfer = next) {
		next = transfer->next;
		if (transfer->arg != arg)
			continue;
		curl_multi_remove_handle(client->multi, transfer->easy);
		transfer_unlink(client, transfer);
		transfer_free(transfer);
	}
}

size_t http_client_in_flight(const struct http_client *client)
{
	return client->in_flight;
}

/* A transfer for request with its easy handle, not yet set up; NULL with err on failure. */
static struct http_transfer *transfer_new(struct http_client *client,
                                          const struct http_request *request, http_done_fn done,
                                          void *arg, char *err, size_t err_len)
{
	struct http_transfer *transfer = calloc(1, sizeof(*transfer));
	if (transfer == NULL) {
		snprintf(err, err_len, "out of memory");
		return NULL;
	}
	transfer->client = client;
	transfer->done = done;
	transfer->arg = arg;
	transfer->timeout_ms =
	        request->timeout_ms > 0 ? request->timeout_ms : HTTP_DEFAULT_TIMEOUT_MS;
	transfer->max_response_bytes = request->max_response_bytes > 0 ? request->max_response_bytes
	                                                               : HTTP_DEFAULT_MAX_RESPONSE;
	transfer->easy = curl_easy_init();
	if (transfer->easy == NULL) {
		snprintf(err, err_len, "curl_easy_init failed");
		transfer_free(transfer);
		return NULL;
	}
	return transfer;
}

/*
 * The options every request has: URL, method, timeouts, our body callback and
 * http(s) only. Returns nonzero when curl refused one.
 */
static int set_common_options(struct http_transfer *transfer, const struct http_request *request)
{
	CURL *easy = transfer->easy;
	const char *method = request->method != NULL ? request->method : "GET";
	int bad = 0;
	bad |= curl_easy_setopt(easy, CURLOPT_URL, request->url) != CURLE_OK;
	bad |= curl_easy_setopt(easy, CURLOPT_PRIVATE, transfer) != CURLE_OK;
	bad |= curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, transfer->curl_error) != CURLE_OK;
	bad |= curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L) != CURLE_OK;
	bad |= curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, (long)transfer->timeout_ms) != CURLE_OK;
	bad |= curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, (long)transfer->timeout_ms) !=
	       CURLE_OK;
	bad |= curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, on_body) != CURLE_OK;
	bad |= curl_easy_setopt(easy, CURLOPT_WRITEDATA, transfer) != CURLE_OK;
	bad |= curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https") != CURLE_OK;
	bad |= curl_easy_setopt(easy, CURLOPT_USERAGENT, "trino-guard/" TG_VERSION) != CURLE_OK;
	if (strcmp(method, "GET") != 0)
		bad |= curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, method) != CURLE_OK;
	return bad;
}

/*
 * Copies the request body into the transfer (curl does not copy POSTFIELDS)
 * and points curl at it; *bad is set when curl refused an option. Returns -1
 * when out of memory.
 */
static int set_body(struct http_transfer *transfer, const struct http_request *request, int *bad)
{
	transfer->body_copy = malloc(request->body_len + 1);
	if (transfer->body_copy == NULL)
		return -1;
	memcpy(transfer->body_copy, request->body, request->body_len);
	transfer->body_copy[request->body_len] = '\0';
	*bad |= curl_easy_setopt(transfer->easy, CURLOPT_POSTFIELDS, transfer->body_copy) !=
	        CURLE_OK;
	*bad |= curl_easy_setopt(transfer->easy, CURLOPT_POSTFIELDSIZE_LARGE,
	                         (curl_off_t)request->body_len) != CURLE_OK;
	/* Skip the 100-continue round trip for bodies over 1 KiB. */
	transfer->headers = curl_slist_append(transfer->headers, "Expect:");
	return 0;
}

/* Adds the request's own headers to the transfer's list; -1 when out of memory. */
static int append_headers(struct http_transfer *transfer, const struct http_request *request)
{
	for (size_t i = 0; request->headers != NULL && request->headers[i] != NULL; i++) {
		struct curl_slist *grown =
		        curl_slist_append(transfer->headers, request->headers[i]);
		if (grown == NULL)
			return -1;
		transfer->headers = grown;
	}
	return 0;
}

/* Headers, CA file and basic auth, each when the request has it; nonzero when curl refused one. */
static int set_headers_and_auth(struct http_transfer *transfer, const struct http_request *request)
{
	CURL *easy = transfer->easy;
	int bad = 0;
	if (transfer->headers != NULL)
		bad |= curl_easy_setopt(easy, CURLOPT_HTTPHEADER, transfer->headers) != CURLE_OK;
	if (request->ca_file != NULL)
		bad |= curl_easy_setopt(easy, CURLOPT_CAINFO, request->ca_file) != CURLE_OK;
	if (request->cert_file != NULL)
		bad |= curl_easy_setopt(easy, CURLOPT_SSLCERT, request->cert_file) != CURLE_OK;
	if (request->key_file != NULL)
		bad |= curl_easy_setopt(easy, CURLOPT_SSLKEY, request->key_file) != CURLE_OK;
	if (request->basic_user != NULL) {
		bad |= curl_easy_setopt(easy, CURLOPT_HTTPAUTH, CURLAUTH_BASIC) != CURLE_OK;
		bad |= curl_easy_setopt(easy, CURLOPT_USERNAME, request->basic_user) != CURLE_OK;
		bad |= curl_easy_setopt(easy, CURLOPT_PASSWORD,
		                        request->basic_password ? request->basic_password : "") !=
		       CURLE_OK;
	}
	return bad;
}

int http_client_start(struct http_client *client, const struct http_request *request,
                      http_done_fn done, void *arg, char *err, size_t err_len)
{
	struct http_transfer *transfer = transfer_new(client, request, done, arg, err, err_len);
	if (transfer == NULL)
		return -1;
	int bad = set_common_options(transfer, request);
	if ((request->body != NULL && set_body(transfer, request, &bad) != 0) ||
	    append_headers(transfer, request) != 0) {
		snprintf(err, err_len, "out of memory");
		transfer_free(transfer);
		return -1;
	}
	bad |= set_headers_and_auth(transfer, request);
	if (bad) {
		snprintf(err, err_len, "cannot set up the request for %s", request->url);
		transfer_free(transfer);
		return -1;
	}
	transfer->started_ms = clock_mono_ms();
	if (curl_multi_add_handle(client->multi, transfer->easy) != CURLM_OK) {
		snprintf(err, err_len, "curl_multi_add_handle failed for %s", request->url);
		transfer_free(transfer);
		return -1;
	}
	transfer->next = client->transfers;
	client->transfers = transfer;
	client->in_flight++;
	return 0;
}
