/* SPDX-License-Identifier: Apache-2.0 */
/* outrigd's command line: daprd's flags and defaults, plus outrig's own. */
#ifndef OUTRIG_CORE_OPTIONS_H
#define OUTRIG_CORE_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <outrig/log.h>

/* daprd's --max-body-size default, 4Mi. */
#define OPTIONS_DEFAULT_MAX_BODY (4 << 20)

/* daprd's --metrics-port default. */
#define OPTIONS_DEFAULT_METRICS_PORT 9090

/* daprd's --read-buffer-size default, 4Ki. */
#define OPTIONS_DEFAULT_READ_BUFFER (4 << 10)

struct options {
	const char *app_id;		 /* --app-id, "" by default */
	int app_port;			 /* --app-port, 0 = none */
	const char *app_channel_address; /* --app-channel-address, "127.0.0.1" */
	const char *app_protocol;	 /* --app-protocol, "http", "https", "grpc" or "grpcs" (--app-ssl applied) */
	bool app_ssl;			 /* --app-ssl, daprd's deprecated form of https and grpcs */
	int app_max_concurrency;	 /* --app-max-concurrency, -1 = unlimited */
	int http_port;			 /* --dapr-http-port, 3500 */
	const char *listen_addresses;	 /* --dapr-listen-addresses CSV, "127.0.0.1" */
	const char **resources_paths;	 /* --resources-path / --components-path, repeatable or CSV */
	size_t resources_count;
	const char **config_paths; /* --config Configuration files, repeatable or CSV */
	size_t config_count;
	int grpc_port;			     /* --dapr-grpc-port; 0 = not given (50001, best effort) */
	int internal_port;		     /* --dapr-internal-grpc-port, 0 = derive from the app id */
	const char *internal_listen_address; /* --dapr-internal-grpc-listen-address, "127.0.0.1" */
	bool enable_mtls;		     /* --enable-mtls */
	const char *mtls_cert_file;	     /* --mtls-cert-file, NULL = $DAPR_CERT_CHAIN */
	const char *mtls_key_file;	     /* --mtls-key-file, NULL = $DAPR_CERT_KEY */
	const char *trust_anchors_file;	     /* --trust-anchors-file, NULL = $DAPR_TRUST_ANCHORS */
	const char *trust_domain;	     /* --control-plane-trust-domain, NULL = not given */
	bool app_health_check;		     /* --enable-app-health-check */
	const char *app_health_path;	     /* --app-health-check-path, "/healthz" */
	int app_health_interval_s;	     /* --app-health-probe-interval, 5 */
	int app_health_timeout_ms;	     /* --app-health-probe-timeout, 500 */
	int app_health_threshold;	     /* --app-health-threshold, 3 */
	const char *plugin_dir;		     /* --plugin-dir: colon list searched before the others; NULL = none */
	const char *data_dir; /* --data-dir for the embedded store; NULL = $XDG_DATA_HOME/outrig */
	enum outrig_log_level log_level;
	bool log_as_json;
	int64_t max_body_bytes;	       /* --max-body-size 4Mi / --dapr-http-max-request-size 4 (MB) */
	int64_t read_buffer_bytes;     /* --read-buffer-size 4Ki / --dapr-http-read-buffer-size 4 (KB) */
	int worker_threads;	       /* --worker-threads, 4 */
	int graceful_shutdown_seconds; /* --dapr-graceful-shutdown-seconds, 5 */
	int64_t block_shutdown_ms;     /* --dapr-block-shutdown-duration, 0 = none */
	int64_t binding_options_timeout_ms; /* --app-binding-options-timeout, 0 = daprd's 3 s */
	bool no_subscribe_endpoint;	    /* --disable-init-endpoints subscribe */
	bool show_build_info;		    /* --build-info */
	char **notes;			    /* info lines for daprd's flags that have no effect here */
	size_t notes_count;
	int read_header_timeout_ms;    /* --outrig-read-header-timeout, 10000 (daprd's ReadHeaderTimeout) */
	int metrics_port;	       /* --metrics-port; 0 = not given (9090, best effort) */
	const char *metrics_listen_address; /* --metrics-listen-address, "0.0.0.0" */
	bool enable_metrics;		    /* --enable-metrics, true */
	int enable_api_logging;		    /* --enable-api-logging: -1 not given (the Configuration decides), 0, 1 */
	bool check_only;	       /* --check */
	bool check_create;	       /* --check-create: --check, and create and destroy each component */
	const char *describe_plugin;   /* --describe-plugin TYPE */
	bool show_version;	       /* --version */
	bool show_help;		       /* --help */
};

/*
 * Parses argv into opts (daprd's `--flag value`, `--flag=value`, `-flag value` and `-flag=value`
 * forms; an empty argument, with the value after it, is noted and ignored as daprd ignores it).
 * daprd's flags for what outrig lacks are noted in opts->notes (options_log_notes). On a bad
 * flag writes a message naming it into err and returns -1; opts then holds defaults
 * for what was not reached. Strings point into argv or static storage, except
 * resources_paths, config_paths and notes, which options_free releases.
 */
int options_parse(int argc, char **argv, struct options *opts, char *err, size_t errlen);

void options_free(struct options *opts);

/* Logs, at info level, one line per flag of daprd's that was accepted and has no effect here. */
void options_log_notes(const struct options *opts);

/* The --help text. */
void options_usage(void);

#endif /* OUTRIG_CORE_OPTIONS_H */
