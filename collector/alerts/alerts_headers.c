/*
 * The alert sinks' request headers: Content-Type and each section's
 * header.NAME and header_file.NAME, the files read when the sink opens and
 * again at every SIGHUP.
 */
#include <stdio.h>
#include <string.h>

#include "alerts_impl.h"

/* Takes EXTRA as the sink's headers after "Content-Type: application/json". */
static void set_headers(struct sink *sink, struct request_headers *extra)
{
	request_headers_move(&sink->extra, extra);
	size_t h = 0;
	sink->headers[h++] = "Content-Type: application/json";
	for (size_t i = 0; i < sink->extra.count; i++)
		sink->headers[h++] = sink->extra.lines[i];
	sink->headers[h] = NULL;
}

/* The section's header.NAME and header_file.NAME, read now. 0, or -1 with ERR. */
static int read_headers(const struct alert_section *s, struct request_headers *out, char *err,
                        size_t err_len)
{
	char why[1200];
	int line = 0;
	if (request_headers_read(&s->headers, &s->header_files, out, &line, why, sizeof(why)) == 0)
		return 0;
	snprintf(err, err_len, "[alert.%s] %s", s->name, why);
	return -1;
}

int alerts_sink_headers_open(struct sink *sink, char *err, size_t err_len)
{
	struct request_headers extra;
	if (read_headers(sink->settings, &extra, err, err_len) != 0)
		return -1;
	set_headers(sink, &extra);
	return 0;
}

int alerts_reload_headers(struct alerts *alerts, char *err, size_t err_len)
{
	if (alerts == NULL)
		return 0;
	struct request_headers next[COLLECTOR_MAX_ALERT_SINKS];
	memset(next, 0, sizeof(next));
	for (size_t i = 0; i < alerts->sink_count; i++) {
		if (read_headers(alerts->sinks[i].settings, &next[i], err, err_len) == 0)
			continue;
		for (size_t k = 0; k < i; k++)
			request_headers_free(&next[k]);
		return -1;
	}
	for (size_t i = 0; i < alerts->sink_count; i++)
		set_headers(&alerts->sinks[i], &next[i]);
	return 0;
}
