/*
 * The alert feed (docs/DESIGN.md §8): every [alert.NAME] sink gets the alerts at or
 * above its min_severity, through its own durable spool, delivered one at a
 * time in order (so a resolve never overtakes its trigger), retried with
 * exponential backoff and jitter on 429, 5xx and network errors (honouring
 * Retry-After), dropped and journaled on any other 4xx. Alertmanager sinks
 * re-send firing alerts every `resend`. Secrets are read from files and
 * never logged.
 */
#ifndef TG_ALERTS_H
#define TG_ALERTS_H

#include <stddef.h>
#include <stdint.h>

#include "alert.h"
#include "clock.h"
#include "collector_config.h"

struct event_base;
struct journal;
struct alerts;

struct alert_sink_stats {
	const char *name;
	const char *type;
	uint64_t sent, retried, failed, dropped;
	size_t queued;
	int64_t oldest_queued_ms; /* age of the oldest queued alert; 0 when none */
};

/*
 * Opens every sink of CONFIG (spools in state_dir/alerts-NAME.spool, which
 * are replayed: what a previous run did not deliver goes out now). NULL with
 * ERR (naming the sink) on failure, e.g. an unreadable secret file.
 */
struct alerts *alerts_new(struct event_base *base, const struct collector_config *config,
                          struct journal *journal, struct clock_now now, char *err, size_t err_len);
void alerts_free(struct alerts *alerts);

/*
 * Queues ALERT to every sink it is meant for. A finding whose rule has a
 * `[alerts] for.RULE` delay fires only if still open when it has passed
 * (checked at each alerts_flush); one that closes sooner is never sent.
 */
void alerts_publish(struct alerts *alerts, const struct alert *alert, struct clock_now now);

/*
 * Makes what was published durable (one fdatasync per sink, one write of
 * the firing set), then starts delivery. Call after each batch of
 * alerts_publish(): after a tick, after a cutover decision.
 */
void alerts_flush(struct alerts *alerts, struct clock_now now);

/*
 * Call after the findings of the first tick after a start were published:
 * every finding alert that was firing before the restart and has not fired
 * again is resolved now, so a problem that cleared while the collector was
 * down does not stay open in the pager. Later calls do nothing. Flushes.
 */
void alerts_reconcile(struct alerts *alerts, struct clock_now now);

/*
 * Whether some sink's spool is not durable (alerts held in memory, written
 * when the disk takes them), and whether the last save of the firing set
 * failed (retried at every flush); WHY says which and why. ALERTS may be
 * NULL (false).
 */
bool alerts_spool_failing(const struct alerts *alerts, char *why, size_t why_len);
bool alerts_firing_save_failing(const struct alerts *alerts, char *why, size_t why_len);

/*
 * SIGHUP: every sink's header_file.NAME read again, so a rotated token is
 * sent from the next request on (one already sent keeps the old one). All
 * or nothing: 0, or -1 with ERR ("[alert.NAME] header_file.X: why") and
 * every sink's headers as they were. ALERTS may be NULL.
 */
int alerts_reload_headers(struct alerts *alerts, char *err, size_t err_len);

/*
 * Whether the firing set's file found at start did not parse (it was moved
 * aside, and the collector started with none firing); WHY says where it
 * failed and where it went. For this run of the collector. ALERTS may be NULL.
 */
bool alerts_firing_corrupt(const struct alerts *alerts, char *why, size_t why_len);

size_t alerts_sink_count(const struct alerts *alerts);
void alerts_sink_stats(const struct alerts *alerts, size_t index, int64_t now_unix_ms,
                       struct alert_sink_stats *out);

#endif
