/*
 * Unit tests of what a config value may say beyond its type: ${ENV:NAME}
 * expansion (in every key, keyed ones too, errors naming FILE:LINE) and
 * sizes with units ("64MiB"); and node_id = ${ENV:HOSTNAME} through the
 * agent's own loader, as a Kubernetes pod writes it.
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

#include "agent_config.h"
#include "config.h"

struct env_main {
	char *name;
	int64_t journal_bytes;
	struct config_pairs backends;
};

static const struct config_key main_keys[] = {
        {"name", CONFIG_STRING, offsetof(struct env_main, name), false, NULL, 0, 0, NULL},
        {"journal", CONFIG_SIZE, offsetof(struct env_main, journal_bytes), false, "64MiB", 65536,
         1e12, NULL},
        {"backend", CONFIG_KEYED, offsetof(struct env_main, backends), false, NULL, 0, 0, NULL},
};

static const struct config_section sections[] = {
        {.name = "main", .keys = main_keys, .key_count = 3, .offset = 0},
};

static const struct config_schema schema = {.sections = sections, .section_count = 1};

static void test_env_expansion(void **state)
{
	(void)state;
	setenv("TG_TEST_POD", "trino-worker-7f9c", 1);
	setenv("TG_TEST_EMPTY", "", 1);
	unsetenv("TG_TEST_UNSET");
	static const struct {
		const char *what;
		const char *value;
		const char *expanded; /* NULL: refused with ERROR */
		const char *error;
	} cases[] = {
	        {"a whole value", "${ENV:TG_TEST_POD}", "trino-worker-7f9c", NULL},
	        {"inside text, twice", "a-${ENV:TG_TEST_POD}.${ENV:TG_TEST_POD}",
	         "a-trino-worker-7f9c.trino-worker-7f9c", NULL},
	        {"a set but empty variable", "x${ENV:TG_TEST_EMPTY}y", "xy", NULL},
	        {"no expansion: as written", "plain $HOME {x}", "plain $HOME {x}", NULL},
	        {"an unset variable", "${ENV:TG_TEST_UNSET}", NULL,
	         "e.ini:2: [main] name: environment variable TG_TEST_UNSET is not set"},
	        {"no closing brace", "${ENV:TG_TEST_POD", NULL,
	         "e.ini:2: [main] name: '${ENV:TG_TEST_POD': write ${ENV:NAME}, NAME of letters, "
	         "digits, '_'"},
	        {"a bad name", "${ENV:A-B}", NULL,
	         "e.ini:2: [main] name: '${ENV:A-B': write ${ENV:NAME}, NAME of letters, digits, "
	         "'_'"},
	        {"another kind of expansion", "${HOSTNAME}", NULL,
	         "e.ini:2: [main] name: '${HOSTNAME}': only ${ENV:NAME} is expanded"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char text[256], err[512] = "";
		snprintf(text, sizeof(text), "[main]\nname = %s\n", cases[i].value);
		struct env_main config = {0};
		int rc = config_load_string(&schema, "e.ini", text, &config, err, sizeof(err));
		if (cases[i].expanded != NULL) {
			if (rc != 0)
				fail_msg("%s: %s", cases[i].what, err);
			assert_string_equal(config.name, cases[i].expanded);
		} else {
			assert_int_equal(rc, -1);
			assert_string_equal(err, cases[i].error);
		}
		config_free(&schema, &config);
	}
}

static void test_env_expansion_in_keyed_values(void **state)
{
	(void)state;
	setenv("TG_TEST_BACKEND", "bk_green", 1);
	struct env_main config = {0};
	char err[512] = "";
	const char *text = "[main]\nbackend.green = ${ENV:TG_TEST_BACKEND}\n";
	if (config_load_string(&schema, "e.ini", text, &config, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	assert_string_equal(config_pairs_get(&config.backends, "green"), "bk_green");
	config_free(&schema, &config);
}

static void test_sizes_take_units(void **state)
{
	(void)state;
	static const struct {
		const char *value;
		int64_t bytes; /* 0: refused with ERROR */
		const char *error;
	} cases[] = {
	        {"67108864", 67108864, NULL},
	        {"64MiB", 64LL << 20, NULL},
	        {"64 MiB", 64LL << 20, NULL},
	        {"512KiB", 512LL << 10, NULL},
	        {"1GiB", 1LL << 30, NULL},
	        {"65536B", 65536, NULL},
	        {"64MB", 0,
	         "s.ini:2: [main] journal: '64MB': unknown unit 'MB' (use B, KiB, MiB, GiB or "
	         "TiB)"},
	        {"MiB", 0,
	         "s.ini:2: [main] journal: 'MiB' is not a size (as in 65536, 512KiB, 64MiB, 1GiB)"},
	        {"-1MiB", 0,
	         "s.ini:2: [main] journal: '-1MiB' is not a size (as in 65536, 512KiB, 64MiB, "
	         "1GiB)"},
	        {"1KiB", 0, "s.ini:2: [main] journal: 1KiB is out of range (65536..1e+12 bytes)"},
	        {"99999999999TiB", 0, "s.ini:2: [main] journal: '99999999999TiB' is too large"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char text[256], err[512] = "";
		snprintf(text, sizeof(text), "[main]\njournal = %s\n", cases[i].value);
		struct env_main config = {0};
		int rc = config_load_string(&schema, "s.ini", text, &config, err, sizeof(err));
		if (cases[i].bytes != 0) {
			if (rc != 0)
				fail_msg("%s: %s", cases[i].value, err);
			assert_int_equal(config.journal_bytes, cases[i].bytes);
		} else {
			assert_int_equal(rc, -1);
			assert_string_equal(err, cases[i].error);
		}
		config_free(&schema, &config);
	}
	struct env_main config = {0};
	char err[512] = "";
	assert_int_equal(
	        config_load_string(&schema, "s.ini", "[main]\n", &config, err, sizeof(err)), 0);
	assert_int_equal(config.journal_bytes, 64LL << 20); /* the default, written "64MiB" */
	config_free(&schema, &config);
}

/* The agent's own file: node_id from the pod's host name; unset: the file and line. */
static void test_agent_node_id_from_the_environment(void **state)
{
	(void)state;
	char dir[] = "/tmp/tg-config-env-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char path[256];
	snprintf(path, sizeof(path), "%s/agent.ini", dir);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs("[agent]\ncluster = blue\nnode_id = ${ENV:TG_TEST_HOSTNAME}\n"
	      "[collector]\nendpoints = tcp://collector:7600\ncurve = off\n",
	      f);
	assert_int_equal(fclose(f), 0);
	setenv("TG_TEST_HOSTNAME", "trino-coordinator-0", 1);
	struct agent_config config = {0};
	char err[1024] = "";
	if (agent_config_load(path, &config, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	assert_string_equal(config.agent.node_id, "trino-coordinator-0");
	agent_config_free(&config);

	unsetenv("TG_TEST_HOSTNAME");
	struct agent_config unset = {0};
	assert_int_equal(agent_config_load(path, &unset, err, sizeof(err)), -1);
	char expected[512];
	snprintf(expected, sizeof(expected),
	         "%s:3: [agent] node_id: environment variable TG_TEST_HOSTNAME is not set", path);
	assert_string_equal(err, expected);
	agent_config_free(&unset);
	unlink(path);
	rmdir(dir);
}

/* Loads agent.ini of HEAD then KEYS into CONFIG; config_load_string's return. */
static int load_agent_ini(const char *head, const char *keys, struct agent_config *config,
                          char *err, size_t err_len)
{
	char text[512];
	snprintf(text, sizeof(text), "%s%s", head, keys);
	return config_load_string(&agent_config_schema, "agent.ini", text, config, err, err_len);
}

/* [agent] metrics_port: off unless set, loopback unless metrics_address says otherwise. */
static void test_agent_metrics_port_is_opt_in_and_loopback(void **state)
{
	(void)state;
	static const char *const head = "[collector]\nendpoints = tcp://collector:7600\ncurve = "
	                                "off\n[agent]\ncluster = blue\n"
	                                "node_id = n1\n";
	static const struct {
		const char *name, *agent_keys, *error; /* error: a part of it; NULL: accepted */
		int64_t port;
		const char *address;
	} cases[] = {
	        {"off by default", "", NULL, 0, "127.0.0.1"},
	        {"a port, on loopback", "metrics_port = 9469\n", NULL, 9469, "127.0.0.1"},
	        {"told otherwise", "metrics_port = 9469\nmetrics_address = ::\n", NULL, 9469, "::"},
	        {"a host name is not an address", "metrics_address = localhost\n",
	         "agent.ini:7: [agent] metrics_address 'localhost' is not a numeric", 0, NULL},
	        {"past the last port", "metrics_port = 65536\n", "agent.ini:7:", 0, NULL},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char err[512] = "";
		struct agent_config config = {0};
		int rc = load_agent_ini(head, cases[i].agent_keys, &config, err, sizeof(err));
		if (cases[i].error == NULL) {
			if (rc != 0)
				fail_msg("%s: %s", cases[i].name, err);
			assert_int_equal(config.agent.metrics_port, cases[i].port);
			assert_string_equal(config.agent.metrics_address, cases[i].address);
		} else if (rc == 0 || strstr(err, cases[i].error) == NULL) {
			fail_msg("%s: got '%s'", cases[i].name, err);
		}
		agent_config_free(&config);
	}
}

/* [trino] coordinator_id_probe: off unless set; probe_user a name fit for a header. */
static void test_trino_coordinator_id_probe_is_opt_in(void **state)
{
	(void)state;
	static const char *const head = "[collector]\nendpoints = tcp://collector:7600\ncurve = "
	                                "off\n[agent]\ncluster = blue\n"
	                                "node_id = n1\n[trino]\n";
	static const struct {
		const char *name, *trino_keys, *error; /* error: a part of it; NULL: accepted */
		bool probe;
		const char *user;
	} cases[] = {
	        {"off by default", "", NULL, false, "trino-guard"},
	        {"on, with the default user", "coordinator_id_probe = on\n", NULL, true,
	         "trino-guard"},
	        {"on, with a user", "coordinator_id_probe = on\nprobe_user = probe\n", NULL, true,
	         "probe"},
	        {"not a boolean", "coordinator_id_probe = sometimes\n", "agent.ini:8:", false,
	         NULL},
	        {"an empty user", "probe_user =\n", "probe_user is empty", false, NULL},
	        {"a control character in the user", "probe_user = a\tb\n",
	         "probe_user may not hold control characters", false, NULL},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char err[512] = "";
		struct agent_config config = {0};
		int rc = load_agent_ini(head, cases[i].trino_keys, &config, err, sizeof(err));
		if (cases[i].error == NULL) {
			if (rc != 0)
				fail_msg("%s: %s", cases[i].name, err);
			assert_int_equal(config.trino.coordinator_id_probe, cases[i].probe);
			assert_string_equal(config.trino.probe_user, cases[i].user);
		} else if (rc == 0 || strstr(err, cases[i].error) == NULL) {
			fail_msg("%s: got '%s'", cases[i].name, err);
		}
		agent_config_free(&config);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_env_expansion),
	        cmocka_unit_test(test_env_expansion_in_keyed_values),
	        cmocka_unit_test(test_sizes_take_units),
	        cmocka_unit_test(test_agent_node_id_from_the_environment),
	        cmocka_unit_test(test_agent_metrics_port_is_opt_in_and_loopback),
	        cmocka_unit_test(test_trino_coordinator_id_probe_is_opt_in),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
