/* SPDX-License-Identifier: Apache-2.0 */
/* The gRPC client: unary calls to a gRPC server (the app's AppCallback) over one HTTP/2 connection, on the loop. */
#ifndef OUTRIG_CORE_GRPC_CLIENT_H
#define OUTRIG_CORE_GRPC_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "base/kv.h"

struct event_base;
struct grpc_client;

/*
 * How one call ended. status is the gRPC code, 0..16 (blocks/errors.h's enum grpc_code names
 * them): the server's own, or one the client chose: UNAVAILABLE when the server could not be
 * reached or the connection dropped before the answer, DEADLINE_EXCEEDED when the deadline
 * passed, RESOURCE_EXHAUSTED when the answer went past a limit, INTERNAL when it broke the
 * protocol (and for an OK with no response message, as gRPC's own clients do). Everything is
 * valid during the callback only.
 */
struct grpc_client_response {
	int status;
	/* grpc-message, percent-decoded; or the client's own reason for a status it chose. Never NULL ("" when none). */
	const char *message;
	/* The response message without its 5-byte prefix; NULL (len 0) when there is none, "" (len 0) for an empty one. */
	const void *data;
	size_t len;
	/*
	 * What the server sent, pseudo-headers left out, one entry per name (repeated names joined
	 * by ","): headers are the initial metadata (the whole answer for a trailers-only one),
	 * trailers the final metadata, grpc-status and grpc-message included. Empty when the call
	 * failed before the server answered.
	 */
	const struct kv_list *headers;
	const struct kv_list *trailers;
};

/* Told how a call ended. Thread: the event loop. */
typedef void (*grpc_client_cb)(void *arg, const struct grpc_client_response *r);

/*
 * A client of the gRPC server at host:port (an IP or a name, resolved with evdns), speaking
 * HTTP/2 over cleartext TCP with prior knowledge (h2c, as gRPC does without TLS). At most
 * max_concurrency calls are in flight (-1: as many as the server's SETTINGS_MAX_CONCURRENT_STREAMS
 * allows); further calls wait in order. timeout_s bounds connecting, and a call without a deadline
 * of its own (0: no bound). The connection is opened by the first call, and again by the next call
 * after it dropped or the server sent GOAWAY; calls that find no server fail UNAVAILABLE at once
 * rather than wait for one (grpc_client_wait_ready waits). A connection is given up when the
 * server's first SETTINGS do not come within timeout_s (20 s without one), or when, after a call's
 * deadline passed on it, a PING gets no ACK within that time: a silent server then costs one
 * call its deadline, not every later call. Returns NULL when out of memory. Thread: the event loop.
 */
struct grpc_client *grpc_client_new(struct event_base *base, const char *host, int port, int max_concurrency,
				    int timeout_s);

/*
 * Makes every connection opened from now on (and the wait for the server's port) speak TLS with
 * tls, offering ALPN h2 (--app-protocol grpcs); a server that picks another protocol, or whose
 * handshake fails, fails the calls waiting for it UNAVAILABLE with the reason. NULL: h2c.
 * Ownership: tls stays the caller's and must outlive the client. Thread: the event loop.
 */
struct app_tls;
void grpc_client_set_tls(struct grpc_client *c, struct app_tls *tls);

/*
 * Bounds every answer from now on: its message by max_message bytes (the 5-byte prefix not
 * counted; --max-body-size), its headers and its trailers each by max_headers bytes (HTTP/2's
 * header list size: names, values and 32 per entry; --read-buffer-size). An answer past either
 * fails its call RESOURCE_EXHAUSTED as soon as that is known, and its stream is reset, not read
 * to the end. The flow-control windows the client grants are no larger than max_message and its
 * prefix (1 KiB at least, 1 MiB at most), from the next connection on. -1: unbounded (the default).
 * Thread: the event loop.
 */
void grpc_client_set_limits(struct grpc_client *c, int64_t max_message, int64_t max_headers);

/*
 * Calls ready(arg) once a TCP connection to the server succeeds, trying every 100 ms; logs once
 * in a while that it is still waiting. Several callers may wait (one probe serves them all, called
 * in the order they asked); once the server answered, ready is called at once. Thread: the event loop.
 */
void grpc_client_wait_ready(struct grpc_client *c, void (*ready)(void *arg), void *arg);

/*
 * Calls path ("/package.Service/Method") with metadata (NULL for none; lowercase names, a "-bin"
 * name's value already base64) and the request message msg (protobuf bytes, without the gRPC
 * prefix, which the client adds). timeout_ms > 0 is the call's deadline, counted from now and
 * sent as grpc-timeout; 0 takes the client's timeout_s. cb(arg, ...) is called exactly once, from
 * the loop and never from within this function — unless the client is freed first. Names the
 * client sets itself (content-type, te, user-agent, grpc-timeout...) are left out of metadata;
 * invalid metadata (a name not lowercase, a value not printable ASCII) fails the call INTERNAL,
 * naming it, and a message over 4 GiB fails RESOURCE_EXHAUSTED. A call the server refused
 * unseen (REFUSED_STREAM, or past a GOAWAY's last stream) is sent again once, as gRPC's
 * transparent retry does. Returns 0, or -1 when out of memory (cb is then never called).
 * Ownership: everything passed is copied. Thread: the event loop.
 */
int grpc_client_unary(struct grpc_client *c, const char *path, const struct kv_list *metadata,
		      const void *msg, size_t len, int timeout_ms, grpc_client_cb cb, void *arg);

/* "host:port" of the server, for messages. Ownership: the client's. */
const char *grpc_client_address(const struct grpc_client *c);

/* Calls in flight, waiting for a slot, or finished but not yet told. Thread: the event loop. */
unsigned grpc_client_busy(const struct grpc_client *c);

/* Closes the connection; callbacks of calls still pending are never called. Thread: the event loop. */
void grpc_client_free(struct grpc_client *c);

#endif /* OUTRIG_CORE_GRPC_CLIENT_H */
