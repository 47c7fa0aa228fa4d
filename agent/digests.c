/*
 * Config digests of the etc dir. .properties files are hashed in their
 * canonical form (agent/properties.c), jvm.config as its ordered lines,
 * anything else raw. Files are small; reading them in the loop is cheaper
 * than any hand-off, and only changed files are read at all.
 */
#include "digests.h"

#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "properties.h"

#define DIGEST_MAX_FILE_BYTES (4 * 1024 * 1024)

const char *const digests_default_exclude_keys[] = {
        "node.id",      "node.data-dir", "node.internal-address", "node.external-address",
        "node.bind-ip", "node.location", "node.annotation-file",  "http-server.http.port",
};
const size_t digests_default_exclude_count =
        sizeof(digests_default_exclude_keys) / sizeof(digests_default_exclude_keys[0]);

static char **copy_strings(char *const *items, size_t count, const char *const *prefix,
                           size_t prefix_count)
{
	char **out = calloc(count + prefix_count + 1, sizeof(*out));
	if (out == NULL)
		return NULL;
	for (size_t i = 0; i < prefix_count + count; i++) {
		out[i] = strdup(i < prefix_count ? prefix[i] : items[i - prefix_count]);
		if (out[i] == NULL) {
			for (size_t k = 0; k < i; k++)
				free(out[k]);
			free(out);
			return NULL;
		}
	}
	return out;
}

static void free_strings(char **items, size_t count)
{
	for (size_t i = 0; items != NULL && i < count; i++)
		free(items[i]);
	free(items);
}

struct digests *digests_new(const char *etc_dir, char *const *extra_exclude, size_t exclude_count,
                            char *const *extra_patterns, size_t pattern_count)
{
	struct digests *digests = calloc(1, sizeof(*digests));
	if (digests == NULL)
		return NULL;
	digests->etc_dir = strdup(etc_dir);
	digests->exclude_count = digests_default_exclude_count + exclude_count;
	digests->exclude_keys =
	        copy_strings(extra_exclude, exclude_count, digests_default_exclude_keys,
	                     digests_default_exclude_count);
	digests->extra_count = pattern_count;
	digests->extra_patterns = copy_strings(extra_patterns, pattern_count, NULL, 0);
	if (digests->etc_dir == NULL || digests->exclude_keys == NULL ||
	    digests->extra_patterns == NULL) {
		digests_free(digests);
		return NULL;
	}
	return digests;
}

static void forget_keys(struct digest_file *file)
{
	key_digests_clear(&file->keys);
	file->keys_listed = false;
}

static void file_clear(struct digest_file *file)
{
	free(file->path);
	file->path = NULL;
	forget_keys(file);
}

void digests_free(struct digests *digests)
{
	if (digests == NULL)
		return;
	for (size_t i = 0; i < digests->count; i++)
		file_clear(&digests->files[i]);
	free(digests->files);
	free(digests->etc_dir);
	free_strings(digests->exclude_keys, digests->exclude_count);
	free_strings(digests->extra_patterns, digests->extra_count);
	free(digests);
}

/* The relative paths to digest now, sorted, without duplicates. */
struct path_list {
	char **items;
	size_t count;
};

static void path_list_add(struct path_list *list, const char *path)
{
	for (size_t i = 0; i < list->count; i++)
		if (strcmp(list->items[i], path) == 0)
			return;
	char **grown = realloc(list->items, (list->count + 1) * sizeof(*grown));
	if (grown == NULL)
		return;
	list->items = grown;
	list->items[list->count] = strdup(path);
	if (list->items[list->count] != NULL)
		list->count++;
}

static void add_glob(struct path_list *list, const char *etc_dir, const char *pattern)
{
	char full[4096];
	snprintf(full, sizeof(full), "%s/%s", etc_dir, pattern);
	glob_t matches;
	if (glob(full, 0, NULL, &matches) != 0)
		return;
	size_t prefix = strlen(etc_dir) + 1;
	for (size_t i = 0; i < matches.gl_pathc; i++) {
		struct stat st;
		if (stat(matches.gl_pathv[i], &st) == 0 && S_ISREG(st.st_mode))
			path_list_add(list, matches.gl_pathv[i] + prefix);
	}
	globfree(&matches);
}

static int compare_paths(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static struct path_list list_files(const struct digests *digests)
{
	struct path_list list = {0};
	/* Always reported, so a missing one shows as an error. */
	path_list_add(&list, "config.properties");
	path_list_add(&list, "node.properties");
	path_list_add(&list, "jvm.config");
	/* Optional in Trino. */
	add_glob(&list, digests->etc_dir, "log.properties");
	add_glob(&list, digests->etc_dir, "catalog/*.properties");
	for (size_t i = 0; i < digests->extra_count; i++) {
		size_t before = list.count;
		add_glob(&list, digests->etc_dir, digests->extra_patterns[i]);
		/* a plain extra file that does not exist is reported as missing */
		if (list.count == before && strpbrk(digests->extra_patterns[i], "*?[") == NULL)
			path_list_add(&list, digests->extra_patterns[i]);
	}
	if (list.count > 1)
		qsort(list.items, list.count, sizeof(*list.items), compare_paths);
	return list;
}

static bool has_suffix(const char *text, const char *suffix)
{
	size_t len = strlen(text), suffix_len = strlen(suffix);
	return len >= suffix_len && strcmp(text + len - suffix_len, suffix) == 0;
}

static char *read_whole(const char *path, size_t *len, char *err, size_t err_len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, err_len, "%s", strerror(errno));
		return NULL;
	}
	struct stat st;
	if (fstat(fd, &st) != 0 || st.st_size > DIGEST_MAX_FILE_BYTES) {
		snprintf(err, err_len,
		         st.st_size > DIGEST_MAX_FILE_BYTES ? "larger than 4 MiB" : "%s",
		         strerror(errno));
		close(fd);
		return NULL;
	}
	char *data = malloc((size_t)st.st_size + 1);
	size_t got = 0;
	while (data != NULL && got < (size_t)st.st_size) {
		ssize_t n = read(fd, data + got, (size_t)st.st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	if (data == NULL) {
		snprintf(err, err_len, "out of memory");
		return NULL;
	}
	data[got] = '\0';
	*len = got;
	return data;
}

static void hash_file(const struct digests *digests, struct digest_file *file, const char *full)
{
	size_t len = 0;
	char *raw = read_whole(full, &len, file->error, sizeof(file->error));
	file->ok = false;
	forget_keys(file);
	if (raw == NULL)
		return;
	char *canonical = raw;
	size_t canonical_len = len;
	if (has_suffix(file->path, ".properties")) {
		char why[200];
		canonical = properties_canonicalize(
		        raw, len, (const char *const *)digests->exclude_keys,
		        digests->exclude_count, &canonical_len, why, sizeof(why));
		if (canonical == NULL) {
			snprintf(file->error, sizeof(file->error), "%s", why);
			free(raw);
			return;
		}
		/* a file whose keys a report cannot carry is named without them */
		file->keys_listed = key_digests_compute(canonical, canonical_len, &file->keys) == 0;
	} else if (strcmp(file->path, "jvm.config") == 0) {
		canonical = jvm_config_canonicalize(raw, len, &canonical_len);
		if (canonical == NULL) {
			snprintf(file->error, sizeof(file->error), "out of memory");
			free(raw);
			return;
		}
	}
	unsigned int digest_len = 0;
	if (EVP_Digest(canonical, canonical_len, file->sha256, &digest_len, EVP_sha256(), NULL) ==
	            1 &&
	    digest_len == 32) {
		file->ok = true;
		file->error[0] = '\0';
	} else {
		snprintf(file->error, sizeof(file->error), "SHA-256 failed");
		forget_keys(file);
	}
	if (canonical != raw)
		free(canonical);
	free(raw);
}

static void refresh_file(struct digests *digests, struct digest_file *file)
{
	char full[4096];
	snprintf(full, sizeof(full), "%s/%s", digests->etc_dir, file->path);
	struct stat st;
	if (stat(full, &st) != 0) {
		snprintf(file->error, sizeof(file->error), "%s", strerror(errno));
		file->ok = false;
		file->hashed = false;
		forget_keys(file);
		return;
	}
	if (file->hashed && st.st_size == file->size && st.st_ino == file->inode &&
	    st.st_mtim.tv_sec == file->mtime.tv_sec && st.st_mtim.tv_nsec == file->mtime.tv_nsec)
		return; /* unchanged since the last hash */
	hash_file(digests, file, full);
	file->size = st.st_size;
	file->inode = st.st_ino;
	file->mtime = st.st_mtim;
	/* A failed read is retried next time, whatever the metadata says. */
	file->hashed = file->ok;
	digests->rehashed_total++;
}

/* The files Trino cannot start without, or whose drift matters most. */
static bool is_core_file(const char *path)
{
	static const char *const core[] = {"config.properties", "node.properties", "jvm.config",
	                                   "log.properties"};
	for (size_t i = 0; i < sizeof(core) / sizeof(core[0]); i++)
		if (strcmp(path, core[i]) == 0)
			return true;
	return false;
}

/*
 * Cuts a sorted LIST longer than DIGESTS_MAX_FILES down to it, the core
 * files kept whatever their place in the order ("catalog/..." sorts before
 * "config.properties"), then the others in order; sorted again.
 */
static void keep_core_first(struct path_list *list)
{
	size_t kept = 0;
	for (size_t i = 0; i < list->count; i++) {
		if (!is_core_file(list->items[i]))
			continue;
		char *core = list->items[i];
		memmove(&list->items[kept + 1], &list->items[kept], (i - kept) * sizeof(char *));
		list->items[kept++] = core;
	}
	for (size_t i = DIGESTS_MAX_FILES; i < list->count; i++)
		free(list->items[i]);
	list->count = DIGESTS_MAX_FILES;
	qsort(list->items, list->count, sizeof(*list->items), compare_paths);
}

void digests_refresh(struct digests *digests)
{
	struct path_list list = list_files(digests);
	digests->listed = list.count;
	digests->truncated = list.count > DIGESTS_MAX_FILES;
	if (digests->truncated)
		keep_core_first(&list);
	size_t wanted = list.count;
	struct digest_file *files = calloc(wanted > 0 ? wanted : 1, sizeof(*files));
	if (files == NULL) {
		free_strings(list.items, list.count);
		return;
	}
	/* Carry over what we know of files still listed; both lists are sorted. */
	size_t old = 0;
	for (size_t i = 0; i < wanted; i++) {
		while (old < digests->count && strcmp(digests->files[old].path, list.items[i]) < 0)
			old++;
		if (old < digests->count && strcmp(digests->files[old].path, list.items[i]) == 0) {
			files[i] = digests->files[old];
			digests->files[old] = (struct digest_file){0}; /* moved */
			old++;
		} else {
			files[i].path = list.items[i];
			list.items[i] = NULL;
		}
		refresh_file(digests, &files[i]);
	}
	for (size_t i = 0; i < digests->count; i++)
		file_clear(&digests->files[i]);
	free(digests->files);
	digests->files = files;
	digests->count = wanted;
	free_strings(list.items, list.count);
}
