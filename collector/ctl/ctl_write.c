/*
 * cutover, confirm-switch, rollback, pause and resume: POST the request to the API (with the
 * bearer token) and print what the collector answered: its message and the
 * gate's failing checks, or the API's JSON with --json.
 */
#include <jansson.h>
#include <stdio.h>

#include "ctl_http.h"
#include "ctl_write.h"

/* The journal keeps a reason for every cutover and rollback; this one when none is given. */
#define DEFAULT_REASON "trino-guardctl"

/* Prints ANSWER: 0 for 200 or 202 (accepted), 2 for anything else. */
static int print_answer(const struct ctl_options *opt, const char *path,
                        const struct ctl_http_answer *answer)
{
	const char *text = answer->text != NULL ? answer->text : "";
	const char *message = json_string_value(json_object_get(answer->json, "message"));
	const char *error = json_string_value(json_object_get(answer->json, "error"));
	if (opt->json) {
		printf("%s", text);
	} else if (message != NULL) {
		printf("%s\n", message);
		size_t i;
		json_t *check;
		json_array_foreach(json_object_get(answer->json, "failed_checks"), i, check)
		{
			printf("  - %s\n", json_string_value(check));
		}
	} else if (error == NULL) {
		printf("%s\n", text);
	}
	bool accepted = answer->status == 200 || answer->status == 202;
	if (!accepted && message == NULL)
		fprintf(stderr, "trino-guardctl: POST %s: HTTP %ld%s%s\n", path, answer->status,
		        error != NULL ? ": " : "", error != NULL ? error : "");
	if (answer->status == 401 || answer->status == 403)
		fprintf(stderr,
		        "trino-guardctl: %s; the write commands need the token in the collector's "
		        "[api] token_file: set TRINO_GUARD_TOKEN or TRINO_GUARD_TOKEN_FILE, or "
		        "pass "
		        "--token-file FILE\n",
		        opt->token == NULL ? "no token was sent" : "the token sent was refused");
	return accepted ? CTL_EXIT_OK : CTL_EXIT_ERROR;
}

/* POSTs BODY (a new reference, taken even when NULL) to PATH and prints the answer. */
static int post(const struct ctl_options *opt, const char *path, json_t *body)
{
	if (body == NULL) {
		fprintf(stderr, "trino-guardctl: %s: cannot build the request body\n", path);
		return CTL_EXIT_ERROR;
	}
	struct ctl_http_answer answer;
	int rc = ctl_http_post(opt, path, body, &answer);
	json_decref(body);
	if (rc != 0)
		return CTL_EXIT_ERROR;
	rc = print_answer(opt, path, &answer);
	ctl_http_answer_cleanup(&answer);
	return rc;
}

int ctl_write_cutover(const struct ctl_options *opt, const char *operand)
{
	(void)operand;
	if (opt->to == NULL) {
		fprintf(stderr, "trino-guardctl: cutover needs --to CLUSTER\n");
		return CTL_EXIT_ERROR;
	}
	return post(opt, "/v1/cutover",
	            json_pack("{s:s,s:b,s:s}", "to", opt->to, "force", opt->force, "reason",
	                      opt->reason != NULL ? opt->reason : DEFAULT_REASON));
}

/* The switch by hand awaited ([lb] driver = none) was made: the watch starts. */
int ctl_write_confirm(const struct ctl_options *opt, const char *operand)
{
	(void)operand;
	json_t *body =
	        json_pack("{s:s}", "reason", opt->reason != NULL ? opt->reason : DEFAULT_REASON);
	if (body != NULL && opt->to != NULL)
		json_object_set_new(body, "to", json_string(opt->to));
	return post(opt, "/v1/cutover/confirm", body);
}

int ctl_write_rollback(const struct ctl_options *opt, const char *operand)
{
	(void)operand;
	return post(opt, "/v1/rollback",
	            json_pack("{s:b,s:s}", "force", opt->force, "reason",
	                      opt->reason != NULL ? opt->reason : DEFAULT_REASON));
}

/* pause and resume carry a reason only when one is given. */
static json_t *reason_body(const struct ctl_options *opt)
{
	return opt->reason != NULL ? json_pack("{s:s}", "reason", opt->reason) : json_object();
}

int ctl_write_pause(const struct ctl_options *opt, const char *operand)
{
	(void)operand;
	return post(opt, "/v1/pause", reason_body(opt));
}

int ctl_write_resume(const struct ctl_options *opt, const char *operand)
{
	(void)operand;
	return post(opt, "/v1/resume", reason_body(opt));
}
