/* SPDX-License-Identifier: Apache-2.0 */
/* The publish table's HTTP adapter: a request as Dapr's HTTP API takes it (API.md §2.1, §2.3). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "http_client.h"
#include "pubsub_transport.h"

int pt_grpc_port;

size_t pt_data_len(const struct pt_request *req)
{
	return req->len > 0 ? req->len : strlen(req->data);
}

size_t pt_entry_len(const struct pt_entry *e)
{
	return e->len > 0 ? e->len : strlen(e->data);
}

/* s percent-encoded for a URL, '/' kept: the topic is the rest of the path. Caller frees. */
static char *pt_escape(const char *s, bool keep_slash)
{
	static const char hex[] = "0123456789ABCDEF";
	char *out = malloc(strlen(s) * 3 + 1), *o = out;

	for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		    strchr("-._~", *p) != NULL || (keep_slash && *p == '/')) {
			*o++ = (char)*p;
		} else {
			*o++ = '%';
			*o++ = hex[*p >> 4];
			*o++ = hex[*p & 15];
		}
	}
	*o = '\0';
	return out;
}

/* "?metadata.k=v&..." for md, or "". Caller frees. */
static char *pt_query(const char *const *md)
{
	size_t cap = 1;
	char *q;

	for (size_t i = 0; md[i] != NULL; i += 2)
		cap += 3 * (strlen(md[i]) + strlen(md[i + 1])) + 12;
	q = calloc(1, cap);
	for (size_t i = 0; md[i] != NULL; i += 2) {
		char *k = pt_escape(md[i], false), *v = pt_escape(md[i + 1], false);

		strcat(q, i == 0 ? "?metadata." : "&metadata.");
		strcat(q, k);
		strcat(q, "=");
		strcat(q, v);
		free(k);
		free(v);
	}
	return q;
}

static const char *pt_base64(const unsigned char *data, size_t len, char *out)
{
	static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char *o = out;

	for (size_t i = 0; i < len; i += 3) {
		unsigned v = (unsigned)data[i] << 16 | (i + 1 < len ? (unsigned)data[i + 1] << 8 : 0) |
			     (i + 2 < len ? data[i + 2] : 0);

		*o++ = abc[v >> 18 & 63];
		*o++ = abc[v >> 12 & 63];
		*o++ = i + 1 < len ? abc[v >> 6 & 63] : '=';
		*o++ = i + 2 < len ? abc[v & 63] : '=';
	}
	*o = '\0';
	return out;
}

/*
 * An entry's event as the HTTP bulk body carries it: JSON types embedded as JSON, binary ones as
 * a base64 string, text as a string.
 */
static json_t *pt_event_json(const struct pt_entry *e)
{
	size_t len = pt_entry_len(e);
	const char *ct = e->content_type != NULL ? e->content_type : "";

	if (strstr(ct, "json") != NULL)
		return json_loadb(e->data, len, JSON_DECODE_ANY, NULL);
	if (strcmp(ct, "application/octet-stream") == 0) {
		char *b64 = malloc(len * 4 / 3 + 8);
		json_t *s = json_string(pt_base64((const unsigned char *)e->data, len, b64));

		free(b64);
		return s;
	}
	return json_stringn(e->data, len);
}

static char *pt_bulk_body(const struct pt_request *req)
{
	json_t *list = json_array();
	char *text;

	for (size_t i = 0; i < req->nentries; i++) {
		const struct pt_entry *e = &req->entries[i];
		json_t *o = json_object(), *md = json_object();

		json_object_set_new(o, "entryId", json_string(e->entry_id));
		json_object_set_new(o, "event", pt_event_json(e));
		if (e->content_type != NULL)
			json_object_set_new(o, "contentType", json_string(e->content_type));
		for (size_t k = 0; e->md[k] != NULL; k += 2)
			json_object_set_new(md, e->md[k], json_string(e->md[k + 1]));
		json_object_set_new(o, "metadata", md);
		json_array_append_new(list, o);
	}
	text = json_dumps(list, JSON_COMPACT);
	json_decref(list);
	return text;
}

static void pt_read_answer(const struct pt_request *req, const struct http_response *r, struct pt_result *out)
{
	json_t *body = json_loadb(r->body != NULL ? r->body : "", r->body_len, 0, NULL);
	json_t *failed = json_object_get(body, "failedEntries");

	memset(out, 0, sizeof(*out));
	out->status = r->status;
	if (r->status == 204 || (req->bulk && r->status == 500 && json_is_array(failed))) {
		out->ok = true;
		out->nfailed = json_array_size(failed);
	}
	snprintf(out->code, sizeof(out->code), "%s",
		 json_string_value(json_object_get(body, "errorCode")) ?: "");
	snprintf(out->message, sizeof(out->message), "%s",
		 json_string_value(json_object_get(body, "message")) ?: (r->body != NULL ? r->body : ""));
	for (size_t i = 0; i < json_array_size(json_object_get(body, "details")); i++) {
		json_t *d = json_array_get(json_object_get(body, "details"), i);

		if (strstr(json_string_value(json_object_get(d, "@type")) ?: "", "google.rpc.ErrorInfo") != NULL)
			snprintf(out->reason, sizeof(out->reason), "%s",
				 json_string_value(json_object_get(d, "reason")) ?: "");
	}
	json_decref(body);
}

int pt_publish_http(const struct daemon *d, const struct pt_request *req, struct pt_result *out)
{
	char *pubsub = pt_escape(req->pubsub, false), *topic = pt_escape(req->topic, true);
	char *query = pt_query(req->bulk ? req->md : req->md), *path = NULL, *headers = NULL, *body = NULL;
	struct http_response r = { 0 };
	const void *data;
	size_t len;
	int rc;

	if (req->bulk) {
		rc = asprintf(&path, "/v1.0/publish/bulk/%s/%s%s", pubsub, topic, query);
		body = pt_bulk_body(req);
		data = body;
		len = strlen(body);
		headers = strdup("Content-Type: application/json\r\n");
	} else {
		/* The router's own forms for an empty pubsub or topic. */
		if (req->pubsub[0] == '\0')
			rc = asprintf(&path, "/v1.0/publish%s", query);
		else if (req->topic[0] == '\0')
			rc = asprintf(&path, "/v1.0/publish/%s%s", pubsub, query);
		else
			rc = asprintf(&path, "/v1.0/publish/%s/%s%s", pubsub, topic, query);
		data = req->data;
		len = pt_data_len(req);
		if (req->content_type != NULL && asprintf(&headers, "Content-Type: %s\r\n", req->content_type) < 0)
			headers = NULL;
	}
	if (rc >= 0)
		rc = http_request(d->port, "POST", path, headers, data, len, &r);
	if (rc == 0)
		pt_read_answer(req, &r, out);
	http_response_free(&r);
	free(pubsub);
	free(topic);
	free(query);
	free(path);
	free(headers);
	free(body);
	return rc == 0 ? 0 : -1;
}
