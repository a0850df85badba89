/* SPDX-License-Identifier: Apache-2.0 */
/* The name-resolution kind (ABI 1.3): how a sidecar announces itself and finds the sidecars of other app ids. */
#ifndef OUTRIG_NAMERESOLUTION_H
#define OUTRIG_NAMERESOLUTION_H

#include <stddef.h>
#include <stdint.h>

#include <outrig/metadata.h>
#include <outrig/status.h>

/*
 * This sidecar, as other sidecars should reach it: its app id and namespace, and the host and
 * port of its internal listener (sidecar-to-sidecar invocation).
 */
struct outrig_nr_self {
	const char *app_id;
	const char *ns;	  /* namespace; "" when none (self-hosted) */
	const char *host; /* an address other sidecars can connect to, e.g. "127.0.0.1" or a pod IP */
	int port;	  /* the internal listener's port */
	int app_port;	  /* the app's port, 0 when none (for listings) */
	int64_t pid;	  /* outrigd's process id (for listings) */
};

/* What to find: one app id, in a namespace ("" = the caller's own, or none). */
struct outrig_nr_query {
	const char *app_id;
	const char *ns;
	struct outrig_metadata metadata; /* reserved: empty for now */
};

/* Where one sidecar of the app id listens. */
struct outrig_nr_address {
	char host[256]; /* a host name or an IP address (IPv6 without brackets) */
	int port;
};

/*
 * A name resolver. Configured, as in Dapr, by a Configuration file's spec.nameResolution
 * (component "sqlite" is the plugin of type "nameresolution.sqlite"; its `configuration`
 * map arrives as the component's metadata). One instance per sidecar.
 */
struct outrig_nr_ops {
	uint32_t struct_size;
	uint32_t reserved;

	/*
	 * Announces self, once the internal listener is up, and keeps the announcement alive
	 * (heartbeats, via host->every()) until unregister or destroy.
	 * Ownership: self is the core's for the call: copy what you keep. Thread: a worker; may block.
	 */
	int (*register_self)(void *instance, const struct outrig_nr_self *self, struct outrig_error *err);

	/*
	 * Finds one live sidecar of query->app_id; when several run, successive calls spread over
	 * them (round-robin). OUTRIG_ENOTFOUND when there is none, OUTRIG_EUNAVAIL or
	 * OUTRIG_ETIMEDOUT when the resolver itself cannot answer; err says which app id and why.
	 * Ownership: out is the core's. Thread: a worker; may block, bounded by the plugin's timeout.
	 */
	int (*resolve)(void *instance, const struct outrig_nr_query *query, struct outrig_nr_address *out,
		       struct outrig_error *err);

	/*
	 * Withdraws the announcement at a clean stop, so that callers stop choosing this sidecar at
	 * once instead of when its entry goes stale. Optional (NULL).
	 * Thread: a worker or the main thread; may block briefly.
	 */
	void (*unregister_self)(void *instance);
};

#endif /* OUTRIG_NAMERESOLUTION_H */
