/* SPDX-License-Identifier: Apache-2.0 */
/* check assertions over one HTTP request/response, with the request kept for failure messages. */
#include "exchange.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>
#include <time.h>

int xreq(struct exchange *x, int port, const char *method, const char *path, const char *headers,
	 const char *body)
{
	int rc;

	xfree(x);
	snprintf(x->req, sizeof(x->req), "%s %s%s%.120s", method, path, body ? " " : "", body ? body : "");
	rc = http_request(port, method, path, headers, body, body ? strlen(body) : 0, &x->r);
	if (rc < 0)
		x->r.status = rc;
	return x->r.status;
}

void xfree(struct exchange *x)
{
	http_response_free(&x->r);
}

json_t *xjson(const struct exchange *x)
{
	if (x->r.body == NULL)
		return NULL;
	return json_loadb(x->r.body, x->r.body_len, JSON_DECODE_ANY, NULL);
}

bool xerror(const struct exchange *x, char *code, size_t size)
{
	json_t *j = xjson(x);
	json_t *c = json_object_get(j, "errorCode");
	bool ok = json_is_string(c) && json_is_string(json_object_get(j, "message"));

	if (json_is_string(c))
		snprintf(code, size, "%s", json_string_value(c));
	json_decref(j);
	return ok;
}

bool xhas_reason(const struct exchange *x, const char *reason)
{
	json_t *j = xjson(x);
	json_t *d;
	size_t i;
	bool found = false;

	json_array_foreach(json_object_get(j, "details"), i, d)
	{
		const char *t = json_string_value(json_object_get(d, "@type"));
		const char *r = json_string_value(json_object_get(d, "reason"));
		const char *dom = json_string_value(json_object_get(d, "domain"));

		if (t && strcmp(t, "type.googleapis.com/google.rpc.ErrorInfo") == 0 && r &&
		    strcmp(r, reason) == 0 && dom && strcmp(dom, "dapr.io") == 0)
			found = true;
	}
	json_decref(j);
	return found;
}

bool xjson_type(const struct exchange *x)
{
	const char *ct = http_header(&x->r, "Content-Type");
	size_t n = strlen("application/json");

	return ct && strncasecmp(ct, "application/json", n) == 0 &&
	       (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ');
}

char *xfmt(const char *f, ...)
{
	static char ring[8][8192];
	static unsigned next;
	char *b = ring[next++ % 8];
	va_list ap;

	va_start(ap, f);
	vsnprintf(b, sizeof(ring[0]), f, ap);
	va_end(ap);
	return b;
}

char *xslurp(const char *path)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = fopen(path, "r");

	ck_assert_msg(f != NULL, "cannot open %s", path);
	/* An empty file reads as "", not as a failure. */
	if (getdelim(&text, &len, '\0', f) < 0) {
		free(text);
		text = strdup("");
	}
	fclose(f);
	ck_assert_ptr_nonnull(text);
	return text;
}

long xnow_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

void xsleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}
