/*
 * Unit tests of the table-driven INI loader: every type, defaults, families
 * of sections, and every error naming FILE:LINE.
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

#include "config.h"

struct test_main {
	char *name;
	char *dir;
	int64_t workers;
	double ratio;
	bool enabled;
	int64_t tick_ms;
	struct config_list endpoints;
	int mode;
	struct config_pairs backends;
};

struct test_cluster {
	char name[32];
	int64_t min_workers;
	int64_t stale_after_ms;
};

struct test_config {
	struct test_main main;
	struct test_cluster clusters[4];
	size_t cluster_count;
};

static const char *const mode_names[] = {"auto", "metrics", "jmx", NULL};

static const struct config_key main_keys[] = {
        {"name", CONFIG_STRING, offsetof(struct test_main, name), true, NULL, 0, 0, NULL},
        {"dir", CONFIG_PATH, offsetof(struct test_main, dir), false, "/var/lib/x", 0, 0, NULL},
        {"workers", CONFIG_INT, offsetof(struct test_main, workers), false, "2", 0, 100, NULL},
        {"ratio", CONFIG_DOUBLE, offsetof(struct test_main, ratio), false, "0.05", 0, 1, NULL},
        {"enabled", CONFIG_BOOL, offsetof(struct test_main, enabled), false, "on", 0, 0, NULL},
        {"tick", CONFIG_DURATION, offsetof(struct test_main, tick_ms), false, "250ms", 10, 60000,
         NULL},
        {"endpoints", CONFIG_LIST, offsetof(struct test_main, endpoints), false, NULL, 0, 0, NULL},
        {"mode", CONFIG_CHOICE, offsetof(struct test_main, mode), false, "auto", 0, 0, mode_names},
        {"backend", CONFIG_KEYED, offsetof(struct test_main, backends), false, NULL, 0, 0, NULL},
};

static const struct config_key cluster_keys[] = {
        {"min_workers", CONFIG_INT, offsetof(struct test_cluster, min_workers), true, NULL, 0,
         10000, NULL},
        {"stale_after", CONFIG_DURATION, offsetof(struct test_cluster, stale_after_ms), false, "3s",
         0, 0, NULL},
};

static void *cluster_instance(void *target, const char *name, char *err, size_t err_len)
{
	struct test_config *config = target;
	if (config->cluster_count == 4) {
		snprintf(err, err_len, "at most 4 clusters");
		return NULL;
	}
	struct test_cluster *cluster = &config->clusters[config->cluster_count++];
	snprintf(cluster->name, sizeof(cluster->name), "%s", name);
	return cluster;
}

static void *cluster_at(void *target, size_t index)
{
	struct test_config *config = target;
	return index < config->cluster_count ? &config->clusters[index] : NULL;
}

/* Cross-key checks: the jmx mode allows at most 50 workers; stale_after >= 1s. */
static int validate_main(void *object, const char **key, char *why, size_t why_len)
{
	struct test_main *main_section = object;
	if (main_section->mode == 2 && main_section->workers > 50) {
		*key = "workers";
		snprintf(why, why_len, "workers must be at most 50 with mode = jmx");
		return -1;
	}
	return 0;
}

static int validate_cluster(void *object, const char **key, char *why, size_t why_len)
{
	struct test_cluster *cluster = object;
	if (cluster->stale_after_ms < 1000) {
		*key = "stale_after";
		snprintf(why, why_len, "stale_after must be at least 1s");
		return -1;
	}
	return 0;
}

static const struct config_section sections[] = {
        {.name = "main",
         .keys = main_keys,
         .key_count = sizeof(main_keys) / sizeof(main_keys[0]),
         .offset = offsetof(struct test_config, main),
         .validate = validate_main},
        {.name = "cluster.",
         .is_family = true,
         .keys = cluster_keys,
         .key_count = sizeof(cluster_keys) / sizeof(cluster_keys[0]),
         .instance = cluster_instance,
         .instance_at = cluster_at,
         .validate = validate_cluster},
};

static const struct config_schema schema = {.sections = sections, .section_count = 2};

static void test_full_config_loads_every_type(void **state)
{
	(void)state;
	struct test_config config = {0};
	char err[512] = "";
	const char *text = "; a comment\n"
	                   "[main]\n"
	                   "name = guard\n"
	                   "dir = state\n"
	                   "workers = 7\n"
	                   "ratio = 0.1\n"
	                   "enabled = false\n"
	                   "tick = 1s\n"
	                   "endpoints = tcp://a:1, tcp://b:2 tcp://c:3\n"
	                   "mode = jmx\n"
	                   "[cluster.blue]\n"
	                   "min_workers = 2\n"
	                   "[cluster.green]\n"
	                   "min_workers = 3\n"
	                   "stale_after = 10s\n";
	int rc = config_load_string(&schema, "test.ini", text, &config, err, sizeof(err));
	assert_int_equal(rc, 0);
	assert_string_equal(config.main.name, "guard");
	assert_string_equal(config.main.dir, "state"); /* in-memory: no base dir */
	assert_int_equal(config.main.workers, 7);
	assert_true(config.main.ratio > 0.099 && config.main.ratio < 0.101);
	assert_false(config.main.enabled);
	assert_int_equal(config.main.tick_ms, 1000);
	assert_int_equal(config.main.endpoints.count, 3);
	assert_string_equal(config.main.endpoints.items[2], "tcp://c:3");
	assert_int_equal(config.main.mode, 2);
	assert_int_equal(config.cluster_count, 2);
	assert_string_equal(config.clusters[0].name, "blue");
	assert_int_equal(config.clusters[0].min_workers, 2);
	assert_int_equal(config.clusters[0].stale_after_ms, 3000); /* family default */
	assert_int_equal(config.clusters[1].stale_after_ms, 10000);
	config_free(&schema, &config);
}

static void test_keyed_keys(void **state)
{
	(void)state;
	struct test_config config = {0};
	char err[512] = "";
	const char *text = "[main]\nname=x\nbackend.blue = bk_blue\nbackend.green = bk_green\n";
	if (config_load_string(&schema, "k.ini", text, &config, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	assert_int_equal(config.main.backends.count, 2);
	assert_string_equal(config.main.backends.items[0].name, "blue");
	assert_string_equal(config.main.backends.items[0].value, "bk_blue");
	assert_string_equal(config.main.backends.items[1].name, "green");
	assert_string_equal(config.main.backends.items[1].value, "bk_green");
	assert_string_equal(config_pairs_get(&config.main.backends, "green"), "bk_green");
	assert_null(config_pairs_get(&config.main.backends, "red"));
	config_free(&schema, &config);
	struct test_config again = {0};
	assert_int_equal(config_load_string(&schema, "k.ini",
	                                    "[main]\nname=x\nbackend.blue=a\nbackend.blue=b\n",
	                                    &again, err, sizeof(err)),
	                 -1);
	assert_string_equal(err, "k.ini:4: duplicate key 'backend.blue' in [main]");
	config_free(&schema, &again);
	struct test_config bare = {0};
	assert_int_equal(config_load_string(&schema, "k.ini", "[main]\nname=x\nbackend=a\n", &bare,
	                                    err, sizeof(err)),
	                 -1);
	assert_string_equal(err, "k.ini:3: [main] backend needs a name, as in backend.NAME");
	config_free(&schema, &bare);
}

static void test_defaults_apply_when_keys_are_absent(void **state)
{
	(void)state;
	struct test_config config = {0};
	char err[512] = "";
	assert_int_equal(
	        config_load_string(&schema, "t.ini", "[main]\nname=x\n", &config, err, sizeof(err)),
	        0);
	assert_string_equal(config.main.dir, "/var/lib/x");
	assert_int_equal(config.main.workers, 2);
	assert_true(config.main.enabled);
	assert_int_equal(config.main.tick_ms, 250);
	assert_int_equal(config.main.mode, 0);
	assert_int_equal(config.main.endpoints.count, 0);
	config_free(&schema, &config);
}

struct error_case {
	const char *name;
	const char *text;
	const char *expected; /* the whole error message */
};

static const struct error_case error_cases[] = {
        {"unknown key", "[main]\nname=x\ntik=1s\n", "c.ini:3: unknown key 'tik' in [main]"},
        {"unknown section", "[main]\nname=x\n[mian]\na=b\n", "c.ini:3: unknown section [mian]"},
        {"missing required key", "[main]\nworkers=1\n", "c.ini:1: [main] name is required"},
        {"missing required section", "", "c.ini: [main] name is required"},
        {"missing required key in a family", "[main]\nname=x\n[cluster.green]\nstale_after=1s\n",
         "c.ini:3: [cluster.green] min_workers is required"},
        {"bad integer", "[main]\nname=x\nworkers=two\n",
         "c.ini:3: [main] workers: 'two' is not an integer"},
        {"integer out of range", "[main]\nname=x\nworkers=101\n",
         "c.ini:3: [main] workers: 101 is out of range (0..100)"},
        {"bad double", "[main]\nname=x\nratio=5%\n", "c.ini:3: [main] ratio: '5%' is not a number"},
        {"double out of range", "[main]\nname=x\nratio=1.5\n",
         "c.ini:3: [main] ratio: 1.5 is out of range (0..1)"},
        {"bad boolean", "[main]\nname=x\nenabled=maybe\n",
         "c.ini:3: [main] enabled: 'maybe' is not a boolean (use true/false, on/off)"},
        {"duration without unit", "[main]\nname=x\ntick=5\n",
         "c.ini:3: [main] tick: '5' has no unit (use e.g. 5ms or 5s)"},
        {"duration out of range", "[main]\nname=x\ntick=5ms\n",
         "c.ini:3: [main] tick: 5ms is out of range (10ms..1m)"},
        {"bad choice", "[main]\nname=x\nmode=prometheus\n",
         "c.ini:3: [main] mode: 'prometheus' is not one of auto|metrics|jmx"},
        {"duplicate key", "[main]\nname=x\nname=y\n",
         "c.ini:3: duplicate key 'name' in [main] (first set on line 2)"},
        {"key before any section", "name=x\n", "c.ini:1: key 'name' outside of any section"},
        {"syntax error", "[main]\nname=x\njust some words\n",
         "c.ini:3: syntax error (expected [section] or key = value)"},
        {"family without a name", "[main]\nname=x\n[cluster.]\nmin_workers=1\n",
         "c.ini:3: section [cluster.] needs a name, as in [cluster.NAME]"},
        {"family refuses an instance",
         "[main]\nname=x\n[cluster.a]\nmin_workers=1\n[cluster.b]\nmin_workers=1\n"
         "[cluster.c]\nmin_workers=1\n[cluster.d]\nmin_workers=1\n[cluster.e]\nmin_workers=1\n",
         "c.ini:11: [cluster.e]: at most 4 clusters"},
        {"first error wins", "[main]\nname=x\nbogus=1\nworse=2\n",
         "c.ini:3: unknown key 'bogus' in [main]"},
        {"section check blames its key", "[main]\nname=x\nworkers=60\n\nmode=jmx\n",
         "c.ini:3: [main] workers must be at most 50 with mode = jmx"},
        {"family check blames its key",
         "[main]\nname=x\n[cluster.g]\nmin_workers=1\nstale_after=10ms\n",
         "c.ini:5: [cluster.g] stale_after must be at least 1s"},
};

static void test_errors_name_file_and_line(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(error_cases) / sizeof(error_cases[0]); i++) {
		const struct error_case *c = &error_cases[i];
		struct test_config config = {0};
		char err[512] = "";
		int rc = config_load_string(&schema, "c.ini", c->text, &config, err, sizeof(err));
		if (rc != -1)
			fail_msg("case '%s': accepted", c->name);
		if (strcmp(err, c->expected) != 0)
			fail_msg("case '%s':\n  got      '%s'\n  expected '%s'", c->name, err,
			         c->expected);
		config_free(&schema, &config);
	}
}

static void test_overlong_line_is_refused(void **state)
{
	(void)state;
	char text[1024];
	int n = snprintf(text, sizeof(text), "[main]\nname=");
	memset(text + n, 'a', 500);
	strcpy(text + n + 500, "\nworkers=1\n");
	struct test_config config = {0};
	char err[512] = "";
	assert_int_equal(config_load_string(&schema, "c.ini", text, &config, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "c.ini:2: line longer than"));
	config_free(&schema, &config);
}

static void test_file_paths_are_relative_to_the_config_file(void **state)
{
	(void)state;
	char dir[] = "/tmp/tg-config-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char path[256];
	snprintf(path, sizeof(path), "%s/guard.ini", dir);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs("[main]\nname = x\ndir = state\n", f);
	fclose(f);

	struct test_config config = {0};
	char err[512] = "";
	assert_int_equal(config_load(&schema, path, &config, err, sizeof(err)), 0);
	char expected[300];
	snprintf(expected, sizeof(expected), "%s/state", dir);
	assert_string_equal(config.main.dir, expected);
	config_free(&schema, &config);

	/* An unknown key in a real file names the file's path and the line. */
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("[main]\nname = x\n\n\nbogus = 1\n", f);
	fclose(f);
	struct test_config again = {0};
	assert_int_equal(config_load(&schema, path, &again, err, sizeof(err)), -1);
	char expected_err[400];
	snprintf(expected_err, sizeof(expected_err), "%s:5: unknown key 'bogus' in [main]", path);
	assert_string_equal(err, expected_err);
	config_free(&schema, &again);
	unlink(path);

	struct test_config missing = {0};
	assert_int_equal(config_load(&schema, path, &missing, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "cannot open: No such file or directory"));
	rmdir(dir);
}

/*
 * A plug-in's section: the target holds only a pointer to its struct, which
 * the loader allocates; a schema check across sections blames a line it
 * looks up with config_where_line().
 */
struct test_plugin {
	char *url;
	int64_t slots;
};

struct test_plugged {
	struct test_main main;
	void *plugin; /* struct test_plugin, allocated by the loader */
	struct test_cluster clusters[4];
	size_t cluster_count;
};

static const struct config_key plugin_keys[] = {
        {"url", CONFIG_STRING, offsetof(struct test_plugin, url), false, NULL, 0, 0, NULL},
        {"slots", CONFIG_INT, offsetof(struct test_plugin, slots), false, "3", 0, 100, NULL},
};

static void *plugged_cluster_instance(void *target, const char *name, char *err, size_t err_len)
{
	struct test_plugged *config = target;
	if (config->cluster_count == 4) {
		snprintf(err, err_len, "at most 4 clusters");
		return NULL;
	}
	struct test_cluster *cluster = &config->clusters[config->cluster_count++];
	snprintf(cluster->name, sizeof(cluster->name), "%s", name);
	return cluster;
}

static void *plugged_cluster_at(void *target, size_t index)
{
	struct test_plugged *config = target;
	return index < config->cluster_count ? &config->clusters[index] : NULL;
}

/* The plug-in needs a url and no more slots than [main] workers. */
static int check_plugged(void *target, const struct config_where *where, int *line, char *why,
                         size_t why_len)
{
	const struct test_plugged *config = target;
	const struct test_plugin *plugin = config->plugin;
	if (plugin->url == NULL) {
		*line = config_where_line(where, "plugin", NULL);
		snprintf(why, why_len, "[plugin] needs url");
		return -1;
	}
	if (plugin->slots > config->main.workers) {
		*line = config_where_line(where, "plugin", "slots");
		if (*line == 0)
			*line = config_where_line(where, "main", "workers");
		snprintf(why, why_len, "[plugin] slots %lld exceeds [main] workers %lld",
		         (long long)plugin->slots, (long long)config->main.workers);
		return -1;
	}
	if (config->cluster_count > 0 &&
	    config_where_line(where, "cluster.a", "stale_after") == 0) {
		*line = config_where_line(where, "cluster.a", NULL);
		snprintf(why, why_len, "[cluster.a] stale_after must be written out");
		return -1;
	}
	return 0;
}

static const struct config_section plugged_sections[] = {
        {.name = "main",
         .keys = main_keys,
         .key_count = sizeof(main_keys) / sizeof(main_keys[0]),
         .offset = offsetof(struct test_plugged, main)},
        {.name = "plugin",
         .keys = plugin_keys,
         .key_count = sizeof(plugin_keys) / sizeof(plugin_keys[0]),
         .offset = offsetof(struct test_plugged, plugin),
         .size = sizeof(struct test_plugin)},
        {.name = "cluster.",
         .is_family = true,
         .keys = cluster_keys,
         .key_count = sizeof(cluster_keys) / sizeof(cluster_keys[0]),
         .instance = plugged_cluster_instance,
         .instance_at = plugged_cluster_at},
};

static const struct config_schema plugged_schema = {
        .sections = plugged_sections, .section_count = 3, .check = check_plugged};

static void test_allocated_section_is_filled_and_freed(void **state)
{
	(void)state;
	struct test_plugged config = {0};
	char err[512] = "";
	const char *text = "[main]\nname = x\nworkers = 5\n[plugin]\nurl = http://p\nslots = 4\n";
	if (config_load_string(&plugged_schema, "p.ini", text, &config, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	const struct test_plugin *plugin = config.plugin;
	assert_non_null(plugin);
	assert_string_equal(plugin->url, "http://p");
	assert_int_equal(plugin->slots, 4);
	config_free(&plugged_schema, &config);
	assert_null(config.plugin);
	config_free(&plugged_schema, &config); /* a second free is harmless */

	/* absent from the file: allocated all the same, on its defaults */
	struct test_plugged absent = {0};
	assert_int_equal(config_load_string(&plugged_schema, "p.ini", "[main]\nname = x\n", &absent,
	                                    err, sizeof(err)),
	                 -1);
	assert_non_null(absent.plugin);
	assert_int_equal(((struct test_plugin *)absent.plugin)->slots, 3);
	config_free(&plugged_schema, &absent);
	assert_null(absent.plugin);

	/* the loader's own errors in it are as anywhere */
	struct test_plugged bad = {0};
	assert_int_equal(config_load_string(&plugged_schema, "p.ini",
	                                    "[main]\nname = x\n[plugin]\nslots = many\n", &bad, err,
	                                    sizeof(err)),
	                 -1);
	assert_string_equal(err, "p.ini:4: [plugin] slots: 'many' is not an integer");
	config_free(&plugged_schema, &bad);
}

static void test_schema_check_blames_the_line_it_finds(void **state)
{
	(void)state;
	static const struct {
		const char *text;
		const char *error;
	} cases[] = {
	        /* a key's line */
	        {"[main]\nname = x\nworkers = 2\n[plugin]\nurl = u\nslots = 4\n",
	         "p.ini:6: [plugin] slots 4 exceeds [main] workers 2"},
	        /* the key is not in the file: another section's key */
	        {"[main]\nname = x\nworkers = 2\n[plugin]\nurl = u\n",
	         "p.ini:3: [plugin] slots 3 exceeds [main] workers 2"},
	        /* a section's header */
	        {"[main]\nname = x\n\n[plugin]\nslots = 1\n", "p.ini:4: [plugin] needs url"},
	        /* a family instance's header */
	        {"[main]\nname = x\n[plugin]\nurl = u\nslots = 1\n[cluster.b]\nmin_workers = 1\n"
	         "stale_after = 2s\n[cluster.a]\nmin_workers = 1\n",
	         "p.ini:9: [cluster.a] stale_after must be written out"},
	        /* nowhere in the file: the file alone */
	        {"[main]\nname = x\n", "p.ini: [plugin] needs url"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct test_plugged config = {0};
		char err[512] = "";
		assert_int_equal(config_load_string(&plugged_schema, "p.ini", cases[i].text,
		                                    &config, err, sizeof(err)),
		                 -1);
		assert_string_equal(err, cases[i].error);
		config_free(&plugged_schema, &config);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_full_config_loads_every_type),
	        cmocka_unit_test(test_defaults_apply_when_keys_are_absent),
	        cmocka_unit_test(test_keyed_keys),
	        cmocka_unit_test(test_errors_name_file_and_line),
	        cmocka_unit_test(test_overlong_line_is_refused),
	        cmocka_unit_test(test_file_paths_are_relative_to_the_config_file),
	        cmocka_unit_test(test_allocated_section_is_filled_and_freed),
	        cmocka_unit_test(test_schema_check_blames_the_line_it_finds),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
