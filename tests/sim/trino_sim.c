/*
 * trino-sim: a simulated Trino cluster in one process, for the integration
 * tests, the benchmarks and the demo (docs/DESIGN.md §10). Every node listens on its
 * own loopback port; a control API injects faults at run time.
 */
#include <event2/event.h>
#include <event2/http.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim_control.h"
#include "sim_etc.h"
#include "sim_http.h"
#include "sim_model.h"
#include "sim_query.h"
#include "sim_statement.h"

struct sim_options {
	const char *cluster;
	const char *version;
	int workers;
	int port_base;
	int control_port;
	const char *etc_root;
	int catalogs;
	int startup_ms;
	double qps;
	double fail_ratio;
	const char *error_type;
	double user_error_ratio;
	unsigned long long seed;
	const char *management_user;
	const char *environment;
	int client_timeout_ms;
};

static void usage(FILE *out)
{
	fprintf(out,
	        "usage: trino-sim --cluster NAME --port-base PORT --control-port PORT [options]\n"
	        "\n"
	        "Simulates a Trino cluster on 127.0.0.1: the coordinator on PORT, worker i on\n"
	        "PORT+i, a control API on the control port (GET /control, POST /control/NODE).\n"
	        "\n"
	        "  --cluster NAME            cluster label, also the node id prefix\n"
	        "  --version V               Trino version every node reports (default 447)\n"
	        "  --workers N               number of workers (default 2)\n"
	        "  --port-base PORT          coordinator port; workers follow\n"
	        "  --control-port PORT       control API port\n"
	        "  --etc-root DIR            write a Trino etc dir per node under DIR/<node-id>\n"
	        "  --catalogs N              catalog files per node (default 3)\n"
	        "  --qps X                   query arrivals per second (default 10)\n"
	        "  --fail-ratio X            share of queries failing with --error-type (default "
	        "0)\n"
	        "  --error-type T            USER_ERROR, INTERNAL_ERROR (default), EXTERNAL,\n"
	        "                            INSUFFICIENT_RESOURCES\n"
	        "  --user-error-ratio X      background user errors and cancels (default 0)\n"
	        "  --seed N                  random seed (default 1)\n"
	        "  --management-user NAME    management endpoints answer 403 to other users\n"
	        "  --environment NAME        node.environment (default production)\n"
	        "  --client-timeout-ms N     a query not polled for N ms is abandoned\n"
	        "                            (query.client.timeout, default 300000)\n"
	        "  --startup-ms N            each (re)start: /v1/info says starting and the\n"
	        "                            management endpoints answer 503 for N ms (default 0)\n"
	        "  --help\n");
}

static int parse_double(const char *text, double min, double max, double *out)
{
	char *end;
	double value = strtod(text, &end);
	if (*text == '\0' || *end != '\0' || value < min || value > max)
		return -1;
	*out = value;
	return 0;
}

static int parse_int(const char *text, int min, int max, int *out)
{
	char *end;
	long value = strtol(text, &end, 10);
	if (*text == '\0' || *end != '\0' || value < min || value > max)
		return -1;
	*out = (int)value;
	return 0;
}

/*
 * Stores the value of option C (a getopt_long code). Returns 0, 1 when the
 * value is out of range, or -1 for an option we do not know.
 */
static int set_option(int c, const char *value, struct sim_options *opt)
{
	switch (c) {
	case 'c':
		opt->cluster = value;
		return 0;
	case 'V':
		opt->version = value;
		return 0;
	case 'w':
		return parse_int(value, 0, SIM_MAX_NODES - 1, &opt->workers) != 0;
	case 'p':
		return parse_int(value, 1, 65535, &opt->port_base) != 0;
	case 'C':
		return parse_int(value, 1, 65535, &opt->control_port) != 0;
	case 'e':
		opt->etc_root = value;
		return 0;
	case 'k':
		return parse_int(value, 0, 1000, &opt->catalogs) != 0;
	case 'q':
		return parse_double(value, 0, 100000, &opt->qps) != 0;
	case 'f':
		return parse_double(value, 0, 1, &opt->fail_ratio) != 0;
	case 't':
		opt->error_type = value;
		return 0;
	case 'u':
		return parse_double(value, 0, 1, &opt->user_error_ratio) != 0;
	case 's':
		opt->seed = strtoull(value, NULL, 10);
		return 0;
	case 'm':
		opt->management_user = value;
		return 0;
	case 'E':
		opt->environment = value;
		return 0;
	case 'T':
		return parse_int(value, 1, 86400000, &opt->client_timeout_ms) != 0;
	case 'S':
		return parse_int(value, 0, 3600000, &opt->startup_ms) != 0;
	default:
		return -1;
	}
}

/* What single options cannot say: the required ones, the port range, the ratios' sum. */
static int check_options(const struct sim_options *opt)
{
	if (opt->cluster == NULL || opt->port_base == 0 || opt->control_port == 0) {
		fprintf(stderr, "trino-sim: --cluster, --port-base and --control-port are "
		                "required\n");
		usage(stderr);
		return -1;
	}
	if (opt->port_base + opt->workers > 65535) {
		fprintf(stderr, "trino-sim: ports run past 65535\n");
		return -1;
	}
	if (opt->fail_ratio + opt->user_error_ratio > 1) {
		fprintf(stderr, "trino-sim: --fail-ratio + --user-error-ratio exceed 1\n");
		return -1;
	}
	return 0;
}

static int parse_options(int argc, char **argv, struct sim_options *opt)
{
	static const struct option long_options[] = {
	        {"cluster", required_argument, NULL, 'c'},
	        {"version", required_argument, NULL, 'V'},
	        {"workers", required_argument, NULL, 'w'},
	        {"port-base", required_argument, NULL, 'p'},
	        {"control-port", required_argument, NULL, 'C'},
	        {"etc-root", required_argument, NULL, 'e'},
	        {"catalogs", required_argument, NULL, 'k'},
	        {"qps", required_argument, NULL, 'q'},
	        {"fail-ratio", required_argument, NULL, 'f'},
	        {"error-type", required_argument, NULL, 't'},
	        {"user-error-ratio", required_argument, NULL, 'u'},
	        {"seed", required_argument, NULL, 's'},
	        {"management-user", required_argument, NULL, 'm'},
	        {"environment", required_argument, NULL, 'E'},
	        {"client-timeout-ms", required_argument, NULL, 'T'},
	        {"startup-ms", required_argument, NULL, 'S'},
	        {"help", no_argument, NULL, 'h'},
	        {NULL, 0, NULL, 0},
	};
	*opt = (struct sim_options){.version = "447",
	                            .workers = 2,
	                            .catalogs = 3,
	                            .qps = 10,
	                            .error_type = "INTERNAL_ERROR",
	                            .seed = 1,
	                            .environment = "production",
	                            .client_timeout_ms = SIM_DEFAULT_CLIENT_TIMEOUT_MS};
	int c;
	int option_index = 0;
	while ((c = getopt_long(argc, argv, "", long_options, &option_index)) != -1) {
		if (c == 'h') {
			usage(stdout);
			exit(0);
		}
		int bad = set_option(c, optarg, opt);
		if (bad < 0) {
			usage(stderr);
			return -1;
		}
		if (bad) {
			fprintf(stderr, "trino-sim: bad value '%s' for --%s\n", optarg,
			        long_options[option_index].name);
			return -1;
		}
	}
	return check_options(opt);
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
	(void)sig;
	(void)what;
	event_base_loopbreak(arg);
}

/* Moves the query generator and the clients' queries along so counters
 * advance even when nobody asks. */
static void on_tick(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct sim_server *server = arg;
	int64_t now = sim_now_ms();
	sim_queries_advance(server->queries, now);
	sim_cluster_advance(server->cluster, now);
}

int main(int argc, char **argv)
{
	struct sim_options opt;
	if (parse_options(argc, argv, &opt) != 0)
		return 2;
	signal(SIGPIPE, SIG_IGN);

	static struct sim_cluster cluster;
	int64_t now = sim_now_ms();
	sim_cluster_init(&cluster, opt.cluster, opt.version, opt.workers, opt.port_base, opt.seed,
	                 now);
	snprintf(cluster.environment, sizeof(cluster.environment), "%s", opt.environment);
	if (opt.management_user != NULL)
		snprintf(cluster.management_user, sizeof(cluster.management_user), "%s",
		         opt.management_user);
	if (sim_error_type_parse(opt.error_type, &cluster.error_type) != 0) {
		fprintf(stderr, "trino-sim: unknown --error-type %s\n", opt.error_type);
		return 2;
	}
	cluster.startup_ms = opt.startup_ms;
	cluster.fail_ratio = opt.fail_ratio;
	cluster.user_error_ratio = opt.user_error_ratio;
	sim_cluster_set_qps(&cluster, opt.qps, now);

	char err[512];
	if (opt.etc_root != NULL &&
	    sim_etc_write(&cluster, opt.etc_root, opt.catalogs, err, sizeof(err)) != 0) {
		fprintf(stderr, "trino-sim: %s\n", err);
		return 1;
	}

	struct event_base *base = event_base_new();
	static struct sim_server server;
	if (base == NULL || sim_http_start(&server, base, &cluster, err, sizeof(err)) != 0) {
		fprintf(stderr, "trino-sim: %s\n", base == NULL ? "event_base_new failed" : err);
		return 1;
	}
	static struct sim_queries queries;
	sim_queries_init(&queries, &cluster, opt.client_timeout_ms, opt.seed);
	server.queries = &queries;
	struct evhttp *control = sim_control_start(&server, opt.control_port, err, sizeof(err));
	if (control == NULL) {
		fprintf(stderr, "trino-sim: %s\n", err);
		return 1;
	}
	struct event *sigterm = evsignal_new(base, SIGTERM, on_signal, base);
	struct event *sigint = evsignal_new(base, SIGINT, on_signal, base);
	struct event *tick = event_new(base, -1, EV_PERSIST, on_tick, &server);
	struct timeval tick_every = {0, 20000};
	if (sigterm == NULL || sigint == NULL || tick == NULL || evsignal_add(sigterm, NULL) ||
	    evsignal_add(sigint, NULL) || event_add(tick, &tick_every)) {
		fprintf(stderr, "trino-sim: cannot set up events\n");
		return 1;
	}
	fprintf(stderr,
	        "trino-sim: cluster %s (%s), coordinator 127.0.0.1:%d, %d workers, "
	        "control 127.0.0.1:%d\n",
	        opt.cluster, opt.version, opt.port_base, opt.workers, opt.control_port);

	event_base_dispatch(base);

	sim_statement_release();
	sim_http_stop(&server);
	evhttp_free(control);
	event_free(sigterm);
	event_free(sigint);
	event_free(tick);
	event_base_free(base);
	return 0;
}
