/* SPDX-License-Identifier: Apache-2.0 */
/* Pooled keep-alive connections to other sidecars' internal listeners: one app channel per peer address. */
#ifndef OUTRIG_CORE_PEER_CHANNELS_H
#define OUTRIG_CORE_PEER_CHANNELS_H

#include <stdint.h>

struct app_channel;
struct event_base;
struct peer_channels;

/* How many peer addresses keep a channel; past it an idle one is closed to make room. */
#define PEER_CHANNELS_MAX 256

/*
 * An empty set of channels; each one bounds a call (connect, send, answer) by timeout_s, and an
 * answer's body by max_body bytes and its headers by max_headers bytes plus PEER_HEADER_SLACK
 * (app_channel_set_limits). Returns NULL when out of memory. Thread: the event loop.
 */
struct peer_channels *peer_channels_new(struct event_base *base, int timeout_s, int64_t max_body,
					int64_t max_headers);

/*
 * Room for the headers a callee sidecar adds to its app's answer (outrig-status, Date,
 * Content-Length, Content-Type): an app answer within the callee's limit stays within the caller's.
 */
#define PEER_HEADER_SLACK 1024

/*
 * The channel to host:port (host: an IP address or a name, IPv6 without brackets), made on first
 * use; with mTLS on (security/mtls.h), one per host:port and callee, over TLS, whose peer's
 * certificate must name callee_id (and callee_ns when not NULL or ""). Returns NULL when out of memory or when every one of PEER_CHANNELS_MAX channels is busy.
 * Ownership: the set's; valid until peer_channels_free (an idle channel may be closed by a later
 * peer_channels_get, so do not keep it across calls). Thread: the event loop.
 */
struct app_channel *peer_channels_get(struct peer_channels *pc, const char *host, int port,
				      const char *callee_id, const char *callee_ns);

/* Calls in flight to every peer. Thread: the event loop. */
unsigned peer_channels_busy(const struct peer_channels *pc);

/* Closes every channel; callbacks of calls still pending are never called. NULL is fine. */
void peer_channels_free(struct peer_channels *pc);

#endif /* OUTRIG_CORE_PEER_CHANNELS_H */
