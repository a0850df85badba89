/* SPDX-License-Identifier: Apache-2.0 */
/* core/observe/trace: W3C trace context parsing and formatting, sampling, held spans, Zipkin JSON. */
#include <event2/buffer.h>
#include <event2/event.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "observe/trace.h"
#include "observe/trace_internal.h"

static const char good[] = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

START_TEST(test_parse_good)
{
	struct trace_ctx c;
	char out[TRACE_PARENT_LEN];

	ck_assert(trace_parse(good, &c));
	ck_assert_int_eq(c.flags, 1);
	ck_assert_int_eq(c.trace_id[0], 0x4b);
	ck_assert_int_eq(c.span_id[7], 0xb7);
	trace_format(&c, out);
	ck_assert_str_eq(out, good);
	/* A later version is read as 00 when its first fields are 00's; unknown flag bits are not passed on. */
	ck_assert(trace_parse("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-03-later", &c));
	trace_format(&c, out);
	ck_assert_str_eq(out, good);
}
END_TEST

START_TEST(test_parse_bad)
{
	static const char *const bad[] = {
		"",
		"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
		"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0",
		"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-",
		"00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
		"00-00000000000000000000000000000000-00f067aa0ba902b7-01",
		"00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
		"ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
		"0g-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
		"00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
		"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0x",
		"01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01x",
		NULL,
	};
	struct trace_ctx c;

	for (int i = 0; bad[i] != NULL; i++)
		ck_assert_msg(!trace_parse(bad[i], &c), "accepted \"%s\"", bad[i]);
	ck_assert(!trace_parse(NULL, &c));
}
END_TEST

START_TEST(test_state)
{
	char long_state[TRACE_STATE_MAX + 8];

	ck_assert(trace_state_ok("vendor=x,other=y"));
	ck_assert(!trace_state_ok(""));
	ck_assert(!trace_state_ok("novalue"));
	ck_assert(!trace_state_ok("a=b\nc=d"));
	memset(long_state, 'a', sizeof(long_state) - 1);
	long_state[1] = '=';
	long_state[sizeof(long_state) - 1] = '\0';
	ck_assert(!trace_state_ok(long_state));
}
END_TEST

static struct event_base *base;

static void start(const char *rate)
{
	struct trace_settings s = { .enabled = true, .rate = atof(rate), .to_stdout = false };
	char err[256];

	trace_stop();
	ck_assert_int_eq(trace_start(base, &s, "unit", err, sizeof(err)), 0);
}

START_TEST(test_sampling)
{
	struct trace_ctx parent, child;
	struct span *sp;
	int sampled = 0;

	base = event_base_new();
	start("0.5");
	ck_assert(trace_parse(good, &parent));
	/* A sampled parent is followed, and its trace continues. */
	sp = trace_begin(&parent, "x", TRACE_KIND_SERVER, &child);
	ck_assert_ptr_nonnull(sp);
	ck_assert_int_eq(memcmp(child.trace_id, parent.trace_id, 16), 0);
	ck_assert_int_ne(memcmp(child.span_id, parent.span_id, 8), 0);
	ck_assert_int_eq(child.flags, 1);
	trace_discard(sp);
	/* An unsampled parent too: no span, the context still travels unsampled. */
	parent.flags = 0;
	ck_assert_ptr_null(trace_begin(&parent, "x", TRACE_KIND_SERVER, &child));
	ck_assert_int_eq(child.flags, 0);
	ck_assert_int_eq(memcmp(child.trace_id, parent.trace_id, 16), 0);
	/* New traces: the ratio of samplingRate. */
	for (int i = 0; i < 10000; i++) {
		sp = trace_begin(NULL, "x", TRACE_KIND_SERVER, &child);
		sampled += sp != NULL;
		ck_assert_int_eq(child.flags, sp != NULL);
		trace_discard(sp);
	}
	ck_assert_msg(sampled > 4500 && sampled < 5500, "%d of 10000 sampled at 0.5", sampled);
	/* "0": nothing, whatever the caller says. */
	start("0");
	parent.flags = 1;
	ck_assert_ptr_null(trace_begin(&parent, "x", TRACE_KIND_SERVER, &child));
	ck_assert_int_eq(child.flags, 0);
	start("1");
	for (int i = 0; i < 1000; i++) {
		sp = trace_begin(NULL, "x", TRACE_KIND_SERVER, &child);
		ck_assert_ptr_nonnull(sp);
		trace_discard(sp);
	}
	trace_stop();
	event_base_free(base);
}
END_TEST

START_TEST(test_hold)
{
	struct trace_ctx child;
	struct span *a, *b;
	void *ta, *tb;

	base = event_base_new();
	start("1");
	a = trace_begin(NULL, "a", TRACE_KIND_SERVER, &child);
	b = trace_begin(NULL, "b", TRACE_KIND_SERVER, &child);
	ta = trace_hold(a);
	tb = trace_hold(b);
	ck_assert_ptr_nonnull(ta);
	ck_assert_ptr_ne(ta, tb);
	ck_assert_ptr_eq(trace_release(ta), a);
	/* A token released once finds nothing, even when its slot holds another span now. */
	ck_assert_ptr_null(trace_release(ta));
	ta = trace_hold(a);
	ck_assert_ptr_null(trace_release((void *)((uintptr_t)ta + (1u << 24))));
	ck_assert_ptr_eq(trace_release(ta), a);
	ck_assert_ptr_eq(trace_release(tb), b);
	ck_assert_ptr_null(trace_release(NULL));
	trace_discard(a);
	trace_discard(b);
	trace_stop();
	event_base_free(base);
}
END_TEST

START_TEST(test_zipkin_json)
{
	struct trace_ctx parent, child;
	struct evbuffer *b = evbuffer_new();
	struct span *sp;
	json_error_t e;
	json_t *j;
	char *text;

	base = event_base_new();
	start("1");
	ck_assert(trace_parse(good, &parent));
	sp = trace_begin(&parent, "GET /a\"b\\\n", TRACE_KIND_CLIENT, &child);
	ck_assert_ptr_nonnull(sp);
	trace_attr(sp, "db.statement", "x\x01y");
	for (int i = 0; i < 40; i++)
		trace_attr(sp, "k", "a long value that fills the span's room sooner or later, which must stay valid");
	trace_export_zipkin_span(b, sp, "svc");
	evbuffer_add(b, "", 1);
	text = (char *)evbuffer_pullup(b, -1);
	j = json_loads(text, 0, &e);
	ck_assert_msg(j != NULL, "not JSON (%s): %s", e.text, text);
	ck_assert_str_eq(json_string_value(json_object_get(j, "name")), "GET /a\"b\\\n");
	ck_assert_str_eq(json_string_value(json_object_get(j, "parentId")), "00f067aa0ba902b7");
	ck_assert_str_eq(json_string_value(json_object_get(j, "traceId")), "4bf92f3577b34da6a3ce929d0e0e4736");
	ck_assert_str_eq(json_string_value(json_object_get(j, "kind")), "CLIENT");
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(j, "tags"), "db.statement")), "x\x01y");
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(j, "localEndpoint"), "serviceName")),
			 "svc");
	json_decref(j);
	evbuffer_free(b);
	trace_discard(sp);
	trace_stop();
	event_base_free(base);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("trace");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_parse_good);
	tcase_add_test(tc, test_parse_bad);
	tcase_add_test(tc, test_state);
	tcase_add_test(tc, test_sampling);
	tcase_add_test(tc, test_hold);
	tcase_add_test(tc, test_zipkin_json);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
