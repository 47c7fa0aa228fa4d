/*
 * The collector end to end on a green cluster shaped like Trino 478 (real
 * processes on 127.0.0.1): the agents read the active node count from the
 * name 477 introduced and say so, node-hidden fires when the coordinator stops
 * counting a node that still reports ACTIVE, and a node held in start-up is
 * reported STARTING.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <jansson.h>

#include "collector_e2e_fixture.h"
#include "harness.h"

/* The node's entry in /v1/nodes (a new reference), or NULL. */
static json_t *node_entry(const char *node_id)
{
	json_t *nodes = get_json("/v1/nodes");
	json_t *found = NULL;
	size_t i;
	json_t *node;
	json_array_foreach(nodes, i, node)
	{
		if (strcmp(json_string_value(json_object_get(node, "node_id")), node_id) == 0)
			found = json_incref(node);
	}
	json_decref(nodes);
	return found;
}

struct node_wait {
	const char *node_id;
	const char *field;
	const char *value;
};

static bool node_field_is(void *arg)
{
	const struct node_wait *w = arg;
	json_t *node = node_entry(w->node_id);
	const char *value = json_string_value(json_object_get(node, w->field));
	bool ok = value != NULL && strcmp(value, w->value) == 0;
	json_decref(node);
	return ok;
}

static void test_node_count_comes_from_the_coordinator_node_manager(void **state)
{
	(void)state;
	struct node_wait w = {"green-coord", "active_nodes_from",
	                      "trino_node_name_CoordinatorNodeManager_ActiveNodeCount"};
	if (!harness_wait_until(node_field_is, &w, 30000))
		fail_msg("green-coord never reported its node count from CoordinatorNodeManager");
	json_t *coord = node_entry("green-coord");
	assert_int_equal(json_integer_value(json_object_get(coord, "active_nodes")), 3);
	json_decref(coord);
}

/* 478 publishes its coordinator id in /v1/info, and status says that is where it came from. */
static void test_coordinator_id_comes_from_v1_info(void **state)
{
	(void)state;
	struct node_wait w = {"green-coord", "coordinator_id_from", "info"};
	if (!harness_wait_until(node_field_is, &w, 30000))
		fail_msg("green-coord's coordinator id never showed as coming from /v1/info");
	json_t *coord = node_entry("green-coord");
	assert_int_equal(strlen(json_string_value(json_object_get(coord, "coordinator_id"))), 5);
	json_decref(coord);
}

static void test_hidden_node_opens_node_hidden(void **state)
{
	(void)state;
	control(&fx.green, "green-worker-2", "{\"hidden\":true}");
	char summary[1024];
	expect_finding("node-hidden/green", true, 30000, summary);
	assert_non_null(strstr(summary, "counts 2 active nodes, 3 agents report ACTIVE"));
	control(&fx.green, "green-worker-2", "{\"hidden\":false}");
	expect_finding("node-hidden/green", false, 30000, NULL);
}

static void test_starting_node_is_reported_starting(void **state)
{
	(void)state;
	control(&fx.green, "green-worker-1", "{\"starting\":true}");
	struct node_wait w = {"green-worker-1", "state", "STARTING"};
	if (!harness_wait_until(node_field_is, &w, 30000))
		fail_msg("green-worker-1 was never reported STARTING");
	control(&fx.green, "green-worker-1", "{\"starting\":false}");
	w.value = "ACTIVE";
	assert_true(harness_wait_until(node_field_is, &w, 30000));
}

static int setup(void **state)
{
	collector_e2e_green_version = "478";
	return collector_e2e_setup(state);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_node_count_comes_from_the_coordinator_node_manager),
	        cmocka_unit_test(test_coordinator_id_comes_from_v1_info),
	        cmocka_unit_test(test_hidden_node_opens_node_hidden),
	        cmocka_unit_test(test_starting_node_is_reported_starting),
	};
	return cmocka_run_group_tests(tests, setup, collector_e2e_teardown);
}
