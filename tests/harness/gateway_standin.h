/*
 * A Trino Gateway stand-in inside a test's own event loop: the REST API the
 * trino-gateway driver uses, as trinodb/trino-gateway serves it, in either of
 * its two behaviours. RELEASED (tags up to 20, 376348ba): activate and
 * deactivate change only the active flag; /api/public/backends/NAME/state
 * is what the last monitor round wrote (GatewayResource.java,
 * HaGatewayManager.java, BackendStateManager.java). MAIN (unreleased,
 * 8abc0208, BackendLifecycleManager.java): activate sets PENDING and
 * deactivate UNKNOWN at once. Either way a monitor round checks every
 * backend, active or not (ActiveClusterMonitor.java), every period or when
 * the test calls gateway_standin_round().
 */
#ifndef TG_GATEWAY_STANDIN_H
#define TG_GATEWAY_STANDIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct event;
struct event_base;
struct evhttp;

enum gateway_standin_mode { GATEWAY_RELEASED, GATEWAY_MAIN };

/* monitorType; the monitor is modelled on the backend's Trino, not probed. */
enum gateway_standin_monitor {
	MONITOR_INFO_API, /* GET /v1/info: HEALTHY unless starting */
	MONITOR_METRICS,  /* needs trino_metadata_name_DiscoveryNodeManager_ActiveNodeCount >= 1 */
	MONITOR_JMX,      /* needs the MBean trino.metadata:name=DiscoveryNodeManager */
};

#define GATEWAY_STANDIN_BACKENDS 4

struct gateway_standin_backend {
	char name[64];
	bool active;
	char status[16]; /* what /state says: UNKNOWN until a round or (main) an activate */
	bool from_round; /* STATUS was written by a monitor round (with proxyTo and so on) */
	bool trino_up;   /* its coordinator answers */
	int trino_version;
};

struct gateway_standin {
	struct event_base *base;
	struct evhttp *http;
	int port;
	enum gateway_standin_mode mode;
	enum gateway_standin_monitor monitor;
	int64_t period_ms; /* monitor.taskDelay; 0: rounds only by gateway_standin_round() */
	struct event *timer;
	struct gateway_standin_backend backends[GATEWAY_STANDIN_BACKENDS];
	size_t count;
	unsigned rounds;         /* monitor rounds so far */
	unsigned state_reads;    /* GET /api/public/backends/NAME/state answered */
	char log[2048];          /* "activate:green@R deactivate:blue@R": R = rounds done then */
	char authorization[128]; /* of the last request */
};

/* Listens on an ephemeral loopback port of BASE. 0, or -1. */
int gateway_standin_start(struct gateway_standin *g, struct event_base *base,
                          enum gateway_standin_mode mode, enum gateway_standin_monitor monitor,
                          int64_t period_ms);
void gateway_standin_stop(struct gateway_standin *g);

/* A backend whose Trino is TRINO_VERSION, up or not; its state UNKNOWN until a round. */
void gateway_standin_add(struct gateway_standin *g, const char *name, bool active, bool trino_up,
                         int trino_version);
struct gateway_standin_backend *gateway_standin_find(struct gateway_standin *g, const char *name);

/* One monitor round now, over every backend. */
void gateway_standin_round(struct gateway_standin *g);

#endif
