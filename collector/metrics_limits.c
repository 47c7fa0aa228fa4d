/*
 * The part of GET /metrics that shows the collector's bounds: each limit's
 * setting and how often it was hit, so an operator sees a slow-client flood,
 * a descriptor shortage or a chatty agent before it costs a rollback.
 */
#include <event2/buffer.h>

#include "api_limits.h"
#include "ingest.h"
#include "metrics.h"

static void counter(struct evbuffer *out, const char *name, const char *help,
                    unsigned long long value)
{
	evbuffer_add_printf(out, "# HELP trino_guard_%s %s\n# TYPE trino_guard_%s counter\n", name,
	                    help, name);
	evbuffer_add_printf(out, "trino_guard_%s %llu\n", name, value);
}

static void write_api_limits(const struct api_limits_stats *s, struct evbuffer *out)
{
	evbuffer_add_printf(out,
	                    "# HELP trino_guard_api_connections API connections open now.\n"
	                    "# TYPE trino_guard_api_connections gauge\n"
	                    "trino_guard_api_connections %llu\n",
	                    (unsigned long long)s->open);
	evbuffer_add_printf(out,
	                    "# HELP trino_guard_api_max_connections [api] max_connections.\n"
	                    "# TYPE trino_guard_api_max_connections gauge\n"
	                    "trino_guard_api_max_connections %lld\n",
	                    (long long)s->max_connections);
	counter(out, "api_connections_accepted_total", "API connections accepted.",
	        (unsigned long long)s->accepted);
	counter(out, "api_connection_cap_reached_total",
	        "Times the API stopped accepting at [api] max_connections.",
	        (unsigned long long)s->cap_reached);
	counter(out, "api_request_timeouts_total",
	        "API connections closed at [api] request_timeout after their accept.",
	        (unsigned long long)s->timed_out);
	counter(out, "api_reserve_closed_total",
	        "API connections closed at once because the descriptor reserve was reached.",
	        (unsigned long long)s->reserve_closed);
	counter(out, "api_accept_errors_total", "accept() failures on the API's socket.",
	        (unsigned long long)s->accept_errors);
}

void metrics_write_limits(const struct collector *collector, struct evbuffer *out)
{
	if (collector->api_limits != NULL)
		write_api_limits(api_limits_stats(collector->api_limits), out);
	const struct ingest_stats *in = ingest_stats(collector->ingest);
	counter(out, "agent_disconnects_total",
	        "Agent connections that ended: the agent left, or sent a message over the "
	        "largest libzmq takes (1 MiB), which drops its connection.",
	        (unsigned long long)in->disconnects);
	counter(out, "agent_handshake_failures_total",
	        "Agent handshakes that failed on the protocol (a wrong server key, no CURVE).",
	        (unsigned long long)in->handshake_failures);
	struct ingest_log_counts held = ingest_log_suppressed(collector->ingest);
	uint64_t api_held = collector->api_limits != NULL
	                            ? api_limits_stats(collector->api_limits)->log_suppressed
	                            : 0;
	evbuffer_add_printf(out, "# HELP trino_guard_log_lines_suppressed_total Log lines held "
	                         "back by the per-kind limits.\n"
	                         "# TYPE trino_guard_log_lines_suppressed_total counter\n");
	evbuffer_add_printf(
	        out,
	        "trino_guard_log_lines_suppressed_total{kind=\"api\"} %llu\n"
	        "trino_guard_log_lines_suppressed_total{kind=\"rejected_report\"} %llu\n"
	        "trino_guard_log_lines_suppressed_total{kind=\"refused_handshake\"} %llu\n"
	        "trino_guard_log_lines_suppressed_total{kind=\"agent_disconnect\"} %llu\n",
	        (unsigned long long)api_held, (unsigned long long)held.rejected_reports,
	        (unsigned long long)held.refused_handshakes, (unsigned long long)held.disconnects);
}
