/*
 * What every trino-guardctl command reads: the options of the command line
 * and the exit codes. The command table that ties names to functions is in
 * ctl_main.c.
 */
#ifndef TG_CTL_H
#define TG_CTL_H

#include <stdbool.h>
#include <stdint.h>

#define CTL_EXIT_OK       0
#define CTL_EXIT_FINDINGS 1 /* status: findings are open */
#define CTL_EXIT_ERROR    2

/* The command line, parsed once by ctl_main.c; read-only for the commands. */
struct ctl_options {
	const char *url;       /* the collector's API, no trailing slash needed */
	bool json;             /* print the API's JSON instead of a table */
	bool color;            /* stdout is a terminal */
	long long after_id;    /* events: the id to start after */
	char since_time[32];   /* events: from this UTC time (the journal's form), "" for all */
	bool follow;           /* events: keep printing new ones until interrupted */
	bool watch;            /* status: redraw until interrupted */
	long long interval_ms; /* --follow and --watch: how often */
	const char *to;        /* cutover: the target cluster */
	const char *reason;
	bool force;
	bool offline;           /* check-config: do not probe the load balancer */
	const char *token_file; /* --token-file: read instead of the environment's token */
	char *token;            /* the bearer token for write commands, or NULL; owned by main() */
};

#endif
