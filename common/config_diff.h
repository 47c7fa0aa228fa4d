/*
 * Which keys of a config section differ between two loaded copies: what a
 * reload compares before it decides what it can apply live.
 */
#ifndef TG_CONFIG_DIFF_H
#define TG_CONFIG_DIFF_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"

/*
 * True when KEY's value differs between the section structs OLD_SECTION and
 * NEW_SECTION, both filled by the loader from the same KEY table (strings
 * and paths by text, lists and NAME.suffix pairs item by item, in order).
 */
bool config_key_differs(const struct config_key *key, const void *old_section,
                        const void *new_section);

#endif
