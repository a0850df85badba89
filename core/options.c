/* SPDX-License-Identifier: Apache-2.0 */
/* outrigd's command line: daprd's flags and defaults, plus outrig's own. */
#include "config.h"

#include "options.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/duration.h"
#include "base/log.h"

enum opt_kind {
	OPT_STRING,
	OPT_INT,
	OPT_PORT,
	OPT_BOOL,
	OPT_PATHS,
	OPT_CONFIGS,
	OPT_LEVEL,
	OPT_SIZE,
	OPT_MEGABYTES,
	OPT_KILOBYTES,
	OPT_APP_PORT,	 /* a port, or 0 (daprd's and `dapr run`'s "no app") */
	OPT_LIMIT,	 /* a positive number, or -1 for none */
	OPT_DURATION,	 /* a Go duration ("5s", "1m30s"), into an int64_t of milliseconds */
	OPT_MODE,	 /* daprd's --mode: only standalone */
	OPT_NOTE,	 /* daprd's, with a value, for something outrig does not have: one info line */
	OPT_NOTE_BOOL,	 /* the same for a boolean flag */
	OPT_EMPTY_ONLY,	 /* accepted empty (daprd's default); any other value is refused with why */
	OPT_FALSE_ONLY,	 /* a boolean accepted false; true is refused with why */
	OPT_INIT_ENDPOINTS, /* --disable-init-endpoints */
	OPT_TRISTATE	    /* a boolean into an int that stays -1 when the flag is not given */
};

struct opt_spec {
	const char *name;
	enum opt_kind kind;
	size_t offset;
	const char *help;
	/*
	 * OPT_NOTE, OPT_NOTE_BOOL: what outrig lacks, for the info line ("outrig serves no metrics").
	 * OPT_EMPTY_ONLY, OPT_FALSE_ONLY: why the value is refused and what to do instead.
	 */
	const char *why;
};

#define OPT(field) offsetof(struct options, field)

static const struct opt_spec opt_specs[] = {
	{ "app-id", OPT_STRING, OPT(app_id), "the app's id: state key prefix, metadata id" },
	{ "app-port", OPT_APP_PORT, OPT(app_port), "the port the app listens on (none by default; 0 = none)" },
	{ "app-channel-address", OPT_STRING, OPT(app_channel_address),
	  "the host the app listens on (127.0.0.1)" },
	{ "app-protocol", OPT_STRING, OPT(app_protocol),
	  "how to reach the app: http, https, grpc (h2c, AppCallback) or grpcs (over TLS); as daprd, the app's "
	  "certificate is not verified (http)" },
	{ "app-ssl", OPT_BOOL, OPT(app_ssl),
	  "deprecated: call the app over TLS, as --app-protocol https (with http) or grpcs (with grpc) (false)" },
	{ "app-max-concurrency", OPT_LIMIT, OPT(app_max_concurrency),
	  "most requests in flight to the app; -1 = no limit (-1)" },
	{ "dapr-http-port", OPT_PORT, OPT(http_port), "HTTP API port (3500)" },
	{ "dapr-listen-addresses", OPT_STRING, OPT(listen_addresses),
	  "comma-separated addresses to bind the API to (127.0.0.1)" },
	{ "resources-path", OPT_PATHS, OPT(resources_paths), "folder of resource YAML; repeatable" },
	{ "components-path", OPT_PATHS, OPT(resources_paths), "alias of --resources-path" },
	{ "config", OPT_CONFIGS, OPT(config_paths),
	  "Configuration YAML file (nameResolution, ...); repeatable" },
	{ "dapr-grpc-port", OPT_PORT, OPT(grpc_port), "gRPC API port (50001; when not given and taken, outrigd serves no gRPC and says so)" },
	{ "dapr-internal-grpc-port", OPT_PORT, OPT(internal_port),
	  "sidecar-to-sidecar port (default: from the app id, 47300-49347, else any free one)" },
	{ "dapr-internal-grpc-listen-address", OPT_STRING, OPT(internal_listen_address),
	  "address the sidecar-to-sidecar port binds (127.0.0.1; 0.0.0.0 to be reached from other hosts)" },
	{ "enable-mtls", OPT_BOOL, OPT(enable_mtls),
	  "mTLS between sidecars on the internal port (false; also the Configuration's spec.mtls.enabled); needs the three files below" },
	{ "mtls-cert-file", OPT_STRING, OPT(mtls_cert_file),
	  "this sidecar's certificate (PEM, then its intermediates), SPIFFE id spiffe://<trust-domain>/ns/<namespace>/<app-id>; re-read when it changes (else $DAPR_CERT_CHAIN, read once)" },
	{ "mtls-key-file", OPT_STRING, OPT(mtls_key_file),
	  "its private key (PEM); re-read when it changes (else $DAPR_CERT_KEY)" },
	{ "trust-anchors-file", OPT_STRING, OPT(trust_anchors_file),
	  "the CA certificates (PEM) that sign the sidecars' certificates; re-read when it changes (else $DAPR_TRUST_ANCHORS)" },
	{ "control-plane-trust-domain", OPT_STRING, OPT(trust_domain),
	  "the sidecars' SPIFFE trust domain (public; also spec.mtls.controlPlaneTrustDomain)" },
	{ "enable-app-health-check", OPT_BOOL, OPT(app_health_check), "probe the app's health (false)" },
	{ "app-health-check-path", OPT_STRING, OPT(app_health_path), "the app's health path (/healthz)" },
	{ "app-health-probe-interval", OPT_INT, OPT(app_health_interval_s), "seconds between probes (5)" },
	{ "app-health-probe-timeout", OPT_INT, OPT(app_health_timeout_ms),
	  "milliseconds a probe may take (500)" },
	{ "app-health-threshold", OPT_INT, OPT(app_health_threshold), "failed probes before unhealthy (3)" },
	{ "plugin-dir", OPT_STRING, OPT(plugin_dir),
	  "extra plugin folders, colon-separated, searched before $OUTRIG_PLUGIN_PATH's and " OUTRIG_PLUGINDIR },
	{ "data-dir", OPT_STRING, OPT(data_dir),
	  "folder of the embedded state store (default $XDG_DATA_HOME/outrig)" },
	{ "log-level", OPT_LEVEL, OPT(log_level), "debug, info, warn, error or fatal (info)" },
	{ "log-as-json", OPT_BOOL, OPT(log_as_json), "write logs as JSON lines" },
	{ "max-body-size", OPT_SIZE, OPT(max_body_bytes), "largest request body, e.g. 4Mi (4Mi)" },
	{ "dapr-http-max-request-size", OPT_MEGABYTES, OPT(max_body_bytes),
	  "largest request body in MB (deprecated form of --max-body-size)" },
	{ "read-buffer-size", OPT_SIZE, OPT(read_buffer_bytes),
	  "largest headers of an answer from the app or another sidecar, e.g. 16Ki (4Ki)" },
	{ "dapr-http-read-buffer-size", OPT_KILOBYTES, OPT(read_buffer_bytes),
	  "the same in KB (deprecated form of --read-buffer-size)" },
	{ "outrig-read-header-timeout", OPT_INT, OPT(read_header_timeout_ms),
	  "outrig only: milliseconds a request's line and headers may take to arrive (10000, daprd's)" },
	{ "worker-threads", OPT_INT, OPT(worker_threads), "threads that run component I/O (4)" },
	{ "dapr-graceful-shutdown-seconds", OPT_INT, OPT(graceful_shutdown_seconds),
	  "seconds to finish work on shutdown (5)" },
	{ "dapr-block-shutdown-duration", OPT_DURATION, OPT(block_shutdown_ms),
	  "on SIGTERM, keep serving this long (or until the app is unhealthy) before the graceful stop, e.g. 10s (none)" },
	{ "app-binding-options-timeout", OPT_DURATION, OPT(binding_options_timeout_ms),
	  "how long the app may take to answer whether it wants an input binding (3s)" },
	{ "metrics-port", OPT_PORT, OPT(metrics_port),
	  "port of the Prometheus endpoint, GET /metrics (9090; when not given and taken, outrigd serves no metrics and says so)" },
	{ "metrics-listen-address", OPT_STRING, OPT(metrics_listen_address),
	  "address the metrics port binds (0.0.0.0, daprd's)" },
	{ "enable-metrics", OPT_BOOL, OPT(enable_metrics),
	  "record metrics and serve them on --metrics-port (true; also the Configuration's spec.metric.enabled)" },
	{ "enable-api-logging", OPT_TRISTATE, OPT(enable_api_logging),
	  "log one info line per HTTP and gRPC API call (false, or the Configuration's spec.logging.apiLogging.enabled)" },
	{ "mode", OPT_MODE, 0, "runtime mode: standalone, the only one outrig has (standalone)" },
	{ "build-info", OPT_BOOL, OPT(show_build_info), "print version and commit as daprd does, then exit" },
	{ "disable-init-endpoints", OPT_INIT_ENDPOINTS, 0,
	  "comma-separated: config (outrig never calls GET /dapr/config) and subscribe (do not ask the app's subscriptions)" },
	/* daprd's flags outrig cannot honour: refused unless given daprd's default. */
	{ "unix-domain-socket", OPT_EMPTY_ONLY, 0, "serve the APIs on Unix sockets; refused unless empty",
	  "outrig serves its APIs on TCP only; drop the flag and use --dapr-http-port and --dapr-grpc-port" },
	{ "allowed-origins", OPT_EMPTY_ONLY, 0, "CORS origins; refused unless empty (daprd's default: no CORS)",
	  "outrig sends no CORS headers yet; drop the flag (outrig answers as daprd does without it)" },
	{ "dapr-public-port", OPT_EMPTY_ONLY, 0, "a second port for health and metadata; refused unless empty",
	  "outrig has no public port yet; probe GET /v1.0/healthz on --dapr-http-port instead" },
	{ "dapr-public-listen-address", OPT_EMPTY_ONLY, 0, "the public port's address; refused unless empty",
	  "outrig has no public port yet; probe GET /v1.0/healthz on --dapr-http-port instead" },
	{ "wait", OPT_FALSE_ONLY, 0, "daprd's wait for an outbound-ready sidecar; refused when true",
	  "outrigd --wait is not supported; poll GET /v1.0/healthz/outbound on the sidecar's HTTP port instead" },
	/* daprd's flags for what outrig does not have: accepted with one info line each. */
	{ "enable-profiling", OPT_NOTE_BOOL, 0, NULL, "outrig has no profiling server" },
	{ "profile-port", OPT_NOTE, 0, NULL, "outrig has no profiling server" },
	{ "placement-host-address", OPT_NOTE, 0, NULL, "outrig has no actors, so no placement service" },
	{ "actors-service", OPT_NOTE, 0, NULL, "outrig has no actors (daprd ignores this deprecated flag too)" },
	{ "reminders-service", OPT_NOTE, 0, NULL, "outrig has no reminders (daprd ignores this deprecated flag too)" },
	{ "actors-disseminate-timeout", OPT_NOTE, 0, NULL, "outrig has no actors, so no placement service" },
	{ "scheduler-host-address", OPT_NOTE, 0, NULL, "outrig has no jobs or reminders, so no scheduler service" },
	{ "scheduler-job-streams", OPT_NOTE, 0, NULL, "outrig has no jobs or reminders, so no scheduler service" },
	{ "control-plane-address", OPT_NOTE, 0, NULL, "outrig has no control plane (operator, sentry)" },
	{ "control-plane-namespace", OPT_NOTE, 0, NULL, "outrig has no control plane (operator, sentry)" },
	{ "sentry-address", OPT_EMPTY_ONLY, 0, "daprd's certificate authority; refused unless empty",
	  "outrig has no Sentry: sidecar certificates come from files; drop the flag and give --mtls-cert-file, --mtls-key-file and --trust-anchors-file (outrig cert makes them)" },
	{ "sentry-request-jwt-audiences", OPT_NOTE, 0, NULL, "outrig has no control plane (operator, sentry)" },
	{ "disable-builtin-k8s-secret-store", OPT_NOTE_BOOL, 0, NULL,
	  "outrig has no built-in Kubernetes secret store to disable" },
	{ "hot-reload-reconcile-interval", OPT_NOTE, 0, NULL,
	  "outrig does not watch resources (it reloads them on SIGHUP)" },
	{ "check", OPT_BOOL, OPT(check_only),
	  "validate resources and plugins, then exit; creates no component (see --check-create)" },
	{ "check-create", OPT_BOOL, OPT(check_create),
	  "as --check, and also create then destroy each component (connects to its servers, opens its files)" },
	{ "describe-plugin", OPT_STRING, OPT(describe_plugin),
	  "print a plugin's file, versions, capabilities and metadata fields" },
	{ "version", OPT_BOOL, OPT(show_version), "print version, commit and plugin ABI" },
	{ "help", OPT_BOOL, OPT(show_help), "print this help" },
};

#define OPT_COUNT (sizeof(opt_specs) / sizeof(opt_specs[0]))

#ifndef OUTRIG_PLUGINDIR
#define OUTRIG_PLUGINDIR "/usr/lib/outrig/plugins"
#endif

static void options_defaults(struct options *opts)
{
	memset(opts, 0, sizeof(*opts));
	opts->app_id = "";
	opts->app_channel_address = "127.0.0.1";
	opts->app_protocol = "http";
	opts->app_max_concurrency = -1;
	/*
	 * daprd listens on every interface, where mTLS guards the port. outrig has no mTLS yet, so
	 * the sidecar-to-sidecar port stays on loopback unless asked: reaching another host (a pod,
	 * a network namespace) is a choice made with this flag.
	 */
	opts->internal_listen_address = "127.0.0.1";
	opts->app_health_path = "/healthz";
	opts->app_health_interval_s = 5;
	opts->app_health_timeout_ms = 500;
	opts->app_health_threshold = 3;
	opts->http_port = 3500;
	opts->listen_addresses = "127.0.0.1";
	opts->log_level = OUTRIG_LOG_INFO;
	opts->max_body_bytes = OPTIONS_DEFAULT_MAX_BODY;
	/* daprd's default: its client to the app allows 4 KiB of response headers. */
	opts->read_buffer_bytes = OPTIONS_DEFAULT_READ_BUFFER;
	opts->worker_threads = 4;
	opts->graceful_shutdown_seconds = 5;
	opts->read_header_timeout_ms = 10000;
	opts->metrics_listen_address = "0.0.0.0";
	opts->enable_metrics = true;
	opts->enable_api_logging = -1;
}

/* "4Mi", "512Ki", "1G", "1000": Kubernetes-style quantities, as daprd's --max-body-size. */
static bool options_parse_size(const char *text, int64_t *bytes)
{
	static const struct {
		const char *suffix;
		int64_t factor;
	} units[] = { { "Ki", 1LL << 10 }, { "Mi", 1LL << 20 }, { "Gi", 1LL << 30 }, { "K", 1000 },
		      { "k", 1000 },	   { "M", 1000000 },	{ "G", 1000000000 }, { "", 1 } };
	char *end;
	long long n;

	errno = 0;
	n = strtoll(text, &end, 10);
	if (end == text || n < 0 || errno != 0)
		return false;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(end, units[i].suffix) == 0) {
			if (n > INT64_MAX / units[i].factor)
				return false;
			*bytes = n * units[i].factor;
			return true;
		}
	}
	return false;
}

static bool options_parse_int(const char *text, int *out)
{
	char *end;
	long n;

	errno = 0;
	n = strtol(text, &end, 10);
	if (end == text || *end != '\0' || errno != 0 || n < 0 || n > 1000000)
		return false;
	*out = (int)n;
	return true;
}

/* Go's strconv.ParseBool, which daprd's flags use: 1 t T TRUE true True, 0 f F FALSE false False. */
static bool options_parse_bool(const char *text, bool *out)
{
	static const char *const yes[] = { "1", "t", "T", "TRUE", "true", "True" };
	static const char *const no[] = { "0", "f", "F", "FALSE", "false", "False" };

	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcmp(text, yes[i]) == 0) {
			*out = true;
			return true;
		}
		if (strcmp(text, no[i]) == 0) {
			*out = false;
			return true;
		}
	}
	return false;
}

/* Keeps "--name value: why; the flag has no effect" for options_log_notes. */
static int options_add_note(struct options *opts, const struct opt_spec *spec, const char *value)
{
	char **grown = realloc(opts->notes, (opts->notes_count + 1) * sizeof(*grown));
	char *note;
	int n;

	if (grown == NULL)
		return -1;
	opts->notes = grown;
	n = snprintf(NULL, 0, "--%s %s: %s; the flag has no effect", spec->name, value, spec->why);
	note = n >= 0 ? malloc((size_t)n + 1) : NULL;
	if (note == NULL)
		return -1;
	snprintf(note, (size_t)n + 1, "--%s %s: %s; the flag has no effect", spec->name, value, spec->why);
	opts->notes[opts->notes_count++] = note;
	return 0;
}

/* --disable-init-endpoints config,subscribe: daprd's list of calls it does not make to the app at start. */
static bool options_init_endpoints(struct options *opts, const char *list)
{
	const char *p = list;

	while (*p != '\0') {
		size_t len = strcspn(p, ",");

		if (len == 9 && strncmp(p, "subscribe", 9) == 0)
			opts->no_subscribe_endpoint = true;
		else if (!(len == 6 && strncmp(p, "config", 6) == 0) && len != 0)
			return false;
		p += len + (p[len] == ',');
	}
	return true;
}

/* Splits a comma-separated list of paths and appends each to *paths. */
static int options_add_paths(const char ***paths, size_t *count, char *list)
{
	for (char *save = NULL, *p = strtok_r(list, ",", &save); p != NULL; p = strtok_r(NULL, ",", &save)) {
		const char **grown = realloc(*paths, (*count + 1) * sizeof(*grown));

		if (grown == NULL)
			return -1;
		*paths = grown;
		(*paths)[(*count)++] = p;
	}
	return 0;
}

static int options_apply(struct options *opts, const struct opt_spec *spec, char *value, char *err,
			 size_t errlen)
{
	char *field = (char *)opts + spec->offset;
	int64_t mb, kb;
	bool b;

	switch (spec->kind) {
	case OPT_STRING: *(const char **)field = value; return 0;
	case OPT_APP_PORT:
		/* `dapr run` passes --app-port 0 when the app listens on no port. */
		if (options_parse_int(value, (int *)field) && *(int *)field <= 65535)
			return 0;
		break;
	case OPT_LIMIT:
		if (strcmp(value, "-1") == 0) {
			*(int *)field = -1;
			return 0;
		}
		if (options_parse_int(value, (int *)field))
			return 0;
		break;
	case OPT_DURATION:
		/* daprd: a duration that is not positive means the default (none, or its own). */
		if (duration_parse_ms(value, (int64_t *)field)) {
			if (*(int64_t *)field < 0)
				*(int64_t *)field = 0;
			return 0;
		}
		break;
	case OPT_MODE:
		if (strcmp(value, "standalone") == 0)
			return 0;
		snprintf(
			err, errlen,
			"--mode: \"%s\" is not supported; outrig runs standalone only (components come from --resources-path folders, in Kubernetes mounted from a ConfigMap)",
			value);
		return -1;
	case OPT_NOTE: return options_add_note(opts, spec, value);
	case OPT_NOTE_BOOL:
		if (options_parse_bool(value, &b))
			return options_add_note(opts, spec, value);
		break;
	case OPT_EMPTY_ONLY:
		if (*value == '\0')
			return 0;
		snprintf(err, errlen, "--%s %s: %s", spec->name, value, spec->why);
		return -1;
	case OPT_FALSE_ONLY:
		if (!options_parse_bool(value, &b))
			break;
		if (!b)
			return 0;
		snprintf(err, errlen, "--%s: %s", spec->name, spec->why);
		return -1;
	case OPT_INIT_ENDPOINTS:
		if (options_init_endpoints(opts, value))
			return 0;
		snprintf(err, errlen, "--disable-init-endpoints: \"%s\" is not a list of config and subscribe",
			 value);
		return -1;
	case OPT_INT:
		if (options_parse_int(value, (int *)field))
			return 0;
		break;
	case OPT_PORT:
		if (options_parse_int(value, (int *)field) && *(int *)field >= 1 && *(int *)field <= 65535)
			return 0;
		break;
	case OPT_BOOL:
		if (options_parse_bool(value, (bool *)field))
			return 0;
		break;
	case OPT_TRISTATE:
		if (options_parse_bool(value, &b)) {
			*(int *)field = b;
			return 0;
		}
		break;
	case OPT_PATHS: return options_add_paths(&opts->resources_paths, &opts->resources_count, value);
	case OPT_CONFIGS: return options_add_paths(&opts->config_paths, &opts->config_count, value);
	case OPT_LEVEL:
		if (log_level_parse(value, (enum outrig_log_level *)field))
			return 0;
		break;
	case OPT_SIZE:
		/* daprd, and `dapr run` when given nothing, take -1 for "the default". */
		if (strcmp(value, "-1") == 0) {
			*(int64_t *)field = spec->offset == OPT(max_body_bytes) ? OPTIONS_DEFAULT_MAX_BODY
									 : OPTIONS_DEFAULT_READ_BUFFER;
			return 0;
		}
		if (options_parse_size(value, (int64_t *)field) && *(int64_t *)field > 0)
			return 0;
		break;
	case OPT_MEGABYTES:
		if (strcmp(value, "-1") == 0) {
			*(int64_t *)field = OPTIONS_DEFAULT_MAX_BODY;
			return 0;
		}
		if (options_parse_size(value, &mb) && mb > 0 && mb <= (INT64_MAX >> 20)) {
			*(int64_t *)field = mb << 20;
			return 0;
		}
		break;
	case OPT_KILOBYTES:
		/* Dapr's CLI passes -1 for "daprd's default". */
		if (strcmp(value, "-1") == 0) {
			*(int64_t *)field = OPTIONS_DEFAULT_READ_BUFFER;
			return 0;
		}
		if (options_parse_size(value, &kb) && kb > 0 && kb <= (INT64_MAX >> 10)) {
			*(int64_t *)field = kb << 10;
			return 0;
		}
		break;
	}
	snprintf(err, errlen, "--%s: invalid value \"%s\"; see outrigd --help", spec->name, value);
	return -1;
}

static const struct opt_spec *options_find(const char *name, size_t len)
{
	for (size_t i = 0; i < OPT_COUNT; i++)
		if (strlen(opt_specs[i].name) == len && strncmp(opt_specs[i].name, name, len) == 0)
			return &opt_specs[i];
	return NULL;
}

/* daprd's warning for --app-ssl, kept as a note (logged once logging is set up). */
static int options_app_ssl_note(struct options *opts, const char *from, const char *to)
{
	char **grown = realloc(opts->notes, (opts->notes_count + 1) * sizeof(*grown));
	char *note;

	if (grown == NULL)
		return -1;
	opts->notes = grown;
	if (asprintf(&note, "--app-ssl is deprecated; use --app-protocol %s instead (the app is called with %s, not %s)",
		     to, to, from) < 0)
		return -1;
	opts->notes[opts->notes_count++] = note;
	return 0;
}

/* Checks what one flag alone cannot: values outrig does not support yet, and ranges. */
static int options_check(struct options *opts, char *err, size_t errlen)
{
	static const char *const protocols[] = { "http", "https", "grpc", "grpcs" };
	size_t p = 0;

	while (p < 4 && strcmp(opts->app_protocol, protocols[p]) != 0)
		p++;
	if (p == 4) {
		snprintf(
			err, errlen,
			"--app-protocol: \"%s\" is not supported by outrig; use http, https, grpc or grpcs (h2c comes later)",
			opts->app_protocol);
		return -1;
	}
	/* daprd: --app-ssl turns http into https and grpc into grpcs, with a deprecation warning. */
	if (opts->app_ssl && (p == 0 || p == 2) &&
	    options_app_ssl_note(opts, protocols[p], protocols[p + 1]) != 0) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (opts->app_ssl && (p == 0 || p == 2))
		opts->app_protocol = protocols[p + 1];
	if (opts->app_health_interval_s <= 0 || opts->app_health_timeout_ms <= 0 ||
	    opts->app_health_threshold <= 0) {
		snprintf(
			err, errlen,
			"--app-health-probe-interval, --app-health-probe-timeout and --app-health-threshold must be positive");
		return -1;
	}
	if (opts->app_max_concurrency == 0 || opts->app_max_concurrency < -1) {
		snprintf(err, errlen,
			 "--app-max-concurrency: %d is not a limit; give a positive number, or -1 for none",
			 opts->app_max_concurrency);
		return -1;
	}
	return 0;
}

/*
 * An empty argument, and the value after it unless that is a flag: the Dapr CLI blanks
 * "--scheduler-host-address" (and leaves its value) when `daprd --version` does not read as
 * 1.14 or later, which outrigd's does not. daprd takes both as arguments it ignores; so does
 * outrigd, with an info line. Advances *i past the value. Returns 0, or -1 when out of memory.
 */
static int options_blanked_flag(struct options *opts, int argc, char **argv, int *i)
{
	const char *value = *i + 1 < argc && argv[*i + 1][0] != '-' ? argv[*i + 1] : "";
#define OPTIONS_BLANK_NOTE                                                                               \
	"an empty argument%s%s%s: ignored, as daprd ignores arguments that are not flags (the Dapr CLI leaves one in place of "   \
	"--scheduler-host-address for a runtime it does not take for Dapr 1.14 or later); outrig has no " \
	"scheduler"
	char **grown = realloc(opts->notes, (opts->notes_count + 1) * sizeof(*grown));
	const char *open = *value != '\0' ? " and \"" : "", *close = *value != '\0' ? "\"" : "";
	char *note;
	int n;

	if (grown == NULL)
		return -1;
	opts->notes = grown;
	n = snprintf(NULL, 0, OPTIONS_BLANK_NOTE, open, value, close);
	note = n >= 0 ? malloc((size_t)n + 1) : NULL;
	if (note == NULL)
		return -1;
	snprintf(note, (size_t)n + 1, OPTIONS_BLANK_NOTE, open, value, close);
	opts->notes[opts->notes_count++] = note;
	if (*value != '\0')
		(*i)++;
	return 0;
}

int options_parse(int argc, char **argv, struct options *opts, char *err, size_t errlen)
{
	options_defaults(opts);
	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i];
		const char *name;
		char *eq;
		size_t len;
		const struct opt_spec *spec;
		char *value;

		if (arg[0] == '\0') {
			if (options_blanked_flag(opts, argc, argv, &i) != 0) {
				snprintf(err, errlen, "out of memory");
				return -1;
			}
			continue;
		}
		/* pflag accepts both -flag and --flag. */
		name = arg + (strncmp(arg, "--", 2) == 0 ? 2 : 1);
		eq = strchr(name, '=');
		len = eq != NULL ? (size_t)(eq - name) : strlen(name);
		if (arg[0] != '-' || (spec = options_find(name, len)) == NULL) {
			snprintf(err, errlen, "unknown flag or argument \"%s\"; see outrigd --help", arg);
			return -1;
		}
		if (eq != NULL) {
			value = eq + 1;
		} else if (spec->kind == OPT_BOOL || spec->kind == OPT_NOTE_BOOL || spec->kind == OPT_FALSE_ONLY ||
			   spec->kind == OPT_TRISTATE) {
			value = "true";
		} else if (i + 1 < argc) {
			value = argv[++i];
		} else {
			snprintf(err, errlen, "--%s needs a value; see outrigd --help", spec->name);
			return -1;
		}
		if (options_apply(opts, spec, value, err, errlen) != 0)
			return -1;
	}
	return options_check(opts, err, errlen);
}

void options_log_notes(const struct options *opts)
{
	for (size_t i = 0; i < opts->notes_count; i++)
		log_info("runtime", "%s", opts->notes[i]);
}

void options_free(struct options *opts)
{
	for (size_t i = 0; i < opts->notes_count; i++)
		free(opts->notes[i]);
	free(opts->notes);
	opts->notes = NULL;
	opts->notes_count = 0;
	free(opts->resources_paths);
	opts->resources_paths = NULL;
	free(opts->config_paths);
	opts->config_paths = NULL;
	opts->config_count = 0;
	opts->resources_count = 0;
}

void options_usage(void)
{
	printf("Usage: outrigd [flags]\n\nA Dapr-compatible sidecar: serves Dapr's HTTP API for the "
	       "components\ndeclared in --resources-path folders.\n\nFlags:\n");
	for (size_t i = 0; i < OPT_COUNT; i++)
		if (opt_specs[i].kind != OPT_NOTE && opt_specs[i].kind != OPT_NOTE_BOOL)
			printf("  --%-32s %s\n", opt_specs[i].name, opt_specs[i].help);
	printf("\ndaprd's flags for what outrig does not have: accepted, as `dapr run` passes them, with\n"
	       "one info line each saying the flag has no effect:\n");
	for (size_t i = 0; i < OPT_COUNT; i++)
		if (opt_specs[i].kind == OPT_NOTE || opt_specs[i].kind == OPT_NOTE_BOOL)
			printf("  --%-32s %s\n", opt_specs[i].name, opt_specs[i].why);
	printf("\nEach flag may be given as --flag value, --flag=value, -flag value or -flag=value;\n"
	       "a boolean flag alone means true.\n");
}
