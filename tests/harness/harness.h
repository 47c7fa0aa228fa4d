/*
 * The integration-test harness, in one place: temp dirs, free loopback ports,
 * starting processes and stopping them by PID (also when a test fails or
 * crashes), waiting on a condition with a deadline, and blocking HTTP calls.
 */
#ifndef TG_HARNESS_H
#define TG_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Makes a new temp dir; returns its path (caller frees), or NULL. */
char *harness_tmpdir(const char *prefix);

/* Removes DIR and everything under it. */
void harness_rmrf(const char *dir);

/* Returns the first of COUNT consecutive TCP ports free on 127.0.0.1, or -1. */
int harness_port_range(int count);

/*
 * Starts ARGV (argv[0] is a path) with stdout and stderr appended to LOG_PATH.
 * The child dies with the test process (PR_SET_PDEATHSIG). Returns its PID, or -1.
 * When argv[0]'s file name is $TG_TEST_WRAP_PROGRAM, the words of $TG_TEST_WRAP
 * come first (tests/valgrind_run.sh puts valgrind there); every deadline of
 * the harness is multiplied by $TG_TEST_TIMEOUT_SCALE (default 1).
 */
pid_t harness_spawn(const char *const argv[], const char *log_path);

/* The same with stdout appended to OUT_PATH and stderr to ERR_PATH (either NULL: /dev/null). */
pid_t harness_spawn_split(const char *const argv[], const char *out_path, const char *err_path);

/* SIGTERM, then SIGKILL after TIMEOUT_MS. Returns the wait status, or -1. */
int harness_stop(pid_t pid, int timeout_ms);

/* Waits up to TIMEOUT_MS for PID to exit by itself. Returns the wait status, or -1. */
int harness_wait_exit(pid_t pid, int timeout_ms);

/* Sends SIGKILL and reaps. */
void harness_kill9(pid_t pid);

/* Stops every process this harness started and has not stopped yet. */
void harness_stop_all(void);

/* True while PID runs (not exited and not reaped). */
bool harness_alive(pid_t pid);

/* TIMEOUT_MS times $TG_TEST_TIMEOUT_SCALE (a whole number, 1 to 100; default 1). */
int harness_scaled_ms(int timeout_ms);

/* Polls COND(ARG) every 20 ms until true (returns true) or TIMEOUT_MS passes (false). */
bool harness_wait_until(bool (*cond)(void *arg), void *arg, int timeout_ms);

struct event_base;

/*
 * Runs BASE until a callback calls event_base_loopbreak() or TIMEOUT_MS
 * pass. The deadline is a timer of its own, freed on return:
 * event_base_loopexit() would stay armed after an early break and cut a
 * later run short.
 */
void harness_run_loop(struct event_base *base, int timeout_ms);

struct evhttp;
struct evhttp_request;

/*
 * An HTTP server on BASE at 127.0.0.1 and an ephemeral port (in *PORT) that
 * hands every request to ON_REQUEST(req, ARG): a pager's or an LB's stand-in
 * in the test's own loop. NULL when it cannot bind. Free with evhttp_free().
 */
struct evhttp *harness_http_listen(struct event_base *base,
                                   void (*on_request)(struct evhttp_request *req, void *arg),
                                   void *arg, int *port);

/* Milliseconds on the monotonic clock. */
long long harness_now_ms(void);

struct harness_response {
	long status; /* 0 when no response */
	char *body;  /* NUL-terminated; free with harness_response_free */
	size_t body_len;
	double seconds;
	char error[256];
};

/*
 * Blocking HTTP request (tests only): METHOD to URL with optional NULL-ended
 * HEADERS and BODY, TIMEOUT_MS overall. Returns 0 when a response arrived.
 */
int harness_http(const char *method, const char *url, const char *const *headers, const char *body,
                 int timeout_ms, struct harness_response *response);
void harness_response_free(struct harness_response *response);

/* GET returning the body (caller frees) when the status is 200; NULL otherwise. */
char *harness_get_ok(const char *url);

/* Writes TEXT to PATH; 0 or -1. */
int harness_write_file(const char *path, const char *text);

/*
 * Allows the key in PUBLIC_FILE to report as NODE_ID, a ROLE ("coordinator",
 * "worker") of CLUSTER: copies it to KEYS_DIR/CLUSTER/ROLE/NODE_ID.pub,
 * making the directories. 0 or -1.
 */
int harness_allow_key(const char *public_file, const char *keys_dir, const char *cluster,
                      const char *role, const char *node_id);

/* Reads PATH whole (caller frees); NULL on error. */
char *harness_read_file(const char *path);

#endif
