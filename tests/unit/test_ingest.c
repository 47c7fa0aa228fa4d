/*
 * Ingest inside a real collector, fed by an in-process ZeroMQ publisher:
 * one row per message (accepted, duplicate of the same boot, a new boot,
 * unknown cluster, malformed and empty bytes, a stamp a day in the fake
 * clock's future, stamps 6 min ahead and behind), each counted once in
 * ingest_stats() and its reject reason named in /v1/status; a clock 6 min
 * off either way is a clock-skew finding; with CURVE on, the ZAP allow-list
 * admits a key as its node id, drops a report claiming another node, refuses
 * an unknown key, and admits it after a reload; a key over
 * max_reports_per_second is rate_limited.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

#include "collector_fixture.h"
#include "curve_keys.h"
#include "harness.h"
#include "ingest.h"
#include "status.h"

static struct collector_fixture fx;
static void *context;
static void *sockets[4]; /* open publishers, closed by the teardown even after a failure */

/*
 * An XPUB, i.e. a PUB that shows the subscriptions it gets: the SUB's
 * subscription arriving means the connection is up (and, with CURVE, that
 * ZAP admitted the key), so nothing sent after it is dropped for want of a
 * subscriber. KEY_PREFIX: a CURVE client with PREFIX.pub/.key; NULL: plain.
 */
static void *publisher(const char *key_prefix)
{
	void *pub = zmq_socket(context, ZMQ_XPUB);
	assert_non_null(pub);
	int zero = 0;
	assert_int_equal(zmq_setsockopt(pub, ZMQ_LINGER, &zero, sizeof(zero)), 0);
	if (key_prefix != NULL) {
		char path[512], server[41], public_key[41], secret_key[41], err[256];
		fixture_path(&fx, "server.pub", path, sizeof(path));
		assert_int_equal(curve_key_read_public(path, server, err, sizeof(err)), 0);
		snprintf(path, sizeof(path), "%s/%s.pub", fx.dir, key_prefix);
		assert_int_equal(curve_key_read_public(path, public_key, err, sizeof(err)), 0);
		snprintf(path, sizeof(path), "%s/%s.key", fx.dir, key_prefix);
		assert_int_equal(curve_key_read_secret(path, secret_key, err, sizeof(err)), 0);
		assert_int_equal(zmq_setsockopt(pub, ZMQ_CURVE_SERVERKEY, server, 41), 0);
		assert_int_equal(zmq_setsockopt(pub, ZMQ_CURVE_PUBLICKEY, public_key, 41), 0);
		assert_int_equal(zmq_setsockopt(pub, ZMQ_CURVE_SECRETKEY, secret_key, 41), 0);
	}
	assert_int_equal(zmq_connect(pub, fx.listen), 0);
	for (size_t i = 0; i < 4; i++) {
		if (sockets[i] == NULL) {
			sockets[i] = pub;
			return pub;
		}
	}
	fail_msg("more than 4 publishers");
	return NULL;
}

static void close_publisher(void *pub)
{
	for (size_t i = 0; i < 4; i++)
		if (sockets[i] == pub)
			sockets[i] = NULL;
	zmq_close(pub);
}

/* True once PUB (an XPUB) has seen the collector's subscription. */
static bool subscribed(void *pub)
{
	zmq_pollitem_t item = {pub, 0, ZMQ_POLLIN, 0};
	if (zmq_poll(&item, 1, 0) != 1)
		return false;
	char subscription[8];
	return zmq_recv(pub, subscription, sizeof(subscription), ZMQ_DONTWAIT) >= 1 &&
	       subscription[0] == 1;
}

static void wait_subscribed(void *pub)
{
	assert_true(fixture_run_until(&fx, (bool (*)(void *))subscribed, pub, 5000));
}

struct stats_wait {
	uint64_t received;
};

static bool received(void *arg)
{
	const struct stats_wait *w = arg;
	return ingest_stats(fx.collector.ingest)->received >= w->received;
}

/* Sends LEN bytes on PUB and runs the loop until ingest has taken them in. */
static void send_and_wait(void *pub, const void *bytes, size_t len)
{
	struct stats_wait w = {ingest_stats(fx.collector.ingest)->received + 1};
	assert_int_equal(zmq_send(pub, bytes, len, 0), (int)len);
	assert_true(fixture_run_until(&fx, received, &w, 5000));
}

static void send_report(void *pub, const NodeReport *report)
{
	size_t len;
	uint8_t *bytes = report_encode(report, &len);
	assert_non_null(bytes);
	send_and_wait(pub, bytes, len);
	free(bytes);
}

static int setup_plain(void **state)
{
	(void)state;
	if (fixture_init(&fx) != 0 || fixture_start(&fx, NULL, false, NULL) != 0)
		return -1;
	context = zmq_ctx_new();
	return context != NULL ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	for (size_t i = 0; i < 4; i++) {
		if (sockets[i] != NULL)
			zmq_close(sockets[i]);
		sockets[i] = NULL;
	}
	zmq_ctx_term(context); /* blocks while a socket is open: all are closed, linger 0 */
	fixture_cleanup(&fx);
	return 0;
}

enum outcome { ACCEPTED, DUPLICATE, REJECTED };

static const struct ingest_case {
	const char *name;
	const char *node_id; /* NULL: send BYTES instead of a report */
	const char *cluster;
	uint8_t boot;      /* the boot id's first byte */
	uint64_t seq;      /* also the node's seq in the fleet afterwards */
	int64_t ahead_ms;  /* sent_unix_ms after the fake clock */
	const char *bytes; /* with LEN, when no node_id */
	size_t len;
	enum outcome outcome;
	int reason; /* when REJECTED */
} cases[] = {
        {"a first report is accepted", "green-coord", "green", 1, 5, 0, NULL, 0, ACCEPTED, 0},
        {"a newer seq of the same boot is accepted", "green-coord", "green", 1, 6, 0, NULL, 0,
         ACCEPTED, 0},
        {"an older seq of the same boot is a duplicate", "green-coord", "green", 1, 4, 0, NULL, 0,
         DUPLICATE, 0},
        {"the same seq again is a duplicate", "green-coord", "green", 1, 6, 0, NULL, 0, DUPLICATE,
         0},
        {"a restarted agent (new boot) starts again at seq 1", "green-coord", "green", 2, 1, 0,
         NULL, 0, ACCEPTED, 0},
        {"a cluster without a [cluster.NAME] section is rejected", "purple-coord", "purple", 1, 1,
         0, NULL, 0, REJECTED, INGEST_REJECT_UNKNOWN_CLUSTER},
        {"bytes that are no NodeReport are rejected", NULL, NULL, 0, 0, 0, "\xff\xff\xff\xff", 4,
         REJECTED, REPORT_REJECT_MALFORMED},
        {"an empty message is rejected", NULL, NULL, 0, 0, 0, "", 0, REJECTED, REPORT_REJECT_EMPTY},
        /* 25 h ahead of the fake clock: no clock that wrong is worth reading */
        {"a report from a day in the collector clock's future is rejected", "blue-coord", "blue", 1,
         1, 25 * 3600 * 1000LL, NULL, 0, REJECTED, REPORT_REJECT_BAD_TIMESTAMP},
        /* a clock minutes off is a finding (test_skewed_clocks_are_a_finding), not a refusal */
        {"a report from an agent 6 min ahead is accepted", "blue-coord", "blue", 1, 1, 360000, NULL,
         0, ACCEPTED, 0},
        {"a report from an agent 6 min behind is accepted", "blue-coord", "blue", 1, 2, -360000,
         NULL, 0, ACCEPTED, 0},
        {"the same node's report stamped now is accepted", "blue-coord", "blue", 1, 3, 0, NULL, 0,
         ACCEPTED, 0},
};

static void test_each_report_is_counted_once_under_its_outcome(void **state)
{
	(void)state;
	void *pub = publisher(NULL);
	wait_subscribed(pub);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct ingest_case *c = &cases[i];
		print_message("%s\n", c->name);
		fixture_advance(1000);
		struct ingest_stats expected = *ingest_stats(fx.collector.ingest);
		expected.received++;
		if (c->node_id != NULL) {
			struct report_fixture r;
			fixture_report(&r, c->node_id, c->cluster, true, "447", c->seq);
			r.boot_id[0] = c->boot;
			r.report.sent_unix_ms += c->ahead_ms;
			send_report(pub, &r.report);
		} else {
			send_and_wait(pub, c->bytes, c->len);
		}
		if (c->outcome == ACCEPTED)
			expected.accepted++;
		else if (c->outcome == DUPLICATE)
			expected.duplicates++;
		else
			expected.rejected[c->reason]++;
		assert_memory_equal(ingest_stats(fx.collector.ingest), &expected, sizeof(expected));
		const struct fleet_node *node =
		        c->node_id != NULL ? fleet_find(&fx.collector.fleet, c->node_id) : NULL;
		if (c->outcome == REJECTED && c->node_id != NULL)
			assert_null(node);
		if (c->outcome == DUPLICATE) /* and it refreshes nothing */
			assert_true(node->received_ms < fixture_now.mono_ms);
		if (c->outcome != REJECTED) {
			assert_non_null(node);
			assert_int_equal(node->boot_id[0], c->boot);
			if (c->outcome == ACCEPTED) {
				assert_int_equal(node->seq, c->seq);
				/* received on the collector's (fake) clock */
				assert_int_equal(node->received_ms, fixture_now.mono_ms);
			}
		}
	}
	close_publisher(pub);

	/* the reasons by name, as /v1/status shows them */
	json_t *status = status_json(&fx.collector, fixture_now);
	json_t *rejected = json_object_get(json_object_get(status, "ingest"), "rejected");
	assert_int_equal(json_object_size(rejected), 4);
	const char *names[] = {"unknown_cluster", "malformed", "empty", "bad_timestamp"};
	for (size_t i = 0; i < 4; i++)
		assert_int_equal(json_integer_value(json_object_get(rejected, names[i])), 1);
	json_decref(status);
}

static const struct finding *finding(const char *key)
{
	for (size_t i = 0; i < fx.collector.findings.count; i++)
		if (strcmp(fx.collector.findings.items[i].key, key) == 0)
			return &fx.collector.findings.items[i];
	return NULL;
}

/* green-coord's report SKEW_MS off the collector's (fake) clock, then a tick. */
static void report_with_skew(void *pub, uint64_t seq, int64_t skew_ms)
{
	struct report_fixture r;
	fixture_report(&r, "green-coord", "green", true, "447", seq);
	r.report.sent_unix_ms += skew_ms;
	send_report(pub, &r.report);
	fixture_advance(1000);
	collector_tick(&fx.collector, fixture_now);
}

/*
 * A clock 6 min off either way (past the old 5 min refusal): the report is
 * used, and a warning names the node and the offset.
 */
static void test_skewed_clocks_are_a_finding(void **state)
{
	(void)state;
	void *pub = publisher(NULL);
	wait_subscribed(pub);
	fixture_advance(10000); /* past the start-up grace */
	const char *key = "clock-skew/green/green-coord";
	report_with_skew(pub, 1, 360000);
	assert_true(fx.collector.findings_ready);
	const struct fleet_node *node = fleet_find(&fx.collector.fleet, "green-coord");
	assert_non_null(node);
	assert_int_equal(node->received_ms, fixture_now.mono_ms - 1000); /* used, on its arrival */
	const struct finding *f = finding(key);
	assert_non_null(f);
	assert_int_equal(f->severity, SEVERITY_WARNING);
	assert_non_null(strstr(f->summary, "green-coord's clock is 360.000 s ahead of"));

	report_with_skew(pub, 2, -360000);
	assert_int_equal(fleet_find(&fx.collector.fleet, "green-coord")->seq, 2);
	assert_non_null(f = finding(key));
	assert_non_null(strstr(f->summary, "360.000 s behind"));

	report_with_skew(pub, 3, FINDINGS_CLOCK_SKEW_MS); /* within the tolerance */
	assert_null(finding(key));
	close_publisher(pub);
}

static void test_every_reject_reason_has_its_own_name(void **state)
{
	(void)state;
	assert_string_equal(ingest_reject_name(INGEST_REJECT_IDENTITY_MISMATCH),
	                    "identity_mismatch");
	assert_string_equal(ingest_reject_name(INGEST_REJECT_UNKNOWN_CLUSTER), "unknown_cluster");
	assert_string_equal(ingest_reject_name(REPORT_REJECT_MALFORMED), "malformed");
	for (int a = 1; a < INGEST_REJECT_COUNT; a++) {
		assert_true(strlen(ingest_reject_name(a)) > 0);
		assert_string_not_equal(ingest_reject_name(a), "unknown");
		for (int b = 1; b < a; b++)
			assert_string_not_equal(ingest_reject_name(a), ingest_reject_name(b));
	}
}

static void keypair(const char *prefix)
{
	char path[512], err[256];
	snprintf(path, sizeof(path), "%s/%s", fx.dir, prefix);
	assert_int_equal(curve_keypair_write(path, err, sizeof(err)), 0);
}

/* Allows PREFIX's public key to report as NODE_ID, a coordinator of CLUSTER. */
static void allow(const char *prefix, const char *cluster, const char *node_id)
{
	char from[512], keys[512];
	snprintf(from, sizeof(from), "%s/%s.pub", fx.dir, prefix);
	snprintf(keys, sizeof(keys), "%s/keys", fx.dir);
	assert_int_equal(harness_allow_key(from, keys, cluster, "coordinator", node_id), 0);
}

static int setup_curve(void **state)
{
	(void)state;
	if (fixture_init(&fx) != 0)
		return -1;
	char keys[512];
	fixture_path(&fx, "keys", keys, sizeof(keys));
	if (mkdir(keys, 0700) != 0)
		return -1;
	keypair("server");
	keypair("green-key");
	keypair("rogue-key");
	allow("green-key", "green", "green-coord");
	if (fixture_start(&fx, NULL, true, NULL) != 0)
		return -1;
	context = zmq_ctx_new();
	return context != NULL ? 0 : -1;
}

static bool refused_some(void *arg)
{
	(void)arg;
	return ingest_stats(fx.collector.ingest)->keys_refused > 0;
}

static void test_curve_admits_allow_listed_keys_as_their_node_only(void **state)
{
	(void)state;
	const struct ingest_stats *stats = ingest_stats(fx.collector.ingest);
	assert_int_equal(ingest_allowed_keys(fx.collector.ingest), 1);

	void *green = publisher("green-key");
	wait_subscribed(green);
	assert_true(stats->keys_admitted >= 1);
	struct report_fixture r;
	fixture_report(&r, "green-coord", "green", true, "447", 1);
	send_report(green, &r.report);
	assert_int_equal(stats->accepted, 1);

	/* the key stands for green-coord: a report as blue-coord is dropped */
	fixture_report(&r, "blue-coord", "blue", true, "446", 1);
	send_report(green, &r.report);
	assert_int_equal(stats->rejected[INGEST_REJECT_IDENTITY_MISMATCH], 1);
	assert_null(fleet_find(&fx.collector.fleet, "blue-coord"));

	/* bound to green's coordinator: its own node id in blue, or as a worker,
	 * is dropped too */
	fixture_report(&r, "green-coord", "blue", true, "446", 2);
	send_report(green, &r.report);
	assert_int_equal(stats->rejected[INGEST_REJECT_CLUSTER_MISMATCH], 1);
	fixture_report(&r, "green-coord", "green", false, "447", 3);
	send_report(green, &r.report);
	assert_int_equal(stats->rejected[INGEST_REJECT_ROLE_MISMATCH], 1);
	assert_int_equal(stats->accepted, 1);

	/* a key not in the allow-list never gets a report in */
	void *rogue = publisher("rogue-key");
	assert_true(fixture_run_until(&fx, refused_some, NULL, 5000));
	assert_false(subscribed(rogue));
	close_publisher(rogue);
	assert_int_equal(stats->received, 4);

	/* until it is allowed and the allow-list re-read (SIGHUP) */
	allow("rogue-key", "blue", "blue-coord");
	char err[512];
	assert_int_equal(collector_reload(&fx.collector, err, sizeof(err)), 0);
	assert_int_equal(ingest_allowed_keys(fx.collector.ingest), 2);
	rogue = publisher("rogue-key");
	wait_subscribed(rogue);
	fixture_report(&r, "blue-coord", "blue", true, "446", 1);
	send_report(rogue, &r.report);
	assert_int_equal(stats->accepted, 2);
	assert_non_null(fleet_find(&fx.collector.fleet, "blue-coord"));

	/* a key left directly in allowed_keys_dir (the layout before keys were
	 * bound) is refused with where it must go, and the loaded list is kept */
	char from[512], legacy[512];
	snprintf(from, sizeof(from), "%s/rogue-key.pub", fx.dir);
	snprintf(legacy, sizeof(legacy), "%s/keys/old-node.pub", fx.dir);
	char *text = harness_read_file(from);
	assert_int_equal(harness_write_file(legacy, text), 0);
	free(text);
	assert_int_equal(collector_reload(&fx.collector, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "old-node.pub: keys are bound to a cluster and a role now"));
	assert_non_null(strstr(err, "<cluster>/worker/old-node.pub"));
	assert_int_equal(ingest_allowed_keys(fx.collector.ingest), 2);
	unlink(legacy);
	close_publisher(rogue);
	close_publisher(green);
}

/* [collector] max_reports_per_second (20 by default) per key, per second of
 * the collector's clock: the 21st report of a second is rejected, counted as
 * rate_limited, and the next second lets reports in again. */
static void test_a_key_over_its_report_rate_is_limited(void **state)
{
	(void)state;
	const struct ingest_stats *stats = ingest_stats(fx.collector.ingest);
	void *green = publisher("green-key");
	wait_subscribed(green);
	struct report_fixture r;
	uint64_t seq = 1;
	for (int i = 0; i < 25; i++) {
		fixture_report(&r, "green-coord", "green", true, "447", seq++);
		send_report(green, &r.report);
	}
	assert_int_equal(stats->rejected[INGEST_REJECT_RATE_LIMITED], 5);
	assert_int_equal(stats->accepted, 20);
	fixture_advance(1000);
	fixture_report(&r, "green-coord", "green", true, "447", seq++);
	send_report(green, &r.report);
	assert_int_equal(stats->accepted, 21);
	assert_int_equal(stats->rejected[INGEST_REJECT_RATE_LIMITED], 5);
	assert_string_equal(ingest_reject_name(INGEST_REJECT_RATE_LIMITED), "rate_limited");
	close_publisher(green);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(test_each_report_is_counted_once_under_its_outcome,
	                                        setup_plain, teardown),
	        cmocka_unit_test_setup_teardown(test_skewed_clocks_are_a_finding, setup_plain,
	                                        teardown),
	        cmocka_unit_test(test_every_reject_reason_has_its_own_name),
	        cmocka_unit_test_setup_teardown(
	                test_curve_admits_allow_listed_keys_as_their_node_only, setup_curve,
	                teardown),
	        cmocka_unit_test_setup_teardown(test_a_key_over_its_report_rate_is_limited,
	                                        setup_curve, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
