/*
 * check-config's reporting: problems one a line, counted for the exit
 * code; and the one rule for node ids that the agent and the allow-list
 * share.
 */
#include "config_check.h"

#include <stdarg.h>
#include <string.h>

void config_check_problem(struct config_check *check, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(check->out, "%s: ", check->path);
	vfprintf(check->out, fmt, ap);
	fputc('\n', check->out);
	va_end(ap);
	check->problems++;
}

int config_check_exit(const struct config_check *check)
{
	return check->problems == 0 ? CONFIG_CHECK_OK : CONFIG_CHECK_REFUSED;
}

bool config_check_node_id(const char *name)
{
	static const char alnum[] =
	        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
	if (name[0] == '\0' || strchr(alnum, name[0]) == NULL)
		return false;
	for (const char *p = name; *p != '\0'; p++)
		if (strchr(alnum, *p) == NULL && *p != '_' && *p != '-')
			return false;
	return true;
}
