/*
 * A real etcd (Debian's etcd-server) for the tests: one member on loopback
 * with ephemeral client and peer ports and a data dir of its own, started,
 * waited for until it answers /health, and stopped by PID by the harness.
 */
#ifndef TG_ETCD_SERVER_H
#define TG_ETCD_SERVER_H

#include <stdbool.h>
#include <sys/types.h>

struct etcd_server {
	pid_t pid;
	int client_port, peer_port;
	char url[64]; /* http://127.0.0.1:PORT */
	char data_dir[512];
	char log[512];
	/* with TLS (etcd_server_start_tls): a second listener, https, client certificates required */
	int tls_port;
	char https_url[64];
	char ca[512], client_cert[512], client_key[512], server_cert[512], server_key[512];
};

/* Whether the etcd binary is there (ETCD_BIN, or the one found at build time). */
bool etcd_server_available(void);

/* Starts etcd with its data and log under DIR; 0 once it answers, -1 otherwise. */
int etcd_server_start(struct etcd_server *server, const char *dir);

/*
 * The same with a CA, a server certificate for 127.0.0.1 and a client
 * certificate made under DIR/tls with openssl(1), and etcd also serving
 * https_url, where it wants a client certificate of that CA.
 */
int etcd_server_start_tls(struct etcd_server *server, const char *dir);

/* Turns etcd's auth on: users root and USER, both of role root, with PASSWORD. 0 or -1. */
int etcd_server_enable_auth(const struct etcd_server *server, const char *user,
                            const char *password);

/* Starts it again on the same ports and data (after a stop or a kill -9). */
int etcd_server_restart(struct etcd_server *server);

/* Stops it (SIGTERM, then SIGKILL). */
void etcd_server_stop(struct etcd_server *server);

#endif
