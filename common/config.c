/*
 * Table-driven INI loading on inih. The loader keeps, per section instance it
 * has seen, which keys were set and on which line, so it can report
 * duplicates, unknown keys and missing required keys with their place.
 */
#include "config.h"

#include <stdarg.h>
#include <errno.h>
#include <ini.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_env.h"
#include "config_value.h"

#define CONFIG_MAX_KEYS_PER_SECTION 64

/* The line buffer inih was built with; a longer line would be split silently. */
#define CONFIG_MAX_LINE INI_MAX_LINE

struct seen_section {
	const struct config_section *section;
	void *object;
	char *instance_name; /* families only */
	int first_line;
	int key_lines[CONFIG_MAX_KEYS_PER_SECTION]; /* 0: not set in the file */
};

struct load_context {
	const struct config_schema *schema;
	const char *file_name;
	char *base_dir; /* for relative CONFIG_PATH values; "" for in-memory text */
	void *target;
	struct seen_section *seen;
	size_t seen_count;
	int line;
	int section_line; /* line of the latest [section] header */
	char *err;
	size_t err_len;
	bool failed;
	/* reader state */
	FILE *file;
	const char *text_cursor;
};

/* What a schema's check may ask about: the load in progress. */
struct config_where {
	struct load_context *ctx;
};

static void set_error(struct load_context *ctx, int line, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

/* A fixed section's struct in TARGET: embedded at its offset, or allocated (size != 0). */
static void *fixed_object(const struct config_section *section, void *target)
{
	char *slot = (char *)target + section->offset;
	return section->size != 0 ? *(void **)slot : slot;
}

static void set_error(struct load_context *ctx, int line, const char *fmt, ...)
{
	if (ctx->failed)
		return; /* the first error is the one worth reading */
	ctx->failed = true;
	char what[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (line > 0)
		snprintf(ctx->err, ctx->err_len, "%s:%d: %s", ctx->file_name, line, what);
	else
		snprintf(ctx->err, ctx->err_len, "%s: %s", ctx->file_name, what);
}

static int apply_defaults(struct load_context *ctx, const struct config_section *section,
                          void *object)
{
	for (size_t i = 0; i < section->key_count; i++) {
		const struct config_key *key = &section->keys[i];
		if (key->default_value == NULL)
			continue;
		char why[256];
		if (config_value_store(ctx->base_dir, key, object, key->default_value, why,
		                       sizeof(why)) != 0) {
			set_error(ctx, 0, "default of [%s%s] %s: %s", section->name,
			          section->is_family ? "*" : "", key->name, why);
			return -1;
		}
	}
	return 0;
}

static struct seen_section *find_seen(struct load_context *ctx,
                                      const struct config_section *section, const char *instance)
{
	for (size_t i = 0; i < ctx->seen_count; i++) {
		struct seen_section *seen = &ctx->seen[i];
		if (seen->section != section)
			continue;
		if (!section->is_family)
			return seen;
		if (instance != NULL && strcmp(seen->instance_name, instance) == 0)
			return seen;
	}
	return NULL;
}

static struct seen_section *add_seen(struct load_context *ctx, const struct config_section *section,
                                     void *object, const char *instance, int line)
{
	struct seen_section *grown = realloc(ctx->seen, (ctx->seen_count + 1) * sizeof(*grown));
	if (grown == NULL)
		return NULL;
	ctx->seen = grown;
	struct seen_section *seen = &ctx->seen[ctx->seen_count];
	memset(seen, 0, sizeof(*seen));
	seen->section = section;
	seen->object = object;
	seen->first_line = line;
	if (instance != NULL) {
		seen->instance_name = strdup(instance);
		if (seen->instance_name == NULL)
			return NULL;
	}
	ctx->seen_count++;
	return seen;
}

/* Finds (or, for a new family instance, creates) the section named in the file. */
static struct seen_section *resolve_section(struct load_context *ctx, const char *name)
{
	const struct config_schema *schema = ctx->schema;
	for (size_t i = 0; i < schema->section_count; i++) {
		const struct config_section *section = &schema->sections[i];
		if (!section->is_family) {
			if (strcmp(section->name, name) != 0)
				continue;
			struct seen_section *seen = find_seen(ctx, section, NULL);
			if (seen == NULL) {
				void *object = fixed_object(section, ctx->target);
				seen = add_seen(ctx, section, object, NULL, ctx->section_line);
				if (seen == NULL)
					set_error(ctx, ctx->line, "out of memory");
			}
			return seen;
		}
		size_t prefix_len = strlen(section->name);
		if (strncmp(name, section->name, prefix_len) != 0)
			continue;
		const char *instance = name + prefix_len;
		if (*instance == '\0') {
			set_error(ctx, ctx->section_line,
			          "section [%s] needs a name, as in [%sNAME]", name, section->name);
			return NULL;
		}
		struct seen_section *seen = find_seen(ctx, section, instance);
		if (seen != NULL)
			return seen;
		char why[256] = "";
		void *object = section->instance(ctx->target, instance, why, sizeof(why));
		if (object == NULL) {
			set_error(ctx, ctx->section_line, "[%s]: %s", name, why);
			return NULL;
		}
		if (apply_defaults(ctx, section, object) != 0)
			return NULL;
		seen = add_seen(ctx, section, object, instance, ctx->section_line);
		if (seen == NULL)
			set_error(ctx, ctx->line, "out of memory");
		return seen;
	}
	set_error(ctx, ctx->section_line, "unknown section [%s]", name);
	return NULL;
}

static int store_value(struct load_context *ctx, const char *section_name, const char *key_name,
                       const char *value)
{
	if (section_name[0] == '\0') {
		set_error(ctx, ctx->line, "key '%s' outside of any section", key_name);
		return 0;
	}
	struct seen_section *seen = resolve_section(ctx, section_name);
	if (seen == NULL)
		return 0;
	const struct config_section *section = seen->section;
	for (size_t i = 0; i < section->key_count; i++) {
		const struct config_key *key = &section->keys[i];
		if (strcmp(key->name, key_name) != 0)
			continue;
		if (key->type == CONFIG_KEYED) {
			set_error(ctx, ctx->line, "[%s] %s needs a name, as in %s.NAME",
			          section_name, key_name, key_name);
			return 0;
		}
		if (seen->key_lines[i] != 0 && seen->key_lines[i] != ctx->line) {
			set_error(ctx, ctx->line,
			          "duplicate key '%s' in [%s] (first set on line %d)", key_name,
			          section_name, seen->key_lines[i]);
			return 0;
		}
		char why[256];
		if (config_value_store(ctx->base_dir, key, seen->object, value, why, sizeof(why)) !=
		    0) {
			set_error(ctx, ctx->line, "[%s] %s: %s", section_name, key_name, why);
			return 0;
		}
		seen->key_lines[i] = ctx->line;
		return 1;
	}
	/* NAME.suffix keys: one entry per suffix, each suffix once */
	for (size_t i = 0; i < section->key_count; i++) {
		const struct config_key *key = &section->keys[i];
		size_t prefix_len = strlen(key->name);
		if (key->type != CONFIG_KEYED || strncmp(key_name, key->name, prefix_len) != 0 ||
		    key_name[prefix_len] != '.' || key_name[prefix_len + 1] == '\0')
			continue;
		struct config_pairs *pairs =
		        (struct config_pairs *)((char *)seen->object + key->offset);
		const char *suffix = key_name + prefix_len + 1;
		if (config_pairs_get(pairs, suffix) != NULL) {
			set_error(ctx, ctx->line, "duplicate key '%s' in [%s]", key_name,
			          section_name);
			return 0;
		}
		struct config_pair *grown =
		        realloc(pairs->items, (pairs->count + 1) * sizeof(*grown));
		if (grown != NULL)
			pairs->items = grown;
		char *name = strdup(suffix), *copy = strdup(value);
		if (grown == NULL || name == NULL || copy == NULL) {
			free(name);
			free(copy);
			set_error(ctx, ctx->line, "out of memory");
			return 0;
		}
		pairs->items[pairs->count++] =
		        (struct config_pair){.name = name, .value = copy, .line = ctx->line};
		seen->key_lines[i] = ctx->line;
		return 1;
	}
	set_error(ctx, ctx->line, "unknown key '%s' in [%s]", key_name, section_name);
	return 0;
}

/* inih's handler: one key; its value with ${ENV:NAME} expanded first. 1 ok, 0 error. */
static int on_ini_value(void *user, const char *section_name, const char *key_name,
                        const char *value)
{
	struct load_context *ctx = user;
	if (ctx->failed)
		return 1; /* keep inih going quietly; the first error is reported */
	char why[256];
	char *expanded = config_env_expand(value, why, sizeof(why));
	if (expanded == NULL) {
		set_error(ctx, ctx->line, "[%s] %s: %s", section_name, key_name, why);
		return 0;
	}
	int rc = store_value(ctx, section_name, key_name, expanded);
	free(expanded);
	return rc;
}

/* inih reader: one call per line, so the count is the line the handler sees. */
static char *read_line(char *buffer, int size, void *stream)
{
	struct load_context *ctx = stream;
	char *line;
	if (ctx->file != NULL) {
		line = fgets(buffer, size, ctx->file);
		if (line == NULL)
			return NULL;
	} else {
		if (*ctx->text_cursor == '\0')
			return NULL;
		const char *newline = strchr(ctx->text_cursor, '\n');
		size_t len = newline != NULL ? (size_t)(newline - ctx->text_cursor) + 1
		                             : strlen(ctx->text_cursor);
		size_t copy = len < (size_t)size - 1 ? len : (size_t)size - 1;
		memcpy(buffer, ctx->text_cursor, copy);
		buffer[copy] = '\0';
		ctx->text_cursor += copy;
		line = buffer;
	}
	ctx->line++;
	const char *first = line;
	while (*first == ' ' || *first == '\t')
		first++;
	if (*first == '[') {
		ctx->section_line = ctx->line;
		/* inih only reports keys; a section with none must still exist
		 * (a [cluster.green] on defaults), so register it at its header. */
		const char *close = strchr(first, ']');
		if (close != NULL && !ctx->failed) {
			const char *start = first + 1;
			while (*start == ' ' || *start == '\t')
				start++;
			const char *end = close;
			while (end > start && (end[-1] == ' ' || end[-1] == '\t'))
				end--;
			char name[256];
			snprintf(name, sizeof(name), "%.*s", (int)(end - start), start);
			resolve_section(ctx, name);
		}
	}
	size_t len = strlen(line);
	bool at_end = ctx->file != NULL ? feof(ctx->file) : *ctx->text_cursor == '\0';
	if (len > 0 && line[len - 1] != '\n' && !at_end) {
		/* Longer than inih's buffer: refuse rather than parse half a line. */
		set_error(ctx, ctx->line, "line longer than %d characters", size - 2);
		if (ctx->file != NULL) {
			int c;
			while ((c = fgetc(ctx->file)) != EOF && c != '\n')
				;
		} else {
			const char *newline = strchr(ctx->text_cursor, '\n');
			ctx->text_cursor = newline != NULL
			                           ? newline + 1
			                           : ctx->text_cursor + strlen(ctx->text_cursor);
		}
		buffer[0] = '\n';
		buffer[1] = '\0';
	}
	return line;
}

static void check_required(struct load_context *ctx)
{
	const struct config_schema *schema = ctx->schema;
	for (size_t s = 0; s < schema->section_count && !ctx->failed; s++) {
		const struct config_section *section = &schema->sections[s];
		for (size_t i = 0; i < section->key_count && !ctx->failed; i++) {
			const struct config_key *key = &section->keys[i];
			if (!key->required)
				continue;
			if (!section->is_family) {
				struct seen_section *seen = find_seen(ctx, section, NULL);
				if (seen == NULL || seen->key_lines[i] == 0)
					set_error(ctx, seen != NULL ? seen->first_line : 0,
					          "[%s] %s is required", section->name, key->name);
				continue;
			}
			for (size_t k = 0; k < ctx->seen_count; k++) {
				struct seen_section *seen = &ctx->seen[k];
				if (seen->section == section && seen->key_lines[i] == 0) {
					set_error(ctx, seen->first_line, "[%s%s] %s is required",
					          section->name, seen->instance_name, key->name);
					break;
				}
			}
		}
	}
}

/*
 * The line of KEY in SEEN: a key's, or for "NAME.suffix" of a NAME.suffix
 * kind that pair's; the section's header when KEY is NULL or not in the file.
 */
static int blamed_line(const struct seen_section *seen, const char *key)
{
	const struct config_section *section = seen->section;
	for (size_t i = 0; key != NULL && i < section->key_count; i++) {
		const struct config_key *k = &section->keys[i];
		size_t n = strlen(k->name);
		if (strcmp(k->name, key) == 0 && seen->key_lines[i] != 0)
			return seen->key_lines[i];
		if (k->type != CONFIG_KEYED || strncmp(k->name, key, n) != 0 || key[n] != '.')
			continue;
		const struct config_pairs *pairs =
		        (const struct config_pairs *)((const char *)seen->object + k->offset);
		for (size_t p = 0; p < pairs->count; p++)
			if (strcmp(pairs->items[p].name, key + n + 1) == 0)
				return pairs->items[p].line;
	}
	return seen->first_line;
}

/* Runs each section's own check; blames the key it names. */
static void validate_sections(struct load_context *ctx)
{
	const struct config_schema *schema = ctx->schema;
	for (size_t s = 0; s < schema->section_count && !ctx->failed; s++) {
		const struct config_section *section = &schema->sections[s];
		if (section->validate == NULL)
			continue;
		if (!section->is_family) {
			void *object = fixed_object(section, ctx->target);
			struct seen_section *seen = find_seen(ctx, section, NULL);
			const char *key = NULL;
			char why[512];
			if (section->validate(object, &key, why, sizeof(why)) == 0)
				continue;
			int line = seen != NULL ? blamed_line(seen, key) : 0;
			set_error(ctx, line, "[%s] %s", section->name, why);
			continue;
		}
		for (size_t k = 0; k < ctx->seen_count && !ctx->failed; k++) {
			struct seen_section *seen = &ctx->seen[k];
			if (seen->section != section)
				continue;
			const char *key = NULL;
			char why[512];
			if (section->validate(seen->object, &key, why, sizeof(why)) == 0)
				continue;
			set_error(ctx, blamed_line(seen, key), "[%s%s] %s", section->name,
			          seen->instance_name, why);
		}
	}
}

static int load(struct load_context *ctx)
{
	const struct config_schema *schema = ctx->schema;
	for (size_t s = 0; s < schema->section_count; s++) {
		const struct config_section *section = &schema->sections[s];
		if (section->key_count > CONFIG_MAX_KEYS_PER_SECTION) {
			set_error(ctx, 0, "internal: section [%s] has too many keys",
			          section->name);
			return -1;
		}
		if (section->is_family)
			continue;
		if (section->size != 0) {
			void *object = calloc(1, section->size);
			if (object == NULL) {
				set_error(ctx, 0, "out of memory");
				return -1;
			}
			*(void **)((char *)ctx->target + section->offset) = object;
		}
		if (apply_defaults(ctx, section, fixed_object(section, ctx->target)) != 0)
			return -1;
	}
	int rc = ini_parse_stream(read_line, ctx, on_ini_value, ctx);
	if (rc > 0 && !ctx->failed)
		set_error(ctx, rc, "syntax error (expected [section] or key = value)");
	else if (rc == -2)
		set_error(ctx, 0, "out of memory");
	if (!ctx->failed)
		check_required(ctx);
	if (!ctx->failed)
		validate_sections(ctx);
	if (!ctx->failed && schema->check != NULL) {
		struct config_where where = {ctx};
		int line = 0;
		char why[512];
		if (schema->check(ctx->target, &where, &line, why, sizeof(why)) != 0)
			set_error(ctx, line, "%s", why);
	}
	return ctx->failed ? -1 : 0;
}

int config_where_line(const struct config_where *where, const char *section, const char *key)
{
	const struct load_context *ctx = where->ctx;
	for (size_t i = 0; i < ctx->seen_count; i++) {
		const struct seen_section *seen = &ctx->seen[i];
		const char *name = seen->section->name;
		size_t prefix_len = strlen(name);
		bool same = seen->section->is_family
		                    ? strncmp(section, name, prefix_len) == 0 &&
		                              strcmp(section + prefix_len, seen->instance_name) == 0
		                    : strcmp(section, name) == 0;
		if (!same)
			continue;
		if (key == NULL)
			return seen->first_line;
		for (size_t k = 0; k < seen->section->key_count; k++)
			if (strcmp(seen->section->keys[k].name, key) == 0)
				return seen->key_lines[k];
		return 0;
	}
	return 0;
}

static void context_cleanup(struct load_context *ctx)
{
	for (size_t i = 0; i < ctx->seen_count; i++)
		free(ctx->seen[i].instance_name);
	free(ctx->seen);
	free(ctx->base_dir);
}

int config_load(const struct config_schema *schema, const char *path, void *target, char *err,
                size_t err_len)
{
	struct load_context ctx = {
	        .schema = schema,
	        .file_name = path,
	        .target = target,
	        .err = err,
	        .err_len = err_len,
	};
	ctx.file = fopen(path, "r");
	if (ctx.file == NULL) {
		snprintf(err, err_len, "%s: cannot open: %s", path, strerror(errno));
		return -1;
	}
	const char *slash = strrchr(path, '/');
	ctx.base_dir = slash != NULL ? strndup(path, (size_t)(slash - path)) : strdup(".");
	if (ctx.base_dir == NULL) {
		(void)fclose(ctx.file); /* read only: nothing to lose */
		snprintf(err, err_len, "%s: out of memory", path);
		return -1;
	}
	int rc = load(&ctx);
	if (rc == 0 && ferror(ctx.file)) {
		set_error(&ctx, 0, "read error: %s", strerror(errno));
		rc = -1;
	}
	(void)fclose(ctx.file); /* read only: nothing to lose */
	context_cleanup(&ctx);
	return rc;
}

int config_load_string(const struct config_schema *schema, const char *name, const char *text,
                       void *target, char *err, size_t err_len)
{
	struct load_context ctx = {
	        .schema = schema,
	        .file_name = name,
	        .target = target,
	        .err = err,
	        .err_len = err_len,
	        .text_cursor = text,
	};
	ctx.base_dir = strdup("");
	if (ctx.base_dir == NULL) {
		snprintf(err, err_len, "%s: out of memory", name);
		return -1;
	}
	int rc = load(&ctx);
	context_cleanup(&ctx);
	return rc;
}

void config_free_section(const struct config_key *keys, size_t key_count, void *section)
{
	for (size_t i = 0; i < key_count; i++) {
		char *slot = (char *)section + keys[i].offset;
		if (keys[i].type == CONFIG_STRING || keys[i].type == CONFIG_PATH) {
			free(*(char **)slot);
			*(char **)slot = NULL;
		} else if (keys[i].type == CONFIG_LIST) {
			config_list_free((struct config_list *)slot);
		} else if (keys[i].type == CONFIG_KEYED) {
			config_pairs_free((struct config_pairs *)slot);
		}
	}
}

void config_free(const struct config_schema *schema, void *target)
{
	if (target == NULL)
		return;
	for (size_t s = 0; s < schema->section_count; s++) {
		const struct config_section *section = &schema->sections[s];
		if (!section->is_family) {
			void *object = fixed_object(section, target);
			if (object != NULL)
				config_free_section(section->keys, section->key_count, object);
			if (section->size != 0) {
				free(object);
				*(void **)((char *)target + section->offset) = NULL;
			}
			continue;
		}
		void *instance;
		for (size_t i = 0; (instance = section->instance_at(target, i)) != NULL; i++)
			config_free_section(section->keys, section->key_count, instance);
	}
}
