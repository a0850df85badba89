/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of core/options.c: daprd's command line, its defaults and its error messages. */
#include "config.h"

#include <check.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "options.h"

#define MAX_ARGS 32

/* Writable copies of the arguments: options_parse may split them in place, like a real argv. */
static char *argv_store[MAX_ARGS + 1];
static int argc_store;
static struct options opts;
static char err[512];

static void setup(void)
{
	argc_store = 0;
	memset(argv_store, 0, sizeof(argv_store));
	memset(&opts, 0, sizeof(opts));
	memset(err, 0, sizeof(err));
}

static void teardown(void)
{
	options_free(&opts);
	for (int i = 0; i < argc_store; i++)
		free(argv_store[i]);
	argc_store = 0;
}

/* Parses "outrigd" followed by the NULL-terminated arguments; returns options_parse's result. */
static int parse(const char *first, ...)
{
	va_list ap;

	options_free(&opts);
	for (int i = 0; i < argc_store; i++)
		free(argv_store[i]);
	argc_store = 0;
	argv_store[argc_store++] = strdup("outrigd");
	va_start(ap, first);
	for (const char *a = first; a != NULL; a = va_arg(ap, const char *)) {
		ck_assert_int_lt(argc_store, MAX_ARGS);
		argv_store[argc_store++] = strdup(a);
		ck_assert_ptr_nonnull(argv_store[argc_store - 1]);
	}
	va_end(ap);
	argv_store[argc_store] = NULL;
	memset(err, 0, sizeof(err));
	return options_parse(argc_store, argv_store, &opts, err, sizeof(err));
}

static void parse_ok_msg(int rc)
{
	ck_assert_msg(rc == 0, "refused: %s", err);
}

/* Expects parse to refuse with exactly message. */
static void assert_refused(int rc, const char *message)
{
	ck_assert_int_eq(rc, -1);
	ck_assert_str_eq(err, message);
}

START_TEST(test_defaults)
{
	parse_ok_msg(parse(NULL));
	ck_assert_str_eq(opts.app_id, "");
	ck_assert_int_eq(opts.app_port, 0);
	ck_assert_int_eq(opts.http_port, 3500);
	ck_assert_str_eq(opts.listen_addresses, "127.0.0.1");
	ck_assert_ptr_null(opts.resources_paths);
	ck_assert_uint_eq(opts.resources_count, 0);
	ck_assert_ptr_null(opts.plugin_dir);
	ck_assert_ptr_null(opts.data_dir);
	ck_assert_int_eq(opts.log_level, OUTRIG_LOG_INFO);
	ck_assert(!opts.log_as_json);
	ck_assert_int_eq(opts.max_body_bytes, 4 * 1024 * 1024);
	ck_assert_int_eq(opts.worker_threads, 4);
	ck_assert_int_eq(opts.graceful_shutdown_seconds, 5);
	ck_assert(!opts.check_only);
	ck_assert_ptr_null(opts.describe_plugin);
	ck_assert(!opts.show_version);
	ck_assert(!opts.show_help);
}
END_TEST

START_TEST(test_space_and_equals_forms)
{
	parse_ok_msg(parse("--app-id", "myapp", "--dapr-http-port", "3501", "--app-port=8080",
			   "--dapr-listen-addresses=0.0.0.0,::1", "--plugin-dir", "/opt/plugins",
			   "--data-dir=/var/lib/outrig", "--log-level", "debug", "--worker-threads=8",
			   "--dapr-graceful-shutdown-seconds", "10", "--describe-plugin=state.redis", NULL));
	ck_assert_str_eq(opts.app_id, "myapp");
	ck_assert_int_eq(opts.http_port, 3501);
	ck_assert_int_eq(opts.app_port, 8080);
	ck_assert_str_eq(opts.listen_addresses, "0.0.0.0,::1");
	ck_assert_str_eq(opts.plugin_dir, "/opt/plugins");
	ck_assert_str_eq(opts.data_dir, "/var/lib/outrig");
	ck_assert_int_eq(opts.log_level, OUTRIG_LOG_DEBUG);
	ck_assert_int_eq(opts.worker_threads, 8);
	ck_assert_int_eq(opts.graceful_shutdown_seconds, 10);
	ck_assert_str_eq(opts.describe_plugin, "state.redis");
	/* Untouched ones keep their defaults. */
	ck_assert_int_eq(opts.max_body_bytes, 4 * 1024 * 1024);
	ck_assert_str_eq(opts.app_id, "myapp");
}
END_TEST

START_TEST(test_single_dash_and_last_wins)
{
	parse_ok_msg(parse("-app-id", "one", "-app-id=two", "--log-level=warn", "-log-level", "error", NULL));
	ck_assert_str_eq(opts.app_id, "two");
	ck_assert_int_eq(opts.log_level, OUTRIG_LOG_ERROR);
}
END_TEST

START_TEST(test_empty_value)
{
	parse_ok_msg(parse("--app-id=", NULL));
	ck_assert_str_eq(opts.app_id, "");
	/* A value may itself look like a flag: the next argument is taken as it is, as pflag does. */
	parse_ok_msg(parse("--app-id", "--weird", NULL));
	ck_assert_str_eq(opts.app_id, "--weird");
}
END_TEST

START_TEST(test_log_levels)
{
	static const struct {
		const char *name;
		enum outrig_log_level level;
	} levels[] = {
		{ "debug", OUTRIG_LOG_DEBUG }, { "info", OUTRIG_LOG_INFO },   { "warn", OUTRIG_LOG_WARN },
		{ "error", OUTRIG_LOG_ERROR }, { "fatal", OUTRIG_LOG_FATAL },
	};

	for (size_t i = 0; i < sizeof(levels) / sizeof(levels[0]); i++) {
		parse_ok_msg(parse("--log-level", levels[i].name, NULL));
		ck_assert_int_eq(opts.log_level, levels[i].level);
	}
	assert_refused(parse("--log-level", "verbose", NULL),
		       "--log-level: invalid value \"verbose\"; see outrigd --help");
	assert_refused(parse("--log-level=DEBUG", NULL),
		       "--log-level: invalid value \"DEBUG\"; see outrigd --help");
}
END_TEST

START_TEST(test_resources_paths)
{
	parse_ok_msg(parse("--resources-path", "./a", "--resources-path=b,c", "--components-path", "d",
			   "--components-path=,e,,f,", NULL));
	ck_assert_uint_eq(opts.resources_count, 6);
	ck_assert_str_eq(opts.resources_paths[0], "./a");
	ck_assert_str_eq(opts.resources_paths[1], "b");
	ck_assert_str_eq(opts.resources_paths[2], "c");
	ck_assert_str_eq(opts.resources_paths[3], "d");
	ck_assert_str_eq(opts.resources_paths[4], "e");
	ck_assert_str_eq(opts.resources_paths[5], "f");
	options_free(&opts);
	ck_assert_ptr_null(opts.resources_paths);
	ck_assert_uint_eq(opts.resources_count, 0);
}
END_TEST

START_TEST(test_sizes)
{
	static const struct {
		const char *text;
		int64_t bytes;
	} sizes[] = {
		{ "4Mi", 4 << 20 }, { "512Ki", 512 << 10 }, { "1000", 1000 },
		{ "1Gi", 1 << 30 }, { "2K", 2000 },	    { "2k", 2000 },
		{ "3M", 3000000 },  { "1G", 1000000000 },   { "1", 1 },
	};

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		parse_ok_msg(parse("--max-body-size", sizes[i].text, NULL));
		ck_assert_msg(opts.max_body_bytes == sizes[i].bytes, "%s: %lld bytes, expected %lld",
			      sizes[i].text, (long long)opts.max_body_bytes, (long long)sizes[i].bytes);
	}
	parse_ok_msg(parse("--max-body-size=16Mi", NULL));
	ck_assert_int_eq(opts.max_body_bytes, 16 << 20);
}
END_TEST

START_TEST(test_megabytes)
{
	parse_ok_msg(parse("--dapr-http-max-request-size", "2", NULL));
	ck_assert_int_eq(opts.max_body_bytes, 2 << 20);
	parse_ok_msg(parse("--dapr-http-max-request-size=64", NULL));
	ck_assert_int_eq(opts.max_body_bytes, INT64_C(64) << 20);
	/* Both flags set the same limit: the later one wins. */
	parse_ok_msg(parse("--max-body-size", "1Mi", "--dapr-http-max-request-size", "3", NULL));
	ck_assert_int_eq(opts.max_body_bytes, 3 << 20);
	parse_ok_msg(parse("--dapr-http-max-request-size", "3", "--max-body-size", "1Ki", NULL));
	ck_assert_int_eq(opts.max_body_bytes, 1024);
}
END_TEST

/* daprd's header limit for answers: 4Ki by default, a quantity, or KB in the deprecated form. */
START_TEST(test_read_buffer_size)
{
	parse_ok_msg(parse(NULL));
	ck_assert_int_eq(opts.read_buffer_bytes, 4096);
	parse_ok_msg(parse("--read-buffer-size", "16Ki", NULL));
	ck_assert_int_eq(opts.read_buffer_bytes, 16384);
	parse_ok_msg(parse("--dapr-http-read-buffer-size", "64", NULL));
	ck_assert_int_eq(opts.read_buffer_bytes, 65536);
	/* Dapr's CLI passes -1 for daprd's default. */
	parse_ok_msg(parse("--read-buffer-size", "1Mi", "--dapr-http-read-buffer-size", "-1", NULL));
	ck_assert_int_eq(opts.read_buffer_bytes, 4096);
	assert_refused(parse("--read-buffer-size", "0", NULL),
		       "--read-buffer-size: invalid value \"0\"; see outrigd --help");
	assert_refused(parse("--dapr-http-read-buffer-size", "-2", NULL),
		       "--dapr-http-read-buffer-size: invalid value \"-2\"; see outrigd --help");
}
END_TEST

START_TEST(test_bad_sizes)
{
	static const char *const bad[] = {
		"4MB", "0", "-2", "4.5Mi", "", "Mi", "4 Mi", "4Mi ", "4mi", "4Ti"
	};
	char want[256];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(want, sizeof(want), "--max-body-size: invalid value \"%s\"; see outrigd --help",
			 bad[i]);
		assert_refused(parse("--max-body-size", bad[i], NULL), want);
	}
	assert_refused(parse("--dapr-http-max-request-size", "0", NULL),
		       "--dapr-http-max-request-size: invalid value \"0\"; see outrigd --help");
	assert_refused(parse("--dapr-http-max-request-size=lots", NULL),
		       "--dapr-http-max-request-size: invalid value \"lots\"; see outrigd --help");
}
END_TEST

/* A size that does not fit in int64 bytes is refused, not wrapped around. */
START_TEST(test_size_overflow_refused)
{
	static const struct {
		const char *flag;
		const char *value;
	} cases[] = {
		{ "--max-body-size", "10000000000Gi" },
		{ "--max-body-size", "9000000000000000000Gi" },
		{ "--dapr-http-max-request-size", "9000000000000" },
	};
	char want[256], accepted[512] = "";

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (parse(cases[i].flag, cases[i].value, NULL) == 0) {
			snprintf(accepted + strlen(accepted), sizeof(accepted) - strlen(accepted),
				 " %s %s -> %lld bytes;", cases[i].flag, cases[i].value,
				 (long long)opts.max_body_bytes);
			continue;
		}
		snprintf(want, sizeof(want), "%s: invalid value \"%s\"; see outrigd --help", cases[i].flag,
			 cases[i].value);
		ck_assert_str_eq(err, want);
	}
	ck_assert_msg(accepted[0] == '\0', "overflowing sizes accepted:%s", accepted);
}
END_TEST

START_TEST(test_bools)
{
	parse_ok_msg(parse("--log-as-json", "--check", "--version", "--help", NULL));
	ck_assert(opts.log_as_json);
	ck_assert(opts.check_only);
	ck_assert(opts.show_version);
	ck_assert(opts.show_help);

	parse_ok_msg(parse("--log-as-json=false", "--check=0", "--version=1", "--help=true", NULL));
	ck_assert(!opts.log_as_json);
	ck_assert(!opts.check_only);
	ck_assert(opts.show_version);
	ck_assert(opts.show_help);

	/* A bare bool flag does not take the next argument as its value. */
	assert_refused(parse("--log-as-json", "false", NULL),
		       "unknown flag or argument \"false\"; see outrigd --help");
	assert_refused(parse("--log-as-json=yes", NULL),
		       "--log-as-json: invalid value \"yes\"; see outrigd --help");
	assert_refused(parse("--check=", NULL), "--check: invalid value \"\"; see outrigd --help");
}
END_TEST

START_TEST(test_bad_ints)
{
	assert_refused(parse("--dapr-http-port", "abc", NULL),
		       "--dapr-http-port: invalid value \"abc\"; see outrigd --help");
	assert_refused(parse("--dapr-http-port=-1", NULL),
		       "--dapr-http-port: invalid value \"-1\"; see outrigd --help");
	assert_refused(parse("--app-port", "80x", NULL),
		       "--app-port: invalid value \"80x\"; see outrigd --help");
	assert_refused(parse("--worker-threads", "", NULL),
		       "--worker-threads: invalid value \"\"; see outrigd --help");
	assert_refused(parse("--worker-threads", "1000001", NULL),
		       "--worker-threads: invalid value \"1000001\"; see outrigd --help");
	assert_refused(parse("--dapr-graceful-shutdown-seconds", "99999999999999999999", NULL),
		       "--dapr-graceful-shutdown-seconds: invalid value \"99999999999999999999\"; "
		       "see outrigd --help");
	parse_ok_msg(parse("--worker-threads", "1000000", NULL));
	ck_assert_int_eq(opts.worker_threads, 1000000);
}
END_TEST

START_TEST(test_unknown_flags)
{
	assert_refused(parse("--nope", NULL), "unknown flag or argument \"--nope\"; see outrigd --help");
	assert_refused(parse("--nope=1", NULL), "unknown flag or argument \"--nope=1\"; see outrigd --help");
	assert_refused(parse("extra", NULL), "unknown flag or argument \"extra\"; see outrigd --help");
	assert_refused(parse("--app", "x", NULL), "unknown flag or argument \"--app\"; see outrigd --help");
	assert_refused(parse("--app-id-x", "x", NULL),
		       "unknown flag or argument \"--app-id-x\"; see outrigd --help");
	assert_refused(parse("--APP-ID", "x", NULL),
		       "unknown flag or argument \"--APP-ID\"; see outrigd --help");
	assert_refused(parse("-", NULL), "unknown flag or argument \"-\"; see outrigd --help");
	assert_refused(parse("--", NULL), "unknown flag or argument \"--\"; see outrigd --help");
}
END_TEST

START_TEST(test_missing_value)
{
	assert_refused(parse("--app-id", NULL), "--app-id needs a value; see outrigd --help");
	assert_refused(parse("--log-as-json", "--resources-path", NULL),
		       "--resources-path needs a value; see outrigd --help");
	assert_refused(parse("-max-body-size", NULL), "--max-body-size needs a value; see outrigd --help");
}
END_TEST

START_TEST(test_stops_at_first_error)
{
	assert_refused(parse("--app-id", "a", "--nope", "--dapr-http-port", "9", NULL),
		       "unknown flag or argument \"--nope\"; see outrigd --help");
	ck_assert_str_eq(opts.app_id, "a");
	ck_assert_int_eq(opts.http_port, 3500);
}
END_TEST

START_TEST(test_app_protocol)
{
	static const char *const later[] = { "h2c", "h2", "GRPC", "tls" };
	char want[256];

	parse_ok_msg(parse(NULL));
	ck_assert_str_eq(opts.app_protocol, "http");
	parse_ok_msg(parse("--app-protocol", "grpc", NULL));
	ck_assert_str_eq(opts.app_protocol, "grpc");
	parse_ok_msg(parse("--app-protocol=http", NULL));
	ck_assert_str_eq(opts.app_protocol, "http");
	parse_ok_msg(parse("--app-protocol=https", NULL));
	ck_assert_str_eq(opts.app_protocol, "https");
	parse_ok_msg(parse("--app-protocol", "grpcs", NULL));
	ck_assert_str_eq(opts.app_protocol, "grpcs");
	ck_assert_uint_eq(opts.notes_count, 0);
	for (size_t i = 0; i < sizeof(later) / sizeof(later[0]); i++) {
		snprintf(want, sizeof(want),
			 "--app-protocol: \"%s\" is not supported by outrig; use http, https, grpc or grpcs (h2c comes later)",
			 later[i]);
		assert_refused(parse("--app-protocol", later[i], NULL), want);
	}
}
END_TEST

/* daprd's deprecated --app-ssl: http becomes https and grpc grpcs, with daprd's warning; the TLS forms stay. */
START_TEST(test_app_ssl)
{
	static const char *const cases[][2] = {
		{ "http", "https" }, { "grpc", "grpcs" }, { "https", "https" }, { "grpcs", "grpcs" }
	};

	parse_ok_msg(parse("--app-ssl", NULL));
	ck_assert_str_eq(opts.app_protocol, "https");
	ck_assert_uint_eq(opts.notes_count, 1);
	ck_assert_str_eq(opts.notes[0],
			 "--app-ssl is deprecated; use --app-protocol https instead (the app is called with https, not http)");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		parse_ok_msg(parse("--app-protocol", cases[i][0], "--app-ssl=true", NULL));
		ck_assert_str_eq(opts.app_protocol, cases[i][1]);
		ck_assert_uint_eq(opts.notes_count, strcmp(cases[i][0], cases[i][1]) != 0 ? 1 : 0);
		parse_ok_msg(parse("--app-protocol", cases[i][0], "--app-ssl=false", NULL));
		ck_assert_str_eq(opts.app_protocol, cases[i][0]);
	}
	assert_refused(parse("--app-ssl", "--app-protocol", "h2c", NULL),
		       "--app-protocol: \"h2c\" is not supported by outrig; use http, https, grpc or grpcs (h2c comes later)");
}
END_TEST

/* daprd's flags for what outrig lacks: accepted, each noted once for an info line, in the order given. */
/* Metrics and API logging (issue 14): real flags now, with daprd's defaults. */
START_TEST(test_metrics_flags)
{
	parse_ok_msg(parse(NULL));
	ck_assert_int_eq(opts.metrics_port, 0); /* not given: 9090, best effort */
	ck_assert_str_eq(opts.metrics_listen_address, "0.0.0.0");
	ck_assert(opts.enable_metrics);
	ck_assert_int_eq(opts.enable_api_logging, -1);
	parse_ok_msg(parse("--metrics-port", "9191", "--metrics-listen-address", "127.0.0.1", "--enable-metrics=false",
			   "--enable-api-logging", NULL));
	ck_assert_uint_eq(opts.notes_count, 0);
	ck_assert_int_eq(opts.metrics_port, 9191);
	ck_assert_str_eq(opts.metrics_listen_address, "127.0.0.1");
	ck_assert(!opts.enable_metrics);
	ck_assert_int_eq(opts.enable_api_logging, 1);
	parse_ok_msg(parse("--enable-api-logging=false", NULL));
	ck_assert_int_eq(opts.enable_api_logging, 0);
	assert_refused(parse("--enable-metrics=maybe", NULL),
		       "--enable-metrics: invalid value \"maybe\"; see outrigd --help");
	assert_refused(parse("--metrics-port", "0", NULL), "--metrics-port: invalid value \"0\"; see outrigd --help");
}
END_TEST

START_TEST(test_daprd_flags_noted)
{
	parse_ok_msg(parse("--placement-host-address=", "-scheduler-host-address", "localhost:50006",
			   "--profile-port", "-1", "--enable-profiling", "--sentry-address", "",
			   "--disable-builtin-k8s-secret-store=T", NULL));
	ck_assert_uint_eq(opts.notes_count, 5);
	ck_assert_str_eq(opts.notes[0],
			 "--placement-host-address : outrig has no actors, so no placement service; the flag has no effect");
	ck_assert_str_eq(opts.notes[1],
			 "--scheduler-host-address localhost:50006: outrig has no jobs or reminders, so no scheduler service; the flag has no effect");
	ck_assert_str_eq(opts.notes[2], "--profile-port -1: outrig has no profiling server; the flag has no effect");
	ck_assert_str_eq(opts.notes[4],
			 "--disable-builtin-k8s-secret-store T: outrig has no built-in Kubernetes secret store to disable; the flag has no effect");
	/* A boolean note still checks its value. */
	assert_refused(parse("--enable-profiling=maybe", NULL),
		       "--enable-profiling: invalid value \"maybe\"; see outrigd --help");
	parse_ok_msg(parse(NULL));
	ck_assert_uint_eq(opts.notes_count, 0);
}
END_TEST

/* What `dapr run` gives for "no app" and "default": --app-port 0, -1 sizes and concurrency. */
START_TEST(test_dapr_run_defaults)
{
	parse_ok_msg(parse("--app-port", "0", "--app-max-concurrency", "-1", "--max-body-size", "-1",
			   "--read-buffer-size", "-1", "--dapr-http-max-request-size", "-1", NULL));
	ck_assert_int_eq(opts.app_port, 0);
	ck_assert_int_eq(opts.app_max_concurrency, -1);
	ck_assert_int_eq(opts.max_body_bytes, 4 << 20);
	ck_assert_int_eq(opts.read_buffer_bytes, 4 << 10);
	ck_assert_uint_eq(opts.notes_count, 0);
	parse_ok_msg(parse("--mode", "standalone", "--app-ssl=false", "--enable-mtls=0", "--unix-domain-socket=",
			   "--allowed-origins", "", "--dapr-public-port=", "--build-info", NULL));
	ck_assert(opts.show_build_info);
	parse_ok_msg(parse("--dapr-block-shutdown-duration", "1m30s", "--app-binding-options-timeout=-5s",
			   "--disable-init-endpoints", "config,subscribe", NULL));
	ck_assert_int_eq(opts.block_shutdown_ms, 90000);
	ck_assert_int_eq(opts.binding_options_timeout_ms, 0);
	ck_assert(opts.no_subscribe_endpoint);
	parse_ok_msg(parse("--disable-init-endpoints=config", NULL));
	ck_assert(!opts.no_subscribe_endpoint);
}
END_TEST

/* mTLS between sidecars: daprd's flag and trust domain, and outrig's certificate files. */
START_TEST(test_mtls_flags)
{
	parse_ok_msg(parse(NULL));
	ck_assert(!opts.enable_mtls);
	ck_assert_ptr_null(opts.trust_domain);
	parse_ok_msg(parse("--enable-mtls", "--control-plane-trust-domain", "example.org", "--mtls-cert-file", "a.crt",
			   "--mtls-key-file=a.key", "--trust-anchors-file", "ca.crt", NULL));
	ck_assert(opts.enable_mtls);
	ck_assert_str_eq(opts.trust_domain, "example.org");
	ck_assert_str_eq(opts.mtls_cert_file, "a.crt");
	ck_assert_str_eq(opts.mtls_key_file, "a.key");
	ck_assert_str_eq(opts.trust_anchors_file, "ca.crt");
	ck_assert_uint_eq(opts.notes_count, 0);
}
END_TEST

/* What outrig cannot honour is refused, naming the flag and saying what to do. */
START_TEST(test_daprd_flags_refused)
{
	assert_refused(parse("--mode", "kubernetes", NULL),
		       "--mode: \"kubernetes\" is not supported; outrig runs standalone only (components come from --resources-path folders, in Kubernetes mounted from a ConfigMap)");
	assert_refused(parse("--sentry-address", "localhost:50001", NULL),
		       "--sentry-address localhost:50001: outrig has no Sentry: sidecar certificates come from files; drop the flag and give --mtls-cert-file, --mtls-key-file and --trust-anchors-file (outrig cert makes them)");
	assert_refused(parse("--unix-domain-socket", "/tmp/dapr", NULL),
		       "--unix-domain-socket /tmp/dapr: outrig serves its APIs on TCP only; drop the flag and use --dapr-http-port and --dapr-grpc-port");
	assert_refused(parse("--allowed-origins=*", NULL),
		       "--allowed-origins *: outrig sends no CORS headers yet; drop the flag (outrig answers as daprd does without it)");
	assert_refused(parse("--dapr-public-port", "3501", NULL),
		       "--dapr-public-port 3501: outrig has no public port yet; probe GET /v1.0/healthz on --dapr-http-port instead");
	assert_refused(parse("--wait", NULL),
		       "--wait: outrigd --wait is not supported; poll GET /v1.0/healthz/outbound on the sidecar's HTTP port instead");
	assert_refused(parse("--disable-init-endpoints", "config,actors", NULL),
		       "--disable-init-endpoints: \"config,actors\" is not a list of config and subscribe");
	assert_refused(parse("--dapr-block-shutdown-duration", "soon", NULL),
		       "--dapr-block-shutdown-duration: invalid value \"soon\"; see outrigd --help");
	assert_refused(parse("--app-max-concurrency", "-2", NULL),
		       "--app-max-concurrency: invalid value \"-2\"; see outrigd --help");
	assert_refused(parse("--app-port", "65536", NULL), "--app-port: invalid value \"65536\"; see outrigd --help");
}
END_TEST

/* The Dapr CLI blanks --scheduler-host-address (not its value) for a runtime it takes for one before 1.14. */
START_TEST(test_blanked_flag)
{
	parse_ok_msg(parse("--app-id", "a", "", "localhost:50006", "--app-port", "0", "", NULL));
	ck_assert_str_eq(opts.app_id, "a");
	ck_assert_uint_eq(opts.notes_count, 2);
	ck_assert_str_eq(opts.notes[0],
			 "an empty argument and \"localhost:50006\": ignored, as daprd ignores arguments that are not flags (the Dapr CLI leaves one in place of --scheduler-host-address for a runtime it does not take for Dapr 1.14 or later); outrig has no scheduler");
	ck_assert(strncmp(opts.notes[1], "an empty argument: ignored", 26) == 0);
	/* Only after an empty argument: a stray word is still refused. */
	assert_refused(parse("localhost:50006", NULL),
		       "unknown flag or argument \"localhost:50006\"; see outrigd --help");
}
END_TEST

static Suite *options_suite(void)
{
	Suite *s = suite_create("options");
	TCase *tc = tcase_create("parse");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_defaults);
	tcase_add_test(tc, test_space_and_equals_forms);
	tcase_add_test(tc, test_single_dash_and_last_wins);
	tcase_add_test(tc, test_empty_value);
	tcase_add_test(tc, test_log_levels);
	tcase_add_test(tc, test_resources_paths);
	tcase_add_test(tc, test_sizes);
	tcase_add_test(tc, test_megabytes);
	tcase_add_test(tc, test_bad_sizes);
	tcase_add_test(tc, test_size_overflow_refused);
	tcase_add_test(tc, test_bools);
	tcase_add_test(tc, test_bad_ints);
	tcase_add_test(tc, test_unknown_flags);
	tcase_add_test(tc, test_missing_value);
	tcase_add_test(tc, test_stops_at_first_error);
	tcase_add_test(tc, test_read_buffer_size);
	tcase_add_test(tc, test_app_protocol);
	tcase_add_test(tc, test_app_ssl);
	tcase_add_test(tc, test_daprd_flags_noted);
	tcase_add_test(tc, test_metrics_flags);
	tcase_add_test(tc, test_dapr_run_defaults);
	tcase_add_test(tc, test_daprd_flags_refused);
	tcase_add_test(tc, test_mtls_flags);
	tcase_add_test(tc, test_blanked_flag);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(options_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
