/*
 * The commands that need no collector: keygen and check-config.
 */
#ifndef TG_CTL_LOCAL_H
#define TG_CTL_LOCAL_H

#include "ctl.h"

/* Writes OPERAND.pub and OPERAND.key (mode 0600), never over existing files. */
int ctl_local_keygen(const struct ctl_options *opt, const char *operand);

/*
 * Checks OPERAND as an agent.ini (it has an [agent] section) or a
 * collector.ini, as the daemon's --check-config does: 0 ok, 1 the file is
 * valid but what it names is not (keys, allow-list, node.properties, the
 * LB), 2 the file is not valid.
 */
int ctl_local_check_config(const struct ctl_options *opt, const char *operand);

#endif
