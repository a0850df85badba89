/* SPDX-License-Identifier: Apache-2.0 */
/* HTTP/2 streams to a gRPC server, passed through without being read (see h2_upstream.h). */
#include "config.h"

#include "channels/h2_upstream.h"

#include <arpa/inet.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/dns.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include "base/log.h"
#include "security/app_tls.h"
#include "security/mtls.h"

#define H2U_SCOPE "grpc-proxy"
#define H2U_STR2(x) #x
#define H2U_STR(x) H2U_STR2(x)
/* Bytes queued for the socket before nghttp2 is asked for more. */
#define H2U_OUT_HIGH (256 * 1024)
/* All the answer's headers (or trailers) of one stream, as HTTP/2's header list size counts them. */
#define H2U_MAX_HEADER_LIST (64 * 1024)
/* A connection that carried no stream this long is closed. */
#define H2U_IDLE_S 60
/* Connecting (and resolving the name) may take this long. */
#define H2U_CONNECT_TIMEOUT_S 10
/* A dead peer is found within about a minute: keepalive probes, and a bound on unacknowledged data. */
#define H2U_KEEPALIVE_IDLE_S 30
#define H2U_KEEPALIVE_INTERVAL_S 10
#define H2U_USER_TIMEOUT_MS 60000

struct h2u_conn;

struct h2_stream {
	struct h2u_conn *conn;
	int32_t id;
	const struct h2_stream_ops *ops; /* NULL once cancelled: nothing more is told */
	void *arg;
	bool got_headers;
	nghttp2_nv *nv; /* the HEADERS block being read: names and values are owned */
	size_t n_nv, list_size;
	LIST_ENTRY(h2_stream) link;
};

struct h2u_conn {
	/* host:port; "tls:" before it towards a TLS app; with mTLS, the app the peer's certificate must name after it */
	char *key;
	struct app_tls *app_tls; /* TLS towards the app (grpcs); NULL otherwise */
	struct bufferevent *bev;
	bool mtls; /* to another sidecar, over mTLS */
	nghttp2_session *ng;
	struct event *kick; /* sends what nghttp2 has queued, from a clean stack */
	struct event *idle;
	bool connected, draining, in_recv, dead;
	bool settled; /* the server's SETTINGS came: its stream limit is known */
	unsigned open;
	LIST_HEAD(, h2_stream) streams;
	LIST_ENTRY(h2u_conn) link;
};

struct h2_upstream {
	struct event_base *base;
	struct evdns_base *dns; /* made on the first name that is not an IP */
	LIST_HEAD(, h2u_conn) conns;
};

static void h2u_conn_fail(struct h2u_conn *c, uint32_t code, const char *why);

static void h2u_kick(struct h2u_conn *c)
{
	if (!c->dead)
		event_active(c->kick, EV_TIMEOUT, 0);
}

static void h2u_nv_free(struct h2_stream *s)
{
	for (size_t i = 0; i < s->n_nv; i++) {
		free(s->nv[i].name);
		free(s->nv[i].value);
	}
	free(s->nv);
	s->nv = NULL;
	s->n_nv = s->list_size = 0;
}

static void h2u_stream_free(struct h2_stream *s)
{
	LIST_REMOVE(s, link);
	s->conn->open--;
	h2u_nv_free(s);
	free(s);
}

/* The connection's idle clock starts when its last stream ends. */
static void h2u_maybe_idle(struct h2u_conn *c)
{
	struct timeval tv = { H2U_IDLE_S, 0 };

	if (c->open == 0 && !c->dead)
		evtimer_add(c->idle, &tv);
}

/* ---- nghttp2's callbacks ---- */

static ssize_t h2u_send_cb(nghttp2_session *ng, const uint8_t *data, size_t len, int flags, void *arg)
{
	struct h2u_conn *c = arg;
	struct evbuffer *out = bufferevent_get_output(c->bev);

	(void)ng;
	(void)flags;
	if (evbuffer_get_length(out) >= H2U_OUT_HIGH)
		return NGHTTP2_ERR_WOULDBLOCK;
	return evbuffer_add(out, data, len) == 0 ? (ssize_t)len : NGHTTP2_ERR_CALLBACK_FAILURE;
}

static int h2u_begin_headers_cb(nghttp2_session *ng, const nghttp2_frame *frame, void *arg)
{
	struct h2_stream *s = nghttp2_session_get_stream_user_data(ng, frame->hd.stream_id);

	(void)arg;
	if (s != NULL)
		h2u_nv_free(s);
	return 0;
}

static int h2u_header_cb(nghttp2_session *ng, const nghttp2_frame *frame, const uint8_t *name, size_t namelen,
			 const uint8_t *value, size_t valuelen, uint8_t flags, void *arg)
{
	struct h2_stream *s = nghttp2_session_get_stream_user_data(ng, frame->hd.stream_id);
	nghttp2_nv *nv;

	(void)flags;
	(void)arg;
	if (s == NULL || s->ops == NULL)
		return 0;
	/* A server's headers are bounded as a client's are: HPACK lets a small frame expand. */
	s->list_size += namelen + valuelen + 32;
	if (s->list_size > H2U_MAX_HEADER_LIST)
		return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
	nv = realloc(s->nv, (s->n_nv + 1) * sizeof(*nv));
	if (nv == NULL)
		return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
	s->nv = nv;
	nv[s->n_nv] = (nghttp2_nv){ malloc(namelen + 1), malloc(valuelen + 1), namelen, valuelen,
				    NGHTTP2_NV_FLAG_NONE };
	if (nv[s->n_nv].name == NULL || nv[s->n_nv].value == NULL) {
		free(nv[s->n_nv].name);
		free(nv[s->n_nv].value);
		return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
	}
	memcpy(nv[s->n_nv].name, name, namelen);
	nv[s->n_nv].name[namelen] = '\0';
	memcpy(nv[s->n_nv].value, value, valuelen);
	nv[s->n_nv].value[valuelen] = '\0';
	s->n_nv++;
	return 0;
}

static int h2u_frame_cb(nghttp2_session *ng, const nghttp2_frame *frame, void *arg)
{
	struct h2u_conn *c = arg;
	struct h2_stream *s;
	bool end = (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) != 0;

	/* A GOAWAY: the streams it let through finish here, new ones go to another connection. */
	if (frame->hd.type == NGHTTP2_GOAWAY)
		c->draining = true;
	if (frame->hd.type == NGHTTP2_SETTINGS && (frame->hd.flags & NGHTTP2_FLAG_ACK) == 0)
		c->settled = true;
	if (frame->hd.type != NGHTTP2_HEADERS && frame->hd.type != NGHTTP2_DATA)
		return 0;
	s = nghttp2_session_get_stream_user_data(ng, frame->hd.stream_id);
	if (s == NULL || s->ops == NULL)
		return 0;
	if (frame->hd.type == NGHTTP2_HEADERS) {
		/* An informational answer (1xx) comes before the real one and is not passed on. */
		if (!s->got_headers && s->n_nv > 0 && strcmp((char *)s->nv[0].name, ":status") == 0 &&
		    s->nv[0].value[0] == '1') {
			h2u_nv_free(s);
			return 0;
		}
		if (!s->got_headers) {
			s->got_headers = true;
			s->ops->headers(s->arg, s->nv, s->n_nv, end);
		} else {
			s->ops->trailers(s->arg, s->nv, s->n_nv);
		}
		h2u_nv_free(s);
	} else if (end) {
		/* Ended by DATA: an answer without trailers (not gRPC, but passed on as it is). */
		s->ops->trailers(s->arg, NULL, 0);
	}
	return 0;
}

static int h2u_data_cb(nghttp2_session *ng, uint8_t flags, int32_t stream_id, const uint8_t *data, size_t len,
		       void *arg)
{
	struct h2_stream *s = nghttp2_session_get_stream_user_data(ng, stream_id);

	(void)flags;
	(void)arg;
	/* The connection's window always comes back; a stream's only once its bytes were passed on. */
	nghttp2_session_consume_connection(ng, len);
	if (s != NULL && s->ops != NULL)
		s->ops->data(s->arg, data, len);
	return 0;
}

static int h2u_close_cb(nghttp2_session *ng, int32_t stream_id, uint32_t error_code, void *arg)
{
	struct h2u_conn *c = arg;
	struct h2_stream *s = nghttp2_session_get_stream_user_data(ng, stream_id);

	if (s == NULL)
		return 0;
	nghttp2_session_set_stream_user_data(ng, stream_id, NULL);
	if (s->ops != NULL)
		s->ops->closed(s->arg, error_code, NULL);
	h2u_stream_free(s);
	h2u_maybe_idle(c);
	return 0;
}

static ssize_t h2u_read_body(nghttp2_session *ng, int32_t stream_id, uint8_t *buf, size_t length,
			     uint32_t *data_flags, nghttp2_data_source *source, void *arg)
{
	struct h2_stream *s = source->ptr;
	bool eof = false;
	ssize_t n;

	(void)ng;
	(void)stream_id;
	(void)arg;
	if (s->ops == NULL)
		return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE; /* cancelled: its RST_STREAM follows */
	n = s->ops->read_body(s->arg, buf, length, &eof);
	if (n < 0)
		return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
	if (eof)
		*data_flags |= NGHTTP2_DATA_FLAG_EOF;
	else if (n == 0)
		return NGHTTP2_ERR_DEFERRED;
	return n;
}

/* ---- connections ---- */

static void h2u_conn_free(struct h2u_conn *c)
{
	struct h2_stream *s;

	while ((s = LIST_FIRST(&c->streams)) != NULL)
		h2u_stream_free(s);
	if (c->ng != NULL)
		nghttp2_session_del(c->ng);
	if (c->bev != NULL)
		bufferevent_free(c->bev);
	if (c->kick != NULL)
		event_free(c->kick);
	if (c->idle != NULL)
		event_free(c->idle);
	LIST_REMOVE(c, link);
	free(c->key);
	free(c);
}

/*
 * The connection is gone (or never came): every stream still on it is told, with code and why,
 * and the connection is freed. nghttp2 reports nothing of the streams it drops with its session.
 */
static void h2u_conn_fail(struct h2u_conn *c, uint32_t code, const char *why)
{
	struct h2_stream *s;

	c->dead = true;
	while ((s = LIST_FIRST(&c->streams)) != NULL) {
		const struct h2_stream_ops *ops = s->ops;
		void *sarg = s->arg;

		h2u_stream_free(s);
		if (ops != NULL)
			ops->closed(sarg, code, why);
	}
	h2u_conn_free(c);
}

/* Sends what nghttp2 has queued; a connection that neither side needs any more is closed. */
static void h2u_flush(struct h2u_conn *c)
{
	int rv;

	if (c->in_recv || c->dead)
		return;
	rv = nghttp2_session_send(c->ng);
	if (rv != 0) {
		char why[160];

		snprintf(why, sizeof(why), "the HTTP/2 connection to %s failed: %s", c->key, nghttp2_strerror(rv));
		h2u_conn_fail(c, NGHTTP2_INTERNAL_ERROR, why);
		return;
	}
	if (!nghttp2_session_want_read(c->ng) && !nghttp2_session_want_write(c->ng) &&
	    evbuffer_get_length(bufferevent_get_output(c->bev)) == 0)
		h2u_conn_fail(c, NGHTTP2_REFUSED_STREAM, "the server closed the connection");
}

static void h2u_kick_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	h2u_flush(arg);
}

static void h2u_idle_cb(evutil_socket_t fd, short what, void *arg)
{
	struct h2u_conn *c = arg;

	(void)fd;
	(void)what;
	if (c->open > 0)
		return;
	log_debug(H2U_SCOPE, "closing the idle connection to %s", c->key);
	h2u_conn_fail(c, NGHTTP2_CANCEL, NULL);
}

static void h2u_read_cb(struct bufferevent *bev, void *arg)
{
	struct h2u_conn *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	size_t n = evbuffer_get_length(in);
	ssize_t rv;

	c->in_recv = true;
	rv = nghttp2_session_mem_recv(c->ng, evbuffer_pullup(in, -1), n);
	c->in_recv = false;
	evbuffer_drain(in, n);
	if (rv < 0) {
		char why[160];

		snprintf(why, sizeof(why), "the server at %s broke HTTP/2: %s", c->key, nghttp2_strerror((int)rv));
		nghttp2_session_terminate_session(c->ng, NGHTTP2_PROTOCOL_ERROR);
		nghttp2_session_send(c->ng);
		h2u_conn_fail(c, NGHTTP2_INTERNAL_ERROR, why);
		return;
	}
	h2u_flush(c);
}

static void h2u_write_cb(struct bufferevent *bev, void *arg)
{
	(void)bev;
	h2u_flush(arg);
}

static void h2u_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct h2u_conn *c = arg;
	char why[700];
	int one = 1;

	if (what & BEV_EVENT_CONNECTED) {
		evutil_socket_t fd = bufferevent_getfd(bev);
		int idle = H2U_KEEPALIVE_IDLE_S, interval = H2U_KEEPALIVE_INTERVAL_S, count = 3;
		unsigned user_timeout = H2U_USER_TIMEOUT_MS;
		char alpn[200];

		if (c->app_tls != NULL && !app_tls_alpn_ok(c->app_tls, bev, alpn, sizeof(alpn))) {
			snprintf(why, sizeof(why), "cannot connect to %s: %s", c->key, alpn);
			h2u_conn_fail(c, NGHTTP2_REFUSED_STREAM, why);
			return;
		}
		c->connected = true;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		/*
		 * A peer host that vanishes without a FIN (a partition, a dropped NAT entry) must not
		 * hold streams for the kernel's retransmission timeout of some 15 minutes: keepalive
		 * finds an idle connection dead, TCP_USER_TIMEOUT one whose bytes go unacknowledged.
		 */
		setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
		setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
		setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &interval, sizeof(interval));
		setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &count, sizeof(count));
		setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &user_timeout, sizeof(user_timeout));
		/* The connect deadline is over; an open connection waits as long as its streams do. */
		bufferevent_set_timeouts(bev, NULL, NULL);
		h2u_flush(c);
		return;
	}
	if (!c->connected && c->mtls) {
		char tls_why[400], full[900];

		if (mtls_failure(bev, tls_why, sizeof(tls_why))) {
			snprintf(full, sizeof(full), "cannot connect to %s: %s", c->key, tls_why);
			h2u_conn_fail(c, NGHTTP2_REFUSED_STREAM, full);
			return;
		}
	}
	if (!c->connected) {
		int dns = bufferevent_socket_get_dns_error(bev);
		char tls[300];

		if (c->app_tls != NULL && app_tls_failure(bev, -1, tls, sizeof(tls))) {
			snprintf(why, sizeof(why), "cannot connect to %s: %s", c->key, tls);
			h2u_conn_fail(c, NGHTTP2_REFUSED_STREAM, why);
			return;
		}

		snprintf(why, sizeof(why), "cannot connect to %s: %s", c->key,
			 (what & BEV_EVENT_TIMEOUT) != 0 ? "no answer within 10 s"
			 : dns != 0			  ? evutil_gai_strerror(dns)
							  : evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
		/* Never reached: the server did nothing with these streams. */
		h2u_conn_fail(c, NGHTTP2_REFUSED_STREAM, why);
		return;
	}
	snprintf(why, sizeof(why), "the connection to %s %s", c->key,
		 (what & BEV_EVENT_EOF) != 0 ? "was closed by the server" : "broke");
	h2u_conn_fail(c, NGHTTP2_INTERNAL_ERROR, why);
}

static bool h2u_is_ip(const char *host)
{
	unsigned char buf[sizeof(struct in6_addr)];

	return inet_pton(AF_INET, host, buf) == 1 || inet_pton(AF_INET6, host, buf) == 1;
}

static int h2u_session(struct h2u_conn *c)
{
	nghttp2_session_callbacks *cbs;
	nghttp2_option *opt;
	nghttp2_settings_entry settings[] = {
		{ NGHTTP2_SETTINGS_ENABLE_PUSH, 0 },
		{ NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, H2_UPSTREAM_STREAM_WINDOW },
		{ NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, H2U_MAX_HEADER_LIST },
	};
	int rc;

	if (nghttp2_session_callbacks_new(&cbs) != 0)
		return -1;
	nghttp2_session_callbacks_set_send_callback(cbs, h2u_send_cb);
	nghttp2_session_callbacks_set_on_begin_headers_callback(cbs, h2u_begin_headers_cb);
	nghttp2_session_callbacks_set_on_header_callback(cbs, h2u_header_cb);
	nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, h2u_frame_cb);
	nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, h2u_data_cb);
	nghttp2_session_callbacks_set_on_stream_close_callback(cbs, h2u_close_cb);
	if (nghttp2_option_new(&opt) != 0) {
		nghttp2_session_callbacks_del(cbs);
		return -1;
	}
	nghttp2_option_set_no_auto_window_update(opt, 1);
	nghttp2_option_set_max_outbound_ack(opt, 1000);
	nghttp2_option_set_max_settings(opt, 32);
	nghttp2_option_set_max_continuations(opt, 8);
	rc = nghttp2_session_client_new2(&c->ng, cbs, c, opt);
	nghttp2_option_del(opt);
	nghttp2_session_callbacks_del(cbs);
	if (rc != 0)
		return -1;
	if (nghttp2_submit_settings(c->ng, NGHTTP2_FLAG_NONE, settings, 3) != 0)
		return -1;
	/* The connection's window is given back at once (h2u_data_cb): a large one keeps streams apart. */
	return nghttp2_session_set_local_window_size(c->ng, NGHTTP2_FLAG_NONE, 0, 16 << 20) == 0 ? 0 : -1;
}

static struct h2u_conn *h2u_conn_new(struct h2_upstream *up, const char *key, const char *host, int port,
				     struct app_tls *app_tls, const char *tls_id, const char *tls_ns)
{
	char hostport[300];

	struct h2u_conn *c = calloc(1, sizeof(*c));
	struct timeval connect_timeout = { H2U_CONNECT_TIMEOUT_S, 0 };

	if (c == NULL)
		return NULL;
	LIST_INIT(&c->streams);
	LIST_INSERT_HEAD(&up->conns, c, link);
	c->key = strdup(key);
	c->kick = event_new(up->base, -1, 0, h2u_kick_cb, c);
	c->idle = evtimer_new(up->base, h2u_idle_cb, c);
	/* Deferred callbacks: a connect that fails at once must not free c inside h2u_conn_new. */
	snprintf(hostport, sizeof(hostport), strchr(host, ':') != NULL ? "[%s]:%d" : "%s:%d", host, port);
	c->app_tls = app_tls;
	c->mtls = tls_id != NULL;
	if (c->mtls)
		c->bev = mtls_client_bufferevent(up->base, tls_id, tls_ns, hostport, BEV_OPT_DEFER_CALLBACKS);
	else if (app_tls != NULL)
		c->bev = app_tls_bufferevent(app_tls, up->base, BEV_OPT_DEFER_CALLBACKS);
	else
		c->bev = bufferevent_socket_new(up->base, -1, BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
	if (!h2u_is_ip(host) && up->dns == NULL)
		up->dns = evdns_base_new(up->base, EVDNS_BASE_INITIALIZE_NAMESERVERS);
	if (c->key == NULL || c->kick == NULL || c->idle == NULL || c->bev == NULL ||
	    (!h2u_is_ip(host) && up->dns == NULL) || h2u_session(c) != 0) {
		h2u_conn_free(c);
		return NULL;
	}
	bufferevent_setcb(c->bev, h2u_read_cb, h2u_write_cb, h2u_event_cb, c);
	bufferevent_set_timeouts(c->bev, NULL, &connect_timeout);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	/* A failure here is reported through h2u_event_cb, later (deferred callbacks). */
	bufferevent_socket_connect_hostname(c->bev, h2u_is_ip(host) ? NULL : up->dns, AF_UNSPEC, host, port);
	return c;
}

/*
 * A connection to key with room for one more stream, or a new one while the pool allows; NULL
 * when every connection is full and the pool is (or out of memory). Streams are never queued in
 * nghttp2 for a free slot: a queued stream that its caller cancels stays there, with its headers,
 * until a slot frees, so callers cancelling queued streams could grow memory without bound.
 */
static struct h2u_conn *h2u_pick(struct h2_upstream *up, const char *key, const char *host, int port,
				 struct app_tls *app_tls, const char *tls_id, const char *tls_ns)
{
	struct h2u_conn *c;
	unsigned count = 0;

	LIST_FOREACH(c, &up->conns, link) {
		uint32_t limit;

		if (c->dead || strcmp(c->key, key) != 0)
			continue;
		/* Draining connections count too: repeated GOAWAYs cannot grow the pool. */
		count++;
		if (c->draining)
			continue;
		/* Before the server's SETTINGS, nghttp2 knows no limit: assume gRPC's usual 100. */
		limit = nghttp2_session_get_remote_settings(c->ng, NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS);
		if (!c->settled && limit > 100)
			limit = 100;
		if (c->open < limit)
			return c;
	}
	if (count < H2_UPSTREAM_MAX_CONNS)
		return h2u_conn_new(up, key, host, port, app_tls, tls_id, tls_ns);
	return NULL;
}

struct h2_stream *h2_upstream_open(struct h2_upstream *up, const char *host, int port, const nghttp2_nv *nv,
				   size_t n, const struct h2_stream_ops *ops, void *arg, const char **why)
{
	return h2_upstream_open_peer(up, host, port, NULL, NULL, nv, n, ops, arg, why);
}

static struct h2_stream *h2u_open(struct h2_upstream *up, const char *host, int port, struct app_tls *app_tls,
				  const char *tls_id, const char *peer_ns, const nghttp2_nv *nv, size_t n,
				  const struct h2_stream_ops *ops, void *arg, const char **why);

struct h2_stream *h2_upstream_open_tls(struct h2_upstream *up, struct app_tls *tls, const char *host, int port,
				       const nghttp2_nv *nv, size_t n, const struct h2_stream_ops *ops, void *arg,
				       const char **why)
{
	return h2u_open(up, host, port, tls, NULL, NULL, nv, n, ops, arg, why);
}

struct h2_stream *h2_upstream_open_peer(struct h2_upstream *up, const char *host, int port,
					const char *peer_id, const char *peer_ns, const nghttp2_nv *nv,
					size_t n, const struct h2_stream_ops *ops, void *arg,
					const char **why)
{
	return h2u_open(up, host, port, NULL, peer_id != NULL && mtls_enabled() ? peer_id : NULL, peer_ns, nv, n, ops,
			arg, why);
}

/* Opens a stream on a pooled connection: plain, TLS towards the app (app_tls), or mTLS to the sidecar whose
 * certificate names app tls_id (and peer_ns). */
static struct h2_stream *h2u_open(struct h2_upstream *up, const char *host, int port, struct app_tls *app_tls,
				  const char *tls_id, const char *peer_ns, const nghttp2_nv *nv, size_t n,
				  const struct h2_stream_ops *ops, void *arg, const char **why)
{
	char key[800];
	struct h2u_conn *c;
	struct h2_stream *s;
	nghttp2_data_provider body;
	int32_t id;

	snprintf(key, sizeof(key), strchr(host, ':') != NULL ? "%s[%s]:%d" : "%s%s:%d",
		 app_tls != NULL ? "tls:" : "", host, port);
	if (tls_id != NULL)
		snprintf(key + strlen(key), sizeof(key) - strlen(key), " (mTLS, app %s%s%s)", tls_id,
			 peer_ns != NULL && *peer_ns != '\0' ? "." : "", peer_ns != NULL ? peer_ns : "");
	*why = "out of memory";
	for (int attempt = 0; attempt < 2; attempt++) {
		c = h2u_pick(up, key, host, port, app_tls, tls_id, peer_ns);
		if (c == NULL) {
			*why = "every connection to it is at the server's stream limit (" H2U_STR(H2_UPSTREAM_MAX_CONNS) " connections)";
			return NULL;
		}
		s = calloc(1, sizeof(*s));
		if (s == NULL) {
			h2u_maybe_idle(c);
			return NULL;
		}
		s->conn = c;
		s->ops = ops;
		s->arg = arg;
		body = (nghttp2_data_provider){ .source.ptr = s, .read_callback = h2u_read_body };
		id = nghttp2_submit_request(c->ng, NULL, nv, n, &body, s);
		if (id >= 0) {
			s->id = id;
			LIST_INSERT_HEAD(&c->streams, s, link);
			c->open++;
			evtimer_del(c->idle);
			h2u_kick(c);
			return s;
		}
		free(s);
		h2u_maybe_idle(c);
		/* Stream ids run out after 2^30 streams: the next connection takes over. */
		if (id != NGHTTP2_ERR_STREAM_ID_NOT_AVAILABLE)
			return NULL;
		c->draining = true;
	}
	return NULL;
}

void h2_stream_resume(struct h2_stream *s)
{
	if (s->ops == NULL)
		return;
	nghttp2_session_resume_data(s->conn->ng, s->id);
	h2u_kick(s->conn);
}

void h2_stream_consume(struct h2_stream *s, size_t n)
{
	if (s->ops == NULL || n == 0)
		return;
	nghttp2_session_consume_stream(s->conn->ng, s->id, n);
	h2u_kick(s->conn);
}

void h2_stream_cancel(struct h2_stream *s)
{
	if (s->ops == NULL)
		return;
	s->ops = NULL;
	nghttp2_submit_rst_stream(s->conn->ng, NGHTTP2_FLAG_NONE, s->id, NGHTTP2_CANCEL);
	h2u_kick(s->conn);
}

struct h2_upstream *h2_upstream_new(struct event_base *base)
{
	struct h2_upstream *up = calloc(1, sizeof(*up));

	if (up == NULL)
		return NULL;
	up->base = base;
	LIST_INIT(&up->conns);
	return up;
}

void h2_upstream_free(struct h2_upstream *up)
{
	struct h2u_conn *c;

	if (up == NULL)
		return;
	while ((c = LIST_FIRST(&up->conns)) != NULL)
		h2u_conn_free(c);
	if (up->dns != NULL)
		evdns_base_free(up->dns, 0);
	free(up);
}
