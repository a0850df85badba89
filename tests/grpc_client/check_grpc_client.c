/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The gRPC client (core/channels/grpc_client.c) on a libevent loop against a real gRPC server that
 * is not outrig: @grpc/grpc-js running tests/grpc_client/server.mjs. Skips (77) when node or the
 * module is missing, unless OUTRIG_REQUIRE_INTEROP=1.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <check.h>
#include <event2/event.h>

#include "channels/grpc_client.h"
#include "server.h"

#define PROBE "/outrig.test.Probe/"

static struct event_base *base;
static pid_t node_pid;
static int node_port;
static char node_log[300];
static const char *node_script; /* server.mjs (grpc-js) or raw_server.mjs (node:http2) */

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A loopback port nothing listens on (right now). */
static int free_port(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	int port;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	port = ntohs(sa.sin_port);
	close(fd);
	return port;
}

static const char *srcdir(void)
{
	const char *s = getenv("OUTRIG_SRCDIR");

	return s != NULL ? s : ".";
}

/* Starts node_script on node_port (kept across restarts). */
static void node_start(void)
{
	char script[600], port[16];
	const char *argv[] = { "node", script, port, NULL };

	snprintf(script, sizeof(script), "%s/tests/grpc_client/%s", srcdir(), node_script);
	snprintf(port, sizeof(port), "%d", node_port);
	node_pid = server_spawn(argv, node_log);
	ck_assert_int_gt(node_pid, 0);
	if (server_wait_port(node_pid, node_port, 20000) != 0) {
		char cmd[400];

		snprintf(cmd, sizeof(cmd), "cat %s >&2", node_log);
		(void)!system(cmd);
		ck_abort_msg("%s did not listen on port %d (its log is above)", node_script, node_port);
	}
}

static void setup(void)
{
	node_script = "server.mjs";
	base = event_base_new();
	ck_assert_ptr_nonnull(base);
	node_port = free_port();
	snprintf(node_log, sizeof(node_log), "/tmp/outrig-grpc-client-%d.log", (int)getpid());
	node_start();
}

static void setup_raw(void)
{
	setup();
	server_stop(node_pid);
	node_script = "raw_server.mjs";
	node_start();
}

static void teardown(void)
{
	if (node_pid > 0)
		server_stop(node_pid);
	node_pid = 0;
	unlink(node_log);
	event_base_free(base);
}

/* ---- calls and their results ---- */

struct result {
	bool done;
	int status;
	char message[600];
	bool data_null;
	uint8_t *data;
	size_t len;
	struct kv_list headers, trailers;
	int64_t started, ms; /* when it was made; how long it took */
	int order;	     /* 0 for the first call told */
};

static int pending, told;

static void copy_kv(struct kv_list *to, const struct kv_list *from)
{
	for (size_t i = 0; i < from->count; i++)
		ck_assert_int_eq(kv_set(to, from->items[i].key, from->items[i].value), 0);
}

static void on_done(void *arg, const struct grpc_client_response *r)
{
	struct result *res = arg;

	ck_assert_msg(!res->done, "a call was told twice");
	res->done = true;
	res->status = r->status;
	ck_assert_ptr_nonnull(r->message);
	snprintf(res->message, sizeof(res->message), "%s", r->message);
	res->data_null = r->data == NULL;
	res->len = r->len;
	if (r->len > 0) {
		res->data = malloc(r->len);
		ck_assert_ptr_nonnull(res->data);
		memcpy(res->data, r->data, r->len);
	}
	copy_kv(&res->headers, r->headers);
	copy_kv(&res->trailers, r->trailers);
	res->ms = now_ms() - res->started;
	res->order = told++;
	if (--pending == 0)
		event_base_loopbreak(base);
}

static void result_free(struct result *res)
{
	free(res->data);
	kv_free(&res->headers);
	kv_free(&res->trailers);
	memset(res, 0, sizeof(*res));
}

static void call(struct grpc_client *c, const char *method, const struct kv_list *md, const void *msg,
		 size_t len, int timeout_ms, struct result *res)
{
	char path[100];

	snprintf(path, sizeof(path), PROBE "%s", method);
	memset(res, 0, sizeof(*res));
	res->started = now_ms();
	pending++;
	ck_assert_int_eq(grpc_client_unary(c, path, md, msg, len, timeout_ms, on_done, res), 0);
	ck_assert_msg(!res->done, "the callback ran inside grpc_client_unary");
}

static void call_text(struct grpc_client *c, const char *method, const char *text, int timeout_ms,
		      struct result *res)
{
	call(c, method, NULL, text, strlen(text), timeout_ms, res);
}

static void on_limit(evutil_socket_t fd, short what, void *arg)
{
	event_base_loopbreak(base);
}

/* Runs the loop until every call was told, for at most limit_ms. */
static void wait_all(int limit_ms)
{
	struct timeval tv = { limit_ms / 1000, (limit_ms % 1000) * 1000 };
	struct event *limit = evtimer_new(base, on_limit, NULL);

	evtimer_add(limit, &tv);
	while (pending > 0 && evtimer_pending(limit, NULL))
		event_base_dispatch(base);
	event_free(limit);
	ck_assert_msg(pending == 0, "%d calls not told within %d ms", pending, limit_ms);
}

/* Runs the loop for ms, whatever happens. */
static void run_for(int ms)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

	event_base_loopexit(base, &tv);
	event_base_dispatch(base);
}

static long stat_of(struct grpc_client *c, const char *name)
{
	struct result res;
	char *text, key[64];
	const char *at;
	long v;

	call_text(c, "Stats", "", 5000, &res);
	wait_all(5000);
	ck_assert_int_eq(res.status, 0);
	text = strndup((const char *)res.data, res.len);
	snprintf(key, sizeof(key), "\"%s\":", name);
	at = strstr(text, key);
	ck_assert_msg(at != NULL, "Stats has no %s: %s", name, text);
	v = strtol(at + strlen(key), NULL, 10);
	free(text);
	result_free(&res);
	return v;
}

static struct grpc_client *client(int max_concurrency)
{
	struct grpc_client *c = grpc_client_new(base, "127.0.0.1", node_port, max_concurrency, 10);

	ck_assert_ptr_nonnull(c);
	return c;
}

/* ---- the cases ---- */

START_TEST(test_echo)
{
	struct grpc_client *c = client(-1);
	struct kv_list md = { 0 };
	struct result res, empty;
	uint8_t msg[3000];

	for (size_t i = 0; i < sizeof(msg); i++)
		msg[i] = (uint8_t)(i * 7); /* NULs and high bytes included */
	ck_assert_int_eq(kv_set(&md, "x-trace", "abc-123"), 0);
	ck_assert_int_eq(kv_set(&md, "dapr-api-token", "s3cret"), 0);
	call(c, "Echo", &md, msg, sizeof(msg), 4000, &res);
	call(c, "Echo", NULL, NULL, 0, 0, &empty);
	ck_assert_uint_eq(grpc_client_busy(c), 2);
	wait_all(5000);
	ck_assert_uint_eq(grpc_client_busy(c), 0);

	ck_assert_msg(res.status == 0, "status %d: %s", res.status, res.message);
	ck_assert_uint_eq(res.len, sizeof(msg));
	ck_assert_mem_eq(res.data, msg, sizeof(msg));
	ck_assert_str_eq(res.message, "");
	/* The server saw the metadata and the deadline (grpc-timeout), and sent headers and trailers. */
	ck_assert_pstr_eq(kv_get(&res.headers, "seen-x-trace"), "abc-123");
	ck_assert_pstr_eq(kv_get(&res.headers, "seen-dapr-api-token"), "s3cret");
	ck_assert_ptr_nonnull(kv_get(&res.headers, "seen-deadline-ms"));
	ck_assert_int_gt(atoi(kv_get(&res.headers, "seen-deadline-ms")), 3000);
	ck_assert_int_le(atoi(kv_get(&res.headers, "seen-deadline-ms")), 4000);
	ck_assert_pstr_eq(kv_get(&res.headers, "content-type"), "application/grpc+proto");
	ck_assert_pstr_eq(kv_get(&res.trailers, "echo-trailer"), "done");
	ck_assert_pstr_eq(kv_get(&res.trailers, "grpc-status"), "0");

	/* An empty message is a message: not NULL. Without a deadline of its own, the client's 10 s. */
	ck_assert_msg(empty.status == 0, "status %d: %s", empty.status, empty.message);
	ck_assert(!empty.data_null);
	ck_assert_uint_eq(empty.len, 0);
	ck_assert_int_gt(atoi(kv_get(&empty.headers, "seen-deadline-ms")), 9000);
	/* Both went over one connection. */
	ck_assert_int_eq(stat_of(c, "connections"), 1);
	result_free(&res);
	result_free(&empty);
	kv_free(&md);
	grpc_client_free(c);
}
END_TEST

/* A request larger than the server's windows: sent as they open, through the bounded socket buffer. */
START_TEST(test_large_request)
{
	struct grpc_client *c = client(-1);
	size_t size = 3 << 20;
	uint8_t *msg = malloc(size);
	struct result res[3];

	ck_assert_ptr_nonnull(msg);
	for (size_t i = 0; i < size; i++)
		msg[i] = (uint8_t)(i * 31 + (i >> 12));
	/* Three at once, so that their DATA frames interleave on the connection. */
	for (int i = 0; i < 3; i++)
		call(c, "Echo", NULL, msg, size, 20000, &res[i]);
	wait_all(20000);
	for (int i = 0; i < 3; i++) {
		ck_assert_msg(res[i].status == 0, "status %d: %s", res[i].status, res[i].message);
		ck_assert_uint_eq(res[i].len, size);
		ck_assert_mem_eq(res[i].data, msg, size);
		result_free(&res[i]);
	}
	free(msg);
	grpc_client_free(c);
}
END_TEST

START_TEST(test_status_and_message)
{
	struct grpc_client *c = client(-1);
	/* grpc-js percent-encodes the message; the client decodes it. */
	const char *message = "no such key 'k\xc3\xa4' (100% sure)\nsecond line";
	char req[300];
	struct result nf, bad;

	snprintf(req, sizeof(req),
		 "{\"code\": 5, \"message\": \"no such key 'k\xc3\xa4' (100%% sure)\\nsecond line\"}");
	call_text(c, "Fail", req, 5000, &nf);
	call_text(c, "Fail", "{\"code\": 9, \"message\": \"\"}", 5000, &bad);
	wait_all(5000);
	ck_assert_int_eq(nf.status, 5);
	ck_assert_str_eq(nf.message, message);
	ck_assert(nf.data_null);
	ck_assert_uint_eq(nf.len, 0);
	ck_assert_int_eq(bad.status, 9);
	ck_assert_str_eq(bad.message, "");
	result_free(&nf);
	result_free(&bad);
	grpc_client_free(c);
}
END_TEST

START_TEST(test_invalid_metadata)
{
	/* One slot, taken by a slow call: invalid calls are told at once, not after it. */
	struct grpc_client *c = client(1);
	struct kv_list upper = { 0 }, line = { 0 }, reserved = { 0 };
	struct result slow, r1, r2, r3;

	ck_assert_int_eq(kv_set(&upper, "X-Upper", "v"), 0);
	ck_assert_int_eq(kv_set(&line, "x-line", "a\r\nx-injected: 1"), 0);
	/* Reserved names are the client's own: left out, not an error. */
	ck_assert_int_eq(kv_set(&reserved, "content-type", "text/plain"), 0);
	ck_assert_int_eq(kv_set(&reserved, "x-kept", "yes"), 0);
	call_text(c, "Sleep", "1000", 5000, &slow);
	call(c, "Echo", &upper, "a", 1, 5000, &r1);
	call(c, "Echo", &line, "a", 1, 5000, &r2);
	call(c, "Echo", &reserved, "a", 1, 5000, &r3);
	wait_all(5000);
	ck_assert_int_eq(slow.status, 0);
	ck_assert_int_eq(r1.status, 13);
	ck_assert_int_lt(r1.ms, 500);
	ck_assert_int_lt(r2.ms, 500);
	ck_assert_msg(strstr(r1.message, "\"X-Upper\"") != NULL, "%s", r1.message);
	ck_assert_int_eq(r2.status, 13);
	ck_assert_msg(strstr(r2.message, "\"x-line\"") != NULL, "%s", r2.message);
	ck_assert_msg(r3.status == 0, "status %d: %s", r3.status, r3.message);
	ck_assert_pstr_eq(kv_get(&r3.headers, "seen-x-kept"), "yes");
	result_free(&slow);
	result_free(&r1);
	result_free(&r2);
	result_free(&r3);
	kv_free(&upper);
	kv_free(&line);
	kv_free(&reserved);
	grpc_client_free(c);
}
END_TEST

START_TEST(test_deadline_server)
{
	struct grpc_client *c = client(-1);
	struct result res;

	call_text(c, "Sleep", "5000", 300, &res);
	wait_all(3000);
	ck_assert_msg(res.status == 4, "status %d: %s", res.status, res.message);
	ck_assert_int_ge(res.ms, 250);
	ck_assert_int_lt(res.ms, 1500);
	result_free(&res);
	/* The server learnt of it: the call was cancelled there, not left running. */
	run_for(200);
	ck_assert_int_eq(stat_of(c, "cancelled"), 1);
	grpc_client_free(c);
}
END_TEST

/*
 * A server that accepts the connection (the kernel's backlog) but never says a word: only the
 * client's own timer can end the call.
 */
START_TEST(test_deadline_silent_server)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct grpc_client *c;
	struct result res, queued;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(listen(fd, 8), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	c = grpc_client_new(base, "127.0.0.1", ntohs(sa.sin_port), 1, 10);
	call_text(c, "Echo", "x", 300, &res);
	/* The second waits for the first's slot; its deadline counts while it waits. */
	call_text(c, "Echo", "y", 500, &queued);
	wait_all(3000);
	ck_assert_msg(res.status == 4, "status %d: %s", res.status, res.message);
	ck_assert_int_ge(res.ms, 250);
	ck_assert_int_lt(res.ms, 1000);
	ck_assert_msg(strstr(res.message, "within 300 ms") != NULL, "%s", res.message);
	ck_assert_msg(queued.status == 4, "status %d: %s", queued.status, queued.message);
	ck_assert_int_ge(queued.ms, 450);
	ck_assert_int_lt(queued.ms, 1200);
	result_free(&res);
	result_free(&queued);
	grpc_client_free(c);
	close(fd);
}
END_TEST

/* The peak resident size since peak_reset(), from /proc/self/status (VmHWM). */
/* A listener that accepts (the kernel's backlog) and never says a word, not even SETTINGS. */
START_TEST(test_no_settings)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct grpc_client *c;
	struct result res;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(listen(fd, 8), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	/* timeout_s 1: the server's SETTINGS may take that long. */
	c = grpc_client_new(base, "127.0.0.1", ntohs(sa.sin_port), -1, 1);
	call_text(c, "Echo", "x", 5000, &res);
	wait_all(5000);
	ck_assert_msg(res.status == 14, "status %d: %s", res.status, res.message);
	ck_assert_msg(strstr(res.message, "no HTTP/2 SETTINGS from it within 1 s") != NULL, "%s",
		      res.message);
	ck_assert_int_ge(res.ms, 900);
	ck_assert_int_lt(res.ms, 3000);
	result_free(&res);
	grpc_client_free(c);
	close(fd);
}
END_TEST

/*
 * A server that stops answering anything (SIGSTOP: the kernel still takes its bytes): after a
 * deadline passes, a PING goes out, and without its ACK the connection is given up, so that the
 * next call does not ride a dead connection to its deadline too.
 */
START_TEST(test_silent_connection_replaced)
{
	struct grpc_client *c = grpc_client_new(base, "127.0.0.1", node_port, -1, 1);
	struct result first, stuck, after;

	call_text(c, "Echo", "1", 3000, &first);
	wait_all(3000);
	ck_assert_int_eq(first.status, 0);
	ck_assert_int_eq(kill(node_pid, SIGSTOP), 0);
	call_text(c, "Echo", "2", 300, &stuck);
	wait_all(3000);
	ck_assert_msg(stuck.status == 4, "status %d: %s", stuck.status, stuck.message);
	/* The PING's second passes. */
	run_for(1500);
	ck_assert_int_eq(kill(node_pid, SIGCONT), 0);
	call_text(c, "Echo", "3", 3000, &after);
	wait_all(3000);
	ck_assert_msg(after.status == 0, "status %d: %s", after.status, after.message);
	ck_assert_int_eq(stat_of(c, "connections"), 2);
	result_free(&first);
	result_free(&stuck);
	result_free(&after);
	grpc_client_free(c);
}
END_TEST

static long peak_kib(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long kib = -1;

	ck_assert_ptr_nonnull(f);
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "VmHWM: %ld kB", &kib) == 1)
			break;
	fclose(f);
	ck_assert_int_gt(kib, 0);
	return kib;
}

/* Makes the peak the current size (Linux: "5" to clear_refs), so that a buffer freed again still shows. */
static void peak_reset(void)
{
	FILE *f = fopen("/proc/self/clear_refs", "w");

	ck_assert_ptr_nonnull(f);
	fputs("5", f);
	fclose(f);
}

START_TEST(test_too_large)
{
	struct grpc_client *c = client(-1);
	struct result ok, huge, after;
	long before_kib, grown_kib;

	grpc_client_set_limits(c, 1 << 20, 16 << 10);
	/* Half the limit passes, over several windows' worth of DATA frames. */
	call_text(c, "Huge", "524288", 10000, &ok);
	wait_all(10000);
	ck_assert_msg(ok.status == 0, "status %d: %s", ok.status, ok.message);
	ck_assert_uint_eq(ok.len, 524288);
	ck_assert_int_eq(ok.data[0], 'a');
	ck_assert_int_eq(ok.data[524287], 'a');

	peak_reset();
	before_kib = peak_kib();
	call_text(c, "Huge", "67108864", 20000, &huge);
	wait_all(20000);
	grown_kib = peak_kib() - before_kib;
	ck_assert_msg(huge.status == 8, "status %d: %s", huge.status, huge.message);
	ck_assert_msg(strstr(huge.message, "67108864 bytes is larger than 1048576 bytes") != NULL, "%s",
		      huge.message);
	ck_assert(huge.data_null);
	/* 64 MiB announced; what the client held stays near its 1 MiB window. */
	ck_assert_msg(grown_kib < 16 * 1024, "the client's peak grew by %ld KiB reading a refused answer",
		      grown_kib);

	/* The stream was reset, not the connection: the next call takes the same one. */
	call_text(c, "Echo", "still here", 5000, &after);
	wait_all(5000);
	ck_assert_msg(after.status == 0, "status %d: %s", after.status, after.message);
	ck_assert_int_eq(stat_of(c, "connections"), 1);
	result_free(&ok);
	result_free(&huge);
	result_free(&after);
	grpc_client_free(c);
}
END_TEST

START_TEST(test_headers_too_large)
{
	struct grpc_client *c = client(-1);
	struct kv_list md = { 0 };
	struct result res, after;
	char big[6000];

	memset(big, 'h', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	grpc_client_set_limits(c, 1 << 20, 4096);
	/* Echo sends it back as seen-x-big: 6 KB of initial metadata against a 4 KiB limit. */
	ck_assert_int_eq(kv_set(&md, "x-big", big), 0);
	call(c, "Echo", &md, "a", 1, 5000, &res);
	wait_all(5000);
	ck_assert_msg(res.status == 8, "status %d: %s", res.status, res.message);
	ck_assert_msg(strstr(res.message, "headers are larger than 4096 bytes") != NULL, "%s", res.message);
	call_text(c, "Echo", "b", 5000, &after);
	wait_all(5000);
	ck_assert_msg(after.status == 0, "status %d: %s", after.status, after.message);
	result_free(&res);
	result_free(&after);
	kv_free(&md);
	grpc_client_free(c);
}
END_TEST

START_TEST(test_dropped_connection)
{
	struct grpc_client *c = client(-1);
	struct result drop, sleeping, after;

	call_text(c, "Sleep", "3000", 5000, &sleeping);
	call_text(c, "Drop", "", 5000, &drop);
	wait_all(3000);
	/* Both calls on the cut connection fail UNAVAILABLE, well before their deadlines. */
	ck_assert_msg(drop.status == 14, "status %d: %s", drop.status, drop.message);
	ck_assert_msg(sleeping.status == 14, "status %d: %s", sleeping.status, sleeping.message);
	ck_assert_int_lt(sleeping.ms, 2000);
	ck_assert_msg(strstr(drop.message, "ended before the answer") != NULL, "%s", drop.message);
	/* The next call opens a new connection. */
	call_text(c, "Echo", "again", 5000, &after);
	wait_all(5000);
	ck_assert_msg(after.status == 0, "status %d: %s", after.status, after.message);
	ck_assert_int_eq(stat_of(c, "connections"), 2);
	result_free(&drop);
	result_free(&sleeping);
	result_free(&after);
	grpc_client_free(c);
}
END_TEST

static pid_t to_kill;

static void kill_server(evutil_socket_t fd, short what, void *arg)
{
	kill(to_kill, SIGKILL);
}

static bool ready_called;

static void on_ready(void *arg)
{
	ready_called = true;
	event_base_loopbreak(base);
}

static void restart_server(evutil_socket_t fd, short what, void *arg)
{
	node_start();
}

START_TEST(test_server_killed_and_restarted)
{
	struct grpc_client *c = client(-1);
	struct result first, in_flight, down, back;
	struct timeval soon = { 0, 300 * 1000 }, later = { 0, 500 * 1000 };
	struct event *killer = evtimer_new(base, kill_server, NULL);
	struct event *restarter = evtimer_new(base, restart_server, NULL);

	call_text(c, "Echo", "1", 5000, &first);
	wait_all(5000);
	ck_assert_int_eq(first.status, 0);

	/* Killed while a call is in flight. */
	to_kill = node_pid;
	call_text(c, "Sleep", "5000", 8000, &in_flight);
	evtimer_add(killer, &soon);
	wait_all(5000);
	waitpid(node_pid, NULL, 0);
	node_pid = 0;
	ck_assert_msg(in_flight.status == 14, "status %d: %s", in_flight.status, in_flight.message);
	ck_assert_int_lt(in_flight.ms, 3000);

	/* Down: a call fails at once, it does not wait for the server. */
	call_text(c, "Echo", "2", 5000, &down);
	wait_all(5000);
	ck_assert_msg(down.status == 14, "status %d: %s", down.status, down.message);
	ck_assert_int_lt(down.ms, 1000);
	ck_assert_msg(strstr(down.message, "could not connect to the gRPC server at 127.0.0.1:") != NULL,
		      "%s", down.message);

	/* Back on the same port: wait_ready notices, and calls work again. */
	evtimer_add(restarter, &later);
	grpc_client_wait_ready(c, on_ready, NULL);
	ck_assert(!ready_called);
	run_for(25000);
	ck_assert(ready_called);
	call_text(c, "Echo", "3", 5000, &back);
	wait_all(5000);
	ck_assert_msg(back.status == 0, "status %d: %s", back.status, back.message);
	ck_assert_mem_eq(back.data, "3", 1);
	event_free(killer);
	event_free(restarter);
	result_free(&first);
	result_free(&in_flight);
	result_free(&down);
	result_free(&back);
	grpc_client_free(c);
}
END_TEST

static int ready_order[4], nready, nfreed;

static void on_ready_n(void *arg)
{
	ready_order[nready++] = (int)(intptr_t)arg;
	event_base_loopbreak(base);
}

static void ready_frees(void *arg)
{
	grpc_client_free(arg);
	nfreed++;
	event_base_loopbreak(base);
}

static void never_ready(void *arg)
{
	ck_abort_msg("a ready callback ran after grpc_client_free");
}

START_TEST(test_wait_ready)
{
	struct grpc_client *c, *freed;
	struct event *restarter = evtimer_new(base, restart_server, NULL);
	struct timeval later = { 0, 400 * 1000 };

	server_stop(node_pid);
	node_pid = 0;
	c = client(-1);
	freed = client(-1);
	/* Both wait for one probe and are told in the order they asked, once the server listens. */
	grpc_client_wait_ready(c, on_ready_n, (void *)1);
	grpc_client_wait_ready(c, on_ready_n, (void *)2);
	grpc_client_wait_ready(freed, ready_frees, freed);
	grpc_client_wait_ready(freed, never_ready, NULL);
	evtimer_add(restarter, &later);
	run_for(300);
	ck_assert_int_eq(nready + nfreed, 0);
	while (nready < 2 || nfreed < 1)
		event_base_dispatch(base);
	run_for(300);
	ck_assert_int_eq(nready, 2);
	ck_assert_int_eq(nfreed, 1);
	ck_assert_int_eq(ready_order[0], 1);
	ck_assert_int_eq(ready_order[1], 2);
	/* Once ready, a waiter is told at once. */
	grpc_client_wait_ready(c, on_ready_n, (void *)3);
	ck_assert_int_eq(nready, 3);
	ck_assert_int_eq(ready_order[2], 3);
	event_free(restarter);
	grpc_client_free(c);
}
END_TEST

START_TEST(test_nothing_listens)
{
	struct grpc_client *c = grpc_client_new(base, "127.0.0.1", free_port(), -1, 10);
	struct result res;

	call_text(c, "Echo", "x", 5000, &res);
	wait_all(5000);
	ck_assert_msg(res.status == 14, "status %d: %s", res.status, res.message);
	ck_assert_msg(strstr(res.message, "could not connect") != NULL, "%s", res.message);
	result_free(&res);
	grpc_client_free(c);
}
END_TEST

/* A server that answers HTTP/1.1, as a misconfigured --app-protocol would find. */
static void *http1_server(void *arg)
{
	int fd = *(int *)arg;
	int conn = accept(fd, NULL, NULL);
	char buf[512];
	const char *answer = "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";

	if (conn >= 0) {
		(void)!read(conn, buf, sizeof(buf));
		(void)!write(conn, answer, strlen(answer));
		usleep(200 * 1000);
		close(conn);
	}
	return NULL;
}

START_TEST(test_not_http2)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct grpc_client *c;
	struct result res;
	pthread_t t;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(listen(fd, 8), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	ck_assert_int_eq(pthread_create(&t, NULL, http1_server, &fd), 0);
	c = grpc_client_new(base, "127.0.0.1", ntohs(sa.sin_port), -1, 10);
	call_text(c, "Echo", "x", 5000, &res);
	wait_all(5000);
	ck_assert_msg(res.status == 14, "status %d: %s", res.status, res.message);
	ck_assert_int_lt(res.ms, 2000);
	pthread_join(t, NULL);
	result_free(&res);
	grpc_client_free(c);
	close(fd);
}
END_TEST

START_TEST(test_hundred_multiplexed)
{
	struct grpc_client *c = client(-1);
	static struct result res[100];
	int64_t start = now_ms();

	for (int i = 0; i < 100; i++)
		call_text(c, "Sleep", "500", 10000, &res[i]);
	ck_assert_uint_eq(grpc_client_busy(c), 100);
	wait_all(10000);
	/* One after another they would take 50 s. */
	ck_assert_int_lt(now_ms() - start, 4000);
	for (int i = 0; i < 100; i++) {
		ck_assert_msg(res[i].status == 0, "call %d: status %d: %s", i, res[i].status, res[i].message);
		ck_assert_mem_eq(res[i].data, "slept", 5);
		result_free(&res[i]);
	}
	ck_assert_int_eq(stat_of(c, "maxSleeping"), 100);
	ck_assert_int_eq(stat_of(c, "connections"), 1);
	grpc_client_free(c);
}
END_TEST

START_TEST(test_max_concurrency_queues_in_order)
{
	struct grpc_client *c = client(2);
	struct result res[6];
	int64_t start = now_ms();

	for (int i = 0; i < 6; i++)
		call_text(c, "Sleep", i % 2 == 0 ? "300" : "250", 10000, &res[i]);
	wait_all(10000);
	ck_assert_int_ge(now_ms() - start, 3 * 250);
	for (int i = 0; i < 6; i++) {
		ck_assert_msg(res[i].status == 0, "call %d: status %d: %s", i, res[i].status, res[i].message);
		/* Pairs start in the order they were made: a call never overtakes one made before it... */
		ck_assert_int_ge(res[i].order / 2, i / 2);
	}
	/* ...and never more than two at once reached the server. */
	ck_assert_int_eq(stat_of(c, "maxSleeping"), 2);
	for (int i = 0; i < 6; i++)
		result_free(&res[i]);
	grpc_client_free(c);
}
END_TEST

static void never(void *arg, const struct grpc_client_response *r)
{
	ck_abort_msg("a callback ran after grpc_client_free");
}

START_TEST(test_free_with_calls_pending)
{
	struct grpc_client *c = client(1);

	/* One in flight, one waiting for the slot, one finished but not yet told. */
	ck_assert_int_eq(grpc_client_unary(c, PROBE "Sleep", NULL, "2000", 4, 5000, never, NULL), 0);
	run_for(300);
	ck_assert_int_eq(grpc_client_unary(c, PROBE "Sleep", NULL, "2000", 4, 5000, never, NULL), 0);
	ck_assert_int_eq(grpc_client_unary(c, "/bad", NULL, "", 0, 5000, never, NULL), 0);
	ck_assert_uint_eq(grpc_client_busy(c), 3);
	grpc_client_free(c);
	run_for(500);
}
END_TEST

static struct grpc_client *to_free;

static void free_in_callback(void *arg, const struct grpc_client_response *r)
{
	ck_assert_int_eq(r->status, 13);
	grpc_client_free(to_free);
	to_free = NULL;
	event_base_loopbreak(base);
}

START_TEST(test_free_from_callback)
{
	struct kv_list bad = { 0 };

	to_free = client(-1);
	ck_assert_int_eq(kv_set(&bad, "Bad", "x"), 0);
	/* Both fail in the same turn of the loop: the first frees the client, the second is never told. */
	ck_assert_int_eq(grpc_client_unary(to_free, PROBE "Echo", &bad, "", 0, 5000, free_in_callback, NULL),
			 0);
	ck_assert_int_eq(grpc_client_unary(to_free, PROBE "Echo", &bad, "", 0, 5000, never, NULL), 0);
	run_for(2000);
	ck_assert_ptr_null(to_free);
	run_for(200);
	kv_free(&bad);
}
END_TEST

/* ---- answers grpc-js never gives: raw_server.mjs ---- */

/* Calls path on the raw server and waits for the answer. */
static void raw_call(struct grpc_client *c, const char *method, struct result *res)
{
	call_text(c, method, "req", 5000, res);
	wait_all(5000);
}

START_TEST(test_raw_answers)
{
	struct grpc_client *c = client(-1);
	struct result res;

	/* The prefix and the message in pieces of two bytes, one DATA frame each. */
	raw_call(c, "Split", &res);
	ck_assert_msg(res.status == 0, "status %d: %s", res.status, res.message);
	ck_assert_uint_eq(res.len, 5);
	ck_assert_mem_eq(res.data, "split", 5);
	result_free(&res);

	/* Trailers-only: the status is in the one HEADERS block, and so are the headers told. */
	raw_call(c, "TrailersOnly", &res);
	ck_assert_int_eq(res.status, 7);
	ck_assert_str_eq(res.message, "denied here");
	ck_assert_pstr_eq(kv_get(&res.headers, "grpc-status"), "7");
	result_free(&res);

	/* No grpc-status: the HTTP status says it (gRPC's mapping: 503 is UNAVAILABLE). */
	raw_call(c, "Http503", &res);
	ck_assert_int_eq(res.status, 14);
	ck_assert_msg(strstr(res.message, "HTTP status 503") != NULL, "%s", res.message);
	result_free(&res);

	raw_call(c, "NoStatus", &res);
	ck_assert_int_eq(res.status, 13);
	ck_assert_msg(strstr(res.message, "without a grpc-status") != NULL, "%s", res.message);
	ck_assert(res.data_null);
	result_free(&res);

	raw_call(c, "TwoMessages", &res);
	ck_assert_int_eq(res.status, 13);
	ck_assert_msg(strstr(res.message, "more than one message") != NULL, "%s", res.message);
	result_free(&res);

	raw_call(c, "Compressed", &res);
	ck_assert_int_eq(res.status, 13);
	ck_assert_msg(strstr(res.message, "compressed") != NULL, "%s", res.message);
	result_free(&res);

	raw_call(c, "BadStatus", &res);
	ck_assert_int_eq(res.status, 2);
	ck_assert_msg(strstr(res.message, "invalid grpc-status \"abc\"") != NULL, "%s", res.message);
	result_free(&res);

	/* A reset without a status: gRPC maps ENHANCE_YOUR_CALM to RESOURCE_EXHAUSTED. */
	raw_call(c, "Reset", &res);
	ck_assert_msg(res.status == 8, "status %d: %s", res.status, res.message);
	ck_assert_msg(strstr(res.message, "reset") != NULL, "%s", res.message);
	result_free(&res);

	/* Initial metadata past one frame (HEADERS, then CONTINUATION) is one block, and the trailers another. */
	raw_call(c, "BigHeaders", &res);
	ck_assert_msg(res.status == 0, "status %d: %s", res.status, res.message);
	ck_assert_uint_eq(strlen(kv_get(&res.headers, "x-big")), 40000);
	ck_assert_ptr_null(kv_get(&res.headers, "grpc-status"));
	ck_assert_pstr_eq(kv_get(&res.trailers, "grpc-status"), "0");
	ck_assert_pstr_eq(kv_get(&res.trailers, "x-after"), "yes");
	result_free(&res);

	/* All of it on one connection: each of those ended its stream only. */
	raw_call(c, "Split", &res);
	ck_assert_int_eq(res.status, 0);
	result_free(&res);
	grpc_client_free(c);
}
END_TEST

static long raw_connections(struct grpc_client *c)
{
	struct result res;
	long n;
	char text[32];

	raw_call(c, "Connections", &res);
	ck_assert_msg(res.status == 0, "status %d: %s", res.status, res.message);
	snprintf(text, sizeof(text), "%.*s", (int)res.len, (const char *)res.data);
	n = strtol(text, NULL, 10);
	result_free(&res);
	return n;
}

START_TEST(test_refused_by_goaway_is_retried)
{
	struct grpc_client *c = client(-1);
	struct result res;
	long before = raw_connections(c);

	/* The server refuses the call with GOAWAY: never seen by it, so it goes again on a new connection. */
	raw_call(c, "Goaway", &res);
	ck_assert_msg(res.status == 0, "status %d: %s", res.status, res.message);
	ck_assert_mem_eq(res.data, "retried", 7);
	result_free(&res);
	ck_assert_int_eq(raw_connections(c), before + 1);
	grpc_client_free(c);
}
END_TEST

/*
 * With the server's 16 MiB windows nothing from it paces the request: only the socket becoming
 * writable again moves the rest of it out of nghttp2.
 */
START_TEST(test_large_request_wide_windows)
{
	struct grpc_client *c = client(-1);
	size_t size = 3 << 20;
	uint8_t *msg = malloc(size);
	struct result res;

	ck_assert_ptr_nonnull(msg);
	for (size_t i = 0; i < size; i++)
		msg[i] = (uint8_t)(i * 13 + (i >> 10));
	call(c, "Echo", NULL, msg, size, 10000, &res);
	wait_all(10000);
	ck_assert_msg(res.status == 0, "status %d: %s", res.status, res.message);
	ck_assert_uint_eq(res.len, size);
	ck_assert_mem_eq(res.data, msg, size);
	result_free(&res);
	free(msg);
	grpc_client_free(c);
}
END_TEST

START_TEST(test_server_concurrency_limit)
{
	struct grpc_client *c = client(-1);
	struct result res[9], most;
	int64_t start = now_ms();

	/* The server takes 3 streams at once: the other calls wait for a slot, none is refused. */
	for (int i = 0; i < 9; i++)
		call_text(c, "Sleep", "", 5000, &res[i]);
	wait_all(5000);
	ck_assert_int_ge(now_ms() - start, 3 * 200);
	for (int i = 0; i < 9; i++) {
		ck_assert_msg(res[i].status == 0, "call %d: status %d: %s", i, res[i].status, res[i].message);
		result_free(&res[i]);
	}
	raw_call(c, "Sleeping", &most);
	ck_assert_mem_eq(most.data, "3", 1);
	result_free(&most);
	grpc_client_free(c);
}
END_TEST

static Suite *grpc_client_suite(void)
{
	Suite *s = suite_create("grpc_client");
	TCase *tc = tcase_create("against grpc-js");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_echo);
	tcase_add_test(tc, test_large_request);
	tcase_add_test(tc, test_status_and_message);
	tcase_add_test(tc, test_invalid_metadata);
	tcase_add_test(tc, test_deadline_server);
	tcase_add_test(tc, test_deadline_silent_server);
	tcase_add_test(tc, test_no_settings);
	tcase_add_test(tc, test_silent_connection_replaced);
	tcase_add_test(tc, test_too_large);
	tcase_add_test(tc, test_headers_too_large);
	tcase_add_test(tc, test_dropped_connection);
	tcase_add_test(tc, test_server_killed_and_restarted);
	tcase_add_test(tc, test_wait_ready);
	tcase_add_test(tc, test_nothing_listens);
	tcase_add_test(tc, test_not_http2);
	tcase_add_test(tc, test_hundred_multiplexed);
	tcase_add_test(tc, test_max_concurrency_queues_in_order);
	tcase_add_test(tc, test_free_with_calls_pending);
	tcase_add_test(tc, test_free_from_callback);
	suite_add_tcase(s, tc);

	tc = tcase_create("against node:http2");
	tcase_add_checked_fixture(tc, setup_raw, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_raw_answers);
	tcase_add_test(tc, test_refused_by_goaway_is_retried);
	tcase_add_test(tc, test_server_concurrency_limit);
	tcase_add_test(tc, test_large_request_wide_windows);
	suite_add_tcase(s, tc);
	return s;
}

/* node and @grpc/grpc-js come from outside the build (npm ci --prefix tests/interop). */
static const char *missing(void)
{
	static char why[700];
	char module[600];
	struct stat st;

	if (!server_available("node"))
		return "node is not on PATH";
	snprintf(module, sizeof(module), "%s/tests/interop/node_modules/@grpc/grpc-js/package.json",
		 srcdir());
	if (stat(module, &st) != 0) {
		snprintf(why, sizeof(why), "%s is missing; run: npm ci --prefix tests/interop", module);
		return why;
	}
	return NULL;
}

int main(void)
{
	const char *why = missing();
	SRunner *sr;
	int failed;

	if (why != NULL) {
		const char *require = getenv("OUTRIG_REQUIRE_INTEROP");

		if (require != NULL && strcmp(require, "1") == 0) {
			fprintf(stderr,
				"FAIL: the gRPC client test needs grpc-js (OUTRIG_REQUIRE_INTEROP=1), but %s\n",
				why);
			return 1;
		}
		printf("SKIP: gRPC client test: %s\n", why);
		return 77;
	}
	/* A peer that resets a connection must not kill the test with SIGPIPE. */
	signal(SIGPIPE, SIG_IGN);
	sr = srunner_create(grpc_client_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
