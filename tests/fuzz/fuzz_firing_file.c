/*
 * Fuzzes the reader of the firing set, state_dir/alerts-firing.json
 * (collector/alerts/alert_firing_file.c). Round trip: what it carries over
 * is saved, loaded and saved again to the same bytes, and saving never
 * fails on what was loaded; a file that does not parse is moved aside.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alert_firing_file.h"
#include "fuzz_check.h"
#include "fuzz_tmp.h"

static char *read_all(const char *path, size_t *len)
{
	FILE *file = fopen(path, "rb");
	check(file != NULL);
	check(fseek(file, 0, SEEK_END) == 0);
	long end = ftell(file);
	check(end >= 0 && fseek(file, 0, SEEK_SET) == 0);
	char *bytes = malloc((size_t)end + 1);
	check(bytes != NULL);
	*len = fread(bytes, 1, (size_t)end, file);
	check(*len == (size_t)end);
	fclose(file);
	return bytes;
}

/* Loads PATH into a fresh policy, saves it back to PATH; the saved bytes. */
static char *load_and_save(const char *path, size_t *len, size_t *carried)
{
	static const int64_t no_delays[FINDING_KIND_COUNT];
	struct alert_policy policy;
	char err[1024] = "";
	alert_policy_init(&policy, no_delays);
	int rc = alert_firing_file_load(path, 0, &policy, err, sizeof(err));
	check(rc == 0 || rc == 1);
	if (rc == 1) { /* moved aside: the next input finds no old one in its way */
		char aside[600];
		snprintf(aside, sizeof(aside), "%s.corrupt-0", path);
		check(unlink(aside) == 0);
	}
	*carried = policy.carried_count;
	if (alert_firing_file_save(path, &policy, err, sizeof(err)) != 0) {
		fprintf(stderr, "save: %s\n", err);
		check(!"a loaded firing set saves");
	}
	alert_policy_cleanup(&policy);
	return read_all(path, len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[512];
	fuzz_tmp_write("alerts-firing.json", data, size, path, sizeof(path));
	size_t first_len = 0, second_len = 0, first_count = 0, second_count = 0;
	char *first = load_and_save(path, &first_len, &first_count);
	char *second = load_and_save(path, &second_len, &second_count);
	check(first_count == second_count);
	check(first_len == second_len && memcmp(first, second, first_len) == 0);
	free(first);
	free(second);
	return 0;
}
