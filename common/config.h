/*
 * INI config loading on inih, driven by a table of sections and keys with
 * types. Every error names its place: "collector.ini:14: unknown key 'tik'
 * in [collector]". Nothing is half-applied: on error the caller discards the
 * target with config_free().
 */
#ifndef TG_CONFIG_H
#define TG_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum config_type {
	CONFIG_STRING,   /* char *, owned by the target */
	CONFIG_PATH,     /* char *; a relative path is taken relative to the config file's dir */
	CONFIG_INT,      /* int64_t */
	CONFIG_DOUBLE,   /* double */
	CONFIG_BOOL,     /* bool: true/false, yes/no, on/off, 1/0 */
	CONFIG_DURATION, /* int64_t milliseconds: "250ms", "5s", "30m", "1h" */
	CONFIG_LIST,     /* struct config_list: items separated by commas and/or spaces */
	CONFIG_CHOICE,   /* int: index of the value in `choices` (an enum's names) */
	CONFIG_KEYED,    /* struct config_pairs: every key NAME.suffix ("backend.blue = b1") */
	CONFIG_SIZE,     /* int64_t bytes: "65536", "512KiB", "64MiB", "1GiB" */
};

struct config_list {
	char **items;
	size_t count;
};

/* The NAME.suffix keys of one kind, in file order: suffix, value and line. */
struct config_pair {
	char *name;  /* the suffix: "blue" of backend.blue */
	char *value; /* as written */
	int line;
};

struct config_pairs {
	struct config_pair *items;
	size_t count;
};

struct config_key {
	const char *name;
	enum config_type type;
	size_t offset;             /* offsetof() the value in the section's struct */
	bool required;             /* absent -> error */
	const char *default_value; /* parsed like a file value when the key is absent; NULL: zero */
	double min, max;           /* inclusive bounds for INT, DOUBLE, DURATION (ms); 0,0: none */
	/*
	 * CONFIG_CHOICE: the names, NULL-terminated, indexed by the enum the
	 * value is stored as ({[MODE_AUTO] = "auto", [MODE_JMX] = "jmx", NULL})
	 */
	const char *const *choices;
};

struct config_section {
	const char *name; /* "agent", or "cluster." for a family of [cluster.NAME] sections */
	bool is_family;
	const struct config_key *keys;
	size_t key_count;
	size_t offset; /* fixed sections: offsetof() the section's struct in the target */
	/*
	 * Families: returns the struct for instance NAME of TARGET, creating it
	 * on first use (defaults are applied by the loader). NULL with a reason
	 * in ERR refuses the name.
	 */
	void *(*instance)(void *target, const char *name, char *err, size_t err_len);
	/* Families: iterates instances for config_free(); returns NULL past the end. */
	void *(*instance_at)(void *target, size_t index);
	/*
	 * Optional check of the section as a whole, after the file is read.
	 * Returns 0, or -1 with a reason in WHY and in *KEY the key to blame
	 * (its line is reported; "NAME.suffix" for one pair of a CONFIG_KEYED
	 * key: that pair's line; NULL: the section's line).
	 */
	int (*validate)(void *object, const char **key, char *why, size_t why_len);
	/*
	 * Fixed sections only: nonzero when the target holds not the section's
	 * struct but a pointer to it, for a section whose struct only its own
	 * file knows (a load-balancer driver's). The loader allocates SIZE zeroed
	 * bytes before reading and stores their address in the `void *` at
	 * OFFSET; config_free() frees them.
	 */
	size_t size;
};

/* Where the loader found the sections and keys of the file; see config_where_line(). */
struct config_where;

/*
 * The line of KEY in section SECTION ("lb.haproxy", "cluster.green"), or of
 * the section's [header] when KEY is NULL; 0 when the file does not have it.
 */
int config_where_line(const struct config_where *where, const char *section, const char *key);

struct config_schema {
	const struct config_section *sections;
	size_t section_count;
	/*
	 * Optional check of the whole TARGET, after every section's validate:
	 * rules that span sections ("a backend for every cluster"). Returns 0,
	 * or -1 with a reason in WHY and in *LINE the line to blame (found with
	 * WHERE; 0: none, the error then names the file alone).
	 */
	int (*check)(void *target, const struct config_where *where, int *line, char *why,
	             size_t why_len);
};

/*
 * Loads PATH into TARGET (which the caller zeroed). Defaults are applied first
 * to every fixed section. Returns 0, or -1 with "FILE:LINE: what is wrong"
 * (or "FILE: ..." when no line applies) in ERR.
 */
int config_load(const struct config_schema *schema, const char *path, void *target, char *err,
                size_t err_len);

/* Same, from text in memory; NAME is used in error messages. For tests and check-config. */
int config_load_string(const struct config_schema *schema, const char *name, const char *text,
                       void *target, char *err, size_t err_len);

/* Frees the strings and lists the loader stored in TARGET (the instances' too). */
void config_free(const struct config_schema *schema, void *target);

/* Frees the values of one section struct. */
void config_free_section(const struct config_key *keys, size_t key_count, void *section);

/* Frees a list's items and zeroes it. */
void config_list_free(struct config_list *list);

/* Frees the pairs and zeroes them. */
void config_pairs_free(struct config_pairs *pairs);

/* The value of NAME among PAIRS, or NULL. Borrowed. */
const char *config_pairs_get(const struct config_pairs *pairs, const char *name);

/* Parses a boolean the way config files spell it; returns 0 or -1. */
int config_parse_bool(const char *text, bool *value);

#endif
