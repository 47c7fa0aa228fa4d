/*
 * A full state_dir under a whole collector (cutover_fixture.h): state_dir is
 * a small tmpfs the test mounts (as root; skipped, saying so, when it cannot)
 * and fills. A cutover then cannot save cutover.json; the critical
 * state-dir-unwritable finding opens, its alert (raised while the disk is
 * full and the pager away) waits in memory, and once space returns it is
 * delivered exactly once, the finding closes and cutover.json catches up
 * with the running state; a save no transition follows (a pause) is retried
 * at each tick until it works.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <errno.h>
#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/util.h>
#include <fcntl.h>
#include <jansson.h>
#include <netinet/in.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cutover_fixture.h"
#include "harness.h"

#define RULE "state-dir-unwritable"

/* The webhook's receiver, on the fixture's loop: answers STATUS, counts RULE's alerts. */
static struct {
	struct evhttp *http;
	int port;
	int status;
	size_t requests;
	size_t firing_delivered, resolved_delivered;
} pager;

static void on_alert(struct evhttp_request *req, void *arg)
{
	(void)arg;
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	size_t len = evbuffer_get_length(in);
	json_t *body = json_loadb((const char *)evbuffer_pullup(in, -1), len, 0, NULL);
	const char *rule = json_string_value(json_object_get(body, "rule"));
	const char *state = json_string_value(json_object_get(body, "state"));
	if (rule != NULL && strcmp(rule, RULE) == 0) {
		pager.requests++;
		if (pager.status == 200 && strcmp(state, "firing") == 0)
			pager.firing_delivered++;
		if (pager.status == 200 && strcmp(state, "resolved") == 0)
			pager.resolved_delivered++;
	}
	json_decref(body);
	evhttp_send_reply(req, pager.status, pager.status == 200 ? "OK" : "Unavailable", NULL);
}

static void pager_start(void)
{
	memset(&pager, 0, sizeof(pager));
	pager.status = 200;
	pager.http = harness_http_listen(fx.base, on_alert, NULL, &pager.port);
	assert_non_null(pager.http);
}

static char state_dir[512];
static bool mounted;
static char filler[600];

/* Writes FILLER until the tmpfs refuses another byte. */
static void fill_the_disk(void)
{
	int fd = open(filler, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	static const char block[4096];
	while (write(fd, block, sizeof(block)) > 0)
		;
	assert_int_equal(errno, ENOSPC);
	while (write(fd, block, 1) > 0) /* the last partial block */
		;
	close(fd);
}

/* cutover.json as the disk has it: a new object, or NULL when there is none. */
static json_t *cutover_on_disk(void)
{
	char path[600];
	snprintf(path, sizeof(path), "%s/cutover.json", state_dir);
	return json_load_file(path, 0, NULL);
}

/* Whether cutover.json has PHASE_NAME and ACTIVE (false when there is none). */
static bool disk_says(const char *phase_name, const char *active)
{
	json_t *saved = cutover_on_disk();
	const char *p = json_string_value(json_object_get(saved, "phase"));
	const char *a = json_string_value(json_object_get(saved, "active"));
	bool same = p != NULL && a != NULL && strcmp(p, phase_name) == 0 && strcmp(a, active) == 0;
	json_decref(saved);
	return same;
}

static bool disk_says_paused(void)
{
	json_t *saved = cutover_on_disk();
	bool paused = json_is_true(json_object_get(saved, "paused"));
	json_decref(saved);
	return paused;
}

static bool firing_delivered(void *arg)
{
	(void)arg;
	return pager.firing_delivered > 0;
}

/*
 * A collector whose state_dir is a 512 KiB tmpfs, with a webhook sink on the
 * pager, past its start-up grace. False (nothing started) when the tmpfs
 * cannot be mounted.
 */
static bool start_on_tmpfs(void)
{
	cutover_fixture_init();
	fixture_path(&fx, "state", state_dir, sizeof(state_dir));
	snprintf(filler, sizeof(filler), "%s/filler", state_dir);
	assert_int_equal(mkdir(state_dir, 0750), 0);
	if (mount("tmpfs", state_dir, "tmpfs", MS_NOSUID | MS_NODEV, "size=512k,mode=0750") != 0) {
		print_message("cannot mount a tmpfs on %s (%s; needs root): skipped\n", state_dir,
		              strerror(errno));
		finish();
		return false;
	}
	mounted = true;
	pager_start();
	char extra[512];
	snprintf(extra, sizeof(extra),
	         CUTOVER_FIXTURE_SETTINGS
	         "[alert.pager]\ntype = webhook\nurl = http://127.0.0.1:%d/\n",
	         pager.port);
	assert_int_equal(fixture_start(&fx, extra, false, &fake_driver), 0);
	run_seconds(6); /* past the start-up grace */
	assert_null(finding(RULE));
	return true;
}

static void stop_on_tmpfs(void)
{
	fixture_stop(&fx);
	evhttp_free(pager.http);
	assert_int_equal(umount2(state_dir, MNT_DETACH), 0);
	mounted = false;
	finish();
}

static void test_a_full_state_dir_is_a_finding_and_loses_nothing(void **state)
{
	(void)state;
	if (!start_on_tmpfs())
		skip();
	fill_the_disk();
	pager.status = 503; /* and the pager is away: the alert must wait */
	cut_over_to_green();
	run_seconds(2);
	const struct finding *open = finding(RULE);
	assert_non_null(open);
	assert_int_equal(open->severity, SEVERITY_CRITICAL);
	assert_non_null(strstr(open->summary, "cutover.json"));
	assert_non_null(strstr(open->summary, state_dir));
	assert_int_equal(phase(), PHASE_WATCHING);
	assert_false(disk_says("WATCHING", "green")); /* behind the running state */
	assert_false(fixture_run_until(&fx, firing_delivered, NULL, 200));
	assert_true(pager.requests > 0); /* it was sent, and refused */

	/* space returns, and the pager */
	assert_int_equal(unlink(filler), 0);
	pager.status = 200;
	for (int i = 0; i < 30 && (finding(RULE) != NULL || pager.firing_delivered == 0); i++) {
		run_seconds(1);
		fixture_run_until(&fx, firing_delivered, NULL,
		                  500); /* the retry runs on real time */
	}
	assert_null(finding(RULE));
	assert_true(disk_says("WATCHING", "green"));
	assert_int_equal(pager.firing_delivered, 1);
	/* and it stays once: nothing sends it again after the disk took the spool back */
	run_seconds(3);
	fixture_run_until(&fx, firing_delivered, NULL, 200);
	assert_int_equal(pager.firing_delivered, 1);
	/* the journal has what happened meanwhile (what the disk refused, written
	 * once it took it again; tmpfs may have taken a line into a page it had) */
	char path[600];
	snprintf(path, sizeof(path), "%s/journal.jsonl", state_dir);
	char *journal = harness_read_file(path);
	assert_non_null(journal);
	const char *opened = strstr(journal, "\"type\":\"finding-opened\"");
	assert_non_null(opened);
	assert_non_null(strstr(opened, RULE));
	free(journal);
	stop_on_tmpfs();
}

/*
 * A save that failed is retried at each tick, not only at the next
 * transition: a pause (no other save follows it in STEADY) reaches the disk
 * once space returns.
 */
static void test_a_failed_save_is_retried_until_it_works(void **state)
{
	(void)state;
	if (!start_on_tmpfs())
		skip();
	fill_the_disk();
	assert_int_equal(request(EVENT_PAUSE, NULL, false, NULL), 200);
	run_seconds(2);
	assert_non_null(finding(RULE));
	assert_false(disk_says_paused());
	assert_int_equal(unlink(filler), 0);
	run_seconds(2);
	assert_true(disk_says_paused());
	assert_true(disk_says("STEADY", "blue"));
	assert_null(finding(RULE));
	stop_on_tmpfs();
}

/* A failed test leaves no mount behind (its dir stays, to look at). */
static int teardown_mount(void **state)
{
	(void)state;
	if (mounted)
		umount2(state_dir, MNT_DETACH);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_a_full_state_dir_is_a_finding_and_loses_nothing),
	        cmocka_unit_test(test_a_failed_save_is_retried_until_it_works),
	};
	return cmocka_run_group_tests(tests, NULL, teardown_mount);
}
