/*
 * An asynchronous etcd v3 client over etcd's JSON gateway (POST /v3/...,
 * keys and values base64, 64-bit numbers as strings), on the daemon's
 * libcurl-on-libevent client: no call ever blocks the loop. It does the few
 * things high availability needs: leases (grant, keep alive, revoke), a
 * create-if-absent put, a put guarded by a key's revision and by a fence key's
 * value, reads of a key or a prefix, and deletes. Several endpoints: a request
 * that cannot reach one is retried once on the next, which then comes first.
 */
#ifndef TG_ETCD_H
#define TG_ETCD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct http_client;

struct etcd_options {
	const char *const *endpoints; /* "http://127.0.0.1:2379", ...; NULL-terminated */
	int64_t timeout_ms;           /* per request; 0: 2 s */
	const char *ca_file;          /* TLS trust for https endpoints; NULL: the system's */
	const char
	        *cert_file; /* client certificate: etcd's --client-cert-auth (the user is its CN) */
	const char *key_file; /* its private key; both or neither */
	const char *username; /* etcd's auth: the user (NULL: auth off) */
	const char *password; /* and its password (copied) */
};

struct etcd_kv {
	char *key;
	char *value; /* NUL-terminated (values are text here) */
	size_t value_len;
	int64_t create_revision, mod_revision, lease;
};

struct etcd_result {
	bool ok;                   /* etcd answered the request (a failed compare is still ok) */
	const char *error;         /* why not: "127.0.0.1:2379: connection refused" */
	int64_t revision;          /* the store's revision in the answer's header */
	bool succeeded;            /* a transaction's compare held */
	const struct etcd_kv *kvs; /* a read's keys, or what a failed compare found */
	size_t kv_count;
	int64_t lease_id; /* lease grant and keep-alive */
	int64_t ttl_s;    /* the lease's TTL from now; 0 after keep-alive: the lease is gone */
	int64_t sent_ms;  /* monotonic time the request that answered was sent */
};

typedef void (*etcd_done_fn)(const struct etcd_result *result, void *arg);

struct etcd;

/* A client on HTTP; copies OPTIONS. NULL with a reason in ERR. */
struct etcd *etcd_new(struct http_client *http, const struct etcd_options *options, char *err,
                      size_t err_len);

/* Frees; requests in flight are cancelled (their callbacks are not called). */
void etcd_free(struct etcd *etcd);

/*
 * Each starts a request; DONE(result, ARG) runs once, later, from the loop,
 * unless etcd_free comes first. 0, or -1 with a reason in ERR (DONE not called).
 */
int etcd_lease_grant(struct etcd *etcd, int64_t ttl_s, etcd_done_fn done, void *arg, char *err,
                     size_t err_len);
int etcd_lease_keepalive(struct etcd *etcd, int64_t lease_id, etcd_done_fn done, void *arg,
                         char *err, size_t err_len);
int etcd_lease_revoke(struct etcd *etcd, int64_t lease_id, etcd_done_fn done, void *arg, char *err,
                      size_t err_len);

/* Puts KEY = VALUE on LEASE (0: none) only if KEY does not exist; else reads it. */
int etcd_put_if_absent(struct etcd *etcd, const char *key, const char *value, int64_t lease,
                       etcd_done_fn done, void *arg, char *err, size_t err_len);

/*
 * Puts KEY = VALUE only if KEY's mod revision is still MOD_REVISION (0: KEY
 * must not exist) and, when FENCE_KEY is not NULL, FENCE_KEY holds
 * FENCE_VALUE: a leader writes only while it is still the leader. On a failed
 * compare the result carries KEY's and FENCE_KEY's current entries.
 */
int etcd_put_guarded(struct etcd *etcd, const char *key, const char *value, int64_t mod_revision,
                     const char *fence_key, const char *fence_value, etcd_done_fn done, void *arg,
                     char *err, size_t err_len);

/* Reads KEY, or every key under KEY when PREFIX. */
int etcd_get(struct etcd *etcd, const char *key, bool prefix, etcd_done_fn done, void *arg,
             char *err, size_t err_len);

/* Deletes KEY only if its mod revision is MOD_REVISION (0: whatever it is). */
int etcd_delete(struct etcd *etcd, const char *key, int64_t mod_revision, etcd_done_fn done,
                void *arg, char *err, size_t err_len);

/* Cancels the requests in flight whose callback argument is ARG (theirs are not called). */
void etcd_cancel(struct etcd *etcd, const void *arg);

/* The endpoint requests go to first (the last one that answered). */
const char *etcd_endpoint(const struct etcd *etcd);

#endif
