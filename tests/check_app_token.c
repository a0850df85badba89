/* SPDX-License-Identifier: Apache-2.0 */
/* APP_API_TOKEN through real outrigd processes: the app sees it on every call its sidecar makes, and no caller's token. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>
#include <jansson.h>

#include "daemon.h"
#include "echo_app.h"
#include "exchange.h"
#include "http_client.h"

#define TOKEN "app-t0ken/+=="
#define JSON_CT "Content-Type: application/json\r\n"

/* Every test runs in its own forked process with its own daemons, apps and scratch directories. */
static struct daemon dmn, dmn_b;
static struct echo_app *app, *app_b;
static struct exchange x;
/* App ids unique per process, so that runs side by side cannot reach each other. */
static char id_a[32], id_b[32];

/* Every call whose dapr-api-token was wrong, one line each: a test lists them all, then fails. */
static char wrong[2048];

static void setup(void)
{
	memset(&dmn, 0, sizeof(dmn));
	memset(&dmn_b, 0, sizeof(dmn_b));
	app = app_b = NULL;
	wrong[0] = '\0';
	snprintf(id_a, sizeof(id_a), "toka%d", (int)getpid());
	snprintf(id_b, sizeof(id_b), "tokb%d", (int)getpid());
}

static void teardown(void)
{
	xfree(&x);
	if (dmn.dir[0] != '\0')
		daemon_cleanup(&dmn);
	if (dmn_b.dir[0] != '\0')
		daemon_cleanup(&dmn_b);
	echo_app_destroy(app);
	echo_app_destroy(app_b);
}

/* Starts d in front of a (NULL: no --app-port) with more arguments (NULL-terminated, may be NULL). */
static void start(struct daemon *d, struct echo_app *a, const char *const *more)
{
	ck_assert_msg(daemon_start_app(d, a != NULL ? echo_app_port(a) : 0, more) == 0,
		      "outrigd %s did not start (log above)", d->app_id);
}

/* The first request a got with method on path, waiting up to 10 s; fails the test if none came. */
static const struct echo_request *wait_request(struct echo_app *a, const char *method, const char *path)
{
	const struct echo_request *r = echo_app_wait(a, method, path, 10000);
	size_t n = echo_app_count(a);

	if (r == NULL) {
		for (size_t i = 0; i < n; i++)
			fprintf(stderr, "the app got %s %s\n", echo_app_request(a, i)->method,
				echo_app_request(a, i)->path);
		ck_abort_msg("the app never got %s %s (%zu requests, listed above)", method, path, n);
	}
	return r;
}

/* Notes in wrong unless what r carried as dapr-api-token matches want (NULL: no such header at all). */
static void ck_token(const struct echo_request *r, const char *want)
{
	const char *got = echo_header(r, "dapr-api-token");
	size_t used = strlen(wrong);

	if (want == NULL ? got == NULL : got != NULL && strcmp(got, want) == 0)
		return;
	snprintf(wrong + used, sizeof(wrong) - used, "\n  %s %s carried dapr-api-token '%s'; expected %s%s%s",
		 r->method, r->path, got != NULL ? got : "(none)", want != NULL ? "'" : "none",
		 want != NULL ? want : "", want != NULL ? "'" : "");
}

#define ck_no_wrong_token() ck_assert_msg(wrong[0] == '\0', "wrong tokens:%s", wrong)

/* The token's three settings: set, set but empty (daprd: no token), unset. */
static const char *const settings[] = { TOKEN, "", NULL };

/*
 * One sidecar in front of one app with a declarative subscription, an input binding and health
 * checks: every kind of call outrigd makes to its app carries the token exactly when one is set.
 */
START_TEST(every_call_to_the_app_carries_the_token)
{
	const char *token = settings[_i];
	const char *want = token != NULL && *token != '\0' ? token : NULL;
	const char *more[] = { "--enable-app-health-check",
			       "--app-health-probe-interval",
			       "1",
			       "--app-health-check-path",
			       "/healthz",
			       NULL };

	ck_assert_int_eq(daemon_init(&dmn, id_a), 0);
	ck_assert_int_eq(daemon_add_component(&dmn, "pubsub", "pubsub.in-memory", NULL), 0);
	ck_assert_int_eq(daemon_add_subscription(&dmn, "orders", "pubsub", "orders", "/orders"), 0);
	ck_assert_int_eq(daemon_add_component(&dmn, "in", "bindings.test", "ackFile",
					      xfmt("%s/acks-in.txt", dmn.dir), NULL),
			 0);
	if (token != NULL)
		ck_assert_int_eq(daemon_setenv(&dmn, "APP_API_TOKEN", token), 0);
	app = echo_app_start("app");
	ck_assert_ptr_nonnull(app);
	start(&dmn, app, more);

	/* Discovery and the first probe come by themselves. */
	ck_token(wait_request(app, "GET", "/dapr/subscribe"), want);
	ck_token(wait_request(app, "OPTIONS", "/in"), want);
	ck_token(wait_request(app, "GET", "/healthz"), want);

	/* Invocation, with a caller's own token that must not pass for the app's. */
	xreq(&x, dmn.port, "POST", xfmt("/v1.0/invoke/%s/method/inv", id_a),
	     "dapr-api-token: the-caller-s\r\n", "hi");
	ck_status(&x, 200);
	ck_token(wait_request(app, "POST", "/inv"), want);

	/* A pub/sub delivery. */
	xreq(&x, dmn.port, "POST", "/v1.0/publish/pubsub/orders", JSON_CT, "{\"n\":1}");
	ck_status(&x, 204);
	ck_token(wait_request(app, "POST", "/orders"), want);

	/* An input-binding event. */
	xreq(&x, dmn.port, "POST", "/v1.0/bindings/in", JSON_CT,
	     "{\"operation\":\"emit\",\"data\":\"ev\",\"metadata\":{\"id\":\"e1\"}}");
	ck_status(&x, 204);
	ck_token(wait_request(app, "POST", "/in"), want);
	ck_no_wrong_token();

	/* The token never reaches the log. */
	if (want != NULL) {
		char *log = xslurp(dmn.log);

		ck_assert_msg(log != NULL && strstr(log, TOKEN) == NULL, "the token is in outrigd's log");
		free(log);
	}
}
END_TEST

/*
 * Two sidecars: the caller's dapr-api-token (its sidecar's DAPR_API_TOKEN) and the calling
 * sidecar's own APP_API_TOKEN stay behind; B's app sees its own sidecar's token, or none.
 */
START_TEST(a_callers_token_never_reaches_the_callee_app)
{
	const char *token_b = settings[_i];
	const char *want = token_b != NULL && *token_b != '\0' ? token_b : NULL;
	const char *more_a[] = { "--data-dir", NULL, NULL };
	const char *more_b[] = { "--data-dir", NULL, NULL };
	long until;

	ck_assert_int_eq(daemon_init(&dmn, id_a), 0);
	ck_assert_int_eq(daemon_init(&dmn_b, id_b), 0);
	/* One name-resolution store for both. */
	more_a[1] = more_b[1] = dmn.data;
	ck_assert_int_eq(daemon_setenv(&dmn, "DAPR_API_TOKEN", "the-caller-s"), 0);
	ck_assert_int_eq(daemon_setenv(&dmn, "APP_API_TOKEN", "a-s-own-app-token"), 0);
	if (token_b != NULL)
		ck_assert_int_eq(daemon_setenv(&dmn_b, "APP_API_TOKEN", token_b), 0);
	app = echo_app_start("A");
	app_b = echo_app_start("B");
	ck_assert_ptr_nonnull(app);
	ck_assert_ptr_nonnull(app_b);
	start(&dmn, app, more_a);
	start(&dmn_b, app_b, more_b);

	/* Name resolution may lag a start by a moment. */
	until = xnow_ms() + 5000;
	do {
		xreq(&x, dmn.port, "POST", xfmt("/v1.0/invoke/%s/method/greet", id_b),
		     "dapr-api-token: the-caller-s\r\nContent-Type: text/plain\r\n", "hi B");
		if (x.r.status == 500)
			xsleep_ms(100);
	} while (x.r.status == 500 && xnow_ms() < until);
	ck_status(&x, 200);
	ck_assert_uint_eq(echo_app_count(app), 0);
	ck_token(wait_request(app_b, "POST", "/greet"), want);

	/* The same through the header form (dapr-app-id) of the HTTP front end. */
	xreq(&x, dmn.port, "GET", "/again", xfmt("dapr-app-id: %s\r\ndapr-api-token: the-caller-s\r\n", id_b),
	     NULL);
	ck_status(&x, 200);
	ck_token(wait_request(app_b, "GET", "/again"), want);
	ck_no_wrong_token();
}
END_TEST

/* A token no header can carry is refused at start, naming the variable but not showing the token. */
START_TEST(a_token_with_a_line_break_is_refused)
{
	const char *args[] = { "--app-port", NULL, NULL };
	char *log;

	ck_assert_int_eq(daemon_init(&dmn, id_a), 0);
	ck_assert_int_eq(daemon_setenv(&dmn, "APP_API_TOKEN", "secret-part\r\nX-Injected: 1"), 0);
	app = echo_app_start("app");
	ck_assert_ptr_nonnull(app);
	args[1] = xfmt("%d", echo_app_port(app));
	ck_assert_msg(daemon_start(&dmn, args) != 0, "outrigd started with a line break in APP_API_TOKEN");
	log = xslurp(dmn.log);
	ck_assert_ptr_nonnull(log);
	ck_assert_msg(strstr(log, "APP_API_TOKEN holds a control character (byte 0x0d at offset 11)") != NULL,
		      "no refusal naming APP_API_TOKEN in the log: %s", log);
	ck_assert_msg(strstr(log, "secret-part") == NULL, "the token is in the log");
	free(log);
	ck_assert_uint_eq(echo_app_count(app), 0);
}
END_TEST

static Suite *app_token_suite(void)
{
	Suite *s = suite_create("app_token");
	TCase *tc = tcase_create("app_token");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, every_call_to_the_app_carries_the_token, 0, 3);
	tcase_add_loop_test(tc, a_callers_token_never_reaches_the_callee_app, 0, 3);
	tcase_add_test(tc, a_token_with_a_line_break_is_refused);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(app_token_suite());
	int failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
