/*
 * etcd.c's insides, shared with etcd_auth.c only: the client, its requests
 * and the calls that send, finish and fail them.
 */
#ifndef TG_ETCD_IMPL_H
#define TG_ETCD_IMPL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "etcd.h"
#include "http_client.h"

#define ETCD_MAX_ENDPOINTS   8
#define ETCD_DEFAULT_TIMEOUT 2000
#define ETCD_MAX_RESPONSE    (4 * 1024 * 1024)
#define ETCD_ENDPOINT_LEN    256
#define ETCD_MAX_VALUE_BYTES (1024 * 1024)

#define ETCD_TOKEN_LEN 512

enum etcd_call { CALL_GRANT, CALL_KEEPALIVE, CALL_REVOKE, CALL_TXN, CALL_RANGE, CALL_AUTH };

struct etcd {
	struct http_client *http;
	char endpoints[ETCD_MAX_ENDPOINTS][ETCD_ENDPOINT_LEN];
	size_t endpoint_count;
	size_t first; /* the endpoint that answered last */
	int64_t timeout_ms;
	char ca_file[512], cert_file[512], key_file[512];
	struct etcd_request *requests; /* in flight, so that etcd_free can drop them */
	char username[128];
	char *password;             /* NULL: etcd's auth is off */
	char token[ETCD_TOKEN_LEN]; /* "" until authenticated */
	unsigned auth_round;        /* the authentication in flight (or the next one) */
	bool authenticating;
};

struct etcd_request {
	struct etcd *etcd;
	enum etcd_call call;
	const char *path; /* "/v3/kv/txn" */
	char *body;
	size_t tries;    /* endpoints tried */
	size_t endpoint; /* the one being tried */
	int64_t sent_ms;
	etcd_done_fn done;
	void *arg;
	struct etcd_request *next;
	bool parked; /* waiting for the token of AUTH_ROUND */
	unsigned auth_round;
	bool reauthenticated; /* a stale token was replaced for it once */
	char authorization[ETCD_TOKEN_LEN + 16];
};

/* Sends REQUEST to its next endpoint. 0, or -1 with ERR. */
int etcd_request_send(struct etcd_request *request, char *err, size_t err_len);

/* Answers "ENDPOINT: DETAIL" as REQUEST's failure, and frees it. */
void etcd_request_fail(struct etcd_request *request, const char *endpoint, const char *detail);

void etcd_request_unlink(struct etcd_request *request);
void etcd_request_free(struct etcd_request *request);

/* Sends BODY (taken, may be NULL: out of memory) to PATH; a request of ETCD's. */
int etcd_start(struct etcd *etcd, enum etcd_call call, const char *path, json_t *body,
               etcd_done_fn done, void *arg, char *err, size_t err_len);

/* etcd_auth.c: the token, fetched and replaced. */
int etcd_authenticate(struct etcd *etcd, char *err, size_t err_len);
bool etcd_auth_refused(struct etcd_request *request, long status, const char *message);
void etcd_auth_park(struct etcd_request *request);
void etcd_auth_answer(struct etcd_request *auth, const struct http_response *response);

#endif
