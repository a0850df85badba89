/* SPDX-License-Identifier: Apache-2.0 */
/* outrigd's stop (SIGTERM, a second SIGTERM, the graceful period) and the command line `dapr run` gives daprd. */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include "lib/daemon.h"
#include "lib/echo_app.h"
#include "lib/http_client.h"
#include "lib/test_app.h"

#define APP "stopper"

static struct daemon dmn;
static struct echo_app *app;

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* Reads the daemon's log into a new string (or ""). */
static char *read_log(void)
{
	FILE *f = fopen(dmn.log, "r");
	char *text = calloc(1, 1 << 20);
	size_t n;

	ck_assert_ptr_nonnull(text);
	if (f == NULL)
		return text;
	n = fread(text, 1, (1 << 20) - 1, f);
	text[n] = '\0';
	fclose(f);
	return text;
}

static bool log_has(const char *needle)
{
	char *text = read_log();
	bool found = strstr(text, needle) != NULL;

	free(text);
	return found;
}

/* Waits up to timeout_ms for needle in the daemon's log. */
static bool log_wait(const char *needle, int timeout_ms)
{
	long deadline = now_ms() + timeout_ms;

	while (now_ms() < deadline) {
		if (log_has(needle))
			return true;
		usleep(20 * 1000);
	}
	return log_has(needle);
}

static void setup(void)
{
	ck_assert_int_eq(daemon_init(&dmn, APP), 0);
	ck_assert_int_eq(daemon_add_component(&dmn, "statestore", "state.in-memory", NULL), 0);
	app = echo_app_start("slow");
	ck_assert_ptr_nonnull(app);
}

static void teardown(void)
{
	daemon_cleanup(&dmn);
	echo_app_destroy(app);
	app = NULL;
}

static void start_with_app(const char *graceful_seconds)
{
	char port[16];
	const char *args[] = { "--app-port", port, "--dapr-graceful-shutdown-seconds", graceful_seconds, NULL };

	snprintf(port, sizeof(port), "%d", echo_app_port(app));
	ck_assert_int_eq(daemon_start(&dmn, args), 0);
}

/* An invocation of the app, made from a thread of its own so the test can signal meanwhile. */
struct call {
	pthread_t thread;
	int port;
	char headers[64];
	int rc;
	int status;
	char body[64];
	long ended_ms;
};

static void *call_run(void *arg)
{
	struct call *c = arg;
	struct http_response r;

	c->rc = http_request(c->port, "POST", "/v1.0/invoke/" APP "/method/slow", c->headers, "in flight", 9, &r);
	if (c->rc == 0) {
		c->status = r.status;
		snprintf(c->body, sizeof(c->body), "%.*s", (int)(r.body_len < 63 ? r.body_len : 63),
			 r.body != NULL ? r.body : "");
		http_response_free(&r);
	}
	c->ended_ms = now_ms();
	return NULL;
}

/* Starts a call the app answers after delay_ms, and returns once the app holds it. */
static void call_start(struct call *c, int delay_ms)
{
	long deadline = now_ms() + 5000;

	memset(c, 0, sizeof(*c));
	c->port = dmn.port;
	c->rc = -1;
	snprintf(c->headers, sizeof(c->headers), "x-echo-delay-ms: %d\r\n", delay_ms);
	ck_assert_int_eq(pthread_create(&c->thread, NULL, call_run, c), 0);
	while (echo_app_count(app) == 0 && now_ms() < deadline)
		usleep(5 * 1000);
	ck_assert_msg(echo_app_count(app) == 1, "the invocation did not reach the app");
}

/* SIGTERM with an invocation in flight: the app gets to answer it, the caller gets the answer, then outrigd exits 0. */
START_TEST(test_sigterm_lets_inflight_invocation_finish)
{
	struct call c;
	long signalled;
	int code;

	start_with_app("10");
	call_start(&c, 1500);
	signalled = now_ms();
	ck_assert_int_eq(kill(dmn.pid, SIGTERM), 0);
	ck_assert_msg(log_wait("stopping: terminated (SIGTERM)", 2000), "no stopping line in the log");

	/* While it stops, it takes no new request. */
	{
		struct http_response r;

		if (http_request(dmn.port, "GET", "/v1.0/healthz", NULL, NULL, 0, &r) == 0) {
			ck_assert_int_eq(r.status, 503);
			http_response_free(&r);
		}
	}
	code = daemon_wait_exit(&dmn, 8000);
	pthread_join(c.thread, NULL);
	ck_assert_msg(code == 0, "outrigd exited with %d after one SIGTERM, expected 0", code);
	ck_assert_msg(c.rc == 0 && c.status == 200, "the in-flight invocation failed: rc %d, status %d", c.rc,
		      c.status);
	ck_assert_str_eq(c.body, "in flight");
	ck_assert_msg(c.ended_ms - signalled >= 1000, "the call ended %ld ms after SIGTERM, before the app answered",
		      c.ended_ms - signalled);
	ck_assert_msg(now_ms() - signalled < 5000, "outrigd took %ld ms to stop", now_ms() - signalled);
}
END_TEST

/* A second SIGTERM during the graceful stop ends outrigd at once, with status 1 and a line saying so. */
START_TEST(test_second_sigterm_exits_at_once)
{
	struct call c;
	long second;
	int code;

	start_with_app("30");
	call_start(&c, 20000);
	ck_assert_int_eq(kill(dmn.pid, SIGTERM), 0);
	ck_assert_msg(log_wait("stopping: terminated (SIGTERM)", 2000), "no stopping line in the log");
	/* Still waiting for the app: the graceful period is 30 s. */
	ck_assert_int_eq(daemon_wait_exit(&dmn, 300), -1);
	second = now_ms();
	ck_assert_int_eq(kill(dmn.pid, SIGTERM), 0);
	code = daemon_wait_exit(&dmn, 2000);
	ck_assert_msg(code == 1, "outrigd exited with %d after a second SIGTERM (expected 1 within 2 s)", code);
	ck_assert_msg(now_ms() - second < 1000, "the second SIGTERM took %ld ms", now_ms() - second);
	ck_assert_msg(log_has("SIGTERM received again while stopping, abandoning work in flight: exiting now (status 1)"),
		      "no line saying why outrigd exited at once");
	pthread_join(c.thread, NULL);
	ck_assert_msg(c.status != 200, "the abandoned call got 200");
}
END_TEST

/* SIGINT after SIGTERM counts as the second signal too. */
START_TEST(test_sigint_after_sigterm_exits_at_once)
{
	struct call c;
	int code;

	start_with_app("30");
	call_start(&c, 20000);
	ck_assert_int_eq(kill(dmn.pid, SIGTERM), 0);
	ck_assert_msg(log_wait("stopping: terminated (SIGTERM)", 2000), "no stopping line in the log");
	ck_assert_int_eq(kill(dmn.pid, SIGINT), 0);
	code = daemon_wait_exit(&dmn, 2000);
	ck_assert_msg(code == 1, "outrigd exited with %d after SIGTERM then SIGINT (expected 1)", code);
	ck_assert(log_has("SIGINT received again while stopping"));
	pthread_join(c.thread, NULL);
}
END_TEST

/* An app that never answers holds the stop no longer than --dapr-graceful-shutdown-seconds. */
START_TEST(test_graceful_period_bounds_the_stop)
{
	struct call c;
	long signalled;
	int code;

	start_with_app("2");
	call_start(&c, 20000);
	signalled = now_ms();
	ck_assert_int_eq(kill(dmn.pid, SIGTERM), 0);
	code = daemon_wait_exit(&dmn, 4000);
	ck_assert_msg(code >= 0, "outrigd still runs 4 s after SIGTERM with --dapr-graceful-shutdown-seconds 2");
	/* 2 s, plus the signal thread's 100 ms slices and a loaded machine's scheduling. */
	ck_assert_msg(now_ms() - signalled <= 2500, "outrigd took %ld ms to stop, more than the 2 s given",
		      now_ms() - signalled);
	ck_assert_msg(now_ms() - signalled >= 1000, "outrigd stopped after %ld ms without waiting for the app",
		      now_ms() - signalled);
	ck_assert(log_has("operations still running"));
	pthread_join(c.thread, NULL);
}
END_TEST

/* --dapr-block-shutdown-duration: SIGTERM leaves the sidecar serving until the time is up. */
START_TEST(test_block_shutdown_duration)
{
	char port[16];
	const char *args[] = { "--app-port", port, "--dapr-block-shutdown-duration", "1s", NULL };
	struct http_response r;
	long signalled;
	int code;

	snprintf(port, sizeof(port), "%d", echo_app_port(app));
	ck_assert_int_eq(daemon_start(&dmn, args), 0);
	signalled = now_ms();
	ck_assert_int_eq(kill(dmn.pid, SIGTERM), 0);
	ck_assert(log_wait("still serving for 1000 ms (--dapr-block-shutdown-duration)", 2000));
	ck_assert_int_eq(http_request(dmn.port, "GET", "/v1.0/healthz", NULL, NULL, 0, &r), 0);
	ck_assert_int_eq(r.status, 204);
	http_response_free(&r);
	code = daemon_wait_exit(&dmn, 5000);
	ck_assert_int_eq(code, 0);
	ck_assert_msg(now_ms() - signalled >= 900, "the stop began after %ld ms, before the 1 s block",
		      now_ms() - signalled);
}
END_TEST

/*
 * The command line the real `dapr run --app-id myapp` (Dapr CLI 1.18, pkg/standalone/run.go,
 * getArgs) gives daprd when the user names no app port and no resources path: the CLI's default
 * config and components folder, -1 for "default" values, free ports it picked, placement and
 * scheduler addresses. Written out here in the CLI's order; only the paths and ports differ.
 * blanked: as the CLI gives it to a daprd whose --version it does not read as 1.14 or later (as
 * outrigd's, when outrigd is installed as the CLI's daprd): "--scheduler-host-address" replaced
 * by an empty argument, its value left (cmd/run.go).
 */
static void run_exact_command_line(bool blanked)
{
	char http_port[16], grpc_port[16], metrics_port[16], internal_port[16], config[DAEMON_PATH_MAX + 16];
	char path[DAEMON_PATH_MAX];
	const char *outrigd = getenv("OUTRIGD");
	pid_t parent = getpid();
	long deadline;
	FILE *f;

	snprintf(config, sizeof(config), "%s/config.yaml", dmn.dir);
	f = fopen(config, "w");
	ck_assert_ptr_nonnull(f);
	/* What `dapr init` writes to ~/.dapr/config.yaml. */
	fputs("apiVersion: dapr.io/v1alpha1\nkind: Configuration\nmetadata:\n  name: daprConfig\nspec:\n"
	      "  tracing:\n    samplingRate: \"1\"\n    zipkin:\n"
	      "      endpointAddress: http://localhost:9411/api/v2/spans\n",
	      f);
	fclose(f);
	dmn.port = daemon_free_port();
	snprintf(http_port, sizeof(http_port), "%d", dmn.port);
	snprintf(grpc_port, sizeof(grpc_port), "%d", daemon_free_port());
	snprintf(metrics_port, sizeof(metrics_port), "%d", daemon_free_port());
	snprintf(internal_port, sizeof(internal_port), "%d", daemon_free_port());
	snprintf(path, sizeof(path), "%s", outrigd != NULL ? outrigd : "core/outrigd");
	{
		const char *argv[] = { path,
				       "--config", config,
				       "--app-protocol", "http",
				       "--log-level", "info",
				       "--app-max-concurrency", "-1",
				       "--placement-host-address", "localhost:50005",
				       "--components-path", dmn.resources,
				       "--max-body-size", "4Mi",
				       "--read-buffer-size", "4Ki",
				       blanked ? "" : "--scheduler-host-address", "localhost:50006",
				       "--app-id", "myapp",
				       "--app-port", "0",
				       "--dapr-http-port", http_port,
				       "--dapr-grpc-port", grpc_port,
				       "--profile-port", "-1",
				       "--metrics-port", metrics_port,
				       "--dapr-internal-grpc-port", internal_port,
				       NULL };

		fflush(NULL);
		dmn.pid = fork();
		ck_assert_int_ge(dmn.pid, 0);
		if (dmn.pid == 0) {
			int fd = open(dmn.log, O_WRONLY | O_CREAT | O_APPEND, 0600);

			prctl(PR_SET_PDEATHSIG, SIGKILL);
			if (getppid() != parent)
				_exit(127);
			dup2(fd, STDOUT_FILENO);
			dup2(fd, STDERR_FILENO);
			setenv("XDG_DATA_HOME", dmn.data, 1);
			execv(argv[0], (char *const *)argv);
			_exit(127);
		}
	}
	deadline = now_ms() + 10000;
	for (;;) {
		struct http_response r;
		int status = 0;

		if (http_request(dmn.port, "GET", "/v1.0/healthz", NULL, NULL, 0, &r) == 0) {
			status = r.status;
			http_response_free(&r);
		}
		if (status == 204)
			break;
		if (daemon_wait_exit(&dmn, 0) >= 0 || now_ms() > deadline) {
			daemon_dump_log(&dmn);
			ck_abort_msg("outrigd did not start with dapr run's command line");
		}
		usleep(20 * 1000);
	}
	/* One info line for each flag that configures what outrig does not have. */
	ck_assert(log_has("--placement-host-address localhost:50005: outrig has no actors, so no placement service; the flag has no effect"));
	if (blanked)
		ck_assert(log_has("an empty argument and 'localhost:50006': ignored, as daprd ignores arguments that are not flags"));
	else
		ck_assert(log_has("--scheduler-host-address localhost:50006: outrig has no jobs or reminders, so no scheduler service; the flag has no effect"));
	ck_assert(log_has("--profile-port -1: outrig has no profiling server; the flag has no effect"));
	{
		char line[128];

		snprintf(line, sizeof(line), "metrics (Prometheus) listening on 0.0.0.0:%s/metrics", metrics_port);
		ck_assert_msg(log_has(line), "no line: %s", line);
		snprintf(line, sizeof(line), "port %s", internal_port);
		ck_assert_msg(log_has(line), "the internal port %s was not used", internal_port);
	}
	ck_assert(log_has("app id 'myapp'"));
	/* --app-port 0: no app, as daprd; an invocation of it fails as it does there. */
	{
		struct http_response r;

		ck_assert_int_eq(http_request(dmn.port, "POST", "/v1.0/invoke/myapp/method/x", NULL, "", 0, &r), 0);
		ck_assert_int_ge(r.status, 400);
		http_response_free(&r);
	}
	ck_assert_int_eq(daemon_stop(&dmn), 0);
}

START_TEST(test_dapr_run_command_line)
{
	run_exact_command_line(false);
}
END_TEST

START_TEST(test_dapr_run_command_line_blanked_scheduler)
{
	run_exact_command_line(true);
}
END_TEST

/* --disable-init-endpoints subscribe: the app is not asked GET /dapr/subscribe; without it, it is. */
START_TEST(test_disable_subscribe_endpoint)
{
	struct test_app *ta = test_app_start();
	char port[16];
	const char *with[] = { "--app-port", port, "--disable-init-endpoints", "config,subscribe", NULL };
	const char *without[] = { "--app-port", port, NULL };

	ck_assert_ptr_nonnull(ta);
	ck_assert_int_eq(daemon_add_component(&dmn, "pubsub", "pubsub.in-memory", NULL), 0);
	snprintf(port, sizeof(port), "%d", test_app_port(ta));
	ck_assert_int_eq(daemon_start(&dmn, with), 0);
	ck_assert(log_wait("not asking the app for subscriptions (--disable-init-endpoints subscribe)", 5000));
	ck_assert_uint_eq(test_app_subscribe_calls(ta, NULL, 0), 0);
	ck_assert_int_eq(daemon_stop(&dmn), 0);

	ck_assert_int_eq(daemon_start(&dmn, without), 0);
	{
		long deadline = now_ms() + 5000;

		while (test_app_subscribe_calls(ta, NULL, 0) == 0 && now_ms() < deadline)
			usleep(20 * 1000);
	}
	ck_assert_uint_ge(test_app_subscribe_calls(ta, NULL, 0), 1);
	ck_assert_int_eq(daemon_stop(&dmn), 0);
	test_app_destroy(ta);
}
END_TEST

static Suite *stop_suite(void)
{
	Suite *s = suite_create("daemon_stop");
	TCase *tc = tcase_create("stop");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_sigterm_lets_inflight_invocation_finish);
	tcase_add_test(tc, test_second_sigterm_exits_at_once);
	tcase_add_test(tc, test_sigint_after_sigterm_exits_at_once);
	tcase_add_test(tc, test_graceful_period_bounds_the_stop);
	tcase_add_test(tc, test_block_shutdown_duration);
	tcase_add_test(tc, test_dapr_run_command_line);
	tcase_add_test(tc, test_dapr_run_command_line_blanked_scheduler);
	tcase_add_test(tc, test_disable_subscribe_endpoint);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(stop_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
