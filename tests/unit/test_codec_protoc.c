/*
 * Cross-check of our wire format against Google's protoc (Debian
 * protobuf-compiler): bytes we encode decode with `protoc --decode`, and bytes
 * `protoc --encode` writes decode with ours, field by field.
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

#include "report_fixture.h"

static char workdir[] = "/tmp/tg-protoc-XXXXXX";

static char *read_all(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	char *buf = malloc(65536);
	*len = fread(buf, 1, 65535, f);
	buf[*len] = '\0';
	fclose(f);
	return buf;
}

static void run(const char *command)
{
	int rc = system(command);
	if (rc != 0)
		fail_msg("command failed (%d): %s", rc, command);
}

static void test_protoc_decodes_our_bytes(void **state)
{
	(void)state;
	struct report_fixture f;
	report_fixture_init(&f);
	size_t len = 0;
	uint8_t *buf = report_encode(&f.report, &len);
	char bin[256], text[256], command[1024];
	snprintf(bin, sizeof(bin), "%s/ours.bin", workdir);
	snprintf(text, sizeof(text), "%s/ours.txt", workdir);
	FILE *out = fopen(bin, "wb");
	assert_non_null(out);
	assert_int_equal(fwrite(buf, 1, len, out), len);
	fclose(out);
	free(buf);

	snprintf(command, sizeof(command),
	         "'%s' --proto_path='%s' --decode=trinoguard.v1.NodeReport trino_guard.proto "
	         "< '%s' > '%s'",
	         TG_PROTOC, TG_PROTO_DIR, bin, text);
	run(command);
	size_t text_len;
	char *decoded = read_all(text, &text_len);
	const char *expected =
	        "schema_version: 1\n"
	        "agent_id: \"agent-green-coord\"\n"
	        "boot_id: \"\\240\\241\\242\\243\\244\\245\\246\\247\\250\\251\\252\\253\\254\\255"
	        "\\256\\257\"\n"
	        "seq: 42\n"
	        "sent_unix_ms: 1795515330000\n"
	        "interval_ms: 1000\n"
	        "cluster: \"green\"\n"
	        "node_id: \"green-coord\"\n"
	        "role: ROLE_COORDINATOR\n"
	        "trino_version: \"447\"\n"
	        "environment: \"production\"\n"
	        "state: STATE_ACTIVE\n"
	        "trino_uptime_ms: 280800000\n"
	        "config {\n"
	        "  path: \"config.properties\"\n"
	        "  sha256: \"\\000\\001\\002\\003\\004\\005\\006\\007\\010\\t\\n\\013\\014\\r\\016"
	        "\\017\\020\\021\\022\\023\\024\\025\\026\\027\\030\\031\\032\\033\\034\\035\\036"
	        "\\037\"\n"
	        "  keys {\n"
	        "    key: \"coordinator\"\n"
	        "    digest: \"\\021\\021\\021\\021\\021\\021\\021\\021\"\n"
	        "  }\n"
	        "  keys {\n"
	        "    key: \"query.max-memory\"\n"
	        "    digest: \"33333333\"\n"
	        "  }\n"
	        "  keys_listed: true\n"
	        "}\n"
	        "config {\n"
	        "  path: \"catalog/hive.properties\"\n"
	        "  error: \"Permission denied\"\n"
	        "}\n"
	        "counters {\n"
	        "  state: COUNTERS_OK\n"
	        "  completed: 1538\n"
	        "  failed: 37\n"
	        "  user_error: 30\n"
	        "  internal: 2\n"
	        "  external: 4\n"
	        "  insufficient_resources: 1\n"
	        "  canceled: 5\n"
	        "  abandoned: 1\n"
	        "  submitted: 1541\n"
	        "  running: 3\n"
	        "  queued: 0\n"
	        "  source: \"metrics\"\n"
	        "}\n"
	        "agent_version: \"0.1.0\"\n";
	assert_string_equal(decoded, expected);
	free(decoded);
}

static void test_we_decode_protoc_bytes(void **state)
{
	(void)state;
	char text[256], bin[256], command[1024];
	snprintf(text, sizeof(text), "%s/theirs.txt", workdir);
	snprintf(bin, sizeof(bin), "%s/theirs.bin", workdir);
	FILE *out = fopen(text, "w");
	assert_non_null(out);
	fputs("schema_version: 1\n"
	      "agent_id: \"agent-blue-w1\"\n"
	      "boot_id: \"0123456789abcdef\"\n"
	      "seq: 9001\n"
	      "sent_unix_ms: 1795515330000\n"
	      "interval_ms: 200\n"
	      "cluster: \"blue\"\n"
	      "node_id: \"blue-w1\"\n"
	      "role: ROLE_WORKER\n"
	      "trino_version: \"423-e.3\"\n"
	      "environment: \"prod\"\n"
	      "state: STATE_DRAINING\n"
	      "trino_uptime_ms: 5000\n"
	      "config { path: \"jvm.config\" sha256: \"0123456789abcdef0123456789abcdef\" }\n"
	      "config { path: \"config.properties\" sha256: \"0123456789abcdef0123456789abcdef\"\n"
	      "  keys { key: \"coordinator\" digest: \"01234567\" }\n"
	      "  keys { key: \"query.max-memory\" digest: \"89abcdef\" }\n"
	      "  keys_listed: true }\n"
	      "config { path: \"catalog/tpch.properties\"\n"
	      "  sha256: \"0123456789abcdef0123456789abcdef\" keys_listed: true }\n"
	      "counters { state: COUNTERS_NOT_COORDINATOR }\n"
	      "agent_version: \"0.1.0\"\n"
	      "error: \"caf\\303\\251\"\n"
	      "trino_node_id: \"ffffffff-0001\"\n"
	      "coordinator_id: \"k3x9a\"\n",
	      out);
	fclose(out);
	snprintf(command, sizeof(command),
	         "'%s' --proto_path='%s' --encode=trinoguard.v1.NodeReport trino_guard.proto "
	         "< '%s' > '%s'",
	         TG_PROTOC, TG_PROTO_DIR, text, bin);
	run(command);
	size_t len;
	char *bytes = read_all(bin, &len);
	enum report_reject reject;
	char detail[256] = "";
	NodeReport *r = report_decode((const uint8_t *)bytes, len, FIXTURE_SENT_MS, &reject, detail,
	                              sizeof(detail));
	if (r == NULL)
		fail_msg("rejected: %s (%s)", report_reject_name(reject), detail);
	assert_int_equal(r->schema_version, 1);
	assert_string_equal(r->agent_id, "agent-blue-w1");
	assert_memory_equal(r->boot_id.data, "0123456789abcdef", 16);
	assert_int_equal(r->seq, 9001);
	assert_int_equal(r->sent_unix_ms, FIXTURE_SENT_MS);
	assert_int_equal(r->interval_ms, 200);
	assert_string_equal(r->cluster, "blue");
	assert_string_equal(r->node_id, "blue-w1");
	assert_int_equal(r->role, TRINOGUARD__V1__NODE_ROLE__ROLE_WORKER);
	assert_string_equal(r->trino_version, "423-e.3");
	assert_string_equal(r->environment, "prod");
	assert_int_equal(r->state, TRINOGUARD__V1__NODE_STATE__STATE_DRAINING);
	assert_int_equal(r->trino_uptime_ms, 5000);
	assert_int_equal(r->n_config, 3);
	assert_string_equal(r->config[0]->path, "jvm.config");
	assert_int_equal(r->config[0]->sha256.len, 32);
	assert_false(r->config[0]->has_keys_listed);
	assert_true(r->config[1]->keys_listed);
	assert_int_equal(r->config[1]->n_keys, 2);
	assert_string_equal(r->config[1]->keys[0]->key, "coordinator");
	assert_memory_equal(r->config[1]->keys[0]->digest.data, "01234567", 8);
	assert_string_equal(r->config[1]->keys[1]->key, "query.max-memory");
	assert_memory_equal(r->config[1]->keys[1]->digest.data, "89abcdef", 8);
	assert_true(r->config[2]->keys_listed); /* a file without a key */
	assert_int_equal(r->config[2]->n_keys, 0);
	assert_int_equal(r->counters->state,
	                 TRINOGUARD__V1__COUNTER_STATE__COUNTERS_NOT_COORDINATOR);
	assert_false(r->counters->has_completed);
	assert_string_equal(r->agent_version, "0.1.0");
	assert_string_equal(r->error, "caf\xc3\xa9");
	assert_string_equal(r->trino_node_id, "ffffffff-0001");
	assert_string_equal(r->coordinator_id, "k3x9a");
	report_free(r);
	free(bytes);
}

static int setup(void **state)
{
	(void)state;
	return mkdtemp(workdir) != NULL ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	char command[256];
	snprintf(command, sizeof(command), "rm -rf '%s'", workdir);
	return system(command);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_protoc_decodes_our_bytes),
	        cmocka_unit_test(test_we_decode_protoc_bytes),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
