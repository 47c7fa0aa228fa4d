/*
 * The commands that need no collector: keygen and check-config.
 */
#ifndef TG_CTL_LOCAL_H
#define TG_CTL_LOCAL_H

#include "ctl.h"

/* Writes OPERAND.pub and OPERAND.key (mode 0600), never over existing files. */
int ctl_local_keygen(const struct ctl_options *opt, const char *operand);

/* Loads OPERAND as an agent.ini (it has an [agent] section) or a collector.ini. */
int ctl_local_check_config(const struct ctl_options *opt, const char *operand);

#endif
