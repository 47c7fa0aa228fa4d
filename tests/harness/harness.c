/*
 * Integration-test harness. Every spawned PID is remembered until stopped, so
 * a failing test's teardown (or exit) stops what it started; PR_SET_PDEATHSIG
 * covers a test process that crashes.
 */
#define _XOPEN_SOURCE 700 /* nftw */
#include "harness.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <event2/event.h>
#include <event2/http.h>

#include "clock.h"

#define HARNESS_MAX_CHILDREN 128

static pid_t children[HARNESS_MAX_CHILDREN];
static size_t child_count;
static bool exit_hook_installed;

long long harness_now_ms(void)
{
	return (long long)clock_mono_ms();
}

char *harness_tmpdir(const char *prefix)
{
	const char *base = getenv("TMPDIR");
	char path[512];
	snprintf(path, sizeof(path), "%s/%s-XXXXXX", base != NULL ? base : "/tmp", prefix);
	if (mkdtemp(path) == NULL)
		return NULL;
	return strdup(path);
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

void harness_rmrf(const char *dir)
{
	if (dir != NULL)
		nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static bool port_free(int port)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0)
		return false;
	struct sockaddr_in addr = {.sin_family = AF_INET,
	                           .sin_port = htons((uint16_t)port),
	                           .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	bool ok = bind(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0;
	close(fd);
	return ok;
}

int harness_port_range(int count)
{
	static bool seeded;
	if (!seeded) {
		srand((unsigned)(getpid() ^ (unsigned)harness_now_ms()));
		seeded = true;
	}
	/* Below the kernel's ephemeral range (32768+), so outgoing connections
	 * do not take our ports between the check and the bind. */
	for (int attempt = 0; attempt < 500; attempt++) {
		int base = 20000 + rand() % (32000 - 20000 - count);
		bool all_free = true;
		for (int i = 0; i < count && all_free; i++)
			all_free = port_free(base + i);
		if (all_free)
			return base;
	}
	return -1;
}

/* A daemon under valgrind runs some ten times slower: TG_TEST_TIMEOUT_SCALE. */
int harness_scaled_ms(int timeout_ms)
{
	static long scale;
	if (scale == 0) {
		const char *text = getenv("TG_TEST_TIMEOUT_SCALE");
		scale = text != NULL ? strtol(text, NULL, 10) : 1;
		if (scale < 1 || scale > 100)
			scale = 1;
	}
	return (int)(timeout_ms * scale);
}

/*
 * ARGV, or ARGV behind the words of TG_TEST_WRAP when its program's file name
 * is TG_TEST_WRAP_PROGRAM (valgrind around one daemon, not around the sims and
 * servers beside it). OUT holds up to CAP pointers, into WORDS for the wrapper's.
 */
static const char *const *wrapped_argv(const char *const argv[], const char **out, size_t cap,
                                       char *words, size_t words_len)
{
	const char *wrap = getenv("TG_TEST_WRAP");
	const char *program = getenv("TG_TEST_WRAP_PROGRAM");
	const char *slash = strrchr(argv[0], '/');
	const char *name = slash != NULL ? slash + 1 : argv[0];
	if (wrap == NULL || program == NULL || strcmp(name, program) != 0 ||
	    (size_t)snprintf(words, words_len, "%s", wrap) >= words_len)
		return argv;
	size_t n = 0;
	for (char *save = NULL, *word = strtok_r(words, " ", &save); word != NULL && n + 1 < cap;
	     word = strtok_r(NULL, " ", &save))
		out[n++] = word;
	for (size_t i = 0; argv[i] != NULL && n + 1 < cap; i++)
		out[n++] = argv[i];
	out[n] = NULL;
	return out;
}

static void forget_child(pid_t pid)
{
	for (size_t i = 0; i < child_count; i++) {
		if (children[i] == pid) {
			children[i] = children[--child_count];
			return;
		}
	}
}

pid_t harness_spawn(const char *const argv[], const char *log_path)
{
	return harness_spawn_split(argv, log_path, log_path);
}

/* Points FD (stdout or stderr) at PATH, appending; /dev/null when PATH is NULL. */
static void redirect(int fd, const char *path)
{
	int file = open(path != NULL ? path : "/dev/null", O_WRONLY | O_CREAT | O_APPEND, 0644);
	if (file >= 0) {
		dup2(file, fd);
		close(file);
	}
}

pid_t harness_spawn_split(const char *const argv[], const char *out_path, const char *err_path)
{
	if (!exit_hook_installed) {
		atexit(harness_stop_all);
		exit_hook_installed = true;
	}
	if (child_count == HARNESS_MAX_CHILDREN)
		return -1;
	const char *wrapped[64];
	char words[1024];
	argv = wrapped_argv(argv, wrapped, sizeof(wrapped) / sizeof(wrapped[0]), words,
	                    sizeof(words));
	fflush(NULL);
	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(127); /* the test died before we got here */
		redirect(STDOUT_FILENO, out_path);
		/* one file, one open: a shared offset keeps the lines of both in order */
		if (err_path == out_path ||
		    (err_path != NULL && out_path != NULL && strcmp(err_path, out_path) == 0))
			dup2(STDOUT_FILENO, STDERR_FILENO);
		else
			redirect(STDERR_FILENO, err_path);
		int null_fd = open("/dev/null", O_RDONLY);
		if (null_fd >= 0) {
			dup2(null_fd, STDIN_FILENO);
			close(null_fd);
		}
		execvp(argv[0], (char *const *)argv); /* a wrapper by name: valgrind */
		fprintf(stderr, "harness: exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	children[child_count++] = pid;
	return pid;
}

int harness_stop(pid_t pid, int timeout_ms)
{
	if (pid <= 0)
		return -1;
	int status = -1;
	kill(pid, SIGTERM);
	long long deadline = harness_now_ms() + harness_scaled_ms(timeout_ms);
	while (harness_now_ms() < deadline) {
		pid_t done = waitpid(pid, &status, WNOHANG);
		if (done == pid || (done < 0 && errno == ECHILD)) {
			forget_child(pid);
			return done == pid ? status : -1;
		}
		usleep(10000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	forget_child(pid);
	return status;
}

int harness_wait_exit(pid_t pid, int timeout_ms)
{
	long long deadline = harness_now_ms() + harness_scaled_ms(timeout_ms);
	int status;
	while (harness_now_ms() < deadline) {
		if (waitpid(pid, &status, WNOHANG) == pid) {
			forget_child(pid);
			return status;
		}
		usleep(10000);
	}
	return -1;
}

void harness_kill9(pid_t pid)
{
	if (pid <= 0)
		return;
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	forget_child(pid);
}

void harness_stop_all(void)
{
	while (child_count > 0)
		harness_stop(children[child_count - 1], 3000);
}

bool harness_alive(pid_t pid)
{
	int status;
	pid_t done = waitpid(pid, &status, WNOHANG);
	if (done == pid) {
		forget_child(pid);
		return false;
	}
	return done == 0;
}

bool harness_wait_until(bool (*cond)(void *arg), void *arg, int timeout_ms)
{
	long long deadline = harness_now_ms() + harness_scaled_ms(timeout_ms);
	for (;;) {
		if (cond(arg))
			return true;
		if (harness_now_ms() >= deadline)
			return false;
		usleep(20000);
	}
}

static size_t collect(char *data, size_t size, size_t count, void *arg)
{
	struct harness_response *response = arg;
	size_t len = size * count;
	char *grown = realloc(response->body, response->body_len + len + 1);
	if (grown == NULL)
		return 0;
	response->body = grown;
	memcpy(response->body + response->body_len, data, len);
	response->body_len += len;
	response->body[response->body_len] = '\0';
	return len;
}

int harness_http(const char *method, const char *url, const char *const *headers, const char *body,
                 int timeout_ms, struct harness_response *response)
{
	memset(response, 0, sizeof(*response));
	response->body = calloc(1, 1);
	CURL *curl = curl_easy_init();
	if (curl == NULL || response->body == NULL) {
		snprintf(response->error, sizeof(response->error), "out of memory");
		if (curl != NULL)
			curl_easy_cleanup(curl);
		return -1;
	}
	struct curl_slist *list = NULL;
	for (size_t i = 0; headers != NULL && headers[i] != NULL; i++)
		list = curl_slist_append(list, headers[i]);
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, (long)harness_scaled_ms(timeout_ms));
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, response);
	if (list != NULL)
		curl_easy_setopt(curl, CURLOPT_HTTPHEADER, list);
	if (body != NULL)
		curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
	if (strcmp(method, "HEAD") == 0)
		curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
	CURLcode rc = curl_easy_perform(curl);
	if (rc == CURLE_OK) {
		curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &response->status);
	} else {
		snprintf(response->error, sizeof(response->error), "%s", curl_easy_strerror(rc));
	}
	curl_easy_getinfo(curl, CURLINFO_TOTAL_TIME, &response->seconds);
	curl_slist_free_all(list);
	curl_easy_cleanup(curl);
	return rc == CURLE_OK ? 0 : -1;
}

void harness_response_free(struct harness_response *response)
{
	free(response->body);
	response->body = NULL;
}

char *harness_get_ok(const char *url)
{
	struct harness_response response;
	if (harness_http("GET", url, NULL, NULL, 2000, &response) != 0 || response.status != 200) {
		harness_response_free(&response);
		return NULL;
	}
	return response.body;
}

int harness_write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	if (f == NULL)
		return -1;
	fputs(text, f);
	return fclose(f);
}

int harness_allow_key(const char *public_file, const char *keys_dir, const char *cluster,
                      const char *role, const char *node_id)
{
	char path[1024];
	snprintf(path, sizeof(path), "%s/%s", keys_dir, cluster);
	if (mkdir(path, 0755) != 0 && errno != EEXIST)
		return -1;
	snprintf(path, sizeof(path), "%s/%s/%s", keys_dir, cluster, role);
	if (mkdir(path, 0755) != 0 && errno != EEXIST)
		return -1;
	snprintf(path, sizeof(path), "%s/%s/%s/%s.pub", keys_dir, cluster, role, node_id);
	char *text = harness_read_file(public_file);
	int rc = text != NULL ? harness_write_file(path, text) : -1;
	free(text);
	return rc;
}

char *harness_read_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		return NULL;
	size_t cap = 4096, len = 0;
	char *text = malloc(cap);
	size_t n;
	while (text != NULL && (n = fread(text + len, 1, cap - len - 1, f)) > 0) {
		len += n;
		if (len + 1 == cap) {
			char *grown = realloc(text, cap * 2);
			if (grown == NULL) {
				free(text);
				text = NULL;
				break;
			}
			text = grown;
			cap *= 2;
		}
	}
	fclose(f);
	if (text != NULL)
		text[len] = '\0';
	return text;
}

static void on_loop_deadline(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	event_base_loopbreak(arg);
}

void harness_run_loop(struct event_base *base, int timeout_ms)
{
	struct event *deadline = evtimer_new(base, on_loop_deadline, base);
	if (deadline == NULL)
		return;
	int scaled = harness_scaled_ms(timeout_ms);
	struct timeval limit = {scaled / 1000, (scaled % 1000) * 1000};
	evtimer_add(deadline, &limit);
	event_base_dispatch(base);
	event_free(deadline);
}

struct evhttp *harness_http_listen(struct event_base *base,
                                   void (*on_request)(struct evhttp_request *req, void *arg),
                                   void *arg, int *port)
{
	struct evhttp *http = evhttp_new(base);
	if (http == NULL)
		return NULL;
	evhttp_set_gencb(http, on_request, arg);
	struct evhttp_bound_socket *bound = evhttp_bind_socket_with_handle(http, "127.0.0.1", 0);
	struct sockaddr_in address;
	socklen_t len = sizeof(address);
	if (bound == NULL || getsockname(evhttp_bound_socket_get_fd(bound),
	                                 (struct sockaddr *)&address, &len) != 0) {
		evhttp_free(http);
		return NULL;
	}
	*port = ntohs(address.sin_port);
	return http;
}
