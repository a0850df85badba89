/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What a hostile HTTP client can send to outrigd (issue 11: items 3, 5, 7, 14, 15, 20): raw bytes
 * over TCP, so framing that a well-behaved client library would never produce reaches the server.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <check.h>

#include "daemon.h"
#include "exchange.h"
#include "http_client.h"

#define APP "hardening"

static struct daemon dmn;
static struct exchange x;

static int raw_connect(int port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int one = 1;

	ck_assert_int_ge(fd, 0);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	ck_assert_msg(connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0, "connect: %s", strerror(errno));
	return fd;
}

static void raw_send(int fd, const void *data, size_t len)
{
	ck_assert_msg(send(fd, data, len, MSG_NOSIGNAL) == (ssize_t)len, "send: %s", strerror(errno));
}

/* Reads until the server closes or timeout_ms pass; *closed says which. Ownership: caller frees. */
static char *raw_read_all(int fd, int timeout_ms, bool *closed)
{
	size_t cap = 1 << 16, len = 0;
	char *buf = malloc(cap + 1);
	long deadline = xnow_ms() + timeout_ms;

	ck_assert_ptr_nonnull(buf);
	*closed = false;
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		long left = deadline - xnow_ms();
		ssize_t n;

		if (left <= 0 || poll(&p, 1, (int)left) <= 0)
			break;
		n = recv(fd, buf + len, cap - len, 0);
		if (n <= 0) {
			*closed = true;
			break;
		}
		len += (size_t)n;
		if (len == cap)
			break;
	}
	buf[len] = '\0';
	return buf;
}

/* Sends data on a fresh connection and returns everything the server wrote before closing. */
static char *raw(const char *data, size_t len)
{
	int fd = raw_connect(dmn.port);
	bool closed;
	char *out;

	raw_send(fd, data, len);
	out = raw_read_all(fd, 5000, &closed);
	close(fd);
	ck_assert_msg(closed, "outrigd kept the connection open after answering:\n%s\n---\nto:\n%s", out,
		      data);
	return out;
}

#define RAW(lit) raw(lit, sizeof(lit) - 1)

static int status_of(const char *resp)
{
	return strncmp(resp, "HTTP/1.1 ", 9) == 0 ? atoi(resp + 9) : -1;
}

/* The answer is status with Dapr's JSON error code, Connection: close, and a message containing want. */
static void ck_raw_error(const char *resp, int status, const char *code, const char *want)
{
	const char *body = strstr(resp, "\r\n\r\n");

	ck_assert_msg(status_of(resp) == status, "status %d, expected %d:\n%s", status_of(resp), status,
		      resp);
	ck_assert_msg(body != NULL, "no end of head:\n%s", resp);
	ck_assert_msg(strcasestr(resp, "\r\nConnection: close\r\n") != NULL, "no Connection: close:\n%s",
		      resp);
	ck_assert_msg(strcasestr(resp, "\r\nContent-Type: application/json") != NULL, "not JSON:\n%s", resp);
	ck_assert_msg(strstr(body, xfmt("\"errorCode\":\"%s\"", code)) != NULL, "errorCode not %s:\n%s", code,
		      resp);
	ck_assert_msg(want == NULL || strstr(body, want) != NULL, "message lacks \"%s\":\n%s", want, resp);
}

static void start(const char *const *extra)
{
	ck_assert_msg(daemon_start(&dmn, extra) == 0, "outrigd did not start (log above)");
}

static void setup(void)
{
	ck_assert_int_eq(daemon_init(&dmn, APP), 0);
	ck_assert_int_eq(daemon_add_component(&dmn, "statestore", "state.in-memory", NULL), 0);
	ck_assert_int_eq(daemon_add_component(&dmn, "pubsub", "pubsub.in-memory", NULL), 0);
}

static void teardown(void)
{
	xfree(&x);
	daemon_cleanup(&dmn);
}

static void save(const char *key, const char *value)
{
	xreq(&x, dmn.port, "POST", "/v1.0/state/statestore", NULL,
	     xfmt("[{\"key\":\"%s\",\"value\":\"%s\"}]", key, value));
	ck_status(&x, 204);
}

static void ck_value(const char *key, const char *want)
{
	xreq(&x, dmn.port, "GET", xfmt("/v1.0/state/statestore/%s", key), NULL, NULL);
	if (want == NULL) {
		ck_status(&x, 204);
	} else {
		ck_status(&x, 200);
		ck_body(&x, xfmt("\"%s\"", want));
	}
}

/* A save of {"key":"s","value":"smuggled"}: 32 bytes. */
#define SMUGGLED "[{\"key\":\"s\",\"value\":\"smuggled\"}]"

START_TEST(two_content_lengths)
{
	char *r;

	start(NULL);
	r = RAW("POST /v1.0/state/statestore HTTP/1.1\r\nContent-Length: 32\r\nContent-Length: 5\r\n\r\n" SMUGGLED);
	ck_raw_error(r, 400, "ERR_MALFORMED_REQUEST", "two different Content-Lengths");
	free(r);
	ck_value("s", NULL);
	/* The same length twice is one length (RFC 9110 §8.6). */
	r = RAW("POST /v1.0/state/statestore HTTP/1.1\r\nContent-Length: 32\r\nContent-Length: 32\r\n"
		"Connection: close\r\n\r\n" SMUGGLED);
	ck_assert_int_eq(status_of(r), 204);
	free(r);
}
END_TEST

START_TEST(content_length_not_plain_digits)
{
	static const char *const bad[] = { "+32", "-1", "0x20", "32, 32", "3 5", "" };

	start(NULL);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *req = xfmt("POST /v1.0/state/statestore HTTP/1.1\r\nContent-Length: %s\r\n\r\n%s",
				       bad[i], SMUGGLED);
		char *r = raw(req, strlen(req));

		ck_raw_error(r, 400, "ERR_MALFORMED_REQUEST", "Content-Length");
		free(r);
	}
	ck_value("s", NULL);
}
END_TEST

START_TEST(transfer_encoding_tricks)
{
	static const char *const heads[] = {
		"Transfer-Encoding : chunked\r\n",
		"Transfer-Encoding: chunked\r\nContent-Length: 3\r\n",
		"Transfer-Encoding: gzip, chunked\r\n",
		"Transfer-Encoding: identity\r\n",
		"Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n",
		"Transfer-Encoding:\tchunked\r\n",
		" Transfer-Encoding: chunked\r\n",
		"X: folded\r\n Transfer-Encoding: chunked\r\n",
	};

	start(NULL);
	for (size_t i = 0; i < sizeof(heads) / sizeof(heads[0]); i++) {
		const char *req = xfmt("POST /v1.0/state/statestore HTTP/1.1\r\n%s\r\n20\r\n%s\r\n0\r\n\r\n",
				       heads[i], SMUGGLED);
		char *r = raw(req, strlen(req));

		ck_raw_error(r, 400, "ERR_MALFORMED_REQUEST", NULL);
		free(r);
	}
	ck_value("s", NULL);
}
END_TEST

START_TEST(chunked_framing)
{
	char *r;

	start(NULL);
	/* Chunk data without its CRLF: the next "chunk size" would be read from the data. */
	r = RAW("POST /v1.0/state/statestore HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n20\r\n" SMUGGLED
		"0\r\n\r\n");
	ck_raw_error(r, 400, "ERR_MALFORMED_REQUEST", "CRLF");
	free(r);
	/* A size beyond 63 bits. */
	r = RAW("POST /v1.0/state/statestore HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
		"10000000000000020\r\n" SMUGGLED "\r\n0\r\n\r\n");
	ck_raw_error(r, 400, "ERR_MALFORMED_REQUEST", "chunk size");
	free(r);
	r = RAW("POST /v1.0/state/statestore HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n+20\r\n" SMUGGLED
		"\r\n0\r\n\r\n");
	ck_raw_error(r, 400, "ERR_MALFORMED_REQUEST", "chunk size");
	free(r);
	ck_value("s", NULL);
	/* Legal extensions (RFC 9112 §7.1.1) and trailers are accepted; the body arrives whole. */
	r = RAW("POST /v1.0/state/statestore HTTP/1.1\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
		"10;name=value;q=\"quoted ; text\"\r\n[{\"key\":\"s\",\"val\r\n"
		"10 ;last\r\nue\":\"smuggled\"}]\r\n0\r\nX-Trailer: 1\r\n\r\n");
	ck_assert_msg(status_of(r) == 204, "chunk extensions:\n%s", r);
	free(r);
	ck_value("s", "smuggled");
}
END_TEST

START_TEST(pipelined_answers_stay_in_order)
{
	char *r, *second;

	start(NULL);
	save("k", "v");
	/* A good request, then a refused one: its answer comes second and the connection closes. */
	r = RAW("GET /v1.0/state/statestore/k HTTP/1.1\r\n\r\n"
		"POST /v1.0/state/statestore HTTP/1.1\r\nContent-Length: +32\r\n\r\n" SMUGGLED
		"GET /v1.0/state/statestore/k HTTP/1.1\r\n\r\n");
	ck_assert_msg(status_of(r) == 200 && strstr(r, "\"v\"") != NULL, "first answer:\n%s", r);
	second = strstr(r + 1, "HTTP/1.1 ");
	ck_assert_msg(second != NULL, "one answer only:\n%s", r);
	ck_raw_error(second, 400, "ERR_MALFORMED_REQUEST", "Content-Length");
	ck_assert_msg(strstr(second + 1, "HTTP/1.1 ") == NULL, "answered after the refusal:\n%s", r);
	free(r);
	/* Keep-alive and pipelining of well-formed requests, chunked among them. */
	r = RAW("GET /v1.0/state/statestore/k HTTP/1.1\r\n\r\n"
		"POST /v1.0/state/statestore HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n20\r\n" SMUGGLED
		"\r\n0\r\n\r\n"
		"GET /v1.0/state/statestore/s HTTP/1.1\r\nConnection: close\r\n\r\n");
	ck_assert_msg(status_of(r) == 200, "first:\n%s", r);
	second = strstr(r + 1, "HTTP/1.1 ");
	ck_assert_msg(second != NULL && status_of(second) == 204, "second:\n%s", r);
	second = strstr(second + 1, "HTTP/1.1 ");
	ck_assert_msg(second != NULL && status_of(second) == 200 && strstr(second, "\"smuggled\"") != NULL,
		      "third:\n%s", r);
	free(r);
}
END_TEST

START_TEST(body_limit_is_dapr_json)
{
	static const char *const args[] = { "--max-body-size", "1Mi", NULL };
	char *r;

	start(args);
	r = RAW("POST /v1.0/state/statestore HTTP/1.1\r\nContent-Length: 1048577\r\n\r\n[");
	ck_raw_error(r, 413, "ERR_BODY_TOO_LARGE", "1048576 bytes");
	ck_assert_msg(strstr(r, "--max-body-size") != NULL, "413 does not say how to raise it:\n%s", r);
	free(r);
	/* Chunked: counted as it arrives, refused at the chunk that crosses the limit. */
	r = RAW("POST /v1.0/state/statestore HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n200000\r\n");
	ck_raw_error(r, 413, "ERR_BODY_TOO_LARGE", "1048576 bytes");
	free(r);
	{
		size_t half = 600 * 1024;
		char *req = malloc(half + 256), *p = req;
		int fd;
		bool closed;

		ck_assert_ptr_nonnull(req);
		p += sprintf(
			p,
			"POST /v1.0/state/statestore HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n%zx\r\n",
			half);
		memset(p, 'x', half);
		p += half;
		p += sprintf(p, "\r\n%zx\r\n", half);
		fd = raw_connect(dmn.port);
		raw_send(fd, req, (size_t)(p - req));
		free(req);
		r = raw_read_all(fd, 5000, &closed);
		close(fd);
		ck_assert_msg(closed, "connection left open after 413");
		ck_raw_error(r, 413, "ERR_BODY_TOO_LARGE", "--max-body-size");
		free(r);
	}
	xreq(&x, dmn.port, "GET", "/v1.0/healthz", NULL, NULL);
	ck_status(&x, 204);
}
END_TEST

START_TEST(slow_headers_time_out)
{
	static const char *const args[] = { "--outrig-read-header-timeout", "1000", NULL };
	long t0;
	bool closed = false;
	char *r = NULL;
	int fd;

	start(args);
	fd = raw_connect(dmn.port);
	t0 = xnow_ms();
	raw_send(fd, "GET /v1.0/healthz HTTP/1.1\r\n", 28);
	/* One header line every 300 ms: each resets an idle timer, none completes the head. */
	for (int i = 0; i < 12 && !closed; i++) {
		struct pollfd p = { .fd = fd, .events = POLLIN };

		if (poll(&p, 1, 300) > 0) {
			r = raw_read_all(fd, 2000, &closed);
			break;
		}
		send(fd, "X-Slow: 1\r\n", 11, MSG_NOSIGNAL);
	}
	close(fd);
	ck_assert_msg(r != NULL && closed, "the slow head was still being read after %ld ms", xnow_ms() - t0);
	ck_raw_error(r, 408, "ERR_MALFORMED_REQUEST", "1000 ms");
	ck_assert_msg(xnow_ms() - t0 < 2500, "closed only after %ld ms", xnow_ms() - t0);
	free(r);
	/* Nothing of a request, or blank lines only: closed without an answer. */
	for (int blank = 0; blank < 2; blank++) {
		fd = raw_connect(dmn.port);
		t0 = xnow_ms();
		closed = false;
		r = NULL;
		for (int i = 0; i < 12 && !closed; i++) {
			struct pollfd p = { .fd = fd, .events = POLLIN };

			if (poll(&p, 1, 300) > 0) {
				r = raw_read_all(fd, 2000, &closed);
				break;
			}
			if (blank)
				send(fd, "\r\n", 2, MSG_NOSIGNAL);
		}
		close(fd);
		ck_assert_msg(r != NULL && closed && *r == '\0' && xnow_ms() - t0 < 2500,
			      "%s connection: closed=%d after %ld ms, answer \"%s\"",
			      blank ? "a blank-line" : "an idle", (int)closed, xnow_ms() - t0,
			      r != NULL ? r : "(none)");
		free(r);
	}
	xreq(&x, dmn.port, "GET", "/v1.0/healthz", NULL, NULL);
	ck_status(&x, 204);
}
END_TEST

START_TEST(nul_in_head_is_refused)
{
	static const char req[] =
		"GET /v1.0/state/statestore/k HTTP/1.1\r\ndapr-api-token: s3cret\0junk\r\n\r\n";
	char *r;

	ck_assert_int_eq(daemon_setenv(&dmn, "DAPR_API_TOKEN", "s3cret"), 0);
	start(NULL);
	r = raw(req, sizeof(req) - 1);
	ck_raw_error(r, 400, "ERR_MALFORMED_REQUEST", "NUL");
	free(r);
	xreq(&x, dmn.port, "GET", "/v1.0/state/statestore/k", "dapr-api-token: s3cret\r\n", NULL);
	ck_status(&x, 204);
	xreq(&x, dmn.port, "GET", "/v1.0/state/statestore/k", "dapr-api-token: s3creT\r\n", NULL);
	ck_status(&x, 401);
	xreq(&x, dmn.port, "GET", "/v1.0/state/statestore/k", "dapr-api-token: s3cret2\r\n", NULL);
	ck_status(&x, 401);
	xreq(&x, dmn.port, "GET", "/v1.0/state/statestore/k", "dapr-api-token: s3cre\r\n", NULL);
	ck_status(&x, 401);
}
END_TEST

START_TEST(nul_in_path_is_refused)
{
	start(NULL);
	save("acct", "money");
	xreq(&x, dmn.port, "DELETE", "/v1.0/state/statestore/acct%00z", NULL, NULL);
	ck_error(&x, 400, "ERR_MALFORMED_REQUEST");
	ck_value("acct", "money");
	xreq(&x, dmn.port, "GET", "/v1.0/state/statestore/acct%00z", NULL, NULL);
	ck_error(&x, 400, "ERR_MALFORMED_REQUEST");
	xreq(&x, dmn.port, "POST", "/v1.0/publish/pubsub/t%00h", NULL, "{}");
	ck_error(&x, 400, "ERR_MALFORMED_REQUEST");
	xreq(&x, dmn.port, "POST", "/v1.0/publish/pubsub/t?metadata.k=a%00b", NULL, "{}");
	ck_error(&x, 400, "ERR_MALFORMED_REQUEST");
	xreq(&x, dmn.port, "POST", "/v1.0/bindings/b%00c", NULL, "{}");
	ck_error(&x, 400, "ERR_MALFORMED_REQUEST");
	xreq(&x, dmn.port, "GET", "/v1.0/secrets/s%00t/k", NULL, NULL);
	ck_error(&x, 400, "ERR_MALFORMED_REQUEST");
	ck_value("acct", "money");
}
END_TEST

START_TEST(empty_token_means_no_auth)
{
	/* daprd: DAPR_API_TOKEN set to "" is no token at all. */
	ck_assert_int_eq(daemon_setenv(&dmn, "DAPR_API_TOKEN", ""), 0);
	start(NULL);
	xreq(&x, dmn.port, "GET", "/v1.0/state/statestore/k", NULL, NULL);
	ck_status(&x, 204);
	xreq(&x, dmn.port, "GET", "/v1.0/metadata", NULL, NULL);
	ck_status(&x, 200);
}
END_TEST

/* utime + stime of pid in clock ticks. */
static long cpu_ticks(pid_t pid)
{
	char path[64], buf[1024], *p;
	unsigned long ut = 0, st = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	ck_assert_ptr_nonnull(fgets(buf, sizeof(buf), f));
	fclose(f);
	p = strrchr(buf, ')');
	ck_assert_ptr_nonnull(p);
	/* Fields after ")": state is 3rd; utime and stime are 14th and 15th of the line. */
	ck_assert_int_eq(sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st), 2);
	return (long)(ut + st);
}

static size_t count_lines(const char *path, const char *needle)
{
	char *log = xslurp(path);
	size_t n = 0;

	for (const char *p = log != NULL ? strstr(log, needle) : NULL; p != NULL; p = strstr(p + 1, needle))
		n++;
	free(log);
	return n;
}

#define EMFILE_CONNS 120

START_TEST(out_of_descriptors_backs_off)
{
	struct rlimit lim;
	int fds[EMFILE_CONNS], open_now = 0;
	long ticks0, ticks1, hz = sysconf(_SC_CLK_TCK);

	start(NULL);
	{
		char cmd[128];
		FILE *p;

		snprintf(cmd, sizeof(cmd), "ls /proc/%d/fd | wc -l", (int)dmn.pid);
		p = popen(cmd, "r");
		ck_assert_ptr_nonnull(p);
		ck_assert_int_eq(fscanf(p, "%d", &open_now), 1);
		pclose(p);
	}
	/* Room for a handful of connections more than outrigd has open now. */
	lim.rlim_cur = (rlim_t)open_now + 8;
	lim.rlim_max = (rlim_t)open_now + 64;
	ck_assert_msg(prlimit(dmn.pid, RLIMIT_NOFILE, &lim, NULL) == 0, "prlimit: %s", strerror(errno));
	for (int i = 0; i < EMFILE_CONNS; i++)
		fds[i] = raw_connect(dmn.port);
	xsleep_ms(300);
	ticks0 = cpu_ticks(dmn.pid);
	xsleep_ms(2000);
	ticks1 = cpu_ticks(dmn.pid);
	ck_assert_msg((ticks1 - ticks0) * 1000 / hz < 300,
		      "outrigd used %ld ms of CPU in 2 s while out of descriptors (spinning on accept?)",
		      (ticks1 - ticks0) * 1000 / hz);
	ck_assert_msg(count_lines(dmn.log, "accept") <= 3, "%zu log lines about accept() in 2 s",
		      count_lines(dmn.log, "accept"));
	ck_assert_msg(count_lines(dmn.log, "ulimit -n") >= 1,
		      "nothing logged about running out of descriptors");
	for (int i = 0; i < EMFILE_CONNS; i++)
		close(fds[i]);
	/* Served again once descriptors are free (the pause is 100 ms). */
	for (int i = 0; i < 50; i++) {
		if (xreq(&x, dmn.port, "GET", "/v1.0/healthz", NULL, NULL) == 204)
			break;
		xsleep_ms(100);
	}
	ck_status(&x, 204);
	xreq(&x, dmn.port, "GET", "/v1.0/state/statestore/k", NULL, NULL);
	ck_status(&x, 204);
}
END_TEST

#define PIPELINE_BIG (3 << 20)	  /* the value the pipelined GETs fetch */
#define PIPELINE_POST (1 << 20)	  /* each pipelined save's value */
#define PIPELINE_TOTAL (96 << 20) /* what the client tries to send without reading */

/*
 * While evhttp writes an answer it keeps reading: a client that pipelines requests and reads no
 * answers must stall once one request's worth is buffered, not have all it sends held in memory.
 */
START_TEST(pipelined_requests_with_unread_answers_are_not_buffered)
{
	size_t post_len = PIPELINE_POST + 64, sent = 0;
	char *big = malloc(PIPELINE_BIG + 64), *post = malloc(post_len + 128);
	int fd, small = 4096;
	long rss0, rss1, last_progress;
	size_t head_len;

	ck_assert_ptr_nonnull(big);
	ck_assert_ptr_nonnull(post);
	start(NULL);
	/* A 3 MiB value: four GETs of it are more than the kernel's socket buffers hold. */
	{
		int n = sprintf(big, "[{\"key\":\"big\",\"value\":\"");

		memset(big + n, 'b', PIPELINE_BIG);
		strcpy(big + n + PIPELINE_BIG, "\"}]");
		xreq(&x, dmn.port, "POST", "/v1.0/state/statestore", NULL, big);
		ck_status(&x, 204);
	}
	rss0 = daemon_proc_kib(dmn.pid, "VmRSS");
	{
		int n = sprintf(post, "[{\"key\":\"p\",\"value\":\"");

		memset(post + n, 'p', PIPELINE_POST);
		strcpy(post + n + PIPELINE_POST, "\"}]");
		post_len = strlen(post);
	}
	fd = raw_connect(dmn.port);
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
	for (int i = 0; i < 4; i++)
		raw_send(fd, "GET /v1.0/state/statestore/big HTTP/1.1\r\n\r\n", 43);
	head_len = (size_t)snprintf(
		big, 128, "POST /v1.0/state/statestore HTTP/1.1\r\nContent-Length: %zu\r\n\r\n", post_len);
	/* Sends saves without reading an answer, until PIPELINE_TOTAL or 2 s without progress. */
	last_progress = xnow_ms();
	while (sent < PIPELINE_TOTAL && xnow_ms() - last_progress < 2000) {
		size_t in_req = sent % (head_len + post_len);
		const char *from = in_req < head_len ? big + in_req : post + (in_req - head_len);
		size_t left = in_req < head_len ? head_len - in_req : post_len - (in_req - head_len);
		ssize_t n = send(fd, from, left, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n > 0) {
			sent += (size_t)n;
			last_progress = xnow_ms();
		} else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			xsleep_ms(20);
		} else {
			break;
		}
	}
	rss1 = daemon_proc_kib(dmn.pid, "VmRSS");
	close(fd);
	free(big);
	free(post);
	ck_assert_msg(sent < PIPELINE_TOTAL / 2,
		      "outrigd took %zu bytes of pipelined requests while its answers went unread", sent);
	ck_assert_msg(rss1 - rss0 < 32 * 1024, "outrigd's RSS grew by %ld KiB (took %zu bytes)", rss1 - rss0,
		      sent);
	/* And it serves others all along. */
	xreq(&x, dmn.port, "GET", "/v1.0/healthz", NULL, NULL);
	ck_status(&x, 204);
}
END_TEST

/* 0 is no limit on the head's time, as Go's ReadHeaderTimeout: not a deadline already passed. */
START_TEST(zero_header_timeout_is_no_limit)
{
	static const char *const args[] = { "--outrig-read-header-timeout", "0", NULL };
	int fd;
	char *r;
	bool closed;

	start(args);
	fd = raw_connect(dmn.port);
	xsleep_ms(200);
	raw_send(fd, "GET /v1.0/healthz HTTP/1.1\r\nConnection: close\r\n\r\n", 49);
	r = raw_read_all(fd, 5000, &closed);
	close(fd);
	ck_assert_msg(status_of(r) == 204, "healthz with no head timeout:\n%s", r);
	free(r);
}
END_TEST

static Suite *hardening_suite(void)
{
	Suite *s = suite_create("http_hardening");
	TCase *tc = tcase_create("raw");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, two_content_lengths);
	tcase_add_test(tc, content_length_not_plain_digits);
	tcase_add_test(tc, transfer_encoding_tricks);
	tcase_add_test(tc, chunked_framing);
	tcase_add_test(tc, pipelined_answers_stay_in_order);
	tcase_add_test(tc, body_limit_is_dapr_json);
	tcase_add_test(tc, slow_headers_time_out);
	tcase_add_test(tc, nul_in_head_is_refused);
	tcase_add_test(tc, nul_in_path_is_refused);
	tcase_add_test(tc, empty_token_means_no_auth);
	tcase_add_test(tc, out_of_descriptors_backs_off);
	tcase_add_test(tc, pipelined_requests_with_unread_answers_are_not_buffered);
	tcase_add_test(tc, zero_header_timeout_is_no_limit);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(hardening_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
