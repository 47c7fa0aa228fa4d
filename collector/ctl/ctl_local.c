/*
 * keygen and check-config: the commands an operator runs on a host before
 * any collector is up. check-config is the daemons' own check
 * (agent_check.c, collector_check.c), chosen by the file's [agent] section.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "agent_check.h"
#include "collector_check.h"
#include "config_check.h"
#include "ctl_local.h"
#include "curve_keys.h"

int ctl_local_keygen(const struct ctl_options *opt, const char *operand)
{
	(void)opt;
	char err[512];
	if (curve_keypair_write(operand, err, sizeof(err)) != 0) {
		fprintf(stderr, "trino-guardctl: %s\n", err);
		return CTL_EXIT_ERROR;
	}
	printf("wrote %s.pub and %s.key (mode 0600)\n", operand, operand);
	return CTL_EXIT_OK;
}

/* Whether PATH has an [agent] section: 1 yes, 0 no, -1 unreadable (said on stderr). */
static int has_agent_section(const char *path)
{
	FILE *f = fopen(path, "r");
	if (f == NULL) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		return -1;
	}
	bool agent = false;
	char line[512];
	while (fgets(line, sizeof(line), f) != NULL)
		agent = agent || strncmp(line, "[agent]", 7) == 0;
	int rc = agent ? 1 : 0;
	if (ferror(f)) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		rc = -1;
	}
	(void)fclose(f); /* read only: nothing to lose */
	return rc;
}

int ctl_local_check_config(const struct ctl_options *opt, const char *operand)
{
	int agent = has_agent_section(operand);
	if (agent < 0)
		return CONFIG_CHECK_INVALID;
	/* the daemons' own --check-config: one implementation for the three programs */
	return agent ? agent_check_config(operand, opt->offline, stdout, stderr)
	             : collector_check_config(operand, opt->offline, stdout, stderr);
}
