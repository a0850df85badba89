/* SPDX-License-Identifier: Apache-2.0 */
/* The bindings kind (ABI 1.4): output bindings the app invokes, input bindings that call the app. */
#ifndef OUTRIG_BINDING_H
#define OUTRIG_BINDING_H

#include <stddef.h>
#include <stdint.h>

#include <outrig/host.h>
#include <outrig/metadata.h>
#include <outrig/status.h>

/* One POST /v1.0/bindings/{name} call. */
struct outrig_binding_request {
	const char *operation; /* e.g. "create"; one the plugin lists in operations */
	const void *data;      /* the request's `data` as JSON text, as daprd passes it ("hi" keeps its quotes) */
	size_t data_len;
	struct outrig_metadata metadata; /* the request's `metadata` map */
};

/*
 * A key/value list the core owns (response metadata, or a secret's values); plugins add to it
 * with host->kv_put().
 */
struct outrig_kv_sink;

/* What invoke() fills in; the core owns every buffer. */
struct outrig_binding_response {
	struct outrig_bytes data;	 /* the response body; empty for none (fill with host->bytes_set) */
	struct outrig_kv_sink *metadata; /* returned to the app as metadata.* headers */
};

/* A message an input binding received, as a plugin hands it to host->binding_deliver(). */
struct outrig_binding_event {
	const void *data;
	size_t data_len;
	struct outrig_metadata metadata; /* forwarded to the app as HTTP headers */
};

/*
 * Where an input binding's events go: the core's, handed to start_input() and back to
 * host->binding_deliver(). Valid until destroy() returns.
 */
struct outrig_binding_sink;

/*
 * A binding. An output binding implements invoke (and lists its operations); an input binding
 * implements start_input. Many do both.
 *
 * Input delivery is the core's: it POSTs each event to the app and retries with backoff until
 * the app answers 2xx. The plugin hands every event to host->binding_deliver() and commits it to
 * its source (e.g. a Kafka offset) only once done() says OUTRIG_PUBSUB_SETTLED, so an event the
 * app never acknowledged comes again after a restart (OUTRIG_PUBSUB_UNSETTLED). The outcome
 * values are pub/sub's (pubsub.h).
 */
struct outrig_binding_ops {
	uint32_t struct_size;
	uint32_t reserved;

	/* NULL-terminated operation names invoke() accepts, e.g. {"create", NULL}; NULL: input only. */
	const char *const *operations;

	/*
	 * Runs one operation. Any failure answers the app 500 ERR_INVOKE_OUTPUT_BINDING with the
	 * cause in err: OUTRIG_EINVAL for a bad request, OUTRIG_EUNAVAIL or OUTRIG_ETIMEDOUT when
	 * the backing service is down or slow.
	 * Ownership: req is the core's for the call; resp's buffers are the core's.
	 * Thread: a worker; may block, bounded by the plugin's own timeouts.
	 */
	int (*invoke)(void *instance, const struct outrig_binding_request *req,
		      struct outrig_binding_response *resp, struct outrig_error *err);

	/*
	 * Starts reading events for the app (only when the app wants them: the core asked it first).
	 * NULL: output only. Ownership: sink stays valid until destroy(). Thread: a worker; may block.
	 */
	int (*start_input)(void *instance, struct outrig_binding_sink *sink, struct outrig_error *err);
};

#endif /* OUTRIG_BINDING_H */
