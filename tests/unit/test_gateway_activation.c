/*
 * rules/gateway_activation.c, table-driven: a sequence of state reads after
 * an activate at t=0 and the verdict of the last one. Monitor round 60 s,
 * healthy timeout 180 s.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "gateway_activation.h"

struct read_step {
	const char *status;
	bool agents_ready;
	int64_t at_ms;
};

struct activation_case {
	const char *name;
	struct read_step reads[4];
	size_t read_count;
	enum gateway_activation_verdict verdict; /* of the last read */
};

static const struct activation_case cases[] = {
        {"released: HEALTHY at once may be the last round's: wait",
         {{"HEALTHY", false, 100}},
         1,
         GATEWAY_WAIT},
        {"released: HEALTHY once a whole round has passed",
         {{"HEALTHY", false, 100}, {"HEALTHY", false, 60000}},
         2,
         GATEWAY_PROCEED_ROUND},
        {"released: HEALTHY at once, the agents report ACTIVE since the activate",
         {{"HEALTHY", true, 100}},
         1,
         GATEWAY_PROCEED_AGENTS},
        {"released: a stale HEALTHY turned UNHEALTHY by a newer round: wait",
         {{"HEALTHY", false, 100}, {"UNHEALTHY", false, 30000}},
         2,
         GATEWAY_WAIT},
        {"the agents alone do not move users to a backend the gateway holds down",
         {{"UNHEALTHY", true, 100}},
         1,
         GATEWAY_WAIT},
        {"main: PENDING, then HEALTHY, is a newer round",
         {{"PENDING", false, 100}, {"HEALTHY", false, 5000}},
         2,
         GATEWAY_PROCEED_ROUND},
        {"main: PENDING, then HEALTHY, a round is proof before the agents",
         {{"PENDING", true, 100}, {"HEALTHY", true, 5000}},
         2,
         GATEWAY_PROCEED_ROUND},
        {"PENDING until the timeout: give up",
         {{"PENDING", false, 100}, {"PENDING", false, 180000}},
         2,
         GATEWAY_GIVE_UP},
        {"UNHEALTHY under METRICS on 477+ until the timeout: give up",
         {{"UNHEALTHY", true, 100}, {"UNHEALTHY", true, 200000}},
         2,
         GATEWAY_GIVE_UP},
        {"no status in the answer is not HEALTHY", {{NULL, true, 100}}, 1, GATEWAY_WAIT},
};

static void test_activation_cases(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct activation_case *c = &cases[i];
		struct gateway_activation a;
		gateway_activation_start(&a, 0);
		enum gateway_activation_verdict verdict = GATEWAY_WAIT;
		for (size_t k = 0; k < c->read_count; k++) {
			struct gateway_activation_read r = {
			        .status = c->reads[k].status,
			        .agents_ready = c->reads[k].agents_ready,
			        .monitor_round_ms = 60000,
			        .healthy_timeout_ms = 180000,
			        .now_ms = c->reads[k].at_ms,
			};
			verdict = gateway_activation_decide(&a, &r);
		}
		if (verdict != c->verdict)
			fail_msg("%s: verdict %d, expected %d", c->name, verdict, c->verdict);
	}
}

static void test_each_verdict_is_explained(void **state)
{
	(void)state;
	assert_non_null(strstr(gateway_activation_explain(GATEWAY_PROCEED_ROUND),
	                       "health round newer than the activate"));
	assert_non_null(strstr(gateway_activation_explain(GATEWAY_PROCEED_AGENTS), "agents"));
	assert_non_null(strstr(gateway_activation_explain(GATEWAY_WAIT), "waiting"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_activation_cases),
	        cmocka_unit_test(test_each_verdict_is_explained),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
