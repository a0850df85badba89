/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Service invocation, the building block (API.md §3): one call to an app by id, to this sidecar's
 * own app or through name resolution to another sidecar, in plain C for every front end.
 */
#include "config.h"

#include "blocks/invoke/invoke.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blocks/invoke/invoke_request.h"
#include "blocks/invoke/nameres.h"
#include "channels/app_call.h"
#include "channels/app_call_grpc.h"
#include "channels/app_grpc.h"
#include "channels/app_health.h"
#include "channels/grpc_client.h"
#include "channels/peer_call.h"
#include "channels/peer_channels.h"
#include "runtime.h"

/* One call on its way: what travels, kept while name resolution or the callee works. */
struct invoke_call {
	struct server *srv;
	char id[256];	/* the target app id ... */
	char ns[256];	/* ... and namespace ("" = none named) */
	char peer[300]; /* "host:port" of the callee's sidecar, once resolved */
	char *verb;
	char *path; /* "/method?query", as the callee's app is to get it */
	struct kv_list headers;
	void *body;
	size_t len;
	bool head;
	bool (*wanted)(void *arg);
	invoke_done_fn done;
	void *arg;
};

static void invoke_call_free(struct invoke_call *call)
{
	kv_free(&call->headers);
	free(call->verb);
	free(call->path);
	free(call->body);
	free(call);
}

static void invoke_fail(invoke_done_fn done, void *arg, enum api_error e, int http_status, const char *fmt,
			...) __attribute__((format(printf, 5, 6)));

/* The words of the failure Dapr's built-in retries are for (gRPC Unavailable between sidecars). */
#define INVOKE_UNREACHABLE "cannot reach the sidecar of"

bool invoke_error_unreachable(const struct block_error *err)
{
	/* Only a connection that was never made: a call lost after it was sent may have been served. */
	return err != NULL && err->error == API_ERR_DIRECT_INVOKE &&
	       strstr(err->message, "err: " INVOKE_UNREACHABLE " ") != NULL &&
	       strstr(err->message, "could not connect") != NULL;
}

/* Finishes with a failure of this sidecar's own. */
static void invoke_fail(invoke_done_fn done, void *arg, enum api_error e, int http_status, const char *fmt,
			...)
{
	struct block_error err;
	char message[sizeof(err.message)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(message, sizeof(message), fmt, ap);
	va_end(ap);
	block_fail(&err, e, NULL, "%s", message);
	err.http_status = http_status;
	done(arg, &err, NULL);
}

/* A verb no app can be called with (over HTTP the listener refuses others; gRPC names any). */
static void invoke_bad_verb(invoke_done_fn done, void *arg, const char *id, const char *verb)
{
	if (verb == NULL)
		invoke_fail(
			done, arg, API_ERR_DIRECT_INVOKE, 0,
			"failed to invoke, id: %s, err: missing HTTP extension field: the call names no HTTP verb",
			id);
	else
		invoke_fail(
			done, arg, API_ERR_DIRECT_INVOKE, 0,
			"failed to invoke, id: %s, err: invalid HTTP verb %.32s; use GET, HEAD, POST, PUT, DELETE, OPTIONS or PATCH",
			id, verb);
}

/*
 * Whether rq's method and query can travel in a request line; if not, finishes with an error
 * naming the byte. daprd refuses the same bytes in a method (NormalizeMethod).
 */
static bool invoke_target_ok(const struct invoke_request *rq, const char *id, invoke_done_fn done, void *arg)
{
	const char *bad = invoke_bad_byte(rq->method, false);
	const char *what = "method";
	const char *in = rq->method;

	if (bad == NULL && rq->query != NULL) {
		bad = invoke_bad_byte(rq->query, true);
		what = "query string";
		in = rq->query;
	}
	if (bad == NULL)
		return true;
	invoke_fail(
		done, arg, API_ERR_DIRECT_INVOKE, 0,
		"failed to invoke, id: %s, err: the %s holds byte 0x%02x at position %zu, which cannot travel in a request line; percent-encode it",
		id, what, (unsigned char)*bad, (size_t)(bad - in));
	return false;
}

/* The answer of a call that was answered: its headers filtered in place. */
static void invoke_answer_of(struct app_call_answer *a, bool head, struct invoke_answer *ans)
{
	invoke_filter_response_headers(a->headers, head);
	ans->content_type = invoke_header(a->headers, "Content-Type");
	ans->status = a->status;
	ans->reason = a->reason;
	ans->headers = a->headers;
	ans->body = a->body;
	ans->len = a->len;
	ans->grpc = a->grpc;
}

/* Where this sidecar's app listens, for messages. */
static const char *invoke_app_address(const struct server *srv)
{
	if (srv->app_grpc != NULL)
		return grpc_client_address(app_grpc_client(srv->app_grpc));
	return srv->app != NULL ? app_call_address(srv->app) : "(no app)";
}

/* ---- this sidecar's app ---- */

struct invoke_app_call {
	struct server *srv;
	bool head;
	invoke_done_fn done;
	void *arg;
};

/* outrigd stopped with the call at the app: its caller was freed already (grpc_server_free). */
static void invoke_app_abandoned(void *arg)
{
	free(arg);
}

static void invoke_app_answered(void *arg, struct app_call_answer *a)
{
	struct invoke_app_call *call = arg;
	const char *callee = call->srv->opts->app_id;
	struct invoke_answer ans;

	if (a->outcome == APP_CALL_ANSWERED) {
		invoke_answer_of(a, call->head, &ans);
		call->done(call->arg, NULL, &ans);
	} else if (a->outcome == APP_CALL_UNREACHABLE) {
		invoke_fail(
			call->done, call->arg, API_ERR_DIRECT_INVOKE, 0,
			"failed to invoke, id: %s, err: cannot reach the app at %s: %s; is the app running?",
			callee, invoke_app_address(call->srv), a->error);
	} else {
		/* The app answered something that cannot be passed on: a bad gateway, or too large. */
		invoke_fail(
			call->done, call->arg, API_ERR_DIRECT_INVOKE,
			a->outcome == APP_CALL_INVALID ? 502 : 0,
			"failed to invoke, id: %s, err: the app at %s answered, but %s; the connection was closed",
			callee, invoke_app_address(call->srv), a->error);
	}
	free(call);
}

/*
 * Calls this sidecar's app with verb path, headers (already filtered) plus who calls it, and the
 * body; then done.
 */
static void invoke_to_app(struct server *srv, const char *verb, const char *path, struct kv_list *headers,
			  const char *caller_id, const char *caller_ns, const void *body, size_t len,
			  const char *type_url, bool (*wanted)(void *arg), int timeout_ms,
			  invoke_done_fn done, void *arg)
{
	const char *callee = srv->opts->app_id;
	struct app_call_request rq = {
		verb, path, headers, body, len, type_url, wanted, arg, invoke_app_abandoned, timeout_ms
	};
	struct invoke_app_call *call;
	int rc;

	if (srv->app == NULL && srv->app_grpc == NULL) {
		invoke_fail(
			done, arg, API_ERR_DIRECT_INVOKE, 0,
			"failed to invoke, id: %s, err: the sidecar has no app to call: it was started without --app-port",
			callee);
		return;
	}
	if (!app_health_ok(srv)) {
		invoke_fail(done, arg, API_ERR_DIRECT_INVOKE, 0,
			    "failed to invoke, id: %s, err: app is not in a healthy state", callee);
		return;
	}
	call = calloc(1, sizeof(*call));
	if (call == NULL || kv_add(headers, "dapr-caller-app-id", caller_id) != 0 ||
	    (caller_ns != NULL && *caller_ns != '\0' &&
	     kv_add(headers, "dapr-caller-namespace", caller_ns) != 0) ||
	    kv_add(headers, "dapr-callee-app-id", callee) != 0) {
		free(call);
		invoke_fail(done, arg, API_ERR_DIRECT_INVOKE, 0,
			    "failed to invoke, id: %s, err: out of memory", callee);
		return;
	}
	call->srv = srv;
	call->head = verb != NULL && strcmp(verb, "HEAD") == 0;
	call->done = done;
	call->arg = arg;
	/* A call that fails at once calls back from inside the send. */
	if (srv->app_grpc != NULL)
		rc = app_call_send_grpc(srv->app_grpc, &rq, invoke_app_answered, call);
	else
		rc = app_call_send(srv->app, &rq, invoke_app_answered, call);
	if (rc != 0) {
		free(call);
		invoke_fail(done, arg, API_ERR_DIRECT_INVOKE, 0,
			    "failed to invoke, id: %s, err: out of memory", callee);
	}
}

/* The headers that travel for rq: the caller's that may, and the content type asked for. */
static int invoke_headers(const struct invoke_request *rq, struct kv_list *out)
{
	if (rq->headers != NULL && invoke_copy_request_headers(rq->headers, out) != 0)
		return -1;
	if (rq->content_type == NULL)
		return 0;
	invoke_header_remove(out, "Content-Type");
	return *rq->content_type != '\0' ? kv_add(out, "Content-Type", rq->content_type) : 0;
}

void invoke_serve(struct server *srv, const struct invoke_request *rq, const char *caller_id,
		  const char *caller_ns, invoke_done_fn done, void *arg)
{
	const char *own = srv->opts->app_id;
	struct kv_list headers = { 0 };
	char *path;

	if (!app_call_verb_ok(rq->verb)) {
		invoke_bad_verb(done, arg, own, rq->verb);
		return;
	}
	if (!invoke_target_ok(rq, own, done, arg))
		return;
	/* Cleaned again: a caller of another version must not escape the app's paths. */
	path = invoke_method_path(rq->method, rq->query);
	if (path == NULL || invoke_headers(rq, &headers) != 0) {
		invoke_fail(done, arg, API_ERR_DIRECT_INVOKE, 0,
			    "failed to invoke, id: %s, err: out of memory", own);
	} else {
		invoke_to_app(srv, rq->verb, path, &headers, caller_id, caller_ns, rq->body, rq->len,
			      rq->data_type_url, NULL, 0, done, arg);
	}
	kv_free(&headers);
	free(path);
}

/* ---- another sidecar's app ---- */

/* The message of the callee sidecar's error JSON, or a sentence saying it had none. */
static void invoke_sidecar_error(const struct invoke_call *call, const struct invoke_answer *ans,
				 struct block_error *err)
{
	json_t *doc = json_loadb(ans->body, ans->len, 0, NULL);
	const char *message = json_string_value(json_object_get(doc, "message"));

	if (message != NULL)
		block_fail(err, API_ERR_DIRECT_INVOKE, NULL, "%s", message);
	else
		block_fail(
			err, API_ERR_DIRECT_INVOKE, NULL,
			"failed to invoke, id: %s, err: the sidecar of %s at %s could not deliver the call (status %d)",
			call->id, call->id, call->peer, ans->status);
	err->http_status = ans->status;
	json_decref(doc);
}

static void invoke_peer_answered(void *arg, struct app_call_answer *a, enum peer_answer who)
{
	struct invoke_call *call = arg;
	struct invoke_answer ans;
	struct block_error err;

	if (a->outcome == APP_CALL_TOO_LARGE || a->outcome == APP_CALL_INVALID) {
		/* It answered, but not so that the answer can be passed on: a bad gateway, or too large. */
		invoke_fail(
			call->done, call->arg, API_ERR_DIRECT_INVOKE,
			a->outcome == APP_CALL_INVALID ? 502 : 0,
			"failed to invoke, id: %s, err: the sidecar of %s at %s answered, but %s; the connection was closed",
			call->id, call->id, call->peer, a->error);
	} else if (a->outcome != APP_CALL_ANSWERED) {
		invoke_fail(call->done, call->arg, API_ERR_DIRECT_INVOKE, 0,
			    "failed to invoke, id: %s, err: " INVOKE_UNREACHABLE " %s at %s: %s", call->id,
			    call->id, call->peer, a->error);
	} else if (who == PEER_ANSWER_NOT_OUTRIG) {
		invoke_fail(
			call->done, call->arg, API_ERR_DIRECT_INVOKE, 0,
			"failed to invoke, id: %s, err: %s answered %d without outrig's internal protocol; is name resolution pointing at something other than an outrigd of this version?",
			call->id, call->peer, a->status);
	} else {
		invoke_answer_of(a, call->head, &ans);
		if (who == PEER_ANSWER_SIDECAR) {
			invoke_sidecar_error(call, &ans, &err);
			call->done(call->arg, &err, &ans);
		} else {
			call->done(call->arg, NULL, &ans);
		}
	}
	invoke_call_free(call);
}

static void invoke_send(struct invoke_call *call, const struct outrig_nr_address *addr)
{
	struct server *srv = call->srv;
	const char *own_ns = invoke_own_namespace();
	struct peer_call_request rq = {
		{ call->verb, call->path, &call->headers, call->body, call->len },
		call->id,
		call->ns,
		srv->opts->app_id,
		own_ns,
	};
	int rc;

	snprintf(call->peer, sizeof(call->peer), strchr(addr->host, ':') != NULL ? "[%s]:%d" : "%s:%d",
		 addr->host, addr->port);
	if (srv->peers == NULL)
		srv->peers = peer_channels_new(srv->base, PEER_CALL_TIMEOUT_S, srv->opts->max_body_bytes,
					       srv->opts->read_buffer_bytes);
	rc = peer_call_send(srv->peers, addr->host, addr->port, &rq, invoke_peer_answered, call);
	if (rc == PEER_CALL_NO_CHANNEL) {
		invoke_fail(
			call->done, call->arg, API_ERR_DIRECT_INVOKE, 0,
			"failed to invoke, id: %s, err: no connection to %s could be made (out of memory, or too many calls in flight)",
			call->id, call->peer);
		invoke_call_free(call);
	} else if (rc != 0) {
		invoke_fail(call->done, call->arg, API_ERR_DIRECT_INVOKE, 0,
			    "failed to invoke, id: %s, err: out of memory", call->id);
		invoke_call_free(call);
	}
}

static void invoke_resolved(void *arg, int rc, const struct outrig_nr_address *addr, const char *error)
{
	struct invoke_call *call = arg;

	if (call->wanted != NULL && !call->wanted(call->arg)) {
		/* Nobody waits for the answer: nothing is sent. */
		invoke_fail(call->done, call->arg, API_ERR_DIRECT_INVOKE, 0,
			    "failed to invoke, id: %s, err: the caller went away", call->id);
		invoke_call_free(call);
	} else if (rc != 0 || addr == NULL) {
		invoke_fail(call->done, call->arg, API_ERR_DIRECT_INVOKE, 0,
			    "failed to invoke, id: %s, err: %s", call->id,
			    error != NULL ? error : "name resolution failed");
		invoke_call_free(call);
	} else {
		invoke_send(call, addr);
	}
}

void invoke_call_once(struct server *srv, const struct invoke_request *rq, invoke_done_fn done, void *arg)
{
	static const struct kv_list none;
	const char *own_ns = invoke_own_namespace();
	const char *target = rq->target;
	struct invoke_call *call;
	bool own;

	if (target == NULL || *target == '\0' || *target == '.') {
		invoke_fail(done, arg, API_ERR_DIRECT_INVOKE_NO_APP_ID, 0,
			    "failed getting app id either from the URL path or the header dapr-app-id");
		return;
	}
	call = calloc(1, sizeof(*call));
	if (call == NULL) {
		invoke_fail(done, arg, API_ERR_INTERNAL, 0, "out of memory");
		return;
	}
	call->srv = srv;
	call->done = done;
	call->arg = arg;
	call->wanted = rq->wanted;
	if (!invoke_split_target(target, call->id, sizeof(call->id), call->ns, sizeof(call->ns))) {
		invoke_fail(
			done, arg, API_ERR_DIRECT_INVOKE, 0,
			"failed to invoke, id: %.300s, err: an app id and a namespace have at most 255 bytes each",
			target);
		invoke_call_free(call);
		return;
	}
	own = strcmp(call->id, srv->opts->app_id) == 0 &&
	      (call->ns[0] == '\0' || strcmp(call->ns, own_ns) == 0);
	/* daprd hands a call without an HTTPExtension to a gRPC app as it came; other apps need a verb. */
	if (!app_call_verb_ok(rq->verb) && !(rq->verb == NULL && own && srv->app_grpc != NULL)) {
		invoke_bad_verb(done, arg, call->id, rq->verb);
		invoke_call_free(call);
		return;
	}
	if (!invoke_target_ok(rq, call->id, done, arg)) {
		invoke_call_free(call);
		return;
	}
	call->path = invoke_method_path(rq->method, rq->query);
	call->verb = rq->verb != NULL ? strdup(rq->verb) : NULL;
	if (call->path == NULL || (rq->verb != NULL && call->verb == NULL)) {
		invoke_fail(done, arg, API_ERR_INTERNAL, 0, "out of memory");
		invoke_call_free(call);
		return;
	}
	call->head = call->verb != NULL && strcmp(call->verb, "HEAD") == 0;
	if (invoke_headers(rq, &call->headers) != 0 ||
	    invoke_add_forwarded(&call->headers, rq->headers != NULL ? rq->headers : &none, rq->client,
				 rq->self) != 0) {
		invoke_fail(done, arg, API_ERR_DIRECT_INVOKE, 0,
			    "failed to invoke, id: %s, err: out of memory", call->id);
		invoke_call_free(call);
		return;
	}
	/* Its own app: no name resolution, no second sidecar. */
	if (own) {
		invoke_to_app(srv, call->verb, call->path, &call->headers, srv->opts->app_id, own_ns,
			      rq->body, rq->len, rq->data_type_url, rq->wanted, rq->timeout_ms, done, arg);
		invoke_call_free(call);
		return;
	}
	/* The caller's buffer may be gone by the time the callee's address is known. */
	if (rq->len > 0) {
		call->body = malloc(rq->len);
		if (call->body == NULL) {
			invoke_fail(done, arg, API_ERR_DIRECT_INVOKE, 0,
				    "failed to invoke, id: %s, err: out of memory", call->id);
			invoke_call_free(call);
			return;
		}
		memcpy(call->body, rq->body, rq->len);
		call->len = rq->len;
	}
	if (nameres_resolve(srv, call->id, call->ns, invoke_resolved, call) != 0) {
		invoke_fail(done, arg, API_ERR_DIRECT_INVOKE, 0,
			    "failed to invoke, id: %s, err: out of memory", call->id);
		invoke_call_free(call);
	}
}
