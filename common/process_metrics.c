/*
 * The process_* families every Prometheus client library exports (CPU, memory,
 * file descriptors, start time), read from /proc/self on Linux (proc(5):
 * utime and stime in clock ticks, vsize in bytes, rss in pages).
 */
#include "process_metrics.h"

#include <dirent.h>
#include <event2/buffer.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

/* utime + stime in seconds, vsize and rss in bytes, from /proc/self/stat. 0 or -1. */
static int read_stat(double *cpu_seconds, double *virtual_bytes, double *resident_bytes)
{
	FILE *f = fopen("/proc/self/stat", "r");
	if (f == NULL)
		return -1;
	char line[1024];
	char *got = fgets(line, sizeof(line), f);
	(void)fclose(f); /* read only: nothing to lose */
	/* the command name (field 2) may hold spaces and parentheses: skip to its last ')' */
	char *p = got != NULL ? strrchr(line, ')') : NULL;
	unsigned long utime, stime, vsize;
	long rss;
	if (p == NULL ||
	    /* NOLINTNEXTLINE(cert-err34-c): proc(5) gives these fields these C types */
	    sscanf(p + 2,
	           "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu %*d %*d %*d %*d %*d "
	           "%*d %*u %lu %ld",
	           &utime, &stime, &vsize, &rss) != 4)
		return -1;
	long ticks = sysconf(_SC_CLK_TCK), page = sysconf(_SC_PAGESIZE);
	if (ticks <= 0 || page <= 0)
		return -1;
	*cpu_seconds = (double)(utime + stime) / (double)ticks;
	*virtual_bytes = (double)vsize;
	*resident_bytes = (double)rss * (double)page;
	return 0;
}

/* Open file descriptors (the entries of /proc/self/fd but the one reading it), or -1. */
static long open_fds(void)
{
	DIR *dir = opendir("/proc/self/fd");
	if (dir == NULL)
		return -1;
	long count = 0;
	struct dirent *entry;
	while ((entry = readdir(dir)) != NULL)
		count += entry->d_name[0] != '.';
	closedir(dir);
	return count - 1;
}

static void gauge(struct evbuffer *out, const char *name, const char *type, const char *help,
                  double value)
{
	evbuffer_add_printf(out, "# HELP %s %s\n# TYPE %s %s\n%s %.17g\n", name, help, name, type,
	                    name, value);
}

void process_metrics_write(int64_t started_unix_ms, struct evbuffer *out)
{
	double cpu, virtual_bytes, resident;
	if (read_stat(&cpu, &virtual_bytes, &resident) == 0) {
		gauge(out, "process_cpu_seconds_total", "counter",
		      "Total user and system CPU time spent in seconds.", cpu);
		gauge(out, "process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.",
		      virtual_bytes);
		gauge(out, "process_resident_memory_bytes", "gauge",
		      "Resident memory size in bytes.", resident);
	}
	long fds = open_fds();
	if (fds >= 0)
		gauge(out, "process_open_fds", "gauge", "Number of open file descriptors.",
		      (double)fds);
	struct rlimit limit;
	if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY)
		gauge(out, "process_max_fds", "gauge", "Maximum number of open file descriptors.",
		      (double)limit.rlim_cur);
	gauge(out, "process_start_time_seconds", "gauge",
	      "Start time of the process since unix epoch in seconds.",
	      (double)started_unix_ms / 1000.0);
}
