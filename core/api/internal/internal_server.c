/* SPDX-License-Identifier: Apache-2.0 */
/* The sidecar-to-sidecar listener: calls from other outrigd instances to this sidecar's app (see core/api/internal/internal_protocol.md). */
#include "config.h"

#include "api/internal/internal_server.h"

#include <errno.h>
#include <stdarg.h>
#include <event2/http.h>
#include <event2/util.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <unistd.h>

#include "api/grpc/grpc_conn.h"
#include "api/grpc/grpc_server.h"
#include "api/http/http_errors.h"
#include "api/http/http_guard.h"
#include "api/http/http_invoke.h"
#include "api/http/http_listener.h"
#include "blocks/invoke/invoke.h"
#include "blocks/invoke/invoke_request.h"
#include "api/http/http_trace.h"
#include "base/log.h"
#include "channels/peer_channels.h"
#include "runtime.h"
#include "security/access_control.h"
#include "security/mtls.h"

#define INTERNAL_SCOPE "internal"
#define INTERNAL_PREFIX "/outrig/v1/invoke"

/* The range a port is derived in when --dapr-internal-grpc-port is not given. */
#define INTERNAL_PORT_BASE 47300
#define INTERNAL_PORT_SPAN 2048

/* A stable port per app id, so a restarted sidecar tends to come back where it was (FNV-1a). */
static int internal_derived_port(const char *app_id)
{
	uint32_t h = 2166136261u;

	for (const unsigned char *p = (const unsigned char *)app_id; *p != '\0'; p++)
		h = (h ^ *p) * 16777619u;
	return INTERNAL_PORT_BASE + (int)(h % INTERNAL_PORT_SPAN);
}

static void internal_fail(struct evhttp_request *req, const char *id, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* A sidecar error (not the app's answer): marked so, in Dapr's error shape. */
static void internal_fail(struct evhttp_request *req, const char *id, const char *fmt, ...)
{
	char why[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	evhttp_add_header(evhttp_request_get_output_headers(req), INVOKE_STATUS_HEADER, "error");
	api_error_reply(req, API_ERR_DIRECT_INVOKE, 0, NULL, "failed to invoke, id: %s, err: %s", id, why);
}

struct internal_call {
	struct server *srv;
	struct evhttp_request *req; /* NULL once the caller went away */
};

/* evhttp frees the request with its connection; from then on the call must not touch it. */
static void internal_conn_closed(struct evhttp_connection *conn, void *arg)
{
	struct internal_call *call = arg;

	call->req = NULL;
}

static void internal_done(void *arg, const struct block_error *err, const struct invoke_answer *ans)
{
	struct internal_call *call = arg;
	struct evhttp_request *req = call->req;

	if (req != NULL) {
		evhttp_connection_set_closecb(evhttp_request_get_connection(req), NULL, NULL);
		if (err == NULL) {
			http_invoke_pass(call->srv->internal, NULL, req, ans, "app");
		} else {
			evhttp_add_header(evhttp_request_get_output_headers(req), INVOKE_STATUS_HEADER, "error");
			api_error_reply_block(req, err);
		}
	}
	free(call);
}

/*
 * spec.accessControl on the method as the app will get it (invoke_serve cleans it the same way
 * again, which changes nothing); answers daprd's 403 and returns false when it is denied.
 */
static bool internal_acl_ok(struct server *srv, struct evhttp_request *req, const struct peer_identity *who,
			    const char *raw, const char *verb)
{
	/* grpc and grpcs apps take the operation's action alone, as daprd (http, https, h2c: verbs). */
	bool http = strncmp(srv->opts->app_protocol, "grpc", 4) != 0;
	char why[1024], *clean;
	bool ok;

	if (!srv->config.policy.acl.set)
		return true;
	clean = invoke_clean_path(raw);
	if (clean == NULL) {
		internal_fail(req, srv->opts->app_id, "%s", "out of memory");
		return false;
	}
	/* daprd names the operation without its leading '/'. */
	ok = access_control_allows(&srv->config.policy.acl, who, clean + 1, http ? verb : NULL, http, why, sizeof(why));
	free(clean);
	if (!ok) {
		log_debug(INTERNAL_SCOPE, "%s", why);
		evhttp_add_header(evhttp_request_get_output_headers(req), INVOKE_STATUS_HEADER, "error");
		api_error_reply(req, API_ERR_DIRECT_INVOKE, 403, NULL,
				"failed to invoke, id: %s, err: rpc error: code = PermissionDenied desc = %s",
				srv->opts->app_id, why);
	}
	return ok;
}

static void internal_handle(struct evhttp_request *req, void *arg)
{
	struct server *srv = arg;
	const struct evkeyvalq *in = evhttp_request_get_input_headers(req);
	const char *uri = evhttp_request_get_uri(req);
	const char *callee = evhttp_find_header(in, "outrig-callee-app-id");
	const char *caller = evhttp_find_header(in, "outrig-caller-app-id");
	const char *caller_ns = evhttp_find_header(in, "outrig-caller-namespace");
	const char *own = srv->opts->app_id;
	struct invoke_request rq = { 0 };
	struct http_invoke_in hin;
	struct internal_call *call;
	const char *rest;
	char *method;
	/* Who calls: as the calling sidecar claims, or with mTLS as its certificate says (idbuf holds its strings). */
	struct peer_identity who = { caller, caller_ns, NULL, false };
	char idbuf[768];

	if (http_guard_answer(srv->internal_guard, req))
		return;
	http_trace_begin(req, true);
	if (srv->stopping) {
		internal_fail(req, own, "%s", "the callee's sidecar is shutting down");
		return;
	}
	rest = strncmp(uri, INTERNAL_PREFIX, strlen(INTERNAL_PREFIX)) == 0 ? uri + strlen(INTERNAL_PREFIX)
									   : "x";
	if (*rest != '/' && *rest != '?' && *rest != '\0') {
		internal_fail(req, callee != NULL ? callee : own,
			      "this sidecar speaks outrig's internal protocol v1 only (asked for %.200s)",
			      uri);
		return;
	}
	if (callee == NULL || caller == NULL) {
		internal_fail(req, own, "%s", "the call lacks outrig-callee-app-id or outrig-caller-app-id");
		return;
	}
	/* A stale name-resolution entry can point at a port another app's sidecar took since. */
	if (strcmp(callee, own) != 0) {
		internal_fail(req, callee,
			      "the sidecar at this address serves app id \"%s\" (stale name resolution?)",
			      own);
		return;
	}
	/* With mTLS, who calls is its certificate's: a sidecar claiming another id is refused. */
	if (mtls_enabled()) {
		char why[600];

		if (!tls_peer_identity(http_guard_transport(evhttp_connection_get_bufferevent(
					       evhttp_request_get_connection(req))),
				       &who, idbuf, sizeof(idbuf))) {
			internal_fail(req, own, "%s", "the caller's sidecar has no verified certificate");
			return;
		}
		if (!mtls_claim_matches(&who, caller, caller_ns, why, sizeof(why))) {
			log_warn(INTERNAL_SCOPE, "refused a call to %s: %s", uri, why);
			internal_fail(req, own, "%s", why);
			return;
		}
	}
	/* The raw path after the prefix; the block cleans it again. */
	method = strdup(rest);
	call = calloc(1, sizeof(*call));
	if (method == NULL || call == NULL || http_invoke_read(req, &hin, &rq) != 0) {
		if (method != NULL && call != NULL)
			http_invoke_in_free(&hin);
		free(method);
		free(call);
		internal_fail(req, own, "%s", "out of memory");
		return;
	}
	method[strcspn(method, "?")] = '\0';
	if (!internal_acl_ok(srv, req, &who, method, rq.verb)) {
		http_invoke_in_free(&hin);
		free(method);
		free(call);
		return;
	}
	rq.method = method;
	call->srv = srv;
	call->req = req;
	evhttp_connection_set_closecb(evhttp_request_get_connection(req), internal_conn_closed, call);
	invoke_serve(srv, &rq, caller, caller_ns, internal_done, call);
	http_invoke_in_free(&hin);
	free(method);
}

/* Binds addr:port; port 0 takes any free one. Returns the socket, or -1 with errno set. */
static evutil_socket_t internal_bind(const char *addr, int port)
{
	struct sockaddr_storage ss;
	int sslen = sizeof(ss);
	char spec[300];
	evutil_socket_t fd;
	int one = 1, saved;

	/* evutil_parse_sockaddr_port refuses port 0: parse with 1, then set the port wanted. */
	snprintf(spec, sizeof(spec), strchr(addr, ':') != NULL ? "[%s]:1" : "%s:1", addr);
	memset(&ss, 0, sizeof(ss));
	if (evutil_parse_sockaddr_port(spec, (struct sockaddr *)&ss, &sslen) != 0) {
		errno = EINVAL;
		return -1;
	}
	if (ss.ss_family == AF_INET6)
		((struct sockaddr_in6 *)&ss)->sin6_port = htons((uint16_t)port);
	else
		((struct sockaddr_in *)&ss)->sin_port = htons((uint16_t)port);
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	/* Accepted sockets inherit TCP_NODELAY from the listener on Linux (as in server.c). */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, (socklen_t)sslen) != 0 || listen(fd, 1024) != 0) {
		saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

static int internal_port_of(evutil_socket_t fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0)
		return -1;
	if (ss.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	return ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

/* A connection that opened with HTTP/2's preface: a proxied gRPC call from another sidecar (grpc_proxy.c). */
static int internal_h2_accept(void *arg, struct bufferevent *bev)
{
	struct server *srv = arg;

	return grpc_conn_attach(srv->grpc_internal, bev);
}

int internal_mtls_load(const struct options *o, const struct cfg_mtls *cm, struct event_base *base)
{
	struct mtls_settings s = { 0 };
	char err[1024];

	if (!o->enable_mtls && !cm->enabled)
		return 0;
	s.cert_file = o->mtls_cert_file;
	s.key_file = o->mtls_key_file;
	s.anchors_file = o->trust_anchors_file;
	s.cert_pem = s.cert_file == NULL ? getenv("DAPR_CERT_CHAIN") : NULL;
	s.key_pem = s.key_file == NULL ? getenv("DAPR_CERT_KEY") : NULL;
	s.anchors_pem = s.anchors_file == NULL ? getenv("DAPR_TRUST_ANCHORS") : NULL;
	if ((s.cert_file == NULL && s.cert_pem == NULL) || (s.key_file == NULL && s.key_pem == NULL) ||
	    (s.anchors_file == NULL && s.anchors_pem == NULL)) {
		log_error(
			INTERNAL_SCOPE,
			"mTLS is on (%s), but %s is not given; give --mtls-cert-file, --mtls-key-file and --trust-anchors-file (outrig cert makes them) or DAPR_CERT_CHAIN, DAPR_CERT_KEY and DAPR_TRUST_ANCHORS",
			o->enable_mtls ? "--enable-mtls" : "spec.mtls.enabled in --config",
			s.cert_file == NULL && s.cert_pem == NULL ? "--mtls-cert-file"
			: s.key_file == NULL && s.key_pem == NULL ? "--mtls-key-file"
								  : "--trust-anchors-file");
		return -1;
	}
	s.trust_domain = o->trust_domain != NULL       ? o->trust_domain
			 : cm->trust_domain[0] != '\0' ? cm->trust_domain
						       : NULL;
	s.clock_skew_ms = cm->skew_set ? cm->clock_skew_ms : MTLS_DEFAULT_CLOCK_SKEW_MS;
	s.app_id = o->app_id;
	s.ns = *invoke_own_namespace() != '\0' ? invoke_own_namespace() : "default";
	if (mtls_start(base, &s, err, sizeof(err)) != 0) {
		log_error(INTERNAL_SCOPE, "cannot turn mTLS on: %s", err);
		return -1;
	}
	return 0;
}

/* mTLS, when --enable-mtls or a Configuration's spec.mtls.enabled asks for it (security/mtls.h). */
static int internal_mtls_start(struct server *srv)
{
	return internal_mtls_load(srv->opts, &srv->config.mtls, srv->base);
}

int internal_server_listen(struct server *srv)
{
	const char *addr = srv->opts->internal_listen_address;
	int port = srv->opts->internal_port;
	evutil_socket_t fd;

	if (internal_mtls_start(srv) != 0)
		return -1;
	srv->internal = evhttp_new(srv->base);
	if (srv->internal == NULL) {
		log_error(INTERNAL_SCOPE, "out of memory while starting the internal listener");
		return -1;
	}
	evhttp_set_allowed_methods(srv->internal, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_PUT |
							  EVHTTP_REQ_DELETE | EVHTTP_REQ_PATCH |
							  EVHTTP_REQ_HEAD | EVHTTP_REQ_OPTIONS);
	if (srv->internal_guard == NULL && (srv->internal_guard = calloc(1, sizeof(*srv->internal_guard))) == NULL)
		return -1;
	srv->internal_guard->base = srv->base;
	srv->internal_guard->max_body = srv->opts->max_body_bytes;
	srv->internal_guard->header_timeout_ms = srv->opts->read_header_timeout_ms;
	srv->internal_guard->max_head = 64 * 1024;
	/* gRPC proxying between sidecars comes to this same port, as HTTP/2 (internal_protocol.md). */
	if (srv->grpc_internal == NULL && grpc_server_internal_new(srv) != 0)
		return -1;
	srv->internal_guard->h2_accept = internal_h2_accept;
	srv->internal_guard->h2_arg = srv;
	srv->internal_guard->tls = mtls_enabled();
	http_guard_attach(srv->internal_guard, srv->internal);
	evhttp_set_timeout(srv->internal, 120);
	/* Answers are the app's: evhttp adds no Content-Type of its own. */
	evhttp_set_default_content_type(srv->internal, NULL);
	evhttp_set_gencb(srv->internal, internal_handle, srv);
	/* Without a port given, the app id's own one when free, else any. */
	fd = internal_bind(addr, port > 0 ? port : internal_derived_port(srv->opts->app_id));
	if (fd < 0 && errno == EADDRINUSE && port <= 0)
		fd = internal_bind(addr, 0);
	if (fd < 0) {
		if (errno == EINVAL)
			log_error(
				INTERNAL_SCOPE,
				"--dapr-internal-grpc-listen-address: \"%s\" is not an IP address; give one such as 0.0.0.0, 127.0.0.1 or ::",
				addr);
		else if (port > 0)
			log_error(
				INTERNAL_SCOPE,
				"cannot listen for other sidecars on %s port %d: %s; pick another --dapr-internal-grpc-port, or leave it out to get a free one",
				addr, port, strerror(errno));
		else
			log_error(
				INTERNAL_SCOPE,
				"cannot listen for other sidecars on %s: %s; check --dapr-internal-grpc-listen-address",
				addr, strerror(errno));
		return -1;
	}
	srv->internal_port = internal_port_of(fd);
	if (srv->internal_port <= 0) {
		log_error(INTERNAL_SCOPE, "cannot serve the internal listener on %s: %s", addr,
			  strerror(errno));
		close(fd);
		return -1;
	}
	if (http_listener_bind(srv->base, srv->internal, fd, "the sidecar-to-sidecar listener") != 0) {
		log_error(INTERNAL_SCOPE, "cannot serve the internal listener on %s: %s", addr,
			  strerror(errno));
		return -1;
	}
	log_info(INTERNAL_SCOPE, "listening for other sidecars on %s port %d%s", addr, srv->internal_port,
		 mtls_enabled() ? " (mTLS)" : "");
	return 0;
}

void internal_server_close(struct server *srv)
{
	if (srv->internal != NULL) {
		http_listener_release(srv->internal);
		evhttp_free(srv->internal);
	}
	free(srv->internal_guard);
	srv->internal_guard = NULL;
	srv->internal = NULL;
	/* The caller side's pool of connections to other sidecars (api_invoke.c makes it on first use). */
	peer_channels_free(srv->peers);
	srv->peers = NULL;
	mtls_stop();
}
