/* SPDX-License-Identifier: Apache-2.0 */
/* core/observe: the Prometheus exposition, lock-free recording, Dapr's path labels and the API log lines. */
#include "config.h"

#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/log.h"
#include "observe/api_log.h"
#include "observe/dapr_metrics.h"
#include "observe/metrics.h"
#include "resources/configuration_observe.h"

static char *render(void)
{
	size_t len = 0;
	char *text = metrics_render(&len);

	ck_assert_ptr_nonnull(text);
	ck_assert_uint_eq(strlen(text), len);
	return text;
}

/* The part of the exposition before the process_* metrics. */
static char *render_own(void)
{
	char *text = render(), *p = strstr(text, "# HELP process_");

	if (p != NULL)
		*p = '\0';
	return text;
}

static void teardown(void)
{
	metrics_reset();
}

START_TEST(test_exposition)
{
	static const char *const labels[] = { "app_id", "path", NULL };
	const double bounds[] = { 1, 5 };
	struct metric *c, *h, *g, *bare;
	char *text;

	ck_assert_int_eq(metrics_set_buckets(bounds, 2), 0);
	c = metric_counter("t_requests", "Requests \\ seen.\nSecond line.", labels);
	h = metric_histogram("t_latency", "Latency in ms.", labels);
	g = metric_gauge("t_level", "A level.", NULL);
	bare = metric_counter("t_unused", "Never recorded: not shown.", NULL);
	ck_assert_ptr_nonnull(bare);
	metric_add(c, (const char *[]){ "a", "/x" }, 2);
	metric_add(c, (const char *[]){ "a", "quote\"back\\slash\nnl" }, 1);
	metric_add(c, (const char *[]){ "a", "/x" }, 3);
	metric_observe(h, (const char *[]){ "a", "/x" }, 0.5);
	metric_observe(h, (const char *[]){ "a", "/x" }, 5);
	metric_observe(h, (const char *[]){ "a", "/x" }, 7.25);
	metric_set(g, NULL, 2.5);
	metric_set(g, NULL, 3);
	text = render_own();
	ck_assert_str_eq(text, "# HELP t_requests Requests \\\\ seen.\\nSecond line.\n"
			       "# TYPE t_requests counter\n"
			       "t_requests{app_id=\"a\",path=\"/x\"} 5\n"
			       "t_requests{app_id=\"a\",path=\"quote\\\"back\\\\slash\\nnl\"} 1\n"
			       "# HELP t_latency Latency in ms.\n"
			       "# TYPE t_latency histogram\n"
			       "t_latency_bucket{app_id=\"a\",path=\"/x\",le=\"1\"} 1\n"
			       "t_latency_bucket{app_id=\"a\",path=\"/x\",le=\"5\"} 2\n"
			       "t_latency_bucket{app_id=\"a\",path=\"/x\",le=\"+Inf\"} 3\n"
			       "t_latency_sum{app_id=\"a\",path=\"/x\"} 12.75\n"
			       "t_latency_count{app_id=\"a\",path=\"/x\"} 3\n"
			       "# HELP t_level A level.\n"
			       "# TYPE t_level gauge\n"
			       "t_level 3\n");
	free(text);
	/* The same name again is the same metric; with other labels or type it is refused. */
	ck_assert_ptr_eq(metric_counter("t_requests", "x", labels), c);
	ck_assert_ptr_null(metric_gauge("t_requests", "x", labels));
	ck_assert_ptr_null(metric_counter("t_requests", "x", NULL));
	/* Buckets must ascend. */
	ck_assert_int_eq(metrics_set_buckets((const double[]){ 5, 1 }, 2), -1);
}
END_TEST

/* A size histogram keeps its own buckets, whatever metrics_set_buckets chose for latencies. */
START_TEST(test_own_buckets)
{
	const double latency[] = { 1, 5 }, sizes[] = { 1024, 4294967296.0 };
	struct metric *h;
	char *text;

	ck_assert_int_eq(metrics_set_buckets(latency, 2), 0);
	h = metric_histogram_bounds("t_bytes", "Bytes.", NULL, sizes, 2);
	ck_assert_ptr_nonnull(h);
	metric_observe(h, NULL, 100);
	metric_observe(h, NULL, 2048);
	text = render_own();
	ck_assert_str_eq(text, "# HELP t_bytes Bytes.\n"
			       "# TYPE t_bytes histogram\n"
			       "t_bytes_bucket{le=\"1024\"} 1\n"
			       "t_bytes_bucket{le=\"4294967296\"} 2\n"
			       "t_bytes_bucket{le=\"+Inf\"} 2\n"
			       "t_bytes_sum 2148\n"
			       "t_bytes_count 2\n");
	free(text);
	ck_assert_ptr_null(metric_histogram_bounds("t_bad", "x", NULL, (const double[]){ 5, 1 }, 2));
}
END_TEST

START_TEST(test_process_metrics)
{
	char *text = render();

	ck_assert_ptr_nonnull(
		strstr(text, "# TYPE process_cpu_seconds_total counter\nprocess_cpu_seconds_total "));
	ck_assert_ptr_nonnull(strstr(text, "\nprocess_resident_memory_bytes "));
	ck_assert_ptr_nonnull(strstr(text, "\nprocess_open_fds "));
	ck_assert_ptr_nonnull(strstr(text, "\nprocess_max_fds "));
	ck_assert_ptr_nonnull(strstr(text, "\nprocess_start_time_seconds "));
	free(text);
}
END_TEST

START_TEST(test_disabled_records_nothing)
{
	struct metric *c = metric_counter("t_off", "Off.", NULL);
	char *text;

	metrics_set_enabled(false);
	metric_add(c, NULL, 1);
	text = render_own();
	ck_assert_str_eq(text, "");
	free(text);
}
END_TEST

/* No client can make a metric keep unbounded label sets. */
START_TEST(test_series_bounded)
{
	static const char *const labels[] = { "path", NULL };
	struct metric *c = metric_counter("t_paths", "Paths.", labels);
	char path[32], *text;

	for (int i = 0; i < METRICS_MAX_SERIES + 7; i++) {
		const char *v[] = { path };

		snprintf(path, sizeof(path), "/p/%d", i);
		metric_add(c, v, 1);
	}
	/* An existing series still counts once the metric is full. */
	metric_add(c, (const char *[]){ "/p/0" }, 1);
	text = render_own();
	ck_assert_ptr_nonnull(strstr(text, "t_paths{path=\"/p/0\"} 2\n"));
	ck_assert_ptr_null(strstr(text, "t_paths{path=\"/p/2000\"}"));
	ck_assert_ptr_nonnull(strstr(text, "outrig_metrics_series_dropped_total{metric=\"t_paths\"} 7\n"));
	free(text);
}
END_TEST

struct hammer {
	struct metric *c, *h;
	int id;
};

static void *hammer_run(void *arg)
{
	struct hammer *hm = arg;
	char own[16];

	snprintf(own, sizeof(own), "t%d", hm->id);
	for (int i = 0; i < 50000; i++) {
		metric_add(hm->c, (const char *[]){ "shared" }, 1);
		metric_add(hm->c, (const char *[]){ own }, 1);
		metric_observe(hm->h, (const char *[]){ "shared" }, 1);
	}
	return NULL;
}

/* Threads recording at once lose no count (atomics, and a lock only to add a label set). */
START_TEST(test_concurrent)
{
	static const char *const labels[] = { "who", NULL };
	struct hammer hm[4];
	pthread_t t[4];
	char *text;

	for (int i = 0; i < 4; i++) {
		hm[i].c = metric_counter("t_hits", "Hits.", labels);
		hm[i].h = metric_histogram("t_obs", "Observations.", labels);
		hm[i].id = i;
		ck_assert_int_eq(pthread_create(&t[i], NULL, hammer_run, &hm[i]), 0);
	}
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	text = render_own();
	ck_assert_ptr_nonnull(strstr(text, "t_hits{who=\"shared\"} 200000\n"));
	ck_assert_ptr_nonnull(strstr(text, "t_hits{who=\"t3\"} 50000\n"));
	ck_assert_ptr_nonnull(strstr(text, "t_obs_count{who=\"shared\"} 200000\n"));
	ck_assert_ptr_nonnull(strstr(text, "t_obs_sum{who=\"shared\"} 200000\n"));
	free(text);
}
END_TEST

START_TEST(test_dapr_names)
{
	char *text;

	dm_setup("app1", NULL, true);
	dm_http_server("POST", "/v1.0/state/store", 204, 2);
	dm_http_server("GET", "/v1.0/state/store/key1", 200, 1);
	dm_http_server("GET", "/v1.0/state/store/key2", 200, 1);
	dm_http_server("BREW", "/healthz", 418, 1);
	dm_grpc_server("/dapr.proto.runtime.v1.Dapr/SaveState", 0, 1);
	dm_grpc_server("/dapr.proto.runtime.v1.Dapr/GetState", 5, 1);
	dm_component(DM_STATE, "store", "set", true, 3);
	dm_component(DM_PUBSUB_EGRESS, "pubsub", "orders", false, 3);
	dm_pubsub_ingress("pubsub", "orders", "retry", 2);
	dm_component_init("state.redis", false);
	dm_component_init("state.redis", true);
	text = render_own();
	ck_assert_ptr_nonnull(strstr(
		text,
		"dapr_http_server_request_count{app_id=\"app1\",method=\"POST\",path=\"/v1.0/state/store\",status=\"204\"} 1\n"));
	/* Keys are cut off the path, as Dapr's label does. */
	ck_assert_ptr_nonnull(strstr(
		text,
		"dapr_http_server_request_count{app_id=\"app1\",method=\"GET\",path=\"/v1.0/state/store\",status=\"200\"} 2\n"));
	ck_assert_ptr_nonnull(strstr(
		text,
		"dapr_http_server_request_count{app_id=\"app1\",method=\"UNKNOWN\",path=\"/healthz\",status=\"418\"} 1\n"));
	ck_assert_ptr_nonnull(strstr(
		text,
		"dapr_grpc_io_server_completed_rpcs{app_id=\"app1\",grpc_server_method=\"/dapr.proto.runtime.v1.Dapr/GetState\",grpc_server_status=\"NOT_FOUND\"} 1\n"));
	ck_assert_ptr_nonnull(strstr(text, "# TYPE dapr_grpc_io_server_server_latency histogram\n"));
	ck_assert_ptr_nonnull(strstr(
		text,
		"dapr_component_state_count{app_id=\"app1\",component=\"store\",namespace=\"\",operation=\"set\",success=\"true\"} 1\n"));
	ck_assert_ptr_nonnull(strstr(
		text,
		"dapr_component_pubsub_egress_count{app_id=\"app1\",component=\"pubsub\",namespace=\"\",success=\"false\",topic=\"orders\"} 1\n"));
	ck_assert_ptr_nonnull(strstr(
		text,
		"dapr_component_pubsub_ingress_count{app_id=\"app1\",component=\"pubsub\",namespace=\"\",process_status=\"retry\",status=\"failed\",topic=\"orders\"} 1\n"));
	ck_assert_ptr_nonnull(
		strstr(text, "dapr_runtime_component_loaded{app_id=\"app1\",namespace=\"\"} 1\n"));
	ck_assert_ptr_nonnull(strstr(
		text,
		"dapr_runtime_component_init_fail_total{app_id=\"app1\",namespace=\"\",component=\"state.redis\",reason=\"init\"} 1\n"));
	/* Dapr's default latency buckets, in milliseconds, up to 100 s. */
	ck_assert_ptr_nonnull(strstr(text, ",le=\"1\"} "));
	ck_assert_ptr_nonnull(strstr(text, ",le=\"650\"} "));
	ck_assert_ptr_nonnull(strstr(text, ",le=\"100000\"} "));
	free(text);
}
END_TEST

START_TEST(test_path_labels)
{
	char *patterns[] = { "/orders/{orderID}", "/v1.0/invoke/{app}/method/{rest...}" };
	struct cfg_observe cfg = { .path_matching = patterns, .npath_matching = 2 };
	char buf[128];

	dm_setup("a", &cfg, true);
	ck_assert_str_eq(dm_http_path("/orders/17", buf, sizeof(buf)), "/orders/{orderID}");
	ck_assert_str_eq(dm_http_path("/orders/17/items", buf, sizeof(buf)), "/orders/17/items");
	ck_assert_str_eq(dm_http_path("/orders/", buf, sizeof(buf)), "/orders/");
	ck_assert_str_eq(dm_http_path("/v1.0/invoke/b/method/x/y", buf, sizeof(buf)),
			 "/v1.0/invoke/{app}/method/{rest...}");
	ck_assert_str_eq(dm_http_path("/v1.0/secrets/vault/k", buf, sizeof(buf)), "/v1.0/secrets/vault");
	/* increasedCardinality: false drops every path no pattern matched, but Dapr's own. */
	cfg.low_cardinality = true;
	dm_setup("a", &cfg, true);
	ck_assert_str_eq(dm_http_path("/orders/17", buf, sizeof(buf)), "/orders/{orderID}");
	ck_assert_str_eq(dm_http_path("/v1.0/state/s/k", buf, sizeof(buf)), "");
	ck_assert_str_eq(dm_http_path("/healthz", buf, sizeof(buf)), "/healthz");
}
END_TEST

/* What api_log writes to standard output while fn runs. */
static char *capture(void (*fn)(void))
{
	char path[] = "/tmp/check_metrics.XXXXXX";
	int fd = mkstemp(path), saved = dup(STDOUT_FILENO);
	char *text = calloc(1, 8192);
	FILE *f;

	ck_assert_int_ge(fd, 0);
	fflush(stdout);
	dup2(fd, STDOUT_FILENO);
	fn();
	fflush(stdout);
	dup2(saved, STDOUT_FILENO);
	close(saved);
	f = fdopen(fd, "r");
	rewind(f);
	fread(text, 1, 8191, f);
	fclose(f);
	unlink(path);
	return text;
}

static size_t count(const char *text, const char *what)
{
	size_t n = 0;

	for (const char *p = strstr(text, what); p != NULL; p = strstr(p + 1, what))
		n++;
	return n;
}

static void log_calls(void)
{
	api_log_http("POST", "/v1.0/state/store", 204, 3.7, "curl/8");
	api_log_http("GET", "/v1.0/healthz", 204, 0.2, NULL);
	api_log_grpc("/dapr.proto.runtime.v1.Dapr/GetState", 5, 12.9, "grpc-go/1.60");
	api_log_http("GET", "/v1.0/invoke/other/method/orders/1", 200, 1, NULL);
}

START_TEST(test_api_log_text)
{
	char *out;

	log_setup(OUTRIG_LOG_INFO, false, "app1");
	api_log_setup(false, false, false);
	out = capture(log_calls);
	ck_assert_str_eq(out, "");
	free(out);
	api_log_setup(true, false, false);
	out = capture(log_calls);
	ck_assert_uint_eq(count(out, "API Called"), 4);
	ck_assert_msg(strstr(out,
			     "level=info msg=\"HTTP API Called\" app_id=app1 scope=dapr.runtime.http-info "
			     "method=\"POST /v1.0/state/store\" code=204 duration=3 useragent=curl/8\n") !=
			      NULL,
		      "%s", out);
	ck_assert_ptr_nonnull(strstr(out, "method=\"GET /v1.0/healthz\" code=204 duration=0\n"));
	ck_assert_ptr_nonnull(strstr(out, "msg=\"gRPC API Called\" app_id=app1 scope=dapr.runtime.grpc-info "
					  "method=/dapr.proto.runtime.v1.Dapr/GetState code=5 duration=12 "
					  "useragent=grpc-go/1.60\n"));
	free(out);
	/* omitHealthChecks leaves the probe out; obfuscateURLs logs endpoint names. */
	api_log_setup(true, true, true);
	out = capture(log_calls);
	ck_assert_ptr_null(strstr(out, "healthz"));
	ck_assert_ptr_null(strstr(out, "Healthz"));
	ck_assert_uint_eq(count(out, "API Called"), 3);
	ck_assert_ptr_nonnull(strstr(out, "method=SaveState code=204"));
	ck_assert_ptr_nonnull(strstr(out, "method=InvokeService/other code=200"));
	ck_assert_ptr_null(strstr(out, "orders/1"));
	free(out);
	/* As daprd's API log, at info level whatever --log-level says. */
	log_setup(OUTRIG_LOG_ERROR, false, "app1");
	api_log_setup(true, false, false);
	out = capture(log_calls);
	ck_assert_uint_eq(count(out, "level=info msg=\"HTTP API Called\""), 3);
	free(out);
}
END_TEST

START_TEST(test_api_log_json)
{
	char *out;

	log_setup(OUTRIG_LOG_INFO, true, "app1");
	api_log_setup(true, false, false);
	out = capture(log_calls);
	ck_assert_msg(strstr(out, "\"scope\":\"dapr.runtime.http-info\"") != NULL, "%s", out);
	ck_assert_ptr_nonnull(strstr(out, "\"msg\":\"HTTP API Called\""));
	ck_assert_ptr_nonnull(strstr(out, "\"method\":\"POST /v1.0/state/store\",\"code\":204,\"duration\":3,"
					  "\"useragent\":\"curl/8\""));
	ck_assert_ptr_nonnull(strstr(out, "\"scope\":\"dapr.runtime.grpc-info\""));
	ck_assert_ptr_nonnull(strstr(out, "\"code\":5,\"duration\":12"));
	free(out);
	log_setup(OUTRIG_LOG_INFO, false, "");
}
END_TEST

static Suite *metrics_suite(void)
{
	Suite *s = suite_create("metrics");
	TCase *tc = tcase_create("metrics");

	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_exposition);
	tcase_add_test(tc, test_own_buckets);
	tcase_add_test(tc, test_process_metrics);
	tcase_add_test(tc, test_disabled_records_nothing);
	tcase_add_test(tc, test_series_bounded);
	tcase_add_test(tc, test_concurrent);
	tcase_add_test(tc, test_dapr_names);
	tcase_add_test(tc, test_path_labels);
	tcase_add_test(tc, test_api_log_text);
	tcase_add_test(tc, test_api_log_json);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(metrics_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
