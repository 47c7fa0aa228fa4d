/*
 * The state-dir-unwritable bookkeeping: one slot per kind of save, set by
 * whoever saves (the cutover runner) or read from the module that keeps the
 * unsaved data in memory meanwhile (journal, alert feed).
 */
#include "state_dir_health.h"

#include <stdio.h>
#include <string.h>

#include "alerts.h"
#include "journal.h"

static const char *const save_names[] = {
        [STATE_DIR_CUTOVER] = "cutover.json",
        [STATE_DIR_JOURNAL] = "the journal",
        [STATE_DIR_ALERT_SPOOL] = "an alert spool",
        [STATE_DIR_FIRING] = "alerts-firing.json",
};
_Static_assert(sizeof(save_names) / sizeof(save_names[0]) == STATE_DIR_SAVE_COUNT,
               "one name per enum state_dir_save");

bool state_dir_health_saved(struct state_dir_health *health, enum state_dir_save save,
                            const char *failure)
{
	bool was = health->failing[save];
	health->failing[save] = failure != NULL;
	snprintf(health->why[save], sizeof(health->why[save]), "%s",
	         failure != NULL ? failure : "");
	return was != health->failing[save];
}

bool state_dir_health_failing(const struct state_dir_health *health, enum state_dir_save save)
{
	return health->failing[save];
}

void state_dir_health_poll(struct state_dir_health *health, const struct journal *journal,
                           const struct alerts *alerts)
{
	const char *journal_why = NULL;
	if (journal != NULL)
		state_dir_health_saved(health, STATE_DIR_JOURNAL,
		                       journal_failing(journal, &journal_why) ? journal_why : NULL);
	char why[256];
	state_dir_health_saved(health, STATE_DIR_ALERT_SPOOL,
	                       alerts_spool_failing(alerts, why, sizeof(why)) ? why : NULL);
	state_dir_health_saved(health, STATE_DIR_FIRING,
	                       alerts_firing_save_failing(alerts, why, sizeof(why)) ? why : NULL);
}

bool state_dir_health_summary(const struct state_dir_health *health, const char *state_dir,
                              char *out, size_t out_len)
{
	size_t used = 0;
	for (int save = 0; save < STATE_DIR_SAVE_COUNT; save++) {
		if (!health->failing[save])
			continue;
		int n = snprintf(out + used, out_len - used, "%s%s (%s)", used == 0 ? "" : "; ",
		                 save_names[save], health->why[save]);
		if (n < 0 || (size_t)n >= out_len - used)
			return true; /* cut: the finding's summary is cut on a word anyway */
		used += (size_t)n;
	}
	if (used == 0)
		return false;
	/* what it means, once the files are named */
	char what[1024];
	snprintf(what, sizeof(what),
	         "saves into state_dir %s fail, the running state is kept in memory and "
	         "retried: a restart now would lose it. Free space or fix the mount: %s",
	         state_dir, out);
	snprintf(out, out_len, "%s", what);
	return true;
}
