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
	char listen[160];
	snprintf(listen, sizeof(listen), "%s%s%s", client, server->tls_port > 0 ? "," : "",
	         server->https_url);
	const char *argv[] = {etcd_bin(),
	                      "--name",
	                      "test",
	                      "--data-dir",
	                      server->data_dir,
	                      "--listen-client-urls",
	                      listen,
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
	                      server->tls_port > 0 ? "--cert-file" : NULL,
	                      server->server_cert,
	                      "--key-file",
	                      server->server_key,
	                      "--trusted-ca-file",
	                      server->ca,
	                      "--client-cert-auth",
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

/* A CA, and a server (127.0.0.1) and a client certificate it signed, under TLS_DIR. */
static int make_certificates(const char *tls_dir)
{
	char script[2048];
	snprintf(script, sizeof(script),
	         "(set -e; mkdir -p '%s'; cd '%s'; k='-newkey ec -pkeyopt "
	         "ec_paramgen_curve:prime256v1'"
	         "; openssl req -x509 $k -nodes -keyout ca.key -out ca.pem -days 2 -subj "
	         "/CN=tg-test-ca"
	         "; openssl req $k -nodes -keyout server.key -out server.csr -subj /CN=127.0.0.1"
	         "; echo subjectAltName=IP:127.0.0.1 > server.ext"
	         "; openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial"
	         " -out server.pem -days 2 -extfile server.ext"
	         "; openssl req $k -nodes -keyout client.key -out client.csr -subj /CN=trino-guard"
	         "; openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial"
	         " -out client.pem -days 2; chmod 600 client.key server.key"
	         ") >/dev/null 2>&1",
	         tls_dir, tls_dir);
	return system(script) == 0 ? 0 : -1;
}

int etcd_server_start_tls(struct etcd_server *server, const char *dir)
{
	memset(server, 0, sizeof(*server));
	server->client_port = harness_port_range(3);
	server->peer_port = server->client_port + 1;
	server->tls_port = server->client_port + 2;
	snprintf(server->url, sizeof(server->url), "http://127.0.0.1:%d", server->client_port);
	snprintf(server->https_url, sizeof(server->https_url), "https://127.0.0.1:%d",
	         server->tls_port);
	snprintf(server->data_dir, sizeof(server->data_dir), "%s/etcd-data", dir);
	snprintf(server->log, sizeof(server->log), "%s/etcd.log", dir);
	char tls[512];
	snprintf(tls, sizeof(tls), "%s/tls", dir);
	snprintf(server->ca, sizeof(server->ca), "%s/ca.pem", tls);
	snprintf(server->server_cert, sizeof(server->server_cert), "%s/server.pem", tls);
	snprintf(server->server_key, sizeof(server->server_key), "%s/server.key", tls);
	snprintf(server->client_cert, sizeof(server->client_cert), "%s/client.pem", tls);
	snprintf(server->client_key, sizeof(server->client_key), "%s/client.key", tls);
	if (make_certificates(tls) != 0) {
		fprintf(stderr, "etcd_server: openssl could not make the test certificates\n");
		return -1;
	}
	return etcd_server_restart(server);
}

/* POSTs BODY to the gateway's PATH; whether etcd said 200. */
static bool gateway_ok(const struct etcd_server *server, const char *path, const char *body)
{
	char url[160];
	snprintf(url, sizeof(url), "%s%s", server->url, path);
	const char *headers[] = {"Content-Type: application/json", NULL};
	struct harness_response r;
	harness_http("POST", url, headers, body, 5000, &r);
	bool ok = r.status == 200;
	if (!ok)
		fprintf(stderr, "etcd_server: %s answered %ld: %s\n", path, r.status,
		        r.body != NULL ? r.body : r.error);
	harness_response_free(&r);
	return ok;
}

int etcd_server_enable_auth(const struct etcd_server *server, const char *user,
                            const char *password)
{
	/* etcd enables auth only with a user root; USER gets its role too */
	const char *users[] = {"root", user};
	if (!gateway_ok(server, "/v3/auth/role/add", "{\"name\":\"root\"}"))
		return -1;
	for (size_t i = 0; i < (strcmp(user, "root") == 0 ? 1u : 2u); i++) {
		char add[256], grant[256];
		snprintf(add, sizeof(add), "{\"name\":\"%s\",\"password\":\"%s\"}", users[i],
		         password);
		snprintf(grant, sizeof(grant), "{\"user\":\"%s\",\"role\":\"root\"}", users[i]);
		if (!gateway_ok(server, "/v3/auth/user/add", add) ||
		    !gateway_ok(server, "/v3/auth/user/grant", grant))
			return -1;
	}
	return gateway_ok(server, "/v3/auth/enable", "{}") ? 0 : -1;
}

void etcd_server_stop(struct etcd_server *server)
{
	if (server->pid > 0)
		harness_stop(server->pid, 5000);
	server->pid = 0;
}
