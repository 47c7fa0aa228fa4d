/*
 * Tests of the agent's Trino parsers on the reference's shapes of several
 * versions, extra unknown fields, missing fields, NaN and garbage.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "trino_parse.h"

static int parse_info(const char *body, struct trino_info *info, char *err)
{
	return trino_parse_info(body, strlen(body), info, err, 256);
}

static void test_info_before_477(void **state)
{
	(void)state;
	struct trino_info info;
	char err[256];
	assert_int_equal(parse_info("{\"nodeVersion\":{\"version\":\"447\"},\"environment\":"
	                            "\"production\",\"coordinator\":true,\"starting\":false,"
	                            "\"uptime\":\"3.25d\"}",
	                            &info, err),
	                 0);
	assert_string_equal(info.version, "447");
	assert_string_equal(info.environment, "production");
	assert_true(info.coordinator);
	assert_false(info.starting);
	assert_int_equal(info.uptime_ms, 280800000);
	assert_string_equal(info.node_id, "");
	assert_string_equal(info.state, "");
}

static void test_info_477_and_unknown_fields(void **state)
{
	(void)state;
	struct trino_info info;
	char err[256];
	assert_int_equal(parse_info("{\"nodeId\":\"worker-7\",\"state\":\"DRAINING\","
	                            "\"nodeVersion\":{\"version\":\"479\",\"extra\":1},"
	                            "\"environment\":\"production\",\"coordinator\":false,"
	                            "\"starting\":false,\"uptime\":\"6.51d\",\"futureField\":[1]}",
	                            &info, err),
	                 0);
	assert_string_equal(info.node_id, "worker-7");
	assert_string_equal(info.state, "DRAINING");
	assert_false(info.coordinator);
	assert_string_equal(info.coordinator_id, "");
	assert_null(info.coordinator_id_from);
	assert_int_equal(parse_info("{\"nodeId\":\"c\",\"state\":\"ACTIVE\",\"nodeVersion\":"
	                            "{\"version\":\"423-e.3\"},\"coordinator\":true,"
	                            "\"coordinatorId\":\"k3x9a\",\"starting\":true}",
	                            &info, err),
	                 0);
	assert_string_equal(info.version, "423-e.3");
	assert_string_equal(info.coordinator_id, "k3x9a");
	assert_string_equal(info.coordinator_id_from, "info");
	assert_true(info.starting);
	assert_int_equal(info.uptime_ms, -1);
}

struct bad_info {
	const char *name;
	const char *body;
	const char *error;
};

static const struct bad_info bad_infos[] = {
        {"not JSON", "<html>502 Bad Gateway</html>", "not JSON"},
        {"empty", "", "not JSON"},
        {"array", "[1]", "not a JSON object"},
        {"version as a bare string (wrong shape)", "{\"nodeVersion\":\"447\",\"coordinator\":true}",
         "no nodeVersion object"},
        {"no version", "{\"nodeVersion\":{},\"coordinator\":true}", "nodeVersion.version"},
        {"version is a number", "{\"nodeVersion\":{\"version\":447},\"coordinator\":true}",
         "not a string"},
        {"no coordinator flag", "{\"nodeVersion\":{\"version\":\"447\"}}", "coordinator"},
        {"bad uptime",
         "{\"nodeVersion\":{\"version\":\"447\"},\"coordinator\":true,\"uptime\":"
         "\"soon\"}",
         "not a duration"},
        {"NUL in a string", "{\"nodeVersion\":{\"version\":\"44\\u00007\"},\"coordinator\":true}",
         "NUL"},
};

static void test_info_garbage(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bad_infos) / sizeof(bad_infos[0]); i++) {
		struct trino_info info;
		char err[256] = "";
		if (parse_info(bad_infos[i].body, &info, err) == 0)
			fail_msg("case '%s' accepted", bad_infos[i].name);
		if (strstr(err, bad_infos[i].error) == NULL)
			fail_msg("case '%s': error '%s' lacks '%s'", bad_infos[i].name, err,
			         bad_infos[i].error);
	}
}

static void test_state_and_durations(void **state)
{
	(void)state;
	char text[32], err[256];
	assert_int_equal(trino_parse_state("\"ACTIVE\"", 8, text, sizeof(text), err, 256), 0);
	assert_string_equal(text, "ACTIVE");
	assert_int_equal(trino_parse_state("ACTIVE", 6, text, sizeof(text), err, 256), -1);
	assert_int_equal(trino_parse_state("{\"state\":1}", 11, text, sizeof(text), err, 256), -1);

	int64_t ms;
	assert_int_equal(trino_parse_duration_ms("17.27ms", &ms), 0);
	assert_int_equal(ms, 17);
	assert_int_equal(trino_parse_duration_ms("5.23m", &ms), 0);
	assert_int_equal(ms, 313800);
	assert_int_equal(trino_parse_duration_ms("2.04h", &ms), 0);
	assert_int_equal(ms, 7344000);
	assert_int_equal(trino_parse_duration_ms("500.00ns", &ms), 0);
	assert_int_equal(ms, 0);
	assert_int_equal(trino_parse_duration_ms("3.25", &ms), -1);
	assert_int_equal(trino_parse_duration_ms("d", &ms), -1);
	assert_int_equal(trino_parse_duration_ms("-1.00s", &ms), -1);
	assert_int_equal(trino_parse_duration_ms("NaNs", &ms), -1);
}

static const char full_metrics[] =
        "# TYPE trino_execution_name_QueryManager_AbandonedQueries counter\n"
        "trino_execution_name_QueryManager_AbandonedQueries 1\n"
        "# TYPE trino_execution_name_QueryManager_CanceledQueries counter\n"
        "trino_execution_name_QueryManager_CanceledQueries 5\n"
        "# HELP trino_execution_name_QueryManager_CompletedQueries Completed queries\n"
        "# TYPE trino_execution_name_QueryManager_CompletedQueries counter\n"
        "trino_execution_name_QueryManager_CompletedQueries 1538\n"
        "trino_execution_name_QueryManager_ExternalFailures 4\n"
        "trino_execution_name_QueryManager_FailedQueries 37\n"
        "trino_execution_name_QueryManager_InsufficientResourcesFailures 1\n"
        "trino_execution_name_QueryManager_InternalFailures{annotation=\"rack-a\"} 2\n"
        "trino_execution_name_QueryManager_StartedQueries 1540\n"
        "trino_execution_name_QueryManager_SubmittedQueries 1541\n"
        "trino_execution_name_QueryManager_UserErrorFailures 30\n"
        "# TYPE trino_execution_name_QueryManager_QueuedQueries gauge\n"
        "trino_execution_name_QueryManager_QueuedQueries NaN\n"
        "# TYPE trino_execution_name_QueryManager_RunningQueries gauge\n"
        "trino_execution_name_QueryManager_RunningQueries 1.2345678E7\n"
        "# TYPE trino_metadata_name_DiscoveryNodeManager_ActiveNodeCount gauge\n"
        "trino_metadata_name_DiscoveryNodeManager_ActiveNodeCount 4.0\n"
        "some_other_metric_total 99\n"
        "# EOF\n";

static void test_openmetrics_reference_shape(void **state)
{
	(void)state;
	struct trino_counters c;
	char err[256] = "";
	int rc = trino_parse_openmetrics(full_metrics, strlen(full_metrics), &c, err, sizeof(err));
	if (rc != 0)
		fail_msg("rc %d: %s", rc, err);
	assert_int_equal(c.values[TRINO_COMPLETED], 1538);
	assert_int_equal(c.values[TRINO_FAILED], 37);
	assert_int_equal(c.values[TRINO_INTERNAL], 2); /* with a label set */
	assert_int_equal(c.values[TRINO_CANCELED], 5);
	assert_int_equal(c.values[TRINO_RUNNING], 12345678);
	assert_int_equal(c.values[TRINO_QUEUED], 0); /* NaN gauge */
	assert_int_equal(c.active_nodes, 4);
	assert_string_equal(c.active_nodes_from,
	                    "trino_metadata_name_DiscoveryNodeManager_ActiveNodeCount");
}

static void test_openmetrics_missing_and_garbage(void **state)
{
	(void)state;
	struct trino_counters c;
	char err[256];
	/* Trino 423's /metrics has no QueryManager names: a fallback, not an error. */
	const char *old = "# TYPE jvm_memory gauge\njvm_memory 1.0\n# EOF\n";
	assert_int_equal(trino_parse_openmetrics(old, strlen(old), &c, err, sizeof(err)), 1);
	assert_non_null(strstr(err, "lacks trino_execution_name_QueryManager_CompletedQueries"));
	assert_int_equal(c.active_nodes, -1);

	const char *truncated = "trino_execution_name_QueryManager_CompletedQueries 15";
	assert_int_equal(trino_parse_openmetrics(truncated, strlen(truncated), &c, err, 256), -1);
	assert_non_null(strstr(err, "EOF"));

	const char *html = "<html><body>Unauthorized</body></html>\n";
	assert_int_equal(trino_parse_openmetrics(html, strlen(html), &c, err, 256), -1);

	const char *not_number = "trino_execution_name_QueryManager_FailedQueries many\n# EOF\n";
	assert_int_equal(trino_parse_openmetrics(not_number, strlen(not_number), &c, err, 256), -1);
	assert_non_null(strstr(err, "not a number"));

	const char *fraction = "trino_execution_name_QueryManager_FailedQueries 1.5\n# EOF\n";
	assert_int_equal(trino_parse_openmetrics(fraction, strlen(fraction), &c, err, 256), -1);
	assert_non_null(strstr(err, "whole number"));

	const char *negative = "trino_execution_name_QueryManager_FailedQueries -3\n# EOF\n";
	assert_int_equal(trino_parse_openmetrics(negative, strlen(negative), &c, err, 256), -1);

	const char *nan_counter = "trino_execution_name_QueryManager_FailedQueries NaN\n# EOF\n";
	assert_int_equal(trino_parse_openmetrics(nan_counter, strlen(nan_counter), &c, err, 256),
	                 -1);
	assert_int_equal(trino_parse_openmetrics("", 0, &c, err, 256), -1);
}

static void test_jmx_reference_shape(void **state)
{
	(void)state;
	const char *body =
	        "{\"objectName\":\"trino.execution:name=QueryManager\",\"className\":"
	        "\"io.trino.dispatcher.DispatchManager\",\"description\":\"\",\"attributes\":["
	        "{\"name\":\"FailedQueries.TotalCount\",\"type\":\"long\",\"value\":37},"
	        "{\"name\":\"FailedQueries.OneMinute.Rate\",\"type\":\"double\",\"value\":0.5},"
	        "{\"name\":\"CompletedQueries.TotalCount\",\"type\":\"long\",\"value\":1538},"
	        "{\"name\":\"UserErrorFailures.TotalCount\",\"type\":\"long\",\"value\":30},"
	        "{\"name\":\"InternalFailures.TotalCount\",\"type\":\"long\",\"value\":2},"
	        "{\"name\":\"ExternalFailures.TotalCount\",\"type\":\"long\",\"value\":4},"
	        "{\"name\":\"InsufficientResourcesFailures.TotalCount\",\"type\":\"long\","
	        "\"value\":1},"
	        "{\"name\":\"CanceledQueries.TotalCount\",\"type\":\"long\",\"value\":5},"
	        "{\"name\":\"AbandonedQueries.TotalCount\",\"type\":\"long\",\"value\":1},"
	        "{\"name\":\"SubmittedQueries.TotalCount\",\"type\":\"long\",\"value\":1541},"
	        "{\"name\":\"ExecutionTime.AllTime.Avg\",\"type\":\"double\",\"value\":\"NaN\"},"
	        "{\"name\":\"RunningQueries\",\"type\":\"long\",\"value\":3},"
	        "{\"name\":\"QueuedQueries\",\"type\":\"long\",\"value\":0},"
	        "{\"name\":\"ProgressingQueries\",\"type\":\"long\"}],\"operations\":[]}";
	struct trino_counters c;
	char err[256] = "";
	int rc = trino_parse_jmx_query_manager(body, strlen(body), &c, err, sizeof(err));
	if (rc != 0)
		fail_msg("rc %d: %s", rc, err);
	assert_int_equal(c.values[TRINO_FAILED], 37);
	assert_int_equal(c.values[TRINO_COMPLETED], 1538);
	assert_int_equal(c.values[TRINO_RUNNING], 3);

	/* Missing attributes and garbage. */
	const char *partial =
	        "{\"attributes\":[{\"name\":\"FailedQueries.TotalCount\",\"value\":1}]}";
	assert_int_equal(trino_parse_jmx_query_manager(partial, strlen(partial), &c, err, 256), 1);
	const char *no_attrs = "{\"objectName\":\"x\"}";
	assert_int_equal(trino_parse_jmx_query_manager(no_attrs, strlen(no_attrs), &c, err, 256),
	                 -1);
	const char *bad_value =
	        "{\"attributes\":[{\"name\":\"FailedQueries.TotalCount\",\"value\":\"lots\"}]}";
	assert_int_equal(trino_parse_jmx_query_manager(bad_value, strlen(bad_value), &c, err, 256),
	                 -1);
	assert_int_equal(trino_parse_jmx_query_manager("garbage", 7, &c, err, 256), -1);

	const char *nodes = "{\"attributes\":[{\"name\":\"ActiveNodeCount\",\"value\":5}]}";
	int64_t active = -1;
	assert_int_equal(trino_parse_jmx_active_nodes(nodes, strlen(nodes), &active, err, 256), 0);
	assert_int_equal(active, 5);
	assert_int_equal(trino_parse_jmx_active_nodes(partial, strlen(partial), &active, err, 256),
	                 -1);
}

/* ---- OpenMetrics label sets ---- */

struct label_case {
	const char *name;
	const char *text;
	int rc;
	size_t consumed;     /* when rc is 0 */
	const char *decoded; /* the labels as name=value;... (values unescaped) */
};

static const struct label_case label_cases[] = {
        {"one plain label", "{rack=\"a\"} 1", 0, 10, "rack=a;"},
        {"two labels, sorted as airlift writes them", "{a=\"1\",b=\"2\"} 3", 0, 13, "a=1;b=2;"},
        {"a closing brace inside a value", "{note=\"x}y\"} 1", 0, 12, "note=x}y;"},
        {"a comma inside a value", "{note=\"x,y\",z=\"\"} 1", 0, 17, "note=x,y;z=;"},
        {"escaped quote, backslash and newline", "{v=\"a\\\"b\\\\c\\nd\"} 1", 0, 16,
         "v=a\"b\\c\nd;"},
        {"a trailing comma", "{a=\"1\",} 1", 0, 8, "a=1;"},
        {"no labels at all", "{} 1", 0, 2, ""},
        {"an unknown escape", "{v=\"a\\tb\"} 1", -1, 0, NULL},
        {"an unterminated value", "{v=\"abc} 1", -1, 0, NULL},
        {"a value without quotes", "{v=abc} 1", -1, 0, NULL},
        {"a name starting with a digit", "{1v=\"a\"} 1", -1, 0, NULL},
        {"no closing brace", "{v=\"a\"", -1, 0, NULL},
        {"garbage between labels", "{a=\"1\" b=\"2\"} 1", -1, 0, NULL},
};

static void collect_label(const char *name, const char *value, void *arg)
{
	char *out = arg;
	size_t len = strlen(out);
	snprintf(out + len, 256 - len, "%s=%s;", name, value);
}

static void test_labels_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(label_cases) / sizeof(label_cases[0]); i++) {
		const struct label_case *c = &label_cases[i];
		char decoded[256] = "";
		char err[128] = "";
		size_t consumed = 0;
		int rc = trino_parse_labels(c->text, strlen(c->text), &consumed, collect_label,
		                            decoded, err, sizeof(err));
		if (rc != c->rc)
			fail_msg("%s: rc %d (%s)", c->name, rc, err);
		if (rc == 0 && (consumed != c->consumed || strcmp(decoded, c->decoded) != 0))
			fail_msg("%s: consumed %zu, decoded '%s'", c->name, consumed, decoded);
		if (rc != 0 && err[0] == '\0')
			fail_msg("%s: no reason given", c->name);
	}
}

/* Samples whose labels hold '}' ',' '"' and '\', escaped (airlift 2026+) or raw (before). */
static void test_openmetrics_labels_in_samples(void **state)
{
	(void)state;
	const char *escaped =
	        "# TYPE trino_execution_name_QueryManager_FailedQueries counter\n"
	        "trino_execution_name_QueryManager_FailedQueries{note=\"a}b,c\\\"d\\\\e\"} 37\n"
	        "# EOF\n";
	const char *raw =
	        "trino_execution_name_QueryManager_FailedQueries{note=\"a}b,c\"d\\e\"} 37\n"
	        "# EOF\n";
	const char *bodies[] = {escaped, raw};
	for (size_t i = 0; i < 2; i++) {
		struct trino_counters c;
		char err[256] = "";
		assert_int_equal(
		        trino_parse_openmetrics(bodies[i], strlen(bodies[i]), &c, err, sizeof(err)),
		        1); /* the other counters are missing, the line is understood */
		assert_true(c.found & (1u << TRINO_FAILED));
		assert_int_equal(c.values[TRINO_FAILED], 37);
	}
	/* a long label set is read, not skipped */
	char long_body[4096];
	char note[3000];
	memset(note, 'x', sizeof(note) - 1);
	note[sizeof(note) - 1] = '\0';
	snprintf(long_body, sizeof(long_body),
	         "trino_execution_name_QueryManager_FailedQueries{note=\"%s\"} 5\n# EOF\n", note);
	struct trino_counters c;
	char err[256];
	assert_int_equal(
	        trino_parse_openmetrics(long_body, strlen(long_body), &c, err, sizeof(err)), 1);
	assert_int_equal(c.values[TRINO_FAILED], 5);
	/* a label set that never closes is an error */
	const char *open = "trino_execution_name_QueryManager_FailedQueries{note=\"x 5\n# EOF\n";
	assert_int_equal(trino_parse_openmetrics(open, strlen(open), &c, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "unterminated labels"));
}

/* 477+: the node count from CoordinatorNodeManager, and which name gave it. */
static void test_openmetrics_node_count_477(void **state)
{
	(void)state;
	const char *body = "# TYPE trino_node_name_CoordinatorNodeManager_ActiveNodeCount gauge\n"
	                   "trino_node_name_CoordinatorNodeManager_ActiveNodeCount 3.0\n"
	                   "# EOF\n";
	struct trino_counters c;
	char err[256];
	assert_int_equal(trino_parse_openmetrics(body, strlen(body), &c, err, sizeof(err)), 1);
	assert_int_equal(c.active_nodes, 3);
	assert_string_equal(c.active_nodes_from,
	                    "trino_node_name_CoordinatorNodeManager_ActiveNodeCount");
}

/* A node count no cluster has is not taken (and converting it would be UB). */
static void test_unbelievable_node_count_is_not_taken(void **state)
{
	(void)state;
	const char *body = "# TYPE trino_node_name_CoordinatorNodeManager_ActiveNodeCount gauge\n"
	                   "trino_node_name_CoordinatorNodeManager_ActiveNodeCount 3.3e37\n"
	                   "# EOF\n";
	struct trino_counters c;
	char err[256];
	assert_int_equal(trino_parse_openmetrics(body, strlen(body), &c, err, sizeof(err)), 1);
	assert_int_equal(c.active_nodes, -1);
	assert_null(c.active_nodes_from);

	const char *jmx = "{\"attributes\":[{\"name\":\"ActiveNodeCount\",\"value\":1e30}]}";
	int64_t active = -1;
	assert_int_equal(trino_parse_jmx_active_nodes(jmx, strlen(jmx), &active, err, 256), -1);
	assert_int_equal(active, -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_info_before_477),
	        cmocka_unit_test(test_info_477_and_unknown_fields),
	        cmocka_unit_test(test_info_garbage),
	        cmocka_unit_test(test_state_and_durations),
	        cmocka_unit_test(test_openmetrics_reference_shape),
	        cmocka_unit_test(test_openmetrics_missing_and_garbage),
	        cmocka_unit_test(test_labels_table),
	        cmocka_unit_test(test_openmetrics_labels_in_samples),
	        cmocka_unit_test(test_openmetrics_node_count_477),
	        cmocka_unit_test(test_unbelievable_node_count_is_not_taken),
	        cmocka_unit_test(test_jmx_reference_shape),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
