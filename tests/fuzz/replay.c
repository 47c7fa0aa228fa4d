/*
 * Replays inputs through a fuzz target without libFuzzer: every regular file
 * in each directory named on the command line (a missing directory is
 * empty) is fed once to LLVMFuzzerTestOneInput. A crash fails the test; the
 * sanitizer build reports what libFuzzer would.
 */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int replay_file(const char *path)
{
	FILE *file = fopen(path, "rb");
	if (file == NULL) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		return -1;
	}
	uint8_t *data = NULL;
	size_t size = 0, cap = 0;
	for (;;) {
		if (size == cap) {
			cap = cap != 0 ? cap * 2 : 4096;
			uint8_t *grown = realloc(data, cap);
			if (grown == NULL) {
				fprintf(stderr, "replay: %s: out of memory\n", path);
				free(data);
				fclose(file);
				return -1;
			}
			data = grown;
		}
		size_t got = fread(data + size, 1, cap - size, file);
		size += got;
		if (got == 0)
			break;
	}
	int failed = ferror(file);
	fclose(file);
	if (failed) {
		fprintf(stderr, "replay: %s: read error\n", path);
		free(data);
		return -1;
	}
	/* An exact-size copy, so that ASan sees a read past the input. */
	uint8_t *exact = malloc(size != 0 ? size : 1);
	if (exact == NULL) {
		free(data);
		return -1;
	}
	if (size != 0)
		memcpy(exact, data, size);
	free(data);
	LLVMFuzzerTestOneInput(exact, size);
	free(exact);
	return 0;
}

static int replay_dir(const char *dir, unsigned *count)
{
	DIR *handle = opendir(dir);
	if (handle == NULL)
		return errno == ENOENT ? 0 : -1;
	int result = 0;
	struct dirent *entry;
	while ((entry = readdir(handle)) != NULL) {
		char path[4096];
		struct stat st;
		if (entry->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, entry->d_name);
		if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
			continue;
		if (replay_file(path) != 0)
			result = -1;
		else
			(*count)++;
	}
	closedir(handle);
	return result;
}

int main(int argc, char **argv)
{
	unsigned count = 0;
	int result = 0;
	for (int i = 1; i < argc; i++) {
		if (replay_dir(argv[i], &count) != 0) {
			fprintf(stderr, "replay: %s: %s\n", argv[i], strerror(errno));
			result = 1;
		}
	}
	printf("replay: %u inputs, no crash\n", count);
	return result;
}
