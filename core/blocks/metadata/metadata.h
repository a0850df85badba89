/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The metadata building block, transport-free (API.md §6): the sidecar's self-description that
 * GET /v1.0/metadata and GetMetadata both render, the app's extended metadata, and the shutdown
 * request. Health endpoints are HTTP's own and stay in the HTTP front end.
 */
#ifndef OUTRIG_CORE_BLOCKS_METADATA_H
#define OUTRIG_CORE_BLOCKS_METADATA_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "blocks/errors.h"

struct server;

/* At most this many capabilities per component (there are 7 kinds today). */
#define METADATA_MAX_CAPABILITIES 8

/* One initialised component (daprd leaves out those that failed). */
struct metadata_component {
	const char *name;
	const char *type;
	const char *version;
	const char *capabilities[METADATA_MAX_CAPABILITIES]; /* "ETAG", "TRANSACTIONAL", "INPUT_BINDING"... */
	size_t ncapabilities;
};

/* appConnectionProperties.health, present with --enable-app-health-check. */
struct metadata_app_health {
	const char *path;
	char interval[32]; /* as Go prints a duration: "5s" */
	char timeout[32];  /* "500ms" */
	int threshold;
};

/* appConnectionProperties, present with --app-port. */
struct metadata_app {
	int port;
	const char *protocol;
	const char *channel_address;
	bool has_health;
	struct metadata_app_health health;
};

/*
 * The document. Strings point into the sidecar's own state: use it on the loop, right away.
 * Actors are not supported: the actor runtime is DISABLED, its host not ready, no placement.
 */
struct metadata_doc {
	const char *id;
	const char *runtime_version;
	struct metadata_component *components;
	size_t ncomponents;
	/*
	 * The pub/sub block's live subscriptions, in Dapr's metadata shape: an array of objects
	 * {pubsubname, topic, metadata (absent when empty), rules: [{match, path}], deadLetterTopic,
	 * type: "DECLARATIVE" | "PROGRAMMATIC"}.
	 */
	json_t *subscriptions;
	/* The app's extended metadata (SetMetadata), name -> string, with daprRuntimeVersion. */
	json_t *extended;
	bool has_app;
	struct metadata_app app;
	/* outrig's own: reloads on SIGHUP (core/components/reload.h); rendered under an "outrig" key. */
	unsigned reloads;	    /* applied */
	unsigned reloads_refused;   /* refused, the previous components kept */
	const char *reload_error;   /* why the last one was refused; NULL once one is applied */
	const char *reload_last_at; /* RFC 3339 UTC of the last one; NULL before any */
};

/* Fills doc (free with metadata_doc_free). Returns 0, or -1 when out of memory. Thread: the loop. */
int metadata_describe(struct server *srv, struct metadata_doc *doc);

void metadata_doc_free(struct metadata_doc *doc);

/*
 * Sets the app's extended metadata key to value (len bytes). Fails (ERR_MALFORMED_REQUEST) when
 * value is not UTF-8 text: the document is rendered as JSON too. Returns 0, or -1 with err set.
 * Thread: the loop.
 */
int metadata_set(struct server *srv, const char *key, const char *value, size_t len, struct block_error *err);

/*
 * A shutdown request: graceful (what in-flight work needs, up to --dapr-graceful-shutdown-seconds),
 * or forced, exiting with 1 about 100 ms later as daprd does. Answer the caller first: the forced
 * exit leaves it that long to go out. Thread: the loop.
 */
void metadata_shutdown(struct server *srv, bool force);

#endif /* OUTRIG_CORE_BLOCKS_METADATA_H */
