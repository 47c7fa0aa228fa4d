/*
 * etcd_server.h: etcd 3.4 with --listen-client-urls and --listen-peer-urls on
 * loopback ports from harness_port_range, a single-member cluster of its own
 * (--initial-cluster naming only itself), readiness from GET /health.
 */
#include "etcd_server.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

/* The etcd CMake found, unless ETCD_BIN names another. */
static const char *etcd_bin(void)
{
	const char *bin = getenv("ETCD_BIN");
	return bin != NULL && bin[0] != '\0' ? bin : TG_ETCD_BIN;
}

bool etcd_server_available(void)
{
	return access(etcd_bin(), X_OK) == 0;
}

static bool answers_health(void *arg)
{
	const struct etcd_server *server = arg;
	char url[96];
	snprintf(url, sizeof(url), "%s/health", server->url);
	struct harness_response response;
	bool healthy = harness_http("GET", url, NULL, NULL, 1000, &response) == 0 &&
	               response.status == 200 && strstr(response.body, "\"true\"") != NULL;
	harness_response_free(&response);
	return healthy;
}

int etcd_server_restart(struct etcd_server *server)
{
	char client[64], peer[64], cluster[96];
	snprintf(client, sizeof(client), "http://127.0.0.1:%d", server->client_port);
	snprintf(peer, sizeof(peer), "http://127.0.0.1:%d", server->peer_port);
	snprintf(cluster, sizeof(cluster), "test=%s", peer);
	const char *argv[] = {etcd_bin(),
	                      "--name",
	                      "test",
	                      "--data-dir",
	                      server->data_dir,
	                      "--listen-client-urls",
	                      client,
	                      "--advertise-client-urls",
	                      client,
	                      "--listen-peer-urls",
	                      peer,
	                      "--initial-advertise-peer-urls",
	                      peer,
	                      "--initial-cluster",
	                      cluster,
	                      "--logger",
	                      "zap",
	                      "--log-level",
	                      "warn",
	                      NULL};
	server->pid = harness_spawn(argv, server->log);
	if (server->pid < 0)
		return -1;
	if (!harness_wait_until(answers_health, server, 20000)) {
		fprintf(stderr, "etcd did not become healthy on %s; its log: %s\n", server->url,
		        server->log);
		return -1;
	}
	return 0;
}

int etcd_server_start(struct etcd_server *server, const char *dir)
{
	memset(server, 0, sizeof(*server));
	server->client_port = harness_port_range(2);
	server->peer_port = server->client_port + 1;
	snprintf(server->url, sizeof(server->url), "http://127.0.0.1:%d", server->client_port);
	snprintf(server->data_dir, sizeof(server->data_dir), "%s/etcd-data", dir);
	snprintf(server->log, sizeof(server->log), "%s/etcd.log", dir);
	return etcd_server_restart(server);
}

void etcd_server_stop(struct etcd_server *server)
{
	if (server->pid > 0)
		harness_stop(server->pid, 5000);
	server->pid = 0;
}
