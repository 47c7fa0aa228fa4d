/*
 * Every page links to a section of the README's Runbook that exists: each
 * finding rule (rules/finding_names.c) and each alert the cutover rules
 * raise (every `alert(..., "name", ...)` in the .c files of rules/, read from the source
 * so that a new one cannot be forgotten), through alert_runbook_url(), names
 * a `### anchor` heading under `## Runbook`.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <dirent.h>

#include "alert_payload.h"
#include "findings.h"

static char *read_whole(const char *path)
{
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return NULL;
	size_t len = 0, cap = 4096;
	char *text = malloc(cap);
	size_t n;
	while (text != NULL && (n = fread(text + len, 1, cap - len - 1, f)) > 0) {
		len += n;
		if (cap - len < 2)
			text = realloc(text, cap *= 2);
	}
	fclose(f);
	if (text != NULL)
		text[len] = '\0';
	return text;
}

/* Whether the README's Runbook has `### ANCHOR` (a heading line of its own). */
static bool runbook_has(const char *readme, const char *anchor)
{
	const char *runbook = strstr(readme, "\n## Runbook\n");
	assert_non_null(runbook);
	const char *end = strstr(runbook + 1, "\n## ");
	char heading[128];
	snprintf(heading, sizeof(heading), "\n### %s\n", anchor);
	const char *at = strstr(runbook, heading);
	return at != NULL && (end == NULL || at < end);
}

static void check_rule(const char *readme, const char *rule)
{
	char url[256];
	assert_true(alert_runbook_url("R", rule, url, sizeof(url)));
	if (!runbook_has(readme, url + 2))
		fail_msg("the page of '%s' links to README.md#%s, which the Runbook lacks", rule,
		         url + 2);
}

/* The names of every `alert(..., SEVERITY_X, "name"` in TEXT; how many went to NAMES. */
static size_t alert_names(const char *text, char names[][64], size_t max)
{
	size_t count = 0;
	for (const char *at = strstr(text, "alert("); at != NULL && count < max;
	     at = strstr(at + 1, "alert(")) {
		const char *severity = strstr(at, "SEVERITY_");
		const char *close = strchr(at, ';');
		if (severity == NULL || close == NULL || severity > close)
			continue;
		const char *comma = strchr(severity, ',');
		if (comma == NULL || comma > close)
			continue;
		const char *q = comma + 1;
		while (*q == ' ' || *q == '\n' || *q == '\t')
			q++;
		/* a name, or "a" : "b" of a ternary: take every literal before the next comma */
		for (; q < close && *q != ',';) {
			if (*q == '"') {
				size_t n = strcspn(q + 1, "\"");
				if (n > 0 && n < 64 && count < max)
					snprintf(names[count++], 64, "%.*s", (int)n, q + 1);
				q += n + 2;
			} else
				q++;
		}
	}
	return count;
}

static void test_every_finding_links_to_its_runbook_section(void **state)
{
	(void)state;
	char *readme = read_whole(TG_README);
	assert_non_null(readme);
	for (int k = 0; k < FINDING_KIND_COUNT; k++)
		check_rule(readme, finding_kind_name((enum finding_kind)k));
	free(readme);
}

static void test_every_cutover_alert_links_to_its_runbook_section(void **state)
{
	(void)state;
	char *readme = read_whole(TG_README);
	assert_non_null(readme);
	DIR *dir = opendir(TG_RULES_DIR);
	assert_non_null(dir);
	size_t total = 0;
	struct dirent *entry;
	while ((entry = readdir(dir)) != NULL) {
		size_t len = strlen(entry->d_name);
		if (len < 3 || strcmp(entry->d_name + len - 2, ".c") != 0)
			continue;
		char path[1024];
		snprintf(path, sizeof(path), "%s/%s", TG_RULES_DIR, entry->d_name);
		char *text = read_whole(path);
		assert_non_null(text);
		char names[128][64];
		size_t n = alert_names(text, names, 128);
		for (size_t i = 0; i < n; i++)
			check_rule(readme, names[i]);
		total += n;
		free(text);
	}
	closedir(dir);
	assert_true(total >= 15); /* the scan found the cutover rules' alerts */
	free(readme);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_every_finding_links_to_its_runbook_section),
	        cmocka_unit_test(test_every_cutover_alert_links_to_its_runbook_section),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
