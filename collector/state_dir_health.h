/*
 * Whether the collector's saves into state_dir work: cutover.json, the
 * journal, the alert spools and the firing set. Each saver says how its last
 * save went; while one fails, the tick opens the critical
 * state-dir-unwritable finding, closed once every save works again.
 */
#ifndef TG_STATE_DIR_HEALTH_H
#define TG_STATE_DIR_HEALTH_H

#include <stdbool.h>
#include <stddef.h>

struct alerts;
struct journal;

enum state_dir_save {
	STATE_DIR_CUTOVER,     /* cutover.json, saved by the cutover runner */
	STATE_DIR_JOURNAL,     /* journal.jsonl */
	STATE_DIR_ALERT_SPOOL, /* alerts-NAME.spool, one per sink */
	STATE_DIR_FIRING,      /* alerts-firing.json */
	STATE_DIR_SAVE_COUNT
};

struct state_dir_health {
	bool failing[STATE_DIR_SAVE_COUNT];
	char why[STATE_DIR_SAVE_COUNT][256]; /* the last failure, while failing */
};

/*
 * SAVE's last save went well (FAILURE NULL) or failed with FAILURE. True when
 * that changes whether it fails, so the caller logs the start and the end of
 * a failure, not every retry.
 */
bool state_dir_health_saved(struct state_dir_health *health, enum state_dir_save save,
                            const char *failure);

/* Whether SAVE's last save failed (the saver retries until it works). */
bool state_dir_health_failing(const struct state_dir_health *health, enum state_dir_save save);

/* Reads how the journal's and the alert feed's last saves went (ALERTS may be NULL). */
void state_dir_health_poll(struct state_dir_health *health, const struct journal *journal,
                           const struct alerts *alerts);

/* While any save fails: true, and the finding's summary in OUT, naming STATE_DIR. */
bool state_dir_health_summary(const struct state_dir_health *health, const char *state_dir,
                              char *out, size_t out_len);

#endif
