/*
 * The exec driver with real commands: a switch script that records the
 * cluster (and current_command that reads it back), a failing command
 * retried then reported with its exit code and output, a hanging one
 * killed at its timeout with its whole process group, a slow read cancelled
 * by a switch, a command that dies with its collector, and the commands'
 * own timeout ([lb.exec] switch_timeout), which [lb] timeout is not.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <event2/event.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "collector_config.h"
#include "lb_drivers.h"
#include "lb_exec.h"

static char *dir;
static struct event_base *base;

struct outcome {
	bool finished, ok;
	char text[1024];
};

static void on_switched(bool ok, const char *error, void *arg)
{
	struct outcome *o = arg;
	o->finished = true;
	o->ok = ok;
	snprintf(o->text, sizeof(o->text), "%s", error != NULL ? error : "");
	event_base_loopbreak(base);
}

static void on_current(const char *cluster, const char *error, void *arg)
{
	struct outcome *o = arg;
	o->finished = true;
	o->ok = cluster != NULL;
	snprintf(o->text, sizeof(o->text), "%s", cluster != NULL ? cluster : error);
	event_base_loopbreak(base);
}

static void run(struct outcome *o)
{
	harness_run_loop(base, 10000);
	assert_true(o->finished);
}

static void test_switch_and_current(void **state)
{
	(void)state;
	char switch_command[512], current_command[512];
	snprintf(switch_command, sizeof(switch_command),
	         "echo switching to {cluster}; printf '%%s\\n' {cluster} > '%s/target'", dir);
	snprintf(current_command, sizeof(current_command), "cat '%s/target'", dir);
	struct lb_exec_settings s = {.switch_command = switch_command,
	                             .current_command = current_command,
	                             .timeout_ms = 2000,
	                             .retries = 1};
	char err[256];
	struct lb_exec *lb = lb_exec_new(base, &s, err, sizeof(err));
	assert_non_null(lb);
	struct outcome o = {0};
	lb_exec_switch(lb, "green", on_switched, &o);
	run(&o);
	assert_true(o.ok);
	char path[512];
	snprintf(path, sizeof(path), "%s/target", dir);
	char *target = harness_read_file(path);
	assert_string_equal(target, "green\n");
	free(target);
	struct outcome c = {0};
	struct lb_driver driver = lb_exec_driver(lb);
	driver.current(driver.impl, on_current, &c);
	run(&c);
	assert_true(c.ok);
	assert_string_equal(c.text, "green");
	driver.free(driver.impl);
}

static void count_retry(const char *reason, void *arg)
{
	assert_non_null(strstr(reason, "exit 3"));
	(*(int *)arg)++;
}

static void test_failing_command_is_retried_then_reported(void **state)
{
	(void)state;
	char command[512], counter[512];
	snprintf(counter, sizeof(counter), "%s/attempts", dir);
	snprintf(
	        command, sizeof(command),
	        "echo x >> '%s'; echo 'Error: service \"trino\" not found' >&2; exit 3 # {cluster}",
	        counter);
	int retries_seen = 0;
	struct lb_exec_settings s = {.switch_command = command,
	                             .timeout_ms = 2000,
	                             .retries = 2,
	                             .on_retry = count_retry,
	                             .on_retry_arg = &retries_seen};
	char err[256];
	struct lb_exec *lb = lb_exec_new(base, &s, err, sizeof(err));
	struct outcome o = {0};
	lb_exec_switch(lb, "blue", on_switched, &o);
	run(&o);
	assert_false(o.ok);
	assert_non_null(strstr(o.text, "switch command for blue: exit 3: Error: service \"trino\" "
	                               "not found"));
	char *attempts = harness_read_file(counter);
	assert_string_equal(attempts, "x\nx\nx\n"); /* 1 + 2 retries */
	assert_int_equal(retries_seen, 2);          /* each one reported, for the journal */
	free(attempts);
	assert_null(lb_exec_driver(lb).current); /* no current_command: cannot tell */
	lb_exec_free(lb);
}

static void test_hanging_command_is_killed_at_its_timeout(void **state)
{
	(void)state;
	/* A duration of its own, so that other runs' sleeps on the machine do not count. */
	char sleep_for[32], switch_command[128], still_there[128];
	snprintf(sleep_for, sizeof(sleep_for), "sleep 30.%05d", (int)(getpid() % 100000));
	snprintf(switch_command, sizeof(switch_command), "%s & %s; echo {cluster}", sleep_for,
	         sleep_for);
	snprintf(still_there, sizeof(still_there), "pgrep -f '^%s$' > /dev/null", sleep_for);
	struct lb_exec_settings s = {.switch_command = switch_command, .timeout_ms = 300};
	char err[256];
	struct lb_exec *lb = lb_exec_new(base, &s, err, sizeof(err));
	struct outcome o = {0};
	long long started = harness_now_ms();
	lb_exec_switch(lb, "green", on_switched, &o);
	run(&o);
	assert_false(o.ok);
	assert_non_null(strstr(o.text, "timed out after 300 ms"));
	/* killed, not waited for: well before the 30 s the commands sleep */
	assert_true(harness_now_ms() - started < 20000);
	assert_int_equal(system(still_there), 256); /* none left */
	lb_exec_free(lb);
}

/* A read of current_command that takes its time is cancelled by a switch, never refusing it. */
static void test_a_switch_cancels_a_read_in_flight(void **state)
{
	(void)state;
	char switch_command[512], current_command[512], path[512];
	snprintf(path, sizeof(path), "%s/target", dir);
	snprintf(switch_command, sizeof(switch_command), "printf '%%s\\n' {cluster} > '%s'", path);
	snprintf(current_command, sizeof(current_command), "sleep 30; cat '%s'", path);
	struct lb_exec_settings s = {.switch_command = switch_command,
	                             .current_command = current_command,
	                             .timeout_ms = 60000};
	char err[256];
	struct lb_exec *lb = lb_exec_new(base, &s, err, sizeof(err));
	assert_non_null(lb);
	struct outcome read = {0}, switched = {0};
	lb_exec_current(lb, on_current, &read);
	lb_exec_switch(lb, "green", on_switched, &switched);
	assert_true(read.finished); /* answered at once: cancelled */
	assert_false(read.ok);
	assert_non_null(strstr(read.text, "cancelled"));
	run(&switched);
	assert_true(switched.ok);
	char *target = harness_read_file(path);
	assert_string_equal(target, "green\n");
	free(target);
	lb_exec_free(lb);
}

/* Whether the process PID is gone (or a zombie nobody reaps: it runs nothing). */
static bool process_gone(pid_t pid)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	char *stat = harness_read_file(path);
	if (stat == NULL)
		return true;
	const char *end = strrchr(stat, ')');
	bool zombie = end != NULL && end[1] == ' ' && (end[2] == 'Z' || end[2] == 'X');
	free(stat);
	return zombie;
}

static const char *sh_pid_path, *sleep_pid_path;

static bool command_started(void *arg)
{
	(void)arg;
	char *a = harness_read_file(sh_pid_path), *b = harness_read_file(sleep_pid_path);
	bool both = a != NULL && b != NULL && strchr(a, '\n') != NULL && strchr(b, '\n') != NULL;
	free(a);
	free(b);
	return both;
}

static pid_t read_pid(const char *path)
{
	char *text = harness_read_file(path);
	pid_t pid = text != NULL ? (pid_t)atoi(text) : -1;
	free(text);
	return pid;
}

static pid_t watched[2];

static bool group_gone(void *arg)
{
	(void)arg;
	return process_gone(watched[0]) && process_gone(watched[1]);
}

/*
 * A switch command whose collector is killed (SIGKILL) mid-command dies with
 * it, children included: it never moves the LB with nobody to record it.
 */
static void test_a_switch_command_dies_with_its_collector(void **state)
{
	(void)state;
	char sh_pid[512], sleep_pid[512], marker[512], command[2048];
	snprintf(sh_pid, sizeof(sh_pid), "%s/sh.pid", dir);
	snprintf(sleep_pid, sizeof(sleep_pid), "%s/sleep.pid", dir);
	snprintf(marker, sizeof(marker), "%s/moved", dir);
	sh_pid_path = sh_pid;
	sleep_pid_path = sleep_pid;
	snprintf(command, sizeof(command),
	         "echo $$ > '%s'; sleep 30 & echo $! > '%s'; wait; echo {cluster} > '%s'", sh_pid,
	         sleep_pid, marker);
	pid_t collector = fork();
	assert_true(collector >= 0);
	if (collector == 0) {
		/* the stand-in collector: starts the switch and runs its loop */
		struct event_base *own = event_base_new();
		struct lb_exec_settings s = {.switch_command = command, .timeout_ms = 60000};
		char err[256];
		struct lb_exec *lb = lb_exec_new(own, &s, err, sizeof(err));
		struct outcome o = {0};
		if (lb == NULL)
			_exit(2);
		lb_exec_switch(lb, "green", on_switched, &o);
		event_base_dispatch(own);
		_exit(0);
	}
	assert_true(harness_wait_until(command_started, NULL, 30000));
	watched[0] = read_pid(sh_pid);
	watched[1] = read_pid(sleep_pid);
	assert_true(watched[0] > 0 && watched[1] > 0);
	assert_false(group_gone(NULL));
	kill(collector, SIGKILL);
	assert_int_equal(waitpid(collector, NULL, 0), collector);
	assert_true(harness_wait_until(group_gone, NULL, 30000));
	assert_int_equal(access(marker, F_OK), -1); /* the LB was never moved */
}

static void test_bad_settings(void **state)
{
	(void)state;
	struct lb_exec_settings s = {.switch_command = "switch-without-placeholder",
	                             .timeout_ms = 1000};
	char err[256];
	assert_null(lb_exec_new(base, &s, err, sizeof(err)));
	assert_non_null(strstr(err, "must contain {cluster}"));
}

static int setup(void **state)
{
	(void)state;
	dir = harness_tmpdir("tg-lb-exec");
	base = event_base_new();
	return dir != NULL && base != NULL ? 0 : -1;
}

/* The exec driver as collector.ini builds it, with LB_SETTINGS and EXEC_SETTINGS. */
static struct lb_driver driver_from_ini(const char *lb_settings, const char *exec_settings,
                                        struct collector_config *config)
{
	char path[512], text[2048];
	snprintf(path, sizeof(path), "%s/collector.ini", dir);
	snprintf(text, sizeof(text),
	         "[collector]\ncurve = off\nstate_dir = %s/state\ninitial_active = blue\n"
	         "[cluster.blue]\n[cluster.green]\n[lb]\ndriver = exec\n%s[lb.exec]\n%s",
	         dir, lb_settings, exec_settings);
	assert_int_equal(harness_write_file(path, text), 0);
	char err[1024];
	memset(config, 0, sizeof(*config));
	if (collector_config_load(path, config, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	struct lb_driver driver = {0};
	if (lb_driver_from_config(base, config, NULL, &driver, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	return driver;
}

/*
 * A kubectl patch takes seconds: [lb] timeout (2 s, for sockets and HTTP)
 * does not kill a 5 s switch_command; [lb.exec] switch_timeout does.
 */
static void test_commands_have_their_own_timeout(void **state)
{
	(void)state;
	char exec_settings[512];
	snprintf(exec_settings, sizeof(exec_settings),
	         "switch_command = sleep 5; echo {cluster} > '%s/slow'\n", dir);
	struct collector_config config;
	struct lb_driver driver =
	        driver_from_ini("timeout = 2s\nretries = 0\n", exec_settings, &config);
	struct outcome o = {0};
	long long started = harness_now_ms();
	driver.switch_to(driver.impl, "green", on_switched, &o);
	harness_run_loop(base, 20000);
	assert_true(o.finished);
	if (!o.ok)
		fail_msg("a 5 s switch under a 2 s [lb] timeout: %s", o.text);
	assert_true(harness_now_ms() - started >= 5000);
	driver.free(driver.impl);
	collector_config_free(&config);

	char short_settings[600];
	snprintf(short_settings, sizeof(short_settings), "%sswitch_timeout = 300ms\n",
	         exec_settings);
	driver = driver_from_ini("timeout = 2s\nretries = 0\n", short_settings, &config);
	struct outcome killed = {0};
	driver.switch_to(driver.impl, "green", on_switched, &killed);
	run(&killed);
	assert_false(killed.ok);
	assert_non_null(strstr(killed.text, "timed out after 300 ms"));
	driver.free(driver.impl);
	collector_config_free(&config);
}

static int teardown(void **state)
{
	(void)state;
	event_base_free(base);
	harness_rmrf(dir);
	free(dir);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_switch_and_current),
	        cmocka_unit_test(test_failing_command_is_retried_then_reported),
	        cmocka_unit_test(test_hanging_command_is_killed_at_its_timeout),
	        cmocka_unit_test(test_a_switch_cancels_a_read_in_flight),
	        cmocka_unit_test(test_a_switch_command_dies_with_its_collector),
	        cmocka_unit_test(test_bad_settings),
	        cmocka_unit_test(test_commands_have_their_own_timeout),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
