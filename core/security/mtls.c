/* SPDX-License-Identifier: Apache-2.0 */
/* mTLS between sidecars: certificates from files (re-read when they change), verification by SPIFFE id, TLS bufferevents. */
#include "config.h"

#include "security/mtls.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "base/log.h"
#include "security/spiffe.h"
#include "security/tls_bev.h"

#define MTLS_SCOPE "mtls"
#define MTLS_SESSIONS 64
#define MTLS_SESSION_LIFETIME_S 600

/* What one TLS connection knows of itself, hung on its SSL object. */
struct mtls_conn {
	char expect_id[256]; /* client side: the app the server must be; "" on the server side */
	char expect_ns[256];
	char session_key
		[820]; /* "host:port app.ns": a session resumes only towards the peer it was verified as */
	char why[384]; /* why the handshake failed, once known */
	bool server, logged;
	bool done; /* the handshake finished: later failures are the connection's, not a refusal */
};

struct mtls_files {
	char *path[3]; /* cert, key, anchors */
	struct stat st[3];
};

struct mtls_session {
	char key[820];
	SSL_SESSION *sess;
};

struct mtls {
	struct event_base *base;
	SSL_CTX *server, *client;
	char trust_domain[256];
	char app_id[256], ns[256];
	long skew_s;
	struct mtls_settings
		s; /* PEM texts are borrowed from the environment, which lives as long as the process */
	struct mtls_files files;
	struct event *timer;
	struct mtls_session sessions[MTLS_SESSIONS];
	size_t next_session;
};

static struct mtls *mtls_g;
static int mtls_conn_index = -1;

static void mtls_conn_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl, void *argp)
{
	(void)parent;
	(void)ad;
	(void)idx;
	(void)argl;
	(void)argp;
	free(ptr);
}

bool mtls_enabled(void)
{
	return mtls_g != NULL && mtls_g->base != NULL;
}

/* "10.0.0.2:41234" for a log line, or "an unknown address". */
static void mtls_peer_address(SSL *ssl, char *buf, size_t len)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char host[INET6_ADDRSTRLEN] = "";
	int fd = SSL_get_fd(ssl);

	snprintf(buf, len, "an unknown address");
	if (fd < 0 || getpeername(fd, (struct sockaddr *)&ss, &sl) != 0)
		return;
	if (ss.ss_family == AF_INET6) {
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, host, sizeof(host));
		snprintf(buf, len, "[%s]:%d", host, ntohs(((struct sockaddr_in6 *)&ss)->sin6_port));
	} else if (ss.ss_family == AF_INET) {
		inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, host, sizeof(host));
		snprintf(buf, len, "%s:%d", host, ntohs(((struct sockaddr_in *)&ss)->sin_port));
	}
}

/* One warning per refused connection, naming the peer and the reason. */
static void mtls_refused(SSL *ssl, struct mtls_conn *mc)
{
	char addr[80];

	if (mc == NULL || mc->logged)
		return;
	mc->logged = true;
	mtls_peer_address(ssl, addr, sizeof(addr));
	if (mc->server)
		log_warn(MTLS_SCOPE, "refused a connection from %s to the internal port: %s", addr, mc->why);
	else
		log_warn(MTLS_SCOPE, "refused the sidecar at %s (expected app %s%s%s): %s", addr,
			 mc->expect_id, mc->expect_ns[0] != '\0' ? " in namespace " : "", mc->expect_ns,
			 mc->why);
}

static void mtls_time_text(const ASN1_TIME *t, char *buf, size_t len)
{
	BIO *b = BIO_new(BIO_s_mem());
	int n = 0;

	buf[0] = '\0';
	if (b != NULL && ASN1_TIME_print(b, t) == 1)
		n = BIO_read(b, buf, (int)len - 1);
	buf[n > 0 ? n : 0] = '\0';
	BIO_free(b);
}

/* The checks of a certificate's SPIFFE id against the trust domain and, for a client, the app it expects. */
static bool mtls_check_spiffe(const struct mtls *m, X509 *cert, const struct mtls_conn *mc, char *why,
			      size_t len)
{
	struct spiffe_id id;
	char buf[768];
	const char *bad;

	if (!spiffe_from_cert(cert, &id, buf, sizeof(buf), &bad)) {
		snprintf(why, len, "its certificate has no usable SPIFFE id: %s", bad);
		return false;
	}
	if (strcmp(id.trust_domain, m->trust_domain) != 0) {
		snprintf(why, len,
			 "its certificate is of another trust domain: \"%s\", where this sidecar's is \"%s\"",
			 id.trust_domain, m->trust_domain);
		return false;
	}
	if (mc != NULL && mc->expect_id[0] != '\0' &&
	    (strcmp(id.app_id, mc->expect_id) != 0 ||
	     (mc->expect_ns[0] != '\0' && strcmp(id.ns, mc->expect_ns) != 0))) {
		snprintf(
			why, len,
			"its certificate names app %s in namespace %s, not the app name resolution gave (a stale entry?)",
			id.app_id, id.ns);
		return false;
	}
	return true;
}

static int mtls_verify_cb(int ok, X509_STORE_CTX *ctx)
{
	SSL *ssl = X509_STORE_CTX_get_ex_data(ctx, SSL_get_ex_data_X509_STORE_CTX_idx());
	struct mtls_conn *mc = ssl != NULL ? SSL_get_ex_data(ssl, mtls_conn_index) : NULL;
	const struct mtls *m = mtls_g;
	X509 *cert = X509_STORE_CTX_get_current_cert(ctx);
	int err = X509_STORE_CTX_get_error(ctx);
	int depth = X509_STORE_CTX_get_error_depth(ctx);
	char when[64], why[384];

	if (m == NULL || mc == NULL)
		return 0;
	if (!ok) {
		time_t t = time(NULL);

		if (err == X509_V_ERR_CERT_HAS_EXPIRED && cert != NULL) {
			t -= m->skew_s;
			if (X509_cmp_time(X509_get0_notAfter(cert), &t) > 0) {
				X509_STORE_CTX_set_error(ctx, X509_V_OK);
				return 1; /* within the allowed clock skew */
			}
			mtls_time_text(X509_get0_notAfter(cert), when, sizeof(when));
			snprintf(
				why, sizeof(why),
				"its certificate%s expired on %s (allowed clock skew: %lds, spec.mtls.allowedClockSkew)",
				depth > 0 ? "'s issuer" : "", when, m->skew_s);
		} else if (err == X509_V_ERR_CERT_NOT_YET_VALID && cert != NULL) {
			t += m->skew_s;
			if (X509_cmp_time(X509_get0_notBefore(cert), &t) < 0) {
				X509_STORE_CTX_set_error(ctx, X509_V_OK);
				return 1;
			}
			mtls_time_text(X509_get0_notBefore(cert), when, sizeof(when));
			snprintf(
				why, sizeof(why),
				"its certificate%s is not valid yet: not before %s (allowed clock skew: %lds, spec.mtls.allowedClockSkew)",
				depth > 0 ? "'s issuer" : "", when, m->skew_s);
		} else if (err == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY ||
			   err == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT ||
			   err == X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT ||
			   err == X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN ||
			   err == X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE ||
			   err == X509_V_ERR_CERT_SIGNATURE_FAILURE) {
			snprintf(why, sizeof(why),
				 "its certificate is signed by another CA, not one of the trust anchors (%s)",
				 X509_verify_cert_error_string(err));
		} else {
			snprintf(why, sizeof(why), "its certificate does not verify: %s",
				 X509_verify_cert_error_string(err));
		}
		if (mc->why[0] == '\0')
			snprintf(mc->why, sizeof(mc->why), "%s", why);
		return 0;
	}
	if (depth == 0 && cert != NULL && !mtls_check_spiffe(m, cert, mc, why, sizeof(why))) {
		snprintf(mc->why, sizeof(mc->why), "%s", why);
		X509_STORE_CTX_set_error(ctx, X509_V_ERR_APPLICATION_VERIFICATION);
		return 0;
	}
	return 1;
}

/* The reason OpenSSL gave for a failed handshake, in words a user can act on. */
static void mtls_openssl_reason(unsigned long e, bool server, char *buf, size_t len)
{
	int r = ERR_GET_REASON(e);

	if (e == 0)
		snprintf(buf, len, "the TLS handshake failed");
	else if (r == SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE)
		snprintf(buf, len, "it sent no client certificate (mTLS is on at this port)");
	else if (r == SSL_R_HTTP_REQUEST || r == SSL_R_WRONG_VERSION_NUMBER || r == SSL_R_UNKNOWN_PROTOCOL ||
		 r == SSL_R_PACKET_LENGTH_TOO_LONG || r == SSL_R_RECORD_LENGTH_MISMATCH)
		snprintf(
			buf, len,
			server ? "it does not speak TLS (a plaintext client? mTLS is on at this port)"
			       : "it does not speak TLS (is mTLS off at that sidecar? turn it on there too)");
	else if (r == SSL_R_TLSV13_ALERT_CERTIFICATE_REQUIRED || r == SSL_R_SSLV3_ALERT_BAD_CERTIFICATE ||
		 r == SSL_R_TLSV1_ALERT_UNKNOWN_CA || r == SSL_R_SSLV3_ALERT_CERTIFICATE_EXPIRED ||
		 r == SSL_R_SSLV3_ALERT_CERTIFICATE_UNKNOWN)
		snprintf(buf, len, "it refused this sidecar's certificate (%s); see its log for why",
			 ERR_reason_error_string(e));
	else
		snprintf(buf, len, "the TLS handshake failed: %s", ERR_reason_error_string(e));
}

static void mtls_info_cb(const SSL *cssl, int where, int ret)
{
	SSL *ssl = (SSL *)cssl;
	struct mtls_conn *mc = SSL_get_ex_data(ssl, mtls_conn_index);

	if (mc == NULL || mc->logged || mc->done)
		return;
	if (where & SSL_CB_HANDSHAKE_DONE) {
		mc->done = true;
		if (log_enabled(OUTRIG_LOG_DEBUG)) {
			char addr[80];

			mtls_peer_address(ssl, addr, sizeof(addr));
			log_debug(MTLS_SCOPE, "%s with %s: %s, %s",
				  mc->server ? "accepted a TLS connection" : "connected over TLS", addr,
				  SSL_get_version(ssl),
				  SSL_session_reused(ssl) ? "session resumed" : "full handshake");
		}
		return;
	}
	if (((where & SSL_CB_ALERT) && (where & SSL_CB_WRITE) && (ret >> 8) == SSL3_AL_FATAL) ||
	    ((where & SSL_CB_EXIT) && ret <= 0 && ERR_peek_last_error() != 0)) {
		if (mc->why[0] == '\0')
			mtls_openssl_reason(ERR_peek_last_error(), mc->server, mc->why, sizeof(mc->why));
		mtls_refused(ssl, mc);
	} else if ((where & SSL_CB_ALERT) && (where & SSL_CB_READ) && (ret >> 8) == SSL3_AL_FATAL &&
		   mc->why[0] == '\0') {
		snprintf(mc->why, sizeof(mc->why),
			 "it refused this sidecar's certificate (TLS alert \"%s\"); see its log for why",
			 SSL_alert_desc_string_long(ret));
	}
}

static int mtls_new_session_cb(SSL *ssl, SSL_SESSION *sess)
{
	struct mtls_conn *mc = SSL_get_ex_data(ssl, mtls_conn_index);
	struct mtls *m = mtls_g;
	struct mtls_session *slot = NULL;

	if (m == NULL || mc == NULL || mc->session_key[0] == '\0')
		return 0;
	for (size_t i = 0; i < MTLS_SESSIONS && slot == NULL; i++)
		if (strcmp(m->sessions[i].key, mc->session_key) == 0)
			slot = &m->sessions[i];
	if (slot == NULL) {
		slot = &m->sessions[m->next_session];
		m->next_session = (m->next_session + 1) % MTLS_SESSIONS;
	}
	if (slot->sess != NULL)
		SSL_SESSION_free(slot->sess);
	snprintf(slot->key, sizeof(slot->key), "%s", mc->session_key);
	slot->sess = sess;
	return 1; /* the reference is kept */
}

static void mtls_sessions_flush(struct mtls *m)
{
	for (size_t i = 0; i < MTLS_SESSIONS; i++) {
		if (m->sessions[i].sess != NULL)
			SSL_SESSION_free(m->sessions[i].sess);
		m->sessions[i].sess = NULL;
		m->sessions[i].key[0] = '\0';
	}
}

/* ---- loading ---- */

struct mtls_material {
	X509 *leaf;
	STACK_OF(X509) * chain;
	EVP_PKEY *key;
	X509_STORE *store;
};

static void mtls_material_free(struct mtls_material *mm)
{
	X509_free(mm->leaf);
	sk_X509_pop_free(mm->chain, X509_free);
	EVP_PKEY_free(mm->key);
	X509_STORE_free(mm->store);
	memset(mm, 0, sizeof(*mm));
}

static BIO *mtls_open(const char *file, const char *pem)
{
	return file != NULL ? BIO_new_file(file, "r") : BIO_new_mem_buf(pem, -1);
}

static void mtls_last_error(char *buf, size_t len)
{
	unsigned long e = ERR_peek_last_error();

	snprintf(buf, len, "%s", e != 0 ? ERR_reason_error_string(e) : "no PEM data");
	ERR_clear_error();
}

/* Reads the three PEM sources; err names the source ("--mtls-cert-file /x" or "DAPR_CERT_CHAIN"). */
static int mtls_read(const struct mtls_settings *s, struct mtls_material *mm, char *err, size_t len)
{
	char what[3][600], why[256];
	BIO *b;
	X509 *x;
	int n = 0;

	snprintf(what[0], sizeof(what[0]), s->cert_file != NULL ? "--mtls-cert-file %s" : "%s",
		 s->cert_file != NULL ? s->cert_file : "DAPR_CERT_CHAIN");
	snprintf(what[1], sizeof(what[1]), s->key_file != NULL ? "--mtls-key-file %s" : "%s",
		 s->key_file != NULL ? s->key_file : "DAPR_CERT_KEY");
	snprintf(what[2], sizeof(what[2]), s->anchors_file != NULL ? "--trust-anchors-file %s" : "%s",
		 s->anchors_file != NULL ? s->anchors_file : "DAPR_TRUST_ANCHORS");
	memset(mm, 0, sizeof(*mm));
	ERR_clear_error();
	/* The certificate, then the intermediates that sign it, as Sentry's cert chain. */
	if ((b = mtls_open(s->cert_file, s->cert_pem)) == NULL) {
		snprintf(err, len, "%s: cannot open: %s", what[0], strerror(errno));
		return -1;
	}
	mm->leaf = PEM_read_bio_X509(b, NULL, NULL, NULL);
	mm->chain = sk_X509_new_null();
	while (mm->leaf != NULL && mm->chain != NULL && (x = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL)
		sk_X509_push(mm->chain, x);
	BIO_free(b);
	ERR_clear_error();
	if (mm->leaf == NULL) {
		snprintf(
			err, len,
			"%s: no PEM certificate in it; give the sidecar's certificate (outrig cert issue makes one)",
			what[0]);
		goto fail;
	}
	if ((b = mtls_open(s->key_file, s->key_pem)) == NULL) {
		snprintf(err, len, "%s: cannot open: %s", what[1], strerror(errno));
		goto fail;
	}
	mm->key = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL);
	BIO_free(b);
	if (mm->key == NULL) {
		mtls_last_error(why, sizeof(why));
		snprintf(err, len, "%s: no unencrypted PEM private key in it (%s)", what[1], why);
		goto fail;
	}
	if (X509_check_private_key(mm->leaf, mm->key) != 1) {
		ERR_clear_error();
		snprintf(
			err, len,
			"%s: the key does not belong to the certificate in %s (replaced one but not the other?)",
			what[1], what[0]);
		goto fail;
	}
	if ((b = mtls_open(s->anchors_file, s->anchors_pem)) == NULL) {
		snprintf(err, len, "%s: cannot open: %s", what[2], strerror(errno));
		goto fail;
	}
	mm->store = X509_STORE_new();
	while (mm->store != NULL && (x = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL) {
		X509_STORE_add_cert(mm->store, x);
		X509_free(x);
		n++;
	}
	BIO_free(b);
	ERR_clear_error();
	if (n == 0) {
		snprintf(
			err, len,
			"%s: no PEM certificate in it; give the CA certificate(s) that sign the sidecars' certificates",
			what[2]);
		goto fail;
	}
	return 0;
fail:
	mtls_material_free(mm);
	return -1;
}

/* This sidecar's own certificate must be valid now and name this app in the trust domain. */
static int mtls_check_own(const struct mtls_settings *s, const char *td, const struct mtls_material *mm,
			  char *err, size_t len)
{
	const char *what = s->cert_file != NULL ? s->cert_file : "DAPR_CERT_CHAIN";
	struct spiffe_id id;
	char buf[768], when[64];
	const char *bad;
	X509_STORE_CTX *vc;
	int ok;

	if (!spiffe_from_cert(mm->leaf, &id, buf, sizeof(buf), &bad)) {
		snprintf(err, len,
			 "%s: the sidecar's certificate is not usable: %s; issue one with outrig cert issue",
			 what, bad);
		return -1;
	}
	if (strcmp(id.trust_domain, td) != 0) {
		snprintf(
			err, len,
			"%s: the certificate's trust domain is \"%s\", this sidecar's \"%s\"; set --control-plane-trust-domain %s or issue a certificate for \"%s\"",
			what, id.trust_domain, td, id.trust_domain, td);
		return -1;
	}
	if (strcmp(id.app_id, s->app_id) != 0 || strcmp(id.ns, s->ns) != 0) {
		snprintf(
			err, len,
			"%s: the certificate is app %s in namespace %s, but this sidecar is app %s in namespace %s (--app-id, $NAMESPACE); give it its own certificate",
			what, id.app_id, id.ns, s->app_id, s->ns);
		return -1;
	}
	if (X509_cmp_current_time(X509_get0_notAfter(mm->leaf)) <= 0) {
		mtls_time_text(X509_get0_notAfter(mm->leaf), when, sizeof(when));
		snprintf(err, len, "%s: the certificate expired on %s; issue a new one", what, when);
		return -1;
	}
	/* Signed by the anchors (through the chain the file gives): else no peer would take it. */
	vc = X509_STORE_CTX_new();
	ok = vc != NULL && X509_STORE_CTX_init(vc, mm->store, mm->leaf, mm->chain) == 1;
	if (ok) {
		X509_VERIFY_PARAM_set_flags(X509_STORE_CTX_get0_param(vc), X509_V_FLAG_NO_CHECK_TIME);
		ok = X509_verify_cert(vc) == 1;
		if (!ok)
			snprintf(
				err, len,
				"%s: the certificate does not verify against the trust anchors (%s); issue it from their CA",
				what, X509_verify_cert_error_string(X509_STORE_CTX_get_error(vc)));
	} else {
		snprintf(err, len, "%s: out of memory", what);
	}
	X509_STORE_CTX_free(vc);
	ERR_clear_error();
	return ok ? 0 : -1;
}

static SSL_CTX *mtls_ctx_new(bool server, const struct mtls_material *mm)
{
	SSL_CTX *ctx = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());

	if (ctx == NULL)
		return NULL;
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	if (SSL_CTX_use_certificate(ctx, mm->leaf) != 1 || SSL_CTX_use_PrivateKey(ctx, mm->key) != 1)
		goto fail;
	for (int i = 0; i < sk_X509_num(mm->chain); i++)
		if (SSL_CTX_add1_chain_cert(ctx, sk_X509_value(mm->chain, i)) != 1)
			goto fail;
	if (X509_STORE_up_ref(mm->store) != 1)
		goto fail;
	SSL_CTX_set_cert_store(ctx, mm->store);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, mtls_verify_cb);
	SSL_CTX_set_info_callback(ctx, mtls_info_cb);
	/*
	 * A resumed session is not verified again: keep it short, so that a certificate that expires
	 * (or a peer whose files changed) is looked at anew within minutes. OpenSSL's default is 2 h.
	 */
	SSL_CTX_set_timeout(ctx, MTLS_SESSION_LIFETIME_S);
	if (server) {
		/* Session tickets (OpenSSL's default) let a returning caller skip the certificate exchange. */
		SSL_CTX_set_session_id_context(ctx, (const unsigned char *)"outrig-internal", 15);
	} else {
		SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
		SSL_CTX_sess_set_new_cb(ctx, mtls_new_session_cb);
	}
	return ctx;
fail:
	SSL_CTX_free(ctx);
	return NULL;
}

/* Loads everything anew into m's contexts; m keeps its old ones on failure. */
static int mtls_load(struct mtls *m, char *err, size_t len)
{
	struct mtls_material mm;
	SSL_CTX *server, *client;

	if (mtls_read(&m->s, &mm, err, len) != 0)
		return -1;
	if (mtls_check_own(&m->s, m->trust_domain, &mm, err, len) != 0) {
		mtls_material_free(&mm);
		return -1;
	}
	server = mtls_ctx_new(true, &mm);
	client = server != NULL ? mtls_ctx_new(false, &mm) : NULL;
	if (client == NULL) {
		SSL_CTX_free(server);
		mtls_material_free(&mm);
		snprintf(err, len, "cannot make a TLS context: %s",
			 ERR_peek_last_error() != 0 ? ERR_reason_error_string(ERR_peek_last_error())
						    : "out of memory");
		ERR_clear_error();
		return -1;
	}
	{
		char when[64];

		mtls_time_text(X509_get0_notAfter(mm.leaf), when, sizeof(when));
		log_info(MTLS_SCOPE,
			 "loaded the sidecar certificate spiffe://%s/ns/%s/%s from %s (valid until %s)",
			 m->trust_domain, m->ns, m->app_id,
			 m->s.cert_file != NULL ? m->s.cert_file : "DAPR_CERT_CHAIN", when);
	}
	mtls_material_free(&mm);
	/* Connections made before keep their context (OpenSSL counts references); new ones take these. */
	SSL_CTX_free(m->server);
	SSL_CTX_free(m->client);
	m->server = server;
	m->client = client;
	mtls_sessions_flush(m);
	return 0;
}

static bool mtls_stat_changed(struct mtls_files *f, bool update)
{
	bool changed = false;

	for (int i = 0; i < 3; i++) {
		struct stat st;

		if (f->path[i] == NULL)
			continue;
		if (stat(f->path[i], &st) != 0)
			memset(&st, 0, sizeof(st));
		if (st.st_ino != f->st[i].st_ino || st.st_dev != f->st[i].st_dev ||
		    st.st_size != f->st[i].st_size || st.st_mtim.tv_sec != f->st[i].st_mtim.tv_sec ||
		    st.st_mtim.tv_nsec != f->st[i].st_mtim.tv_nsec)
			changed = true;
		if (update)
			f->st[i] = st;
	}
	return changed;
}

/* Looks at the files; once they changed and stayed so for a tick (a writer may be half-way), loads them. */
static void mtls_tick(evutil_socket_t fd, short what, void *arg)
{
	struct mtls *m = arg;
	char err[1024];

	(void)fd;
	(void)what;
	if (!mtls_stat_changed(&m->files, true))
		return;
	if (mtls_load(m, err, sizeof(err)) != 0)
		log_error(
			MTLS_SCOPE,
			"the certificate files changed, but the new ones are refused, so the old certificate stays in use: %s",
			err);
}

static void mtls_free(struct mtls *m)
{
	if (m == NULL)
		return;
	if (m->timer != NULL)
		event_free(m->timer);
	SSL_CTX_free(m->server);
	SSL_CTX_free(m->client);
	mtls_sessions_flush(m);
	for (int i = 0; i < 3; i++)
		free(m->files.path[i]);
	free(m);
}

int mtls_start(struct event_base *base, const struct mtls_settings *s, char *err, size_t len)
{
	struct mtls *m;
	int ms = s->reload_interval_ms > 0 ? s->reload_interval_ms : 1000;
	struct timeval every = { ms / 1000, (ms % 1000) * 1000 };

	if (mtls_conn_index < 0)
		mtls_conn_index = SSL_get_ex_new_index(0, NULL, NULL, NULL, mtls_conn_free);
	m = calloc(1, sizeof(*m));
	if (m == NULL || mtls_conn_index < 0) {
		free(m);
		snprintf(err, len, "out of memory");
		return -1;
	}
	m->s = *s;
	snprintf(m->trust_domain, sizeof(m->trust_domain), "%s",
		 s->trust_domain != NULL && *s->trust_domain != '\0' ? s->trust_domain
								     : MTLS_DEFAULT_TRUST_DOMAIN);
	snprintf(m->app_id, sizeof(m->app_id), "%s", s->app_id);
	snprintf(m->ns, sizeof(m->ns), "%s", s->ns);
	m->s.app_id = m->app_id;
	m->s.ns = m->ns;
	m->s.trust_domain = m->trust_domain;
	m->skew_s = (long)(s->clock_skew_ms / 1000);
	m->files.path[0] = s->cert_file != NULL ? strdup(s->cert_file) : NULL;
	m->files.path[1] = s->key_file != NULL ? strdup(s->key_file) : NULL;
	m->files.path[2] = s->anchors_file != NULL ? strdup(s->anchors_file) : NULL;
	m->s.cert_file = m->files.path[0];
	m->s.key_file = m->files.path[1];
	m->s.anchors_file = m->files.path[2];
	mtls_stat_changed(&m->files, true);
	if (mtls_load(m, err, len) != 0) {
		mtls_free(m);
		return -1;
	}
	if (base == NULL) {
		mtls_free(m);
		return 0;
	}
	m->base = base;
	m->timer = event_new(base, -1, EV_PERSIST, mtls_tick, m);
	if (m->timer == NULL || event_add(m->timer, &every) != 0) {
		mtls_free(m);
		snprintf(err, len, "out of memory");
		return -1;
	}
	mtls_stop();
	mtls_g = m;
	return 0;
}

void mtls_stop(void)
{
	mtls_free(mtls_g);
	mtls_g = NULL;
}

/* ---- connections ---- */

static SSL *mtls_ssl_new(SSL_CTX *ctx, bool server)
{
	SSL *ssl = SSL_new(ctx);
	struct mtls_conn *mc = calloc(1, sizeof(*mc));

	if (ssl == NULL || mc == NULL || SSL_set_ex_data(ssl, mtls_conn_index, mc) != 1) {
		SSL_free(ssl);
		free(mc);
		return NULL;
	}
	mc->server = server;
	return ssl;
}

struct bufferevent *mtls_server_bufferevent(struct event_base *base, int options)
{
	SSL *ssl = mtls_g != NULL ? mtls_ssl_new(mtls_g->server, true) : NULL;

	if (ssl == NULL)
		return NULL;
	return tls_bufferevent_new(base, ssl, true, options);
}

struct bufferevent *mtls_client_bufferevent(struct event_base *base, const char *peer_id, const char *peer_ns,
					    const char *session_key, int options)
{
	SSL *ssl = mtls_g != NULL ? mtls_ssl_new(mtls_g->client, false) : NULL;
	struct mtls_conn *mc;

	if (ssl == NULL)
		return NULL;
	mc = SSL_get_ex_data(ssl, mtls_conn_index);
	snprintf(mc->expect_id, sizeof(mc->expect_id), "%s", peer_id != NULL ? peer_id : "");
	snprintf(mc->expect_ns, sizeof(mc->expect_ns), "%s", peer_ns != NULL ? peer_ns : "");
	/*
	 * A resumed session skips verification: it must have been verified as this very peer, or a stale
	 * name-resolution entry (another app id at a known address) would get through on an old session.
	 */
	if (session_key != NULL)
		snprintf(mc->session_key, sizeof(mc->session_key), "%s %s.%s", session_key, mc->expect_id,
			 mc->expect_ns);
	for (size_t i = 0; session_key != NULL && i < MTLS_SESSIONS; i++)
		if (mtls_g->sessions[i].sess != NULL && strcmp(mtls_g->sessions[i].key, mc->session_key) == 0)
			SSL_set_session(ssl, mtls_g->sessions[i].sess);
	return tls_bufferevent_new(base, ssl, false, options);
}

/* The TLS bufferevent at or under bev, if any. */
static struct bufferevent *mtls_bev_of(const struct bufferevent *cbev)
{
	struct bufferevent *bev = (struct bufferevent *)cbev;

	for (int i = 0; bev != NULL && i < 4; i++) {
		if (bufferevent_openssl_get_ssl(bev) != NULL)
			return bev;
		bev = bufferevent_get_underlying(bev);
	}
	return NULL;
}

static SSL *mtls_ssl_of(const struct bufferevent *bev)
{
	struct bufferevent *tls = mtls_bev_of(bev);

	return tls != NULL ? bufferevent_openssl_get_ssl(tls) : NULL;
}

bool tls_peer_identity(const struct bufferevent *bev, struct peer_identity *out, char *buf, size_t len)
{
	SSL *ssl = bev != NULL ? mtls_ssl_of(bev) : NULL;
	X509 *cert = ssl != NULL ? SSL_get0_peer_certificate(ssl) : NULL;
	struct spiffe_id id;
	const char *why;

	if (cert == NULL || SSL_get_verify_result(ssl) != X509_V_OK ||
	    !spiffe_from_cert(cert, &id, buf, len, &why))
		return false;
	out->app_id = id.app_id;
	out->ns = id.ns;
	out->trust_domain = id.trust_domain;
	out->verified = true;
	return true;
}

bool mtls_claim_matches(const struct peer_identity *id, const char *claimed_id, const char *claimed_ns,
			char *why, size_t len)
{
	if (claimed_id != NULL && strcmp(claimed_id, id->app_id) != 0) {
		snprintf(why, len, "the caller claims app id \"%.255s\", but its certificate is app %s",
			 claimed_id, id->app_id);
		return false;
	}
	if (claimed_ns != NULL && id->ns != NULL && strcmp(claimed_ns, id->ns) != 0) {
		snprintf(why, len,
			 "the caller claims namespace \"%.255s\", but its certificate is namespace %s",
			 claimed_ns, id->ns);
		return false;
	}
	return true;
}

bool mtls_failure(struct bufferevent *bev, char *buf, size_t len)
{
	struct bufferevent *tls = bev != NULL ? mtls_bev_of(bev) : NULL;
	SSL *ssl = tls != NULL ? bufferevent_openssl_get_ssl(tls) : NULL;
	struct mtls_conn *mc = ssl != NULL ? SSL_get_ex_data(ssl, mtls_conn_index) : NULL;
	unsigned long e;

	if (mc == NULL)
		return false;
	if (mc->why[0] != '\0') {
		snprintf(buf, len, "%s", mc->why);
		return true;
	}
	e = bufferevent_get_openssl_error(tls);
	if (e == 0)
		return false;
	mtls_openssl_reason(e, mc->server, buf, len);
	while (bufferevent_get_openssl_error(tls) != 0)
		;
	return true;
}
