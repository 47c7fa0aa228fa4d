/*
 * A fresh collector with no agent yet pages nothing: five fake minutes of
 * ticks open no critical finding, and the active cluster becomes the
 * cluster-absent warning only once [collector] absent_after (2m by default)
 * has passed; the standby, absent too, says nothing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "collector_fixture.h"
#include "journal.h"

static struct collector_fixture fx;

/* Finding-opened events in the journal: how many in all, and how many critical. */
static void opened(size_t *all, size_t *critical, const char *key, bool *key_seen)
{
	json_t *events = journal_since(fx.collector.journal, 0, 10000);
	size_t i;
	json_t *event;
	*all = *critical = 0;
	*key_seen = false;
	json_array_foreach(events, i, event)
	{
		if (strcmp(json_string_value(json_object_get(event, "type")), "finding-opened") !=
		    0)
			continue;
		(*all)++;
		*critical += strcmp(json_string_value(json_object_get(event, "severity")),
		                    "critical") == 0;
		*key_seen = *key_seen ||
		            strcmp(json_string_value(json_object_get(event, "key")), key) == 0;
	}
	json_decref(events);
}

static void tick_for(int seconds)
{
	for (int i = 0; i < seconds; i++) {
		fixture_advance(1000);
		collector_tick(&fx.collector, fixture_now);
	}
}

static void test_no_agent_yet_pages_nothing_critical(void **state)
{
	(void)state;
	assert_int_equal(fixture_init(&fx), 0);
	assert_int_equal(fixture_start(&fx, NULL, false, NULL), 0);
	size_t all, critical;
	bool absent;
	tick_for(119); /* absent_after is 2m by default */
	opened(&all, &critical, "cluster-absent/blue", &absent);
	assert_int_equal(all, 0);
	tick_for(1);
	opened(&all, &critical, "cluster-absent/blue", &absent);
	assert_int_equal(all, 1);
	assert_true(absent);
	assert_int_equal(critical, 0);
	tick_for(120);
	opened(&all, &critical, "cluster-absent/blue", &absent);
	assert_int_equal(all, 1); /* green, the standby, may be absent */
	assert_int_equal(critical, 0);
	fixture_stop(&fx);
	fixture_cleanup(&fx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_no_agent_yet_pages_nothing_critical),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
