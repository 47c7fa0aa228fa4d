/*
 * What the collector needs beyond a valid collector.ini before it starts:
 * its secret key, the allow-list, the API token, the state dir, the alert
 * sinks' secret files and (unless offline) the load balancer answering.
 * trino-guard-collector --check-config and trino-guardctl check-config run
 * these same checks.
 */
#ifndef TG_COLLECTOR_CHECK_H
#define TG_COLLECTOR_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/*
 * The API token in PATH: a secret file, at least 16 characters so it is not
 * guessed. Returns it (free with secret_free()), or NULL with ERR.
 */
char *collector_read_token(const char *path, char *err, size_t err_len);

/*
 * Loads PATH and checks everything the collector would refuse at start,
 * printing each problem on ERR_OUT and "PATH: OK (...)" on OUT. OFFLINE
 * skips the load balancer's probe. Returns the exit code of config_check.h
 * (0 ok, 1 refused, 2 invalid file).
 */
int collector_check_config(const char *path, bool offline, FILE *out, FILE *err_out);

#endif
