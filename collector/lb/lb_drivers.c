/*
 * Picks the load-balancer driver [lb] driver names and translates its
 * [lb.NAME] section into the driver's settings.
 */
#include "lb_drivers.h"

#include <stdio.h>
#include <string.h>

#include "lb_exec.h"
#include "lb_gateway.h"
#include "lb_haproxy.h"
#include "lb_http.h"
#include "secret_file.h"

int lb_driver_from_config(struct event_base *base, const struct collector_config *config,
                          lb_retry_fn on_retry, void *on_retry_arg, struct lb_driver *out,
                          char *err, size_t err_len)
{
	memset(out, 0, sizeof(*out));
	if (config->lb.driver == LB_DRIVER_HAPROXY) {
		const struct lb_haproxy_section *h = &config->lb_haproxy;
		struct lb_haproxy_settings s = {
		        .socket_count = h->sockets.count,
		        .map_file = h->map_file,
		        .key = h->key,
		        .timeout_ms = config->lb.timeout_ms,
		        .retries = (int)config->lb.retries,
		        .on_retry = on_retry,
		        .on_retry_arg = on_retry_arg,
		};
		for (size_t i = 0; i < h->sockets.count && i < LB_MAX_INSTANCES; i++)
			s.sockets[i] = h->sockets.items[i];
		for (size_t i = 0; i < h->backends.count && i < LB_MAX_BACKENDS; i++) {
			s.backends[i].cluster = h->backends.items[i].name;
			s.backends[i].backend = h->backends.items[i].value;
			s.backend_count++;
		}
		struct lb_haproxy *haproxy = lb_haproxy_new(base, &s, err, err_len);
		if (haproxy == NULL) {
			return -1;
		}
		*out = lb_haproxy_driver(haproxy);
	} else if (config->lb.driver == LB_DRIVER_EXEC) {
		struct lb_exec_settings s = {
		        .switch_command = config->lb_exec.switch_command,
		        .current_command = config->lb_exec.current_command,
		        .timeout_ms = config->lb.timeout_ms,
		        .retries = (int)config->lb.retries,
		        .on_retry = on_retry,
		        .on_retry_arg = on_retry_arg,
		};
		struct lb_exec *exec = lb_exec_new(base, &s, err, err_len);
		if (exec == NULL) {
			return -1;
		}
		*out = lb_exec_driver(exec);
	} else if (config->lb.driver == LB_DRIVER_HTTP) {
		const struct lb_http_section *h = &config->lb_http;
		struct lb_http_settings s = {
		        .switch_method = h->switch_method,
		        .switch_url = h->switch_url,
		        .switch_body = h->switch_body,
		        .switch_expect = h->switch_expect,
		        .current_url = h->current_url,
		        .current_json = h->current_json,
		        .timeout_ms = config->lb.timeout_ms,
		        .retries = (int)config->lb.retries,
		        .on_retry = on_retry,
		        .on_retry_arg = on_retry_arg,
		};
		/* header.NAME = value -> "NAME: value" (lb_http_new copies them) */
		char header_lines[LB_HTTP_MAX_HEADERS][512];
		for (size_t i = 0; i < h->headers.count && i < LB_HTTP_MAX_HEADERS; i++) {
			snprintf(header_lines[i], sizeof(header_lines[i]), "%s: %s",
			         h->headers.items[i].name, h->headers.items[i].value);
			s.headers[s.header_count++] = header_lines[i];
		}
		struct lb_http *http = lb_http_new(base, &s, err, err_len);
		if (http == NULL) {
			return -1;
		}
		*out = lb_http_driver(http);
	} else if (config->lb.driver == LB_DRIVER_GATEWAY) {
		const struct lb_gateway_section *g = &config->lb_gateway;
		struct lb_gateway_settings s = {
		        .url = g->url,
		        .timeout_ms = config->lb.timeout_ms,
		        .retries = (int)config->lb.retries,
		        .on_retry = on_retry,
		        .on_retry_arg = on_retry_arg,
		        .healthy_timeout_ms = g->healthy_timeout_ms,
		        .poll_ms = g->health_poll_ms,
		};
		for (size_t i = 0; i < g->backends.count && i < LB_GATEWAY_MAX_BACKENDS; i++) {
			s.backends[i].cluster = g->backends.items[i].name;
			s.backends[i].backend = g->backends.items[i].value;
			s.backend_count++;
		}
		char *authorization = NULL;
		if (g->authorization_file != NULL) {
			char why[512];
			authorization = secret_file_read(g->authorization_file, why, sizeof(why));
			if (authorization == NULL) {
				snprintf(err, err_len, "[lb.trino-gateway] authorization_file %s",
				         why);
				return -1;
			}
			s.authorization = authorization;
		}
		struct lb_gateway *gateway = lb_gateway_new(base, &s, err, err_len);
		secret_free(authorization);
		if (gateway == NULL) {
			return -1;
		}
		*out = lb_gateway_driver(gateway);
	}
	return 0;
}
