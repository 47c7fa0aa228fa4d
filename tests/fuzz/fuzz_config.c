/*
 * Fuzzes the INI loader (common/config.c, over inih) through both schemas:
 * agent.ini (agent/agent_config.c) and collector.ini
 * (collector/collector_config.c, with the driver sections). The first byte
 * picks the schema, the rest is the file. Properties: a refusal names the
 * file ("FILE:LINE: why" or "FILE: why"), and whatever was loaded frees.
 */
#include <stdint.h>
#include <string.h>

#include "agent_config.h"
#include "collector_config.h"
#include "fuzz_check.h"
#include "fuzz_tmp.h"

static void check_error(const char *path, const char *err)
{
	size_t n = strlen(path);
	check(strncmp(err, path, n) == 0 && err[n] == ':');
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	char path[512], err[1024] = "";
	if (data[0] & 1) {
		fuzz_tmp_write("collector.ini", data + 1, size - 1, path, sizeof(path));
		struct collector_config config;
		memset(&config, 0, sizeof(config));
		if (collector_config_load(path, &config, err, sizeof(err)) != 0)
			check_error(path, err);
		collector_config_free(&config);
	} else {
		fuzz_tmp_write("agent.ini", data + 1, size - 1, path, sizeof(path));
		struct agent_config config;
		memset(&config, 0, sizeof(config));
		if (agent_config_load(path, &config, err, sizeof(err)) != 0)
			check_error(path, err);
		agent_config_free(&config);
	}
	return 0;
}
