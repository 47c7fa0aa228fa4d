/*
 * etcd's v3 JSON gateway (etcd 3.4: api/etcdserverpb/rpc.proto through
 * grpc-gateway): every call is a POST of one JSON message to /v3/<service>/<op>;
 * bytes fields are base64, int64 fields strings, false and zero fields left
 * out of answers. A failed compare is an answer like any other (succeeded
 * absent), not an error; an error is an HTTP status with {"error", "code"}.
 * With a user and password (etcd's auth enabled), /v3/auth/authenticate
 * gives a token that every call carries as its Authorization header;
 * requests wait for it, and a token etcd no longer knows (it expired, or
 * etcd restarted: simple tokens live in its memory) is replaced once per
 * request.
 */
#include "etcd.h"
#include "etcd_impl.h"

#include <errno.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "http_client.h"
#include "secret_file.h"

static void copy_option(char *dst, size_t len, const char *src)
{
	snprintf(dst, len, "%s", src != NULL ? src : "");
}

struct etcd *etcd_new(struct http_client *http, const struct etcd_options *options, char *err,
                      size_t err_len)
{
	struct etcd *etcd = calloc(1, sizeof(*etcd));
	if (etcd == NULL) {
		snprintf(err, err_len, "out of memory");
		return NULL;
	}
	for (size_t i = 0; options->endpoints != NULL && options->endpoints[i] != NULL; i++) {
		const char *e = options->endpoints[i];
		size_t len = strlen(e);
		while (len > 0 && e[len - 1] == '/')
			len--;
		if (etcd->endpoint_count == ETCD_MAX_ENDPOINTS || len == 0 ||
		    len >= ETCD_ENDPOINT_LEN ||
		    (strncmp(e, "http://", 7) != 0 && strncmp(e, "https://", 8) != 0)) {
			snprintf(err, err_len,
			         "etcd endpoint '%s': want http://host:port or https://host:port, "
			         "at most %d of them",
			         e, ETCD_MAX_ENDPOINTS);
			free(etcd);
			return NULL;
		}
		memcpy(etcd->endpoints[etcd->endpoint_count++], e, len);
	}
	if (etcd->endpoint_count == 0) {
		snprintf(err, err_len, "no etcd endpoint");
		free(etcd);
		return NULL;
	}
	etcd->http = http;
	etcd->timeout_ms = options->timeout_ms > 0 ? options->timeout_ms : ETCD_DEFAULT_TIMEOUT;
	copy_option(etcd->ca_file, sizeof(etcd->ca_file), options->ca_file);
	copy_option(etcd->cert_file, sizeof(etcd->cert_file), options->cert_file);
	copy_option(etcd->key_file, sizeof(etcd->key_file), options->key_file);
	if (options->username != NULL) {
		copy_option(etcd->username, sizeof(etcd->username), options->username);
		etcd->password = strdup(options->password != NULL ? options->password : "");
		if (etcd->password == NULL) {
			snprintf(err, err_len, "out of memory");
			free(etcd);
			return NULL;
		}
	}
	return etcd;
}

void etcd_request_free(struct etcd_request *request)
{
	free(request->body);
	free(request);
}

void etcd_free(struct etcd *etcd)
{
	if (etcd == NULL)
		return;
	while (etcd->requests != NULL) {
		struct etcd_request *r = etcd->requests;
		etcd->requests = r->next;
		http_client_cancel(etcd->http, r);
		etcd_request_free(r);
	}
	if (etcd->password != NULL)
		secret_free(etcd->password);
	OPENSSL_cleanse(etcd->token, sizeof(etcd->token));
	free(etcd);
}

void etcd_cancel(struct etcd *etcd, const void *arg)
{
	struct etcd_request **p = &etcd->requests;
	while (*p != NULL) {
		struct etcd_request *r = *p;
		if (r->arg != arg) {
			p = &r->next;
			continue;
		}
		*p = r->next;
		http_client_cancel(etcd->http, r);
		etcd_request_free(r);
	}
}

const char *etcd_endpoint(const struct etcd *etcd)
{
	return etcd->endpoints[etcd->first];
}

void etcd_request_unlink(struct etcd_request *request)
{
	for (struct etcd_request **p = &request->etcd->requests; *p != NULL; p = &(*p)->next) {
		if (*p == request) {
			*p = request->next;
			return;
		}
	}
}

/* --- encoding ----------------------------------------------------------- */

static char *base64_of(const char *text)
{
	size_t len = strlen(text);
	char *out = malloc(4 * ((len + 2) / 3) + 1);
	if (out != NULL)
		EVP_EncodeBlock((unsigned char *)out, (const unsigned char *)text, (int)len);
	return out;
}

/* Decodes base64 TEXT into a new NUL-terminated string; NULL when it is not base64. */
static char *text_of_base64(const char *text, size_t *out_len)
{
	size_t len = strlen(text);
	if (len % 4 != 0 || len / 4 * 3 > ETCD_MAX_VALUE_BYTES)
		return NULL;
	unsigned char *out = malloc(len / 4 * 3 + 1);
	if (out == NULL)
		return NULL;
	int n = len > 0 ? EVP_DecodeBlock(out, (const unsigned char *)text, (int)len) : 0;
	if (n < 0) {
		free(out);
		return NULL;
	}
	/* EVP_DecodeBlock counts the padding's zero bytes */
	for (size_t i = len; i > 0 && text[i - 1] == '=' && n > 0; i--)
		n--;
	out[n] = '\0';
	*out_len = (size_t)n;
	return (char *)out;
}

/* An int64 field: a string in the gateway's JSON, an integer in some builds; 0 when absent. */
static int64_t int64_field(const json_t *object, const char *name)
{
	const json_t *v = json_object_get(object, name);
	if (json_is_integer(v))
		return json_integer_value(v);
	if (!json_is_string(v))
		return 0;
	errno = 0;
	char *end;
	long long n = strtoll(json_string_value(v), &end, 10);
	return errno == 0 && *end == '\0' ? (int64_t)n : 0;
}

static void kvs_free(struct etcd_kv *kvs, size_t count)
{
	for (size_t i = 0; kvs != NULL && i < count; i++) {
		free(kvs[i].key);
		free(kvs[i].value);
	}
	free(kvs);
}

/* Appends the entries of KVS (a gateway "kvs" array) to *OUT; -1 on a malformed entry. */
static int kvs_append(const json_t *kvs, struct etcd_kv **out, size_t *count)
{
	size_t n = json_array_size(kvs);
	if (n == 0)
		return 0;
	struct etcd_kv *grown = realloc(*out, (*count + n) * sizeof(**out));
	if (grown == NULL)
		return -1;
	*out = grown;
	for (size_t i = 0; i < n; i++) {
		const json_t *kv = json_array_get(kvs, i);
		const char *key = json_string_value(json_object_get(kv, "key"));
		const char *value = json_string_value(json_object_get(kv, "value"));
		struct etcd_kv *e = &(*out)[*count];
		memset(e, 0, sizeof(*e));
		size_t key_len;
		e->key = key != NULL ? text_of_base64(key, &key_len) : NULL;
		e->value = text_of_base64(value != NULL ? value : "", &e->value_len);
		if (e->key == NULL || e->value == NULL) {
			free(e->key);
			free(e->value);
			return -1;
		}
		e->create_revision = int64_field(kv, "create_revision");
		e->mod_revision = int64_field(kv, "mod_revision");
		e->lease = int64_field(kv, "lease");
		(*count)++;
	}
	return 0;
}

/* The kvs of a range answer, or of every range inside a transaction's responses. */
static int collect_kvs(enum etcd_call call, const json_t *answer, struct etcd_kv **kvs,
                       size_t *count)
{
	if (call == CALL_RANGE)
		return kvs_append(json_object_get(answer, "kvs"), kvs, count);
	const json_t *responses = json_object_get(answer, "responses");
	for (size_t i = 0; i < json_array_size(responses); i++) {
		const json_t *range =
		        json_object_get(json_array_get(responses, i), "response_range");
		if (range != NULL && kvs_append(json_object_get(range, "kvs"), kvs, count) < 0)
			return -1;
	}
	return 0;
}

/* --- requests ------------------------------------------------------------- */

static void finish(struct etcd_request *request, struct etcd_result *result)
{
	result->sent_ms = request->sent_ms;
	etcd_request_unlink(request);
	request->done(result, request->arg);
	etcd_request_free(request);
}

/* Answers "ENDPOINT: DETAIL" as the request's failure. */
void etcd_request_fail(struct etcd_request *request, const char *endpoint, const char *detail)
{
	char why[512];
	snprintf(why, sizeof(why), "%s: %s", endpoint, detail);
	struct etcd_result result = {.ok = false, .error = why};
	finish(request, &result);
}

/* Reads etcd's answer into RESULT; its kvs are freed by the caller. */
static int parse_answer(struct etcd_request *request, const json_t *answer,
                        struct etcd_result *result, struct etcd_kv **kvs)
{
	const json_t *body =
	        request->call == CALL_KEEPALIVE ? json_object_get(answer, "result") : answer;
	if (!json_is_object(body))
		return -1;
	result->ok = true;
	result->revision = int64_field(json_object_get(body, "header"), "revision");
	result->succeeded = json_is_true(json_object_get(body, "succeeded"));
	result->lease_id = int64_field(body, "ID");
	result->ttl_s = int64_field(body, "TTL");
	if (collect_kvs(request->call, body, kvs, &result->kv_count) < 0)
		return -1;
	result->kvs = *kvs;
	return 0;
}

static void on_answer(const struct http_response *response, void *arg)
{
	struct etcd_request *request = arg;
	struct etcd *etcd = request->etcd;
	const char *endpoint = etcd->endpoints[request->endpoint];
	if (!response->ok) {
		/* not reached: the next endpoint may be */
		char err[256];
		if (request->tries < etcd->endpoint_count &&
		    etcd_request_send(request, err, sizeof(err)) == 0)
			return;
		if (request->call == CALL_AUTH)
			etcd_auth_answer(request, response);
		else
			etcd_request_fail(request, endpoint, response->error);
		return;
	}
	etcd->first = request->endpoint;
	if (request->call == CALL_AUTH) {
		etcd_auth_answer(request, response);
		return;
	}
	json_error_t jerr;
	json_t *answer =
	        json_loadb(response->body, response->body_len, JSON_REJECT_DUPLICATES, &jerr);
	if (response->status != 200) {
		const char *message = json_string_value(json_object_get(answer, "error"));
		if (etcd_auth_refused(request, response->status, message)) {
			json_decref(answer);
			request->reauthenticated = true;
			request->tries = 0;
			etcd_auth_park(request);
			return;
		}
		char status[300];
		snprintf(status, sizeof(status), "HTTP %ld: %s", response->status,
		         message != NULL ? message : "no error text");
		etcd_request_fail(request, endpoint, status);
		json_decref(answer);
		return;
	}
	struct etcd_result result = {0};
	struct etcd_kv *kvs = NULL;
	if (answer == NULL || parse_answer(request, answer, &result, &kvs) < 0) {
		etcd_request_fail(request, endpoint, "an answer that is not etcd's v3 JSON");
	} else {
		finish(request, &result);
	}
	kvs_free(kvs, result.kv_count);
	json_decref(answer);
}

int etcd_request_send(struct etcd_request *request, char *err, size_t err_len)
{
	struct etcd *etcd = request->etcd;
	request->endpoint = (etcd->first + request->tries) % etcd->endpoint_count;
	request->tries++;
	char url[ETCD_ENDPOINT_LEN + 32];
	snprintf(url, sizeof(url), "%s%s", etcd->endpoints[request->endpoint], request->path);
	const char *headers[] = {"Content-Type: application/json", NULL, NULL};
	if (request->call != CALL_AUTH && etcd->password != NULL) {
		snprintf(request->authorization, sizeof(request->authorization),
		         "Authorization: %s", etcd->token);
		headers[1] = request->authorization;
	}
	struct http_request http = {
	        .method = "POST",
	        .url = url,
	        .headers = headers,
	        .body = request->body,
	        .body_len = strlen(request->body),
	        .timeout_ms = etcd->timeout_ms,
	        .max_response_bytes = ETCD_MAX_RESPONSE,
	        .ca_file = etcd->ca_file[0] != '\0' ? etcd->ca_file : NULL,
	        .cert_file = etcd->cert_file[0] != '\0' ? etcd->cert_file : NULL,
	        .key_file = etcd->key_file[0] != '\0' ? etcd->key_file : NULL,
	};
	request->sent_ms = clock_mono_ms();
	return http_client_start(etcd->http, &http, on_answer, request, err, err_len);
}

/* Sends BODY (taken, may be NULL: out of memory) to PATH. */
int etcd_start(struct etcd *etcd, enum etcd_call call, const char *path, json_t *body,
               etcd_done_fn done, void *arg, char *err, size_t err_len)
{
	struct etcd_request *request = calloc(1, sizeof(*request));
	char *text = body != NULL ? json_dumps(body, JSON_COMPACT) : NULL;
	json_decref(body);
	if (request == NULL || text == NULL) {
		free(request);
		free(text);
		snprintf(err, err_len, "out of memory");
		return -1;
	}
	*request = (struct etcd_request){
	        .etcd = etcd, .call = call, .path = path, .body = text, .done = done, .arg = arg};
	if (call != CALL_AUTH && etcd->password != NULL && etcd->token[0] == '\0') {
		if (!etcd->authenticating && etcd_authenticate(etcd, err, err_len) < 0) {
			etcd_request_free(request);
			return -1;
		}
		request->parked = true;
		request->auth_round = etcd->auth_round;
	} else if (etcd_request_send(request, err, err_len) < 0) {
		etcd_request_free(request);
		return -1;
	}
	request->next = etcd->requests;
	etcd->requests = request;
	return 0;
}

/* A JSON string of N, as the gateway wants int64 fields. */
static json_t *int64_json(int64_t n)
{
	char text[24];
	snprintf(text, sizeof(text), "%lld", (long long)n);
	return json_string(text);
}

/* Packs KEY base64-encoded under NAME into OBJECT; -1 when out of memory. */
static int set_base64(json_t *object, const char *name, const char *text)
{
	char *encoded = base64_of(text);
	int rc = encoded != NULL ? json_object_set_new(object, name, json_string(encoded)) : -1;
	free(encoded);
	return rc;
}

static json_t *key_object(const char *key)
{
	json_t *o = json_object();
	if (o != NULL && set_base64(o, "key", key) < 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

int etcd_lease_grant(struct etcd *etcd, int64_t ttl_s, etcd_done_fn done, void *arg, char *err,
                     size_t err_len)
{
	return etcd_start(etcd, CALL_GRANT, "/v3/lease/grant",
	                  json_pack("{s:o}", "TTL", int64_json(ttl_s)), done, arg, err, err_len);
}

int etcd_lease_keepalive(struct etcd *etcd, int64_t lease_id, etcd_done_fn done, void *arg,
                         char *err, size_t err_len)
{
	return etcd_start(etcd, CALL_KEEPALIVE, "/v3/lease/keepalive",
	                  json_pack("{s:o}", "ID", int64_json(lease_id)), done, arg, err, err_len);
}

int etcd_lease_revoke(struct etcd *etcd, int64_t lease_id, etcd_done_fn done, void *arg, char *err,
                      size_t err_len)
{
	return etcd_start(etcd, CALL_REVOKE, "/v3/lease/revoke",
	                  json_pack("{s:o}", "ID", int64_json(lease_id)), done, arg, err, err_len);
}

/* A compare of KEY's TARGET ("CREATE", "MOD", "VALUE") being equal to what FIELD names. */
static json_t *compare(const char *key, const char *target, const char *field, json_t *against)
{
	json_t *c = key_object(key);
	if (c == NULL || json_object_set_new(c, "target", json_string(target)) < 0 ||
	    json_object_set_new(c, "result", json_string("EQUAL")) < 0 ||
	    json_object_set_new(c, field, against) < 0) {
		json_decref(c);
		return NULL;
	}
	return c;
}

static json_t *put_op(const char *key, const char *value, int64_t lease)
{
	json_t *put = key_object(key);
	if (put == NULL || set_base64(put, "value", value) < 0 ||
	    (lease != 0 && json_object_set_new(put, "lease", int64_json(lease)) < 0)) {
		json_decref(put);
		return NULL;
	}
	return json_pack("{s:o}", "requestPut", put);
}

static json_t *range_op(const char *key)
{
	json_t *range = key_object(key);
	return range != NULL ? json_pack("{s:o}", "requestRange", range) : NULL;
}

/* A transaction of the COMPARES, SUCCESS on success and FAILURE otherwise (all taken). */
static json_t *txn(json_t *compares, json_t *success, json_t *failure)
{
	return json_pack("{s:o?,s:o?,s:o?}", "compare", compares, "success", success, "failure",
	                 failure);
}

int etcd_put_if_absent(struct etcd *etcd, const char *key, const char *value, int64_t lease,
                       etcd_done_fn done, void *arg, char *err, size_t err_len)
{
	json_t *body =
	        txn(json_pack("[o?]", compare(key, "CREATE", "create_revision", int64_json(0))),
	            json_pack("[o?]", put_op(key, value, lease)), json_pack("[o?]", range_op(key)));
	return etcd_start(etcd, CALL_TXN, "/v3/kv/txn", body, done, arg, err, err_len);
}

int etcd_put_guarded(struct etcd *etcd, const char *key, const char *value, int64_t mod_revision,
                     const char *fence_key, const char *fence_value, etcd_done_fn done, void *arg,
                     char *err, size_t err_len)
{
	json_t *compares = json_array();
	json_t *failure = json_pack("[o?]", range_op(key));
	json_array_append_new(
	        compares, mod_revision == 0
	                          ? compare(key, "CREATE", "create_revision", int64_json(0))
	                          : compare(key, "MOD", "mod_revision", int64_json(mod_revision)));
	if (fence_key != NULL) {
		char *encoded = base64_of(fence_value);
		json_array_append_new(compares,
		                      compare(fence_key, "VALUE", "value",
		                              encoded != NULL ? json_string(encoded) : NULL));
		free(encoded);
		json_array_append_new(failure, range_op(fence_key));
	}
	json_t *body = txn(compares, json_pack("[o?]", put_op(key, value, 0)), failure);
	return etcd_start(etcd, CALL_TXN, "/v3/kv/txn", body, done, arg, err, err_len);
}

int etcd_get(struct etcd *etcd, const char *key, bool prefix, etcd_done_fn done, void *arg,
             char *err, size_t err_len)
{
	json_t *range = key_object(key);
	if (range != NULL && prefix) {
		/* every key from KEY up to KEY with its last byte plus one */
		size_t len = strlen(key);
		char *end = strdup(key);
		if (end != NULL && len > 0 && (unsigned char)end[len - 1] < 0xff)
			end[len - 1] = (char)(end[len - 1] + 1);
		if (end == NULL || len == 0 || set_base64(range, "range_end", end) < 0) {
			json_decref(range);
			range = NULL;
		}
		free(end);
	}
	return etcd_start(etcd, CALL_RANGE, "/v3/kv/range", range, done, arg, err, err_len);
}

int etcd_delete(struct etcd *etcd, const char *key, int64_t mod_revision, etcd_done_fn done,
                void *arg, char *err, size_t err_len)
{
	json_t *compares = json_array();
	if (mod_revision != 0)
		json_array_append_new(
		        compares, compare(key, "MOD", "mod_revision", int64_json(mod_revision)));
	json_t *del = key_object(key);
	json_t *body = txn(compares, json_pack("[{s:o?}]", "requestDeleteRange", del),
	                   json_pack("[o?]", range_op(key)));
	return etcd_start(etcd, CALL_TXN, "/v3/kv/txn", body, done, arg, err, err_len);
}
