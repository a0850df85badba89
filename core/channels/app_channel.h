/* SPDX-License-Identifier: Apache-2.0 */
/* The app channel: outrigd's HTTP client to its own app, pooled keep-alive connections, bounded concurrency. */
#ifndef OUTRIG_CORE_APP_CHANNEL_H
#define OUTRIG_CORE_APP_CHANNEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <event2/http.h>
#include <event2/keyvalq_struct.h>

struct event_base;
struct app_channel;

/* Why a call has no status. */
enum app_fault {
	APP_FAULT_NONE,	       /* answered: status is set */
	APP_FAULT_UNREACHABLE, /* no answer: refused, reset, closed, timed out */
	APP_FAULT_TOO_LARGE,   /* the answer's body or headers went past the channel's limits */
	APP_FAULT_INVALID,     /* the answer is not valid HTTP (a status outside 200..599, a broken header) */
};

/* How one call to the app ended. */
struct app_response {
	int status;	   /* the app's HTTP status, 200..599; 0 when it gave none (or an invalid one) */
	const char *error; /* why there is no status, a clause naming the limit or fault; NULL otherwise */
	enum app_fault fault;
	/* The answered request, for headers and body; NULL when status is 0. Valid during the callback. */
	struct evhttp_request *req;
};

/* Told how a call ended. Thread: the event loop. */
typedef void (*app_response_cb)(void *arg, const struct app_response *r);

/*
 * A channel to the app at address:port. At most max_concurrency calls are in flight at once
 * (-1: up to APP_CHANNEL_MAX_CONNECTIONS, the pool's size); further calls wait in order.
 * timeout_s bounds one call (connect, send, answer).
 * Returns NULL when out of memory. Thread: the event loop.
 */
struct app_channel *app_channel_new(struct event_base *base, const char *address, int port,
				    int max_concurrency, int timeout_s);

/*
 * Bounds every answer read from now on: its body by max_body bytes (--max-body-size), its status
 * line and headers by max_headers bytes (--read-buffer-size). An answer past either fails its call
 * (APP_FAULT_TOO_LARGE) as soon as that is known, and its connection is closed rather than read
 * to the end. Without a call, answers are unbounded. Thread: the event loop.
 */
void app_channel_set_limits(struct app_channel *ch, int64_t max_body, int64_t max_headers);

/*
 * Makes every connection opened from now on (calls and the wait for the app's port) speak TLS with
 * tls (--app-protocol https): the wait then waits for a finished handshake, as daprd's TLS dial
 * does, and logs why a handshake failed; a failed call says so in its error. NULL: plain TCP.
 * Ownership: tls stays the caller's and must outlive the channel. Thread: the event loop.
 */
struct app_tls;
void app_channel_set_tls(struct app_channel *ch, struct app_tls *tls);

/*
 * Makes every call from now on carry dapr-api-token: token (APP_API_TOKEN), as daprd sends it to
 * its app; a dapr-api-token among a call's own headers is dropped first, so that only the token
 * reaches the app. NULL or "" sends none (daprd's rule for an empty APP_API_TOKEN). Only for the
 * channel to this sidecar's own app: never set on one to another sidecar. The token is never logged.
 * Returns 0, or -1 when out of memory (the channel then sends no token). Ownership: token is copied.
 * Thread: the event loop.
 */
int app_channel_set_token(struct app_channel *ch, const char *token);

/*
 * Makes every connection from now on mTLS to another sidecar (security/mtls.h), whose certificate
 * must name app peer_id (and namespace peer_ns, when not NULL or ""). Only for a channel to
 * another sidecar. Returns 0, or -1 when out of memory. Ownership: copied. Thread: the event loop.
 */
int app_channel_set_peer_tls(struct app_channel *ch, const char *peer_id, const char *peer_ns);

/* The pool's size when the app's concurrency is unbounded (--app-max-concurrency -1). */
#define APP_CHANNEL_MAX_CONNECTIONS 128

/*
 * Calls ready(arg) once a TCP connection to the app succeeds, trying every 100 ms as daprd
 * does; logs once a while that it is still waiting. Several callers may wait (one probe serves
 * them all; they are called in the order they asked); once the app answered, ready is called
 * at once. Thread: the event loop.
 */
void app_channel_wait_ready(struct app_channel *ch, void (*ready)(void *arg), void *arg);

/*
 * Sends method path to the app with headers (copied; NULL for none), content_type (NULL for
 * none) and body, then calls cb(arg, ...) exactly once on the loop — unless the channel is
 * freed first. An answer that does not end cleanly where its framing says (a 204 or a HEAD answer
 * with a body, bytes after its end) is passed on, but its connection is closed, never reused:
 * those bytes must not become the next call's answer. Returns 0, or -1 when out of memory (cb is then never called).
 * Ownership: everything passed is copied. Thread: the event loop.
 */
int app_channel_send(struct app_channel *ch, enum evhttp_cmd_type method, const char *path,
		     const struct evkeyvalq *headers, const char *content_type, const void *body, size_t len,
		     app_response_cb cb, void *arg);

/*
 * app_channel_send, for a caller that may leave while its call waits for a free connection: when
 * the call's turn comes and wanted(wanted_arg) says false, it is not sent and cb is told the
 * caller went away (error only). wanted NULL: always sent. abandon, unless NULL, is called with
 * arg instead of cb when the channel is freed with the call still pending (outrigd stopping), so
 * that the caller frees what it keeps for the call.
 */
int app_channel_send_wanted(struct app_channel *ch, enum evhttp_cmd_type method, const char *path,
			    const struct evkeyvalq *headers, const char *content_type, const void *body,
			    size_t len, app_response_cb cb, void *arg, bool (*wanted)(void *arg),
			    void *wanted_arg, void (*abandon)(void *arg));

/* "host:port" of the channel's other end, for messages. Ownership: the channel's. */
const char *app_channel_address(const struct app_channel *ch);

/* Calls in flight or waiting for a slot. Thread: the event loop. */
unsigned app_channel_busy(const struct app_channel *ch);

/* Closes every connection; callbacks of calls still pending are never called. Thread: the event loop. */
void app_channel_free(struct app_channel *ch);

#endif /* OUTRIG_CORE_APP_CHANNEL_H */
