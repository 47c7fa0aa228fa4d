/*
 * trino-guardctl's HTTP calls to the collector's API: one blocking request
 * at a time with libcurl's easy interface (a command line may block). Every
 * failure is said on stderr with the method, the URL and why.
 */
#ifndef TG_CTL_HTTP_H
#define TG_CTL_HTTP_H

#include <jansson.h>

#include "ctl.h"

/* curl_global_init(), once before any request: 0, or -1 with a message on stderr. */
int ctl_http_init(void);

/* curl_global_cleanup(), after the last request. */
void ctl_http_cleanup(void);

/*
 * GETs PATH from the API. Returns its JSON answer (a new reference: json_decref),
 * or NULL when it failed, answered other than 200 or not with JSON (said on stderr).
 */
json_t *ctl_http_get(const struct ctl_options *opt, const char *path);

/* ctl_http_get, the failure said into WHY instead of on stderr (for a loop that retries). */
json_t *ctl_http_get_why(const struct ctl_options *opt, const char *path, char *why,
                         size_t why_len);

/* What a POST got back; text and json may be NULL. Free with ctl_http_answer_cleanup(). */
struct ctl_http_answer {
	long status;
	char *text; /* the body as sent */
	json_t *json;
};

/*
 * POSTs BODY to PATH, with "Authorization: Bearer" when opt->token is set
 * and X-Trino-Guard-User (login@host) for the journal.
 * Returns 0 when an answer came, whatever its status; -1 when none did (said
 * on stderr).
 */
int ctl_http_post(const struct ctl_options *opt, const char *path, const json_t *body,
                  struct ctl_http_answer *answer);

void ctl_http_answer_cleanup(struct ctl_http_answer *answer);

/*
 * The bearer token for write calls: the file TOKEN_FILE (--token-file) when
 * not NULL, else $TRINO_GUARD_TOKEN, else the file named by
 * $TRINO_GUARD_TOKEN_FILE. Sets *TOKEN to a new string (free with
 * secret_free) or to NULL when none is set; -1 when the file cannot be read
 * (said on stderr).
 */
int ctl_http_token(const char *token_file, char **token);

#endif
