/*
 * The fleet-cost benchmark's readings (see fleet_probe.h): /proc, /metrics,
 * callgrind's dumps and the windows it counts.
 */
#include "fleet_probe.h"

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

/* windows under callgrind after the first: the one with the fewest handshakes per message is kept */
#define CALLGRIND_WINDOWS 4

/* utime + stime from /proc/PID/stat, after the command name (which may hold spaces). */
static int read_cpu_ticks(pid_t pid, long long *ticks)
{
	char path[64], text[4096];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return -1;
	size_t n = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[n] = '\0';
	char *p = strrchr(text, ')');
	unsigned long utime = 0, stime = 0;
	/* state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime */
	if (p == NULL || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu",
	                        &utime, &stime) != 2)
		return -1;
	*ticks = (long long)(utime + stime);
	return 0;
}

/* The value of a "NAME: N kB" line of a /proc file; -1 when absent. */
static long proc_kib(pid_t pid, const char *file, const char *name)
{
	char path[64], line[256];
	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, file);
	size_t name_len = strlen(name);
	FILE *f = fopen(path, "r");
	long kib = -1;
	while (f != NULL && fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, name, name_len) == 0 && line[name_len] == ':')
			kib = strtol(line + name_len + 1, NULL, 10);
	if (f != NULL)
		fclose(f);
	return kib;
}

int process_usage_read(pid_t pid, struct process_usage *out)
{
	if (read_cpu_ticks(pid, &out->cpu_ticks) != 0)
		return -1;
	out->rss_kib = proc_kib(pid, "status", "VmRSS");
	out->peak_rss_kib = proc_kib(pid, "status", "VmHWM");
	long clean = proc_kib(pid, "smaps_rollup", "Private_Clean");
	long dirty = proc_kib(pid, "smaps_rollup", "Private_Dirty");
	out->uss_kib = clean >= 0 && dirty >= 0 ? clean + dirty : -1;
	return out->rss_kib >= 0 ? 0 : -1;
}

double process_cpu_percent(const struct process_usage *from, const struct process_usage *to,
                           double elapsed_s)
{
	double ticks_per_s = (double)sysconf(_SC_CLK_TCK);
	return 100.0 * (double)(to->cpu_ticks - from->cpu_ticks) / ticks_per_s / elapsed_s;
}

double metric_value(const char *text, const char *sample)
{
	char line[256];
	snprintf(line, sizeof(line), "\n%s ", sample);
	const char *at = strstr(text, line);
	return at != NULL ? strtod(at + strlen(line), NULL) : -1;
}

static double bucket_between(const char *before, const char *after, const char *bound)
{
	char sample[128];
	snprintf(sample, sizeof(sample), "trino_guard_tick_duration_seconds_bucket{le=\"%s\"}",
	         bound);
	return metric_value(after, sample) - metric_value(before, sample);
}

double tick_quantile_between(const char *before, const char *after, double q)
{
	static const char *const bounds[] = {"0.0001", "0.00025", "0.0005", "0.001",
	                                     "0.0025", "0.005",   "0.01",   "0.025",
	                                     "0.05",   "0.1",     "0.25",   "1"};
	double total = bucket_between(before, after, "+Inf");
	if (!(total > 0))
		return NAN;
	double previous_bound = 0, previous_count = 0;
	for (size_t i = 0; i < sizeof(bounds) / sizeof(bounds[0]); i++) {
		double count = bucket_between(before, after, bounds[i]);
		double bound = atof(bounds[i]);
		if (count >= q * total) {
			double in_bucket = count - previous_count;
			double fraction =
			        in_bucket > 0 ? (q * total - previous_count) / in_bucket : 0;
			return previous_bound + fraction * (bound - previous_bound);
		}
		previous_bound = bound;
		previous_count = count;
	}
	return INFINITY; /* above the last finite bucket */
}

char *fleet_fetch(const char *url, bool quiet)
{
	struct harness_response response;
	if (harness_http("GET", url, NULL, NULL, 30000, &response) != 0 || response.status != 200) {
		if (!quiet)
			fprintf(stderr, "fleet_cost: GET %s: %ld %s\n", url, response.status,
			        response.error);
		harness_response_free(&response);
		return NULL;
	}
	return response.body;
}

/* The newest PREFIX.N in the current directory, in PATH; -1 when none. */
static int newest_dump(const char *prefix, char *path, size_t path_size)
{
	DIR *d = opendir(".");
	struct dirent *e;
	size_t prefix_len = strlen(prefix);
	long newest = 0;
	while (d != NULL && (e = readdir(d)) != NULL) {
		if (strncmp(e->d_name, prefix, prefix_len) == 0 && e->d_name[prefix_len] == '.') {
			long part = atol(e->d_name + prefix_len + 1);
			if (part > newest)
				newest = part;
		}
	}
	if (d != NULL)
		closedir(d);
	snprintf(path, path_size, "%s.%ld", prefix, newest);
	return newest > 0 ? 0 : -1;
}

/* Which of NAMES the function NAME is (a clone NAME.suffix included); -1 when none. */
static int name_index(const char *name, const char *const names[], int count)
{
	for (int i = 0; i < count; i++) {
		size_t len = strlen(names[i]);
		if (strncmp(name, names[i], len) == 0 && (name[len] == '\0' || name[len] == '.'))
			return i;
	}
	return -1;
}

/*
 * A "cfn=(ID) name" or "cfn=(ID)" line (callgrind's name compression: the
 * name comes with an id's first use only): which of NAMES it calls, or -1.
 * IDS remembers which ids are which of NAMES.
 */
static int called_index(const char *line, const char *const names[], int count, int *ids,
                        int id_slots)
{
	char *end;
	long id = strtol(line + 1, &end, 10);
	if (*end != ')' || id < 0 || id >= id_slots)
		return -1;
	if (end[1] == ' ') {
		char name[256];
		snprintf(name, sizeof(name), "%s", end + 2);
		name[strcspn(name, "\n")] = '\0';
		ids[id] = name_index(name, names, count);
	}
	return ids[id];
}

int callgrind_dump_read(const char *prefix, const char *const names[], int count,
                        struct callgrind_dump *out)
{
	char path[512];
	*out = (struct callgrind_dump){.total_ir = -1};
	if (count > CALLGRIND_NAMES || newest_dump(prefix, path, sizeof(path)) != 0)
		return -1;
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return -1;
	enum { ID_SLOTS = 1 << 20 };
	int *ids = malloc(ID_SLOTS * sizeof(int));
	char line[4096];
	int pending = -1;   /* the last cfn= line called this one of NAMES */
	bool costs = false; /* the line after its calls= line holds the call's cost */
	for (int i = 0; ids != NULL && i < ID_SLOTS; i++)
		ids[i] = -1;
	while (ids != NULL && fgets(line, sizeof(line), f) != NULL) {
		if (costs) {
			char *after_position = strchr(line, ' ');
			if (pending >= 0 && after_position != NULL)
				out->inclusive[pending] += strtod(after_position, NULL);
			costs = false;
			pending = -1;
		} else if (strncmp(line, "cfn=(", 5) == 0) {
			pending = called_index(line + 4, names, count, ids, ID_SLOTS);
		} else if (strncmp(line, "fn=(", 4) == 0) {
			called_index(line + 3, names, count, ids, ID_SLOTS);
		} else if (strncmp(line, "calls=", 6) == 0) {
			if (pending >= 0)
				out->calls[pending] += strtod(line + 6, NULL);
			costs = true;
		} else if (strncmp(line, "summary:", 8) == 0) {
			out->total_ir = strtod(line + 8, NULL);
		}
	}
	fclose(f);
	free(ids);
	return out->total_ir >= 0 ? 0 : -1;
}

/* Runs callgrind_control ACTION (-z: zero the counts, -d: dump them) on PID; -1 on failure. */
int callgrind_control(const char *action, pid_t pid)
{
	char command[128];
	snprintf(command, sizeof(command), "callgrind_control %s %d >/dev/null 2>&1", action,
	         (int)pid);
	return system(command) == 0 ? 0 : -1;
}

/*
 * What a window under callgrind counts, by name: the messages (calls of the
 * receiver's per-message function), the CURVE handshakes (one
 * crypto_box_beforenm each on the server) and the ticks, and libsodium's
 * other handshake-only calls from libzmq (HELLO, WELCOME, INITIATE, READY and
 * the cookie), whose cost is taken out with the key agreement's: under
 * callgrind the receivers run so slowly that some agents time out their
 * handshake and reconnect all along, which a receiver at full speed does not
 * see; with them the receiver's answers to ZAP (ZMQ_ZAP's allow-list lookups).
 */
enum callgrind_name {
	CG_MESSAGE,
	CG_HANDSHAKE,
	CG_TICK,
	CG_KEYPAIR,
	CG_BOX_OPEN,
	CG_BOX,
	CG_SECRETBOX,
	CG_SECRETBOX_OPEN,
	CG_ZAP,
	CG_NAME_COUNT
};

/*
 * Windows of SECONDS under callgrind on PID (counts zeroed, waited, dumped to
 * PREFIX.N): the first holds the start and is dropped; of the next
 * CALLGRIND_WINDOWS, the one with the fewest handshakes per message is kept
 * (the first with under 1 % ends the search). MESSAGE and TICK name the
 * receiver's per-message and per-tick functions. RESULT gets the instructions
 * per message with the handshakes' and the ticks' taken out, the ticks' per
 * tick, and the messages and handshakes a second. -1 when no window holds a
 * message.
 */
int callgrind_window(pid_t pid, const char *prefix, const char *message, const char *tick,
                     const char *zap, int seconds, struct callgrind_window_result *result)
{
	const char *const names[CG_NAME_COUNT] = {
	        [CG_MESSAGE] = message,
	        [CG_HANDSHAKE] = "crypto_box_beforenm",
	        [CG_TICK] = tick,
	        [CG_KEYPAIR] = "crypto_box_keypair",
	        [CG_BOX_OPEN] = "crypto_box_open",
	        [CG_BOX] = "crypto_box",
	        [CG_SECRETBOX] = "crypto_secretbox",
	        [CG_SECRETBOX_OPEN] = "crypto_secretbox_open",
	        [CG_ZAP] = zap,
	};
	long long deadline = harness_now_ms() + 900000;
	bool found = false;
	for (int window = 0; window <= CALLGRIND_WINDOWS && harness_now_ms() < deadline; window++) {
		struct callgrind_dump dump;
		if (callgrind_control("-z", pid) != 0)
			return -1;
		long long t0 = harness_now_ms();
		usleep((useconds_t)seconds * 1000000);
		if (callgrind_control("-d", pid) != 0 ||
		    callgrind_dump_read(prefix, names, CG_NAME_COUNT, &dump) != 0)
			return -1;
		double elapsed_s = (double)(harness_now_ms() - t0) / 1000.0;
		double messages = dump.calls[CG_MESSAGE], handshakes = dump.calls[CG_HANDSHAKE];
		if (window == 0 || messages == 0 ||
		    (found &&
		     handshakes / messages >= result->handshakes_per_s / result->messages_per_s))
			continue;
		double taken_out = 0;
		for (int i = CG_HANDSHAKE; i < CG_NAME_COUNT; i++)
			taken_out += dump.inclusive[i];
		result->ir_per_message = (dump.total_ir - taken_out) / messages;
		result->tick_ir =
		        dump.calls[CG_TICK] > 0 ? dump.inclusive[CG_TICK] / dump.calls[CG_TICK] : 0;
		result->messages_per_s = messages / elapsed_s;
		result->handshakes_per_s = handshakes / elapsed_s;
		found = true;
		if (handshakes <= 0.01 * messages)
			break;
	}
	return found ? 0 : -1;
}
