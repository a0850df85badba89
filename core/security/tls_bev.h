/* SPDX-License-Identifier: Apache-2.0 */
/* The OpenSSL bufferevent both kinds of TLS use (mTLS between sidecars, TLS towards the app). */
#ifndef OUTRIG_CORE_SECURITY_TLS_BEV_H
#define OUTRIG_CORE_SECURITY_TLS_BEV_H

#include <stdbool.h>

#include <openssl/ssl.h>

struct bufferevent;
struct event_base;

/*
 * A TLS bufferevent with no socket yet over ssl (it takes ssl, and frees it on failure), accepting or connecting:
 * BEV_OPT_CLOSE_ON_FREE is added, a peer that closes without close_notify is an end of stream as over TCP, and
 * small writes go out as one TLS record. NULL when out of memory. Thread: the loop.
 */
struct bufferevent *tls_bufferevent_new(struct event_base *base, SSL *ssl, bool accepting, int options);

#endif
