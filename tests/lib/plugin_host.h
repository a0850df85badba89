/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A test's stand-in for the core around one plugin: the host table handed to create(), the
 * plugin opened through the real loader, and the config view built from its field table.
 * One per test process (check forks each test); every function runs on the test's thread
 * unless it says otherwise.
 */
#ifndef OUTRIG_TESTS_PLUGIN_HOST_H
#define OUTRIG_TESTS_PLUGIN_HOST_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <outrig/config.h>
#include <outrig/host.h>
#include <outrig/log.h>
#include <outrig/plugin.h>

/* What the host does when a create() asks for a timer with every(). */
enum plugin_host_timers {
	PLUGIN_HOST_TIMERS_IGNORE, /* accepts it and never fires it: the plugin needs none */
	PLUGIN_HOST_TIMERS_RECORD, /* keeps it; the test fires it with plugin_host_fire() */
	PLUGIN_HOST_TIMERS_FORBID, /* fails the test with forbid_reason */
};

/* How the test's host behaves; what is left zero is the plain default. */
struct plugin_host_options {
	/* NULL: data_dir is /tmp. Else a fresh /tmp/<temp_dir>-XXXXXX, removed by plugin_host_stop(). */
	const char *temp_dir;
	/* Log lines below it are neither printed nor kept for plugin_host_log_has(). */
	enum outrig_log_level min_level;
	enum plugin_host_timers timers;
	const char *forbid_reason; /* with PLUGIN_HOST_TIMERS_FORBID */
	/* The test's recorders of inbound messages and events; NULL: the host has none. */
	int (*pubsub_deliver)(struct outrig_pubsub_sink *sink, const struct outrig_pubsub_message *msg,
			      void (*done)(void *done_ctx, int outcome), void *done_ctx);
	int (*binding_deliver)(struct outrig_binding_sink *sink, const struct outrig_binding_event *ev,
			       void (*done)(void *done_ctx, int outcome), void *done_ctx);
};

/*
 * Sets the host up as o says (forgetting earlier log lines and timers), makes its data folder
 * and readies the loader. Returns the host table to pass to create(); it stays valid until
 * plugin_host_stop(). Ownership: o is read now, not kept.
 */
const struct outrig_host *plugin_host_start(const struct plugin_host_options *o);

/* Opens and initialises the plugin of type (version v1) through the loader; fails the test if it cannot. */
const struct outrig_plugin *plugin_host_load(const char *type);

/* Closes the loader (and with it every plugin) and removes a temporary data folder. */
void plugin_host_stop(void);

/* True when a kept log line holds needle. Thread: any. */
bool plugin_host_log_has(const char *needle);

/*
 * Calls, with instance, every recorded timer that who asked for with this interval, as the
 * core does when it is due. Returns how many it called.
 */
size_t plugin_host_fire(const struct outrig_handle *who, int64_t interval_ms, void *instance);

/* pthread_cond_timedwait() on cond for up to ms milliseconds; mu must be held. */
void plugin_host_wait(pthread_cond_t *cond, pthread_mutex_t *mu, long ms);

#define PLUGIN_HOST_MAX_FIELDS 48

/* A component's config view, as the core's validation builds it. */
struct plugin_host_config {
	struct outrig_config config;
	struct outrig_config_value values[PLUGIN_HOST_MAX_FIELDS];
};

/*
 * Builds tc for component of type (NULL: p->type) from p's field table: every declared field
 * takes its default, then the value of its name in base, then in overrides (name, value pairs,
 * NULL-terminated; later ones win; a NULL value leaves the field unset). App id "testapp",
 * init timeout 5 s; the test may change tc->config afterwards. Fails the test on a value its
 * field's type does not accept. Ownership: tc points into p, base and overrides; keep them.
 */
void plugin_host_config(struct plugin_host_config *tc, const struct outrig_plugin *p, const char *type,
			const char *component, const char *const *base, const char *const *overrides);

#endif /* OUTRIG_TESTS_PLUGIN_HOST_H */
