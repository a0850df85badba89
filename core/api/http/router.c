/* SPDX-License-Identifier: Apache-2.0 */
/* The HTTP API's listener and the router from Dapr's paths to the handlers of api/http. */
#include "config.h"

#include "api/http/router.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/util.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "api/http/api.h"
#include "channels/http_method.h"
#include "runtime.h"
#include "security/api_lists.h"
#include "channels/app_channel.h"
#include "api/http/http_errors.h"
#include "api/http/http_guard.h"
#include "api/http/http_listener.h"
#include "api/http/http_trace.h"
#include "observe/trace.h"
#include "blocks/invoke/invoke_request.h"
#include "base/log.h"
#include "channels/peer_channels.h"
#include "observe/api_log.h"
#include "observe/dapr_metrics.h"
#include "observe/metrics.h"

#define SERVER_MAX_SEGMENTS 8

/* Building blocks of Dapr's API that later outrig versions will serve. */
static const char *const server_unimplemented[] = {
	"actors", "configuration", "lock",	   "unlock",	   "workflows",
	"jobs",	  "crypto",	   "subtlecrypto", "conversation", NULL,
};

/*
 * Nagle's algorithm holds back small replies for ~40 ms waiting for an ACK that the
 * client delays; evhttp does not turn it off, so every accepted socket needs it.
 */
static void server_set_nodelay(evutil_socket_t fd)
{
	int one = 1;

	if (fd >= 0)
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

/* daprd refuses "%zz" (url.QueryUnescape fails); evhttp would pass it through as text. */
static const char *server_bad_escape(const char *raw)
{
	for (const char *p = strchr(raw, '%'); p != NULL; p = strchr(p + 1, '%'))
		if (!isxdigit((unsigned char)p[1]) || !isxdigit((unsigned char)p[2]))
			return p;
	return NULL;
}

/*
 * "%00" decodes to a NUL that would cut a state key, topic or component name short
 * ("acct%00z" would reach the store as "acct"): such names are refused, never truncated.
 */
static bool server_encodes_nul(const char *raw)
{
	return raw != NULL && strstr(raw, "%00") != NULL;
}

static void server_reply_text(struct evhttp_request *req, int status, const char *text)
{
	struct evbuffer *out = evbuffer_new();

	if (out != NULL)
		evbuffer_add(out, text, strlen(text));
	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
			  "text/plain; charset=utf-8");
	evhttp_send_reply(req, status, NULL, out);
	if (out != NULL)
		evbuffer_free(out);
}

static bool server_method_is(struct evhttp_request *req, int methods)
{
	return (evhttp_request_get_command(req) & methods) != 0;
}

/* Splits the raw path into at most max segments; the last keeps the rest of the path. */
static size_t server_split(char *path, char **segs, size_t max)
{
	size_t n = 0;
	char *p = path;

	while (*p == '/')
		p++;
	while (*p != '\0' && n < max) {
		char *slash;

		segs[n++] = p;
		if (n == max)
			break;
		slash = strchr(p, '/');
		if (slash == NULL)
			break;
		*slash = '\0';
		p = slash + 1;
	}
	return n;
}

/*
 * Compares in time that depends on the given token's length only, never on where it first
 * differs from the secret. want is not empty (main.c turns an empty DAPR_API_TOKEN off).
 */
static bool server_token_equal(const char *given, const char *want)
{
	size_t glen = strlen(given), wlen = strlen(want);
	unsigned char diff = glen != wlen;

	for (size_t i = 0; i < glen; i++)
		diff |= (unsigned char)(given[i] ^ want[i % wlen]);
	return diff == 0;
}

static bool server_token_ok(struct server *srv, struct evhttp_request *req, const char *block)
{
	const char *given;

	if (srv->api_token == NULL || strcmp(block, "healthz") == 0)
		return true;
	given = evhttp_find_header(evhttp_request_get_input_headers(req), "dapr-api-token");
	return given != NULL && server_token_equal(given, srv->api_token);
}

/*
 * spec.api.allowed and denied (daprd's rules): a group the lists leave out is not served, as a route
 * daprd never registered (404), and the message says which rule decided. healthz always is.
 */
static bool server_api_allowed(struct server *srv, struct evhttp_request *req, const char *block,
			       const char *version)
{
	const char *gv = api_lists_group_version(version);
	char why[512];

	if (api_lists_allow(&srv->config.policy.api, API_PROTO_HTTP, block, gv != NULL ? gv : version, why,
			    sizeof(why)))
		return true;
	api_error_reply(req, API_ERR_NOT_FOUND, 0, NULL, "%s", why);
	return false;
}

static void server_route_state(struct server *srv, struct evhttp_request *req, char **segs, size_t n,
			       bool alpha)
{
	char *store = segs[2];

	if (alpha) {
		if (n == 4 && strcmp(segs[3], "query") == 0 &&
		    server_method_is(req, EVHTTP_REQ_POST | EVHTTP_REQ_PUT))
			api_state_query(srv, req, store);
		else
			api_error_reply(req, API_ERR_NOT_FOUND, 0, NULL, "no such state API route");
		return;
	}
	if (n == 3) {
		if (server_method_is(req, EVHTTP_REQ_POST | EVHTTP_REQ_PUT))
			api_state_save(srv, req, store);
		else
			api_error_reply(req, API_ERR_METHOD_NOT_ALLOWED, 0, NULL,
					"use POST or PUT to save state");
		return;
	}
	if (server_method_is(req, EVHTTP_REQ_GET)) {
		api_state_get(srv, req, store, segs[3]);
	} else if (server_method_is(req, EVHTTP_REQ_DELETE)) {
		api_state_delete(srv, req, store, segs[3]);
	} else if (server_method_is(req, EVHTTP_REQ_POST | EVHTTP_REQ_PUT) && strcmp(segs[3], "bulk") == 0) {
		api_state_bulk_get(srv, req, store);
	} else if (server_method_is(req, EVHTTP_REQ_POST | EVHTTP_REQ_PUT) &&
		   strcmp(segs[3], "transaction") == 0) {
		api_state_transaction(srv, req, store);
	} else {
		api_error_reply(req, API_ERR_METHOD_NOT_ALLOWED, 0, NULL,
				"state keys take GET or DELETE; bulk and transaction take POST or PUT");
	}
}

/* segs: v1.0, publish, pubsub, topic; or v1.0[-alpha1], publish, bulk, pubsub, topic (n == 5). */
static void server_route_publish(struct server *srv, struct evhttp_request *req, char **segs, size_t n)
{
	if (!server_method_is(req, EVHTTP_REQ_POST | EVHTTP_REQ_PUT)) {
		api_error_reply(req, API_ERR_METHOD_NOT_ALLOWED, 0, NULL, "use POST or PUT to publish");
		return;
	}
	if (n == 5)
		api_pubsub_bulk_publish(srv, req, segs[3], segs[4]);
	else
		api_pubsub_publish(srv, req, n > 2 ? segs[2] : "", n > 3 ? segs[3] : "");
}

static void server_route(struct server *srv, struct evhttp_request *req, char **segs, size_t n)
{
	const char *version = segs[0];
	const char *block = n > 1 ? segs[1] : "";
	bool stable = strcmp(version, "v1.0") == 0;
	bool alpha = strcmp(version, "v1.0-alpha1") == 0;

	if (!stable && !alpha && strncmp(version, "v1.0-", 5) != 0) {
		api_error_reply(req, API_ERR_NOT_FOUND, 0, NULL,
				"no route for this path; Dapr's API lives under /v1.0/");
		return;
	}
	if (!server_token_ok(srv, req, block)) {
		server_reply_text(req, 401, "invalid api token");
		return;
	}
	if (!server_api_allowed(srv, req, block, version))
		return;
	if (strcmp(block, "state") == 0 && n >= 3 && (stable || alpha)) {
		server_route_state(srv, req, segs, n, alpha);
	} else if (strcmp(block, "bindings") == 0 && stable && n >= 3) {
		if (server_method_is(req, EVHTTP_REQ_POST | EVHTTP_REQ_PUT))
			api_bindings_invoke(srv, req, segs[2]);
		else
			api_error_reply(req, API_ERR_METHOD_NOT_ALLOWED, 0, NULL,
					"use POST or PUT to invoke a binding");
	} else if (strcmp(block, "secrets") == 0 && stable && n == 4) {
		if (!server_method_is(req, EVHTTP_REQ_GET))
			api_error_reply(req, API_ERR_METHOD_NOT_ALLOWED, 0, NULL, "use GET to read secrets");
		else if (strcmp(segs[3], "bulk") == 0)
			api_secrets_bulk(srv, req, segs[2]);
		else
			api_secrets_get(srv, req, segs[2], segs[3]);
	} else if (strcmp(block, "publish") == 0 && (stable || (alpha && n == 5))) {
		server_route_publish(srv, req, segs, n);
	} else if (strcmp(block, "healthz") == 0 && server_method_is(req, EVHTTP_REQ_GET)) {
		api_healthz(srv, req, n > 2 && strcmp(segs[2], "outbound") == 0);
	} else if (strcmp(block, "metadata") == 0 && n == 2 && server_method_is(req, EVHTTP_REQ_GET)) {
		api_metadata_get(srv, req);
	} else if (strcmp(block, "metadata") == 0 && n == 3 && server_method_is(req, EVHTTP_REQ_PUT)) {
		api_metadata_put(srv, req, segs[2]);
	} else if (strcmp(block, "shutdown") == 0 && server_method_is(req, EVHTTP_REQ_POST)) {
		api_shutdown(srv, req);
	} else {
		for (int i = 0; server_unimplemented[i] != NULL; i++) {
			if (strcmp(block, server_unimplemented[i]) == 0) {
				api_error_reply(req, API_ERR_API_UNIMPLEMENTED, 0, NULL,
						"the %s API is not implemented by outrig %s yet", block,
						PACKAGE_VERSION);
				return;
			}
		}
		api_error_reply(req, API_ERR_NOT_FOUND, 0, NULL, "no route for %s /%s/%s", "this request",
				version, block);
	}
}

/* Whether raw is Dapr's own API (/v1.0/..., /v1.0-alpha1/...) rather than an app's path. */
static bool server_is_api_path(const char *raw)
{
	return strncmp(raw, "/v1.0", 5) == 0 && (raw[5] == '/' || raw[5] == '-' || raw[5] == '\0');
}

/*
 * The target of the header form of invocation (API.md §3.1): dapr-app-id, or Authorization:
 * Basic base64("dapr-app-id:<id>"); NULL when the request has neither. Ownership: caller frees.
 */
static char *server_header_target(struct evhttp_request *req)
{
	const struct evkeyvalq *h = evhttp_request_get_input_headers(req);
	const char *id = evhttp_find_header(h, "dapr-app-id");

	if (id != NULL)
		return strdup(id);
	return invoke_basic_app_id(evhttp_find_header(h, "Authorization"));
}

/*
 * /v1.0/invoke/{app-id}/method/{method...}: segs holds v1.0, invoke, app-id and the raw rest.
 * The method stays raw (still percent-encoded): the app is to get exactly the path it was named by.
 */
static void server_route_invoke(struct server *srv, struct evhttp_request *req, char **segs, size_t n)
{
	char *app_id;

	if (!server_token_ok(srv, req, "invoke")) {
		server_reply_text(req, 401, "invalid api token");
		return;
	}
	if (!server_api_allowed(srv, req, "invoke", "v1"))
		return;
	/* segs[2] exists only when n > 2 ("/v1.0/invoke?x" has two segments). */
	if (n > 2 && server_encodes_nul(segs[2])) {
		api_error_reply(req, API_ERR_MALFORMED_REQUEST, 0, NULL,
				"the app id in the path contains a NUL byte (%%00)");
		return;
	}
	if (n < 4 || strncmp(segs[3], "method", 6) != 0 || (segs[3][6] != '/' && segs[3][6] != '\0')) {
		api_error_reply(
			req, API_ERR_NOT_FOUND, 0, NULL,
			"no route for this path; invocation is /v1.0/invoke/{app-id}/method/{method}");
		return;
	}
	app_id = evhttp_uridecode(segs[2], 0, NULL);
	if (app_id == NULL) {
		api_error_reply(req, API_ERR_INTERNAL, 0, NULL, "out of memory");
		return;
	}
	api_invoke(srv, req, app_id, segs[3][6] == '/' ? segs[3] + 7 : "");
	free(app_id);
}

/* Decodes every segment in place the way daprd does (url.QueryUnescape: '+' is a space). */
static bool server_decode(char **segs, size_t n, char **decoded)
{
	for (size_t i = 0; i < n; i++) {
		decoded[i] = evhttp_uridecode(segs[i], 1, NULL);
		if (decoded[i] == NULL)
			return false;
		segs[i] = decoded[i];
	}
	return true;
}

static void server_handle_traced(struct evhttp_request *req, struct server *srv);

/* A body's size: its Content-Length (what daprd records), else what its buffer holds. */
static size_t server_body_bytes(struct evkeyvalq *headers, struct evbuffer *body)
{
	const char *cl = evhttp_find_header(headers, "Content-Length");
	char *end;
	unsigned long long n;

	if (cl != NULL) {
		n = strtoull(cl, &end, 10);
		if (end != cl && *end == '\0')
			return (size_t)n;
	}
	return body != NULL ? evbuffer_get_length(body) : 0;
}

/*
 * The answer is sent: the request's metrics and API log line. arg is the start, in microseconds
 * of metrics_now_ms's clock, so that nothing is allocated per request (and nothing leaks when the
 * client leaves before its answer, which skips this callback).
 */
static void server_request_done(struct evhttp_request *req, void *arg)
{
	double ms = metrics_now_ms() - (double)(uintptr_t)arg / 1000.0;
	const char *path = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req));
	const char *method = http_method_name(evhttp_request_get_command(req), "UNKNOWN");
	int status = evhttp_request_get_response_code(req);

	if (path == NULL)
		path = "/";
	dm_http_server(method, path, status, ms);
	dm_http_server_bytes(server_body_bytes(evhttp_request_get_input_headers(req),
					       evhttp_request_get_input_buffer(req)),
			     server_body_bytes(evhttp_request_get_output_headers(req),
					       evhttp_request_get_output_buffer(req)));
	api_log_http(method, path, status, ms,
		     evhttp_find_header(evhttp_request_get_input_headers(req), "User-Agent"));
}

static void server_handle(struct evhttp_request *req, void *arg)
{
	struct server *srv = arg;

	if (metrics_enabled() || api_log_enabled())
		evhttp_request_set_on_complete_cb(req, server_request_done,
						  (void *)(uintptr_t)(metrics_now_ms() * 1000.0));
	if (http_guard_answer(srv->guard, req))
		return;
	server_handle_traced(req, srv);
	trace_set_current(NULL);
}

static void server_handle_traced(struct evhttp_request *req, struct server *srv)
{
	const char *raw = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req));
	char *segs[SERVER_MAX_SEGMENTS];
	char *decoded[SERVER_MAX_SEGMENTS] = { NULL };
	const char *bad;
	char text[64];
	char *path, *target;
	size_t n;

	if (srv->stopping) {
		api_error_reply(req, API_ERR_HEALTH_NOT_READY, 503, NULL, "outrig is shutting down");
		return;
	}
	http_trace_begin(req, false);
	bad = raw != NULL ? server_bad_escape(raw) : NULL;
	if (bad != NULL) {
		snprintf(text, sizeof(text), "invalid URL escape \"%.3s\"", bad);
		server_reply_text(req, 400, text);
		return;
	}
	/* The header form of invocation: any path that is not Dapr's API goes to the app it names. */
	if (raw != NULL && !server_is_api_path(raw) && (target = server_header_target(req)) != NULL) {
		if (!server_token_ok(srv, req, "invoke"))
			server_reply_text(req, 401, "invalid api token");
		else if (server_api_allowed(srv, req, "invoke", "v1"))
			api_invoke(srv, req, target, raw + (*raw == '/'));
		free(target);
		return;
	}
	path = strdup(raw != NULL ? raw : "/");
	if (path == NULL) {
		evhttp_send_error(req, 500, NULL);
		return;
	}
	/* State keys and topics may contain '/': the key is the rest of the path after the store. */
	n = server_split(path, segs, 4);
	/* Bulk publish has one segment more: the topic is the rest after the pub/sub name. */
	if (n == 4 && strcmp(segs[1], "publish") == 0 && strcmp(segs[2], "bulk") == 0) {
		char *slash = strchr(segs[3], '/');

		if (slash != NULL) {
			*slash = '\0';
			segs[4] = slash + 1;
			n = 5;
		}
	}
	if (n == 0) {
		api_error_reply(req, API_ERR_NOT_FOUND, 0, NULL,
				"no route for /; Dapr's API lives under /v1.0/");
	} else if (n >= 2 && strcmp(segs[0], "v1.0") == 0 && strcmp(segs[1], "invoke") == 0) {
		server_route_invoke(srv, req, segs, n);
	} else if (server_encodes_nul(raw) ||
		   server_encodes_nul(evhttp_uri_get_query(evhttp_request_get_evhttp_uri(req)))) {
		api_error_reply(req, API_ERR_MALFORMED_REQUEST, 0, NULL,
				"the path or query contains a NUL byte (%%00); names, keys and topics "
				"cannot hold one");
	} else if (!server_decode(segs, n, decoded)) {
		api_error_reply(req, API_ERR_INTERNAL, 0, NULL, "out of memory");
	} else {
		server_route(srv, req, segs, n);
	}
	for (size_t i = 0; i < n; i++)
		free(decoded[i]);
	free(path);
}

static int server_bind(struct server *srv, const char *addr)
{
	struct sockaddr_storage ss;
	int sslen = sizeof(ss);
	char spec[300];
	evutil_socket_t fd;
	int one = 1;

	snprintf(spec, sizeof(spec), strchr(addr, ':') != NULL ? "[%s]:%d" : "%s:%d", addr,
		 srv->opts->http_port);
	memset(&ss, 0, sizeof(ss));
	if (evutil_parse_sockaddr_port(spec, (struct sockaddr *)&ss, &sslen) != 0) {
		log_error(
			"runtime",
			"--dapr-listen-addresses: \"%s\" is not an IP address; give addresses such as 127.0.0.1 or ::1",
			addr);
		return -1;
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		goto fail;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	/*
	 * Accepted sockets inherit TCP_NODELAY from the listener on Linux, so this one call
	 * covers every connection without a syscall per request.
	 */
	server_set_nodelay(fd);
	if (bind(fd, (struct sockaddr *)&ss, (socklen_t)sslen) != 0 || listen(fd, 1024) != 0)
		goto fail;
	if (http_listener_bind(srv->base, srv->http, fd, "the HTTP API") != 0) {
		fd = -1; /* closed by http_listener_bind */
		goto fail;
	}
	log_info("runtime", "HTTP API listening on %s", spec);
	return 0;
fail:
	log_error(
		"runtime",
		"cannot listen on %s: %s; is another process (a daprd or outrigd?) using the port? pick another with --dapr-http-port",
		spec, strerror(errno));
	if (fd >= 0)
		close(fd);
	return -1;
}

int http_api_listen(struct server *srv)
{
	char *addrs = strdup(srv->opts->listen_addresses);
	int rc = 0;

	srv->http = evhttp_new(srv->base);
	if (srv->http == NULL || addrs == NULL) {
		free(addrs);
		return -1;
	}
	evhttp_set_allowed_methods(srv->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_PUT |
						      EVHTTP_REQ_DELETE | EVHTTP_REQ_PATCH | EVHTTP_REQ_HEAD |
						      EVHTTP_REQ_OPTIONS);
	if (srv->guard == NULL && (srv->guard = calloc(1, sizeof(*srv->guard))) == NULL)
		return -1;
	srv->guard->base = srv->base;
	srv->guard->max_body = srv->opts->max_body_bytes;
	srv->guard->header_timeout_ms = srv->opts->read_header_timeout_ms;
	srv->guard->max_head = 64 * 1024;
	http_guard_attach(srv->guard, srv->http);
	/* Also the idle timeout of kept-alive connections (the guard times heads). */
	evhttp_set_timeout(srv->http, 120);
	evhttp_set_default_content_type(srv->http, "application/json");
	evhttp_set_gencb(srv->http, server_handle, srv);
	for (char *save = NULL, *a = strtok_r(addrs, ",", &save); a != NULL && rc == 0;
	     a = strtok_r(NULL, ",", &save))
		rc = server_bind(srv, a);
	free(addrs);
	return rc;
}

void http_api_close(struct server *srv)
{
	if (srv->http != NULL) {
		http_listener_release(srv->http);
		evhttp_free(srv->http);
	}
	/*
	 * Invocations still at the app or a peer when the loop stopped: nothing answers them any
	 * more (their channels only abandon them), so their records go with the listener.
	 */
	api_invoke_free_pending(srv);
	free(srv->guard);
	srv->guard = NULL;
	srv->http = NULL;
}
