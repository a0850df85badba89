/* SPDX-License-Identifier: Apache-2.0 */
/*
 * HTTP/2 streams to a gRPC server, passed through without being read: the outbound side of gRPC
 * proxying (to this sidecar's app, or to another sidecar's internal port). The caller supplies the
 * request's headers and body bytes and gets the answer's headers, bytes and trailers as they come;
 * flow control is the caller's, so nothing is buffered beyond one stream window each way.
 */
#ifndef OUTRIG_CORE_H2_UPSTREAM_H
#define OUTRIG_CORE_H2_UPSTREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <nghttp2/nghttp2.h>

struct event_base;
struct h2_upstream;
struct h2_stream;

/* The window each stream gets for its answer: what the caller may have to hold per stream. */
#define H2_UPSTREAM_STREAM_WINDOW (128 * 1024)
/* Connections kept per server address; with all of them at the server's stream limit, new streams are refused. */
#define H2_UPSTREAM_MAX_CONNS 16

/* Called from the loop, never from within h2_upstream_open or the other h2_stream_* functions. */
struct h2_stream_ops {
	/* The answer's first HEADERS; end: they are the whole answer (gRPC's trailers-only form). */
	void (*headers)(void *arg, const nghttp2_nv *nv, size_t n, bool end);
	/* Answer bytes. The stream's window comes back only through h2_stream_consume. */
	void (*data)(void *arg, const uint8_t *data, size_t len);
	/* The answer's trailers (n = 0 when it ended without any). */
	void (*trailers)(void *arg, const nghttp2_nv *nv, size_t n);
	/*
	 * Request body: copy up to len bytes into buf and return how many; 0 with *eof false when none
	 * are ready yet (h2_stream_resume then says when), *eof true at the end.
	 */
	ssize_t (*read_body)(void *arg, uint8_t *buf, size_t len, bool *eof);
	/*
	 * The stream is over, always last: error_code is 0 after a clean end, else HTTP/2's code
	 * (REFUSED_STREAM when it never reached the server); why explains a connection failure (NULL
	 * otherwise). The stream is freed right after.
	 */
	void (*closed)(void *arg, uint32_t error_code, const char *why);
};

/* A pool of connections to servers, keyed by host:port. Returns NULL when out of memory. Thread: the loop. */
struct h2_upstream *h2_upstream_new(struct event_base *base);

/*
 * Opens a stream to host:port (an IP or a name, resolved with evdns) with the request headers nv
 * (pseudo-headers first; nghttp2 copies them), over a pooled h2c connection (prior knowledge,
 * TCP_NODELAY, TCP keepalive). Returns the stream, or NULL with *why saying why (out of memory,
 * every connection to host:port full); ops are then never called.
 */
struct h2_stream *h2_upstream_open(struct h2_upstream *up, const char *host, int port, const nghttp2_nv *nv,
				   size_t n, const struct h2_stream_ops *ops, void *arg, const char **why);

/*
 * The same over TLS with tls (ALPN h2; --app-protocol grpcs), on a pool of its own: a TLS and a
 * plain connection to one address never mix. tls NULL is h2_upstream_open. A failed handshake
 * closes the streams REFUSED_STREAM with why saying what TLS reported. Ownership: tls stays the
 * caller's and must outlive up. Thread: the loop.
 */
struct app_tls;
struct h2_stream *h2_upstream_open_tls(struct h2_upstream *up, struct app_tls *tls, const char *host,
				       int port, const nghttp2_nv *nv, size_t n,
				       const struct h2_stream_ops *ops, void *arg, const char **why);

/*
 * As h2_upstream_open, to another sidecar's internal port: with mTLS on (security/mtls.h), over
 * TLS connections of their own whose peer's certificate must name app peer_id (and peer_ns when
 * not NULL or ""). Without mTLS, exactly h2_upstream_open.
 */
struct h2_stream *h2_upstream_open_peer(struct h2_upstream *up, const char *host, int port,
					const char *peer_id, const char *peer_ns, const nghttp2_nv *nv,
					size_t n, const struct h2_stream_ops *ops, void *arg,
					const char **why);

/* More request body (or its end) is ready. */
void h2_stream_resume(struct h2_stream *s);

/* The caller passed on n answer bytes: the server may send n more. */
void h2_stream_consume(struct h2_stream *s, size_t n);

/* Cancels the stream (RST_STREAM CANCEL); no callback runs for it after this. */
void h2_stream_cancel(struct h2_stream *s);

/* Closes every connection; the streams' closed callbacks are not called. Thread: the loop. */
void h2_upstream_free(struct h2_upstream *up);

#endif /* OUTRIG_CORE_H2_UPSTREAM_H */
