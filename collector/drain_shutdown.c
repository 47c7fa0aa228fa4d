/*
 * The drain action (drain_shutdown.h). The collector knows each cluster's
 * nodes by their reports, not the URLs their Trino listens on (agents read
 * Trino on localhost), and agents take no commands: so the action is the
 * operator's command, which knows how to reach the workers (a loop of curl
 * -X PUT .../v1/info/state, kubectl, an Ansible play). It runs through the
 * exec driver's runner (lb_exec.h: /bin/sh, {cluster} replaced, exit 0 =
 * done, a timeout, its own process group), which is what an LB command
 * needs too.
 */
#include "drain_shutdown.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alert_payload.h"
#include "journal.h"
#include "lb_exec.h"
#include "log.h"

enum shutdown_phase { SHUTDOWN_NEVER, SHUTDOWN_RUNNING, SHUTDOWN_DONE, SHUTDOWN_FAILED };

static const char *const phase_names[] = {
        [SHUTDOWN_NEVER] = "never",
        [SHUTDOWN_RUNNING] = "running",
        [SHUTDOWN_DONE] = "done",
        [SHUTDOWN_FAILED] = "failed",
};
_Static_assert(sizeof(phase_names) / sizeof(phase_names[0]) == SHUTDOWN_FAILED + 1,
               "one name per shutdown phase");

struct drain_shutdown {
	struct lb_exec *exec;
	struct journal *journal; /* borrowed */
	enum shutdown_phase phase;
	char cluster[64];
	int64_t started_unix_ms;
	char detail[512]; /* why it failed */
};

struct drain_shutdown *drain_shutdown_new(struct event_base *base, const char *command,
                                          int64_t timeout_ms, struct journal *journal, char *err,
                                          size_t err_len)
{
	struct drain_shutdown *d = calloc(1, sizeof(*d));
	if (d == NULL) {
		snprintf(err, err_len, "out of memory");
		return NULL;
	}
	struct lb_exec_settings settings = {.switch_command = command, .timeout_ms = timeout_ms};
	d->exec = lb_exec_new(base, &settings, err, err_len);
	if (d->exec == NULL) {
		free(d);
		return NULL;
	}
	d->journal = journal;
	return d;
}

void drain_shutdown_free(struct drain_shutdown *d)
{
	if (d == NULL)
		return;
	lb_exec_free(d->exec);
	free(d);
}

/* The command ended (the exec runner's callback, on the loop). */
static void on_done(bool ok, const char *error, void *arg)
{
	struct drain_shutdown *d = arg;
	d->phase = ok ? SHUTDOWN_DONE : SHUTDOWN_FAILED;
	snprintf(d->detail, sizeof(d->detail), "%s", ok || error == NULL ? "" : error);
	if (ok)
		log_info("drain: SHUTTING_DOWN sent to %s's workers", d->cluster);
	else
		log_error("drain: the shutdown command for %s failed: %s", d->cluster, d->detail);
	journal_append(d->journal, clock_unix_ms(),
	               json_pack("{s:s,s:s,s:b,s:s}", "type", "drain-shutdown", "cluster",
	                         d->cluster, "ok", ok, "detail", d->detail));
	journal_sync(d->journal);
}

void drain_shutdown_start(struct drain_shutdown *d, const char *cluster, struct clock_now now)
{
	if (d->phase == SHUTDOWN_RUNNING)
		return;
	d->phase = SHUTDOWN_RUNNING;
	snprintf(d->cluster, sizeof(d->cluster), "%s", cluster);
	d->started_unix_ms = now.unix_ms;
	d->detail[0] = '\0';
	journal_append(d->journal, now.unix_ms,
	               json_pack("{s:s,s:s}", "type", "drain-shutdown-start", "cluster", cluster));
	lb_exec_switch(d->exec, cluster, on_done, d);
}

json_t *drain_shutdown_status(const struct drain_shutdown *d)
{
	if (d == NULL || d->phase == SHUTDOWN_NEVER)
		return NULL;
	char started[40];
	alert_format_time(d->started_unix_ms, started, sizeof(started));
	json_t *out = json_pack("{s:s,s:s,s:s}", "cluster", d->cluster, "state",
	                        phase_names[d->phase], "started_at", started);
	if (d->detail[0] != '\0')
		json_object_set_new(out, "detail", json_string(d->detail));
	return out;
}
