/* SPDX-License-Identifier: Apache-2.0 */
/*
 * gRPC calls proxied through two real outrigd (A's gRPC port with dapr-app-id, B's internal port,
 * B's app tests/app_grpc/echo_app.mjs) are metered and API-logged as daprd's stream interceptors
 * do: dapr_grpc_io_server_* on A, where the client called, with the full method name, and an API
 * log line; dapr_grpc_io_client_* on B, where the call came from another sidecar. Skips (77)
 * without node or `npm ci --prefix tests/interop`, unless OUTRIG_REQUIRE_INTEROP=1.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <check.h>

#include "daemon.h"
#include "exchange.h"
#include "grpc_client.h"
#include "interop.h"
#include "server.h"

static struct daemon dmn_a, dmn_b;
static struct exchange x;
static pid_t node_pid;
static int node_port;
static char node_log[DAEMON_PATH_MAX];

static void setup(void)
{
	char path[600], port[16];
	const char *argv[] = { "node", path, port, NULL };
	const char *args_a[] = { "--enable-api-logging",
				 "--data-dir",
				 NULL,
				 "--dapr-internal-grpc-listen-address",
				 "127.0.0.1",
				 NULL };
	const char *args_b[] = { "--app-port",
				 port,
				 "--app-protocol",
				 "grpc",
				 "--data-dir",
				 NULL,
				 "--dapr-internal-grpc-listen-address",
				 "127.0.0.1",
				 NULL };

	memset(&dmn_a, 0, sizeof(dmn_a));
	memset(&dmn_b, 0, sizeof(dmn_b));
	ck_assert_int_eq(daemon_init(&dmn_a, "obsa"), 0);
	ck_assert_int_eq(daemon_init(&dmn_b, "obsb"), 0);
	node_port = daemon_free_port();
	snprintf(node_log, sizeof(node_log), "%s/app.log", dmn_b.dir);
	snprintf(path, sizeof(path), "%s/tests/app_grpc/echo_app.mjs", interop_srcdir());
	snprintf(port, sizeof(port), "%d", node_port);
	node_pid = server_spawn(argv, node_log);
	ck_assert_int_gt(node_pid, 0);
	ck_assert_msg(server_wait_port(node_pid, node_port, 20000) == 0,
		      "echo_app.mjs did not listen on port %d", node_port);
	/* Both sidecars announce themselves in one place: A's data directory. */
	args_a[2] = dmn_a.data;
	args_b[5] = dmn_a.data;
	ck_assert_msg(daemon_start(&dmn_a, args_a) == 0, "outrigd A did not start");
	ck_assert_msg(daemon_start(&dmn_b, args_b) == 0, "outrigd B did not start");
}

static void teardown(void)
{
	xfree(&x);
	daemon_stop(&dmn_b);
	daemon_stop(&dmn_a);
	if (node_pid > 0)
		server_stop(node_pid);
	node_pid = 0;
	daemon_cleanup(&dmn_b);
	daemon_cleanup(&dmn_a);
}

/* One unary call to A's gRPC port with dapr-app-id obsb; the grpc-status. */
static int proxied(const char *method, const char *msg)
{
	const char *md[] = { "dapr-app-id", "obsb", NULL };
	struct grpc_client *c = grpc_client_connect(dmn_a.grpc_port);
	struct grpc_result r = { 0 };
	int status;

	ck_assert_ptr_nonnull(c);
	ck_assert_msg(grpc_client_call(c, method, md, (const uint8_t *)msg, strlen(msg), 10000, &r) == 0,
		      "%s: no answer", method);
	status = r.status;
	grpc_result_free(&r);
	grpc_client_close(c);
	return status;
}

/* The value of one series (its name and labels as rendered) in d's /metrics, or -1. */
static long metric_value(const struct daemon *d, const char *series)
{
	struct exchange m = { 0 };
	const char *at;
	long v = -1;

	if (xreq(&m, d->metrics_port, "GET", "/metrics", NULL, NULL) == 200 &&
	    (at = strstr(XBODY(&m), series)) != NULL)
		v = strtol(at + strlen(series), NULL, 10);
	xfree(&m);
	return v;
}

/* Whether the metric family has a sample with all of the label text given. */
static bool metric_has(const struct daemon *d, const char *family, const char *labels)
{
	struct exchange m = { 0 };
	bool found = false;
	char *text;

	if (xreq(&m, d->metrics_port, "GET", "/metrics", NULL, NULL) == 200) {
		text = strdup(XBODY(&m));
		for (char *line = strtok(text, "\n"); line != NULL && !found; line = strtok(NULL, "\n"))
			found = strncmp(line, family, strlen(family)) == 0 && strstr(line, labels) != NULL;
		free(text);
	}
	xfree(&m);
	return found;
}

#define SERVER_RPCS(method, status)                                                                          \
	"dapr_grpc_io_server_completed_rpcs{app_id=\"obsa\",grpc_server_method=\"" method                    \
	"\",grpc_server_status=\"" status "\"} "
#define CLIENT_RPCS(method, status)                                                                          \
	"dapr_grpc_io_client_completed_rpcs{app_id=\"obsb\",grpc_client_method=\"" method                    \
	"\",grpc_client_status=\"" status "\"} "

START_TEST(proxied_calls_metered_and_logged)
{
	char *log;
	int status = -1;

	/* Until A resolves B. */
	for (long until = xnow_ms() + 10000; xnow_ms() < until; xsleep_ms(100))
		if ((status = proxied("/outrig.test.Echo/Unary", "warm")) == 0)
			break;
	ck_assert_int_eq(status, 0);
	ck_assert_int_eq(proxied("/outrig.test.Echo/Unary", "hello"), 0);
	ck_assert_int_eq(proxied("/outrig.test.Echo/Fail", "{\"code\":5,\"message\":\"nothing\"}"), 5);
	/* A, where the client called: server calls under the full method name, and the app's status. */
	ck_assert_int_ge(metric_value(&dmn_a, SERVER_RPCS("/outrig.test.Echo/Unary", "OK")), 2);
	ck_assert_int_eq(metric_value(&dmn_a, SERVER_RPCS("/outrig.test.Echo/Fail", "NOT_FOUND")), 1);
	ck_assert(
		metric_has(&dmn_a, "dapr_grpc_io_server_server_latency_count",
			   "grpc_server_method=\"/outrig.test.Echo/Fail\",grpc_server_status=\"NOT_FOUND\""));
	/* B, where another sidecar called: client calls, as daprd's internal server records them. */
	ck_assert_int_ge(metric_value(&dmn_b, CLIENT_RPCS("/outrig.test.Echo/Unary", "OK")), 2);
	ck_assert_int_eq(metric_value(&dmn_b, CLIENT_RPCS("/outrig.test.Echo/Fail", "NOT_FOUND")), 1);
	ck_assert(
		metric_has(&dmn_b, "dapr_grpc_io_client_roundtrip_latency_count",
			   "grpc_client_method=\"/outrig.test.Echo/Fail\",grpc_client_status=\"NOT_FOUND\""));
	/* A's API log: one line per proxied call, as daprd's stream logging middleware writes it. */
	log = xslurp(dmn_a.log);
	ck_assert_ptr_nonnull(log);
	ck_assert_msg(strstr(log, "gRPC API Called") != NULL && strstr(log, "/outrig.test.Echo/Fail") != NULL,
		      "A's log has no API line for the proxied call:\n%s", log);
	free(log);
}
END_TEST

/*
 * Byte metrics of gRPC calls outrig answers and makes: GetMetadata on A (nothing received, its
 * answer sent), and B's OnInvoke to its app for an HTTP invocation (the request sent, nothing
 * received from an app that does not implement it).
 */
START_TEST(grpc_bytes)
{
	struct grpc_client *c = grpc_client_connect(dmn_a.grpc_port);
	struct grpc_result r = { 0 };

	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(
		grpc_client_call(c, "/dapr.proto.runtime.v1.Dapr/GetMetadata", NULL, NULL, 0, 10000, &r), 0);
	ck_assert_int_eq(r.status, 0);
	ck_assert_uint_gt(r.len, 0);
	ck_assert_int_eq(metric_value(&dmn_a,
				      "dapr_grpc_io_server_received_bytes_per_rpc_sum{app_id=\"obsa\","
				      "grpc_server_method=\"/dapr.proto.runtime.v1.Dapr/GetMetadata\"} "),
			 0);
	ck_assert_int_eq(metric_value(&dmn_a,
				      "dapr_grpc_io_server_sent_bytes_per_rpc_sum{app_id=\"obsa\","
				      "grpc_server_method=\"/dapr.proto.runtime.v1.Dapr/GetMetadata\"} "),
			 (long)r.len);
	ck_assert(
		metric_has(&dmn_a, "dapr_grpc_io_server_sent_bytes_per_rpc_bucket",
			   "grpc_server_method=\"/dapr.proto.runtime.v1.Dapr/GetMetadata\",le=\"1024\"} 1"));
	grpc_result_free(&r);
	grpc_client_close(c);
	/* Until A resolves B; B calls its app's OnInvoke, which echo_app.mjs does not serve. */
	for (long until = xnow_ms() + 10000; xnow_ms() < until; xsleep_ms(100))
		if (xreq(&x, dmn_a.port, "POST", "/v1.0/invoke/obsb/method/hello", NULL, "0123456789") !=
			    500 ||
		    metric_value(&dmn_b,
				 "dapr_grpc_io_client_sent_bytes_per_rpc_count{app_id=\"obsb\","
				 "grpc_client_method=\"/dapr.proto.runtime.v1.AppCallback/OnInvoke\"} ") > 0)
			break;
	ck_assert_int_ge(metric_value(&dmn_b,
				      "dapr_grpc_io_client_sent_bytes_per_rpc_sum{app_id=\"obsb\","
				      "grpc_client_method=\"/dapr.proto.runtime.v1.AppCallback/OnInvoke\"} "),
			 10);
	ck_assert_int_eq(metric_value(&dmn_b,
				      "dapr_grpc_io_client_received_bytes_per_rpc_sum{app_id=\"obsb\","
				      "grpc_client_method=\"/dapr.proto.runtime.v1.AppCallback/OnInvoke\"} "),
			 0);
}
END_TEST

static Suite *grpc_observe_suite(void)
{
	Suite *s = suite_create("grpc_observe");
	TCase *tc = tcase_create("proxy");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, proxied_calls_metered_and_logged);
	tcase_add_test(tc, grpc_bytes);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	static const char *const modules[] = { "@grpc/grpc-js", NULL };

	return interop_run(grpc_observe_suite(), modules);
}
