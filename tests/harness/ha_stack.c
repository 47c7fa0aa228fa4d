/*
 * The HA stack. Every collector has the same server key, allow-list and
 * [lb.haproxy] (both sockets, one map file each), a state dir and ports of
 * its own, and [ha] naming the one etcd; the agents list all three.
 */
#include "ha_stack.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "harness.h"
#include "stack_parts.h"

static const struct stack_haproxy_files proxy_files[HA_PROXIES] = {
        {"a.sock", "a.map", "a.cfg", "a.log"},
        {"b.sock", "b.map", "b.cfg", "b.log"},
};

static void write_member_ini(const struct ha_stack *h, const struct stack_options *o, int i)
{
	const struct ha_member *m = &h->members[i];
	const char *d = h->sims.dir;
	char path[64], text[8192];
	snprintf(path, sizeof(path), "member-%d.ini", i);
	snprintf(text, sizeof(text),
	         "[collector]\nlisten = tcp://127.0.0.1:%d\nsecret_key_file = server.key\n"
	         "allowed_keys_dir = keys\nstate_dir = state-%d\ntick = %s\ninitial_active = blue\n"
	         "[api]\nlisten = 127.0.0.1:%d\n"
	         "[ha]\netcd_endpoints = %s\nlease_ttl = %s\nid = %s\n%s"
	         "[watch]\nduration = %s\nsustain = 2s\n%s"
	         "[lb]\ndriver = haproxy\npoll = 300ms\ntimeout = 1s\nretries = 2\n"
	         "[lb.haproxy]\nsockets = %s/%s, %s/%s\nmap_files = %s/%s, %s/%s\nkey = active\n"
	         "backend.blue = bk_blue\nbackend.green = bk_green\n"
	         "[cluster.blue]\nmin_workers = %d\nstale_after = 3s\ndown_grace = 2s\n"
	         "[cluster.green]\nmin_workers = %d\nstale_after = 3s\ndown_grace = 2s\n%s",
	         m->zmq_port, i, o->tick, m->api_port, h->etcd.url, h->lease_ttl, m->id,
	         h->etcd_auth ? "username = trino-guard\npassword_file = etcd-password\n" : "",
	         o->watch_duration != NULL ? o->watch_duration : "10m",
	         o->extra_watch != NULL ? o->extra_watch : "", d, proxy_files[0].socket, d,
	         proxy_files[1].socket, d, proxy_files[0].map, d, proxy_files[1].map, o->workers,
	         o->workers, o->extra_config != NULL ? o->extra_config : "");
	harness_write_file(path, text);
}

int ha_stack_start_member(struct ha_stack *h, const struct stack_options *o, int i)
{
	char ini[64], log[64], url[128];
	snprintf(ini, sizeof(ini), "member-%d.ini", i);
	snprintf(log, sizeof(log), "member-%d.log", i);
	const char *argv[] = {o->collector_bin, "-c", ini, NULL};
	h->members[i].pid = harness_spawn(argv, log);
	snprintf(url, sizeof(url), "%s/healthz", h->members[i].api);
	if (!harness_wait_until(stack_url_ok, url, 15000)) {
		fprintf(stderr, "ha_stack: collector %d did not start (see %s/%s)\n", i,
		        h->sims.dir, log);
		return -1;
	}
	return 0;
}

int ha_stack_start(struct ha_stack *h, const struct stack_options *o, const char *lease_ttl,
                   bool etcd_auth)
{
	memset(h, 0, sizeof(*h));
	h->lease_ttl = lease_ttl;
	h->etcd_auth = etcd_auth;
	if (stack_start_sims(&h->sims, o) != 0)
		return -1;
	if (etcd_server_start(&h->etcd, h->sims.dir) != 0)
		return -1;
	if (etcd_auth) {
		if (etcd_server_enable_auth(&h->etcd, "trino-guard", "etcd-pass-0123") != 0 ||
		    harness_write_file("etcd-password", "etcd-pass-0123\n") != 0 ||
		    chmod("etcd-password", 0600) != 0)
			return -1;
	}
	for (int p = 0; p < HA_PROXIES; p++) {
		h->frontends[p] = harness_port_range(1);
		if (stack_start_haproxy(&h->sims, o, &proxy_files[p], h->frontends[p],
		                        &h->haproxies[p]) != 0)
			return -1;
	}
	char endpoints[256] = "";
	for (int i = 0; i < HA_MEMBERS; i++) {
		struct ha_member *m = &h->members[i];
		int ports = harness_port_range(2);
		m->zmq_port = ports;
		m->api_port = ports + 1;
		snprintf(m->id, sizeof(m->id), "c%d", i);
		snprintf(m->api, sizeof(m->api), "http://127.0.0.1:%d", m->api_port);
		size_t used = strlen(endpoints);
		snprintf(endpoints + used, sizeof(endpoints) - used, "%stcp://127.0.0.1:%d",
		         i > 0 ? ", " : "", m->zmq_port);
		write_member_ini(h, o, i);
		if (ha_stack_start_member(h, o, i) != 0)
			return -1;
	}
	stack_start_agents(&h->sims, o, endpoints);
	return 0;
}

json_t *ha_stack_status(const struct ha_stack *h, int i)
{
	char url[128];
	snprintf(url, sizeof(url), "%s/v1/status", h->members[i].api);
	char *body = harness_get_ok(url);
	json_t *status = body != NULL ? json_loads(body, 0, NULL) : NULL;
	free(body);
	return status;
}

int ha_stack_leader(const struct ha_stack *h)
{
	int leader = -1, leaders = 0;
	for (int i = 0; i < HA_MEMBERS; i++) {
		if (!harness_alive(h->members[i].pid))
			continue;
		json_t *status = ha_stack_status(h, i);
		const char *role =
		        json_string_value(json_object_get(json_object_get(status, "ha"), "role"));
		if (role != NULL && strcmp(role, "leader") == 0) {
			leader = i;
			leaders++;
		}
		json_decref(status);
	}
	return leaders == 1 ? leader : -1;
}

static bool one_leader(void *arg)
{
	return ha_stack_leader(arg) >= 0;
}

int ha_stack_wait_leader(const struct ha_stack *h, int timeout_ms)
{
	if (!harness_wait_until(one_leader, (void *)h, timeout_ms))
		return -1;
	return ha_stack_leader(h);
}

void ha_stack_get_map(const struct ha_stack *h, int p, char *backend, size_t len)
{
	stack_get_map_of(&h->sims, &proxy_files[p], backend, len);
}

long ha_stack_green_fails(const struct ha_stack *h, double ratio)
{
	char body[96];
	snprintf(body, sizeof(body), "{\"fail_ratio\":%.2f,\"error_type\":\"INTERNAL_ERROR\"}",
	         ratio);
	return stack_control(h->sims.green_control, "green-coord", body);
}

bool ha_stack_maps_say(const struct ha_stack *h, const char *backend)
{
	for (int p = 0; p < HA_PROXIES; p++) {
		char seen[64];
		ha_stack_get_map(h, p, seen, sizeof(seen));
		if (strcmp(seen, backend) != 0)
			return false;
	}
	return true;
}

struct maps_goal {
	const struct ha_stack *h;
	const char *backend;
};

static bool maps_say(void *arg)
{
	const struct maps_goal *goal = arg;
	return ha_stack_maps_say(goal->h, goal->backend);
}

bool ha_stack_wait_maps(const struct ha_stack *h, const char *backend, int timeout_ms)
{
	struct maps_goal goal = {h, backend};
	if (harness_wait_until(maps_say, &goal, timeout_ms))
		return true;
	char a[64], b[64];
	ha_stack_get_map(h, 0, a, sizeof(a));
	ha_stack_get_map(h, 1, b, sizeof(b));
	fprintf(stderr, "ha_stack: maps not %s after %d ms: a says %s, b says %s\n", backend,
	        timeout_ms, a, b);
	return false;
}

struct phase_goal {
	const struct ha_stack *h;
	int i;
	const char *phase, *active;
	char seen[128];
};

static bool phase_is(void *arg)
{
	struct phase_goal *goal = arg;
	json_t *status = ha_stack_status(goal->h, goal->i);
	json_t *cutover = json_object_get(status, "cutover");
	const char *phase = json_string_value(json_object_get(cutover, "phase"));
	const char *active = json_string_value(json_object_get(cutover, "active"));
	snprintf(goal->seen, sizeof(goal->seen), "%s on %s", phase != NULL ? phase : "no answer",
	         active != NULL ? active : "-");
	bool ok = phase != NULL && active != NULL && strcmp(phase, goal->phase) == 0 &&
	          (goal->active == NULL || strcmp(active, goal->active) == 0);
	json_decref(status);
	return ok;
}

bool ha_stack_wait_phase(const struct ha_stack *h, int i, const char *phase, const char *active,
                         int timeout_ms)
{
	struct phase_goal goal = {.h = h, .i = i, .phase = phase, .active = active};
	if (harness_wait_until(phase_is, &goal, timeout_ms))
		return true;
	fprintf(stderr, "ha_stack: collector %d not %s on %s after %d ms: %s\n", i, phase,
	        active != NULL ? active : "any cluster", timeout_ms, goal.seen);
	return false;
}

double ha_stack_metric(const struct ha_stack *h, int i, const char *series)
{
	char url[128];
	snprintf(url, sizeof(url), "%s/metrics", h->members[i].api);
	char *body = harness_get_ok(url);
	double value = -1;
	size_t len = strlen(series);
	for (const char *line = body; line != NULL && *line != '\0';) {
		if (strncmp(line, series, len) == 0 && line[len] == ' ') {
			value = strtod(line + len + 1, NULL);
			break;
		}
		const char *next = strchr(line, '\n');
		line = next != NULL ? next + 1 : NULL;
	}
	free(body);
	return value;
}

/* Relative paths: the stack runs in the current directory. */
char *ha_stack_journals(const size_t *skip, size_t *sizes)
{
	size_t len = 0;
	char *all = calloc(1, 1);
	for (int i = 0; i < HA_MEMBERS; i++) {
		char path[64];
		snprintf(path, sizeof(path), "state-%d/journal.jsonl", i);
		char *one = harness_read_file(path);
		size_t n = one != NULL ? strlen(one) : 0, from = skip != NULL ? skip[i] : 0;
		if (sizes != NULL)
			sizes[i] = n;
		from = from < n ? from : n;
		all = realloc(all, len + n - from + 1);
		memcpy(all + len, one != NULL ? one + from : "", n - from + 1);
		len += n - from;
		free(one);
	}
	return all;
}
