/* SPDX-License-Identifier: Apache-2.0 */
/* Service invocation, caller side (API.md §3.1): to this sidecar's own app, or through name resolution to another sidecar. */
#include "config.h"

#include <event2/buffer.h>
#include <event2/http.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include "api/http/api.h"
#include "channels/app_channel.h"
#include "api/http/http_errors.h"
#include "blocks/invoke/invoke_request.h"
#include "base/log.h"
#include "blocks/invoke/nameres.h"
#include "channels/peer_channels.h"
#include "runtime.h"

/*
 * How long a call to another sidecar may take: a little longer than that sidecar gives its app
 * (main.c's 300 s), so that its own timeout answer arrives first. A sidecar that dies fails the
 * call at once (its connection closes).
 */
#define API_INVOKE_PEER_TIMEOUT_S 310

/* The internal protocol's path prefix (core/internal_protocol.md). */
#define API_INVOKE_INTERNAL_PREFIX "/outrig/v1/invoke"

struct api_invoke_call {
	struct server *srv;
	struct evhttp_request *req; /* NULL once the caller went away */
	char id[256];		    /* the target app id ... */
	char ns[256];		    /* ... and namespace ("" = this sidecar's) */
	char *path;		    /* "/method?query", as the callee's app is to get it */
	struct evkeyvalq headers;   /* what travels to the callee's app */
	char peer[300];		    /* "host:port" of the callee's sidecar, once resolved */
};

static void api_invoke_free(struct api_invoke_call *call)
{
	evhttp_clear_headers(&call->headers);
	free(call->path);
	free(call);
}

/* evhttp frees the request with its connection; from then on the call must not touch it. */
static void api_invoke_conn_closed(struct evhttp_connection *conn, void *arg)
{
	struct api_invoke_call *call = arg;

	call->req = NULL;
}

/* Detaches the call from its request's connection; returns the request, or NULL if it is gone. */
static struct evhttp_request *api_invoke_take(struct api_invoke_call *call)
{
	if (call->req != NULL)
		evhttp_connection_set_closecb(evhttp_request_get_connection(call->req), NULL, NULL);
	return call->req;
}

static void api_invoke_answered(void *arg, const struct app_response *r)
{
	struct api_invoke_call *call = arg;
	struct evhttp_request *req = api_invoke_take(call);

	if (req == NULL) {
		api_invoke_free(call);
		return;
	}
	if (r->status == 0 && (r->fault == APP_FAULT_TOO_LARGE || r->fault == APP_FAULT_INVALID)) {
		/* It answered, but not so that the answer can be passed on: a bad gateway, or too large. */
		api_error_reply(
			req, API_ERR_DIRECT_INVOKE, r->fault == APP_FAULT_INVALID ? 502 : 0, NULL,
			"failed to invoke, id: %s, err: the sidecar of %s at %s answered, but %s; the connection was closed",
			call->id, call->id, call->peer, r->error);
	} else if (r->status == 0) {
		api_error_reply(req, API_ERR_DIRECT_INVOKE, 0, NULL,
				"failed to invoke, id: %s, err: cannot reach the sidecar of %s at %s: %s",
				call->id, call->id, call->peer, r->error);
	} else if (evhttp_find_header(evhttp_request_get_input_headers(r->req), INVOKE_STATUS_HEADER) ==
		   NULL) {
		api_error_reply(
			req, API_ERR_DIRECT_INVOKE, 0, NULL,
			"failed to invoke, id: %s, err: %s answered %d without outrig's internal protocol; is name resolution pointing at something other than an outrigd of this version?",
			call->id, call->peer, r->status);
	} else {
		/* The app's answer, or the callee sidecar's own ERR_DIRECT_INVOKE: either goes back as is. */
		invoke_pass_response(call->srv->http, "application/json", req, r->req, NULL);
	}
	api_invoke_free(call);
}

static void api_invoke_send(struct api_invoke_call *call, struct evhttp_request *req,
			    const struct outrig_nr_address *addr)
{
	struct server *srv = call->srv;
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	const char *own_ns = invoke_own_namespace();
	struct app_channel *ch;
	struct evkeyvalq out;
	const struct evkeyval *h;
	char *path;

	snprintf(call->peer, sizeof(call->peer), strchr(addr->host, ':') != NULL ? "[%s]:%d" : "%s:%d",
		 addr->host, addr->port);
	if (srv->peers == NULL)
		srv->peers = peer_channels_new(srv->base, API_INVOKE_PEER_TIMEOUT_S,
					       srv->opts->max_body_bytes, srv->opts->read_buffer_bytes);
	ch = srv->peers != NULL ? peer_channels_get(srv->peers, addr->host, addr->port) : NULL;
	if (asprintf(&path, "%s%s", API_INVOKE_INTERNAL_PREFIX, call->path) < 0)
		path = NULL;
	if (ch == NULL || path == NULL) {
		free(path);
		api_error_reply(
			req, API_ERR_DIRECT_INVOKE, 0, NULL,
			"failed to invoke, id: %s, err: no connection to %s could be made (out of memory, or too many calls in flight)",
			call->id, call->peer);
		api_invoke_free(call);
		return;
	}
	TAILQ_INIT(&out);
	TAILQ_FOREACH(h, &call->headers, next)
	evhttp_add_header(&out, h->key, h->value);
	evhttp_add_header(&out, "outrig-callee-app-id", call->id);
	if (call->ns[0] != '\0')
		evhttp_add_header(&out, "outrig-callee-namespace", call->ns);
	evhttp_add_header(&out, "outrig-caller-app-id", srv->opts->app_id);
	if (*own_ns != '\0')
		evhttp_add_header(&out, "outrig-caller-namespace", own_ns);
	call->req = req;
	evhttp_connection_set_closecb(evhttp_request_get_connection(req), api_invoke_conn_closed, call);
	if (app_channel_send(ch, evhttp_request_get_command(req), path, &out, NULL, evbuffer_pullup(in, -1),
			     evbuffer_get_length(in), api_invoke_answered, call) != 0) {
		api_invoke_take(call);
		api_error_reply(req, API_ERR_DIRECT_INVOKE, 0, NULL,
				"failed to invoke, id: %s, err: out of memory", call->id);
		api_invoke_free(call);
	}
	evhttp_clear_headers(&out);
	free(path);
}

static void api_invoke_resolved(void *arg, int rc, const struct outrig_nr_address *addr, const char *error)
{
	struct api_invoke_call *call = arg;
	struct evhttp_request *req = api_invoke_take(call);

	if (req == NULL) {
		api_invoke_free(call);
	} else if (rc != 0 || addr == NULL) {
		api_error_reply(req, API_ERR_DIRECT_INVOKE, 0, NULL, "failed to invoke, id: %s, err: %s",
				call->id, error != NULL ? error : "name resolution failed");
		api_invoke_free(call);
	} else {
		api_invoke_send(call, req, addr);
	}
}

/* "/" + the cleaned method, plus "?" + the query string exactly as it came. */
static char *api_invoke_path(struct evhttp_request *req, const char *method)
{
	const char *query = evhttp_uri_get_query(evhttp_request_get_evhttp_uri(req));
	char *clean = invoke_clean_path(method);
	char *path;

	if (clean == NULL || query == NULL)
		return clean;
	if (asprintf(&path, "%s?%s", clean, query) < 0)
		path = NULL;
	free(clean);
	return path;
}

void api_invoke(struct server *srv, struct evhttp_request *req, const char *app_id, const char *method)
{
	struct api_invoke_call *call;
	const char *own_ns = invoke_own_namespace();

	if (app_id == NULL || *app_id == '\0' || *app_id == '.') {
		api_error_reply(req, API_ERR_DIRECT_INVOKE_NO_APP_ID, 0, NULL,
				"failed getting app id either from the URL path or the header dapr-app-id");
		return;
	}
	call = calloc(1, sizeof(*call));
	if (call == NULL) {
		api_error_reply(req, API_ERR_INTERNAL, 0, NULL, "out of memory");
		return;
	}
	TAILQ_INIT(&call->headers);
	call->srv = srv;
	if (!invoke_split_target(app_id, call->id, sizeof(call->id), call->ns, sizeof(call->ns))) {
		api_error_reply(
			req, API_ERR_DIRECT_INVOKE, 0, NULL,
			"failed to invoke, id: %.300s, err: an app id and a namespace have at most 255 bytes each",
			app_id);
		api_invoke_free(call);
		return;
	}
	call->path = api_invoke_path(req, method);
	if (call->path == NULL) {
		api_error_reply(req, API_ERR_INTERNAL, 0, NULL, "out of memory");
		api_invoke_free(call);
		return;
	}
	invoke_copy_request_headers(evhttp_request_get_input_headers(req), &call->headers);
	invoke_add_forwarded(req, &call->headers);
	/* Its own app: no name resolution, no second sidecar. */
	if (strcmp(call->id, srv->opts->app_id) == 0 &&
	    (call->ns[0] == '\0' || strcmp(call->ns, own_ns) == 0)) {
		invoke_to_app(srv, srv->http, req, call->path, &call->headers, srv->opts->app_id, own_ns,
			      false);
		api_invoke_free(call);
		return;
	}
	call->req = req;
	/* Before resolving: a resolver may answer from inside the call. */
	evhttp_connection_set_closecb(evhttp_request_get_connection(req), api_invoke_conn_closed, call);
	if (nameres_resolve(srv, call->id, call->ns, api_invoke_resolved, call) != 0) {
		api_invoke_take(call);
		api_error_reply(req, API_ERR_DIRECT_INVOKE, 0, NULL,
				"failed to invoke, id: %s, err: out of memory", call->id);
		api_invoke_free(call);
	}
}
