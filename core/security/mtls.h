/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mTLS between sidecars on the internal port: the sidecar's certificate, key and trust anchors
 * (files, re-read when they change), the OpenSSL bufferevents both ends use, and the caller's
 * identity taken from its verified certificate (core/api/internal/internal_protocol.md).
 */
#ifndef OUTRIG_CORE_SECURITY_MTLS_H
#define OUTRIG_CORE_SECURITY_MTLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "security/peer_identity.h"

struct bufferevent;
struct event_base;

/* Dapr's default for spec.mtls.allowedClockSkew. */
#define MTLS_DEFAULT_CLOCK_SKEW_MS (15 * 60 * 1000)
/* The trust domain of an app whose Configuration names none (Dapr's accessControl.trustDomain default). */
#define MTLS_DEFAULT_TRUST_DOMAIN "public"

struct mtls_settings {
	/* Files (re-read when they change), or, when a file is NULL, PEM text (DAPR_CERT_CHAIN and friends). */
	const char *cert_file, *key_file, *anchors_file;
	const char *cert_pem, *key_pem, *anchors_pem;
	const char *trust_domain;
	int64_t clock_skew_ms;
	const char *app_id, *ns; /* this sidecar's: its certificate must name them */
	int reload_interval_ms;	 /* how often the files are looked at; 0: 1000 */
};

/*
 * Loads the certificate, key and anchors and turns mTLS on for this process (one sidecar). A
 * problem is written to err as "flag or file: what is wrong; what to do". Returns 0 or -1.
 * base NULL: load and check only (outrigd --check); nothing is turned on. Thread: the loop.
 */
int mtls_start(struct event_base *base, const struct mtls_settings *s, char *err, size_t len);

/* Whether mtls_start turned mTLS on. Thread: any. */
bool mtls_enabled(void);

/* Turns mTLS off and frees what it holds; bufferevents made before keep working. Thread: the loop. */
void mtls_stop(void);

/*
 * A TLS server bufferevent with no socket yet (evhttp's bevcb sets it), in the accepting state:
 * the peer must present a certificate of the trust anchors, in the trust domain. Returns NULL
 * when out of memory. Thread: the loop.
 */
struct bufferevent *mtls_server_bufferevent(struct event_base *base, int options);

/*
 * A TLS client bufferevent with no socket yet, for bufferevent_socket_connect(_hostname) or
 * evhttp_connection_base_bufferevent_new: the server's certificate must name app peer_id (and,
 * when peer_ns is not NULL or "", that namespace); session_key (host:port) finds a session to
 * resume. BEV_OPT_CLOSE_ON_FREE is added. Returns NULL when out of memory. Thread: the loop.
 */
struct bufferevent *mtls_client_bufferevent(struct event_base *base, const char *peer_id, const char *peer_ns,
					    const char *session_key, int options);

/*
 * The identity of the verified peer of the TLS connection at or under bev (a filter's underlying
 * bufferevents are looked through), verified = true, strings copied into buf. Returns false when
 * bev holds no TLS connection or no verified certificate. Thread: the loop.
 */
bool tls_peer_identity(const struct bufferevent *bev, struct peer_identity *out, char *buf, size_t len);

/*
 * Whether the ids a caller's sidecar claims (outrig-caller-app-id, outrig-caller-namespace: NULL
 * when it sent none) are those of its certificate; false with why, for the caller and the log.
 * Thread: any.
 */
bool mtls_claim_matches(const struct peer_identity *id, const char *claimed_id, const char *claimed_ns,
			char *why, size_t len);

/*
 * Why bev's TLS connection failed: the reason the verification gave (another CA, expired, not the
 * app expected...), or OpenSSL's. Returns false when there is none to give. Thread: the loop.
 */
bool mtls_failure(struct bufferevent *bev, char *buf, size_t len);

#endif /* OUTRIG_CORE_SECURITY_MTLS_H */
