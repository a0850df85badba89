/* SPDX-License-Identifier: Apache-2.0 */
/* An HTTP caller of a gRPC app, as daprd bridges them: headers to metadata, InvokeResponse to an HTTP answer. */
#include "config.h"

#include "channels/app_grpc_http.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

/* IANA's permanent request headers that daprd renames "dapr-<name>" on their way to a gRPC app. */
static bool ah_permanent(const char *name)
{
	static const char *const permanent[] = {
		"accept",
		"accept-charset",
		"accept-language",
		"accept-ranges",
		"connection",
		"keep-alive",
		"proxy-connection",
		"transfer-encoding",
		"upgrade",
		"cache-control",
		"content-type",
		"content-length",
		"cookie",
		"date",
		"expect",
		"from",
		"host",
		"if-match",
		"if-modified-since",
		"if-none-match",
		"if-schedule-tag-match",
		"if-unmodified-since",
		"max-forwards",
		"origin",
		"pragma",
		"referer",
		"via",
		"warning",
	};

	for (size_t i = 0; i < sizeof(permanent) / sizeof(permanent[0]); i++)
		if (strcmp(name, permanent[i]) == 0)
			return true;
	return false;
}

int app_grpc_metadata_from_http(const struct kv_list *headers, struct kv_list *out)
{
	char name[300];

	if (headers == NULL)
		return 0;
	for (size_t i = 0; i < headers->count; i++) {
		const char *k = headers->items[i].key;
		size_t n = strlen(k);

		if (n == 0 || n + 5 >= sizeof(name))
			continue;
		/* Go's server keeps Host out of the request's headers; the target's id is daprd's own. */
		if (strcasecmp(k, "host") == 0 || strcasecmp(k, "destination-app-id") == 0)
			continue;
		for (size_t j = 0; j <= n; j++)
			name[j] = (char)tolower((unsigned char)k[j]);
		if (ah_permanent(name)) {
			memmove(name + 5, name, n + 1);
			memcpy(name, "dapr-", 5);
		}
		if (kv_set(out, name, headers->items[i].value) != 0)
			return -1;
	}
	return 0;
}

int app_grpc_http_status(int grpc_code)
{
	static const int status[17] = {
		200, /* OK */
		408, /* CANCELLED */
		500, /* UNKNOWN */
		400, /* INVALID_ARGUMENT */
		504, /* DEADLINE_EXCEEDED */
		404, /* NOT_FOUND */
		409, /* ALREADY_EXISTS */
		403, /* PERMISSION_DENIED */
		429, /* RESOURCE_EXHAUSTED */
		400, /* FAILED_PRECONDITION: deliberately not 412 */
		409, /* ABORTED */
		400, /* OUT_OF_RANGE */
		501, /* UNIMPLEMENTED */
		500, /* INTERNAL */
		503, /* UNAVAILABLE */
		500, /* DATA_LOSS */
		401, /* UNAUTHENTICATED */
	};

	return grpc_code >= 0 && grpc_code <= 16 ? status[grpc_code] : 500;
}

/* Names of the app's metadata that never become HTTP headers (daprd's InternalMetadataToHTTPHeader). */
static bool ah_header_dropped(const char *name)
{
	static const char *const dropped[] = {
		"content-type", "content-length",   "destination-app-id", "connection",
		"keep-alive",	"proxy-connection", "proxy-authenticate", "proxy-authorization",
		"te",		"trailer",	    "transfer-encoding",  "upgrade",
	};
	size_t n = strlen(name);

	if (n >= 4 && strcmp(name + n - 4, "-bin") == 0)
		return true;
	for (size_t i = 0; i < sizeof(dropped) / sizeof(dropped[0]); i++)
		if (strcmp(name, dropped[i]) == 0)
			return true;
	return false;
}

/* text as a JSON string; bytes of a message that is not UTF-8 become '?' (JSON must be UTF-8). */
static json_t *ah_json_text(const char *text)
{
	json_t *j = json_string(text);
	char *copy;

	if (j != NULL || (copy = strdup(text)) == NULL)
		return j;
	for (char *p = copy; *p != '\0'; p++)
		if ((unsigned char)*p >= 0x80)
			*p = '?';
	j = json_string(copy);
	free(copy);
	return j;
}

int app_grpc_http_answer(const struct app_grpc_invoke_result *r, struct app_grpc_http_answer *out)
{
	memset(out, 0, sizeof(*out));
	for (size_t i = 0; r->headers != NULL && i < r->headers->count; i++) {
		const char *k = r->headers->items[i].key;
		char name[300];

		if (ah_header_dropped(k))
			continue;
		/* A grpc-* name would mean something to the caller's own gRPC stack; daprd prefixes it. */
		if (strncmp(k, "grpc-", 5) == 0)
			snprintf(name, sizeof(name), "dapr-%s", k);
		else
			snprintf(name, sizeof(name), "%s", k);
		if (kv_set(&out->headers, name, r->headers->items[i].value) != 0)
			goto oom;
	}
	if (r->status == 0) {
		out->status = 200;
		if (r->data_type_url != NULL && *r->data_type_url != '\0')
			out->content_type = "application/x-protobuf";
		else if (r->content_type != NULL && *r->content_type != '\0')
			out->content_type = r->content_type;
		out->body = r->data;
		out->len = r->data != NULL ? r->len : 0;
		return 0;
	}
	{
		/* protojson of daprd's internal Status: unset fields (an empty message) are left out. */
		json_t *st = json_object();

		if (st == NULL || json_object_set_new(st, "code", json_integer(r->status)) != 0 ||
		    (r->message != NULL && *r->message != '\0' &&
		     json_object_set_new(st, "message", ah_json_text(r->message)) != 0)) {
			json_decref(st);
			goto oom;
		}
		out->owned = json_dumps(st, JSON_COMPACT);
		json_decref(st);
		if (out->owned == NULL)
			goto oom;
	}
	out->status = app_grpc_http_status(r->status);
	out->content_type = "text/plain; charset=utf-8";
	out->body = out->owned;
	out->len = strlen(out->owned);
	return 0;
oom:
	app_grpc_http_answer_free(out);
	return -1;
}

void app_grpc_http_answer_free(struct app_grpc_http_answer *a)
{
	kv_free(&a->headers);
	free(a->owned);
	memset(a, 0, sizeof(*a));
}
