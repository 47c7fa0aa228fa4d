/*
 * Fuzzes the agent's canonical forms of Trino's config files
 * (agent/properties.c): properties_canonicalize, properties_lookup and
 * jvm_config_canonicalize over any bytes. Properties: the canonical text is
 * what it says (NUL-free, sorted "key=value" lines), canonical ASCII text is
 * its own canonical form, and jvm.config's form is a fixed point too.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_check.h"

#include "properties.h"

static int is_ascii(const char *text, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)text[i] >= 0x80)
			return 0;
	return 1;
}

static void check_properties(const char *text, size_t len)
{
	static const char *const exclude[] = {"node.id", "node.data-dir"};
	char err[256];
	size_t out_len = 0;
	char *out = properties_canonicalize(text, len, exclude, 2, &out_len, err, sizeof(err));
	if (out == NULL) {
		check(memchr(err, '\0', sizeof(err)) != NULL);
		return;
	}
	check(strlen(out) == out_len);
	check(out_len == 0 || out[out_len - 1] == '\n');
	/* java.util.Properties reads ISO-8859-1 and we write UTF-8: the fixed
	 * point holds where the two agree. */
	if (is_ascii(out, out_len)) {
		size_t again_len = 0;
		char *again = properties_canonicalize(out, out_len, exclude, 2, &again_len, err,
		                                      sizeof(err));
		check(again != NULL && again_len == out_len && memcmp(again, out, out_len) == 0);
		free(again);
	}
	free(out);
	char *value = properties_lookup(text, len, "node.environment", err, sizeof(err));
	free(value);
}

static void check_jvm_config(const char *text, size_t len)
{
	size_t out_len = 0, again_len = 0;
	char *out = jvm_config_canonicalize(text, len, &out_len);
	check(out != NULL);
	char *again = jvm_config_canonicalize(out, out_len, &again_len);
	check(again != NULL && again_len == out_len && memcmp(again, out, out_len) == 0);
	free(again);
	free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	check_properties(text, size);
	check_jvm_config(text, size);
	return 0;
}
