/* SPDX-License-Identifier: Apache-2.0 */
/* outrigd's command line: daprd's flags and defaults, plus outrig's own. */
#include "config.h"

#include "options.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
	OPT_KILOBYTES
};

struct opt_spec {
	const char *name;
	enum opt_kind kind;
	size_t offset;
	const char *help;
};

#define OPT(field) offsetof(struct options, field)

static const struct opt_spec opt_specs[] = {
	{ "app-id", OPT_STRING, OPT(app_id), "the app's id: state key prefix, metadata id" },
	{ "app-port", OPT_PORT, OPT(app_port), "the port the app listens on (none by default)" },
	{ "app-channel-address", OPT_STRING, OPT(app_channel_address),
	  "the host the app listens on (127.0.0.1)" },
	{ "app-protocol", OPT_STRING, OPT(app_protocol),
	  "how to reach the app: http, or grpc (h2c, AppCallback) (http)" },
	{ "app-max-concurrency", OPT_INT, OPT(app_max_concurrency),
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
	opts->max_body_bytes = 4 << 20;
	/* daprd's default: its client to the app allows 4 KiB of response headers. */
	opts->read_buffer_bytes = OPTIONS_DEFAULT_READ_BUFFER;
	opts->worker_threads = 4;
	opts->graceful_shutdown_seconds = 5;
	opts->read_header_timeout_ms = 10000;
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

static bool options_parse_bool(const char *text, bool *out)
{
	if (strcmp(text, "true") == 0 || strcmp(text, "1") == 0) {
		*out = true;
		return true;
	}
	if (strcmp(text, "false") == 0 || strcmp(text, "0") == 0) {
		*out = false;
		return true;
	}
	return false;
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

	switch (spec->kind) {
	case OPT_STRING: *(const char **)field = value; return 0;
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
	case OPT_PATHS: return options_add_paths(&opts->resources_paths, &opts->resources_count, value);
	case OPT_CONFIGS: return options_add_paths(&opts->config_paths, &opts->config_count, value);
	case OPT_LEVEL:
		if (log_level_parse(value, (enum outrig_log_level *)field))
			return 0;
		break;
	case OPT_SIZE:
		if (options_parse_size(value, (int64_t *)field) && *(int64_t *)field > 0)
			return 0;
		break;
	case OPT_MEGABYTES:
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

/* Checks what one flag alone cannot: values outrig does not support yet, and ranges. */
static int options_check(const struct options *opts, char *err, size_t errlen)
{
	if (strcmp(opts->app_protocol, "http") != 0 && strcmp(opts->app_protocol, "grpc") != 0) {
		snprintf(
			err, errlen,
			"--app-protocol: \"%s\" is not supported by outrig yet; use http or grpc (https, grpcs and h2c come later)",
			opts->app_protocol);
		return -1;
	}
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

int options_parse(int argc, char **argv, struct options *opts, char *err, size_t errlen)
{
	options_defaults(opts);
	for (int i = 1; i < argc; i++) {
		/* pflag accepts both -flag and --flag. */
		const char *arg = argv[i];
		const char *name = arg + (strncmp(arg, "--", 2) == 0 ? 2 : 1);
		char *eq = strchr(name, '=');
		size_t len = eq != NULL ? (size_t)(eq - name) : strlen(name);
		const struct opt_spec *spec;
		char *value;

		if (arg[0] != '-' || (spec = options_find(name, len)) == NULL) {
			snprintf(err, errlen, "unknown flag or argument \"%s\"; see outrigd --help", arg);
			return -1;
		}
		if (eq != NULL) {
			value = eq + 1;
		} else if (spec->kind == OPT_BOOL) {
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

void options_free(struct options *opts)
{
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
		printf("  --%-32s %s\n", opt_specs[i].name, opt_specs[i].help);
}
