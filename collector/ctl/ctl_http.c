/*
 * trino-guardctl's HTTP calls to the collector's API: a blocking libcurl
 * easy request per call, every curl return checked, every failure said on
 * stderr as "METHOD URL: why".
 */
#include <curl/curl.h>
#include <jansson.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl_http.h"
#include "secret_file.h"

#define CTL_HTTP_TIMEOUT_MS 10000L

/* A response body as it arrives; NUL-terminated once anything came. */
struct body {
	char *data;
	size_t len;
};

/* One request: what to send and where curl leaves its error text. */
struct request {
	const char *method; /* "GET" or "POST": for messages; a payload makes curl POST */
	char url[1024];
	const char *payload;        /* the POST body, or NULL */
	struct curl_slist *headers; /* or NULL */
	char error[CURL_ERROR_SIZE];
	char *why; /* where a failure is said; NULL: on stderr */
	size_t why_len;
};

/* A failure of REQ, as "trino-guardctl: " and the text, on stderr or into req->why. */
static void say(const struct request *req, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));

static void say(const struct request *req, const char *fmt, ...)
{
	char text[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (req->why != NULL)
		snprintf(req->why, req->why_len, "%s", text);
	else
		fprintf(stderr, "trino-guardctl: %s\n", text);
}

int ctl_http_init(void)
{
	CURLcode rc = curl_global_init(CURL_GLOBAL_DEFAULT);
	if (rc != CURLE_OK) {
		fprintf(stderr, "trino-guardctl: curl_global_init: %s\n", curl_easy_strerror(rc));
		return -1;
	}
	return 0;
}

void ctl_http_cleanup(void)
{
	curl_global_cleanup();
}

/* CURLOPT_WRITEFUNCTION: returning less than it was given makes curl fail with CURLE_WRITE_ERROR. */
static size_t body_append(char *data, size_t size, size_t count, void *arg)
{
	struct body *body = arg;
	size_t n = size * count;
	char *grown = realloc(body->data, body->len + n + 1);
	if (grown == NULL)
		return 0;
	memcpy(grown + body->len, data, n);
	body->len += n;
	grown[body->len] = '\0';
	body->data = grown;
	return n;
}

/* BASE (--url, trailing slashes dropped) and PATH into REQ->url; 0, or -1 when too long. */
static int request_init(struct request *req, const char *method, const char *base, const char *path)
{
	*req = (struct request){.method = method};
	size_t base_len = strlen(base);
	while (base_len > 0 && base[base_len - 1] == '/')
		base_len--;
	int n = snprintf(req->url, sizeof(req->url), "%.*s%s", (int)base_len, base, path);
	if (n < 0 || (size_t)n >= sizeof(req->url)) {
		fprintf(stderr, "trino-guardctl: --url is too long (over %zu bytes)\n",
		        sizeof(req->url) - strlen(path) - 1);
		return -1;
	}
	return 0;
}

/* Says which option curl refused (it does for an unknown option or out of memory). */
static int option_set(CURLcode rc, const char *option, const struct request *req)
{
	if (rc == CURLE_OK)
		return 0;
	fprintf(stderr, "trino-guardctl: %s %s: cannot set %s: %s\n", req->method, req->url, option,
	        curl_easy_strerror(rc));
	return -1;
}

/* Sets REQ's options on CURL, the answer going to BODY. 0, or -1 (said). */
static int request_setup(CURL *curl, struct request *req, struct body *body)
{
	if (option_set(curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, req->error),
	               "CURLOPT_ERRORBUFFER", req) != 0 ||
	    option_set(curl_easy_setopt(curl, CURLOPT_URL, req->url), "CURLOPT_URL", req) != 0 ||
	    option_set(curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, CTL_HTTP_TIMEOUT_MS),
	               "CURLOPT_TIMEOUT_MS", req) != 0 ||
	    option_set(curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, body_append),
	               "CURLOPT_WRITEFUNCTION", req) != 0 ||
	    option_set(curl_easy_setopt(curl, CURLOPT_WRITEDATA, body), "CURLOPT_WRITEDATA", req) !=
	            0)
		return -1;
	if (req->payload != NULL &&
	    option_set(curl_easy_setopt(curl, CURLOPT_POSTFIELDS, req->payload),
	               "CURLOPT_POSTFIELDS", req) != 0)
		return -1;
	if (req->headers != NULL &&
	    option_set(curl_easy_setopt(curl, CURLOPT_HTTPHEADER, req->headers),
	               "CURLOPT_HTTPHEADER", req) != 0)
		return -1;
	return 0;
}

/* Sends REQ: 0 with BODY (caller frees body->data) and STATUS when an answer came; -1 (said). */
static int request_perform(struct request *req, struct body *body, long *status)
{
	CURL *curl = curl_easy_init();
	if (curl == NULL) {
		fprintf(stderr, "trino-guardctl: %s %s: curl_easy_init failed\n", req->method,
		        req->url);
		return -1;
	}
	int rc = request_setup(curl, req, body);
	if (rc == 0) {
		CURLcode done = curl_easy_perform(curl);
		if (done != CURLE_OK) {
			say(req,
			    "%s %s: %s (is the collector running there? --url or TRINO_GUARD_URL "
			    "names another)",
			    req->method, req->url,
			    req->error[0] != '\0' ? req->error : curl_easy_strerror(done));
			rc = -1;
		}
	}
	if (rc == 0) {
		CURLcode got = curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, status);
		if (got != CURLE_OK) {
			fprintf(stderr, "trino-guardctl: %s %s: no HTTP status: %s\n", req->method,
			        req->url, curl_easy_strerror(got));
			rc = -1;
		}
	}
	curl_easy_cleanup(curl);
	if (rc != 0) {
		free(body->data);
		*body = (struct body){0};
	}
	return rc;
}

json_t *ctl_http_get(const struct ctl_options *opt, const char *path)
{
	return ctl_http_get_why(opt, path, NULL, 0);
}

json_t *ctl_http_get_why(const struct ctl_options *opt, const char *path, char *why, size_t why_len)
{
	struct request req;
	if (request_init(&req, "GET", opt->url, path) != 0)
		return NULL;
	req.why = why;
	req.why_len = why_len;
	struct body body = {0};
	long status = 0;
	if (request_perform(&req, &body, &status) != 0)
		return NULL;
	json_error_t error = {.text = "an empty answer"};
	json_t *value = body.data != NULL ? json_loads(body.data, 0, &error) : NULL;
	free(body.data);
	if (status != 200) {
		const char *message = json_string_value(json_object_get(value, "error"));
		say(&req, "GET %s: HTTP %ld%s%s", req.url, status, message != NULL ? ": " : "",
		    message != NULL ? message : "");
		json_decref(value);
		return NULL;
	}
	if (value == NULL) {
		say(&req, "GET %s: the answer is not JSON: %s", req.url, error.text);
		return NULL;
	}
	return value;
}

/* curl keeps its own copy of each header; wipe the token's before freeing it. */
static void headers_free(struct curl_slist *headers)
{
	for (struct curl_slist *h = headers; h != NULL; h = h->next)
		explicit_bzero(h->data, strlen(h->data));
	curl_slist_free_all(headers);
}

/* "X-Trino-Guard-User: alice@host" from the login name and the host name; -1 when unknown. */
static int ctl_http_user(char *header, size_t len)
{
	const struct passwd *pw = getpwuid(geteuid());
	const char *name = getenv("SUDO_USER");
	if (name == NULL || name[0] == '\0')
		name = pw != NULL ? pw->pw_name : getenv("USER");
	char host[128] = "";
	if (name == NULL || gethostname(host, sizeof(host) - 1) != 0)
		return -1;
	snprintf(header, len, "X-Trino-Guard-User: %.64s@%.64s", name, host);
	return 0;
}

/* The JSON content type, who asks and, with TOKEN, the bearer token; 0, or -1 (said). */
static int request_headers(struct request *req, const char *token)
{
	req->headers = curl_slist_append(NULL, "Content-Type: application/json");
	if (req->headers == NULL) {
		fprintf(stderr, "trino-guardctl: POST %s: out of memory\n", req->url);
		return -1;
	}
	/* who asks, for the collector's journal: claimed, next to the token and the peer */
	char user[300];
	if (ctl_http_user(user, sizeof(user)) == 0) {
		struct curl_slist *with_user = curl_slist_append(req->headers, user);
		if (with_user == NULL) {
			fprintf(stderr, "trino-guardctl: POST %s: out of memory\n", req->url);
			return -1;
		}
		req->headers = with_user;
	}
	if (token == NULL)
		return 0;
	char header[600];
	int n = snprintf(header, sizeof(header), "Authorization: Bearer %s", token);
	if (n < 0 || (size_t)n >= sizeof(header)) {
		explicit_bzero(header, sizeof(header));
		fprintf(stderr, "trino-guardctl: the API token is too long (over %zu bytes)\n",
		        sizeof(header) - strlen("Authorization: Bearer ") - 1);
		return -1;
	}
	/* On failure curl_slist_append returns NULL and leaves the list as it was. */
	struct curl_slist *more = curl_slist_append(req->headers, header);
	explicit_bzero(header, sizeof(header));
	if (more == NULL) {
		fprintf(stderr, "trino-guardctl: POST %s: out of memory\n", req->url);
		return -1;
	}
	req->headers = more;
	return 0;
}

int ctl_http_post(const struct ctl_options *opt, const char *path, const json_t *body,
                  struct ctl_http_answer *answer)
{
	*answer = (struct ctl_http_answer){0};
	struct request req;
	if (request_init(&req, "POST", opt->url, path) != 0)
		return -1;
	char *payload = json_dumps(body, JSON_COMPACT);
	if (payload == NULL) {
		fprintf(stderr, "trino-guardctl: POST %s: cannot encode the request body\n",
		        req.url);
		return -1;
	}
	req.payload = payload;
	struct body text = {0};
	int rc = request_headers(&req, opt->token);
	if (rc == 0)
		rc = request_perform(&req, &text, &answer->status);
	headers_free(req.headers);
	free(payload);
	if (rc != 0)
		return -1;
	answer->text = text.data;
	answer->json = text.data != NULL ? json_loads(text.data, 0, NULL) : NULL;
	return 0;
}

void ctl_http_answer_cleanup(struct ctl_http_answer *answer)
{
	json_decref(answer->json);
	free(answer->text);
	*answer = (struct ctl_http_answer){0};
}

int ctl_http_token(const char *token_file, char **token)
{
	*token = NULL;
	char why[512];
	if (token_file != NULL) {
		*token = secret_file_read(token_file, why, sizeof(why));
		if (*token == NULL) {
			fprintf(stderr, "trino-guardctl: --token-file %s\n", why);
			return -1;
		}
		return 0;
	}
	const char *value = getenv("TRINO_GUARD_TOKEN");
	if (value != NULL && value[0] != '\0') {
		*token = strdup(value);
		if (*token == NULL) {
			fprintf(stderr, "trino-guardctl: TRINO_GUARD_TOKEN: out of memory\n");
			return -1;
		}
		return 0;
	}
	const char *path = getenv("TRINO_GUARD_TOKEN_FILE");
	if (path == NULL || path[0] == '\0')
		return 0;
	*token = secret_file_read(path, why, sizeof(why));
	if (*token == NULL) {
		fprintf(stderr, "trino-guardctl: TRINO_GUARD_TOKEN_FILE %s\n", why);
		return -1;
	}
	return 0;
}
