/*
 * collector_config_load() on the load-balancer drivers, one row per case:
 * each driver's own check (a backend for every cluster, {cluster} in the
 * exec command, sockets and map_file, switch_url, the header limit, none's
 * one probe at most), the
 * [lb] driver choice from the driver table, and the loader's errors in the
 * drivers' sections, every error with its FILE:LINE. A row that loads also
 * builds its driver, as the collector would. Also the [ha] section's checks
 * (collector_config_ha.c), each error at its line, and the other door: which
 * [api] listen addresses count as loopback and so need no token_file; and
 * [watch]'s checks of the drain action, which runs through the exec runner.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <event2/event.h>

#include "collector_config.h"
#include "lb_drivers.h"
#include "lb_http.h"

/* Lines 1-4: curve off (no keys needed) and the two clusters; [lb] is line 5. */
#define HEAD "[collector]\ncurve = off\n[cluster.blue]\n[cluster.green]\n"

struct row {
	const char *name;  /* what the row proves */
	const char *text;  /* collector.ini */
	const char *error; /* a substring of the error, from "collector.ini:LINE:"; NULL: loads */
};

/* The rows below spell out this many headers. */
_Static_assert(LB_HTTP_MAX_HEADERS == 8, "update the http header rows");

/* [ha] is line 5 after HEAD: an error blamed on line LINE of it. */
#define HA_AT(line) "collector.ini:" #line ": [ha] "
#define ID_10       "collector-"
/* 101 characters, one more than an id may have */
#define ID_101 ID_10 ID_10 ID_10 ID_10 ID_10 ID_10 ID_10 ID_10 ID_10 ID_10 "x"

/* [api] is line 5 after HEAD. */
#define NO_TOKEN "collector.ini:6: [api] listening on "

static const struct row rows[] = {
        /* [watch]: the drain action needs the drain gate and a {cluster} to act on */
        {"drain_action_with_the_gate_loads",
         HEAD "[watch]\ndrain_quiet = 1m\ndrain_shutdown_command = ./shut.sh {cluster}\n", NULL},
        {"drain_action_without_the_gate_is_refused",
         HEAD "[watch]\ndrain_shutdown_command = ./shut.sh {cluster}\n",
         "drain_shutdown_command needs drain_quiet (the drain gate)"},
        {"drain_action_without_cluster_is_refused",
         HEAD "[watch]\ndrain_quiet = 1m\ndrain_shutdown_command = ./shut.sh blue\n",
         "drain_shutdown_command must contain {cluster}"},
        /* [api] listen: only literal loopback addresses and localhost go without a token */
        {"api_on_ipv4_loopback_needs_no_token", HEAD "[api]\nlisten = 127.0.0.1:7601\n", NULL},
        {"api_on_any_address_of_127_0_0_0_8_needs_no_token",
         HEAD "[api]\nlisten = 127.3.2.1:7601\n", NULL},
        {"api_on_ipv6_loopback_needs_no_token", HEAD "[api]\nlisten = [::1]:7601\n", NULL},
        {"api_on_localhost_needs_no_token", HEAD "[api]\nlisten = localhost:7601\n", NULL},
        {"api_on_a_host_name_beginning_127_needs_a_token",
         HEAD "[api]\nlisten = 127.attacker.example:7601\n",
         NO_TOKEN "127.attacker.example (not loopback) requires token_file"},
        {"api_on_a_name_made_of_a_loopback_address_needs_a_token",
         HEAD "[api]\nlisten = 127.0.0.1.nip.io:7601\n",
         NO_TOKEN "127.0.0.1.nip.io (not loopback) requires token_file"},
        {"api_on_every_address_needs_a_token", HEAD "[api]\nlisten = 0.0.0.0:7601\n",
         NO_TOKEN "0.0.0.0 (not loopback) requires token_file"},
        {"api_on_ipv6_other_than_loopback_needs_a_token", HEAD "[api]\nlisten = [::]:7601\n",
         NO_TOKEN ":: (not loopback) requires token_file"},
        {"api_on_a_name_beginning_localhost_needs_a_token",
         HEAD "[api]\nlisten = localhost.example:7601\n",
         NO_TOKEN "localhost.example (not loopback) requires token_file"},
        /* [ha]: each error names the section's line, or the line of the key at fault */
        {"ha_with_endpoints_lease_and_id_loads",
         HEAD "[ha]\netcd_endpoints = http://10.0.0.1:2379, https://etcd-2:2379\n"
              "lease_ttl = 10s\nid = collector-a\nprefix = /trino-guard/prod\n",
         NULL},
        {"ha_without_etcd_endpoints_is_refused_at_the_sections_line",
         HEAD "[ha]\nlease_ttl = 5s\nid = collector-a\n",
         "collector.ini:5: [ha] needs etcd_endpoints"},
        {"ha_endpoint_without_a_scheme_is_refused",
         HEAD "[ha]\nid = collector-a\netcd_endpoints = http://10.0.0.1:2379, 10.0.0.2:2379\n",
         HA_AT(7) "'10.0.0.2:2379' must start with http:// or https://"},
        {"ha_endpoint_of_another_scheme_is_refused",
         HEAD "[ha]\netcd_endpoints = unix:///run/etcd.sock\n",
         HA_AT(6) "'unix:///run/etcd.sock' must start with http:// or https://"},
        {"ha_lease_ttl_of_zero_is_refused",
         HEAD "[ha]\netcd_endpoints = http://10.0.0.1:2379\nlease_ttl = 0s\n",
         HA_AT(7) "lease_ttl: 0s is out of range (2s..1m)"},
        {"ha_lease_ttl_of_part_seconds_is_refused",
         HEAD "[ha]\netcd_endpoints = http://10.0.0.1:2379\nlease_ttl = 2500ms\n",
         HA_AT(7) "etcd leases are whole seconds"},
        {"ha_id_with_a_slash_is_refused",
         HEAD "[ha]\netcd_endpoints = http://10.0.0.1:2379\nid = blue/a\n",
         HA_AT(7) "an id is 1 to 100 characters, without /"},
        {"ha_id_of_101_characters_is_refused",
         HEAD "[ha]\netcd_endpoints = http://10.0.0.1:2379\nid = " ID_101 "\n",
         HA_AT(7) "an id is 1 to 100 characters, without /"},
        {"ha_cert_file_without_key_file_is_refused",
         HEAD "[ha]\netcd_endpoints = https://10.0.0.1:2379\ncert_file = /etc/etcd/c.pem\n",
         HA_AT(7) "cert_file and key_file go together"},
        {"ha_username_without_password_file_is_refused",
         HEAD "[ha]\netcd_endpoints = http://10.0.0.1:2379\nusername = trino-guard\n",
         HA_AT(7) "username and password_file go together"},
        {"ha_password_file_without_username_is_refused",
         HEAD "[ha]\netcd_endpoints = http://10.0.0.1:2379\npassword_file = /etc/tg/etcd.pw\n",
         HA_AT(7) "username and password_file go together"},
        {"ha_prefix_not_beginning_with_a_slash_is_refused",
         HEAD "[ha]\netcd_endpoints = http://10.0.0.1:2379\nprefix = trino-guard\n",
         HA_AT(7) "the prefix must start with /"},
        /* haproxy */
        {"haproxy_with_sockets_map_file_and_a_backend_per_cluster_loads",
         HEAD "[lb]\ndriver = haproxy\n"
              "[lb.haproxy]\nsockets = /run/haproxy/a.sock, 127.0.0.1:9999\n"
              "map_file = /etc/haproxy/active.map\nbackend.blue = bk_blue\n"
              "backend.green = bk_green\n",
         NULL},
        {"haproxy_with_a_map_file_per_socket_loads",
         HEAD "[lb]\ndriver = haproxy\n"
              "[lb.haproxy]\nsockets = /run/haproxy/a.sock, /run/haproxy/b.sock\n"
              "map_files = /etc/haproxy/a.map, /etc/haproxy/b.map\nbackend.blue = bk_blue\n"
              "backend.green = bk_green\n",
         NULL},
        {"haproxy_map_files_one_per_socket",
         HEAD "[lb]\ndriver = haproxy\n"
              "[lb.haproxy]\nsockets = /run/haproxy/a.sock, /run/haproxy/b.sock\n"
              "map_files = /etc/haproxy/a.map\nbackend.blue = bk_blue\n"
              "backend.green = bk_green\n",
         "collector.ini:9: [lb.haproxy] map_files needs one file per socket, in the same order "
         "(2 sockets, 1 files)"},
        {"haproxy_map_files_or_map_file_not_both",
         HEAD "[lb]\ndriver = haproxy\n"
              "[lb.haproxy]\nsockets = /run/haproxy/a.sock\nmap_file = /etc/haproxy/x.map\n"
              "map_files = /etc/haproxy/a.map\nbackend.blue = bk_blue\n"
              "backend.green = bk_green\n",
         "collector.ini:10: [lb.haproxy] map_files (one per socket) replaces map_file: set one"},
        {"haproxy_without_a_backend_for_green_blames_its_section",
         HEAD "[lb]\ndriver = haproxy\n"
              "[lb.haproxy]\nsockets = /run/haproxy/a.sock\nmap_file = /etc/haproxy/active.map\n"
              "backend.blue = bk_blue\n",
         "collector.ini:7: [lb.haproxy] has no backend.green = <backend> for cluster green"},
        {"haproxy_without_sockets_blames_its_section",
         HEAD "[lb]\ndriver = haproxy\n"
              "[lb.haproxy]\nmap_file = /etc/haproxy/active.map\nbackend.blue = bk_blue\n"
              "backend.green = bk_green\n",
         "collector.ini:7: [lb] driver = haproxy needs [lb.haproxy] sockets and map_file"},
        {"haproxy_with_empty_sockets_blames_the_key",
         HEAD "[lb]\ndriver = haproxy\n"
              "[lb.haproxy]\nmap_file = /etc/haproxy/active.map\nsockets =\n"
              "backend.blue = bk_blue\nbackend.green = bk_green\n",
         "collector.ini:9: [lb] driver = haproxy needs [lb.haproxy] sockets and map_file"},
        {"haproxy_without_map_file_blames_its_section",
         HEAD "[lb]\ndriver = haproxy\n"
              "[lb.haproxy]\nsockets = /run/haproxy/a.sock\nbackend.blue = bk_blue\n"
              "backend.green = bk_green\n",
         "collector.ini:7: [lb] driver = haproxy needs [lb.haproxy] sockets and map_file"},
        {"haproxy_without_its_section_blames_lb_driver", HEAD "[lb]\ndriver = haproxy\n",
         "collector.ini:6: [lb] driver = haproxy needs [lb.haproxy] sockets and map_file"},
        {"haproxy_section_before_lb_is_checked_all_the_same",
         HEAD "[lb.haproxy]\nsockets = /run/haproxy/a.sock\nmap_file = /etc/haproxy/active.map\n"
              "backend.green = bk_green\n"
              "[lb]\ndriver = haproxy\n",
         "collector.ini:5: [lb.haproxy] has no backend.blue = <backend> for cluster blue"},
        {"haproxy_duplicate_backend_is_the_loaders_error",
         HEAD "[lb]\ndriver = haproxy\n"
              "[lb.haproxy]\nbackend.blue = bk_blue\nbackend.blue = bk_green\n",
         "collector.ini:9: duplicate key 'backend.blue' in [lb.haproxy]"},

        /* trino-gateway */
        {"gateway_with_url_and_a_backend_per_cluster_loads",
         HEAD "[lb]\ndriver = trino-gateway\n"
              "[lb.trino-gateway]\nurl = http://gateway:8080\nbackend.blue = trino-blue\n"
              "backend.green = trino-green\nhealthy_timeout = 5m\n",
         NULL},
        {"gateway_without_a_backend_for_green_blames_its_section",
         HEAD "[lb]\ndriver = trino-gateway\n"
              "[lb.trino-gateway]\nurl = http://gateway:8080\nbackend.blue = trino-blue\n",
         "collector.ini:7: [lb.trino-gateway] has no backend.green = <backend name> for cluster "
         "green"},
        {"gateway_without_url_blames_its_section",
         HEAD "[lb]\ndriver = trino-gateway\n"
              "[lb.trino-gateway]\nbackend.blue = trino-blue\nbackend.green = trino-green\n",
         "collector.ini:7: [lb] driver = trino-gateway needs [lb.trino-gateway] url"},
        {"gateway_healthy_timeout_not_longer_than_monitor_round_blames_healthy_timeout",
         HEAD "[lb]\ndriver = trino-gateway\n"
              "[lb.trino-gateway]\nurl = http://gateway:8080\nbackend.blue = trino-blue\n"
              "backend.green = trino-green\nmonitor_round = 2m\nhealthy_timeout = 2m\n",
         "collector.ini:12: [lb.trino-gateway] healthy_timeout must be longer than "
         "monitor_round: a switch waits up to one health round for the target"},
        {"gateway_duration_out_of_range_is_the_loaders_error",
         HEAD "[lb]\ndriver = trino-gateway\n"
              "[lb.trino-gateway]\nurl = http://gateway:8080\nhealth_poll = 10ms\n",
         "collector.ini:9: [lb.trino-gateway] health_poll: 10ms is out of range (100ms..1m)"},

        /* exec */
        {"exec_with_cluster_in_switch_command_loads",
         HEAD "[lb]\ndriver = exec\n"
              "[lb.exec]\nswitch_command = /usr/local/bin/lb-switch {cluster}\n"
              "current_command = /usr/local/bin/lb-current\n",
         NULL},
        {"exec_without_cluster_in_switch_command_blames_the_key",
         HEAD "[lb]\ndriver = exec\n"
              "[lb.exec]\ncurrent_command = /usr/local/bin/lb-current\n"
              "switch_command = /usr/local/bin/lb-switch green\n",
         "collector.ini:9: [lb] driver = exec needs [lb.exec] switch_command with {cluster}"},
        {"exec_without_switch_command_blames_its_section",
         HEAD "[lb]\ndriver = exec\n[lb.exec]\ncurrent_command = /usr/local/bin/lb-current\n",
         "collector.ini:7: [lb] driver = exec needs [lb.exec] switch_command with {cluster}"},
        {"exec_unknown_key_is_the_loaders_error",
         HEAD "[lb]\ndriver = exec\n[lb.exec]\nswitch_command = x {cluster}\ntik = 1\n",
         "collector.ini:9: unknown key 'tik' in [lb.exec]"},

        /* http */
        {"http_with_switch_url_and_headers_loads",
         HEAD "[lb]\ndriver = http\n"
              "[lb.http]\nswitch_method = PATCH\nswitch_url = https://k8s/api/{cluster}\n"
              "header.Authorization = Bearer x\nheader.Content-Type = application/json\n"
              "switch_expect = 200\ncurrent_url = https://k8s/api\n"
              "current_json = spec.selector.cluster\n",
         NULL},
        {"http_without_switch_url_blames_its_section",
         HEAD "[lb]\ndriver = http\n[lb.http]\nswitch_method = PATCH\n",
         "collector.ini:7: [lb] driver = http needs [lb.http] switch_url"},
        {"http_with_eight_headers_loads",
         HEAD "[lb]\ndriver = http\n[lb.http]\nswitch_url = http://lb/{cluster}\n"
              "header.X-1 = 1\nheader.X-2 = 2\nheader.X-3 = 3\nheader.X-4 = 4\n"
              "header.X-5 = 5\nheader.X-6 = 6\nheader.X-7 = 7\nheader.X-8 = 8\n",
         NULL},
        {"http_with_nine_headers_blames_the_ninth",
         HEAD "[lb]\ndriver = http\n[lb.http]\nswitch_url = http://lb/{cluster}\n"
              "header.X-1 = 1\nheader.X-2 = 2\nheader.X-3 = 3\nheader.X-4 = 4\n"
              "header.X-5 = 5\nheader.X-6 = 6\nheader.X-7 = 7\nheader.X-8 = 8\n"
              "header.X-9 = 9\n",
         "collector.ini:17: [lb.http] header.X-9: at most 8 header.NAME and header_file.NAME keys "
         "in all"},
        {"http_status_out_of_range_is_the_loaders_error",
         HEAD "[lb]\ndriver = http\n[lb.http]\nswitch_url = http://lb/{cluster}\n"
              "switch_expect = 700\n",
         "collector.ini:9: [lb.http] switch_expect: 700 is out of range (0..599)"},

        /* none: a read-only probe of the LB and the traffic evidence */
        {"none_with_current_command_loads",
         HEAD "[lb]\ndriver = none\n[lb.none]\ncurrent_command = /usr/local/bin/lb-current\n"
              "current_timeout = 3s\ntraffic_queries = 50\ntraffic_quiet = 2m\n",
         NULL},
        {"none_with_current_url_and_json_loads",
         HEAD "[lb]\ndriver = none\n[lb.none]\ncurrent_url = http://lb/active\n"
              "current_json = spec.selector.cluster\n",
         NULL},
        {"none_with_both_probes_blames_current_url",
         HEAD "[lb]\ndriver = none\n[lb.none]\ncurrent_command = lb-current\n"
              "current_url = http://lb/active\n",
         "collector.ini:9: [lb.none] current_command and current_url: give one way to read "
         "the LB"},
        {"none_with_current_json_alone_blames_it",
         HEAD "[lb]\ndriver = none\n[lb.none]\ncurrent_json = cluster\n",
         "collector.ini:8: [lb.none] current_json needs current_url"},
        {"none_traffic_quiet_below_a_second_is_the_loaders_error",
         HEAD "[lb]\ndriver = none\n[lb.none]\ntraffic_quiet = 500ms\n",
         "collector.ini:8: [lb.none] traffic_quiet: 500ms is out of range (1s..1d)"},
        {"none_section_without_lb_section_is_checked", HEAD "[lb.none]\ncurrent_json = cluster\n",
         "collector.ini:6: [lb.none] current_json needs current_url"},

        /* [lb] driver and the table */
        {"unknown_driver_lists_the_tables_names", HEAD "[lb]\ndriver = nginx\n",
         "collector.ini:6: [lb] driver: 'nginx' is not one of "
         "none|haproxy|exec|http|trino-gateway"},
        {"driver_names_are_case_sensitive", HEAD "[lb]\ndriver = HAProxy\n",
         "collector.ini:6: [lb] driver: 'HAProxy' is not one of"},
        {"unknown_driver_section_is_the_loaders_error", HEAD "[lb.nginx]\nurl = x\n",
         "collector.ini:5: unknown section [lb.nginx]"},
        {"no_lb_section_is_driver_none", HEAD, NULL},
        {"driver_none_does_not_check_other_drivers_sections",
         HEAD "[lb]\ndriver = none\n[lb.haproxy]\nbackend.blue = bk_blue\n"
              "[lb.exec]\nswitch_command = no placeholder\n",
         NULL},
        {"only_the_chosen_driver_is_checked",
         HEAD "[lb]\ndriver = exec\n[lb.exec]\nswitch_command = x {cluster}\n"
              "[lb.http]\nswitch_method = PUT\n",
         NULL},
        {"no_cluster_is_still_reported_before_the_driver",
         "[collector]\ncurve = off\n[lb]\ndriver = exec\n",
         "collector.ini: no [cluster.NAME] section"},
};

static char dir[] = "/tmp/tg-lb-config-XXXXXX";

static int setup(void **state)
{
	(void)state;
	return mkdtemp(dir) != NULL ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	char path[256];
	snprintf(path, sizeof(path), "%s/collector.ini", dir);
	unlink(path);
	return rmdir(dir);
}

/* Writes TEXT as collector.ini and loads it; 0 or -1 with ERR. */
static int load_text(const char *text, struct collector_config *config, char *err, size_t err_len)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/collector.ini", dir);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	assert_true(fputs(text, f) >= 0);
	assert_int_equal(fclose(f), 0);
	memset(config, 0, sizeof(*config));
	return collector_config_load(path, config, err, err_len);
}

/* What the collector does with a loaded config: build the driver [lb] names. */
static void build_driver(const struct collector_config *config)
{
	struct event_base *base = event_base_new();
	assert_non_null(base);
	struct lb_driver driver;
	char err[512] = "";
	if (lb_driver_from_config(base, config, NULL, &driver, err, sizeof(err)) != 0)
		fail_msg("the driver did not build: %s", err);
	if (strcmp(config->lb.driver, "none") == 0) {
		/* it never switches: a reader of the LB at most, with [lb.none]'s probe */
		assert_null(driver.switch_to);
		assert_true((driver.impl != NULL) == (driver.current != NULL));
		if (driver.impl != NULL)
			driver.free(driver.impl);
	} else {
		assert_non_null(driver.impl);
		driver.free(driver.impl);
	}
	event_base_free(base);
}

static void test_row(void **state)
{
	const struct row *row = *state;
	struct collector_config config;
	char err[1024] = "";
	int rc = load_text(row->text, &config, err, sizeof(err));
	if (row->error == NULL) {
		if (rc != 0)
			fail_msg("%s: should load, but: %s", row->name, err);
		build_driver(&config);
	} else {
		if (rc == 0)
			fail_msg("%s: loaded, but should fail with '%s'", row->name, row->error);
		if (strstr(err, row->error) == NULL)
			fail_msg("%s: error '%s' does not contain '%s'", row->name, err,
			         row->error);
	}
	collector_config_free(&config);
	for (size_t i = 0; i < COLLECTOR_MAX_LB_DRIVERS; i++)
		assert_null(config.lb.sections[i]); /* freed with the rest */
}

/* The header limit is one constant: the config takes as many as the driver keeps. */
static void test_http_header_limit_is_the_drivers(void **state)
{
	(void)state;
	for (int extra = 0; extra <= 1; extra++) {
		char text[4096];
		int used =
		        snprintf(text, sizeof(text),
		                 HEAD "[lb]\ndriver = http\n[lb.http]\nswitch_url = http://lb/\n");
		for (int i = 0; i < LB_HTTP_MAX_HEADERS + extra; i++)
			used += snprintf(text + used, sizeof(text) - (size_t)used,
			                 "header.X-%d = %d\n", i, i);
		struct collector_config config;
		char err[1024] = "";
		int rc = load_text(text, &config, err, sizeof(err));
		if (extra == 0) {
			if (rc != 0)
				fail_msg("%d headers refused: %s", LB_HTTP_MAX_HEADERS, err);
			build_driver(&config);
		} else {
			char expected[128];
			snprintf(expected, sizeof(expected),
			         "collector.ini:%d: [lb.http] header.X-%d", 9 + LB_HTTP_MAX_HEADERS,
			         LB_HTTP_MAX_HEADERS);
			assert_int_equal(rc, -1);
			if (strstr(err, expected) == NULL)
				fail_msg("'%s' does not contain '%s'", err, expected);
		}
		collector_config_free(&config);
	}
}

/* Every name the choice offers is a row, found at its place, once. */
static void test_driver_names_are_the_tables_rows(void **state)
{
	(void)state;
	char names[256];
	lb_driver_type_names(names, sizeof(names));
	assert_string_equal(names, "none|haproxy|exec|http|trino-gateway");
	size_t row = 0;
	for (char *rest = names, *name; (name = strsep(&rest, "|")) != NULL; row++) {
		size_t found = 99;
		const struct lb_driver_type *type = lb_driver_type_find(name, &found);
		assert_non_null(type);
		assert_int_equal(found, row);
		assert_ptr_equal(type, lb_driver_type_at(row));
		/* a driver with a section can be checked and built from it */
		if (type->keys != NULL) {
			assert_non_null(type->check);
			assert_non_null(type->create);
			assert_true(type->section_size > 0);
		}
	}
	assert_int_equal(row, lb_driver_type_count());
	assert_null(lb_driver_type_at(row));
	assert_null(lb_driver_type_find("nginx", NULL));
}

int main(void)
{
	enum { ROWS = sizeof(rows) / sizeof(rows[0]) };
	struct CMUnitTest tests[ROWS + 2];
	for (size_t i = 0; i < ROWS; i++)
		tests[i] = (struct CMUnitTest){.name = rows[i].name,
		                               .test_func = test_row,
		                               .initial_state = (void *)&rows[i]};
	tests[ROWS] = (struct CMUnitTest)cmocka_unit_test(test_http_header_limit_is_the_drivers);
	tests[ROWS + 1] =
	        (struct CMUnitTest)cmocka_unit_test(test_driver_names_are_the_tables_rows);
	return cmocka_run_group_tests(tests, setup, teardown);
}
