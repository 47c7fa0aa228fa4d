/*
 * The exec driver, from its [lb.exec] section to the switch. A command runs
 * in its own process group, under a guard that kills the group if the
 * collector dies, with stdout and stderr on one pipe watched by the loop; its
 * end (EOF, then the exit status) or its timeout (the whole group killed)
 * decides. A switch never waits for a read of current_command: the read is
 * cancelled. Cluster names are letters, digits, '-', '_' and '.'
 * (checked by the config), so substituting them into a shell command cannot
 * inject anything.
 */
#define _GNU_SOURCE /* pipe2 */
#include "lb_exec.h"

#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config.h"
#include "lb_probe.h"
#include "log.h"

#define EXEC_MAX_OUTPUT 4096

struct run {
	struct lb_exec *lb;
	pid_t pid;
	int fd;
	struct event *output_event;
	struct event *timer;
	char output[EXEC_MAX_OUTPUT];
	size_t output_len;
	bool timed_out;
	bool active;
	void (*finished)(struct lb_exec *lb, int status, const char *output, bool timed_out);
};

struct lb_exec {
	struct event_base *base;
	char *switch_command;
	char *current_command;
	int64_t switch_timeout_ms, current_timeout_ms;
	int retries;
	lb_retry_fn on_retry;
	void *on_retry_arg;
	struct run run; /* one command at a time */
	struct event *retry_timer;
	/* the switch in progress */
	char cluster[64];
	int attempt;
	lb_switch_done_fn switch_done;
	void *switch_arg;
	lb_current_done_fn current_done;
	void *current_arg;
	bool busy;
};

static char *substitute(const char *command, const char *cluster)
{
	size_t cap = strlen(command) + 64 * 8 + 1;
	char *out = malloc(cap);
	if (out == NULL)
		return NULL;
	size_t len = 0;
	for (const char *p = command; *p != '\0';) {
		if (strncmp(p, "{cluster}", 9) == 0 && len + strlen(cluster) + 1 < cap) {
			memcpy(out + len, cluster, strlen(cluster));
			len += strlen(cluster);
			p += 9;
		} else if (len + 2 < cap) {
			out[len++] = *p++;
		} else {
			break;
		}
	}
	out[len] = '\0';
	return out;
}

static void run_end(struct run *run)
{
	if (run->output_event != NULL)
		event_free(run->output_event);
	if (run->timer != NULL)
		event_free(run->timer);
	if (run->fd >= 0)
		close(run->fd);
	run->output_event = NULL;
	run->timer = NULL;
	run->fd = -1;
	run->active = false;
}

/* The command's output pipe: read until EOF, then reap it. */
static void on_output(evutil_socket_t fd, short what, void *arg)
{
	(void)what;
	struct run *run = arg;
	char chunk[512];
	ssize_t n = read(fd, chunk, sizeof(chunk));
	if (n > 0) {
		size_t room = sizeof(run->output) - 1 - run->output_len;
		size_t take = (size_t)n < room ? (size_t)n : room;
		memcpy(run->output + run->output_len, chunk, take);
		run->output_len += take;
		return;
	}
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	/* EOF: the command closed its output; it exits now (or has) */
	int status = 0;
	waitpid(run->pid, &status, 0);
	run->output[run->output_len] = '\0';
	bool timed_out = run->timed_out;
	run_end(run);
	run->finished(run->lb, status, run->output, timed_out);
}

/* The command ran out of time: kill its whole process group. */
static void on_timeout(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct run *run = arg;
	run->timed_out = true;
	kill(-run->pid, SIGKILL); /* the pipe's EOF then ends the run */
}

/* The guard's death signal: the collector is gone, so is every process of the group. */
static void on_collector_death(int sig)
{
	(void)sig;
	kill(0, SIGKILL);
}

/*
 * The forked child: leader of a new process group, it runs COMMAND in a
 * shell of that group and exits as the shell did. If PARENT (the collector)
 * dies first, even by SIGKILL, the kernel sends the guard SIGTERM
 * (PR_SET_PDEATHSIG, prctl(2)) and it kills the whole group, so a switch
 * command never moves the LB after the collector that asked for it is gone:
 * the next collector reads the LB and settles from what it says. Only
 * async-signal-safe calls after fork() in the child.
 */
static _Noreturn void guard_command(pid_t parent, const char *command)
{
	setpgid(0, 0);
	struct sigaction on_death = {.sa_handler = on_collector_death};
	sigemptyset(&on_death.sa_mask);
	if (sigaction(SIGTERM, &on_death, NULL) != 0 || prctl(PR_SET_PDEATHSIG, SIGTERM) != 0)
		_exit(126);
	if (getppid() != parent) /* died before the death signal was armed */
		kill(0, SIGKILL);
	pid_t shell = fork();
	if (shell < 0)
		_exit(126);
	if (shell == 0) {
		(void)signal(SIGTERM, SIG_DFL); /* fails only for an invalid signal */
		execl("/bin/sh", "sh", "-c", command, (char *)NULL);
		_exit(127);
	}
	int status = 0;
	while (waitpid(shell, &status, 0) < 0)
		if (errno != EINTR)
			_exit(126);
	if (WIFEXITED(status))
		_exit(WEXITSTATUS(status));
	(void)signal(WTERMSIG(status), SIG_DFL); /* SIGKILL/SIGSTOP: _exit below */
	kill(getpid(), WTERMSIG(status));        /* the same end, for describe() */
	_exit(128 + WTERMSIG(status));
}

static int run_start(struct lb_exec *lb, const char *command, int64_t timeout_ms,
                     void (*finished)(struct lb_exec *, int, const char *, bool), char *err,
                     size_t err_len)
{
	struct run *run = &lb->run;
	int pipe_fds[2];
	if (pipe2(pipe_fds, O_CLOEXEC) != 0) {
		snprintf(err, err_len, "pipe: %s", strerror(errno));
		return -1;
	}
	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid < 0) {
		snprintf(err, err_len, "fork: %s", strerror(errno));
		close(pipe_fds[0]);
		close(pipe_fds[1]);
		return -1;
	}
	if (pid == 0) {
		dup2(pipe_fds[1], STDOUT_FILENO);
		dup2(pipe_fds[1], STDERR_FILENO);
		int null_fd = open("/dev/null", O_RDONLY);
		if (null_fd >= 0)
			dup2(null_fd, STDIN_FILENO);
		guard_command(parent, command);
	}
	setpgid(pid, pid);
	close(pipe_fds[1]);
	fcntl(pipe_fds[0], F_SETFL, O_NONBLOCK);
	memset(run, 0, sizeof(*run));
	run->lb = lb;
	run->pid = pid;
	run->fd = pipe_fds[0];
	run->finished = finished;
	run->active = true;
	run->output_event = event_new(lb->base, run->fd, EV_READ | EV_PERSIST, on_output, run);
	run->timer = evtimer_new(lb->base, on_timeout, run);
	struct timeval tv = {.tv_sec = timeout_ms / 1000, .tv_usec = (timeout_ms % 1000) * 1000};
	event_add(run->output_event, NULL);
	evtimer_add(run->timer, &tv);
	return 0;
}

static void describe(int status, const char *output, bool timed_out, int64_t timeout_ms, char *out,
                     size_t out_len)
{
	char last[300];
	size_t len = strlen(output);
	while (len > 0 && (output[len - 1] == '\n' || output[len - 1] == ' '))
		len--;
	snprintf(last, sizeof(last), "%.*s", (int)(len > 290 ? 290 : len),
	         output + (len > 290 ? len - 290 : 0));
	if (timed_out)
		snprintf(out, out_len, "timed out after %lld ms%s%s", (long long)timeout_ms,
		         last[0] ? ": " : "", last);
	else if (WIFSIGNALED(status))
		snprintf(out, out_len, "killed by signal %d%s%s", WTERMSIG(status),
		         last[0] ? ": " : "", last);
	else
		snprintf(out, out_len, "exit %d%s%s", WEXITSTATUS(status), last[0] ? ": " : "",
		         last);
}

static void attempt_switch(struct lb_exec *lb);

static void on_retry(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	attempt_switch(arg);
}

static void switch_finished(struct lb_exec *lb, int status, const char *output, bool timed_out)
{
	if (!timed_out && WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		lb->busy = false;
		lb->switch_done(true, NULL, lb->switch_arg);
		return;
	}
	char why[512], message[700];
	describe(status, output, timed_out, lb->switch_timeout_ms, why, sizeof(why));
	snprintf(message, sizeof(message), "switch command for %s: %s", lb->cluster, why);
	if (lb_retry_later(&lb->attempt, lb->retries, lb->retry_timer, lb->on_retry,
	                   lb->on_retry_arg, message))
		return;
	lb->busy = false;
	lb->switch_done(false, message, lb->switch_arg);
}

static void attempt_switch(struct lb_exec *lb)
{
	char err[256];
	char *command = substitute(lb->switch_command, lb->cluster);
	if (command == NULL ||
	    run_start(lb, command, lb->switch_timeout_ms, switch_finished, err, sizeof(err)) != 0) {
		free(command);
		lb->busy = false;
		lb->switch_done(false, command == NULL ? "out of memory" : err, lb->switch_arg);
		return;
	}
	free(command);
}

/* Ends the command under way at once: its whole group killed, reaped, its pipe closed. */
static void run_kill(struct run *run)
{
	kill(-run->pid, SIGKILL);
	while (waitpid(run->pid, NULL, 0) < 0 && errno == EINTR)
		;
	run_end(run);
}

void lb_exec_switch(struct lb_exec *lb, const char *cluster, lb_switch_done_fn done, void *arg)
{
	if (lb->busy) {
		done(false, "the exec driver is busy with another switch", arg);
		return;
	}
	if (lb->run.active) {
		/* a read of current_command: the switch goes first, the read is answered */
		run_kill(&lb->run);
		lb->current_done(NULL, "cancelled: a switch goes first", lb->current_arg);
	}
	lb->busy = true;
	snprintf(lb->cluster, sizeof(lb->cluster), "%s", cluster);
	lb->attempt = 0;
	lb->switch_done = done;
	lb->switch_arg = arg;
	attempt_switch(lb);
}

static void current_finished(struct lb_exec *lb, int status, const char *output, bool timed_out)
{
	char name[64];
	size_t len = strcspn(output, " \t\r\n");
	snprintf(name, sizeof(name), "%.*s", (int)(len < 63 ? len : 63), output);
	if (!timed_out && WIFEXITED(status) && WEXITSTATUS(status) == 0 && name[0] != '\0') {
		lb->current_done(name, NULL, lb->current_arg);
		return;
	}
	char why[512];
	describe(status, output, timed_out, lb->current_timeout_ms, why, sizeof(why));
	lb->current_done(NULL, why, lb->current_arg);
}

void lb_exec_current(struct lb_exec *lb, lb_current_done_fn done, void *arg)
{
	if (lb->current_command == NULL || lb->busy || lb->run.active) {
		done(NULL, lb->current_command == NULL ? "no current_command" : "busy", arg);
		return;
	}
	lb->current_done = done;
	lb->current_arg = arg;
	char err[256];
	if (run_start(lb, lb->current_command, lb->current_timeout_ms, current_finished, err,
	              sizeof(err)) != 0)
		done(NULL, err, arg);
}

struct lb_exec *lb_exec_new(struct event_base *base, const struct lb_exec_settings *settings,
                            char *err, size_t err_len)
{
	/* without a switch_command it only reads (driver = none's current_command) */
	if (settings->switch_command == NULL
	            ? settings->current_command == NULL
	            : strstr(settings->switch_command, "{cluster}") == NULL) {
		snprintf(err, err_len, "exec driver: switch_command must contain {cluster}");
		return NULL;
	}
	struct lb_exec *lb = calloc(1, sizeof(*lb));
	if (lb == NULL) {
		snprintf(err, err_len, "out of memory");
		return NULL;
	}
	lb->base = base;
	lb->switch_command =
	        settings->switch_command != NULL ? strdup(settings->switch_command) : NULL;
	lb->current_command =
	        settings->current_command != NULL ? strdup(settings->current_command) : NULL;
	int64_t both = settings->timeout_ms > 0 ? settings->timeout_ms : LB_EXEC_DEFAULT_TIMEOUT_MS;
	lb->switch_timeout_ms =
	        settings->switch_timeout_ms > 0 ? settings->switch_timeout_ms : both;
	lb->current_timeout_ms =
	        settings->current_timeout_ms > 0 ? settings->current_timeout_ms : both;
	lb->retries = settings->retries;
	lb->on_retry = settings->on_retry;
	lb->on_retry_arg = settings->on_retry_arg;
	lb->run.fd = -1;
	lb->retry_timer = evtimer_new(base, on_retry, lb);
	return lb;
}

void lb_exec_free(struct lb_exec *lb)
{
	if (lb == NULL)
		return;
	if (lb->run.active)
		run_kill(&lb->run);
	if (lb->retry_timer != NULL)
		event_free(lb->retry_timer);
	free(lb->switch_command);
	free(lb->current_command);
	free(lb);
}

static void driver_switch(void *impl, const char *cluster, lb_switch_done_fn done, void *arg)
{
	lb_exec_switch(impl, cluster, done, arg);
}

static void driver_current(void *impl, lb_current_done_fn done, void *arg)
{
	lb_exec_current(impl, done, arg);
}

static void driver_free(void *impl)
{
	lb_exec_free(impl);
}

struct lb_driver lb_exec_driver(struct lb_exec *lb)
{
	return (struct lb_driver){
	        .impl = lb,
	        .switch_to = lb->switch_command != NULL ? driver_switch : NULL,
	        .current = lb->current_command != NULL ? driver_current : NULL,
	        .free = driver_free,
	};
}

/* [lb.exec] as the loader fills it. */
struct lb_exec_section {
	char *switch_command;  /* with {cluster} */
	char *current_command; /* prints the cluster; optional */
	/* the commands' own limits, not [lb] timeout (a kubectl patch takes seconds); 0: unset */
	int64_t command_timeout_ms, switch_timeout_ms, current_timeout_ms;
};

static const struct config_key exec_keys[] = {
        {"switch_command", CONFIG_STRING, offsetof(struct lb_exec_section, switch_command), false,
         NULL, 0, 0, NULL},
        {"current_command", CONFIG_STRING, offsetof(struct lb_exec_section, current_command), false,
         NULL, 0, 0, NULL},
        {"command_timeout", CONFIG_DURATION, offsetof(struct lb_exec_section, command_timeout_ms),
         false, "30s", 100, 3600000, NULL},
        {"switch_timeout", CONFIG_DURATION, offsetof(struct lb_exec_section, switch_timeout_ms),
         false, NULL, 0, 3600000, NULL},
        {"current_timeout", CONFIG_DURATION, offsetof(struct lb_exec_section, current_timeout_ms),
         false, NULL, 0, 3600000, NULL},
};

/* The programs the commands start can be run. */
static int exec_probe(const void *section, int64_t timeout_ms, char *why, size_t why_len)
{
	(void)timeout_ms;
	const struct lb_exec_section *e = section;
	const char *commands[2] = {e->switch_command, e->current_command};
	const char *keys[2] = {"switch_command", "current_command"};
	for (size_t i = 0; i < 2; i++) {
		char reason[512];
		if (commands[i] != NULL &&
		    lb_probe_command(commands[i], reason, sizeof(reason)) != 0) {
			snprintf(why, why_len, "[lb.exec] %s: %s", keys[i], reason);
			return -1;
		}
	}
	return 0;
}

static int exec_check(const void *section, const struct lb_check_input *input, const char **key,
                      int *line, char *why, size_t why_len)
{
	(void)input;
	(void)line;
	const struct lb_exec_section *e = section;
	if (e->switch_command != NULL && strstr(e->switch_command, "{cluster}") != NULL)
		return 0;
	*key = "switch_command";
	snprintf(why, why_len, "[lb] driver = exec needs [lb.exec] switch_command with {cluster}");
	return -1;
}

static int exec_create(struct event_base *base, const void *section, const struct lb_common *common,
                       struct lb_driver *out, char *err, size_t err_len)
{
	const struct lb_exec_section *e = section;
	struct lb_exec_settings s = {
	        .switch_command = e->switch_command,
	        .current_command = e->current_command,
	        .timeout_ms = e->command_timeout_ms, /* never [lb] timeout: see the section */
	        .switch_timeout_ms = e->switch_timeout_ms,
	        .current_timeout_ms = e->current_timeout_ms,
	        .retries = common->retries,
	        .on_retry = common->on_retry,
	        .on_retry_arg = common->on_retry_arg,
	};
	struct lb_exec *exec = lb_exec_new(base, &s, err, err_len);
	if (exec == NULL)
		return -1;
	*out = lb_exec_driver(exec);
	return 0;
}

const struct lb_driver_type lb_exec_type = {
        .name = "exec",
        .keys = exec_keys,
        .key_count = sizeof(exec_keys) / sizeof(exec_keys[0]),
        .section_size = sizeof(struct lb_exec_section),
        .check = exec_check,
        .probe = exec_probe,
        .create = exec_create,
};
