/* SPDX-License-Identifier: Apache-2.0 */
/* --app-protocol https and --app-ssl through a real outrigd: every call to an HTTPS app goes over TLS, pooled; a plain app is named as such. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include <check.h>

#include "daemon.h"
#include "echo_app.h"
#include "exchange.h"
#include "server.h"

#define JSON_CT "Content-Type: application/json\r\n"
#define PLAIN_APP "the app answers without TLS; serve TLS on the app port, or use --app-protocol http or grpc"

/* Every test runs in its own forked process with its own daemon, app and scratch directory. */
static struct daemon dmn;
static struct echo_app *app;
static struct exchange x;
static struct test_certs certs;
static char id[32];

static void setup(void)
{
	memset(&dmn, 0, sizeof(dmn));
	app = NULL;
	snprintf(id, sizeof(id), "tls%d", (int)getpid());
	ck_assert_int_eq(daemon_init(&dmn, id), 0);
	/* Certificates made in the test: a CA and a server certificate for 127.0.0.1 and localhost. */
	ck_assert_int_eq(server_make_certs(dmn.dir, "outrig app tls test CA", &certs), 0);
}

static void teardown(void)
{
	xfree(&x);
	if (dmn.dir[0] != '\0')
		daemon_cleanup(&dmn);
	echo_app_destroy(app);
}

/* Starts dmn in front of app with more arguments (NULL-terminated). */
static void start(const char *const *more)
{
	ck_assert_msg(daemon_start_app(&dmn, echo_app_port(app), more) == 0, "outrigd did not start (log above)");
}

/* The first request the app got with method on path, waiting up to 10 s; fails the test if none came. */
static const struct echo_request *wait_request(const char *method, const char *path)
{
	const struct echo_request *r = echo_app_wait(app, method, path, 10000);

	if (r == NULL) {
		daemon_dump_log(&dmn);
		ck_abort_msg("the HTTPS app never got %s %s (%zu requests)", method, path, echo_app_count(app));
	}
	return r;
}

/* The ways to ask for TLS towards an HTTP app: daprd's flag, and its deprecated one. */
static const char *const asks[][2] = { { "--app-protocol", "https" }, { "--app-ssl", NULL } };

/*
 * One sidecar in front of an app that serves HTTPS only, with a declarative subscription, an input
 * binding and health checks: discovery, the binding's OPTIONS, health probes, invocation, a pub/sub
 * delivery and an input-binding event all reach it, so all went over TLS; and connections are
 * pooled (far fewer handshakes than calls).
 */
START_TEST(every_call_to_an_https_app_goes_over_tls)
{
	const char *more[] = { "--enable-app-health-check",
			       "--app-health-probe-interval",
			       "1",
			       asks[_i][0],
			       asks[_i][1],
			       NULL };
	int before;

	ck_assert_int_eq(daemon_add_component(&dmn, "pubsub", "pubsub.in-memory", NULL), 0);
	ck_assert_int_eq(daemon_add_subscription(&dmn, "orders", "pubsub", "orders", "/orders"), 0);
	ck_assert_int_eq(daemon_add_component(&dmn, "in", "bindings.test", "ackFile",
					      xfmt("%s/acks-in.txt", dmn.dir), NULL),
			 0);
	app = echo_app_start_tls("app", certs.server_cert, certs.server_key);
	ck_assert_ptr_nonnull(app);
	start(more);

	wait_request("GET", "/dapr/subscribe");
	wait_request("OPTIONS", "/in");
	wait_request("GET", "/healthz");

	before = echo_app_tls_handshakes(app);
	for (int i = 0; i < 20; i++) {
		xreq(&x, dmn.port, "POST", xfmt("/v1.0/invoke/%s/method/inv", id), NULL, xfmt("hi %d", i));
		ck_status(&x, 200);
		ck_assert_str_eq(x.r.body, xfmt("hi %d", i));
	}
	wait_request("POST", "/inv");

	xreq(&x, dmn.port, "POST", "/v1.0/publish/pubsub/orders", JSON_CT, "{\"n\":1}");
	ck_status(&x, 204);
	wait_request("POST", "/orders");

	xreq(&x, dmn.port, "POST", "/v1.0/bindings/in", JSON_CT,
	     "{\"operation\":\"emit\",\"data\":\"ev\",\"metadata\":{\"id\":\"e1\"}}");
	ck_status(&x, 204);
	wait_request("POST", "/in");

	/* Twenty invocations one after another reuse a kept-alive connection: at most a couple of new handshakes. */
	ck_assert_msg(echo_app_tls_handshakes(app) - before <= 3,
		      "%d TLS handshakes for 20 sequential invocations: connections are not kept",
		      echo_app_tls_handshakes(app) - before);
	{
		char *log = xslurp(dmn.log);

		ck_assert_ptr_nonnull(log);
		ck_assert_msg(
			strstr(log,
			       "calling the app over TLS (--app-protocol https); as daprd, its certificate "
			       "is not verified") != NULL,
			"outrigd did not say it calls the app over TLS:\n%s", log);
		if (_i == 1)
			ck_assert_msg(
				strstr(log, "--app-ssl is deprecated; use --app-protocol https instead") !=
					NULL,
				"no deprecation note for --app-ssl:\n%s", log);
		free(log);
	}
}
END_TEST

/*
 * An app that closes each connection after its answer (Connection: close): the next call connects
 * again with a new handshake (evhttp reconnects on the same bufferevent, whose SSL object libevent
 * clears), rather than failing on the closed connection's TLS state.
 */
START_TEST(a_connection_the_app_closed_is_made_anew)
{
	const char *more[] = { "--app-protocol", "https", NULL };

	app = echo_app_start_tls("app", certs.server_cert, certs.server_key);
	ck_assert_ptr_nonnull(app);
	start(more);
	for (int i = 0; i < 5; i++) {
		xreq(&x, dmn.port, "POST", xfmt("/v1.0/invoke/%s/method/bye", id),
		     "x-echo-reply-header: Connection: close\r\n", xfmt("call %d", i));
		ck_status(&x, 200);
		ck_assert_str_eq(x.r.body, xfmt("call %d", i));
	}
	/* The keep-alive connection (and its handshake) that should not have been: one per call. */
	ck_assert_int_ge(echo_app_tls_handshakes(app), 5);
}
END_TEST

/* SNI carries --app-channel-address when it is a name, and is left out for an IP (RFC 6066). */
START_TEST(sni_is_the_channel_address_when_a_name)
{
	const char *name[] = { "--app-protocol", "https", "--app-channel-address", "localhost", NULL };
	const char *ip[] = { "--app-protocol", "https", NULL };
	char sni[256];

	app = echo_app_start_tls("app", certs.server_cert, certs.server_key);
	ck_assert_ptr_nonnull(app);
	start(_i == 0 ? name : ip);
	xreq(&x, dmn.port, "POST", xfmt("/v1.0/invoke/%s/method/sni", id), NULL, "hi");
	ck_status(&x, 200);
	echo_app_tls_sni(app, sni, sizeof(sni));
	ck_assert_str_eq(sni, _i == 0 ? "localhost" : "");
}
END_TEST

/* An app that speaks plain HTTP while outrigd expects https: the start-up wait and each call say what is wrong. */
START_TEST(a_plain_app_behind_https_is_named)
{
	const char *more[] = { "--app-protocol", "https", NULL };
	char *log = NULL;
	long until;

	app = echo_app_start("plain");
	ck_assert_ptr_nonnull(app);
	start(more);

	xreq(&x, dmn.port, "POST", xfmt("/v1.0/invoke/%s/method/inv", id), NULL, "hi");
	ck_status(&x, 500);
	ck_assert_msg(strstr(x.r.body, PLAIN_APP) != NULL, "invocation's error does not name the cause: %s",
		      x.r.body);
	ck_assert_uint_eq(echo_app_count(app), 0);

	/* The wait for the app's port logs the cause too (it keeps trying, as daprd's TLS dial does). */
	for (until = xnow_ms() + 5000; xnow_ms() < until; xsleep_ms(50)) {
		free(log);
		log = xslurp(dmn.log);
		if (log != NULL && strstr(log, PLAIN_APP "; still trying") != NULL)
			break;
	}
	ck_assert_msg(log != NULL && strstr(log, PLAIN_APP "; still trying") != NULL,
		      "outrigd's log does not say the app answers without TLS:\n%s", log != NULL ? log : "");
	free(log);
}
END_TEST

static Suite *app_tls_suite(void)
{
	Suite *s = suite_create("app_tls");
	TCase *tc = tcase_create("https");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, every_call_to_an_https_app_goes_over_tls, 0, 2);
	tcase_add_test(tc, a_connection_the_app_closed_is_made_anew);
	tcase_add_loop_test(tc, sni_is_the_channel_address_when_a_name, 0, 2);
	tcase_add_test(tc, a_plain_app_behind_https_is_named);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(app_tls_suite());
	int failed;

	/* The apps' TLS writes to a connection outrigd closed must not end the test. */
	signal(SIGPIPE, SIG_IGN);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
