/* SPDX-License-Identifier: Apache-2.0 */
/* Bring-up, publishing and CloudEvent assertions the pub/sub conformance cases share. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pubsub_conf.h"

/* Copies s with ${URL} and ${CONSUMER} replaced. Ownership: caller frees. */
static char *expand(const char *s, const char *url, const char *consumer)
{
	char *out = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&out, &size);

	ck_assert_ptr_nonnull(f);
	while (s != NULL && *s != '\0') {
		if (strncmp(s, "${URL}", 6) == 0) {
			fputs(url, f);
			s += 6;
		} else if (strncmp(s, "${CONSUMER}", 11) == 0) {
			fputs(consumer, f);
			s += 11;
		} else {
			fputc(*s++, f);
		}
	}
	fclose(f);
	return out;
}

static void write_component(void)
{
	char *consumer = ps_unique("conformance");
	char *lines = expand(ut.row->metadata, ut.row->url ? ut.row->url(&ut.server) : "", consumer);

	ck_assert_int_eq(daemon_write_component(&ut.dmn, PUBSUB, ut.row->type, lines), 0);
	free(lines);
	free(consumer);
}

json_t *bring_up(const struct case_setup *s)
{
	char port[16], conc[16], data_dir[DAEMON_PATH_MAX];
	const char *args[12];
	json_t *subs;
	int n = 0;

	test_app_set_subscribe(ut.app, s->subscribe);
	test_app_set_policy(ut.app, s->policy, s->policy_arg);
	write_component();
	for (size_t i = 0; s->fixtures != NULL && s->fixtures[i] != NULL; i++)
		ck_assert_msg(ps_copy_fixture(&ut.dmn, s->fixtures[i]) == 0, "fixture %s", s->fixtures[i]);
	snprintf(port, sizeof(port), "%d", test_app_port(ut.app));
	snprintf(data_dir, sizeof(data_dir), "%s", ut.dmn.data);
	args[n++] = "--app-port";
	args[n++] = port;
	args[n++] = "--data-dir";
	args[n++] = data_dir;
	if (s->max_concurrency != 0) {
		snprintf(conc, sizeof(conc), "%d", s->max_concurrency);
		args[n++] = "--app-max-concurrency";
		args[n++] = conc;
	}
	args[n] = NULL;
	ck_assert_msg(daemon_start(&ut.dmn, args) == 0, "outrigd did not start with %s (log above)",
		      ut.row->type);
	subs = ps_wait_subscribed(ut.dmn.port, PUBSUB, s->topics, PS_SOON_MS);
	if (subs == NULL)
		daemon_dump_log(&ut.dmn);
	ck_assert_msg(subs != NULL, "%s: the subscriptions never became active (metadata and log above)",
		      ut.row->name);
	return subs;
}

void publish_bytes(const char *topic, const char *content_type, const char *headers, const void *body,
		   size_t len, const char *query)
{
	int status = ps_publish(ut.dmn.port, PUBSUB, topic, content_type, headers, body, len, query);

	ck_assert_msg(status == 204, "POST /v1.0/publish/%s/%s%s (%zu bytes, %s) -> %d, expected 204", PUBSUB,
		      topic, query ? query : "", len, content_type ? content_type : "no Content-Type",
		      status);
}

void publish(const char *topic, const char *content_type, const char *body, const char *query)
{
	publish_bytes(topic, content_type, NULL, body, strlen(body), query);
}

/* What the app got, for failure messages: one line per request. check refuses messages of 4 KB
 * or more, so only the first few requests are listed. */
static const char *arrivals(void)
{
	static char buf[2048];
	size_t used = 0;
	const struct delivery *d;

	buf[0] = '\0';
	for (size_t i = 0; (d = test_app_delivery(ut.app, i)) != NULL && used < sizeof(buf) - 200; i++)
		used += (size_t)snprintf(buf + used, sizeof(buf) - used,
					 "\n  #%ld %s %s id=%s attempt %d: %.80s", d->seq, d->method, d->path,
					 d->id, d->attempt, d->body);
	return used ? buf : " (nothing)";
}

void expect_requests(const char *path, size_t n)
{
	bool ok = test_app_wait_count(ut.app, path, n, PS_SOON_MS);

	ck_assert_msg(ok, "%s: %zu requests on %s after %d ms, expected %zu; the app got:%s", ut.row->name,
		      test_app_count_path(ut.app, path), path, PS_SOON_MS, n, arrivals());
}

const struct delivery *first_on(const char *path)
{
	const struct delivery *d;

	expect_requests(path, 1);
	for (size_t i = 0; (d = test_app_delivery(ut.app, i)) != NULL; i++)
		if (strcmp(d->path, path) == 0)
			return d;
	ck_abort_msg("unreachable: counted a request on %s that is not there", path);
	return NULL;
}

void expect_no_more(const char *path, size_t n, long window_ms)
{
	long end = xnow_ms() + window_ms;

	/* Absence can only be observed over a window: long enough for several retries of the
	 * Resiliency policy the case uses, short enough to keep the suite quick. */
	do {
		ck_assert_msg(test_app_count_path(ut.app, path) <= n,
			      "%s: %zu requests on %s, expected %zu and no redelivery; the app got:%s",
			      ut.row->name, test_app_count_path(ut.app, path), path, n, arrivals());
		xsleep_ms(10);
	} while (xnow_ms() < end);
}

json_t *ce(const struct delivery *d, const char *field)
{
	return json_object_get(d->event, field);
}

const struct delivery *nth(size_t i)
{
	const struct delivery *d = test_app_delivery(ut.app, i);

	ck_assert_msg(d != NULL, "no request #%zu; the app got:%s", i + 1, arrivals());
	return d;
}

const struct delivery *nth_on(const char *path, size_t i)
{
	const struct delivery *d;
	size_t left = i;

	for (size_t k = 0; (d = test_app_delivery(ut.app, k)) != NULL; k++)
		if (strcmp(d->path, path) == 0 && left-- == 0)
			return d;
	ck_abort_msg("no request #%zu on %s; the app got:%s", i + 1, path, arrivals());
	return NULL;
}

const struct delivery *with_field(const char *path, const char *field, const char *value)
{
	const struct delivery *d;

	for (size_t i = 0; (d = test_app_delivery(ut.app, i)) != NULL; i++)
		if (strcmp(d->path, path) == 0 && strcmp(jstr(ce(d, field)), value) == 0)
			return d;
	ck_abort_msg("no request on %s with %s \"%.60s\"; the app got:%s", path, field, value, arrivals());
	return NULL;
}

/* A W3C traceparent: 00-<32 hex>-<16 hex>-<2 hex>. */
static bool is_traceparent(const char *s)
{
	static const size_t dash[] = { 2, 35, 52 };

	if (strlen(s) != 55)
		return false;
	for (size_t i = 0; i < 55; i++) {
		bool want_dash = i == dash[0] || i == dash[1] || i == dash[2];

		if (want_dash ? s[i] != '-' : strchr("0123456789abcdef", s[i]) == NULL || s[i] == '\0')
			return false;
	}
	return true;
}

void expect_envelope(const struct delivery *d, const char *topic, const char *datacontenttype)
{
	const char *ctype = json_string_value(json_object_get(d->headers, "content-type"));
	const char *tp = jstr(ce(d, "traceparent"));

	ck_assert_msg(strcmp(d->method, "POST") == 0, "%s delivery with %s", d->path, d->method);
	ck_assert_msg(ctype != NULL && strncmp(ctype, "application/cloudevents+json", 28) == 0,
		      "%s: Content-Type %s, expected application/cloudevents+json", d->path,
		      ctype ? ctype : "none");
	ck_assert_msg(json_is_object(d->event), "%s: the body is not a JSON object: %.300s", d->path,
		      d->body);
	ck_assert_msg(json_string_length(ce(d, "id")) > 0, "no id: %.400s", d->body);
	ck_assert_str_eq(jstr(ce(d, "source")), APP_ID);
	ck_assert_str_eq(jstr(ce(d, "type")), "com.dapr.event.sent");
	ck_assert_str_eq(jstr(ce(d, "specversion")), "1.0");
	ck_assert_str_eq(jstr(ce(d, "topic")), topic);
	ck_assert_str_eq(jstr(ce(d, "pubsubname")), PUBSUB);
	ck_assert_str_eq(jstr(ce(d, "datacontenttype")), datacontenttype);
	/* RFC 3339: 2024-01-02T03:04:05... */
	ck_assert_msg(json_string_length(ce(d, "time")) >= 20 && jstr(ce(d, "time"))[10] == 'T',
		      "time is not RFC 3339: %.400s", d->body);
	ck_assert_msg(is_traceparent(tp), "traceparent '%s' is not W3C: %.400s", tp, d->body);
	ck_assert_str_eq(jstr(ce(d, "traceid")), tp);
	ck_assert_msg(json_is_string(ce(d, "tracestate")), "no tracestate (may be \"\"): %.400s", d->body);
}
