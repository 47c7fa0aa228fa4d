/*
 * check-config, one implementation in three programs: every case runs
 * through the daemon's --check-config and trino-guardctl check-config, which
 * must give the same exit code (0 ok, 1 valid file naming what is not
 * there, 2 invalid file) and the same message. One row per check the
 * daemons make at start. And the example collector.ini passes both, with
 * each driver's commented section too.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "curve_keys.h"
#include "harness.h"

static char *dir;

/* Runs PROGRAM's check of INI (with --offline when OFFLINE); its exit code, output in *OUT. */
static int run_check(const char *program, const char *ini, bool offline, char **out)
{
	char log[512];
	snprintf(log, sizeof(log), "%s/check.log", dir);
	unlink(log);
	const char *daemon[] = {program, "-c", ini, "--check-config", offline ? "--offline" : NULL,
	                        NULL};
	const char *ctl[] = {TG_CTL_BIN, "check-config", ini, offline ? "--offline" : NULL, NULL};
	pid_t pid = harness_spawn(strcmp(program, TG_CTL_BIN) == 0 ? ctl : daemon, log);
	int status = harness_wait_exit(pid, 30000);
	*out = harness_read_file(log);
	if (*out == NULL)
		*out = strdup("");
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

struct check_case {
	const char *what;
	const char *text; /* the config: @D stands for the temp dir, @P for a closed port */
	bool offline;
	int exit_code;
	const char *message; /* a part of the output, with @D and @P filled in too */
};

static int closed_port;

/* TEXT with @D and @P filled in, into OUT. */
static void fill(const char *text, char *out, size_t out_len)
{
	size_t used = 0;
	for (const char *p = text; *p != '\0' && used + 1 < out_len; p++) {
		int n = 0;
		if (p[0] == '@' && p[1] == 'D')
			n = snprintf(out + used, out_len - used, "%s", dir);
		else if (p[0] == '@' && p[1] == 'P')
			n = snprintf(out + used, out_len - used, "%d", closed_port);
		else
			out[used++] = *p;
		if (n > 0) {
			used += (size_t)n;
			p++;
		}
	}
	out[used < out_len ? used : out_len - 1] = '\0';
}

/* Both programs on every row: the same exit code and message. */
static void run_cases(const char *daemon, const struct check_case *cases, size_t count)
{
	char ini[512], text[4096];
	snprintf(ini, sizeof(ini), "%s/check.ini", dir);
	for (size_t i = 0; i < count; i++) {
		char message[1024];
		fill(cases[i].text, text, sizeof(text));
		fill(cases[i].message, message, sizeof(message));
		assert_int_equal(harness_write_file(ini, text), 0);
		const char *programs[2] = {daemon, TG_CTL_BIN};
		for (size_t p = 0; p < 2; p++) {
			char *out;
			int rc = run_check(programs[p], ini, cases[i].offline, &out);
			if (rc != cases[i].exit_code || strstr(out, message) == NULL)
				fail_msg("%s, %s: exit %d (want %d), output:\n%s", cases[i].what,
				         programs[p], rc, cases[i].exit_code, out);
			free(out);
		}
	}
}

static void write_keys(const char *name)
{
	char prefix[512], err[256];
	snprintf(prefix, sizeof(prefix), "%s/%s", dir, name);
	assert_int_equal(curve_keypair_write(prefix, err, sizeof(err)), 0);
}

static void test_agent_checks(void **state)
{
	(void)state;
	char path[512];
	snprintf(path, sizeof(path), "%s/etc-good", dir);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/etc-good/node.properties", dir);
	harness_write_file(path, "node.environment=test\nnode.id=trino-worker-7f9c\n");
	snprintf(path, sizeof(path), "%s/etc-bad", dir);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/etc-bad/node.properties", dir);
	harness_write_file(path, "node.id=worker.one\n");
	snprintf(path, sizeof(path), "%s/etc-none", dir);
	mkdir(path, 0755);
	write_keys("agent");
	write_keys("server");
	write_keys("loose");
	snprintf(path, sizeof(path), "%s/loose.key", dir);
	chmod(path, 0644);
#define CURVE_OFF "[collector]\nendpoints = tcp://127.0.0.1:1\ncurve = off\n"
	static const struct check_case cases[] = {
	        {"valid", "[agent]\ncluster = g\nnode_id = n\n" CURVE_OFF, false, 0,
	         "OK (agent config: cluster g, node n)"},
	        {"node.id from node.properties",
	         "[agent]\ncluster = g\n[trino]\netc_dir = @D/etc-good\n" CURVE_OFF, false, 0,
	         "node trino-worker-7f9c)"},
	        {"no node.properties",
	         "[agent]\ncluster = g\n[trino]\netc_dir = @D/etc-none\n" CURVE_OFF, false, 1,
	         "node_id is not set and"},
	        {"a node.id Trino refuses",
	         "[agent]\ncluster = g\n[trino]\netc_dir = @D/etc-bad\n" CURVE_OFF, false, 1,
	         "node id 'worker.one' is not one Trino accepts"},
	        {"a node_id Trino refuses", "[agent]\ncluster = g\nnode_id = a/b\n" CURVE_OFF,
	         false, 1, "node id 'a/b' is not one Trino accepts"},
	        {"key files there",
	         "[agent]\ncluster = g\nnode_id = n\n[collector]\n"
	         "endpoints = tcp://127.0.0.1:1\nserver_public_key_file = @D/server.pub\n"
	         "public_key_file = @D/agent.pub\nsecret_key_file = @D/agent.key\n",
	         false, 0, "OK (agent config"},
	        {"a key file missing",
	         "[agent]\ncluster = g\nnode_id = n\n[collector]\n"
	         "endpoints = tcp://127.0.0.1:1\nserver_public_key_file = @D/nowhere.pub\n"
	         "public_key_file = @D/agent.pub\nsecret_key_file = @D/agent.key\n",
	         false, 1, "[collector] server_public_key_file: "},
	        {"a secret key others can read",
	         "[agent]\ncluster = g\nnode_id = n\n[collector]\n"
	         "endpoints = tcp://127.0.0.1:1\nserver_public_key_file = @D/server.pub\n"
	         "public_key_file = @D/agent.pub\nsecret_key_file = @D/loose.key\n",
	         false, 1, "[collector] secret_key_file: "},
	        {"a token file missing",
	         "[agent]\ncluster = g\nnode_id = n\n[trino]\n"
	         "url = https://127.0.0.1:8443\nbearer_token_file = @D/no-token\n" CURVE_OFF,
	         false, 1, "[trino] bearer_token_file: "},
	        {"the coordinator-id probe on, with its user",
	         "[agent]\ncluster = g\nnode_id = n\n[trino]\ncoordinator_id_probe = on\n"
	         "probe_user = probe\n" CURVE_OFF,
	         false, 0, "OK (agent config: cluster g, node n)"},
	        {"a probe_user with a control character",
	         "[agent]\ncluster = g\nnode_id = n\n[trino]\nprobe_user = a\tb\n" CURVE_OFF, false,
	         2, "check.ini:5: [trino] probe_user may not hold control characters"},
	        {"an invalid file", "[agent]\ncluster = g\nnode_id = n\ntick = 1s\n", false, 2,
	         "check.ini:4: unknown key 'tick' in [agent]"},
	};
	run_cases(TG_AGENT_BIN, cases, sizeof(cases) / sizeof(cases[0]));
}

/* A unix socket that accepts, as HAProxy's admin socket does; its listening fd. */
static int listen_unix(const char *path)
{
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	unlink(path);
	assert_int_equal(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	assert_int_equal(listen(fd, 4), 0);
	return fd;
}

#define STATE "state_dir = @D/state\n"
#define BASE  "[collector]\ncurve = off\n" STATE "[cluster.blue]\n"
#define HAPROXY_DOWN                                                                               \
	BASE "[lb]\ndriver = haproxy\n[lb.haproxy]\nsockets = @D/gone.sock\n"                      \
	     "map_file = @D/trino.map\nbackend.blue = be_blue\n"
static const struct check_case collector_cases[] = {
        {"valid", BASE, false, 0, "OK (collector config: 1 clusters, driver none)"},
        {"keys there",
         "[collector]\nsecret_key_file = @D/collector.key\nallowed_keys_dir = "
         "@D/agents\n" STATE "[cluster.blue]\n",
         false, 0, "OK (collector config"},
        {"the secret key missing",
         "[collector]\nsecret_key_file = @D/none.key\nallowed_keys_dir = @D/agents\n" STATE
         "[cluster.blue]\n",
         false, 1, "[collector] secret_key_file: "},
        {"the allow-list missing",
         "[collector]\nsecret_key_file = @D/collector.key\nallowed_keys_dir = "
         "@D/none\n" STATE "[cluster.blue]\n",
         false, 1, "allowed_keys_dir "},
        {"an allow-list file that is not a key",
         "[collector]\nsecret_key_file = @D/collector.key\n"
         "allowed_keys_dir = @D/agents-bad-key\n" STATE "[cluster.blue]\n",
         false, 1, "agents-bad-key/blue/worker/w1.pub"},
        {"a key file of the flat layout",
         "[collector]\nsecret_key_file = @D/collector.key\n"
         "allowed_keys_dir = @D/agents-flat\n" STATE "[cluster.blue]\n",
         false, 1, "keys are bound to a cluster and a role now"},
        {"an allow-list name that is no node id",
         "[collector]\nsecret_key_file = @D/collector.key\n"
         "allowed_keys_dir = @D/agents-bad-name\n" STATE "[cluster.blue]\n",
         false, 1, "'worker.one' is not a node id Trino accepts"},
        {"an empty allow-list",
         "[collector]\nsecret_key_file = @D/collector.key\n"
         "allowed_keys_dir = @D/agents-empty\n" STATE "[cluster.blue]\n",
         false, 1, "holds no <cluster>/<role>/<node-id>.pub"},
        {"a short API token", BASE "[api]\ntoken_file = @D/short-token\n", false, 1,
         "the token must be at least 16 characters"},
        {"an etcd password file that is not there",
         BASE "[ha]\netcd_endpoints = http://127.0.0.1:2379\nusername = tg\n"
              "password_file = @D/no-etcd-password\n",
         true, 1, "[ha] password_file "},
        {"haproxy's socket answers",
         BASE "[lb]\ndriver = haproxy\n[lb.haproxy]\nsockets = @D/admin.sock\n"
              "map_file = @D/trino.map\nbackend.blue = be_blue\n",
         false, 0, "driver haproxy)"},
        {"haproxy's socket is not there", HAPROXY_DOWN, false, 1,
         "[lb.haproxy] sockets: HAProxy's runtime API "},
        {"offline: not probed", HAPROXY_DOWN, true, 0, "driver haproxy, not probed)"},
        {"a backend missing",
         BASE "[cluster.green]\n[lb]\ndriver = haproxy\n[lb.haproxy]\n"
              "sockets = @D/admin.sock\nmap_file = @D/trino.map\nbackend.blue = be_blue\n",
         true, 2, "has no backend.green"},
        {"the switch URL refuses",
         BASE "[lb]\ndriver = http\n[lb.http]\nswitch_url = http://127.0.0.1:@P/switch\n", false, 1,
         "[lb.http] switch_url: 127.0.0.1:"},
        {"an exec command not found",
         BASE "[lb]\ndriver = exec\n[lb.exec]\nswitch_command = /nonexistent/switch {cluster}\n",
         false, 1, "[lb.exec] switch_command: /nonexistent/switch: "},
        {"a private header file",
         BASE "[alert.hook]\ntype = webhook\nurl = http://hook/\n"
              "header_file.Authorization = @D/header-token\n",
         false, 0, "OK (collector config"},
        {"a header file others may read",
         BASE "[alert.hook]\ntype = webhook\nurl = http://hook/\n"
              "header_file.Authorization = @D/header-token-0644\n",
         false, 2,
         "check.ini:8: [alert.hook] header_file.Authorization: "
         "@D/header-token-0644 is open to group or others (mode 0644)"},
        {"an empty header file of the http driver",
         BASE "[lb]\ndriver = http\n[lb.http]\nswitch_url = http://127.0.0.1:@P/switch\n"
              "header_file.Authorization = @D/header-token-empty\n",
         true, 2,
         "check.ini:9: [lb.http] header_file.Authorization: @D/header-token-empty is empty"},
        {"an invalid file", "[collector]\ntik = 1s\n", false, 2,
         "check.ini:2: unknown key 'tik' in [collector]"},
};

/*
 * The files the collector cases point at: its keys, allow-lists in each
 * layout (good, bad name, bad key, empty, flat), a short token, header
 * files (private, open to others, empty) and an admin socket that accepts;
 * the socket's listening fd.
 */
static int make_collector_files(void)
{
	char path[512];
	write_keys("collector");
	/* allowed_keys_dir/<cluster>/<role>/<node-id>.pub */
	static const char *const dirs[] = {
	        "agents",          "agents/blue",          "agents/blue/worker",
	        "agents-bad-name", "agents-bad-name/blue", "agents-bad-name/blue/worker",
	        "agents-bad-key",  "agents-bad-key/blue",  "agents-bad-key/blue/worker",
	        "agents-empty",    "agents-flat",
	};
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, dirs[i]);
		mkdir(path, 0755);
	}
	write_keys("agents/blue/worker/trino-worker-1");
	write_keys("agents-bad-name/blue/worker/worker.one");
	write_keys("agents-flat/trino-worker-1");
	snprintf(path, sizeof(path), "%s/agents-bad-key/blue/worker/w1.pub", dir);
	harness_write_file(path, "not a key\n");
	snprintf(path, sizeof(path), "%s/short-token", dir);
	harness_write_file(path, "short\n");
	chmod(path, 0600);
	static const struct {
		const char *name, *text;
		mode_t mode;
	} header_files[] = {
	        {"header-token", "Bearer header-secret\n", 0600},
	        {"header-token-0644", "Bearer header-secret\n", 0644},
	        {"header-token-empty", "\n", 0600},
	};
	for (size_t i = 0; i < sizeof(header_files) / sizeof(header_files[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, header_files[i].name);
		harness_write_file(path, header_files[i].text);
		chmod(path, header_files[i].mode);
	}
	char socket_path[512];
	snprintf(socket_path, sizeof(socket_path), "%s/admin.sock", dir);
	closed_port = harness_port_range(1);
	return listen_unix(socket_path);
}

static void test_collector_checks(void **state)
{
	(void)state;
	int listening = make_collector_files();
	run_cases(TG_COLLECTOR_BIN, collector_cases,
	          sizeof(collector_cases) / sizeof(collector_cases[0]));
	close(listening);
}

/* TEXT with every FROM replaced by TO; a new string. */
static char *replace_all(const char *text, const char *from, const char *to)
{
	size_t count = 0, from_len = strlen(from), to_len = strlen(to);
	for (const char *at = text; (at = strstr(at, from)) != NULL; at += from_len)
		count++;
	char *out = malloc(strlen(text) + count * to_len + 1);
	assert_non_null(out);
	char *w = out;
	for (const char *at = text;;) {
		const char *hit = strstr(at, from);
		size_t keep = hit != NULL ? (size_t)(hit - at) : strlen(at);
		memcpy(w, at, keep);
		w += keep;
		if (hit == NULL)
			break;
		memcpy(w, to, to_len);
		w += to_len;
		at = hit + from_len;
	}
	*w = '\0';
	return out;
}

/* TEXT with driver = NAME and the commented [lb.NAME] block uncommented; a new string. */
static char *with_driver(const char *text, const char *name)
{
	char driver[64], header[64];
	snprintf(driver, sizeof(driver), "driver = %s\n", name);
	snprintf(header, sizeof(header), "\n;[lb.%s]\n", name);
	char *out = replace_all(text, "driver = none\n", driver);
	char *block = strstr(out, header);
	if (block == NULL)
		fail_msg("the example has no commented %s", header + 1);
	/*
	 * ";key = value" lines lose their ';' up to the blank line; "; text"
	 * stays a comment (a leading blank would continue the line before it)
	 */
	for (char *line = block + 1; *line == ';'; line = strchr(line, '\n') + 1)
		if (line[1] != ' ')
			memmove(line, line + 1, strlen(line + 1) + 1);
	return out;
}

/*
 * deploy/examples/collector.ini with its paths made local: both checkers
 * pass it (exit 0); it shows [watch], [lb] and an alert sink; and each
 * driver's commented section, uncommented, is a valid file too.
 */
static void test_the_example_collector_ini(void **state)
{
	(void)state;
	char *example = harness_read_file(TG_SOURCE_DIR "/deploy/examples/collector.ini");
	assert_non_null(example);
	const char *shown[] = {"\n[watch]\n", "\n[lb]\ndriver = none\n", "\n[alert.", NULL};
	for (size_t i = 0; shown[i] != NULL; i++)
		if (strstr(example, shown[i]) == NULL)
			fail_msg("the example lacks '%s'", shown[i]);
	char path[512];
	static const char *const dirs[] = {"example-agents", "example-agents/blue",
	                                   "example-agents/blue/worker", NULL};
	for (size_t i = 0; dirs[i] != NULL; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, dirs[i]);
		mkdir(path, 0755);
	}
	write_keys("example-collector");
	write_keys("example-agents/blue/worker/trino-worker-1");
	char keys[512], agents[512], state_dir[512];
	snprintf(keys, sizeof(keys), "%s/example-collector.key", dir);
	snprintf(agents, sizeof(agents), "%s/example-agents", dir);
	snprintf(state_dir, sizeof(state_dir), "%s/example-state", dir);
	char *a = replace_all(example, "/etc/trino-guard/keys/collector.key", keys);
	char *b = replace_all(a, "/etc/trino-guard/agents", agents);
	char *local = replace_all(b, "/var/lib/trino-guard", state_dir);
	free(a);
	free(b);
	char ini[512];
	snprintf(ini, sizeof(ini), "%s/example.ini", dir);
	const char *drivers[] = {"none", "haproxy", "trino-gateway", "http", "exec"};
	for (size_t d = 0; d < sizeof(drivers) / sizeof(drivers[0]); d++) {
		char *text = d == 0 ? strdup(local) : with_driver(local, drivers[d]);
		assert_int_equal(harness_write_file(ini, text), 0);
		const char *programs[2] = {TG_COLLECTOR_BIN, TG_CTL_BIN};
		for (size_t p = 0; p < 2; p++) {
			char *out;
			int rc = run_check(programs[p], ini, true, &out);
			/* none: everything there; a driver may name a file this machine lacks */
			if ((d == 0 && rc != 0) || rc == 2 || rc < 0)
				fail_msg("the example with driver = %s, %s: exit %d, "
				         "output:\n%s\n%s",
				         drivers[d], programs[p], rc, out, text);
			free(out);
		}
		free(text);
	}
	free(local);
	free(example);
}

static int setup(void **state)
{
	(void)state;
	dir = harness_tmpdir("tg-check-config");
	return dir != NULL ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	harness_stop_all();
	harness_rmrf(dir);
	free(dir);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_agent_checks),
	        cmocka_unit_test(test_collector_checks),
	        cmocka_unit_test(test_the_example_collector_ini),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
