/* SPDX-License-Identifier: Apache-2.0 */
/* Spans of HTTP requests to the API and internal listeners, and trace context in and out. */
#include "config.h"

#include "api/http/http_trace.h"

#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "observe/trace.h"

/* The internal listener's prefix (api/internal/internal_protocol.md). */
#define HTTP_TRACE_INTERNAL "/outrig/v1/invoke/"

static const char *http_trace_verb(struct evhttp_request *req)
{
	switch (evhttp_request_get_command(req)) {
	case EVHTTP_REQ_GET: return "GET";
	case EVHTTP_REQ_POST: return "POST";
	case EVHTTP_REQ_PUT: return "PUT";
	case EVHTTP_REQ_DELETE: return "DELETE";
	case EVHTTP_REQ_PATCH: return "PATCH";
	case EVHTTP_REQ_HEAD: return "HEAD";
	case EVHTTP_REQ_OPTIONS: return "OPTIONS";
	default: return "OTHER";
	}
}

/* The n-th '/'-separated segment of path (0: the one after the leading '/'), into out. */
static bool http_trace_segment(const char *path, int n, char *out, size_t size)
{
	const char *p = path;
	size_t len;

	while (*p == '/')
		p++;
	for (int i = 0; i < n; i++) {
		p = strchr(p, '/');
		if (p == NULL)
			return false;
		p++;
	}
	len = strcspn(p, "/?");
	if (len == 0 || len >= size)
		return false;
	memcpy(out, p, len);
	out[len] = '\0';
	return true;
}

/* Daprd's span name: the path, or CallLocal/<app-id>/<method> for invocations. */
static void http_trace_name(struct evhttp_request *req, const char *path, bool internal, char *name,
			    size_t size)
{
	const char *target = evhttp_find_header(evhttp_request_get_input_headers(req), "dapr-app-id");
	char id[128];

	if (internal) {
		snprintf(name, size, "/dapr.proto.internals.v1.ServiceInvocation/CallLocal");
	} else if (strncmp(path, "/v1.0/invoke/", 13) == 0 && http_trace_segment(path, 2, id, sizeof(id))) {
		const char *m = strstr(path + 13, "/method/");

		snprintf(name, size, "CallLocal/%s/%s", id, m != NULL ? m + 8 : "");
	} else if (strncmp(path, "/v1.0", 5) != 0 && target != NULL) {
		snprintf(name, size, "CallLocal/%s/%s", target, path + (*path == '/'));
	} else {
		snprintf(name, size, "%s", path);
	}
	name[strcspn(name, "?")] = '\0';
}

/* Daprd's attributes for an API call, from its path (its getAPIComponent). */
static void http_trace_attrs(struct span *sp, struct evhttp_request *req, const char *path, bool internal)
{
	const char *verb = http_trace_verb(req);
	int status = evhttp_request_get_response_code(req);
	char block[32], name[128], api[512], code[16];

	snprintf(api, sizeof(api), "%s %s", verb, path);
	if (internal) {
		trace_attr(sp, "rpc.service", "ServiceInvocation");
		trace_attr(sp, "dapr.invoke_method", path + strlen(HTTP_TRACE_INTERNAL) - 1);
	} else if (strncmp(path, "/v1.0", 5) == 0 && http_trace_segment(path, 1, block, sizeof(block))) {
		bool named = http_trace_segment(path, 2, name, sizeof(name));

		if (named && (strcmp(block, "state") == 0 || strcmp(block, "secrets") == 0 ||
			      strcmp(block, "bindings") == 0)) {
			trace_attr(sp, "db.system", block);
			trace_attr(sp, "db.name", name);
			trace_attr(sp, "db.statement", api);
			trace_attr(sp, "db.connection_string", block);
		} else if (named && strcmp(block, "invoke") == 0) {
			trace_attr(sp, "rpc.service", "ServiceInvocation");
			trace_attr(sp, "net.peer.name", name);
		} else if (strcmp(block, "publish") == 0) {
			char topic[128];

			trace_attr(sp, "messaging.system", "pubsub");
			if (http_trace_segment(path, 3, topic, sizeof(topic)))
				trace_attr(sp, "messaging.destination", topic);
			trace_attr(sp, "messaging.destination_kind", "topic");
		}
	} else {
		const char *target = evhttp_find_header(evhttp_request_get_input_headers(req), "dapr-app-id");

		trace_attr(sp, "rpc.service", "ServiceInvocation");
		if (target != NULL)
			trace_attr(sp, "net.peer.name", target);
	}
	trace_attr(sp, "dapr.api", api);
	trace_attr(sp, "dapr.protocol", "http");
	snprintf(code, sizeof(code), "%d", status);
	trace_attr(sp, "dapr.status_code", code);
}

static void http_trace_done(struct evhttp_request *req, void *token)
{
	struct span *sp = trace_release(token);
	const char *path;
	bool internal;

	if (sp == NULL)
		return;
	path = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req));
	if (path == NULL)
		path = "/";
	internal = strncmp(path, HTTP_TRACE_INTERNAL, strlen(HTTP_TRACE_INTERNAL)) == 0;
	http_trace_attrs(sp, req, path, internal);
	trace_end(sp, evhttp_request_get_response_code(req) >= 400);
}

void http_trace_begin(struct evhttp_request *req, bool internal)
{
	struct evkeyvalq *in, *out;
	const char *path, *given, *state;
	struct trace_ctx parent, child;
	struct span *sp;
	char name[256], tp[TRACE_PARENT_LEN];
	bool has_parent;
	void *token;

	if (!trace_enabled())
		return;
	path = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req));
	if (path == NULL)
		path = "/";
	if (strstr(path, "/healthz") != NULL)
		return;
	in = evhttp_request_get_input_headers(req);
	out = evhttp_request_get_output_headers(req);
	given = evhttp_find_header(in, "traceparent");
	has_parent = trace_parse(given, &parent);
	http_trace_name(req, path, internal, name, sizeof(name));
	sp = trace_begin(has_parent ? &parent : NULL, name, TRACE_KIND_SERVER, &child);
	trace_format(&child, tp);
	evhttp_remove_header(in, "traceparent");
	evhttp_add_header(in, "traceparent", tp);
	state = evhttp_find_header(in, "tracestate");
	if (state != NULL && (!has_parent || !trace_state_ok(state))) {
		evhttp_remove_header(in, "tracestate");
		state = NULL;
	}
	/* The caller's sidecar answers its app with its own span's context, not this one's. */
	if (!internal) {
		evhttp_add_header(out, "traceparent", tp);
		if (state != NULL)
			evhttp_add_header(out, "tracestate", state);
	}
	if (sp == NULL)
		return;
	trace_set_current(&child);
	token = trace_hold(sp);
	if (token != NULL)
		evhttp_request_set_on_complete_cb(req, http_trace_done, token);
}
