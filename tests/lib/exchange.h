/* SPDX-License-Identifier: Apache-2.0 */
/* check assertions over one HTTP request/response, with the request kept for failure messages. */
#ifndef OUTRIG_TESTS_EXCHANGE_H
#define OUTRIG_TESTS_EXCHANGE_H

#include <stdbool.h>
#include <string.h>

#include <check.h>
#include <jansson.h>

#include "http_client.h"

struct exchange {
	struct http_response r; /* status is a negative errno when nothing came back */
	char req[256];		/* "METHOD path body…", printed when an assertion fails */
};

/*
 * Sends method path with body (a NUL-terminated string, or NULL for none) and keeps the answer
 * in x, releasing the previous one. Returns the HTTP status or a negative errno.
 * Ownership: x keeps the response until the next call or xfree(). Thread: one x per thread.
 */
int xreq(struct exchange *x, int port, const char *method, const char *path, const char *headers,
	 const char *body);
void xfree(struct exchange *x);

/* The body parsed as JSON, or NULL. Ownership: caller decrefs. */
json_t *xjson(const struct exchange *x);

/* True when the body is Dapr's error JSON: an object with string errorCode and message.
 * Copies errorCode into code. */
bool xerror(const struct exchange *x, char *code, size_t size);

/* True when details[] holds a google.rpc.ErrorInfo with this reason, domain dapr.io. */
bool xhas_reason(const struct exchange *x, const char *reason);

/* True when Content-Type is application/json (parameters ignored). */
bool xjson_type(const struct exchange *x);

/*
 * printf into a ring of 8 buffers of 8 KB, so one call can take several formatted arguments.
 * Ownership: the result lives until 8 more calls. Thread: the test's main thread.
 */
char *xfmt(const char *f, ...) __attribute__((format(printf, 1, 2)));

/* A whole file as a string (a daemon's or server's log, a fixture). Ownership: caller frees. */
char *xslurp(const char *path);

/* Monotonic milliseconds, for measuring how long something took. */
long xnow_ms(void);

void xsleep_ms(long ms);

#define XBODY(x) ((x)->r.body ? (x)->r.body : "")

/* A JSON string's value, or "" for anything else, so it can go straight into strcmp. */
static inline const char *jstr(const json_t *j)
{
	const char *v = json_string_value(j);

	return v ? v : "";
}

/* A header's value, or "(none)", for messages. */
static inline const char *xheader(const struct exchange *x, const char *name)
{
	const char *v = http_header(&x->r, name);

	return v ? v : "(none)";
}

#define ck_status(x, want)                                                                                   \
	ck_assert_msg((x)->r.status == (want), "%s\n  -> status %d, expected %d; body: %.400s", (x)->req,    \
		      (x)->r.status, (want), XBODY(x))

/* Exact body bytes: stores hand back what they were given. */
/* A function, not a macro: GCC cannot see through XBODY's "" and warns about memcmp's bound. */
static inline bool xbody_is(const struct exchange *x, const char *want)
{
	if (x->r.body_len != strlen(want))
		return false;
	return x->r.body_len == 0 || (x->r.body != NULL && memcmp(x->r.body, want, x->r.body_len) == 0);
}

#define ck_body(x, want)                                                                                     \
	ck_assert_msg(xbody_is(x, want), "%s\n  -> body (%zu bytes) %.400s\n  expected (%zu bytes) %.400s",  \
		      (x)->req, (x)->r.body_len, XBODY(x), strlen(want), (want))

#define ck_error(x, status, code)                                                                            \
	do {                                                                                                 \
		char got_[128] = "";                                                                         \
		ck_status(x, status);                                                                        \
		ck_assert_msg(xerror(x, got_, sizeof(got_)) && strcmp(got_, (code)) == 0,                    \
			      "%s\n  -> errorCode '%s', expected '%s' (with a message); body: %.400s",       \
			      (x)->req, got_, (code), XBODY(x));                                             \
		ck_assert_msg(xjson_type(x), "%s\n  -> error Content-Type '%s', expected application/json",  \
			      (x)->req, xheader(x, "Content-Type"));                                         \
	} while (0)

#define ck_reason(x, reason)                                                                                 \
	ck_assert_msg(xhas_reason(x, reason), "%s\n  -> no ErrorInfo reason %s in details[]: %.400s",        \
		      (x)->req, (reason), XBODY(x))

#endif /* OUTRIG_TESTS_EXCHANGE_H */
