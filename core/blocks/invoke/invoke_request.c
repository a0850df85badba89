/* SPDX-License-Identifier: Apache-2.0 */
/* Service invocation's request rules, free of any transport: method paths, targets, which headers travel. */
#include "config.h"

#include "blocks/invoke/invoke_request.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>

#include "blocks/pubsub/cloudevent.h"

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

char *invoke_method_path(const char *method, const char *query)
{
	char *clean = invoke_clean_path(method != NULL ? method : "");
	char *path;

	if (clean == NULL || query == NULL)
		return clean;
	if (asprintf(&path, "%s?%s", clean, query) < 0)
		path = NULL;
	free(clean);
	return path;
}

const char *invoke_bad_byte(const char *s, bool query)
{
	for (const char *p = s; p != NULL && *p != '\0'; p++) {
		unsigned char c = (unsigned char)*p;

		if (c <= 0x20 || c == 0x7f || c == '#' || (c == '?' && !query))
			return p;
	}
	return NULL;
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

const char *invoke_header(const struct kv_list *l, const char *name)
{
	for (size_t i = 0; i < l->count; i++)
		if (strcasecmp(l->items[i].key, name) == 0)
			return l->items[i].value;
	return NULL;
}

void invoke_header_remove(struct kv_list *l, const char *name)
{
	size_t n = 0;

	for (size_t i = 0; i < l->count; i++) {
		if (strcasecmp(l->items[i].key, name) != 0) {
			l->items[n++] = l->items[i];
		} else {
			free((char *)l->items[i].key);
			free((char *)l->items[i].value);
		}
	}
	l->count = n;
}

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
static bool invoke_named_by_connection(const char *name, const struct kv_list *all)
{
	for (size_t i = 0; i < all->count; i++)
		if (strcasecmp(all->items[i].key, "Connection") == 0 &&
		    invoke_named_in(name, all->items[i].value))
			return true;
	return false;
}

static bool invoke_is_hop(const char *name, const struct kv_list *all)
{
	for (int i = 0; invoke_hop_by_hop[i] != NULL; i++)
		if (strcasecmp(name, invoke_hop_by_hop[i]) == 0)
			return true;
	return strncasecmp(name, "Proxy-", 6) == 0 || strncasecmp(name, "outrig-", 7) == 0 ||
	       invoke_named_by_connection(name, all);
}

static bool invoke_drop_request_header(const char *name, const char *value, const struct kv_list *all)
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

int invoke_copy_request_headers(const struct kv_list *in, struct kv_list *out)
{
	for (size_t i = 0; i < in->count; i++) {
		const struct outrig_kv *h = &in->items[i];

		if (!invoke_drop_request_header(h->key, h->value, in) && kv_add(out, h->key, h->value) != 0)
			return -1;
	}
	return 0;
}

void invoke_filter_response_headers(struct kv_list *l, bool keep_length)
{
	/* Decided before any item moves: the Connection headers' tokens must stay readable. */
	bool small[64];
	bool *drop = l->count <= 64 ? small : malloc(l->count * sizeof(*drop));
	size_t n = 0;

	for (size_t i = 0; i < l->count; i++)
		if (drop != NULL)
			drop[i] = invoke_is_hop(l->items[i].key, l) ||
				  (!keep_length && strcasecmp(l->items[i].key, "Content-Length") == 0);
	for (size_t i = 0; i < l->count; i++) {
		/* Out of memory, no headers at all rather than hop-by-hop ones passed on. */
		if (drop != NULL && !drop[i]) {
			l->items[n++] = l->items[i];
		} else {
			free((char *)l->items[i].key);
			free((char *)l->items[i].value);
		}
	}
	l->count = n;
	if (drop != small)
		free(drop);
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
 * starts a trace of its own, not sampled. With tracing on, the front end has already put its
 * span's context here (api/http/http_trace.c, api/grpc/grpc_trace.c), so this only happens with it off.
 */
static int invoke_add_traceparent(struct kv_list *out)
{
	const char *given = invoke_header(out, "traceparent");
	unsigned char id[24];
	char value[64];
	size_t n = 0;

	if (given != NULL && invoke_traceparent_ok(given))
		return 0;
	invoke_header_remove(out, "traceparent");
	invoke_header_remove(out, "tracestate");
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
	return kv_add(out, "traceparent", value);
}

/* addr as Forwarded writes it: an IPv6 address quoted and bracketed (RFC 7239). */
static void invoke_node(char *buf, size_t size, const char *addr, bool quoted)
{
	if (addr == NULL || *addr == '\0')
		snprintf(buf, size, "unknown");
	else if (strchr(addr, ':') != NULL && quoted)
		snprintf(buf, size, "\"[%s]\"", addr);
	else
		snprintf(buf, size, "%s", addr);
}

int invoke_add_forwarded(struct kv_list *out, const struct kv_list *in, const char *client, const char *self)
{
	const char *host = invoke_header(in, "Host");
	const char *xff = invoke_header(in, "X-Forwarded-For");
	const char *fwd = invoke_header(in, "Forwarded");
	/* 46: INET6_ADDRSTRLEN, without pulling in the socket headers for one constant. */
	char cnode[46 + 8], by[46 + 8], cq[46 + 8];
	char *value;
	int rc;

	invoke_node(cnode, sizeof(cnode), client, false);
	invoke_node(cq, sizeof(cq), client, true);
	invoke_node(by, sizeof(by), self, true);
	/* Earlier proxies' entries come first; this hop's is appended (RFC 7239). */
	invoke_header_remove(out, "X-Forwarded-For");
	invoke_header_remove(out, "X-Forwarded-Host");
	invoke_header_remove(out, "Forwarded");
	/*
	 * As long as the caller's headers (the listener bounds them): a fixed buffer would cut off
	 * this hop's own entry, the one the callee can trust.
	 */
	if (asprintf(&value, "%s%s%s", xff != NULL && *xff != '\0' ? xff : "",
		     xff != NULL && *xff != '\0' ? ", " : "", cnode) < 0)
		return -1;
	rc = kv_add(out, "X-Forwarded-For", value);
	free(value);
	if (rc != 0)
		return -1;
	if (asprintf(&value, "%s%sfor=%s;by=%s%s%s", fwd != NULL && *fwd != '\0' ? fwd : "",
		     fwd != NULL && *fwd != '\0' ? ", " : "", cq, by, host != NULL ? ";host=" : "",
		     host != NULL ? host : "") < 0)
		return -1;
	rc = kv_add(out, "Forwarded", value);
	free(value);
	if (rc != 0 || (host != NULL && kv_add(out, "X-Forwarded-Host", host) != 0))
		return -1;
	return invoke_add_traceparent(out);
}

const char *invoke_own_namespace(void)
{
	const char *ns = getenv("NAMESPACE");

	return ns != NULL ? ns : "";
}
