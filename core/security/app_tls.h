/* SPDX-License-Identifier: Apache-2.0 */
/*
 * TLS towards the app (--app-protocol https or grpcs, --app-ssl): the client context the app's
 * HTTP channel, its gRPC client, health probes and gRPC proxying share, and the OpenSSL
 * bufferevents they connect with.
 *
 * As daprd (pkg/runtime/channels appHTTPClient, pkg/api/grpc/manager createLocalConnection:
 * InsecureSkipVerify, TLS 1.2 at least), the app's certificate is not verified: the app runs
 * beside its sidecar, and daprd has no flag to ask for verification, so neither has outrigd.
 * The connection is encrypted; who answers is not checked.
 */
#ifndef OUTRIG_CORE_SECURITY_APP_TLS_H
#define OUTRIG_CORE_SECURITY_APP_TLS_H

#include <stdbool.h>
#include <stddef.h>

struct app_tls;
struct bufferevent;
struct event_base;

/*
 * A client context offering ALPN alpn ("h2" for grpcs, "http/1.1" for https), SNI host when host
 * is a name (not an IP). Returns NULL with err filled (OpenSSL's reason) on failure.
 * Ownership: the caller's, freed with app_tls_free after every bufferevent made from it. Thread: the loop.
 */
struct app_tls *app_tls_new(const char *host, const char *alpn, char *err, size_t errlen);

/*
 * A new OpenSSL bufferevent with no socket yet, in the connecting state, for
 * bufferevent_socket_connect(_hostname) or evhttp_connection_base_bufferevent_new; the TLS
 * handshake runs once the socket connects, and BEV_EVENT_CONNECTED comes after it. options are
 * bufferevent options (BEV_OPT_CLOSE_ON_FREE is added: the SSL object goes with it). A closed
 * connection without TLS's close_notify counts as an end of file, as most servers close so.
 * Returns NULL when out of memory. Thread: the loop.
 */
struct bufferevent *app_tls_bufferevent(struct app_tls *t, struct event_base *base, int options);

/*
 * Why bev's TLS connection failed, for a message: OpenSSL's reason, and for a record that is
 * not TLS ("wrong version number" and its kin) the likely cause, a server speaking plain
 * text. sock_err is the socket's errno when the event came (EVUTIL_SOCKET_ERROR() in an
 * event callback that is not deferred), or -1 when unknown: a connection closed or reset in
 * the handshake (0, ECONNRESET, EPIPE) is told as such, a failed connect is not a TLS failure.
 * Returns false when bev holds no TLS failure, buf then untouched. Pops the errors it reads.
 * Thread: the loop.
 */
bool app_tls_failure(struct bufferevent *bev, int sock_err, char *buf, size_t len);

/*
 * For an ALPN "h2" context: whether bev's finished handshake chose h2, or none (a server that
 * does not do ALPN is given the benefit of the doubt). False with why when it chose another
 * protocol. Thread: the loop.
 */
bool app_tls_alpn_ok(const struct app_tls *t, struct bufferevent *bev, char *why, size_t len);

/* Frees t; NULL is fine. */
void app_tls_free(struct app_tls *t);

#endif /* OUTRIG_CORE_SECURITY_APP_TLS_H */
