/* SPDX-License-Identifier: Apache-2.0 */
/* What the core offers plugins: the host table passed to init() and create(). */
#ifndef OUTRIG_HOST_H
#define OUTRIG_HOST_H

#include <stddef.h>
#include <stdint.h>

#include <outrig/log.h>
#include <outrig/status.h>

/*
 * Names the caller to the host: the plugin (in init) or one component (in create and
 * after). It is the core's; plugins only hand it back. It lets logs say which
 * component spoke, and lets timers run on the right component's lane.
 */
struct outrig_handle;

/* pubsub.h: a subscription's destination, and a received message. */
struct outrig_pubsub_sink;
struct outrig_pubsub_message;

/* binding.h: a list the core owns, an input binding's destination, and an event. */
struct outrig_kv_sink;
struct outrig_binding_sink;
struct outrig_binding_event;

/* A byte buffer the core owns and frees; plugins fill it with host->bytes_set(). */
struct outrig_bytes {
	void *data;
	size_t len;
};

/*
 * The core's services. Entries are only ever appended: test
 * `offsetof(struct outrig_host, entry) < host->struct_size` before using one added
 * after ABI 1.0.
 */
struct outrig_host {
	uint32_t struct_size;
	uint16_t abi_major;
	uint16_t abi_minor;
	const char *runtime_version;

	/*
	 * Writes one log line tagged with who (plugin or component name) at level.
	 * Lines below --log-level are dropped cheaply.
	 * Ownership: fmt and arguments are the caller's. Thread: any.
	 */
	void (*log)(const struct outrig_handle *who, enum outrig_log_level level, const char *fmt, ...)
#if defined(__GNUC__)
		__attribute__((format(printf, 3, 4)))
#endif
		;

	/*
	 * Copies len bytes of src into dst, replacing what dst held. Returns 0 or OUTRIG_ENOMEM.
	 * Ownership: dst and its storage are the core's; src stays the caller's.
	 * Thread: any (the thread of the call that handed dst over).
	 */
	int (*bytes_set)(struct outrig_bytes *dst, const void *src, size_t len);

	/* Wall-clock time in milliseconds since the Unix epoch. Thread: any. */
	int64_t (*now_unix_ms)(void);

	/* Monotonic time in milliseconds, for intervals. Thread: any. */
	int64_t (*now_mono_ms)(void);

	/*
	 * Calls fn(instance) every interval_ms, where instance is what create() stored in
	 * *instance (so a timer may be registered before that pointer exists), on a worker thread, on the component's own
	 * lane (never at the same time as another call of that instance when the plugin is
	 * OUTRIG_PLUGIN_SERIAL), from when create() returns until the component is
	 * destroyed; the core stops it before destroy(). Use it for housekeeping such as deleting expired rows.
	 * Returns 0 or OUTRIG_EINVAL.
	 * Ownership: self is the handle given to create(). Thread: call from create() only.
	 */
	int (*every)(struct outrig_handle *self, int64_t interval_ms, void (*fn)(void *instance));

	/* ---- ABI 1.2 ---- */

	/*
	 * Hands one received message of a subscription to the core, which copies it and
	 * delivers it to the app. The core later calls done(done_ctx, outcome) exactly once,
	 * with an enum outrig_pubsub_outcome (see pubsub.h): never from inside this call, on
	 * the core's event-loop thread (so done must not block: record the outcome and
	 * return), and for every accepted message before destroy() is called. Messages of
	 * one sink reach the app in the order they were handed over.
	 * Back-pressure: while the sink already holds as many unsettled messages as the core
	 * allows (256, or 16 MiB), the call waits for room: on a plugin's own thread until the
	 * app settles one or the core stops, inside publish() at most 2 s, on the core's event
	 * loop not at all. So do not hold, while calling, a lock that done takes, nor call it on a
	 * thread your client library needs for other work (paho's one receive thread also completes
	 * publishes): spool there, and deliver from a thread of your own.
	 * Returns 0; OUTRIG_EUNAVAIL when the core is stopping, or no room came (keep the message:
	 * it was not accepted); OUTRIG_ENOMEM; OUTRIG_EINVAL for a NULL sink or message.
	 * Ownership: msg and its buffers stay the caller's. Thread: any; may block as above.
	 */
	int (*pubsub_deliver)(struct outrig_pubsub_sink *sink, const struct outrig_pubsub_message *msg,
			      void (*done)(void *done_ctx, int outcome), void *done_ctx);

	/*
	 * A folder this outrigd keeps its state in (--data-dir, by default
	 * $XDG_DATA_HOME/outrig), already created: a plugin may keep files there, named after
	 * its type and component so that they do not clash.
	 */
	const char *data_dir;

	/* ---- ABI 1.4 ---- */

	/*
	 * Adds name=value to a core-owned list: a binding response's metadata (group NULL), a
	 * secret's values (group NULL), or, for secret stores' bulk_get, the secret named group.
	 * Returns 0 or OUTRIG_ENOMEM. Ownership: strings are copied. Thread: that of the call that
	 * handed out the list.
	 */
	int (*kv_put)(struct outrig_kv_sink *out, const char *group, const char *name, const char *value);

	/*
	 * As pubsub_deliver, for an input binding: the core POSTs the event to the app (retrying with
	 * backoff until a 2xx) and then calls done(done_ctx, OUTRIG_PUBSUB_SETTLED) exactly once, on
	 * its event loop; OUTRIG_PUBSUB_UNSETTLED when it stops first. Events of one sink reach the
	 * app in order. Returns 0, OUTRIG_EUNAVAIL when the core is stopping, OUTRIG_ENOMEM.
	 * Ownership: ev and its buffers stay the caller's. Thread: any.
	 */
	int (*binding_deliver)(struct outrig_binding_sink *sink, const struct outrig_binding_event *ev,
			       void (*done)(void *done_ctx, int outcome), void *done_ctx);
};

#endif /* OUTRIG_HOST_H */
