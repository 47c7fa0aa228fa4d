/*
 * Fuzzes the journal's reader (collector/store/journal.c): the input is
 * state_dir/journal.jsonl as a crash or a bad disk may leave it. Round
 * trip: the events it restores, with one event appended, are what a second
 * open restores, and the new event's id is above every id restored.
 */
#include <jansson.h>
#include <stdint.h>
#include <string.h>

#include "fuzz_check.h"
#include "fuzz_tmp.h"
#include "journal.h"

#define KEEP      100000
#define MAX_BYTES (64LL << 20)

/* Opens the journal; *SINCE_ALL gets every event it restored, *LAST_ID the newest id. */
static struct journal *restored(json_t **since_all, uint64_t *last_id)
{
	char err[1024] = "";
	struct journal *journal = journal_open(fuzz_tmp_dir(), MAX_BYTES, KEEP, err, sizeof(err));
	check(journal != NULL);
	*since_all = journal_since(journal, 0, KEEP);
	*last_id = journal_last_id(journal);
	return journal;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[512], rotated[512];
	fuzz_tmp_write("journal.jsonl", data, size, path, sizeof(path));
	snprintf(rotated, sizeof(rotated), "%s/journal.jsonl.1", fuzz_tmp_dir());
	remove(rotated);

	json_t *first, *second;
	uint64_t first_last, second_last;
	struct journal *journal = restored(&first, &first_last);
	for (size_t i = 0; i < json_array_size(first); i++) {
		json_int_t id = json_integer_value(json_object_get(json_array_get(first, i), "id"));
		check(id > 0 && (uint64_t)id <= first_last);
	}
	uint64_t id = journal_append(journal, 1764633600123LL, json_pack("{s:s}", "type", "fuzz"));
	check(id != 0 && id > first_last);
	json_t *expected = json_deep_copy(first);
	json_t *added = journal_since(journal, first_last, KEEP);
	check(json_array_size(added) == 1);
	json_array_extend(expected, added);
	json_decref(added);
	journal_close(journal);

	journal = restored(&second, &second_last);
	check(second_last == id);
	check(json_equal(expected, second));
	journal_close(journal);
	json_decref(first);
	json_decref(second);
	json_decref(expected);
	return 0;
}
