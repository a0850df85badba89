/* SPDX-License-Identifier: Apache-2.0 */
/* TLS towards the app: one OpenSSL client context, and the bufferevents the app's channels connect with. */
#include "config.h"

#include "security/app_tls.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "security/tls_bev.h"

struct app_tls {
	SSL_CTX *ctx;
	char *sni; /* NULL when the app's address is an IP */
	bool h2;   /* ALPN "h2": grpcs */
	SSL_SESSION
		*session; /* the last session the app gave, offered again: resumption saves a round trip */
};

static bool app_tls_is_ip(const char *host)
{
	unsigned char buf[sizeof(struct in6_addr)];

	return inet_pton(AF_INET, host, buf) == 1 || inet_pton(AF_INET6, host, buf) == 1;
}

/* Keeps the newest session; OpenSSL calls it on the loop, from the connection that got it. */
static int app_tls_new_session(SSL *ssl, SSL_SESSION *session)
{
	struct app_tls *t = SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl));

	if (t->session != NULL)
		SSL_SESSION_free(t->session);
	t->session = session;
	return 1; /* the reference is ours now */
}

static void app_tls_openssl_error(const char *what, char *err, size_t errlen)
{
	unsigned long e = ERR_get_error();
	const char *reason = e != 0 ? ERR_reason_error_string(e) : NULL;

	snprintf(err, errlen, "%s: %s", what, reason != NULL ? reason : "OpenSSL failed");
	ERR_clear_error();
}

struct app_tls *app_tls_new(const char *host, const char *alpn, char *err, size_t errlen)
{
	struct app_tls *t = calloc(1, sizeof(*t));
	unsigned char wire[32];
	size_t n = strlen(alpn);

	if (t == NULL || n == 0 || n >= sizeof(wire)) {
		snprintf(err, errlen, "out of memory");
		free(t);
		return NULL;
	}
	t->h2 = strcmp(alpn, "h2") == 0;
	t->ctx = SSL_CTX_new(TLS_client_method());
	if (t->ctx == NULL) {
		app_tls_openssl_error("cannot make a TLS client context", err, errlen);
		goto fail;
	}
	/* daprd's AppChannelMinTLSVersion. */
	SSL_CTX_set_min_proto_version(t->ctx, TLS1_2_VERSION);
	/* daprd's InsecureSkipVerify: see app_tls.h. */
	SSL_CTX_set_verify(t->ctx, SSL_VERIFY_NONE, NULL);
	SSL_CTX_set_app_data(t->ctx, t);
	SSL_CTX_set_session_cache_mode(t->ctx, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
	SSL_CTX_sess_set_new_cb(t->ctx, app_tls_new_session);
	wire[0] = (unsigned char)n;
	memcpy(wire + 1, alpn, n);
	if (SSL_CTX_set_alpn_protos(t->ctx, wire, (unsigned)n + 1) != 0) {
		app_tls_openssl_error("cannot set ALPN", err, errlen);
		goto fail;
	}
	if (host != NULL && !app_tls_is_ip(host) && (t->sni = strdup(host)) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	return t;
fail:
	app_tls_free(t);
	return NULL;
}

struct bufferevent *app_tls_bufferevent(struct app_tls *t, struct event_base *base, int options)
{
	SSL *ssl = SSL_new(t->ctx);

	if (ssl == NULL)
		return NULL;
	/* SNI: a name only, as RFC 6066 has it. */
	if (t->sni != NULL && SSL_set_tlsext_host_name(ssl, t->sni) != 1) {
		SSL_free(ssl);
		return NULL;
	}
	if (t->session != NULL)
		SSL_set_session(ssl, t->session);
	return tls_bufferevent_new(base, ssl, false, options);
}

/* Reasons OpenSSL gives when the first bytes back are not a TLS record: the peer speaks something else. */
static bool app_tls_not_tls(unsigned long e)
{
	if (ERR_GET_LIB(e) != ERR_LIB_SSL)
		return false;
	switch (ERR_GET_REASON(e)) {
	case SSL_R_WRONG_VERSION_NUMBER:
	case SSL_R_HTTP_REQUEST:
	case SSL_R_HTTPS_PROXY_REQUEST:
	case SSL_R_PACKET_LENGTH_TOO_LONG:
	case SSL_R_RECORD_LENGTH_MISMATCH:
	case SSL_R_UNKNOWN_PROTOCOL: return true;
	}
	return false;
}

bool app_tls_failure(struct bufferevent *bev, int sock_err, char *buf, size_t len)
{
	unsigned long e, first = 0;

	bool syscall = false;

	/*
	 * libevent 2.1 queues SSL_get_error's code (lib 0) beside OpenSSL's own errors; the first
	 * of OpenSSL's says most.
	 */
	while ((e = bufferevent_get_openssl_error(bev)) != 0) {
		if (ERR_GET_LIB(e) == 0 && e == SSL_ERROR_SYSCALL)
			syscall = true;
		else if (first == 0 && ERR_GET_LIB(e) != 0)
			first = e;
	}
	if (first != 0 && ERR_SYSTEM_ERROR(first)) {
		syscall = true;
		first = 0;
	}
	/*
	 * A connect that failed (refused, unreachable) is a syscall error too: only a connection
	 * the app closed or reset is the handshake's.
	 */
	if (first == 0 && syscall && (sock_err == 0 || sock_err == ECONNRESET || sock_err == EPIPE)) {
		/* A reset or close in the handshake: mostly a plain-text server hanging up on bytes it cannot read. */
		snprintf(
			buf, len, "%s",
			"the connection broke during the TLS handshake: is the app serving TLS on the app port? "
			"(else use --app-protocol http or grpc)");
		return true;
	}
	if (first != 0) {
		const char *reason = ERR_reason_error_string(first);
		char code[64];

		if (reason == NULL) {
			ERR_error_string_n(first, code, sizeof(code));
			reason = code;
		}
		snprintf(buf, len, "the TLS handshake failed (%s)%s", reason,
			 app_tls_not_tls(first)
				 ? ": the app answers without TLS; serve TLS on the app port, or use "
				   "--app-protocol http or grpc"
				 : "");
		return true;
	}
	return false;
}

bool app_tls_alpn_ok(const struct app_tls *t, struct bufferevent *bev, char *why, size_t len)
{
	SSL *ssl = bufferevent_openssl_get_ssl(bev);
	const unsigned char *proto = NULL;
	unsigned n = 0;

	if (!t->h2 || ssl == NULL)
		return true;
	SSL_get0_alpn_selected(ssl, &proto, &n);
	if (n == 0 || (n == 2 && memcmp(proto, "h2", 2) == 0))
		return true;
	snprintf(why, len,
		 "the app chose ALPN protocol \"%.*s\", not h2: it does not serve gRPC over TLS there",
		 (int)(n > 40 ? 40 : n), (const char *)proto);
	return false;
}

void app_tls_free(struct app_tls *t)
{
	if (t == NULL)
		return;
	if (t->session != NULL)
		SSL_SESSION_free(t->session);
	SSL_CTX_free(t->ctx);
	free(t->sni);
	free(t);
}
