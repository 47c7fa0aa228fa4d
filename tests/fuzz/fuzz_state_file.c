/*
 * Fuzzes the reader of the cutover state file, state_dir/cutover.json
 * (collector/store/state_file.c). Round trip: a state it accepts is saved,
 * read back and saved again to the same bytes.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "fuzz_check.h"
#include "fuzz_tmp.h"
#include "state_file.h"

static char *read_all(const char *path, size_t *len)
{
	FILE *file = fopen(path, "rb");
	check(file != NULL);
	static char buf[1 << 20];
	*len = fread(buf, 1, sizeof(buf), file);
	fclose(file);
	char *copy = malloc(*len + 1);
	check(copy != NULL);
	memcpy(copy, buf, *len);
	return copy;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[512], err[1024] = "";
	fuzz_tmp_write("cutover.json", data, size, path, sizeof(path));
	const char *dir = fuzz_tmp_dir();
	struct cutover_state state;
	struct detector_checkpoint checkpoint;
	bool found = false;
	/* one reading for every call: the round trip holds for a clock that stands still */
	const struct clock_now now = {.mono_ms = 86400000, .unix_ms = 1795515330000LL};
	memset(&state, 0, sizeof(state));
	memset(&checkpoint, 0, sizeof(checkpoint));
	if (state_file_load(dir, now, &state, &checkpoint, &found, err, sizeof(err)) != 0) {
		check(err[0] != '\0');
		return 0;
	}
	check(found);
	size_t first_len = 0, second_len = 0;
	check(state_file_save(dir, &state, &checkpoint, now, err, sizeof(err)) == 0);
	char *first = read_all(path, &first_len);
	memset(&state, 0, sizeof(state));
	memset(&checkpoint, 0, sizeof(checkpoint));
	check(state_file_load(dir, now, &state, &checkpoint, &found, err, sizeof(err)) == 0 &&
	      found);
	check(state_file_save(dir, &state, &checkpoint, now, err, sizeof(err)) == 0);
	char *second = read_all(path, &second_len);
	check(first_len == second_len && memcmp(first, second, first_len) == 0);
	free(first);
	free(second);
	return 0;
}
