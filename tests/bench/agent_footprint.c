/*
 * Benchmark: the agent's footprint. Runs trino-guard-agent at 1 Hz against a
 * trino-sim coordinator with 20 catalogs, publishing over CURVE to a stand-in
 * collector, and in the same run Prometheus' node_exporter (Debian
 * prometheus-node-exporter) scraped once a second. Prints peak RSS, PSS, USS
 * and CPU (% of one core) of both, side by side, and what the agent asks of
 * the coordinator per interval: connections, requests and bytes each way,
 * counted by a relay between the two (http_tap.c).
 *
 *   agent_footprint [--seconds N]   (default 60; after a 5 s warm-up)
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "curve_keys.h"
#include "harness.h"
#include "http_tap.h"
#include "report_receiver.h"

#define NODE_EXPORTER "/usr/bin/prometheus-node-exporter"

struct sample {
	long long cpu_ticks;
	long peak_rss_kib; /* VmHWM: resident, shared library pages included */
	long pss_kib;      /* proportional: shared pages divided among their users */
	long private_kib;  /* USS: pages only this process has */
};

/* The largest PSS and USS seen over the window (the kernel keeps no peak of them). */
static void update_peaks(pid_t pid, struct sample *peak)
{
	char path[64], line[256];
	snprintf(path, sizeof(path), "/proc/%d/smaps_rollup", (int)pid);
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return;
	long pss = 0, clean = 0, dirty = 0, value;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (sscanf(line, "Pss: %ld kB", &value) == 1)
			pss = value;
		else if (sscanf(line, "Private_Clean: %ld kB", &value) == 1)
			clean = value;
		else if (sscanf(line, "Private_Dirty: %ld kB", &value) == 1)
			dirty = value;
	}
	fclose(f);
	if (pss > peak->pss_kib)
		peak->pss_kib = pss;
	if (clean + dirty > peak->private_kib)
		peak->private_kib = clean + dirty;
}

static int read_sample(pid_t pid, struct sample *out)
{
	char path[64], text[4096];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return -1;
	size_t n = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[n] = '\0';
	/* fields after the command name, which is in parentheses and may hold spaces */
	char *p = strrchr(text, ')');
	if (p == NULL)
		return -1;
	unsigned long utime = 0, stime = 0;
	/* state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime */
	if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &utime, &stime) !=
	    2)
		return -1;
	out->cpu_ticks = (long long)(utime + stime);
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "r");
	if (f == NULL)
		return -1;
	out->peak_rss_kib = -1;
	char line[256];
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "VmHWM: %ld kB", &out->peak_rss_kib) == 1)
			break;
	fclose(f);
	return out->peak_rss_kib >= 0 ? 0 : -1;
}

static bool url_answers(void *arg)
{
	char *body = harness_get_ok(arg);
	free(body);
	return body != NULL;
}

#define WARMUP_SECONDS 5

/* The three consecutive ports of one run: trino-sim, its control port, node_exporter. */
struct bench_ports {
	int first;
	char port[16];
	char control[16];
	char exporter_listen[64];
	char exporter_url[128];
	char sim_url[128];
};

/* What the measured window saw of both processes. */
struct measurement {
	struct sample agent_start, exporter_start, agent_end, exporter_end;
	struct sample agent_peak, exporter_peak;
	double elapsed_s;
	int reports;
	struct http_tap_totals tap_start, tap_end;
};

static void bench_ports_init(struct bench_ports *ports, int first)
{
	ports->first = first;
	snprintf(ports->port, sizeof(ports->port), "%d", first);
	snprintf(ports->control, sizeof(ports->control), "%d", first + 1);
	snprintf(ports->exporter_listen, sizeof(ports->exporter_listen),
	         "--web.listen-address=127.0.0.1:%d", first + 2);
	snprintf(ports->exporter_url, sizeof(ports->exporter_url), "http://127.0.0.1:%d/metrics",
	         first + 2);
	snprintf(ports->sim_url, sizeof(ports->sim_url), "http://127.0.0.1:%d/control", first + 1);
}

/*
 * The CURVE keys of the stand-in collector and the agent, in the current
 * directory, and a receiver that accepts the agent's. NULL after printing why.
 */
static struct report_receiver *start_receiver(void)
{
	char err[256], server_secret[41], agent_public[41];
	if (curve_keypair_write("server", err, sizeof(err)) != 0 ||
	    curve_keypair_write("agent", err, sizeof(err)) != 0 ||
	    curve_key_read_secret("server.key", server_secret, err, sizeof(err)) != 0 ||
	    curve_key_read_public("agent.pub", agent_public, err, sizeof(err)) != 0) {
		fprintf(stderr, "agent_footprint: %s\n", err);
		return NULL;
	}
	struct report_receiver *receiver =
	        report_receiver_new("tcp://127.0.0.1:*", server_secret, err, sizeof(err));
	if (receiver == NULL) {
		fprintf(stderr, "agent_footprint: %s\n", err);
		return NULL;
	}
	report_receiver_allow(receiver, agent_public, "bench-coord");
	return receiver;
}

/* A coordinator with 20 catalogs and some traffic; -1 when it does not answer in time. */
static int start_sim(const struct bench_ports *ports)
{
	const char *sim_argv[] = {
	        TG_SIM_BIN,     "--cluster",  "bench",       "--version",  "447",
	        "--workers",    "0",          "--port-base", ports->port,  "--control-port",
	        ports->control, "--etc-root", "etc",         "--catalogs", "20",
	        "--qps",        "50",         NULL};
	harness_spawn(sim_argv, "sim.log");
	if (!harness_wait_until(url_answers, (void *)ports->sim_url, 10000)) {
		fprintf(stderr, "agent_footprint: trino-sim did not start\n");
		return -1;
	}
	return 0;
}

/* The agent at 1 Hz against the sim through TRINO_PORT (the relay), publishing to the receiver. */
static pid_t start_agent(int trino_port, struct report_receiver *receiver)
{
	char ini[2048];
	snprintf(ini, sizeof(ini),
	         "[agent]\ncluster = bench\ninterval = 1s\n"
	         "[trino]\nurl = http://127.0.0.1:%d\netc_dir = etc/bench-coord\n"
	         "[collector]\nendpoints = %s\nserver_public_key_file = server.pub\n"
	         "public_key_file = agent.pub\nsecret_key_file = agent.key\n",
	         trino_port, report_receiver_endpoint(receiver));
	harness_write_file("agent.ini", ini);
	const char *agent_argv[] = {TG_AGENT_BIN, "-c", "agent.ini", NULL};
	return harness_spawn(agent_argv, "agent.log");
}

/* node_exporter on its port, in *exporter; -1 when it does not answer in time. */
static int start_exporter(const struct bench_ports *ports, pid_t *exporter)
{
	const char *exporter_argv[] = {NODE_EXPORTER, ports->exporter_listen, NULL};
	*exporter = harness_spawn(exporter_argv, "node_exporter.log");
	if (!harness_wait_until(url_answers, (void *)ports->exporter_url, 10000)) {
		fprintf(stderr, "agent_footprint: node_exporter did not start\n");
		return -1;
	}
	return 0;
}

/* One second of the run: scrape node_exporter, note peaks, take the agent's reports. */
static void run_one_second(pid_t agent, pid_t exporter, struct report_receiver *receiver,
                           const char *exporter_url, struct measurement *m)
{
	long long tick_end = harness_now_ms() + 1000;
	char *scrape = harness_get_ok(exporter_url);
	free(scrape);
	update_peaks(agent, &m->agent_peak);
	update_peaks(exporter, &m->exporter_peak);
	while (harness_now_ms() < tick_end) {
		NodeReport *report =
		        report_receiver_next(receiver, (int)(tick_end - harness_now_ms()));
		if (report != NULL) {
			m->reports++;
			report_free(report);
		}
	}
}

/* Warm-up, then the measured window of SECONDS; -1 after printing why. */
static int measure(pid_t agent, pid_t exporter, struct report_receiver *receiver,
                   struct http_tap *tap, const char *exporter_url, int seconds,
                   struct measurement *m)
{
	*m = (struct measurement){0};
	long long window_start = 0;
	for (int second = 0; second < WARMUP_SECONDS + seconds; second++) {
		if (second == WARMUP_SECONDS) {
			if (read_sample(agent, &m->agent_start) != 0 ||
			    read_sample(exporter, &m->exporter_start) != 0) {
				fprintf(stderr, "agent_footprint: cannot read /proc\n");
				return -1;
			}
			window_start = harness_now_ms();
			http_tap_totals(tap, &m->tap_start);
			m->reports = 0;
		}
		run_one_second(agent, exporter, receiver, exporter_url, m);
	}
	m->elapsed_s = (double)(harness_now_ms() - window_start) / 1000.0;
	http_tap_totals(tap, &m->tap_end);
	if (read_sample(agent, &m->agent_end) != 0 ||
	    read_sample(exporter, &m->exporter_end) != 0) {
		fprintf(stderr, "agent_footprint: a process died during the run\n");
		return -1;
	}
	return 0;
}

static void print_process(const char *name, const struct sample *end, const struct sample *peak,
                          double cpu)
{
	printf("%-26s %13.2f %13.2f %13.2f %16.3f\n", name, end->peak_rss_kib / 1024.0,
	       peak->pss_kib / 1024.0, peak->private_kib / 1024.0, cpu);
}

static void print_results(const struct measurement *m, int seconds)
{
	double ticks_per_s = (double)sysconf(_SC_CLK_TCK);
	double agent_cpu = 100.0 * (double)(m->agent_end.cpu_ticks - m->agent_start.cpu_ticks) /
	                   ticks_per_s / m->elapsed_s;
	double exporter_cpu = 100.0 *
	                      (double)(m->exporter_end.cpu_ticks - m->exporter_start.cpu_ticks) /
	                      ticks_per_s / m->elapsed_s;

	printf("agent_footprint: %.0f s window after %d s warm-up; agent at 1 Hz, CURVE, "
	       "20 catalogs; node_exporter scraped at 1 Hz\n",
	       m->elapsed_s, WARMUP_SECONDS);
	printf("%-26s %13s %13s %13s %16s\n", "process", "peak RSS MiB", "peak PSS MiB",
	       "peak USS MiB", "CPU % of a core");
	print_process("trino-guard-agent", &m->agent_end, &m->agent_peak, agent_cpu);
	print_process("prometheus-node-exporter", &m->exporter_end, &m->exporter_peak,
	              exporter_cpu);
	printf("targets for the agent: RSS <= 4 MiB, CPU <= 0.2 %%\n");
	printf("RSS counts shared library pages (libc, libstdc++, libzmq, libcurl and their\n"
	       "dependencies); USS is what the process alone adds to the node.\n");
	printf("reports received in the window: %d (expected about %d)\n", m->reports, seconds);
	double intervals = m->elapsed_s; /* the agent polls once a second */
	printf("against the coordinator, per 1 s interval: %.2f requests, %.2f new connections, "
	       "%.0f bytes sent, %.0f bytes received\n",
	       (double)(m->tap_end.requests - m->tap_start.requests) / intervals,
	       (double)(m->tap_end.connections - m->tap_start.connections) / intervals,
	       (double)(m->tap_end.bytes_up - m->tap_start.bytes_up) / intervals,
	       (double)(m->tap_end.bytes_down - m->tap_start.bytes_down) / intervals);
	printf("CPU resolution: %.0f ms of CPU time = %.3f %%\n", 1000.0 / ticks_per_s,
	       100.0 / ticks_per_s / m->elapsed_s);
}

int main(int argc, char **argv)
{
	int seconds = 60;
	if (argc == 3 && strcmp(argv[1], "--seconds") == 0)
		seconds = atoi(argv[2]);
	if (seconds < 1) {
		fprintf(stderr, "usage: agent_footprint [--seconds N]\n");
		return 2;
	}
	if (access(NODE_EXPORTER, X_OK) != 0) {
		fprintf(stderr, "agent_footprint: %s is missing (deploy/install-deps.sh)\n",
		        NODE_EXPORTER);
		return 1;
	}
	char *dir = harness_tmpdir("tg-bench-agent");
	if (dir == NULL || chdir(dir) != 0)
		return 1;
	struct report_receiver *receiver = start_receiver();
	if (receiver == NULL)
		return 1;
	struct bench_ports ports;
	bench_ports_init(&ports, harness_port_range(3));
	if (start_sim(&ports) != 0)
		return 1;
	char err[256];
	struct http_tap *tap = http_tap_start(ports.first, err, sizeof(err));
	if (tap == NULL) {
		fprintf(stderr, "agent_footprint: %s\n", err);
		return 1;
	}
	pid_t agent = start_agent(http_tap_port(tap), receiver);
	pid_t exporter;
	if (start_exporter(&ports, &exporter) != 0)
		return 1;
	struct measurement m;
	if (measure(agent, exporter, receiver, tap, ports.exporter_url, seconds, &m) != 0)
		return 1;
	print_results(&m, seconds);

	harness_stop_all();
	http_tap_stop(tap);
	report_receiver_free(receiver);
	if (chdir("/") == 0)
		harness_rmrf(dir);
	free(dir);
	/* a run that saw no report, or no request through the relay, measured nothing */
	return m.reports > 0 && m.tap_end.requests > m.tap_start.requests ? 0 : 1;
}
