/* SPDX-License-Identifier: Apache-2.0 */
/* Service invocation over gRPC (Dapr's InvokeService): decode the request, call the block, encode its answer as daprd does. */
#include "config.h"

#include "api/grpc/api_invoke.h"

#include <stdio.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "api/grpc/grpc_call.h"
#include "api/grpc/grpc_trace.h"
#include "api/grpc/grpc_unpack.h"
#include "base/net_addr.h"
#include "blocks/invoke/invoke.h"
#include "channels/app_grpc.h"
#include "dapr/proto/common/v1/common.pb-c.h"
#include "dapr/proto/runtime/v1/dapr.pb-c.h"
#include "google/protobuf/any.pb-c.h"

#define API_INVOKE_METHOD "/dapr.proto.runtime.v1.Dapr/InvokeService"

/* daprd's Content-Type for data whose Any names a protobuf type. */
#define API_INVOKE_PROTOBUF_CT "application/x-protobuf"

/* daprd cuts the app's error body to this many bytes in ErrorInfo's metadata. */
#define API_INVOKE_DETAIL_MAX 63

/* Go's net/http StatusText, which daprd puts in the gRPC message of an app's non-2xx answer. */
static const char *api_invoke_status_text(int status)
{
	static const struct {
		int status;
		const char *text;
	} texts[] = {
		{ 200, "OK" },
		{ 201, "Created" },
		{ 202, "Accepted" },
		{ 203, "Non-Authoritative Information" },
		{ 204, "No Content" },
		{ 205, "Reset Content" },
		{ 206, "Partial Content" },
		{ 207, "Multi-Status" },
		{ 208, "Already Reported" },
		{ 226, "IM Used" },
		{ 300, "Multiple Choices" },
		{ 301, "Moved Permanently" },
		{ 302, "Found" },
		{ 303, "See Other" },
		{ 304, "Not Modified" },
		{ 305, "Use Proxy" },
		{ 307, "Temporary Redirect" },
		{ 308, "Permanent Redirect" },
		{ 400, "Bad Request" },
		{ 401, "Unauthorized" },
		{ 402, "Payment Required" },
		{ 403, "Forbidden" },
		{ 404, "Not Found" },
		{ 405, "Method Not Allowed" },
		{ 406, "Not Acceptable" },
		{ 407, "Proxy Authentication Required" },
		{ 408, "Request Timeout" },
		{ 409, "Conflict" },
		{ 410, "Gone" },
		{ 411, "Length Required" },
		{ 412, "Precondition Failed" },
		{ 413, "Request Entity Too Large" },
		{ 414, "Request URI Too Long" },
		{ 415, "Unsupported Media Type" },
		{ 416, "Requested Range Not Satisfiable" },
		{ 417, "Expectation Failed" },
		{ 418, "I'm a teapot" },
		{ 421, "Misdirected Request" },
		{ 422, "Unprocessable Entity" },
		{ 423, "Locked" },
		{ 424, "Failed Dependency" },
		{ 425, "Too Early" },
		{ 426, "Upgrade Required" },
		{ 428, "Precondition Required" },
		{ 429, "Too Many Requests" },
		{ 431, "Request Header Fields Too Large" },
		{ 451, "Unavailable For Legal Reasons" },
		{ 500, "Internal Server Error" },
		{ 501, "Not Implemented" },
		{ 502, "Bad Gateway" },
		{ 503, "Service Unavailable" },
		{ 504, "Gateway Timeout" },
		{ 505, "HTTP Version Not Supported" },
		{ 506, "Variant Also Negotiates" },
		{ 507, "Insufficient Storage" },
		{ 508, "Loop Detected" },
		{ 510, "Not Extended" },
		{ 511, "Network Authentication Required" },
	};

	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
		if (texts[i].status == status)
			return texts[i].text;
	return "";
}

/* daprd's CodeFromHTTPStatus: the gRPC status of an app's HTTP answer. */
static int api_invoke_code_of(int status)
{
	if (status >= 200 && status < 300)
		return GRPC_OK;
	switch (status) {
	case 408: return GRPC_CANCELLED;
	case 500: return GRPC_UNKNOWN;
	case 400: return GRPC_INTERNAL;
	case 504: return GRPC_DEADLINE_EXCEEDED;
	case 404: return GRPC_NOT_FOUND;
	case 409: return GRPC_ALREADY_EXISTS;
	case 403: return GRPC_PERMISSION_DENIED;
	case 401: return GRPC_UNAUTHENTICATED;
	case 429: return GRPC_RESOURCE_EXHAUSTED;
	case 501: return GRPC_UNIMPLEMENTED;
	case 503: return GRPC_UNAVAILABLE;
	}
	return GRPC_UNKNOWN;
}

/* Whether s[0..len) is valid UTF-8: a protobuf string must be, or daprd's details fail to pack. */
static bool api_invoke_utf8(const unsigned char *s, size_t len)
{
	for (size_t i = 0; i < len;) {
		unsigned char c = s[i];
		uint32_t cp;
		size_t n;

		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xC2 && c <= 0xDF) {
			n = 1;
			cp = c & 0x1F;
		} else if (c >= 0xE0 && c <= 0xEF) {
			n = 2;
			cp = c & 0x0F;
		} else if (c >= 0xF0 && c <= 0xF4) {
			n = 3;
			cp = c & 0x07;
		} else {
			return false;
		}
		if (len - i <= n)
			return false;
		for (size_t k = 1; k <= n; k++) {
			if ((s[i + k] & 0xC0) != 0x80)
				return false;
			cp = (cp << 6) | (s[i + k] & 0x3F);
		}
		if ((n == 2 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
		    (n == 3 && (cp < 0x10000 || cp > 0x10FFFF)))
			return false;
		i += n + 1;
	}
	return true;
}

/* The verb of an HTTP extension as the block takes it; NULL when there is no extension. */
static const char *api_invoke_verb(const Dapr__Proto__Common__V1__HTTPExtension *ext)
{
	if (ext == NULL)
		return NULL;
	switch (ext->verb) {
	case DAPR__PROTO__COMMON__V1__HTTPEXTENSION__VERB__GET: return "GET";
	case DAPR__PROTO__COMMON__V1__HTTPEXTENSION__VERB__HEAD: return "HEAD";
	case DAPR__PROTO__COMMON__V1__HTTPEXTENSION__VERB__POST: return "POST";
	case DAPR__PROTO__COMMON__V1__HTTPEXTENSION__VERB__PUT: return "PUT";
	case DAPR__PROTO__COMMON__V1__HTTPEXTENSION__VERB__DELETE: return "DELETE";
	case DAPR__PROTO__COMMON__V1__HTTPEXTENSION__VERB__CONNECT: return "CONNECT";
	case DAPR__PROTO__COMMON__V1__HTTPEXTENSION__VERB__OPTIONS: return "OPTIONS";
	case DAPR__PROTO__COMMON__V1__HTTPEXTENSION__VERB__TRACE: return "TRACE";
	case DAPR__PROTO__COMMON__V1__HTTPEXTENSION__VERB__PATCH: return "PATCH";
	default: return "NONE";
	}
}

/*
 * The call's metadata as the app is to get it in headers, as daprd maps them: content-type,
 * content-length and binary ("-bin") entries stay behind, grpc-* travels under a dapr- prefix; the
 * :authority the client called is the Host of the Forwarded headers the block adds. The block then
 * drops what never travels (dapr-api-token, te, ...).
 */
static int api_invoke_headers(const struct grpc_call *call, struct kv_list *out)
{
	const char *name, *value;

	for (size_t i = 0; grpc_call_metadata_at(call, i, &name, &value); i++) {
		size_t n = strlen(name);
		char *prefixed;
		int rc;

		if (strcmp(name, "content-type") == 0 || strcmp(name, "content-length") == 0 ||
		    (n >= 4 && strcmp(name + n - 4, "-bin") == 0))
			continue;
		if (strncmp(name, "grpc-", 5) != 0) {
			rc = kv_add(out, name, value);
		} else if (asprintf(&prefixed, "dapr-%s", name) < 0) {
			rc = -1;
		} else {
			rc = kv_add(out, prefixed, value);
			free(prefixed);
		}
		if (rc != 0)
			return -1;
	}
	if (grpc_call_authority(call) != NULL && kv_add(out, "Host", grpc_call_authority(call)) != 0)
		return -1;
	return 0;
}

/* A gRPC app's answer, as daprd hands it to a gRPC caller: its data with type_url, or its status. */
static void api_invoke_reply_grpc(struct grpc_call *call, const struct app_grpc_invoke_result *r)
{
	Dapr__Proto__Common__V1__InvokeResponse res = DAPR__PROTO__COMMON__V1__INVOKE_RESPONSE__INIT;
	Google__Protobuf__Any data = GOOGLE__PROTOBUF__ANY__INIT;

	/* The app's metadata goes on, as daprd sets it on its answer; without it when out of memory. */
	(void)grpc_call_add_reply_metadata(call, r->headers, r->trailers);
	if (r->status != GRPC_OK) {
		/* The app's rich error details too, as daprd hands them on. */
		grpc_call_fail_details(call, r->status, r->status_details_bin, r->message);
		return;
	}
	data.type_url = (char *)r->data_type_url;
	data.value.data = (uint8_t *)r->data;
	data.value.len = r->len;
	res.data = &data;
	res.content_type = (char *)r->content_type;
	grpc_call_reply(call, &res.base);
}

static void api_invoke_reply(struct grpc_call *call, const struct invoke_answer *ans)
{
	Dapr__Proto__Common__V1__InvokeResponse res = DAPR__PROTO__COMMON__V1__INVOKE_RESPONSE__INIT;
	Google__Protobuf__Any data = GOOGLE__PROTOBUF__ANY__INIT;
	int code = api_invoke_code_of(ans->status);
	const char *text = api_invoke_status_text(ans->status);
	char status[16], detail[API_INVOKE_DETAIL_MAX + 1];
	size_t n = ans->len < API_INVOKE_DETAIL_MAX ? ans->len : API_INVOKE_DETAIL_MAX;
	const char *meta[4];

	if (code == GRPC_OK) {
		/* An HTTP app's answer names no protobuf type: daprd leaves type_url empty. */
		data.value.data = (uint8_t *)ans->body;
		data.value.len = ans->len;
		res.data = &data;
		res.content_type = (char *)(ans->content_type != NULL ? ans->content_type : "");
		grpc_call_reply(call, &res.base);
		return;
	}
	/* daprd: the status text as message, and an ErrorInfo with the status and the body's start. */
	if (n > 0)
		memcpy(detail, ans->body, n);
	detail[n] = '\0';
	if (strlen(detail) != n || !api_invoke_utf8((const unsigned char *)detail, n)) {
		grpc_call_fail(call, code, NULL, "%s", text);
		return;
	}
	snprintf(status, sizeof(status), "%d", ans->status);
	meta[0] = "http.code";
	meta[1] = status;
	meta[2] = "http.error_message";
	meta[3] = detail;
	grpc_call_fail_info(call, code, text, meta, 2, "%s", text);
}

static void api_invoke_done(void *arg, const struct block_error *err, const struct invoke_answer *ans)
{
	struct grpc_call *call = arg;

	if (err != NULL)
		/* The callee sidecar's error too: over gRPC it is a status, not an HTTP answer. */
		grpc_call_fail(call, block_error_grpc_code(err), api_error_def(err->error)->reason, "%s",
			       err->message);
	else if (ans->grpc != NULL)
		api_invoke_reply_grpc(call, ans->grpc);
	else
		api_invoke_reply(call, ans);
}

static bool api_invoke_wanted(void *arg)
{
	return grpc_call_alive(arg);
}

static void api_invoke_service(struct grpc_call *call, const uint8_t *msg, size_t len)
{
	Dapr__Proto__Runtime__V1__InvokeServiceRequest *in = grpc_call_unpack(
		call, &dapr__proto__runtime__v1__invoke_service_request__descriptor, msg, len);
	const Dapr__Proto__Common__V1__InvokeRequest *m;
	struct invoke_request rq = { 0 };
	struct kv_list headers = { 0 };
	char client[64], self[64];

	if (in == NULL)
		return;
	if (api_invoke_headers(call, &headers) != 0) {
		kv_free(&headers);
		dapr__proto__runtime__v1__invoke_service_request__free_unpacked(in, NULL);
		grpc_call_fail(call, GRPC_INTERNAL, NULL, "out of memory");
		return;
	}
	m = in->message;
	rq.target = in->id;
	rq.method = m != NULL ? m->method : "";
	grpc_trace_invoke(call, rq.target, rq.method);
	rq.verb = api_invoke_verb(m != NULL ? m->http_extension : NULL);
	rq.query = m != NULL && m->http_extension != NULL && m->http_extension->querystring[0] != '\0'
			   ? m->http_extension->querystring
			   : NULL;
	/* daprd: data that names its protobuf type travels as application/x-protobuf. */
	if (m != NULL && m->data != NULL && m->data->type_url != NULL && m->data->type_url[0] != '\0')
		rq.content_type = API_INVOKE_PROTOBUF_CT;
	else
		rq.content_type = m != NULL ? m->content_type : "";
	rq.headers = &headers;
	if (m != NULL && m->data != NULL) {
		rq.body = m->data->value.data;
		rq.len = m->data->value.len;
		rq.data_type_url = m->data->type_url;
	}
	rq.wanted = api_invoke_wanted;
	/* The caller's grpc-timeout bounds the app's call too: no work goes on past the caller's wait. */
	{
		int64_t left = grpc_call_remaining_ms(call);

		if (left >= 0)
			rq.timeout_ms = left == 0 ? 1 : left > INT_MAX ? INT_MAX : (int)left;
	}
	/* This hop's entry of X-Forwarded-For and Forwarded, as over HTTP (daprd sets them for both). */
	rq.client = net_addr_text(grpc_call_socket(call), true, client, sizeof(client)) ? client : NULL;
	rq.self = net_addr_text(grpc_call_socket(call), false, self, sizeof(self)) ? self : NULL;
	invoke_call(grpc_call_server(call), &rq, api_invoke_done, call);
	kv_free(&headers);
	dapr__proto__runtime__v1__invoke_service_request__free_unpacked(in, NULL);
}

void api_invoke_grpc_register(void)
{
	grpc_methods_register(API_INVOKE_METHOD, api_invoke_service);
}
