/*
 * collector/ha/etcd.c against a real etcd on loopback: two collectors'
 * campaigns for one leader key (one wins, the other learns who holds it);
 * keep-alives and a revoked lease taking its key along; a put guarded by a
 * revision and by a fence (a stale revision and a lost leadership both
 * refused, nothing written); prefix reads; an endpoint list whose first
 * member is down; a client freed with a request in flight. The last test
 * runs two elections (collector/ha/election.c on rules/leadership.c): one leader of two; the leader
 * frozen (the follower takes over once its lease has ended, not before);
 * etcd killed (nobody may act after a TTL, a clear error) and back (one
 * leader again). Then etcd's own security: a user and password (tokens
 * fetched, waited for, and replaced after etcd restarts), and https with a
 * client certificate.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <event2/event.h>
#include <sys/stat.h>

#include "clock.h"
#include "election.h"
#include "etcd.h"
#include "etcd_server.h"
#include "harness.h"
#include "http_client.h"
#include "leadership.h"

static char *dir;
static struct etcd_server server;
static struct event_base *base;
static struct http_client *http;

/* What one call answered, copied out of the callback. */
struct answer {
	bool done, ok, succeeded;
	char error[512];
	int64_t revision, lease_id, ttl_s, sent_ms;
	size_t kv_count;
	char keys[8][128], values[8][256];
	int64_t mod_revision[8], lease[8];
};

static void on_done(const struct etcd_result *r, void *arg)
{
	struct answer *a = arg;
	a->done = true;
	a->ok = r->ok;
	snprintf(a->error, sizeof(a->error), "%s", r->error != NULL ? r->error : "");
	a->succeeded = r->succeeded;
	a->revision = r->revision;
	a->lease_id = r->lease_id;
	a->ttl_s = r->ttl_s;
	a->sent_ms = r->sent_ms;
	a->kv_count = r->kv_count;
	for (size_t i = 0; i < r->kv_count && i < 8; i++) {
		snprintf(a->keys[i], sizeof(a->keys[i]), "%s", r->kvs[i].key);
		snprintf(a->values[i], sizeof(a->values[i]), "%s", r->kvs[i].value);
		a->mod_revision[i] = r->kvs[i].mod_revision;
		a->lease[i] = r->kvs[i].lease;
	}
	event_base_loopbreak(base);
}

/* Runs the loop until A is answered (10 s at most). */
static void await(struct answer *a)
{
	int64_t deadline = clock_mono_ms() + 10000;
	while (!a->done && clock_mono_ms() < deadline)
		harness_run_loop(base, (int)(deadline - clock_mono_ms()));
	assert_true(a->done);
}

static struct etcd *client_of(const char *const *endpoints)
{
	char err[256];
	struct etcd_options options = {.endpoints = endpoints, .timeout_ms = 2000};
	struct etcd *etcd = etcd_new(http, &options, err, sizeof(err));
	if (etcd == NULL)
		fail_msg("etcd_new: %s", err);
	return etcd;
}

static struct etcd *client(void)
{
	const char *endpoints[] = {server.url, NULL};
	return client_of(endpoints);
}

#define CALL(a, fn, ...)                                                                           \
	do {                                                                                       \
		char call_err_[256];                                                               \
		memset(&(a), 0, sizeof(a));                                                        \
		assert_int_equal(fn(__VA_ARGS__, on_done, &(a), call_err_, sizeof(call_err_)), 0); \
		await(&(a));                                                                       \
	} while (0)

static int64_t grant(struct etcd *etcd, int64_t ttl_s)
{
	struct answer a;
	CALL(a, etcd_lease_grant, etcd, ttl_s);
	assert_true(a.ok);
	assert_int_not_equal(a.lease_id, 0);
	assert_int_equal(a.ttl_s, ttl_s);
	return a.lease_id;
}

static void test_one_leader_of_two(void **state)
{
	(void)state;
	struct etcd *c1 = client(), *c2 = client();
	int64_t l1 = grant(c1, 5), l2 = grant(c2, 5);
	struct answer a;
	CALL(a, etcd_put_if_absent, c1, "/tg/prod/leader", "collector-1", l1);
	assert_true(a.ok);
	assert_true(a.succeeded);
	CALL(a, etcd_put_if_absent, c2, "/tg/prod/leader", "collector-2", l2);
	assert_true(a.ok);
	assert_false(a.succeeded); /* a failed compare is an answer, not an error */
	assert_int_equal(a.kv_count, 1);
	assert_string_equal(a.keys[0], "/tg/prod/leader");
	assert_string_equal(a.values[0], "collector-1");
	assert_int_equal(a.lease[0], l1);

	/* the leader's lease lives on keep-alives; revoked, the key goes with it */
	CALL(a, etcd_lease_keepalive, c1, l1);
	assert_true(a.ok);
	assert_int_equal(a.ttl_s, 5);
	CALL(a, etcd_lease_revoke, c1, l1);
	assert_true(a.ok);
	CALL(a, etcd_lease_keepalive, c1, l1);
	assert_true(a.ok);
	assert_int_equal(a.ttl_s, 0);
	CALL(a, etcd_put_if_absent, c2, "/tg/prod/leader", "collector-2", l2);
	assert_true(a.succeeded);
	CALL(a, etcd_get, c1, "/tg/prod/leader", false);
	assert_int_equal(a.kv_count, 1);
	assert_string_equal(a.values[0], "collector-2");
	CALL(a, etcd_lease_revoke, c2, l2);
	etcd_free(c1);
	etcd_free(c2);
}

static void test_guarded_put(void **state)
{
	(void)state;
	struct etcd *etcd = client();
	int64_t lease = grant(etcd, 5);
	struct answer a;
	CALL(a, etcd_put_if_absent, etcd, "/tg/g/leader", "collector-1", lease);
	assert_true(a.succeeded);
	/* first write of the state: the key must not exist yet */
	CALL(a, etcd_put_guarded, etcd, "/tg/g/state", "{\"phase\":\"steady\"}", 0, "/tg/g/leader",
	     "collector-1");
	assert_true(a.ok);
	assert_true(a.succeeded);
	CALL(a, etcd_get, etcd, "/tg/g/state", false);
	int64_t revision = a.mod_revision[0];
	assert_string_equal(a.values[0], "{\"phase\":\"steady\"}");
	/* a stale revision: refused, and the answer says what is there */
	CALL(a, etcd_put_guarded, etcd, "/tg/g/state", "{\"phase\":\"switching\"}", revision - 1,
	     "/tg/g/leader", "collector-1");
	assert_true(a.ok);
	assert_false(a.succeeded);
	assert_string_equal(a.values[0], "{\"phase\":\"steady\"}");
	/* the fence: a collector that is no longer the leader writes nothing */
	CALL(a, etcd_put_guarded, etcd, "/tg/g/state", "{\"phase\":\"switching\"}", revision,
	     "/tg/g/leader", "collector-2");
	assert_false(a.succeeded);
	assert_int_equal(a.kv_count, 2);
	assert_string_equal(a.values[1], "collector-1");
	CALL(a, etcd_put_guarded, etcd, "/tg/g/state", "{\"phase\":\"switching\"}", revision,
	     "/tg/g/leader", "collector-1");
	assert_true(a.succeeded);
	/* prefix reads, then a delete guarded by the revision */
	CALL(a, etcd_put_if_absent, etcd, "/tg/g/requests/1", "pause", 0);
	CALL(a, etcd_put_if_absent, etcd, "/tg/g/requests/2", "resume", 0);
	CALL(a, etcd_get, etcd, "/tg/g/requests/", true);
	assert_int_equal(a.kv_count, 2);
	assert_string_equal(a.keys[0], "/tg/g/requests/1");
	assert_string_equal(a.values[1], "resume");
	int64_t first = a.mod_revision[0];
	CALL(a, etcd_delete, etcd, "/tg/g/requests/1", first + 100);
	assert_false(a.succeeded);
	CALL(a, etcd_delete, etcd, "/tg/g/requests/1", first);
	assert_true(a.succeeded);
	CALL(a, etcd_get, etcd, "/tg/g/requests/", true);
	assert_int_equal(a.kv_count, 1);
	CALL(a, etcd_lease_revoke, etcd, lease);
	etcd_free(etcd);
}

static void test_first_endpoint_down(void **state)
{
	(void)state;
	char down[64];
	snprintf(down, sizeof(down), "http://127.0.0.1:%d/", harness_port_range(1));
	const char *endpoints[] = {down, server.url, NULL};
	struct etcd *etcd = client_of(endpoints);
	struct answer a;
	CALL(a, etcd_get, etcd, "/tg/none", false);
	assert_true(a.ok);
	assert_int_equal(a.kv_count, 0);
	assert_string_equal(etcd_endpoint(etcd), server.url); /* asked first from now on */
	/* freed with a request in flight: cancelled, its callback never runs */
	struct answer never;
	memset(&never, 0, sizeof(never));
	char err[256];
	assert_int_equal(etcd_get(etcd, "/tg/none", false, on_done, &never, err, sizeof(err)), 0);
	assert_int_equal(http_client_in_flight(http), 1);
	etcd_free(etcd);
	assert_int_equal(http_client_in_flight(http), 0);
	harness_run_loop(base, 200);
	assert_false(never.done);

	const char *bad[] = {"127.0.0.1:2379", NULL};
	struct etcd_options options = {.endpoints = bad};
	assert_null(etcd_new(http, &options, err, sizeof(err)));
	assert_non_null(strstr(err, "want http://host:port"));
}

/* A collector in the election: its own etcd client and election. */
struct candidate {
	struct etcd *etcd;
	struct election *election;
	bool frozen; /* as under kill -9: no more ticks */
};

static void candidates_init(struct candidate *c, size_t n, const char *key)
{
	for (size_t i = 0; i < n; i++) {
		char self[32], err[256];
		snprintf(self, sizeof(self), "collector-%zu", i + 1);
		c[i].etcd = client();
		c[i].election = election_new(c[i].etcd, key, self, 3000, NULL, err, sizeof(err));
		if (c[i].election == NULL)
			fail_msg("election_new: %s", err);
	}
}

static void candidates_free(struct candidate *c, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		election_free(c[i].election);
		etcd_free(c[i].etcd);
	}
}

static const struct leadership *view(const struct candidate *c)
{
	return election_view(c->election);
}

/* Ticks the candidates for MS, counting the moments more than one would act. */
static int run_candidates(struct candidate *c, size_t n, int ms)
{
	int both = 0;
	int64_t until = clock_mono_ms() + ms;
	while (clock_mono_ms() < until) {
		size_t acting = 0;
		for (size_t i = 0; i < n; i++) {
			if (!c[i].frozen)
				election_tick(c[i].election, clock_mono_ms());
			acting += leadership_may_act(view(&c[i]), clock_mono_ms(), 500);
		}
		both += acting > 1;
		harness_run_loop(base, 50);
	}
	return both;
}

/* Steps the candidates until exactly one leads (true) or TIMEOUT_MS pass (false). */
static bool elect(struct candidate *c, size_t n, int timeout_ms)
{
	int64_t until = clock_mono_ms() + timeout_ms;
	while (clock_mono_ms() < until) {
		assert_int_equal(run_candidates(c, n, 100), 0);
		size_t leaders = 0;
		for (size_t i = 0; i < n; i++)
			leaders += !c[i].frozen && view(&c[i])->role == ROLE_LEADER;
		if (leaders == 1)
			return true;
	}
	return false;
}

static void test_leadership_moves_when_etcd_dies_and_returns(void **state)
{
	(void)state;
	struct candidate c[2] = {0};
	candidates_init(c, 2, "/tg/e/leader");
	assert_true(elect(c, 2, 3000));
	struct candidate *leader = view(&c[0])->role == ROLE_LEADER ? &c[0] : &c[1];
	struct candidate *follower = leader == &c[0] ? &c[1] : &c[0];
	assert_string_equal(view(follower)->leader, view(leader)->self);
	/* a few renewals later the same leader still leads */
	assert_int_equal(run_candidates(c, 2, 2500), 0);
	assert_int_equal(view(leader)->role, ROLE_LEADER);
	assert_true(leadership_may_act(view(leader), clock_mono_ms(), 500));

	/* the leader freezes (as under kill -9): the follower takes over once its lease ends */
	leader->frozen = true;
	int64_t frozen = clock_mono_ms();
	int64_t lease_end = view(leader)->lease_until_ms;
	assert_true(elect(c, 2, 3000 + 2000));
	int64_t took_over = clock_mono_ms();
	assert_int_equal(view(follower)->role, ROLE_LEADER);
	assert_true(took_over >= lease_end); /* never while the old lease may live */
	assert_true(took_over - frozen <= 3000 + 1500);
	/* the old leader wakes: it has stopped acting and learns who leads now */
	assert_false(leadership_may_act(view(leader), took_over, 0));
	leader->frozen = false;
	assert_int_equal(run_candidates(c, 2, 1500), 0);
	assert_int_equal(view(leader)->role, ROLE_FOLLOWER);
	assert_string_equal(view(leader)->leader, view(follower)->self);
	leader = follower;

	/* etcd dies: nobody may act from a lease's TTL on, and both say why */
	harness_kill9(server.pid);
	int64_t killed = clock_mono_ms();
	assert_int_equal(run_candidates(c, 2, 3200), 0);
	assert_false(leadership_may_act(view(&c[0]), clock_mono_ms(), 0));
	assert_false(leadership_may_act(view(&c[1]), clock_mono_ms(), 0));
	assert_true(leadership_etcd_lost(view(leader), clock_mono_ms(), killed));
	assert_non_null(strstr(view(leader)->last_error, "connection refused"));

	/* back: one leader again, once the leader key of before the crash has
	 * lapsed with its lease (which etcd revives for a TTL on restart) */
	assert_int_equal(etcd_server_restart(&server), 0);
	assert_true(elect(c, 2, 3000 * 2 + 3000));
	candidates_free(c, 2);
}

static struct etcd *client_with(const struct etcd_options *options)
{
	char err[256];
	struct etcd *etcd = etcd_new(http, options, err, sizeof(err));
	if (etcd == NULL)
		fail_msg("etcd_new: %s", err);
	return etcd;
}

/*
 * etcd with auth on (a root user): no credentials is refused with etcd's
 * reason; the right ones work for every call, also two at once before the
 * first token came; after etcd restarts (simple tokens live in its memory)
 * the next call gets a new token by itself; a wrong password is a clear
 * failure of every call waiting for it.
 */
static void test_user_and_password(void **state)
{
	(void)state;
	char sub[600];
	snprintf(sub, sizeof(sub), "%s/auth", dir);
	assert_int_equal(mkdir(sub, 0700), 0);
	struct etcd_server secured;
	assert_int_equal(etcd_server_start(&secured, sub), 0);
	assert_int_equal(etcd_server_enable_auth(&secured, "root", "s3cret"), 0);
	const char *endpoints[] = {secured.url, NULL};
	struct answer a, b;

	struct etcd *anonymous = client_of(endpoints);
	CALL(a, etcd_get, anonymous, "/tg/auth", false);
	assert_false(a.ok);
	assert_non_null(strstr(a.error, "HTTP"));
	etcd_free(anonymous);

	struct etcd_options options = {.endpoints = endpoints,
	                               .timeout_ms = 2000,
	                               .username = "root",
	                               .password = "s3cret"};
	struct etcd *etcd = client_with(&options);
	char err[256];
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	assert_int_equal(
	        etcd_put_if_absent(etcd, "/tg/auth", "one", 0, on_done, &a, err, sizeof(err)), 0);
	assert_int_equal(etcd_get(etcd, "/tg/auth", false, on_done, &b, err, sizeof(err)), 0);
	await(&a);
	await(&b);
	assert_true(a.ok);
	assert_true(a.succeeded);
	assert_true(b.ok);

	etcd_server_stop(&secured);
	assert_int_equal(etcd_server_restart(&secured), 0);
	CALL(a, etcd_get, etcd, "/tg/auth", false);
	assert_true(a.ok);
	assert_int_equal(a.kv_count, 1);
	assert_string_equal(a.values[0], "one");
	etcd_free(etcd);

	options.password = "wrong";
	etcd = client_with(&options);
	CALL(a, etcd_get, etcd, "/tg/auth", false);
	assert_false(a.ok);
	assert_non_null(strstr(a.error, "authentication as 'root' failed"));
	etcd_free(etcd);
	etcd_server_stop(&secured);
}

/* https with a client certificate: with the CA and the pair it works; without the pair, no. */
static void test_tls_with_a_client_certificate(void **state)
{
	(void)state;
	char sub[600];
	snprintf(sub, sizeof(sub), "%s/tls-etcd", dir);
	assert_int_equal(mkdir(sub, 0700), 0);
	struct etcd_server secured;
	assert_int_equal(etcd_server_start_tls(&secured, sub), 0);
	const char *endpoints[] = {secured.https_url, NULL};
	struct etcd_options options = {.endpoints = endpoints,
	                               .timeout_ms = 3000,
	                               .ca_file = secured.ca,
	                               .cert_file = secured.client_cert,
	                               .key_file = secured.client_key};
	struct etcd *etcd = client_with(&options);
	struct answer a;
	CALL(a, etcd_put_if_absent, etcd, "/tg/tls", "on", 0);
	assert_true(a.ok);
	assert_true(a.succeeded);
	etcd_free(etcd);

	options.cert_file = options.key_file = NULL;
	etcd = client_with(&options);
	CALL(a, etcd_get, etcd, "/tg/tls", false);
	assert_false(a.ok);
	assert_non_null(strstr(a.error, secured.https_url));
	etcd_free(etcd);
	etcd_server_stop(&secured);
}

static int setup(void **state)
{
	(void)state;
	if (!etcd_server_available()) {
		fprintf(stderr, "etcd is missing: deploy/install-deps.sh installs etcd-server\n");
		return -1;
	}
	dir = harness_tmpdir("tg-etcd");
	base = event_base_new();
	char err[256];
	http = http_client_new(base, err, sizeof(err));
	if (dir == NULL || base == NULL || http == NULL)
		return -1;
	return etcd_server_start(&server, dir);
}

static int teardown(void **state)
{
	(void)state;
	etcd_server_stop(&server);
	harness_stop_all();
	http_client_free(http);
	event_base_free(base);
	harness_rmrf(dir);
	free(dir);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_one_leader_of_two),
	        cmocka_unit_test(test_guarded_put),
	        cmocka_unit_test(test_first_endpoint_down),
	        cmocka_unit_test(test_leadership_moves_when_etcd_dies_and_returns),
	        cmocka_unit_test(test_user_and_password),
	        cmocka_unit_test(test_tls_with_a_client_certificate),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
