/*
 * Reads the load balancer's health of every backend, at start and every
 * [lb] poll, into a struct lb_health; says at start and on every change what
 * the LB holds each backend for.
 */
#include "backend_health.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collector.h"
#include "journal.h"
#include "log.h"

struct backend_health {
	struct collector *collector;
	char driver_name[32];
	struct lb_driver driver;
	struct lb_health view;
	bool reading;
	int64_t next_read_ms;
	unsigned long reads;
};

struct backend_health *backend_health_new(struct collector *collector, const char *driver_name,
                                          const struct lb_driver *driver)
{
	struct backend_health *reader = calloc(1, sizeof(*reader));
	if (reader == NULL)
		return NULL;
	reader->collector = collector;
	snprintf(reader->driver_name, sizeof(reader->driver_name), "%s", driver_name);
	reader->driver = *driver;
	return reader;
}

void backend_health_free(struct backend_health *reader)
{
	free(reader);
}

/* Logs and journals one backend's reading when it differs from the last. */
static void tell(struct backend_health *reader, const struct lb_backend_health *b,
                 const char *before, struct clock_now now)
{
	const char *status = b->status != NULL ? b->status : "";
	if (before != NULL && strcmp(before, status) == 0)
		return;
	if (b->status != NULL)
		log_msg(strcmp(status, "HEALTHY") == 0 ? LOG_LEVEL_INFO : LOG_LEVEL_WARN,
		        "%s holds backend %s of cluster %s %s", reader->driver_name, b->backend,
		        b->cluster, status);
	else
		log_warn("%s: cannot read the health of backend %s of cluster %s: %s",
		         reader->driver_name, b->backend, b->cluster, b->error);
	journal_append(reader->collector->journal, now.unix_ms,
	               json_pack("{s:s,s:s,s:s,s:s,s:s}", "type", "lb-backend-health", "cluster",
	                         b->cluster, "backend", b->backend, "status",
	                         b->status != NULL ? status : "unreadable", "error",
	                         b->status != NULL || b->error == NULL ? "" : b->error));
}

/* The driver's answer (from its HTTP callback); BACKENDS NULL: a read was still going on. */
static void on_read(const struct lb_backend_health *backends, size_t count, void *arg)
{
	struct backend_health *reader = arg;
	reader->reading = false;
	if (backends == NULL)
		return;
	struct clock_now now = collector_clock(reader->collector);
	reader->reads++;
	snprintf(reader->view.lb, sizeof(reader->view.lb), "%s", reader->driver_name);
	for (size_t i = 0; i < count; i++) {
		const char *before = NULL;
		for (size_t k = 0; k < reader->view.count; k++)
			if (strcmp(reader->view.backends[k].cluster, backends[i].cluster) == 0)
				before = reader->view.backends[k].status;
		char was[32];
		snprintf(was, sizeof(was), "%s", before != NULL ? before : "");
		tell(reader, &backends[i], before != NULL ? was : NULL, now);
		if (lb_health_record(&reader->view, backends[i].cluster, backends[i].backend,
		                     backends[i].status, backends[i].error, now.mono_ms) != 0)
			log_error("%s: more than %d backends: the health of %s is not kept",
			          reader->driver_name, LB_HEALTH_MAX_BACKENDS, backends[i].backend);
	}
}

void backend_health_tick(struct backend_health *reader, struct clock_now now)
{
	if (reader->driver.impl == NULL || reader->driver.backend_health == NULL ||
	    reader->reading || now.mono_ms < reader->next_read_ms)
		return;
	reader->reading = true;
	reader->next_read_ms = now.mono_ms + reader->collector->config.lb.poll_ms;
	reader->driver.backend_health(reader->driver.impl, on_read, reader);
}

const struct lb_health *backend_health_view(const struct backend_health *reader)
{
	return &reader->view;
}

unsigned long backend_health_reads(const struct backend_health *reader)
{
	return reader->reads;
}
