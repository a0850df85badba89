/* SPDX-License-Identifier: Apache-2.0 */
/* The OpenSSL bufferevent both kinds of TLS use (see tls_bev.h). */
#include "config.h"

#include "security/tls_bev.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>

/*
 * libevent hands each chunk of a TLS bufferevent's output to its own SSL_write: one record and one
 * write(2) each, and one read(2) or two at the peer. An HTTP message is a head chunk and a body chunk;
 * made one while it is small (one record holds 16 KiB), it goes out as one record.
 */
#define TLS_COALESCE_MAX 16384

static void tls_coalesce(struct evbuffer *buf, const struct evbuffer_cb_info *info, void *arg)
{
	size_t n = evbuffer_get_length(buf);

	(void)arg;
	if (info->n_added > 0 && n > 1 && n <= TLS_COALESCE_MAX)
		evbuffer_pullup(buf, -1);
}

struct bufferevent *tls_bufferevent_new(struct event_base *base, SSL *ssl, bool accepting, int options)
{
	struct bufferevent *bev = bufferevent_openssl_socket_new(
		base, -1, ssl, accepting ? BUFFEREVENT_SSL_ACCEPTING : BUFFEREVENT_SSL_CONNECTING,
		options | BEV_OPT_CLOSE_ON_FREE);

	if (bev == NULL) {
		SSL_free(ssl);
		return NULL;
	}
	bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
	if (evbuffer_add_cb(bufferevent_get_output(bev), tls_coalesce, NULL) == NULL) {
		bufferevent_free(bev);
		return NULL;
	}
	return bev;
}
