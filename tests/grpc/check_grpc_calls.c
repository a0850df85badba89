/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The gRPC dispatch interface (core/api/grpc/grpc_call.h) in-process: the real listener and
 * HTTP/2 server on a loop thread, with test methods registered through grpc_methods_register,
 * and the blocking test client in this thread. Covers what outrigd's own methods cannot show:
 * answers long after the handler returned, grpc-timeout, a client that goes away mid-call, rich
 * error details, a second completion, and a graceful stop while an answer is still being written.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <event2/event.h>
#include <event2/thread.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <check.h>

#include "daemon.h"
#include "exchange.h"
#include "google/protobuf/any.pb-c.h"
#include "google/rpc/error_details.pb-c.h"
#include "google/rpc/status.pb-c.h"
#include "api/grpc/grpc_call.h"
#include "api/grpc/grpc_call_internal.h"
#include "api/grpc/grpc_conn.h"
#include "grpc_client.h"
#include "api/grpc/grpc_server.h"
#include "api/grpc/grpc_status.h"
#include "base/log.h"
#include "options.h"
#include "runtime.h"

static struct server srv;
static struct options opts;
static pthread_t loop_thread;
static int port;

/* What the Later method saw when it completed: -1 not yet, 0 the call was dead, 1 alive. */
static int later_alive = -1;
/* Whether the Later call still kept its request body when it completed: -1 not yet, 0 no, 1 yes. */
static int later_body_kept = -1;

/* Echo: answers at once with an Any whose type_url is the x-echo metadata and whose value is the request. */
static void m_echo(struct grpc_call *call, const uint8_t *msg, size_t len)
{
	Google__Protobuf__Any any = GOOGLE__PROTOBUF__ANY__INIT;
	const char *echo = grpc_call_metadata(call, "x-echo");

	any.type_url = (char *)(echo != NULL ? echo : "");
	any.value.data = (uint8_t *)msg;
	any.value.len = len;
	grpc_call_reply(call, &any.base);
}

/* Left: answers an Any whose type_url is grpc_call_remaining_ms of the call. */
static void m_left(struct grpc_call *call, const uint8_t *msg, size_t len)
{
	Google__Protobuf__Any any = GOOGLE__PROTOBUF__ANY__INIT;
	char left[32];

	snprintf(left, sizeof(left), "%lld", (long long)grpc_call_remaining_ms(call));
	any.type_url = left;
	grpc_call_reply(call, &any.base);
}

struct later {
	struct event *ev;
	struct grpc_call *call;
	struct later *next;
};

/* Timers still pending when the loop stops; teardown frees them (their calls are the server's). */
static struct later *laters;

static void later_unlink(struct later *l)
{
	for (struct later **p = &laters; *p != NULL; p = &(*p)->next) {
		if (*p == l) {
			*p = l->next;
			return;
		}
	}
}

static void later_fire(evutil_socket_t fd, short what, void *arg)
{
	struct later *l = arg;

	__atomic_store_n(&later_alive, grpc_call_alive(l->call) ? 1 : 0, __ATOMIC_SEQ_CST);
	__atomic_store_n(&later_body_kept, l->call->body != NULL ? 1 : 0, __ATOMIC_SEQ_CST);
	grpc_call_reply(l->call, NULL);
	later_unlink(l);
	event_free(l->ev);
	free(l);
}

/* Later: answers (Empty) x-delay-ms after the handler returned, from a timer on the loop. */
static void m_later(struct grpc_call *call, const uint8_t *msg, size_t len)
{
	const char *delay = grpc_call_metadata(call, "x-delay-ms");
	long ms = delay != NULL ? atol(delay) : 100;
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };
	struct later *l = calloc(1, sizeof(*l));

	l->call = call;
	l->next = laters;
	laters = l;
	l->ev = evtimer_new(grpc_call_server(call)->base, later_fire, l);
	evtimer_add(l->ev, &tv);
}

/* Fail: ABORTED with a message that needs percent-encoding and an ErrorInfo with metadata. */
static void m_fail(struct grpc_call *call, const uint8_t *msg, size_t len)
{
	static const char *const meta[] = { "key", "k1", "store", "statestore" };

	grpc_call_fail_info(call, GRPC_ABORTED, "DAPR_STATE_ETAG_MISMATCH", meta, 2,
			    "possible etag mismatch: 100%% sure, ünïcode\nline 2 (%s)", grpc_call_path(call));
}

/* Plain: grpc_call_fail with a reason and no metadata, and one without a reason. */
static void m_plain(struct grpc_call *call, const uint8_t *msg, size_t len)
{
	if (len > 0)
		grpc_call_fail(call, GRPC_NOT_FOUND, "DAPR_NOT_FOUND", "no %s", "such thing");
	else
		grpc_call_fail(call, GRPC_INVALID_ARGUMENT, NULL, "bad request");
}

/* Twice: replies, then tries again; the second completion is dropped (and logged). */
static void m_twice(struct grpc_call *call, const uint8_t *msg, size_t len)
{
	grpc_call_reply(call, NULL);
}

/* Big: answers an Any whose value is x-size bytes (i % 251 at offset i). */
static void m_big(struct grpc_call *call, const uint8_t *msg, size_t len)
{
	Google__Protobuf__Any any = GOOGLE__PROTOBUF__ANY__INIT;
	const char *size = grpc_call_metadata(call, "x-size");

	any.type_url = "type.example/big";
	any.value.len = size != NULL ? (size_t)atol(size) : 0;
	any.value.data = malloc(any.value.len + 1);
	for (size_t i = 0; i < any.value.len; i++)
		any.value.data[i] = (uint8_t)(i % 251);
	grpc_call_reply(call, &any.base);
	free(any.value.data);
}

/* Set once the loop thread's event_base_dispatch returned (a graceful stop ended it). */
static int loop_done;

static void *loop_run(void *arg)
{
	event_base_dispatch(srv.base);
	__atomic_store_n(&loop_done, 1, __ATOMIC_SEQ_CST);
	return NULL;
}

static void setup(void)
{
	char p[16];
	char *argv[] = { "check_grpc_calls", "--app-id", "calls", "--dapr-grpc-port", p,
			 "--max-body-size",  "64Ki",	 NULL };
	char err[256];

	evthread_use_pthreads();
	log_setup(OUTRIG_LOG_WARN, false, "calls");
	port = daemon_free_port();
	snprintf(p, sizeof(p), "%d", port);
	ck_assert_msg(options_parse(7, argv, &opts, err, sizeof(err)) == 0, "options: %s", err);
	memset(&srv, 0, sizeof(srv));
	srv.opts = &opts;
	srv.base = event_base_new();
	srv.ready = true;
	loop_done = 0;
	grpc_methods_register("/outrig.test.v1.Test/Echo", m_echo);
	grpc_methods_register("/outrig.test.v1.Test/Big", m_big);
	grpc_methods_register("/outrig.test.v1.Test/Later", m_later);
	grpc_methods_register("/outrig.test.v1.Test/Fail", m_fail);
	grpc_methods_register("/outrig.test.v1.Test/Plain", m_plain);
	grpc_methods_register("/outrig.test.v1.Test/Twice", m_twice);
	grpc_methods_register("/outrig.test.v1.Test/Left", m_left);
	ck_assert_int_eq(grpc_server_listen(&srv), 0);
	ck_assert_int_eq(pthread_create(&loop_thread, NULL, loop_run, NULL), 0);
}

static void teardown(void)
{
	event_base_loopexit(srv.base, NULL);
	pthread_join(loop_thread, NULL);
	grpc_server_free(&srv);
	runtime_close(&srv);
	while (laters != NULL) {
		struct later *l = laters;

		laters = l->next;
		event_free(l->ev);
		free(l);
	}
	event_base_free(srv.base);
	options_free(&opts);
}

static struct grpc_client *connect_grpc(void)
{
	struct grpc_client *c = grpc_client_connect(port);

	ck_assert_ptr_nonnull(c);
	return c;
}

START_TEST(echo_roundtrip)
{
	static const char *const md[] = { "x-echo", "type.example/x", NULL };
	static const uint8_t msg[] = { 1, 2, 3, 0, 255 };
	struct grpc_client *c = connect_grpc();
	struct grpc_result r;
	Google__Protobuf__Any *any;

	/* Several calls on one connection. */
	for (int i = 0; i < 3; i++) {
		ck_assert_int_eq(
			grpc_client_call(c, "/outrig.test.v1.Test/Echo", md, msg, sizeof(msg), 5000, &r), 0);
		ck_assert_int_eq(r.status, 0);
		ck_assert_str_eq(grpc_result_header(&r, "content-type"), "application/grpc");
		any = google__protobuf__any__unpack(NULL, r.len, r.data);
		ck_assert_ptr_nonnull(any);
		ck_assert_str_eq(any->type_url, "type.example/x");
		ck_assert_uint_eq(any->value.len, sizeof(msg));
		ck_assert_mem_eq(any->value.data, msg, sizeof(msg));
		google__protobuf__any__free_unpacked(any, NULL);
		grpc_result_free(&r);
	}
	grpc_client_close(c);
}
END_TEST

START_TEST(async_completion)
{
	static const char *const md[] = { "x-delay-ms", "300", NULL };
	static uint8_t big[32 * 1024];
	struct grpc_client *c = connect_grpc();
	struct grpc_result r;
	long t0 = xnow_ms();

	ck_assert_int_eq(grpc_client_call(c, "/outrig.test.v1.Test/Later", md, big, sizeof(big), 5000, &r),
			 0);
	ck_assert_int_eq(r.status, 0);
	ck_assert_uint_eq(r.len, 0);
	ck_assert_int_ge(xnow_ms() - t0, 280);
	ck_assert_int_eq(__atomic_load_n(&later_alive, __ATOMIC_SEQ_CST), 1);
	/* The handler's message was freed when it returned, not kept while the answer was awaited. */
	ck_assert_int_eq(__atomic_load_n(&later_body_kept, __ATOMIC_SEQ_CST), 0);
	grpc_result_free(&r);
	grpc_client_close(c);
}
END_TEST

START_TEST(grpc_timeout_is_honoured)
{
	static const char *const md[] = { "x-delay-ms", "1500", "grpc-timeout", "200m", NULL };
	static const char *const bad[] = { "grpc-timeout", "soon", NULL };
	struct grpc_client *c = connect_grpc();
	struct grpc_result r;
	long t0 = xnow_ms(), took;

	ck_assert_int_eq(grpc_client_call(c, "/outrig.test.v1.Test/Later", md, NULL, 0, 5000, &r), 0);
	took = xnow_ms() - t0;
	ck_assert_int_eq(r.status, 4);
	ck_assert_msg(took >= 190 && took < 1000, "DEADLINE_EXCEEDED after %ld ms for a 200 ms timeout",
		      took);
	grpc_result_free(&r);
	/* The handler completes later: its answer is dropped, and it saw the call was over. */
	xsleep_ms(1500);
	ck_assert_int_eq(__atomic_load_n(&later_alive, __ATOMIC_SEQ_CST), 0);
	ck_assert_int_eq(grpc_client_call(c, "/outrig.test.v1.Test/Echo", NULL, NULL, 0, 5000, &r), 0);
	ck_assert_int_eq(r.status, 0);
	grpc_result_free(&r);
	ck_assert_int_eq(grpc_client_call(c, "/outrig.test.v1.Test/Echo", bad, NULL, 0, 5000, &r), 0);
	ck_assert_int_eq(r.status, 13);
	grpc_result_free(&r);
	grpc_client_close(c);
}
END_TEST

START_TEST(client_vanishes_mid_call)
{
	static const char *const md[] = { "x-delay-ms", "300", NULL };
	struct grpc_client *c = connect_grpc();
	struct grpc_result r;

	ck_assert_int_eq(grpc_client_start(c, "/outrig.test.v1.Test/Later", md, NULL, 0), 0);
	xsleep_ms(50);
	grpc_client_close(c);
	/* The handler still completes its call; the answer goes nowhere; nothing leaks (ASan). */
	xsleep_ms(600);
	ck_assert_int_eq(__atomic_load_n(&later_alive, __ATOMIC_SEQ_CST), 0);
	ck_assert_msg(__atomic_load_n(&srv.grpc->orphans, __ATOMIC_SEQ_CST) == NULL,
		      "the completed call was kept after its client left");
	ck_assert_msg(__atomic_load_n(&srv.grpc->conns, __ATOMIC_SEQ_CST) == NULL,
		      "the closed connection was kept");
	c = connect_grpc();
	ck_assert_int_eq(grpc_client_call(c, "/outrig.test.v1.Test/Echo", NULL, NULL, 0, 5000, &r), 0);
	ck_assert_int_eq(r.status, 0);
	grpc_result_free(&r);
	grpc_client_close(c);
}
END_TEST

START_TEST(stop_with_a_call_in_a_handler)
{
	static const char *const md[] = { "x-delay-ms", "60000", NULL };
	struct grpc_client *c = connect_grpc();

	/* Teardown stops the loop with this call never completed: grpc_server_free frees it. */
	ck_assert_int_eq(grpc_client_start(c, "/outrig.test.v1.Test/Later", md, NULL, 0), 0);
	xsleep_ms(100);
	grpc_client_close(c);
	xsleep_ms(100);
	ck_assert_msg(__atomic_load_n(&srv.grpc->orphans, __ATOMIC_SEQ_CST) != NULL,
		      "the call in its handler's hands was freed when its client left");
}
END_TEST

/*
 * Calls a client gave up on (here by grpc-timeout) while their handler still has them count
 * against the connection's streams: past GRPC_MAX_STREAMS of them new calls are refused, so a
 * client cannot pile up calls to a handler that never answers.
 */
START_TEST(held_calls_are_bounded)
{
	static const char *const md[] = { "x-delay-ms", "60000", "grpc-timeout", "20m", NULL };
	struct grpc_client *c = connect_grpc(), *other;
	struct grpc_result r;

	for (int i = 0; i < GRPC_MAX_STREAMS; i++) {
		ck_assert_int_eq(grpc_client_call(c, "/outrig.test.v1.Test/Later", md, NULL, 0, 5000, &r), 0);
		ck_assert_int_eq(r.status, 4);
		grpc_result_free(&r);
	}
	ck_assert_uint_eq(__atomic_load_n(&srv.grpc->held, __ATOMIC_SEQ_CST), GRPC_MAX_STREAMS);
	ck_assert_int_eq(grpc_client_call(c, "/outrig.test.v1.Test/Echo", NULL, NULL, 0, 5000, &r), 0);
	ck_assert_int_eq(r.status, 8);
	ck_assert_ptr_nonnull(strstr(r.message, "still in progress"));
	grpc_result_free(&r);
	/* Another connection has its own slots. */
	other = connect_grpc();
	ck_assert_int_eq(grpc_client_call(other, "/outrig.test.v1.Test/Echo", NULL, NULL, 0, 5000, &r), 0);
	ck_assert_int_eq(r.status, 0);
	grpc_result_free(&r);
	grpc_client_close(other);
	grpc_client_close(c);
}
END_TEST

/* The process-wide cap of held calls holds over all connections. */
START_TEST(held_calls_are_bounded_process_wide)
{
	static const char *const md[] = { "x-delay-ms", "60000", "grpc-timeout", "20m", NULL };
	struct grpc_client *c = connect_grpc(), *other = connect_grpc();
	struct grpc_result r;

	__atomic_store_n(&srv.grpc->max_held, (size_t)3, __ATOMIC_SEQ_CST);
	for (int i = 0; i < 3; i++) {
		ck_assert_int_eq(grpc_client_call(c, "/outrig.test.v1.Test/Later", md, NULL, 0, 5000, &r), 0);
		ck_assert_int_eq(r.status, 4);
		grpc_result_free(&r);
	}
	ck_assert_int_eq(grpc_client_call(other, "/outrig.test.v1.Test/Echo", NULL, NULL, 0, 5000, &r), 0);
	ck_assert_int_eq(r.status, 8);
	grpc_result_free(&r);
	grpc_client_close(other);
	grpc_client_close(c);
}
END_TEST

/* A request whose body never ends is answered (and its stream reset) after the request timeout. */
START_TEST(unfinished_request_times_out)
{
	struct grpc_client *c;
	struct grpc_result r;
	long t0, took;

	__atomic_store_n(&srv.grpc->request_timeout_ms, 300, __ATOMIC_SEQ_CST);
	c = connect_grpc();
	t0 = xnow_ms();
	ck_assert_int_eq(grpc_client_call_open(c, "/outrig.test.v1.Test/Echo", NULL, 5000, &r), 0);
	took = xnow_ms() - t0;
	ck_assert_int_eq(r.status, 4);
	ck_assert_msg(took >= 280 && took < 3000, "answered after %ld ms for a 300 ms request timeout", took);
	ck_assert_ptr_nonnull(strstr(r.message, "not complete"));
	grpc_result_free(&r);
	/* The connection goes on. */
	ck_assert_int_eq(grpc_client_call(c, "/outrig.test.v1.Test/Echo", NULL, NULL, 0, 5000, &r), 0);
	ck_assert_int_eq(r.status, 0);
	grpc_result_free(&r);
	grpc_client_close(c);
}
END_TEST

/* A connection without a stream for the idle timeout is closed; one with a call in progress is not. */
START_TEST(idle_connection_is_closed)
{
	static const char *const md[] = { "x-delay-ms", "700", NULL };
	struct grpc_client *c;
	struct grpc_result r;

	__atomic_store_n(&srv.grpc->idle_timeout_ms, 300, __ATOMIC_SEQ_CST);
	c = connect_grpc();
	/* Busy longer than the idle timeout: not closed under its call. */
	ck_assert_int_eq(grpc_client_call(c, "/outrig.test.v1.Test/Later", md, NULL, 0, 5000, &r), 0);
	ck_assert_int_eq(r.status, 0);
	grpc_result_free(&r);
	xsleep_ms(1000);
	ck_assert_msg(grpc_client_hung_up(c, 1000), "a connection idle for 1 s was kept with a 300 ms idle timeout");
	ck_assert(grpc_client_gone(c));
	/* The server waited for the client's hang-up (its lingering close): now it lets go. */
	grpc_client_close(c);
	for (int i = 0; i < 100 && __atomic_load_n(&srv.grpc->conns, __ATOMIC_SEQ_CST) != NULL; i++)
		xsleep_ms(10);
	ck_assert_msg(__atomic_load_n(&srv.grpc->conns, __ATOMIC_SEQ_CST) == NULL,
		      "a connection the client closed after the server's FIN was kept");
}
END_TEST

/* What a handler learns of the caller's grpc-timeout, to bound its own calls (InvokeService's app call). */
START_TEST(remaining_time_is_told)
{
	static const char *const md[] = { "grpc-timeout", "5S", NULL };
	struct grpc_client *c = connect_grpc();
	struct grpc_result r;
	Google__Protobuf__Any *any;
	long left;

	ck_assert_int_eq(grpc_client_call(c, "/outrig.test.v1.Test/Left", md, NULL, 0, 5000, &r), 0);
	ck_assert_int_eq(r.status, 0);
	any = google__protobuf__any__unpack(NULL, r.len, r.data);
	ck_assert_ptr_nonnull(any);
	left = atol(any->type_url);
	ck_assert_msg(left > 4000 && left <= 5000, "%ld ms left of a 5 s grpc-timeout", left);
	google__protobuf__any__free_unpacked(any, NULL);
	grpc_result_free(&r);
	ck_assert_int_eq(grpc_client_call(c, "/outrig.test.v1.Test/Left", NULL, NULL, 0, 5000, &r), 0);
	any = google__protobuf__any__unpack(NULL, r.len, r.data);
	ck_assert_ptr_nonnull(any);
	ck_assert_str_eq(any->type_url, "-1");
	google__protobuf__any__free_unpacked(any, NULL);
	grpc_result_free(&r);
	grpc_client_close(c);
}
END_TEST

struct big_call {
	struct grpc_client *c;
	int rc, status;
};

static void *big_call_run(void *arg)
{
	static uint8_t big[64 * 1024]; /* the largest message allowed: more than a stream's first window */
	struct big_call *b = arg;
	struct grpc_result r;

	b->rc = grpc_client_call(b->c, "/outrig.test.v1.Test/Echo", NULL, big, sizeof(big), 5000, &r);
	b->status = r.status;
	grpc_result_free(&r);
	return NULL;
}

/*
 * Past the budget of buffered request bytes a stream gets no more window, so clients cannot make
 * outrigd buffer bodies without bound; once bytes are freed (another call dispatched) it goes on.
 */
START_TEST(buffer_budget_holds_back_window)
{
	struct big_call b = { connect_grpc(), -2, -2 };
	struct grpc_client *other = connect_grpc();
	struct grpc_result r;
	pthread_t t;

	__atomic_store_n(&srv.grpc->buffer_budget, (size_t)1000, __ATOMIC_SEQ_CST);
	ck_assert_int_eq(pthread_create(&t, NULL, big_call_run, &b), 0);
	xsleep_ms(700);
	ck_assert_msg(__atomic_load_n(&b.rc, __ATOMIC_SEQ_CST) == -2,
		      "a request past the buffer budget was completed (rc %d, status %d)", b.rc, b.status);
	ck_assert_uint_eq(__atomic_load_n(&srv.grpc->starved, __ATOMIC_SEQ_CST), 1);
	/* Budget again, and bytes freed by another call: the held-back stream gets its window. */
	__atomic_store_n(&srv.grpc->buffer_budget, (size_t)1 << 30, __ATOMIC_SEQ_CST);
	ck_assert_int_eq(
		grpc_client_call(other, "/outrig.test.v1.Test/Echo", NULL, (const uint8_t *)"x", 1, 5000, &r),
		0);
	ck_assert_int_eq(r.status, 0);
	grpc_result_free(&r);
	pthread_join(t, NULL);
	ck_assert_int_eq(b.rc, 0);
	ck_assert_int_eq(b.status, 0);
	ck_assert_uint_eq(__atomic_load_n(&srv.grpc->starved, __ATOMIC_SEQ_CST), 0);
	ck_assert_uint_eq(__atomic_load_n(&srv.grpc->buffered, __ATOMIC_SEQ_CST), 0);
	grpc_client_close(other);
	grpc_client_close(b.c);
}
END_TEST

START_TEST(fail_carries_details)
{
	struct grpc_client *c = connect_grpc();
	struct grpc_result r;
	unsigned char buf[2048];
	long n;
	Google__Rpc__Status *st;
	Google__Rpc__ErrorInfo *info;

	ck_assert_int_eq(grpc_client_call(c, "/outrig.test.v1.Test/Fail", NULL, NULL, 0, 5000, &r), 0);
	ck_assert_int_eq(r.status, 10);
	ck_assert_str_eq(r.message,
			 "possible etag mismatch: 100% sure, ünïcode\nline 2 (/outrig.test.v1.Test/Fail)");
	/* On the wire, only printable ASCII but '%'. */
	for (const char *p = grpc_result_header(&r, "grpc-message"); *p != '\0'; p++)
		ck_assert_msg(*p >= 0x20 && *p <= 0x7e, "grpc-message byte 0x%02x not encoded",
			      (unsigned char)*p);
	ck_assert_ptr_nonnull(r.details_bin);
	n = grpc_unbase64(r.details_bin, buf, sizeof(buf));
	ck_assert_int_gt(n, 0);
	st = google__rpc__status__unpack(NULL, (size_t)n, buf);
	ck_assert_ptr_nonnull(st);
	ck_assert_int_eq(st->code, 10);
	ck_assert_str_eq(st->message, r.message);
	ck_assert_uint_eq(st->n_details, 1);
	info = google__rpc__error_info__unpack(NULL, st->details[0]->value.len, st->details[0]->value.data);
	ck_assert_ptr_nonnull(info);
	ck_assert_str_eq(info->reason, "DAPR_STATE_ETAG_MISMATCH");
	ck_assert_str_eq(info->domain, "dapr.io");
	ck_assert_uint_eq(info->n_metadata, 2);
	google__rpc__error_info__free_unpacked(info, NULL);
	google__rpc__status__free_unpacked(st, NULL);
	grpc_result_free(&r);
	/* Without a reason there are no details. */
	ck_assert_int_eq(grpc_client_call(c, "/outrig.test.v1.Test/Plain", NULL, NULL, 0, 5000, &r), 0);
	ck_assert_int_eq(r.status, 3);
	ck_assert_str_eq(r.message, "bad request");
	ck_assert_ptr_null(r.details_bin);
	grpc_result_free(&r);
	ck_assert_int_eq(
		grpc_client_call(c, "/outrig.test.v1.Test/Plain", NULL, (const uint8_t *)"x", 1, 5000, &r),
		0);
	ck_assert_int_eq(r.status, 5);
	ck_assert_str_eq(r.message, "no such thing");
	ck_assert_ptr_nonnull(r.details_bin);
	grpc_result_free(&r);
	grpc_client_close(c);
}
END_TEST

static void begin_stop(evutil_socket_t fd, short what, void *arg)
{
	runtime_begin_stop(&srv, "stopped by the test");
}

/* The server's sockets keep little of an answer (the kernel would otherwise take 4 MiB of it). */
static void shrink_send_buffers(evutil_socket_t fd, short what, void *arg)
{
	int size = 16384;

	for (struct grpc_conn *conn = srv.grpc->conns; conn != NULL; conn = grpc_conn_next(conn))
		setsockopt(grpc_conn_socket(conn), SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
}

/*
 * A graceful stop waits for answers still being written: nghttp2 counts a stream as ended once its
 * last frame is queued, and here the client reads nothing for a while, so most of the answer waits
 * in the connection's output when the stop begins. Stopping then would cut the answer off.
 */
START_TEST(graceful_stop_waits_for_unsent_answer)
{
	static const char *const md[] = { "x-size", "921600", NULL };
	static const struct timeval now = { 0, 0 };
	struct grpc_client *c = grpc_client_connect_slow(port);
	struct grpc_result r;
	Google__Protobuf__Any *any;
	long t0;

	ck_assert_ptr_nonnull(c);
	xsleep_ms(100);
	ck_assert_int_eq(event_base_once(srv.base, -1, EV_TIMEOUT, shrink_send_buffers, NULL, &now), 0);
	xsleep_ms(100);
	ck_assert_int_eq(grpc_client_start(c, "/outrig.test.v1.Test/Big", md, NULL, 0), 0);
	xsleep_ms(300);
	ck_assert_int_eq(event_base_once(srv.base, -1, EV_TIMEOUT, begin_stop, NULL, &now), 0);
	xsleep_ms(500);
	ck_assert_msg(!__atomic_load_n(&loop_done, __ATOMIC_SEQ_CST),
		      "the graceful stop ended with an answer not yet written");
	ck_assert_int_eq(grpc_client_finish(c, 5000, &r), 0);
	ck_assert_int_eq(r.status, 0);
	any = google__protobuf__any__unpack(NULL, r.len, r.data);
	ck_assert_ptr_nonnull(any);
	ck_assert_uint_eq(any->value.len, 921600);
	for (size_t i = 0; i < any->value.len; i += 4099)
		ck_assert_uint_eq(any->value.data[i], i % 251);
	google__protobuf__any__free_unpacked(any, NULL);
	grpc_result_free(&r);
	/* Once it is written the stop ends, long before its 5 s. */
	t0 = xnow_ms();
	while (!__atomic_load_n(&loop_done, __ATOMIC_SEQ_CST) && xnow_ms() - t0 < 2000)
		xsleep_ms(10);
	ck_assert_msg(__atomic_load_n(&loop_done, __ATOMIC_SEQ_CST),
		      "the graceful stop did not end once the answer was written");
	grpc_client_close(c);
}
END_TEST

/*
 * The same, with a client that sends frames while it reads (PINGs here; keepalive pings, window
 * updates): they must not make the closed connection's socket answer RST, which would drop the end
 * of the answer still in the kernel's send buffer.
 */
START_TEST(graceful_stop_answer_survives_client_frames)
{
	static const char *const md[] = { "x-size", "921600", NULL };
	static const struct timeval now = { 0, 0 };
	struct grpc_client *c = grpc_client_connect_slow(port);
	struct grpc_result r;
	Google__Protobuf__Any *any;
	long t0;

	ck_assert_ptr_nonnull(c);
	xsleep_ms(100);
	ck_assert_int_eq(event_base_once(srv.base, -1, EV_TIMEOUT, shrink_send_buffers, NULL, &now), 0);
	xsleep_ms(100);
	ck_assert_int_eq(grpc_client_start(c, "/outrig.test.v1.Test/Big", md, NULL, 0), 0);
	xsleep_ms(300);
	ck_assert_int_eq(event_base_once(srv.base, -1, EV_TIMEOUT, begin_stop, NULL, &now), 0);
	xsleep_ms(500);
	ck_assert_msg(!__atomic_load_n(&loop_done, __ATOMIC_SEQ_CST),
		      "the graceful stop ended with an answer not yet written");
	grpc_client_ping_on_read(c);
	ck_assert_int_eq(grpc_client_finish(c, 5000, &r), 0);
	ck_assert_int_eq(r.status, 0);
	any = google__protobuf__any__unpack(NULL, r.len, r.data);
	ck_assert_ptr_nonnull(any);
	ck_assert_uint_eq(any->value.len, 921600);
	for (size_t i = 0; i < any->value.len; i += 4099)
		ck_assert_uint_eq(any->value.data[i], i % 251);
	google__protobuf__any__free_unpacked(any, NULL);
	grpc_result_free(&r);
	/* Once it is written the stop ends, long before its 5 s. */
	t0 = xnow_ms();
	while (!__atomic_load_n(&loop_done, __ATOMIC_SEQ_CST) && xnow_ms() - t0 < 2000)
		xsleep_ms(10);
	ck_assert_msg(__atomic_load_n(&loop_done, __ATOMIC_SEQ_CST),
		      "the graceful stop did not end once the answer was written");
	grpc_client_close(c);
}
END_TEST

START_TEST(second_completion_is_dropped)
{
	struct grpc_client *c = connect_grpc();
	struct grpc_result r;

	ck_assert_int_eq(grpc_client_call(c, "/outrig.test.v1.Test/Twice", NULL, NULL, 0, 5000, &r), 0);
	ck_assert_int_eq(r.status, 0);
	grpc_result_free(&r);
	grpc_client_close(c);
}
END_TEST

static Suite *grpc_calls_suite(void)
{
	Suite *s = suite_create("grpc_calls");
	TCase *tc = tcase_create("in-process");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, echo_roundtrip);
	tcase_add_test(tc, async_completion);
	tcase_add_test(tc, grpc_timeout_is_honoured);
	tcase_add_test(tc, client_vanishes_mid_call);
	tcase_add_test(tc, stop_with_a_call_in_a_handler);
	tcase_add_test(tc, held_calls_are_bounded);
	tcase_add_test(tc, held_calls_are_bounded_process_wide);
	tcase_add_test(tc, unfinished_request_times_out);
	tcase_add_test(tc, idle_connection_is_closed);
	tcase_add_test(tc, remaining_time_is_told);
	tcase_add_test(tc, buffer_budget_holds_back_window);
	tcase_add_test(tc, fail_carries_details);
	tcase_add_test(tc, second_completion_is_dropped);
	tcase_add_test(tc, graceful_stop_waits_for_unsent_answer);
	tcase_add_test(tc, graceful_stop_answer_survives_client_frames);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(grpc_calls_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
