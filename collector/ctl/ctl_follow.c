/*
 * status --watch and events --follow: a loop of GETs, --interval apart,
 * ended by SIGINT or SIGTERM. A failed GET is said once (on stderr) until
 * the collector answers again, which is said too; events are printed by id,
 * each once, and a journal that starts again (a collector whose state was
 * reset) is followed from its start.
 */
#include "ctl_follow.h"

#include <errno.h>
#include <jansson.h>
#include <signal.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "../../common/clock.h"
#include "ctl_http.h"
#include "ctl_show.h"

static volatile sig_atomic_t interrupted;

/* Woken by SIGINT or SIGTERM: the loop ends after the call under way. */
static void on_signal(int signo)
{
	(void)signo;
	interrupted = 1;
}

/* No SA_RESTART: the signal cuts the sleep short. */
static int catch_signals(void)
{
	struct sigaction action;
	memset(&action, 0, sizeof(action));
	action.sa_handler = on_signal;
	sigemptyset(&action.sa_mask);
	if (sigaction(SIGINT, &action, NULL) != 0 || sigaction(SIGTERM, &action, NULL) != 0) {
		fprintf(stderr, "trino-guardctl: sigaction: %s\n", strerror(errno));
		return -1;
	}
	return 0;
}

/* Sleeps MS, or less when interrupted. */
static void pause_ms(long long ms)
{
	struct timespec left = {.tv_sec = (time_t)(ms / 1000),
	                        .tv_nsec = (long)(ms % 1000) * 1000000};
	while (!interrupted && nanosleep(&left, &left) != 0 && errno == EINTR)
		;
}

/* Whether the collector answers: each change said once, on stderr. */
struct reachability {
	bool lost;
};

static void note_answer(struct reachability *r, const struct ctl_options *opt, bool answered,
                        const char *why)
{
	if (!answered && !r->lost)
		fprintf(stderr, "trino-guardctl: lost the collector: %s; retrying every %llds\n",
		        why, opt->interval_ms / 1000 > 0 ? opt->interval_ms / 1000 : 1);
	else if (answered && r->lost)
		fprintf(stderr, "trino-guardctl: the collector at %s answers again\n", opt->url);
	r->lost = !answered;
}

int ctl_follow_status(const struct ctl_options *opt)
{
	if (catch_signals() != 0)
		return CTL_EXIT_ERROR;
	struct reachability reach = {0};
	while (!interrupted) {
		char why[2048] = "";
		json_t *status = ctl_http_get_why(opt, "/v1/status", why, sizeof(why));
		note_answer(&reach, opt, status != NULL, why);
		if (status != NULL) {
			if (opt->color)
				printf("\033[H\033[2J"); /* a terminal: redraw in place */
			time_t now = (time_t)(clock_unix_ms() / 1000);
			struct tm tm;
			char stamp[32] = "";
			if (gmtime_r(&now, &tm) == NULL ||
			    strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
				stamp[0] = '\0'; /* strftime's 0 leaves the buffer indeterminate */
			printf("trino-guardctl status --watch: %s, every %lldms, Ctrl-C stops\n\n",
			       stamp, opt->interval_ms);
			(void)ctl_show_status_print(opt, status);
		}
		(void)fflush(stdout); /* a terminal gone: Ctrl-C or SIGPIPE ends us */
		pause_ms(opt->interval_ms);
	}
	return CTL_EXIT_OK;
}

/* One look at the journal after *AFTER; false when the collector did not answer. */
static bool follow_once(const struct ctl_options *opt, long long *after, bool *more,
                        struct reachability *reach)
{
	char path[160], why[2048] = "";
	ctl_show_events_path(opt, *after, path, sizeof(path));
	json_t *answer = ctl_http_get_why(opt, path, why, sizeof(why));
	note_answer(reach, opt, answer != NULL, why);
	*more = false;
	if (answer == NULL)
		return false;
	long long last_id = (long long)json_integer_value(json_object_get(answer, "last_id"));
	const json_t *events = json_object_get(answer, "events");
	if (last_id < *after) {
		fprintf(stderr,
		        "trino-guardctl: the collector's journal starts again (its last id is "
		        "%lld, "
		        "below %lld): following it from its start\n",
		        last_id, *after);
		*after = 0;
		*more = true;
	} else if (opt->json) {
		size_t i;
		json_t *event;
		json_array_foreach(events, i, event)
		{
			char *line = json_dumps(event, JSON_COMPACT);
			if (line != NULL)
				printf("%s\n", line);
			free(line);
			*after = (long long)json_integer_value(json_object_get(event, "id"));
		}
	} else {
		*after = ctl_show_event_lines(opt, events, *after);
	}
	*more = *more || (*after < last_id && json_array_size(events) > 0);
	json_decref(answer);
	(void)fflush(stdout); /* a terminal gone: Ctrl-C or SIGPIPE ends us */
	return true;
}

int ctl_follow_events(const struct ctl_options *opt)
{
	if (catch_signals() != 0)
		return CTL_EXIT_ERROR;
	struct reachability reach = {0};
	long long after = opt->after_id;
	while (!interrupted) {
		bool more = false;
		(void)follow_once(opt, &after, &more, &reach);
		if (!more)
			pause_ms(opt->interval_ms);
	}
	return CTL_EXIT_OK;
}
