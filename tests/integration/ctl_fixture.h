/*
 * The trino-guardctl tests' fixture (test_ctl, test_ctl_live): one collector
 * on loopback ([api] token_file = api.token holding TOKEN, clusters blue and
 * green, blue active, no [lb] driver, no agents) and helpers to run
 * trino-guardctl against it.
 */
#ifndef TG_CTL_FIXTURE_H
#define TG_CTL_FIXTURE_H

#include <stdbool.h>
#include <sys/types.h>

#define TOKEN "ctl-test-token-0123456789"

struct ctl_fixture {
	char *dir;
	char api[64];
	char dead[64]; /* a loopback URL nothing listens on */
	pid_t collector;
};

extern struct ctl_fixture fx;

/* What one run of trino-guardctl did. */
struct run {
	int exit_code; /* -1 when it did not exit by itself within 30 s */
	char *out;
	char *err;
};

/* Runs trino-guardctl with the NULL-ended ARGS; free with run_free(). */
struct run ctl(const char *const *args);
void run_free(struct run *r);

/* Fails naming WHAT when TEXT does not contain WANT. */
void expect_in(const char *text, const char *want, const char *what);

/* trino-guardctl ARGS (NULL-ended; ARGS[2] the command): exit WANT, stdout has TEXT. */
void expect_ctl(int want, const char *text, const char *const *args);

/* trino-guardctl resume --reason REASON, which must work (a mark in the journal). */
void post_resume(const char *reason);

/* How many times WANT is in TEXT. */
int count_in(const char *text, const char *want);

/* Waits up to 30 s for the file PATH to hold TEXT TIMES times; fails saying what it holds. */
void wait_for(const char *path, const char *text, int times);

bool url_ok(void *arg);

/* Starts the collector (again) and waits for its API: 0, or -1. */
int start_collector(void);

int ctl_fixture_setup(void **state);
int ctl_fixture_teardown(void **state);

/* Every test starts without a token or URL in the environment. */
int no_token(void **state);

#endif
