/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The gRPC API's transport against a real outrigd (issue 12): health, methods not served, the API
 * token, size limits, malformed gRPC framing, and what a hostile HTTP/2 client can send (HTTP/1.1,
 * garbage, RST_STREAM and CONTINUATION floods).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <check.h>

#include "daemon.h"
#include "exchange.h"
#include "google/rpc/error_details.pb-c.h"
#include "google/rpc/status.pb-c.h"
#include "grpc/health/v1/health.pb-c.h"
#include "grpc_client.h"
#include "http_client.h"
#include "api/grpc/grpc_status.h"

#define APP "grpcapi"
#define HEALTH "/grpc.health.v1.Health/Check"

static struct daemon dmn;
static int grpc_port;

static void start(const char *const *extra)
{
	const char *args[16];
	char port[16];
	size_t n = 0;

	grpc_port = daemon_free_port();
	snprintf(port, sizeof(port), "%d", grpc_port);
	args[n++] = "--dapr-grpc-port";
	args[n++] = port;
	for (size_t i = 0; extra != NULL && extra[i] != NULL && n < 15; i++)
		args[n++] = extra[i];
	args[n] = NULL;
	ck_assert_msg(daemon_start(&dmn, args) == 0, "outrigd did not start (log above)");
}

static void setup(void)
{
	ck_assert_int_eq(daemon_init(&dmn, APP), 0);
	ck_assert_int_eq(daemon_add_component(&dmn, "statestore", "state.in-memory", NULL), 0);
}

static void teardown(void)
{
	daemon_cleanup(&dmn);
}

static struct grpc_client *connect_grpc(void)
{
	struct grpc_client *c = grpc_client_connect(grpc_port);

	ck_assert_msg(c != NULL, "cannot connect to the gRPC port %d: %s", grpc_port, strerror(errno));
	return c;
}

/* One call on a fresh connection. */
static void call(const char *path, const char *const *md, const uint8_t *msg, size_t len,
		 struct grpc_result *r)
{
	struct grpc_client *c = connect_grpc();

	ck_assert_msg(grpc_client_call(c, path, md, msg, len, 5000, r) == 0, "%s: no answer", path);
	grpc_client_close(c);
}

/* Health/Check answers SERVING: the daemon is alive and its gRPC port works. */
static void ck_serving(void)
{
	struct grpc_result r;
	Grpc__Health__V1__HealthCheckResponse *resp;

	call(HEALTH, NULL, NULL, 0, &r);
	ck_assert_msg(r.status == 0, "Health/Check: grpc-status %d (%s)", r.status, r.message);
	resp = grpc__health__v1__health_check_response__unpack(NULL, r.len, r.data);
	ck_assert_ptr_nonnull(resp);
	ck_assert_int_eq(resp->status, GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVING);
	grpc__health__v1__health_check_response__free_unpacked(resp, NULL);
	grpc_result_free(&r);
}

START_TEST(health_check_serving)
{
	struct grpc_result r;

	start(NULL);
	ck_serving();
	/* A service other than "" is not one outrig reports on. */
	{
		static const uint8_t other[] = { 0x0a, 0x03, 'f', 'o', 'o' };

		call(HEALTH, NULL, other, sizeof(other), &r);
		ck_assert_int_eq(r.status, 5);
		grpc_result_free(&r);
	}
}
END_TEST

START_TEST(unknown_method_is_unimplemented_by_name)
{
	struct grpc_result r;

	start(NULL);
	call("/no.such.Service/Frobnicate", NULL, NULL, 0, &r);
	ck_assert_int_eq(r.http_status, 200);
	ck_assert_int_eq(r.status, 12);
	ck_assert_msg(strstr(r.message, "/no.such.Service/Frobnicate") != NULL, "message: %s", r.message);
	grpc_result_free(&r);
	/* A method of the Dapr service outrig does not serve yet says so. */
	call("/dapr.proto.runtime.v1.Dapr/TryLockAlpha1", NULL, NULL, 0, &r);
	ck_assert_int_eq(r.status, 12);
	ck_assert_msg(strstr(r.message, "TryLockAlpha1") != NULL &&
			      strstr(r.message, "not implemented") != NULL,
		      "message: %s", r.message);
	grpc_result_free(&r);
	/* A streaming method's client does not end its stream first: answered from the headers. */
	{
		struct grpc_client *c = connect_grpc();

		ck_assert_int_eq(
			grpc_client_call_open(c, "/dapr.proto.runtime.v1.Dapr/SubscribeTopicEventsAlpha1",
					      NULL, 3000, &r),
			0);
		ck_assert_int_eq(r.status, 12);
		ck_assert_msg(strstr(r.message, "SubscribeTopicEventsAlpha1") != NULL, "message: %s",
			      r.message);
		grpc_result_free(&r);
		grpc_client_close(c);
	}
	/* A made-up method on the Dapr service is unknown, not "not yet". */
	call("/dapr.proto.runtime.v1.Dapr/Frobnicate", NULL, NULL, 0, &r);
	ck_assert_int_eq(r.status, 12);
	ck_assert_msg(strstr(r.message, "unknown") != NULL, "message: %s", r.message);
	grpc_result_free(&r);
}
END_TEST

/* The ErrorInfo in grpc-status-details-bin, decoded; the caller frees it. */
static Google__Rpc__ErrorInfo *error_info(const struct grpc_result *r, int code)
{
	unsigned char buf[4096];
	long n;
	Google__Rpc__Status *st;
	Google__Rpc__ErrorInfo *info;

	ck_assert_msg(r->details_bin != NULL, "no grpc-status-details-bin");
	n = grpc_unbase64(r->details_bin, buf, sizeof(buf));
	ck_assert_int_gt(n, 0);
	st = google__rpc__status__unpack(NULL, (size_t)n, buf);
	ck_assert_ptr_nonnull(st);
	ck_assert_int_eq(st->code, code);
	ck_assert_uint_eq(st->n_details, 1);
	ck_assert_str_eq(st->details[0]->type_url, "type.googleapis.com/google.rpc.ErrorInfo");
	info = google__rpc__error_info__unpack(NULL, st->details[0]->value.len, st->details[0]->value.data);
	ck_assert_ptr_nonnull(info);
	google__rpc__status__free_unpacked(st, NULL);
	return info;
}

static const char *info_meta(const Google__Rpc__ErrorInfo *info, const char *key)
{
	for (size_t i = 0; i < info->n_metadata; i++)
		if (strcmp(info->metadata[i]->key, key) == 0)
			return info->metadata[i]->value;
	return NULL;
}

START_TEST(api_token_is_required)
{
	static const char *const wrong[] = { "dapr-api-token", "nope", NULL };
	static const char *const right[] = { "dapr-api-token", "s3cret", NULL };
	const char *path = "/dapr.proto.runtime.v1.Dapr/TryLockAlpha1";
	struct grpc_result r;
	Google__Rpc__ErrorInfo *info;

	ck_assert_int_eq(daemon_setenv(&dmn, "DAPR_API_TOKEN", "s3cret"), 0);
	start(NULL);
	/* As daprd: UNAUTHENTICATED "Unauthorized", the reason in ErrorInfo's metadata. */
	call(path, NULL, NULL, 0, &r);
	ck_assert_int_eq(r.status, 16);
	ck_assert_str_eq(r.message, "Unauthorized");
	info = error_info(&r, 16);
	ck_assert_str_eq(info->domain, "dapr.io");
	ck_assert_str_eq(info->reason, "Unauthorized");
	ck_assert_str_eq(info_meta(info, "http.code"), "401");
	ck_assert_str_eq(info_meta(info, "http.error_message"), "missing api token in request metadata");
	google__rpc__error_info__free_unpacked(info, NULL);
	grpc_result_free(&r);
	call(path, wrong, NULL, 0, &r);
	ck_assert_int_eq(r.status, 16);
	info = error_info(&r, 16);
	ck_assert_str_eq(info_meta(info, "http.error_message"), "authentication error: api token mismatch");
	google__rpc__error_info__free_unpacked(info, NULL);
	grpc_result_free(&r);
	/* Unknown methods are not revealed to a caller without the token either. */
	call("/no.such.Service/M", NULL, NULL, 0, &r);
	ck_assert_int_eq(r.status, 16);
	grpc_result_free(&r);
	call(path, right, NULL, 0, &r);
	ck_assert_int_eq(r.status, 12);
	grpc_result_free(&r);
	/* Probes need no secret. */
	ck_serving();
}
END_TEST

START_TEST(oversized_message_is_resource_exhausted)
{
	static const char *const args[] = { "--max-body-size", "1Mi", NULL };
	size_t big = 48u << 20;
	uint8_t *msg = calloc(1, big + 5);
	struct grpc_result r;
	long rss0, rss1;

	ck_assert_ptr_nonnull(msg);
	start(args);
	rss0 = daemon_proc_kib(dmn.pid, "VmRSS");
	/* The prefix says 48 MiB: answered at once, before the data arrives. */
	call(HEALTH, NULL, msg, big, &r);
	ck_assert_int_eq(r.status, 8);
	ck_assert_msg(strstr(r.message, "--max-body-size") != NULL, "message: %s", r.message);
	grpc_result_free(&r);
	/* The prefix lies (10 bytes) and 48 MiB follow: the limit holds on what arrives. */
	msg[4] = 10;
	{
		struct grpc_client *c = connect_grpc();

		ck_assert_int_eq(grpc_client_call_raw(c, HEALTH, NULL, msg, big + 5, 10000, &r), 0);
		grpc_client_close(c);
	}
	ck_assert_msg(r.status == 8, "grpc-status %d, :status %d, reset %d (code %u)", r.status,
		      r.http_status, r.reset, r.reset_code);
	grpc_result_free(&r);
	rss1 = daemon_proc_kib(dmn.pid, "VmRSS");
	ck_assert_msg(rss0 > 0 && rss1 - rss0 < 8 * 1024, "outrigd's RSS grew from %ld to %ld KiB", rss0,
		      rss1);
	/* Just under the limit is fine (health ignores the unknown field 2: 1 MiB of bytes). */
	{
		size_t n = (1u << 20) - 16;
		uint8_t *ok = calloc(1, n);

		/* Field 2, length-delimited, its length a 3-byte varint: 1 + 3 + (n - 4) = n bytes. */
		ok[0] = 0x12;
		ok[1] = (uint8_t)(0x80 | ((n - 4) & 0x7f));
		ok[2] = (uint8_t)(0x80 | (((n - 4) >> 7) & 0x7f));
		ok[3] = (uint8_t)(((n - 4) >> 14) & 0x7f);
		call(HEALTH, NULL, ok, n, &r);
		ck_assert_msg(r.status == 0, "a message under the limit: %d %s", r.status, r.message);
		grpc_result_free(&r);
		free(ok);
	}
	free(msg);
}
END_TEST

START_TEST(malformed_framing)
{
	static const uint8_t truncated[] = { 0, 0, 0, 0, 10, 1, 2, 3 };
	static const uint8_t two[] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 };
	static const uint8_t compressed[] = { 1, 0, 0, 0, 0 };
	static const uint8_t short_prefix[] = { 0, 0 };
	static const uint8_t not_proto[] = { 0, 0, 0, 0, 3, 0xff, 0xff, 0xff };
	struct grpc_client *c;
	struct grpc_result r;

	start(NULL);
	c = connect_grpc();
	/* The length prefix promises more than arrives before END_STREAM: INTERNAL, as grpc-go. */
	ck_assert_int_eq(grpc_client_call_raw(c, HEALTH, NULL, truncated, sizeof(truncated), 5000, &r), 0);
	ck_assert_int_eq(r.status, 13);
	ck_assert_msg(strstr(r.message, "10 bytes") != NULL, "message: %s", r.message);
	grpc_result_free(&r);
	ck_assert_int_eq(grpc_client_call_raw(c, HEALTH, NULL, short_prefix, sizeof(short_prefix), 5000, &r),
			 0);
	ck_assert_int_eq(r.status, 13);
	grpc_result_free(&r);
	ck_assert_int_eq(grpc_client_call_raw(c, HEALTH, NULL, two, sizeof(two), 5000, &r), 0);
	ck_assert_int_eq(r.status, 13);
	grpc_result_free(&r);
	ck_assert_int_eq(grpc_client_call_raw(c, HEALTH, NULL, compressed, sizeof(compressed), 5000, &r), 0);
	ck_assert_int_eq(r.status, 12);
	grpc_result_free(&r);
	/* Framing is fine, the protobuf is not: INTERNAL, in grpc-go's words (as daprd answers). */
	ck_assert_int_eq(grpc_client_call_raw(c, HEALTH, NULL, not_proto, sizeof(not_proto), 5000, &r), 0);
	ck_assert_int_eq(r.status, 13);
	ck_assert_msg(strstr(r.message, "grpc: error unmarshalling request: ") == r.message, "message: %s",
		      r.message);
	grpc_result_free(&r);
	/* The same connection still works. */
	ck_assert_int_eq(grpc_client_call(c, HEALTH, NULL, NULL, 0, 5000, &r), 0);
	ck_assert_int_eq(r.status, 0);
	grpc_result_free(&r);
	grpc_client_close(c);
}
END_TEST

/* rcvbuf > 0 sets SO_RCVBUF before connecting, so the window the kernel offers stays that small. */
static int raw_connect_rcvbuf(int port, int rcvbuf)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int one = 1;

	ck_assert_int_ge(fd, 0);
	if (rcvbuf > 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	ck_assert_msg(connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0, "connect: %s", strerror(errno));
	return fd;
}

static int raw_connect(int port)
{
	return raw_connect_rcvbuf(port, 0);
}

/* Sends as much of data as the server takes (it may hang up midway). */
static void raw_send(int fd, const void *data, size_t len)
{
	const char *p = data;

	while (len > 0) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

		if (n <= 0)
			return;
		p += n;
		len -= (size_t)n;
	}
}

/*
 * Reads HTTP/2 frames until the server closes or timeout_ms pass. Returns whether it closed;
 * *goaway says whether a GOAWAY frame came.
 */
static bool raw_read_frames(int fd, int timeout_ms, bool *goaway)
{
	static uint8_t buf[1 << 20];
	size_t len = 0, off = 0;
	long deadline = xnow_ms() + timeout_ms;
	bool closed = false;

	*goaway = false;
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		long left = deadline - xnow_ms();
		ssize_t n;

		if (left <= 0 || poll(&p, 1, (int)left) <= 0)
			break;
		if (len == sizeof(buf)) {
			memmove(buf, buf + off, len - off);
			len -= off;
			off = 0;
		}
		n = recv(fd, buf + len, sizeof(buf) - len, 0);
		if (n <= 0) {
			closed = true;
			break;
		}
		len += (size_t)n;
		/* Frames: 3-byte length, type, flags, 4-byte stream id, payload. */
		while (len - off >= 9) {
			size_t flen = (size_t)buf[off] << 16 | (size_t)buf[off + 1] << 8 | buf[off + 2];

			if (len - off < 9 + flen)
				break;
			if (buf[off + 3] == 7)
				*goaway = true;
			off += 9 + flen;
		}
	}
	return closed;
}

static const char h2_preface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

static size_t frame(uint8_t *out, uint8_t type, uint8_t flags, uint32_t sid, const uint8_t *payload,
		    size_t len)
{
	out[0] = (uint8_t)(len >> 16);
	out[1] = (uint8_t)(len >> 8);
	out[2] = (uint8_t)len;
	out[3] = type;
	out[4] = flags;
	out[5] = (uint8_t)(sid >> 24);
	out[6] = (uint8_t)(sid >> 16);
	out[7] = (uint8_t)(sid >> 8);
	out[8] = (uint8_t)sid;
	if (len > 0)
		memcpy(out + 9, payload, len);
	return 9 + len;
}

/* POST, http, "/", :authority "a" (HPACK static-table references and a literal). */
static const uint8_t request_block[] = { 0x83, 0x86, 0x84, 0x01, 0x01, 'a' };

START_TEST(http1_on_the_grpc_port_is_closed)
{
	static const char get[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
	int fd;
	bool goaway;

	start(NULL);
	fd = raw_connect(grpc_port);
	raw_send(fd, get, sizeof(get) - 1);
	ck_assert_msg(raw_read_frames(fd, 5000, &goaway), "the connection stayed open after HTTP/1.1");
	close(fd);
	ck_serving();
}
END_TEST

START_TEST(garbage_is_closed)
{
	uint8_t junk[4096];
	int fd;
	bool goaway;

	start(NULL);
	srand(12);
	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = (uint8_t)rand();
	fd = raw_connect(grpc_port);
	raw_send(fd, junk, sizeof(junk));
	ck_assert_msg(raw_read_frames(fd, 5000, &goaway), "the connection stayed open after garbage");
	close(fd);
	/* A good preface, then a frame of a type and size that make no sense. */
	fd = raw_connect(grpc_port);
	{
		uint8_t buf[64];
		size_t n = frame(buf, 4, 0, 0, NULL, 0);
		uint8_t bad[9] = { 0xff, 0xff, 0xff, 0x00, 0x00, 0, 0, 0, 1 };

		raw_send(fd, h2_preface, sizeof(h2_preface) - 1);
		raw_send(fd, buf, n);
		raw_send(fd, bad, sizeof(bad));
	}
	ck_assert_msg(raw_read_frames(fd, 5000, &goaway), "the connection stayed open after a bad frame");
	ck_assert_msg(goaway, "no GOAWAY before closing");
	close(fd);
	ck_serving();
}
END_TEST

/* Thousands of streams opened and reset at once (CVE-2023-44487): GOAWAY, close, and still serving. */
START_TEST(rst_stream_flood_is_cut_off)
{
	enum { STREAMS = 20000 };
	size_t cap = (size_t)STREAMS * 40 + 64, n = 0;
	uint8_t *buf = malloc(cap);
	static const uint8_t cancel[4] = { 0, 0, 0, 8 };
	int fd;
	bool goaway, closed;
	long t0;

	ck_assert_ptr_nonnull(buf);
	start(NULL);
	memcpy(buf, h2_preface, sizeof(h2_preface) - 1);
	n = sizeof(h2_preface) - 1;
	n += frame(buf + n, 4, 0, 0, NULL, 0);
	for (uint32_t i = 0; i < STREAMS; i++) {
		uint32_t sid = 2 * i + 1;

		n += frame(buf + n, 1, 0x4, sid, request_block, sizeof(request_block));
		n += frame(buf + n, 3, 0, sid, cancel, sizeof(cancel));
	}
	t0 = xnow_ms();
	fd = raw_connect(grpc_port);
	raw_send(fd, buf, n);
	closed = raw_read_frames(fd, 10000, &goaway);
	close(fd);
	free(buf);
	ck_assert_msg(closed, "the connection stayed open through %d opened-and-reset streams", STREAMS);
	ck_assert_msg(goaway, "no GOAWAY before closing");
	ck_assert_msg(xnow_ms() - t0 < 10000, "the flood took %ld ms to cut off", xnow_ms() - t0);
	ck_serving();
}
END_TEST

/* One header block in endless CONTINUATION frames (CVE-2024-28182): cut off, still serving. */
START_TEST(continuation_flood_is_cut_off)
{
	enum { FRAMES = 5000 };
	static const uint8_t field[] = { 0x00, 0x03, 'x', '-', 'a', 0x01, 'b' };
	size_t cap = (size_t)FRAMES * 20 + 128, n = 0;
	uint8_t *buf = malloc(cap);
	int fd;
	bool goaway;

	ck_assert_ptr_nonnull(buf);
	start(NULL);
	memcpy(buf, h2_preface, sizeof(h2_preface) - 1);
	n = sizeof(h2_preface) - 1;
	n += frame(buf + n, 4, 0, 0, NULL, 0);
	n += frame(buf + n, 1, 0, 1, request_block, sizeof(request_block));
	for (int i = 0; i < FRAMES; i++)
		n += frame(buf + n, 9, 0, 1, field, sizeof(field));
	fd = raw_connect(grpc_port);
	raw_send(fd, buf, n);
	ck_assert_msg(raw_read_frames(fd, 10000, &goaway),
		      "the connection stayed open through %d CONTINUATION frames", FRAMES);
	ck_assert_msg(goaway, "no GOAWAY before closing");
	close(fd);
	free(buf);
	ck_serving();
}
END_TEST

/* PING and SETTINGS whose acks are never read: nghttp2's outbound ack limit ends the connection. */
START_TEST(ping_flood_is_cut_off)
{
	enum { PINGS = 1000000 };
	size_t cap = (size_t)PINGS * 17 + 64, n = 0;
	uint8_t *buf = malloc(cap);
	static const uint8_t opaque[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	int fd, small = 4096;
	bool goaway;

	ck_assert_ptr_nonnull(buf);
	start(NULL);
	memcpy(buf, h2_preface, sizeof(h2_preface) - 1);
	n = sizeof(h2_preface) - 1;
	n += frame(buf + n, 4, 0, 0, NULL, 0);
	for (int i = 0; i < PINGS; i++)
		n += frame(buf + n, 6, 0, 0, opaque, sizeof(opaque));
	/* A tiny receive window, and no reading while sending: the acks pile up in outrigd. */
	fd = raw_connect_rcvbuf(grpc_port, small);
	raw_send(fd, buf, n);
	xsleep_ms(500);
	ck_assert_msg(raw_read_frames(fd, 10000, &goaway),
		      "the connection stayed open through %d unread PINGs", PINGS);
	close(fd);
	free(buf);
	ck_serving();
}
END_TEST

/* h2load, as the benchmarks will use it, drives unary calls with a prepared body. */
START_TEST(h2load_smoke)
{
	char cmd[1024], out[4096];
	FILE *p;
	size_t got;
	const char *body = xfmt("%s/hc.bin", dmn.dir);
	FILE *f;

	if (system("command -v h2load >/dev/null 2>&1") != 0) {
		fprintf(stderr, "h2load_smoke: skipped, h2load is not installed (Debian: nghttp2-client)\n");
		return;
	}
	start(NULL);
	f = fopen(body, "wb");
	ck_assert_ptr_nonnull(f);
	fwrite("\0\0\0\0\0", 1, 5, f);
	fclose(f);
	snprintf(cmd, sizeof(cmd),
		 "h2load -n 2000 -c 4 -m 10 -d '%s' -H 'content-type: application/grpc' -H 'te: trailers' "
		 "http://127.0.0.1:%d" HEALTH " 2>&1",
		 body, grpc_port);
	p = popen(cmd, "r");
	ck_assert_ptr_nonnull(p);
	got = fread(out, 1, sizeof(out) - 1, p);
	out[got] = '\0';
	pclose(p);
	ck_assert_msg(strstr(out, "2000 succeeded, 0 failed, 0 errored") != NULL, "h2load:\n%s", out);
	ck_serving();
}
END_TEST

/* HPACK literal header field, never indexed, with a literal name (lengths under 127). */
static size_t hpack_literal(uint8_t *out, const char *name, const char *value)
{
	size_t n = strlen(name), v = strlen(value);

	out[0] = 0x10;
	out[1] = (uint8_t)n;
	memcpy(out + 2, name, n);
	out[2 + n] = (uint8_t)v;
	memcpy(out + 3 + n, value, v);
	return 3 + n + v;
}

/*
 * A client that keeps sending one request as fast as flow control lets it: the stream is answered,
 * and granted no window for more than --max-body-size (the reset after the answer ends it; flow
 * control alone would stall it).
 */
START_TEST(no_window_beyond_the_limit)
{
	static const char *const args[] = { "--max-body-size", "64Ki", NULL };
	const long limit = 64 * 1024 + 5;
	uint8_t block[256], chunk[9 + 16384], in[1 << 16];
	size_t bl = 0, have = 0;
	long conn_credit = 65535, stream_credit = 65535, granted = 0, sent = 0, idle_since;
	bool reset = false, answered = false;
	int fd;

	start(args);
	block[bl++] = 0x83; /* :method POST */
	block[bl++] = 0x86; /* :scheme http */
	bl += hpack_literal(block + bl, ":path", HEALTH);
	bl += hpack_literal(block + bl, ":authority", "a");
	bl += hpack_literal(block + bl, "content-type", "application/grpc");
	fd = raw_connect(grpc_port);
	raw_send(fd, h2_preface, sizeof(h2_preface) - 1);
	{
		uint8_t f[9 + sizeof(block)];
		size_t n = frame(f, 4, 0, 0, NULL, 0);

		raw_send(fd, f, n);
		n = frame(f, 1, 0x4, 1, block, bl);
		raw_send(fd, f, n);
	}
	memset(chunk, 0, sizeof(chunk));
	idle_since = xnow_ms();
	while (!reset && xnow_ms() - idle_since < 2000 && sent < 16 * limit) {
		long room = conn_credit < stream_credit ? conn_credit : stream_credit;
		struct pollfd p = { .fd = fd, .events = POLLIN };

		if (room > 0) {
			size_t len = room > 16384 ? 16384 : (size_t)room;
			uint8_t payload[16384] = { 0 };

			if (sent == 0)
				payload[4] = 10; /* the prefix lies: 10 bytes */
			raw_send(fd, chunk, frame(chunk, 0, 0, 1, payload, len));
			sent += (long)len;
			conn_credit -= (long)len;
			stream_credit -= (long)len;
			idle_since = xnow_ms();
		}
		if (poll(&p, 1, room > 0 ? 0 : 100) > 0) {
			ssize_t n = recv(fd, in + have, sizeof(in) - have, 0);
			size_t off = 0;

			if (n <= 0)
				break;
			have += (size_t)n;
			while (have - off >= 9) {
				size_t flen = (size_t)in[off] << 16 | (size_t)in[off + 1] << 8 | in[off + 2];
				uint32_t sid = ((uint32_t)in[off + 5] & 0x7f) << 24 |
					       (uint32_t)in[off + 6] << 16 | (uint32_t)in[off + 7] << 8 |
					       in[off + 8];

				if (have - off < 9 + flen)
					break;
				if (in[off + 3] == 8 && flen == 4) {
					long inc = ((long)in[off + 9] & 0x7f) << 24 |
						   (long)in[off + 10] << 16 | (long)in[off + 11] << 8 |
						   in[off + 12];

					if (sid == 0) {
						conn_credit += inc;
					} else if (sid == 1) {
						stream_credit += inc;
						granted += inc;
					}
					idle_since = xnow_ms();
				}
				if (in[off + 3] == 1 && sid == 1)
					answered = true;
				if (in[off + 3] == 3 && sid == 1)
					reset = true;
				off += 9 + flen;
			}
			memmove(in, in + off, have - off);
			have -= off;
		}
	}
	close(fd);
	/* Reset after the answer (RFC 9113 8.1), or left stalled: either way no more window. */
	ck_assert_msg(answered, "no answer after %ld bytes (granted %ld)", sent, granted);
	ck_assert_msg(granted <= limit,
		      "the stream was granted %ld bytes of window past its first 65535 "
		      "(limit %ld); %ld sent",
		      granted, limit, sent);
	ck_serving();
}
END_TEST

/* A client that connects and says nothing is let go after --outrig-read-header-timeout; one that greets stays. */
START_TEST(silent_connection_times_out)
{
	static const char *const args[] = { "--outrig-read-header-timeout", "500", NULL };
	int fd, greeted;
	bool goaway;
	long t0;

	start(args);
	t0 = xnow_ms();
	fd = raw_connect(grpc_port);
	ck_assert_msg(raw_read_frames(fd, 5000, &goaway), "a silent connection stayed open for 5 s");
	ck_assert_msg(xnow_ms() - t0 >= 400, "closed after %ld ms, before the timeout", xnow_ms() - t0);
	close(fd);
	greeted = raw_connect(grpc_port);
	{
		uint8_t f[16];

		raw_send(greeted, h2_preface, sizeof(h2_preface) - 1);
		raw_send(greeted, f, frame(f, 4, 0, 0, NULL, 0));
	}
	ck_assert_msg(!raw_read_frames(greeted, 1500, &goaway), "a greeted idle connection was closed");
	close(greeted);
	ck_serving();
}
END_TEST

/* A socket holding port on 127.0.0.1, so outrigd cannot bind it. */
static int hold_port(int port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int one = 1;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(fd, 1) != 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

START_TEST(listening_is_logged_and_a_taken_port_fails)
{
	char port[16];
	const char *args[] = { "--dapr-grpc-port", port, NULL };
	char *log;
	int fd;

	start(NULL);
	log = xslurp(dmn.log);
	ck_assert_msg(strstr(log, xfmt("gRPC API listening on 127.0.0.1:%d", grpc_port)) != NULL, "log:\n%s",
		      log);
	free(log);
	ck_assert_int_eq(daemon_stop(&dmn), 0);
	/* A port given explicitly and taken: outrigd does not start, and says which port. */
	grpc_port = daemon_free_port();
	fd = hold_port(grpc_port);
	ck_assert_int_ge(fd, 0);
	snprintf(port, sizeof(port), "%d", grpc_port);
	ck_assert_msg(daemon_start(&dmn, args) != 0, "outrigd started with its gRPC port taken");
	log = xslurp(dmn.log);
	ck_assert_msg(strstr(log, xfmt("cannot listen for the gRPC API on 127.0.0.1:%d", grpc_port)) !=
				      NULL &&
			      strstr(log, "--dapr-grpc-port") != NULL,
		      "log:\n%s", log);
	free(log);
	close(fd);
}
END_TEST

/*
 * --enable-api-logging: one line per gRPC API call with daprd's scope and fields (issue 14), and the
 * call in dapr_grpc_io_server_completed_rpcs on the metrics port.
 */
START_TEST(api_logging_and_metrics)
{
	static const char *const args[] = { "--enable-api-logging", NULL };
	static const char *const ua[] = { "user-agent", "check-grpc/1.0", NULL };
	struct grpc_result r;
	struct http_response h;
	size_t first;
	char *log;

	start(args);
	call(HEALTH, ua, NULL, 0, &r);
	ck_assert_int_eq(r.status, 0);
	grpc_result_free(&r);
	call("/dapr.proto.runtime.v1.Dapr/NoSuchMethod", NULL, NULL, 0, &r);
	ck_assert_int_eq(r.status, 12);
	grpc_result_free(&r);
	ck_assert_int_eq(daemon_stop(&dmn), 0);
	log = xslurp(dmn.log);
	ck_assert_msg(
		strstr(log, "msg=\"gRPC API Called\" app_id=" APP " scope=dapr.runtime.grpc-info "
			    "method=/grpc.health.v1.Health/Check code=0 duration=") != NULL &&
			strstr(log, " useragent=check-grpc/1.0") != NULL &&
			strstr(log, "method=/dapr.proto.runtime.v1.Dapr/NoSuchMethod code=12 duration=") !=
				NULL,
		"log:\n%s", log);
	first = strlen(log);
	free(log);
	/* Without the flag, no API log line; the metrics count the calls. */
	start(NULL);
	call(HEALTH, NULL, NULL, 0, &r);
	grpc_result_free(&r);
	ck_assert_int_eq(http_request(dmn.metrics_port, "GET", "/metrics", NULL, NULL, 0, &h), 0);
	ck_assert_int_eq(h.status, 200);
	ck_assert_msg(
		strstr(h.body,
		       "dapr_grpc_io_server_completed_rpcs{app_id=\"" APP "\","
		       "grpc_server_method=\"/grpc.health.v1.Health/Check\",grpc_server_status=\"OK\"} 1\n") !=
			NULL,
		"metrics (start):\n%.1500s", h.body);
	ck_assert_ptr_nonnull(strstr(h.body, "# TYPE dapr_grpc_io_server_server_latency histogram\n"));
	http_response_free(&h);
	ck_assert_int_eq(daemon_stop(&dmn), 0);
	log = xslurp(dmn.log);
	ck_assert_msg(strstr(log + first, "API Called") == NULL, "log of the second run:\n%s", log + first);
	free(log);
}
END_TEST

/* Without --metrics-port, 9090 taken (another sidecar): one warning naming the flag, no metrics, still serving. */
START_TEST(default_metrics_port_taken_is_a_warning)
{
	int fd = hold_port(9090);
	char *log;

	if (fd < 0)
		fprintf(stderr,
			"default_metrics_port_taken_is_a_warning: 9090 already in use, testing with that\n");
	dmn.default_metrics_port = true;
	start(NULL);
	ck_serving();
	log = xslurp(dmn.log);
	ck_assert_msg(strstr(log, "metrics: cannot listen on 0.0.0.0:9090 (the default --metrics-port)") !=
				      NULL &&
			      strstr(log, "level=warn") != NULL,
		      "log:\n%s", log);
	free(log);
	if (fd >= 0)
		close(fd);
}
END_TEST

/* Without --dapr-grpc-port, 50001 taken (another sidecar): outrigd serves HTTP and says so. */
START_TEST(default_port_taken_is_a_warning)
{
	int fd = hold_port(50001);
	char *log;

	if (fd < 0) {
		/* Someone else has it already, which is the case under test too. */
		fprintf(stderr, "default_port_taken_is_a_warning: 50001 already in use, testing with that\n");
	}
	dmn.default_grpc_port = true;
	ck_assert_msg(daemon_start(&dmn, NULL) == 0, "outrigd did not start with port 50001 taken");
	log = xslurp(dmn.log);
	ck_assert_msg(strstr(log, "not serving the gRPC API: cannot listen on 127.0.0.1:50001") != NULL,
		      "log:\n%s", log);
	free(log);
	if (fd >= 0)
		close(fd);
}
END_TEST

/* SIGTERM with a gRPC client connected and idle: GOAWAY to the client, then a prompt, clean exit. */
START_TEST(graceful_stop_with_a_client_connected)
{
	uint8_t f[16];
	bool goaway;
	long t0;
	int fd;

	start(NULL);
	fd = raw_connect(grpc_port);
	raw_send(fd, h2_preface, sizeof(h2_preface) - 1);
	raw_send(fd, f, frame(f, 4, 0, 0, NULL, 0));
	ck_assert_msg(!raw_read_frames(fd, 300, &goaway) && !goaway, "closed before the stop");
	t0 = xnow_ms();
	kill(dmn.pid, SIGTERM);
	ck_assert_msg(raw_read_frames(fd, 5000, &goaway), "the connection stayed open after SIGTERM");
	ck_assert_msg(goaway, "no GOAWAY to a connected client on a graceful stop");
	ck_assert_int_eq(daemon_wait_exit(&dmn, 5000), 0);
	ck_assert_msg(xnow_ms() - t0 < 3000, "stopping took %ld ms", xnow_ms() - t0);
	close(fd);
}
END_TEST

static Suite *grpc_api_suite(void)
{
	Suite *s = suite_create("grpc_api");
	TCase *tc = tcase_create("daemon");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, health_check_serving);
	tcase_add_test(tc, unknown_method_is_unimplemented_by_name);
	tcase_add_test(tc, api_token_is_required);
	tcase_add_test(tc, oversized_message_is_resource_exhausted);
	tcase_add_test(tc, malformed_framing);
	tcase_add_test(tc, http1_on_the_grpc_port_is_closed);
	tcase_add_test(tc, garbage_is_closed);
	tcase_add_test(tc, rst_stream_flood_is_cut_off);
	tcase_add_test(tc, continuation_flood_is_cut_off);
	tcase_add_test(tc, ping_flood_is_cut_off);
	tcase_add_test(tc, h2load_smoke);
	tcase_add_test(tc, no_window_beyond_the_limit);
	tcase_add_test(tc, silent_connection_times_out);
	tcase_add_test(tc, listening_is_logged_and_a_taken_port_fails);
	tcase_add_test(tc, default_port_taken_is_a_warning);
	tcase_add_test(tc, api_logging_and_metrics);
	tcase_add_test(tc, default_metrics_port_taken_is_a_warning);
	tcase_add_test(tc, graceful_stop_with_a_client_connected);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(grpc_api_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
