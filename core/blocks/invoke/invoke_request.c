/* SPDX-License-Identifier: Apache-2.0 */
/* Service invocation's request shaping (paths, headers, targets) and its last hop: the call to the local app. */
#include "config.h"

#include "blocks/invoke/invoke_request.h"

#include <arpa/inet.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/http.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/queue.h>
#include <sys/random.h>
#include <sys/socket.h>

#include "channels/app_channel.h"
#include "channels/app_health.h"
#include "blocks/pubsub/cloudevent.h"
#include "api/http/http_errors.h"
#include "base/log.h"
#include "runtime.h"

/* The public listener's default Content-Type (server.c), restored after a passthrough. */
#define INVOKE_PUBLIC_DEFAULT_CT "application/json"

/* ---- paths ---- */

char *invoke_clean_path(const char *raw)
{
	size_t n = strlen(raw);
	/* The result is never longer than "/" + raw. */
	char *out = malloc(n + 2);
	size_t len = 0;
	const char *p = raw;

	if (out == NULL)
		return NULL;
	while (*p != '\0') {
		const char *end = strchr(p, '/');
		size_t seg = end != NULL ? (size_t)(end - p) : strlen(p);

		if (seg == 0 || (seg == 1 && p[0] == '.')) {
			/* empty or ".": dropped */
		} else if (seg == 2 && p[0] == '.' && p[1] == '.') {
			/* "..": back to the previous '/', but never above the root */
			while (len > 0 && out[len - 1] != '/')
				len--;
			if (len > 0)
				len--;
		} else {
			out[len++] = '/';
			memcpy(out + len, p, seg);
			len += seg;
		}
		p += seg;
		if (*p == '/')
			p++;
	}
	if (len == 0 || (n > 0 && raw[n - 1] == '/'))
		out[len++] = '/';
	out[len] = '\0';
	return out;
}

bool invoke_split_target(const char *target, char *id, size_t id_size, char *ns, size_t ns_size)
{
	const char *dot = strrchr(target, '.');
	size_t idlen = dot != NULL ? (size_t)(dot - target) : strlen(target);
	const char *nspart = dot != NULL ? dot + 1 : "";

	if (idlen == 0 || idlen >= id_size || strlen(nspart) >= ns_size)
		return false;
	memcpy(id, target, idlen);
	id[idlen] = '\0';
	strcpy(ns, nspart);
	return true;
}

char *invoke_basic_app_id(const char *authorization)
{
	unsigned char *plain;
	size_t len;
	char *id = NULL;

	if (authorization == NULL || strncasecmp(authorization, "Basic ", 6) != 0)
		return NULL;
	plain = cloudevent_base64_decode(authorization + 6, &len);
	if (plain == NULL)
		return NULL;
	if (len > 12 && strlen((char *)plain) == len && strncmp((char *)plain, "dapr-app-id:", 12) == 0)
		id = strdup((char *)plain + 12);
	free(plain);
	return id;
}

/* ---- headers ---- */

static const char *const invoke_hop_by_hop[] = {
	"Connection", "Keep-Alive", "TE", "Trailer", "Trailers", "Transfer-Encoding", "Upgrade", NULL,
};

/* Whether name is one of the comma-separated tokens of a Connection header's value. */
static bool invoke_named_in(const char *name, const char *connection)
{
	size_t n = strlen(name);

	for (const char *p = connection; p != NULL && *p != '\0';) {
		const char *end;
		size_t len;

		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		end = p;
		while (*end != '\0' && *end != ',')
			end++;
		len = (size_t)(end - p);
		while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t'))
			len--;
		if (len == n && len > 0 && strncasecmp(p, name, n) == 0)
			return true;
		p = end;
	}
	return false;
}

/* Whether any Connection header of all names name (a message may have several). */
static bool invoke_named_by_connection(const char *name, const struct evkeyvalq *all)
{
	const struct evkeyval *h;

	TAILQ_FOREACH(h, all, next)
	{
		if (strcasecmp(h->key, "Connection") == 0 && invoke_named_in(name, h->value))
			return true;
	}
	return false;
}

static bool invoke_is_hop(const char *name, const struct evkeyvalq *all)
{
	for (int i = 0; invoke_hop_by_hop[i] != NULL; i++)
		if (strcasecmp(name, invoke_hop_by_hop[i]) == 0)
			return true;
	return strncasecmp(name, "Proxy-", 6) == 0 || strncasecmp(name, "outrig-", 7) == 0 ||
	       invoke_named_by_connection(name, all);
}

static bool invoke_drop_request_header(const char *name, const char *value, const struct evkeyvalq *all)
{
	char *id;

	if (invoke_is_hop(name, all) || strcasecmp(name, "Host") == 0 ||
	    strcasecmp(name, "Content-Length") == 0 || strcasecmp(name, "Expect") == 0 ||
	    strcasecmp(name, "dapr-app-id") == 0 || strcasecmp(name, "dapr-api-token") == 0 ||
	    strncasecmp(name, "dapr-caller-", 12) == 0 || strncasecmp(name, "dapr-callee-", 12) == 0)
		return true;
	if (strcasecmp(name, "Authorization") != 0)
		return false;
	/* The dapr-app-id form addressed this sidecar, not the app. */
	id = invoke_basic_app_id(value);
	free(id);
	return id != NULL;
}

void invoke_copy_request_headers(const struct evkeyvalq *in, struct evkeyvalq *out)
{
	const struct evkeyval *h;

	TAILQ_FOREACH(h, in, next)
	{
		if (!invoke_drop_request_header(h->key, h->value, in))
			evhttp_add_header(out, h->key, h->value);
	}
}

void invoke_copy_response_headers(const struct evkeyvalq *in, struct evkeyvalq *out, bool keep_length)
{
	const struct evkeyval *h;

	TAILQ_FOREACH(h, in, next)
	{
		if (invoke_is_hop(h->key, in) || (!keep_length && strcasecmp(h->key, "Content-Length") == 0))
			continue;
		evhttp_add_header(out, h->key, h->value);
	}
}

/* Whether v is a W3C traceparent of version 00: 00-<32 hex>-<16 hex>-<2 hex>, ids not all zero. */
static bool invoke_traceparent_ok(const char *v)
{
	static const char shape[] = "00-################################-################-##";

	if (strlen(v) != sizeof(shape) - 1)
		return false;
	for (size_t i = 0; shape[i] != '\0'; i++) {
		bool hex = (v[i] >= '0' && v[i] <= '9') || (v[i] >= 'a' && v[i] <= 'f');

		if (shape[i] == '#' ? !hex : v[i] != shape[i])
			return false;
	}
	return strncmp(v + 3, "00000000000000000000000000000000", 32) != 0 &&
	       strncmp(v + 36, "0000000000000000", 16) != 0;
}

/*
 * A caller's valid traceparent travels as it is (with its tracestate); without one, the call
 * starts a trace of its own, not sampled (outrig records no spans yet), as daprd does.
 */
static void invoke_add_traceparent(struct evkeyvalq *out)
{
	const char *given = evhttp_find_header(out, "traceparent");
	unsigned char id[24];
	char value[64];
	size_t n = 0;

	if (given != NULL && invoke_traceparent_ok(given))
		return;
	evhttp_remove_header(out, "traceparent");
	evhttp_remove_header(out, "tracestate");
	if (getrandom(id, sizeof(id), GRND_NONBLOCK) != (ssize_t)sizeof(id)) {
		/* Unique enough to correlate logs when the kernel's pool is not ready. */
		for (size_t i = 0; i < sizeof(id); i++)
			id[i] = (unsigned char)random();
	}
	id[0] |= 1; /* an id of all zeros is invalid */
	id[16] |= 1;
	n += (size_t)snprintf(value, sizeof(value), "00-");
	for (size_t i = 0; i < 16; i++)
		n += (size_t)snprintf(value + n, sizeof(value) - n, "%02x", id[i]);
	n += (size_t)snprintf(value + n, sizeof(value) - n, "-");
	for (size_t i = 16; i < 24; i++)
		n += (size_t)snprintf(value + n, sizeof(value) - n, "%02x", id[i]);
	snprintf(value + n, sizeof(value) - n, "-00");
	evhttp_add_header(out, "traceparent", value);
}

/* addr as Forwarded writes it: an IPv6 address quoted and bracketed (RFC 7239). */
static void invoke_node(char *buf, size_t size, const struct sockaddr *sa, bool quoted)
{
	char ip[INET6_ADDRSTRLEN] = "unknown";

	if (sa->sa_family == AF_INET) {
		inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, ip, sizeof(ip));
		snprintf(buf, size, "%s", ip);
	} else if (sa->sa_family == AF_INET6) {
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, ip, sizeof(ip));
		snprintf(buf, size, quoted ? "\"[%s]\"" : "%s", ip);
	} else {
		snprintf(buf, size, "unknown");
	}
}

void invoke_add_forwarded(struct evhttp_request *req, struct evkeyvalq *out)
{
	struct evhttp_connection *evcon = evhttp_request_get_connection(req);
	struct bufferevent *bev = evcon != NULL ? evhttp_connection_get_bufferevent(evcon) : NULL;
	evutil_socket_t fd = bev != NULL ? bufferevent_getfd(bev) : -1;
	const struct evkeyvalq *in = evhttp_request_get_input_headers(req);
	const char *host = evhttp_find_header(in, "Host");
	const char *xff = evhttp_find_header(in, "X-Forwarded-For");
	const char *fwd = evhttp_find_header(in, "Forwarded");
	struct sockaddr_storage peer = { 0 }, self = { 0 };
	socklen_t plen = sizeof(peer), slen = sizeof(self);
	char client[INET6_ADDRSTRLEN + 8], by[INET6_ADDRSTRLEN + 8], cq[INET6_ADDRSTRLEN + 8];
	char *value;

	if (fd < 0 || getpeername(fd, (struct sockaddr *)&peer, &plen) != 0)
		peer.ss_family = AF_UNSPEC;
	if (fd < 0 || getsockname(fd, (struct sockaddr *)&self, &slen) != 0)
		self.ss_family = AF_UNSPEC;
	invoke_node(client, sizeof(client), (struct sockaddr *)&peer, false);
	invoke_node(cq, sizeof(cq), (struct sockaddr *)&peer, true);
	invoke_node(by, sizeof(by), (struct sockaddr *)&self, true);
	/* Earlier proxies' entries come first; this hop's is appended (RFC 7239). */
	while (evhttp_remove_header(out, "X-Forwarded-For") == 0)
		;
	while (evhttp_remove_header(out, "X-Forwarded-Host") == 0)
		;
	while (evhttp_remove_header(out, "Forwarded") == 0)
		;
	/*
	 * As long as the caller's headers (the listener bounds them): a fixed buffer would cut off
	 * this hop's own entry, the one the callee can trust. Out of memory, the header is left out.
	 */
	if (asprintf(&value, "%s%s%s", xff != NULL && *xff != '\0' ? xff : "",
		     xff != NULL && *xff != '\0' ? ", " : "", client) >= 0) {
		evhttp_add_header(out, "X-Forwarded-For", value);
		free(value);
	}
	if (asprintf(&value, "%s%sfor=%s;by=%s%s%s", fwd != NULL && *fwd != '\0' ? fwd : "",
		     fwd != NULL && *fwd != '\0' ? ", " : "", cq, by, host != NULL ? ";host=" : "",
		     host != NULL ? host : "") >= 0) {
		evhttp_add_header(out, "Forwarded", value);
		free(value);
	}
	if (host != NULL)
		evhttp_add_header(out, "X-Forwarded-Host", host);
	invoke_add_traceparent(out);
}

const char *invoke_own_namespace(void)
{
	const char *ns = getenv("NAMESPACE");

	return ns != NULL ? ns : "";
}

/* ---- the last hop: this sidecar's app ---- */

struct invoke_app_call {
	struct server *srv;
	struct evhttp *http;
	struct evhttp_request *req; /* NULL once the caller went away */
	char *callee;
	bool internal;
};

/* evhttp frees the request with its connection; from then on the call must not touch it. */
static void invoke_app_conn_closed(struct evhttp_connection *conn, void *arg)
{
	struct invoke_app_call *call = arg;

	call->req = NULL;
}

void invoke_pass_response(struct evhttp *http, const char *default_ct, struct evhttp_request *req,
			  struct evhttp_request *from, const char *marker)
{
	struct evkeyvalq *out = evhttp_request_get_output_headers(req);
	const struct evkeyvalq *in = evhttp_request_get_input_headers(from);
	bool head = evhttp_request_get_command(req) == EVHTTP_REQ_HEAD;
	bool typed = evhttp_find_header(in, "Content-Type") != NULL;

	invoke_copy_response_headers(in, out, head);
	if (marker != NULL)
		evhttp_add_header(out, INVOKE_STATUS_HEADER, marker);
	/* The app's answer goes back as it is: evhttp must not give it a Content-Type of its own. */
	if (!typed)
		evhttp_set_default_content_type(http, NULL);
	evhttp_send_reply(req, evhttp_request_get_response_code(from),
			  evhttp_request_get_response_code_line(from), evhttp_request_get_input_buffer(from));
	if (!typed)
		evhttp_set_default_content_type(http, default_ct);
}

static void invoke_app_done(void *arg, const struct app_response *r)
{
	struct invoke_app_call *call = arg;
	struct evhttp_request *req = call->req;

	if (req != NULL) {
		evhttp_connection_set_closecb(evhttp_request_get_connection(req), NULL, NULL);
		if (r->status != 0) {
			invoke_pass_response(call->http, call->internal ? NULL : INVOKE_PUBLIC_DEFAULT_CT,
					     req, r->req, call->internal ? "app" : NULL);
		} else {
			if (call->internal)
				evhttp_add_header(evhttp_request_get_output_headers(req),
						  INVOKE_STATUS_HEADER, "error");
			if (r->fault != APP_FAULT_TOO_LARGE && r->fault != APP_FAULT_INVALID)
				api_error_reply(
					req, API_ERR_DIRECT_INVOKE, 0, NULL,
					"failed to invoke, id: %s, err: cannot reach the app at %s: %s; is the app running?",
					call->callee, app_channel_address(call->srv->app), r->error);
			else
				/* The app answered something that cannot be passed on: a bad gateway, or too large. */
				api_error_reply(
					req, API_ERR_DIRECT_INVOKE, r->fault == APP_FAULT_INVALID ? 502 : 0,
					NULL,
					"failed to invoke, id: %s, err: the app at %s answered, but %s; the connection was closed",
					call->callee, app_channel_address(call->srv->app), r->error);
		}
	}
	free(call->callee);
	free(call);
}

static void invoke_app_fail(struct evhttp_request *req, bool internal, const char *callee, const char *why)
{
	if (internal)
		evhttp_add_header(evhttp_request_get_output_headers(req), INVOKE_STATUS_HEADER, "error");
	api_error_reply(req, API_ERR_DIRECT_INVOKE, 0, NULL, "failed to invoke, id: %s, err: %s", callee,
			why);
}

void invoke_to_app(struct server *srv, struct evhttp *http, struct evhttp_request *req, const char *path,
		   const struct evkeyvalq *headers, const char *caller_id, const char *caller_ns,
		   bool internal)
{
	const char *callee = srv->opts->app_id;
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	size_t len = evbuffer_get_length(in);
	struct invoke_app_call *call;
	struct evkeyvalq out;
	const struct evkeyval *h;

	if (srv->app == NULL) {
		invoke_app_fail(req, internal, callee,
				"the sidecar has no app to call: it was started without --app-port");
		return;
	}
	if (!app_health_ok(srv)) {
		invoke_app_fail(req, internal, callee, "app is not in a healthy state");
		return;
	}
	call = calloc(1, sizeof(*call));
	if (call == NULL || (call->callee = strdup(callee)) == NULL) {
		free(call);
		invoke_app_fail(req, internal, callee, "out of memory");
		return;
	}
	call->srv = srv;
	call->http = http;
	call->req = req;
	call->internal = internal;
	TAILQ_INIT(&out);
	TAILQ_FOREACH(h, headers, next)
	evhttp_add_header(&out, h->key, h->value);
	evhttp_add_header(&out, "dapr-caller-app-id", caller_id);
	if (caller_ns != NULL && *caller_ns != '\0')
		evhttp_add_header(&out, "dapr-caller-namespace", caller_ns);
	evhttp_add_header(&out, "dapr-callee-app-id", callee);
	/* Before sending: a call that fails at once calls back (and clears it) from inside the send. */
	evhttp_connection_set_closecb(evhttp_request_get_connection(req), invoke_app_conn_closed, call);
	if (app_channel_send(srv->app, evhttp_request_get_command(req), path, &out, NULL,
			     evbuffer_pullup(in, -1), len, invoke_app_done, call) != 0) {
		evhttp_connection_set_closecb(evhttp_request_get_connection(req), NULL, NULL);
		free(call->callee);
		free(call);
		invoke_app_fail(req, internal, callee, "out of memory");
	}
	evhttp_clear_headers(&out);
}
