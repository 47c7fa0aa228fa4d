/*
 * etcd's auth for etcd.c: /v3/auth/authenticate with the user and password
 * gives a token; requests started before it came wait for it (parked, one
 * round of waiting per authentication), and a token etcd refuses is
 * replaced once per request.
 */
#include <openssl/crypto.h>
#include <stdio.h>
#include <string.h>

#include "etcd_impl.h"

/* Not called: the authentication's answer goes to on_authenticated. */
static void auth_done(const struct etcd_result *result, void *arg)
{
	(void)result;
	(void)arg;
}

/* Starts /v3/auth/authenticate; the requests parked meanwhile wait for its token. */
int etcd_authenticate(struct etcd *etcd, char *err, size_t err_len)
{
	if (etcd_start(etcd, CALL_AUTH, "/v3/auth/authenticate",
	               json_pack("{s:s,s:s}", "name", etcd->username, "password", etcd->password),
	               auth_done, etcd, err, err_len) < 0)
		return -1;
	etcd->authenticating = true;
	return 0;
}

/*
 * Whether etcd refused REQUEST's token (401, or an error about the token:
 * expired, or etcd restarted), so that a new one may be fetched for it once.
 */
bool etcd_auth_refused(struct etcd_request *request, long status, const char *message)
{
	struct etcd *etcd = request->etcd;
	if (etcd->password == NULL || request->reauthenticated)
		return false;
	if (status != 401 && (message == NULL || strstr(message, "auth token") == NULL))
		return false;
	/* the token this request carried is the one to replace, not a newer one */
	if (strcmp(request->authorization + strlen("Authorization: "), etcd->token) == 0)
		etcd->token[0] = '\0';
	return true;
}

/* Parks REQUEST until a token comes, authenticating unless that is under way. */
void etcd_auth_park(struct etcd_request *request)
{
	struct etcd *etcd = request->etcd;
	char err[256];
	if (etcd->token[0] != '\0') {
		if (etcd_request_send(request, err, sizeof(err)) < 0)
			etcd_request_fail(request, etcd->endpoints[request->endpoint], err);
		return;
	}
	if (!etcd->authenticating && etcd_authenticate(etcd, err, sizeof(err)) < 0) {
		etcd_request_fail(request, etcd->endpoints[request->endpoint], err);
		return;
	}
	request->parked = true;
	request->auth_round = etcd->auth_round;
}

/* The first request parked for ROUND, or NULL. */
static struct etcd_request *parked_for(struct etcd *etcd, unsigned round)
{
	for (struct etcd_request *r = etcd->requests; r != NULL; r = r->next)
		if (r->parked && r->auth_round == round)
			return r;
	return NULL;
}

/*
 * The authentication's answer: the token, then every request parked for
 * it sent (or failed with the reason). Callbacks may start requests: those
 * wait for the next round, so this loop ends.
 */
void etcd_auth_answer(struct etcd_request *auth, const struct http_response *response)
{
	struct etcd *etcd = auth->etcd;
	char why[512] = "";
	const char *endpoint = etcd->endpoints[auth->endpoint];
	json_t *answer =
	        response->ok ? json_loadb(response->body, response->body_len, 0, NULL) : NULL;
	const char *token = json_string_value(json_object_get(answer, "token"));
	if (!response->ok)
		snprintf(why, sizeof(why), "%s", response->error);
	else if (response->status != 200 || token == NULL || strlen(token) >= ETCD_TOKEN_LEN)
		snprintf(why, sizeof(why), "authentication as '%s' failed: HTTP %ld: %s",
		         etcd->username, response->status,
		         json_string_value(json_object_get(answer, "error")) != NULL
		                 ? json_string_value(json_object_get(answer, "error"))
		                 : "no token in the answer");
	else
		snprintf(etcd->token, sizeof(etcd->token), "%s", token);
	json_decref(answer);
	etcd_request_unlink(auth);
	etcd_request_free(auth);
	unsigned round = etcd->auth_round++;
	etcd->authenticating = false;
	struct etcd_request *r;
	while ((r = parked_for(etcd, round)) != NULL) {
		r->parked = false;
		char err[256];
		if (why[0] != '\0')
			etcd_request_fail(r, endpoint, why);
		else if (etcd_request_send(r, err, sizeof(err)) < 0)
			etcd_request_fail(r, endpoint, err);
	}
}
