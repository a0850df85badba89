/* SPDX-License-Identifier: Apache-2.0 */
/*
 * gRPC proxying: one client stream (the downstream, on this sidecar's gRPC server) spliced to one
 * upstream stream (channels/h2_upstream.c). Bytes are passed on as they come, never parsed; each
 * side's stream window is given back only once its bytes went out on the other side, so a proxied
 * stream holds at most one window each way however fast one end sends and however slowly the other
 * reads. Everything that touches the other side's session runs from the proxy's pump event, never
 * inside a session's own callbacks.
 */
#include "config.h"

#include "api/grpc/grpc_proxy.h"

#include <event2/buffer.h>
#include <event2/event.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/grpc/grpc_call_internal.h"
#include "api/grpc/grpc_conn.h"
#include "api/grpc/grpc_server.h"
#include "api/grpc/grpc_status.h"
#include "api/http/http_guard.h"
#include "base/log.h"
#include "blocks/errors.h"
#include "blocks/invoke/invoke_request.h"
#include "blocks/invoke/nameres.h"
#include "channels/app_health.h"
#include "channels/h2_upstream.h"
#include "observe/api_log.h"
#include "observe/dapr_metrics.h"
#include "observe/metrics.h"
#include "options.h"
#include "runtime.h"
#include "security/access_control.h"
#include "security/mtls.h"

#define PROXY_SCOPE "grpc-proxy"
/* The metadata naming the target app, as daprd reads it. */
#define PROXY_APP_ID "dapr-app-id"

struct grpc_proxy {
	struct server *srv;
	struct grpc_server *gs;
	struct grpc_call *call; /* the client's stream; NULL once it is gone */
	struct h2_stream *up;	/* NULL until opened, and once it closed */
	char id[256], ns[256];	/* the target app */
	char *caller_id;	/* internal port: the calling sidecar's app id */
	char *caller_ns;
	struct evbuffer *req;  /* request bytes not yet sent upstream */
	bool req_ended;	       /* the client's END_STREAM came */
	size_t down_unconsumed; /* request bytes sent upstream: window the client gets back */
	struct evbuffer *resp; /* answer bytes not yet sent to the client */
	size_t up_unconsumed;  /* answer bytes sent to the client: window the server gets back */
	nghttp2_nv *trailers;  /* the answer's trailers, owned, once they came */
	size_t n_trailers;
	bool up_ended;	 /* the answer is complete upstream (trailers or END_STREAM) */
	bool responded;	 /* the answer's HEADERS went to the client */
	bool resolving;	 /* name resolution has the proxy: freed when it answers */
	bool req_started; /* request bytes (or its end) went upstream: it cannot be sent again */
	bool retried;	  /* sent again once after the server refused it unseen */
	char host[256];	  /* where the upstream stream goes, for that one retry */
	int port;
	bool to_app;
	int status; /* the answer's grpc-status, once up_ended */
	struct event *pump;
	struct grpc_proxy *next, *prev; /* in gs->proxies */
};

static const struct h2_stream_ops grpc_proxy_up_ops;

/* ---- life ---- */

static void grpc_proxy_free_trailers(struct grpc_proxy *p)
{
	for (size_t i = 0; i < p->n_trailers; i++) {
		free(p->trailers[i].name);
		free(p->trailers[i].value);
	}
	free(p->trailers);
	p->trailers = NULL;
	p->n_trailers = 0;
}

static void grpc_proxy_free(struct grpc_proxy *p)
{
	p->gs->n_proxies--;
	p->srv->proxied_calls--;
	if (p->prev != NULL)
		p->prev->next = p->next;
	else
		p->gs->proxies = p->next;
	if (p->next != NULL)
		p->next->prev = p->prev;
	if (p->pump != NULL)
		event_free(p->pump);
	if (p->req != NULL)
		evbuffer_free(p->req);
	if (p->resp != NULL)
		evbuffer_free(p->resp);
	grpc_proxy_free_trailers(p);
	free(p->caller_id);
	free(p->caller_ns);
	free(p);
}

/* Freed once neither stream needs it (and name resolution has let it go). */
static bool grpc_proxy_maybe_free(struct grpc_proxy *p)
{
	if (p->call != NULL || p->up != NULL || p->resolving)
		return false;
	grpc_proxy_free(p);
	return true;
}

static void grpc_proxy_kick(struct grpc_proxy *p)
{
	event_active(p->pump, EV_TIMEOUT, 0);
}

/* Gives each side the window the other side's sending freed, then sends the client's side. */
static void grpc_proxy_pump(evutil_socket_t fd, short what, void *arg)
{
	struct grpc_proxy *p = arg;
	struct grpc_conn *conn;

	(void)fd;
	(void)what;
	if (p->up != NULL && p->up_unconsumed > 0)
		h2_stream_consume(p->up, p->up_unconsumed);
	p->up_unconsumed = 0;
	if (p->call == NULL || (conn = p->call->conn) == NULL)
		return;
	if (p->down_unconsumed > 0)
		grpc_conn_consume(conn, p->call->stream_id, p->down_unconsumed);
	p->down_unconsumed = 0;
	/* Last: flushing may close the connection, and the proxy with it. */
	grpc_conn_flush(conn);
}

/* Answers the client with a status of outrig's own (trailers-only), when no answer has begun. */
static void grpc_proxy_fail(struct grpc_proxy *p, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void grpc_proxy_fail(struct grpc_proxy *p, int code, const char *fmt, ...)
{
	char text[700];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (p->call == NULL || p->call->conn == NULL)
		return;
	if (p->responded) {
		/* The app's answer had begun: only a reset can tell the client it broke off. */
		grpc_conn_reset_stream(p->call->conn, p->call->stream_id, NGHTTP2_INTERNAL_ERROR);
	} else {
		p->responded = true;
		grpc_call_answer_status(p->call, code, NULL, "%s", text);
	}
	grpc_proxy_kick(p);
}

/* ---- the client's side ---- */

void grpc_proxy_request_data(struct grpc_proxy *p, const uint8_t *data, size_t len)
{
	if (evbuffer_add(p->req, data, len) != 0) {
		grpc_proxy_fail(p, GRPC_RESOURCE_EXHAUSTED, "failed to proxy request: out of memory");
		return;
	}
	if (p->up != NULL)
		h2_stream_resume(p->up);
}

void grpc_proxy_request_end(struct grpc_proxy *p)
{
	p->req_ended = true;
	if (p->up != NULL)
		h2_stream_resume(p->up);
}

/*
 * A proxied call is metered as it ends, as daprd's stream interceptors do: on the API port (the
 * app called) as a server call, and API-logged; on the internal port (another sidecar called) as
 * a client call. Both under the full method name; a call the client left before the answer ended
 * counts as CANCELLED. One outrig answered itself was recorded by grpc_call_submit (observed).
 */
static void grpc_proxy_observe(struct grpc_proxy *p, struct grpc_call *call)
{
	const char *method = call->path != NULL ? call->path : "";
	int code = p->up_ended ? p->status : GRPC_CANCELLED;
	double ms;

	if (call->observed || !(metrics_enabled() || api_log_enabled()))
		return;
	call->observed = true;
	ms = metrics_now_ms() - call->started_ms;
	if (p->gs->internal) {
		dm_grpc_client(method, code, ms);
		return;
	}
	dm_grpc_server(method, code, ms);
	api_log_grpc(method, code, ms, grpc_call_metadata(call, "user-agent"));
}

void grpc_proxy_downstream_gone(struct grpc_proxy *p)
{
	if (p->call != NULL)
		grpc_proxy_observe(p, p->call);
	p->call = NULL;
	if (p->up != NULL) {
		h2_stream_cancel(p->up);
		p->up = NULL;
	}
	grpc_proxy_maybe_free(p);
}

/* The answer's body for the client's stream, as nghttp2 asks for it (the proxy lives while that stream does). */
static ssize_t grpc_proxy_read_answer(nghttp2_session *ng, int32_t stream_id, uint8_t *buf, size_t length,
				      uint32_t *data_flags, nghttp2_data_source *source, void *arg)
{
	struct grpc_proxy *p = source->ptr;
	int n = evbuffer_remove(p->resp, buf, length);

	(void)ng;
	(void)arg;
	if (n < 0)
		return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
	if (n > 0) {
		p->up_unconsumed += (size_t)n;
		grpc_proxy_kick(p);
	}
	if (evbuffer_get_length(p->resp) > 0 || !p->up_ended)
		return n > 0 ? n : NGHTTP2_ERR_DEFERRED;
	*data_flags |= NGHTTP2_DATA_FLAG_EOF;
	if (p->n_trailers > 0) {
		*data_flags |= NGHTTP2_DATA_FLAG_NO_END_STREAM;
		if (nghttp2_submit_trailer(ng, stream_id, p->trailers, p->n_trailers) != 0)
			return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
	}
	return n;
}

/* ---- the server's side ---- */

static bool grpc_proxy_hop_by_hop(const char *name)
{
	static const char *const names[] = { "connection", "keep-alive", "proxy-connection", "transfer-encoding",
					     "upgrade", "host" };

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(name, names[i]) == 0)
			return true;
	return false;
}

/* The grpc-status among an answer's trailers (or trailers-only headers); UNKNOWN without one, as clients read it. */
static int grpc_proxy_status_of(const nghttp2_nv *nv, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (nv[i].namelen == 11 && memcmp(nv[i].name, "grpc-status", 11) == 0 && nv[i].valuelen > 0 &&
		    nv[i].valuelen <= 2) {
			int code = 0;

			for (size_t k = 0; k < nv[i].valuelen; k++) {
				if (nv[i].value[k] < '0' || nv[i].value[k] > '9')
					return GRPC_UNKNOWN;
				code = code * 10 + (nv[i].value[k] - '0');
			}
			return code <= 16 ? code : GRPC_UNKNOWN;
		}
	return GRPC_UNKNOWN;
}

static void grpc_proxy_up_headers(void *arg, const nghttp2_nv *nv, size_t n, bool end)
{
	struct grpc_proxy *p = arg;
	nghttp2_nv *out;
	size_t k = 0;
	nghttp2_data_provider body = { .source.ptr = p, .read_callback = grpc_proxy_read_answer };

	if (p->call == NULL || p->call->conn == NULL || p->responded)
		return;
	out = calloc(n + 1, sizeof(*out));
	if (out == NULL) {
		grpc_proxy_fail(p, GRPC_RESOURCE_EXHAUSTED, "failed to proxy request: out of memory");
		return;
	}
	/* :status and every field but hop-by-hop ones (HTTP/2 forbids them) and other pseudo-headers. */
	for (size_t i = 0; i < n; i++) {
		const char *name = (const char *)nv[i].name;

		if ((name[0] == ':' && strcmp(name, ":status") != 0) || grpc_proxy_hop_by_hop(name))
			continue;
		out[k++] = nv[i];
	}
	p->responded = true;
	p->call->answered = true; /* nothing of outrig's own may answer it now */
	if (end) {
		p->up_ended = true;
		p->status = grpc_proxy_status_of(nv, n);
	}
	if (grpc_conn_respond(p->call->conn, p->call->stream_id, out, k, end ? NULL : &body) != 0)
		grpc_conn_reset_stream(p->call->conn, p->call->stream_id, NGHTTP2_INTERNAL_ERROR);
	free(out);
	grpc_proxy_kick(p);
}

static void grpc_proxy_up_data(void *arg, const uint8_t *data, size_t len)
{
	struct grpc_proxy *p = arg;

	if (p->call == NULL || p->call->conn == NULL)
		return;
	if (evbuffer_add(p->resp, data, len) != 0) {
		grpc_proxy_fail(p, GRPC_RESOURCE_EXHAUSTED, "failed to proxy request: out of memory");
		return;
	}
	grpc_conn_resume(p->call->conn, p->call->stream_id);
	grpc_proxy_kick(p);
}

static void grpc_proxy_up_trailers(void *arg, const nghttp2_nv *nv, size_t n)
{
	struct grpc_proxy *p = arg;

	p->up_ended = true;
	p->status = grpc_proxy_status_of(nv, n);
	if (p->call == NULL || p->call->conn == NULL)
		return;
	p->trailers = calloc(n > 0 ? n : 1, sizeof(*p->trailers));
	if (p->trailers == NULL) {
		grpc_proxy_fail(p, GRPC_RESOURCE_EXHAUSTED, "failed to proxy request: out of memory");
		return;
	}
	for (size_t i = 0; i < n; i++) {
		const char *name = (const char *)nv[i].name;

		if (name[0] == ':' || grpc_proxy_hop_by_hop(name))
			continue;
		p->trailers[p->n_trailers].name = (uint8_t *)strdup(name);
		p->trailers[p->n_trailers].value = (uint8_t *)strdup((const char *)nv[i].value);
		p->trailers[p->n_trailers].namelen = nv[i].namelen;
		p->trailers[p->n_trailers].valuelen = nv[i].valuelen;
		p->n_trailers++;
		if (p->trailers[p->n_trailers - 1].name == NULL || p->trailers[p->n_trailers - 1].value == NULL) {
			grpc_proxy_fail(p, GRPC_RESOURCE_EXHAUSTED, "failed to proxy request: out of memory");
			return;
		}
	}
	grpc_conn_resume(p->call->conn, p->call->stream_id);
	grpc_proxy_kick(p);
}

static ssize_t grpc_proxy_up_read_body(void *arg, uint8_t *buf, size_t len, bool *eof)
{
	struct grpc_proxy *p = arg;
	int n = evbuffer_remove(p->req, buf, len);

	if (n < 0)
		return -1;
	if (n > 0) {
		p->down_unconsumed += (size_t)n;
		grpc_proxy_kick(p);
	}
	*eof = p->req_ended && evbuffer_get_length(p->req) == 0;
	if (n > 0 || *eof)
		p->req_started = true;
	return n;
}

static void grpc_proxy_open(struct grpc_proxy *p, const char *host, int port, bool to_app);

/*
 * The answer broke off after it began: what came of it still goes to the client, then trailers of
 * outrig's own (UNAVAILABLE, which clients may retry), as daprd's proxy ends such a call; a reset
 * would throw away messages already received.
 */
static void grpc_proxy_end_broken(struct grpc_proxy *p, const char *why)
{
	char message[400];

	snprintf(message, sizeof(message), "failed to proxy request to app %s: the answer broke off: %s", p->id, why);
	grpc_proxy_free_trailers(p);
	p->trailers = calloc(2, sizeof(*p->trailers));
	if (p->trailers == NULL) {
		grpc_conn_reset_stream(p->call->conn, p->call->stream_id, NGHTTP2_INTERNAL_ERROR);
		return;
	}
	p->trailers[0] = (nghttp2_nv){ (uint8_t *)strdup("grpc-status"), (uint8_t *)strdup("14"), 11, 2,
				       NGHTTP2_NV_FLAG_NONE };
	p->trailers[1] = (nghttp2_nv){ (uint8_t *)strdup("grpc-message"), (uint8_t *)grpc_percent_encode(message),
				       12, 0, NGHTTP2_NV_FLAG_NONE };
	p->n_trailers = 2;
	if (p->trailers[0].name == NULL || p->trailers[0].value == NULL || p->trailers[1].name == NULL ||
	    p->trailers[1].value == NULL) {
		grpc_conn_reset_stream(p->call->conn, p->call->stream_id, NGHTTP2_INTERNAL_ERROR);
		return;
	}
	p->trailers[1].valuelen = strlen((char *)p->trailers[1].value);
	p->up_ended = true;
	p->status = GRPC_UNAVAILABLE;
	grpc_conn_resume(p->call->conn, p->call->stream_id);
}

static void grpc_proxy_up_closed(void *arg, uint32_t error_code, const char *why)
{
	struct grpc_proxy *p = arg;
	char code[80];

	p->up = NULL;
	if (p->call != NULL && p->call->conn != NULL) {
		snprintf(code, sizeof(code), "the server reset the stream (HTTP/2 error %s)",
			 nghttp2_http2_strerror(error_code));
		/*
		 * Refused unseen (REFUSED_STREAM, or past a GOAWAY's last stream) before any request byte
		 * went: sent again once, on another connection, as gRPC's transparent retry does.
		 */
		if (error_code == NGHTTP2_REFUSED_STREAM && why == NULL && !p->responded && !p->req_started &&
		    !p->retried) {
			p->retried = true;
			grpc_proxy_open(p, p->host, p->port, p->to_app);
			if (p->up != NULL)
				h2_stream_resume(p->up);
			grpc_proxy_kick(p);
			return;
		}
		if (!p->responded)
			grpc_proxy_fail(p, GRPC_UNAVAILABLE, "failed to proxy request to app %s: %s", p->id,
					why != NULL ? why : code);
		else if (!p->up_ended)
			grpc_proxy_end_broken(p, why != NULL ? why : code);
		grpc_proxy_kick(p);
	}
	grpc_proxy_maybe_free(p);
}

static const struct h2_stream_ops grpc_proxy_up_ops = {
	.headers = grpc_proxy_up_headers,
	.data = grpc_proxy_up_data,
	.trailers = grpc_proxy_up_trailers,
	.read_body = grpc_proxy_up_read_body,
	.closed = grpc_proxy_up_closed,
};

/* ---- where the call goes ---- */

/* Metadata the client may not pass on: the sidecar's own token, identities only sidecars set, hop-by-hop fields. */
static bool grpc_proxy_md_stays(const char *name)
{
	return strcmp(name, "dapr-api-token") == 0 || strncmp(name, "outrig-", 7) == 0 ||
	       strcmp(name, "dapr-caller-app-id") == 0 || strcmp(name, "dapr-caller-namespace") == 0 ||
	       strcmp(name, "dapr-callee-app-id") == 0 || grpc_proxy_hop_by_hop(name) || strcmp(name, "te") == 0 ||
	       strcmp(name, "expect") == 0;
}

#define PROXY_NV(n, v)                                                                                       \
	(nv[k++] = (nghttp2_nv){ (uint8_t *)(n), (uint8_t *)(v), strlen(n), strlen(v), NGHTTP2_NV_FLAG_NONE })

/*
 * Opens the upstream stream to host:port: the client's headers and metadata (less what stays),
 * plus, to a peer sidecar, the caller and callee ids of the internal protocol, or, to this
 * sidecar's app, Dapr's dapr-caller-app-id, dapr-callee-app-id and the app's token.
 */
static void grpc_proxy_open(struct grpc_proxy *p, const char *host, int port, bool to_app)
{
	struct grpc_call *call = p->call;
	const char *own_ns = invoke_own_namespace();
	const char *token = to_app ? getenv("APP_API_TOKEN") : NULL;
	char authority[300];
	nghttp2_nv *nv = calloc(call->n_md + 16, sizeof(*nv));
	size_t k = 0;
	const char *why = "out of memory";

	if (nv == NULL) {
		grpc_proxy_fail(p, GRPC_RESOURCE_EXHAUSTED, "failed to proxy request: out of memory");
		return;
	}
	snprintf(authority, sizeof(authority), strchr(host, ':') != NULL ? "[%s]:%d" : "%s:%d", host, port);
	if (host != p->host)
		snprintf(p->host, sizeof(p->host), "%s", host);
	p->port = port;
	p->to_app = to_app;
	PROXY_NV(":method", "POST");
	PROXY_NV(":scheme", to_app && p->srv->app_tls != NULL ? "https" : "http");
	PROXY_NV(":path", call->path);
	PROXY_NV(":authority", authority);
	PROXY_NV("content-type", call->content_type);
	PROXY_NV("te", "trailers");
	for (size_t i = 0; i < call->n_md; i++)
		if (!grpc_proxy_md_stays(call->md[i].name))
			PROXY_NV(call->md[i].name, call->md[i].value);
	if (to_app) {
		PROXY_NV("dapr-caller-app-id", p->caller_id != NULL ? p->caller_id : p->srv->opts->app_id);
		if (p->caller_ns != NULL)
			PROXY_NV("dapr-caller-namespace", p->caller_ns);
		PROXY_NV("dapr-callee-app-id", p->srv->opts->app_id);
		if (token != NULL && *token != '\0')
			PROXY_NV("dapr-api-token", token);
	} else {
		PROXY_NV("outrig-callee-app-id", p->id);
		if (p->ns[0] != '\0')
			PROXY_NV("outrig-callee-namespace", p->ns);
		PROXY_NV("outrig-caller-app-id", p->srv->opts->app_id);
		if (*own_ns != '\0')
			PROXY_NV("outrig-caller-namespace", own_ns);
	}
	if (p->srv->h2_upstream == NULL)
		p->srv->h2_upstream = h2_upstream_new(p->srv->base);
	if (p->srv->h2_upstream != NULL)
		p->up = to_app ? h2_upstream_open_tls(p->srv->h2_upstream, p->srv->app_tls, p->host, port, nv, k,
						      &grpc_proxy_up_ops, p, &why)
			       : h2_upstream_open_peer(p->srv->h2_upstream, p->host, port, p->id, p->ns, nv,
						       k, &grpc_proxy_up_ops, p, &why);
	free(nv);
	if (p->up == NULL)
		grpc_proxy_fail(p, GRPC_RESOURCE_EXHAUSTED, "failed to proxy request to app %s at %s: %s", p->id,
				authority, why);
}

#undef PROXY_NV

static void grpc_proxy_resolved(void *arg, int rc, const struct outrig_nr_address *addr, const char *error)
{
	struct grpc_proxy *p = arg;

	p->resolving = false;
	if (grpc_proxy_maybe_free(p) || p->call->conn == NULL)
		return;
	if (rc != 0 || addr == NULL) {
		grpc_proxy_fail(p, GRPC_UNAVAILABLE, "failed to proxy request: %s",
				error != NULL ? error : "name resolution failed");
		return;
	}
	grpc_proxy_open(p, addr->host, addr->port, false);
	/* Bytes that came while the address was looked up go now. */
	if (p->up != NULL)
		h2_stream_resume(p->up);
	grpc_proxy_kick(p);
}

/* This sidecar's app, when it can take a proxied call; otherwise answers why not and returns false. */
static bool grpc_proxy_app_ready(struct grpc_call *call, const char *id)
{
	const struct options *o = call->gs->srv->opts;

	if (o->app_port <= 0) {
		grpc_call_answer_status(
			call, GRPC_UNAVAILABLE, NULL,
			"failed to proxy request: app %s has no app port; its outrigd needs --app-port and --app-protocol grpc",
			id);
		return false;
	}
	if (o->app_protocol == NULL || strncmp(o->app_protocol, "grpc", 4) != 0) {
		grpc_call_answer_status(
			call, GRPC_FAILED_PRECONDITION, NULL,
			"failed to proxy request: app %s speaks %s (--app-protocol); gRPC proxying needs --app-protocol grpc or grpcs",
			id, o->app_protocol != NULL ? o->app_protocol : "http");
		return false;
	}
	if (!app_health_ok(call->gs->srv)) {
		grpc_call_answer_status(call, GRPC_UNAVAILABLE, NULL,
					"failed to proxy request: app %s is not in a healthy state", id);
		return false;
	}
	return true;
}

/*
 * spec.accessControl on a proxied call, as daprd: the operation is the gRPC method's path, which
 * the app gets unchanged (one that is not clean is ambiguous), with no verb.
 */
static bool grpc_proxy_acl_ok(struct grpc_call *call, const struct peer_identity *who)
{
	const struct access_control *acl = &call->gs->srv->config.policy.acl;
	char why[1024];

	if (!acl->set || access_control_allows(acl, who, call->path, NULL, false, why, sizeof(why)))
		return true;
	log_debug(PROXY_SCOPE, "%s", why);
	grpc_call_answer_status(call, GRPC_PERMISSION_DENIED, NULL, "%s", why);
	return false;
}

/*
 * With mTLS, the calling sidecar is who its certificate says (internal_protocol.md): who becomes
 * that identity (its strings in idbuf), once the outrig-caller-* claims agree with it.
 */
static bool grpc_proxy_check_certificate(struct grpc_call *call, const char *caller, const char *caller_ns,
					 struct peer_identity *who, char *idbuf, size_t idlen)
{
	char why[600];

	if (!tls_peer_identity(http_guard_transport(grpc_conn_bufferevent(call->conn)), who, idbuf, idlen)) {
		grpc_call_answer_status(
			call, GRPC_UNAUTHENTICATED, NULL,
			"failed to proxy request: the caller's sidecar has no verified certificate");
		return false;
	}
	if (!mtls_claim_matches(who, caller, caller_ns, why, sizeof(why))) {
		log_warn("grpc", "refused a proxied call to %s: %s", call->path, why);
		grpc_call_answer_status(call, GRPC_PERMISSION_DENIED, NULL, "failed to proxy request: %s",
					why);
		return false;
	}
	return true;
}

/* Who the call is for, on the internal port: this sidecar's app, as the calling sidecar resolved it. */
static bool grpc_proxy_check_internal(struct grpc_call *call, struct grpc_proxy *p)
{
	const char *callee = grpc_call_metadata(call, "outrig-callee-app-id");
	const char *callee_ns = grpc_call_metadata(call, "outrig-callee-namespace");
	const char *caller = grpc_call_metadata(call, "outrig-caller-app-id");
	const char *caller_ns = grpc_call_metadata(call, "outrig-caller-namespace");
	const char *own = call->gs->srv->opts->app_id;
	/* Who calls: as the calling sidecar claims, or with mTLS as its certificate says. */
	struct peer_identity who = { caller, caller_ns, NULL, false };
	char idbuf[768];

	if (callee == NULL || caller == NULL) {
		grpc_call_answer_status(
			call, GRPC_INVALID_ARGUMENT, NULL,
			"failed to proxy request: outrig-callee-app-id and outrig-caller-app-id are required on the internal port");
		return false;
	}
	if (strcmp(callee, own) != 0) {
		grpc_call_answer_status(
			call, GRPC_UNAVAILABLE, NULL,
			"failed to proxy request: this sidecar serves app %s, not %.255s (a stale name-resolution entry?)",
			own, callee);
		return false;
	}
	if (callee_ns != NULL && strcmp(callee_ns, invoke_own_namespace()) != 0) {
		grpc_call_answer_status(
			call, GRPC_UNAVAILABLE, NULL,
			"failed to proxy request: this sidecar serves app %s in namespace \"%s\", not \"%.255s\" (a stale name-resolution entry?)",
			own, invoke_own_namespace(), callee_ns);
		return false;
	}
	if (mtls_enabled() && !grpc_proxy_check_certificate(call, caller, caller_ns, &who, idbuf, sizeof(idbuf)))
		return false;
	if (!grpc_proxy_acl_ok(call, &who))
		return false;
	snprintf(p->id, sizeof(p->id), "%s", own);
	p->caller_id = strdup(caller);
	p->caller_ns = caller_ns != NULL ? strdup(caller_ns) : NULL;
	if (p->caller_id == NULL || (caller_ns != NULL && p->caller_ns == NULL)) {
		grpc_call_answer_status(call, GRPC_RESOURCE_EXHAUSTED, NULL, "failed to proxy request: out of memory");
		return false;
	}
	return true;
}

bool grpc_proxy_start(struct grpc_call *call)
{
	struct grpc_server *gs = call->gs;
	struct server *srv = gs->srv;
	const char *target = grpc_call_metadata(call, PROXY_APP_ID);
	const char *own_ns = invoke_own_namespace();
	struct grpc_proxy *p;
	bool own;

	if (!gs->internal && target == NULL) {
		grpc_call_answer_status(
			call, GRPC_UNIMPLEMENTED, NULL,
			"unknown service or method %s; to call an app's gRPC service through outrig, add dapr-app-id metadata naming the app",
			call->path);
		return false;
	}
	if (gs->n_proxies >= GRPC_MAX_PROXIED_CALLS) {
		grpc_call_answer_status(
			call, GRPC_RESOURCE_EXHAUSTED, NULL,
			"failed to proxy request: %d proxied calls are in progress, the most outrig takes at once; retry when some have finished",
			GRPC_MAX_PROXIED_CALLS);
		return false;
	}
	p = calloc(1, sizeof(*p));
	if (p == NULL) {
		grpc_call_answer_status(call, GRPC_RESOURCE_EXHAUSTED, NULL, "failed to proxy request: out of memory");
		return false;
	}
	p->srv = srv;
	p->gs = gs;
	gs->n_proxies++;
	srv->proxied_calls++;
	p->call = call;
	p->next = gs->proxies;
	if (gs->proxies != NULL)
		gs->proxies->prev = p;
	gs->proxies = p;
	p->req = evbuffer_new();
	p->resp = evbuffer_new();
	p->pump = event_new(srv->base, -1, 0, grpc_proxy_pump, p);
	if (p->req == NULL || p->resp == NULL || p->pump == NULL) {
		p->call = NULL;
		grpc_proxy_free(p);
		grpc_call_answer_status(call, GRPC_RESOURCE_EXHAUSTED, NULL, "failed to proxy request: out of memory");
		return false;
	}
	if (gs->internal) {
		own = true;
		if (!grpc_proxy_check_internal(call, p)) {
			p->call = NULL;
			grpc_proxy_free(p);
			return false;
		}
	} else {
		if (*target == '\0' || *target == '.' ||
		    !invoke_split_target(target, p->id, sizeof(p->id), p->ns, sizeof(p->ns))) {
			p->call = NULL;
			grpc_proxy_free(p);
			grpc_call_answer_status(
				call, GRPC_INVALID_ARGUMENT, NULL,
				"failed to proxy request: dapr-app-id \"%.300s\" is not an app id (with an optional .namespace, 255 bytes each at most)",
				target);
			return false;
		}
		own = strcmp(p->id, srv->opts->app_id) == 0 && (p->ns[0] == '\0' || strcmp(p->ns, own_ns) == 0);
	}
	if (own && !grpc_proxy_app_ready(call, p->id)) {
		p->call = NULL;
		grpc_proxy_free(p);
		return false;
	}
	call->proxy = p;
	if (own) {
		grpc_proxy_open(p, srv->opts->app_channel_address, srv->opts->app_port, true);
		return true;
	}
	p->resolving = true;
	if (nameres_resolve(srv, p->id, p->ns, grpc_proxy_resolved, p) != 0) {
		p->resolving = false;
		grpc_proxy_fail(p, GRPC_RESOURCE_EXHAUSTED, "failed to proxy request: out of memory");
	}
	return true;
}

void grpc_proxy_free_all(struct grpc_server *gs)
{
	while (gs->proxies != NULL) {
		struct grpc_proxy *p = gs->proxies;

		if (p->call != NULL)
			p->call->proxy = NULL;
		grpc_proxy_free(p);
	}
}
