/*
 * The commands that ask the collector to act: cutover, confirm-switch,
 * rollback, pause and resume. Each POSTs to the API with the bearer token and prints the answer.
 */
#ifndef TG_CTL_WRITE_H
#define TG_CTL_WRITE_H

#include "ctl.h"

/* Moves traffic to opt->to if the gate passes (or opt->force); 0 when accepted. */
int ctl_write_cutover(const struct ctl_options *opt, const char *operand);

/* Says the switch by hand ([lb] driver = none) was made, to opt->to if set; 0 when taken. */
int ctl_write_confirm(const struct ctl_options *opt, const char *operand);

/* Moves traffic back during a watch; 0 when accepted. */
int ctl_write_rollback(const struct ctl_options *opt, const char *operand);

/* Holds automatic decisions: journaled and alerted, the LB is not touched. */
int ctl_write_pause(const struct ctl_options *opt, const char *operand);

/* Lets automatic decisions act again. */
int ctl_write_resume(const struct ctl_options *opt, const char *operand);

#endif
