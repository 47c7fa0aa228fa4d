/*
 * What the fleet-cost benchmark reads about a process and a collector: CPU
 * time and memory from /proc, samples and the tick histogram from /metrics,
 * and instructions per message from windows counted by callgrind.
 */
#ifndef TG_FLEET_PROBE_H
#define TG_FLEET_PROBE_H

#include <stdbool.h>
#include <sys/types.h>

struct process_usage {
	long long cpu_ticks; /* utime + stime, in clock ticks */
	long rss_kib;        /* VmRSS: resident now, shared library pages included */
	long peak_rss_kib;   /* VmHWM */
	long uss_kib;        /* Private_Clean + Private_Dirty: what the process alone holds */
};

/* PID's usage now; -1 when it is gone. */
int process_usage_read(pid_t pid, struct process_usage *out);

/* Percent of one core between two readings ELAPSED_S apart. */
double process_cpu_percent(const struct process_usage *from, const struct process_usage *to,
                           double elapsed_s);

/* The value of the sample named SAMPLE (name and labels, as printed) in TEXT; -1 when absent. */
double metric_value(const char *text, const char *sample);

/*
 * Quantile Q of the collector's tick durations in seconds between two
 * /metrics texts (the histogram's buckets subtracted), interpolated linearly
 * within a bucket; NAN without ticks in between.
 */
double tick_quantile_between(const char *before, const char *after, double q);

/* GET URL with a generous timeout (the /metrics of 10,000 nodes is megabytes); NULL on failure. */
char *fleet_fetch(const char *url, bool quiet);

#define CALLGRIND_NAMES 9

/* What one callgrind dump says: all its instructions, and calls into some functions. */
struct callgrind_dump {
	double total_ir;
	double calls[CALLGRIND_NAMES];     /* how often each named function was called */
	double inclusive[CALLGRIND_NAMES]; /* the instructions of those calls, callees included */
};

/*
 * Reads the newest dump PREFIX.N written by callgrind (--callgrind-out-file=PREFIX,
 * dumped with callgrind_control -d), counting the calls into the COUNT functions
 * NAMES (a clone such as NAME.isra.0 counts as NAME). -1 when there is none.
 */
int callgrind_dump_read(const char *prefix, const char *const names[], int count,
                        struct callgrind_dump *out);

/* One window under callgrind: see callgrind_window(). */
struct callgrind_window_result {
	double ir_per_message, tick_ir;
	double messages_per_s, handshakes_per_s;
};

/* Runs callgrind_control ACTION (-z: zero the counts, -d: dump them) on PID; -1 on failure. */
int callgrind_control(const char *action, pid_t pid);

/*
 * Windows of SECONDS under callgrind on PID, dumped to PREFIX.N; MESSAGE, TICK
 * and ZAP name the receiver's functions per message, per tick and for ZAP
 * requests. See fleet_probe.c. -1 when no window holds a message.
 */
int callgrind_window(pid_t pid, const char *prefix, const char *message, const char *tick,
                     const char *zap, int seconds, struct callgrind_window_result *result);

#endif
