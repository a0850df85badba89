/* SPDX-License-Identifier: Apache-2.0 */
/* `outrig run`: starts outrigd, waits until it is ready, runs the app beside it, stops both. */
/* asprintf(), strndup() */
#define _GNU_SOURCE
#include "run.h"

#include "http_probe.h"
#include "init.h"
#include "registry.h"
#include "runfile.h"
#include "supervise.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define RUN_READY_TIMEOUT_MS 30000
#define RUN_PROBE_INTERVAL_MS 50
#define RUN_PROBE_TIMEOUT_MS 1000
#define RUN_STOP_GRACE_MS 5000
/* After the app exits, a grandchild may keep its pipes open; do not wait on it for long. */
#define RUN_DRAIN_IDLE_MS 500

#define RUN_HEALTH_PATH "/v1.0/healthz/outbound"
/* Most env entries a run file may give one app. */
#define RUN_APP_ENV_MAX 256

static const struct run_ctx *run_cur;
static char run_app_prefix[300] = "== APP == ";
static char run_sidecar_prefix[300] = "== OUTRIG == ";
static struct sup_sink run_app_log, run_sidecar_log;

struct run_fwd {
	const char *name; /* outrigd's flag, without the dashes */
	const char *value;
	bool boolean; /* passed as --name=value; others as two words */
};

struct run_opts {
	const char *app_id;
	const char *app_port;
	const char *http_port;
	const char *grpc_port;
	const char *metrics_port; /* -M; NULL: a free port, as dapr run picks one */
	const char *log_level;
	const char *listen_addresses;
	const char *app_channel_address;
	const char *app_protocol; /* --app-protocol, or NULL: outrigd's default (http) */
	const char *run_file;	  /* -f: a multi-app run file or its folder */
	const char **resources;	  /* --resources-path and --components-path, in the order given */
	size_t n_resources, cap_resources;
	const char **configs; /* --config, in the order given */
	size_t n_configs;
	struct run_fwd *fwd; /* flags passed on to outrigd as they are */
	size_t n_fwd;
	const char
		*other; /* the first flag given other than -f, --help and --log-as-json, for -f's refusal */
	char **command; /* the app's argv (the words that are not flags, and all after --), NULL-terminated */
	size_t n_command;
	char *app_id_buf; /* an id made up when none was given */
	char **split;	  /* --resources-path a,b split at commas, to free */
	size_t n_split;
};

enum run_flag_id {
	RUN_F_APP_ID,
	RUN_F_APP_PORT,
	RUN_F_HTTP_PORT,
	RUN_F_GRPC_PORT,
	RUN_F_METRICS_PORT,
	RUN_F_CONFIG,
	RUN_F_RESOURCES,
	RUN_F_LOG_LEVEL,
	RUN_F_LISTEN,
	RUN_F_CHANNEL,
	RUN_F_APP_PROTOCOL,
	RUN_F_RUN_FILE,
	RUN_F_HELP,
	RUN_F_FWD,	  /* passed on to outrigd under the same name */
	RUN_F_PORT_FWD,	  /* a port, passed on */
	RUN_F_NO_EFFECT,  /* accepted; one info line says outrig has nothing it configures */
	RUN_F_REFUSE,	  /* refused with the reason */
	RUN_F_FALSE_ONLY, /* a boolean outrig cannot honour when true */
};

/*
 * The flags of `dapr run` (dapr/cli cmd/run.go), with its short forms, and outrig's own.
 * why: for RUN_F_NO_EFFECT and RUN_F_REFUSE, what outrig lacks.
 */
static const struct run_flag {
	const char *name;
	char short_name;
	bool takes_value;
	enum run_flag_id id;
	const char *why;
} run_flags[] = {
	{ "app-id", 'a', true, RUN_F_APP_ID, NULL },
	{ "app-port", 'p', true, RUN_F_APP_PORT, NULL },
	{ "dapr-http-port", 'H', true, RUN_F_HTTP_PORT, NULL },
	{ "dapr-grpc-port", 'G', true, RUN_F_GRPC_PORT, NULL },
	{ "dapr-internal-grpc-port", 'I', true, RUN_F_PORT_FWD, NULL },
	{ "config", 'c', true, RUN_F_CONFIG, NULL },
	{ "resources-path", 0, true, RUN_F_RESOURCES, NULL },
	{ "components-path", 'd', true, RUN_F_RESOURCES, NULL },
	{ "log-level", 0, true, RUN_F_LOG_LEVEL, NULL },
	{ "dapr-listen-addresses", 0, true, RUN_F_LISTEN, NULL },
	{ "app-channel-address", 0, true, RUN_F_CHANNEL, NULL },
	{ "app-protocol", 'P', true, RUN_F_APP_PROTOCOL, NULL },
	{ "run-file", 'f', true, RUN_F_RUN_FILE, NULL },
	{ "help", 'h', false, RUN_F_HELP, NULL },
	{ "app-max-concurrency", 0, true, RUN_F_FWD, NULL },
	{ "max-body-size", 0, true, RUN_F_FWD, NULL },
	{ "read-buffer-size", 0, true, RUN_F_FWD, NULL },
	{ "dapr-http-max-request-size", 0, true, RUN_F_FWD, NULL },
	{ "dapr-http-read-buffer-size", 0, true, RUN_F_FWD, NULL },
	{ "enable-app-health-check", 0, false, RUN_F_FWD, NULL },
	{ "app-health-check-path", 0, true, RUN_F_FWD, NULL },
	{ "app-health-probe-interval", 0, true, RUN_F_FWD, NULL },
	{ "app-health-probe-timeout", 0, true, RUN_F_FWD, NULL },
	{ "app-health-threshold", 0, true, RUN_F_FWD, NULL },
	{ "log-as-json", 0, false, RUN_F_FWD, NULL },
	{ "plugin-dir", 0, true, RUN_F_FWD, NULL },
	{ "data-dir", 0, true, RUN_F_FWD, NULL },
	{ "enable-api-logging", 0, false, RUN_F_FWD, NULL },
	{ "metrics-port", 'M', true, RUN_F_METRICS_PORT, NULL },
	{ "enable-profiling", 0, false, RUN_F_NO_EFFECT, "outrigd has no profiling endpoint" },
	{ "profile-port", 0, true, RUN_F_NO_EFFECT, "outrigd has no profiling endpoint" },
	{ "placement-host-address", 0, true, RUN_F_NO_EFFECT,
	  "outrig has no actors, so no placement service" },
	{ "scheduler-host-address", 0, true, RUN_F_NO_EFFECT,
	  "outrig has no jobs or workflows, so no scheduler" },
	{ "runtime-path", 0, true, RUN_F_NO_EFFECT,
	  "outrigd is found next to outrig, else by $OUTRIGD, else on PATH" },
	{ "unix-domain-socket", 'u', true, RUN_F_REFUSE,
	  "outrigd serves its API on TCP ports only; leave the flag out" },
	{ "kubernetes", 'k', false, RUN_F_REFUSE,
	  "outrig run runs apps on this machine only; see pkg/kubernetes for Kubernetes manifests" },
	{ "app-ssl", 0, false, RUN_F_FWD, NULL },
};

static const char *const run_log_levels[] = { "debug", "info", "warn", "error", "fatal" };

void run_usage(FILE *f)
{
	fputs("Usage: outrig run [flags] [--] [COMMAND [ARGS...]]\n"
	      "       outrig run -f FILE|DIR\n"
	      "\n"
	      "Starts the outrigd sidecar, waits until it answers GET " RUN_HEALTH_PATH ",\n"
	      "then runs COMMAND with DAPR_HTTP_PORT, DAPR_GRPC_PORT, APP_ID, APP_PORT (with\n"
	      "--app-port), APP_CHANNEL_ADDRESS and APP_PROTOCOL set, as Dapr SDKs expect.\n"
	      "DAPR_API_TOKEN and APP_API_TOKEN, when set here, reach both the sidecar and the app.\n"
	      "Output is prefixed '== OUTRIG == ' (sidecar) and '== APP == '. When the app exits\n"
	      "the sidecar is stopped and outrig exits with the app's status; Ctrl-C or SIGTERM\n"
	      "(what 'outrig stop --app-id ID' sends) stops the app, then the sidecar. With no\n"
	      "COMMAND the sidecar runs alone until Ctrl-C. While it runs, 'outrig list' shows it.\n"
	      "\n"
	      "As with 'dapr run', flags are read anywhere before a '--' and the other words, in\n"
	      "order, make the app's command, so 'outrig run --app-id a python3 app.py\n"
	      "--resources-path ./components' runs 'python3 app.py'. Flags of the app itself go\n"
	      "after '--' (a short one such as sh's -c would be read as outrig's otherwise).\n"
	      "\n"
	      "Flags:\n"
	      "  -a, --app-id ID               the app's identity (default: made up from COMMAND)\n"
	      "  -p, --app-port PORT           port the app listens on, if it serves requests\n"
	      "  -H, --dapr-http-port PORT     sidecar HTTP API port (default: a free port)\n"
	      "  -G, --dapr-grpc-port PORT     sidecar gRPC API port (default: a free port)\n"
	      "  -I, --dapr-internal-grpc-port PORT\n"
	      "                                sidecar-to-sidecar port (default: outrigd's choice)\n"
	      "  -c, --config FILE             Configuration YAML (repeatable; default\n"
	      "                                ~/.outrig/config.yaml when 'outrig init' wrote it)\n"
	      "      --resources-path DIR      folder of component YAML (repeatable, or a,b; default\n"
	      "                                ~/.outrig/components when 'outrig init' wrote it,\n"
	      "                                else outrigd's embedded SQLite state and pub/sub)\n"
	      "  -d, --components-path DIR     old name of --resources-path\n"
	      "      --log-level LEVEL         debug, info, warn, error or fatal (default info)\n"
	      "      --log-as-json             sidecar logs as JSON lines\n"
	      "  -P, --app-protocol P          how the sidecar calls the app: http, https, grpc or grpcs\n"
	      "                                (default http; --app-ssl: deprecated form of https, grpcs)\n"
	      "      --app-channel-address A   the address the app listens on (default 127.0.0.1)\n"
	      "      --app-max-concurrency N   most calls in flight to the app (default -1: no limit)\n"
	      "      --dapr-listen-addresses A addresses the sidecar API binds (CSV)\n"
	      "      --max-body-size SIZE      largest request body (default 4Mi);\n"
	      "                                --dapr-http-max-request-size MB is its old form\n"
	      "      --read-buffer-size SIZE   largest request head (default 4Ki);\n"
	      "                                --dapr-http-read-buffer-size KB is its old form\n"
	      "      --enable-app-health-check, --app-health-check-path PATH,\n"
	      "      --app-health-probe-interval S, --app-health-probe-timeout MS,\n"
	      "      --app-health-threshold N  the app health checks, as outrigd takes them\n"
	      "      --plugin-dir DIR          where outrigd looks for plugins\n"
	      "      --data-dir DIR            outrigd's data folder\n"
	      "  -f, --run-file FILE|DIR       run the apps of a Dapr multi-app run file (dapr.yaml\n"
	      "                                in DIR); only --log-as-json goes with it\n"
	      "  -h, --help                    this help\n"
	      "\n"
	      "  -M, --metrics-port PORT       the sidecar's Prometheus port (default: a free port)\n"
	      "      --enable-api-logging      the sidecar logs one line per API call\n"
	      "\n"
	      "Accepted, with one line saying they have no effect in outrig: --enable-profiling,\n"
	      "--profile-port, --placement-host-address, --scheduler-host-address,\n"
	      "--runtime-path. Refused: --unix-domain-socket (-u),\n"
	      "--kubernetes (-k).\n"
	      "\n"
	      "outrigd is taken from the folder of this program, else $OUTRIGD, else PATH.\n",
	      f);
}

static const struct run_flag *run_flag_long(const char *name, size_t len)
{
	for (size_t i = 0; i < sizeof(run_flags) / sizeof(run_flags[0]); i++)
		if (strlen(run_flags[i].name) == len && strncmp(run_flags[i].name, name, len) == 0)
			return &run_flags[i];
	return NULL;
}

static const struct run_flag *run_flag_short(char c)
{
	for (size_t i = 0; i < sizeof(run_flags) / sizeof(run_flags[0]); i++)
		if (run_flags[i].short_name != 0 && run_flags[i].short_name == c)
			return &run_flags[i];
	return NULL;
}

static bool run_port_ok(const char *text)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(text, &end, 10);
	return end != text && *end == '\0' && errno == 0 && v >= 1 && v <= 65535;
}

static bool run_level_ok(const char *text)
{
	for (size_t i = 0; i < sizeof(run_log_levels) / sizeof(run_log_levels[0]); i++)
		if (strcmp(text, run_log_levels[i]) == 0)
			return true;
	return false;
}

/* Go's strconv.ParseBool, which pflag uses for "--flag=value": 1 for true, 0 for false, -1 otherwise. */
static int run_bool(const char *text)
{
	static const char *const yes[] = { "1", "t", "T", "TRUE", "true", "True" };
	static const char *const no[] = { "0", "f", "F", "FALSE", "false", "False" };

	for (size_t i = 0; i < 6; i++) {
		if (strcmp(text, yes[i]) == 0)
			return 1;
		if (strcmp(text, no[i]) == 0)
			return 0;
	}
	return -1;
}

static int run_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int run_usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("outrig run: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\n", stderr);
	return 2;
}

/* Adds each comma-separated part of value, as pflag's string slices do. Returns 0 or -1 (ENOMEM). */
static int run_add_paths(struct run_opts *o, const char *value)
{
	const char *p = value;

	for (;;) {
		size_t n = strcspn(p, ",");
		char *part = strndup(p, n);
		char **grown = realloc(o->split, (o->n_split + 1) * sizeof(*grown));
		const char **more = NULL;

		if (grown != NULL)
			o->split = grown;
		if (part != NULL && grown != NULL && o->n_resources == o->cap_resources) {
			more = realloc(o->resources, (o->cap_resources * 2 + 4) * sizeof(*more));
			if (more != NULL) {
				o->resources = more;
				o->cap_resources = o->cap_resources * 2 + 4;
			}
		}
		if (part == NULL || grown == NULL || o->n_resources == o->cap_resources) {
			free(part);
			return -1;
		}
		o->split[o->n_split++] = part;
		if (part[0] != '\0')
			o->resources[o->n_resources++] = part;
		if (p[n] == '\0')
			return 0;
		p += n + 1;
	}
}

/* Acts on one flag and its value (for a boolean: "true" or "false"). Returns -1 to go on, else the exit code. */
static int run_apply(struct run_opts *o, const struct run_flag *f, const char *shown, const char *value)
{
	if (f->id != RUN_F_RUN_FILE && f->id != RUN_F_HELP && strcmp(f->name, "log-as-json") != 0 &&
	    o->other == NULL)
		o->other = shown;
	switch (f->id) {
	case RUN_F_APP_ID: o->app_id = value; break;
	case RUN_F_APP_PORT:
		if (!run_port_ok(value))
			return run_usage_error("--app-port '%s' is not a port number (1-65535)", value);
		o->app_port = value;
		break;
	case RUN_F_HTTP_PORT:
		if (!run_port_ok(value))
			return run_usage_error("--dapr-http-port '%s' is not a port number (1-65535)", value);
		o->http_port = value;
		break;
	case RUN_F_GRPC_PORT:
		if (!run_port_ok(value))
			return run_usage_error("--dapr-grpc-port '%s' is not a port number (1-65535)", value);
		o->grpc_port = value;
		break;
	case RUN_F_METRICS_PORT:
		if (!run_port_ok(value))
			return run_usage_error("--metrics-port '%s' is not a port number (1-65535)", value);
		o->metrics_port = value;
		break;
	case RUN_F_CONFIG: o->configs[o->n_configs++] = value; break;
	case RUN_F_RESOURCES:
		if (run_add_paths(o, value) != 0) {
			perror("outrig run");
			return 1;
		}
		break;
	case RUN_F_LOG_LEVEL:
		if (!run_level_ok(value))
			return run_usage_error(
				"--log-level '%s' is not one of debug, info, warn, error, fatal", value);
		o->log_level = value;
		break;
	case RUN_F_LISTEN:
		o->listen_addresses = value;
		o->fwd[o->n_fwd++] = (struct run_fwd){ f->name, value, false };
		break;
	case RUN_F_CHANNEL:
		o->app_channel_address = value;
		o->fwd[o->n_fwd++] = (struct run_fwd){ f->name, value, false };
		break;
	case RUN_F_APP_PROTOCOL: o->app_protocol = value; break;
	case RUN_F_RUN_FILE: o->run_file = value; break;
	case RUN_F_HELP: run_usage(stdout); return 0;
	case RUN_F_PORT_FWD:
		if (!run_port_ok(value))
			return run_usage_error("--%s '%s' is not a port number (1-65535)", f->name, value);
		o->fwd[o->n_fwd++] = (struct run_fwd){ f->name, value, false };
		break;
	case RUN_F_FWD: o->fwd[o->n_fwd++] = (struct run_fwd){ f->name, value, !f->takes_value }; break;
	case RUN_F_NO_EFFECT:
		fprintf(stderr, "outrig run: info: --%s has no effect: %s\n", f->name, f->why);
		break;
	case RUN_F_REFUSE:
		if (!f->takes_value && strcmp(value, "false") == 0)
			break;
		return run_usage_error("--%s is not supported: %s", f->name, f->why);
	case RUN_F_FALSE_ONLY:
		if (strcmp(value, "true") == 0)
			return run_usage_error("--%s is not supported: %s", f->name, f->why);
		break;
	}
	return -1;
}

/*
 * Reads the command line as pflag reads `dapr run`'s (interspersed): flags anywhere until "--",
 * every other word, in order, is the app's command, and everything after "--" too.
 * Returns -1 to go on, or the exit code: 0 after --help, 2 for a usage error.
 */
static int run_parse(int argc, char **argv, struct run_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->configs = calloc((size_t)argc, sizeof(*o->configs));
	o->fwd = calloc((size_t)argc, sizeof(*o->fwd));
	o->command = calloc((size_t)argc, sizeof(*o->command));
	if (o->configs == NULL || o->fwd == NULL || o->command == NULL) {
		perror("outrig run");
		return 1;
	}
	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i], *value = NULL;
		const struct run_flag *f;
		int rc;

		if (strcmp(arg, "--") == 0) {
			while (++i < argc)
				o->command[o->n_command++] = argv[i];
			break;
		}
		if (arg[0] != '-' || arg[1] == '\0') {
			o->command[o->n_command++] = argv[i];
			continue;
		}
		if (arg[1] == '-') {
			const char *name = arg + 2, *eq = strchr(name, '=');
			size_t len = eq != NULL ? (size_t)(eq - name) : strlen(name);

			f = run_flag_long(name, len);
			if (f == NULL)
				return run_usage_error(
					"unknown flag '%.*s'; see 'outrig run --help' (a flag of the "
					"app's goes after --, e.g. outrig run --app-id myapp -- "
					"./myapp %.*s)",
					(int)(len + 2), arg, (int)(len + 2), arg);
			if (eq != NULL)
				value = eq + 1;
		} else {
			/* -x, -xVALUE, -x=VALUE, -x VALUE; booleans may be grouped: -hk. */
			const char *p = arg + 1;

			for (;;) {
				f = run_flag_short(*p);
				if (f == NULL)
					return run_usage_error(
						"unknown shorthand flag '%c' in '%s'; see 'outrig run "
						"--help' (a flag of the app's goes after --)",
						*p, arg);
				if (f->takes_value || p[1] == '\0' || p[1] == '=')
					break;
				rc = run_apply(o, f, arg, "true");
				if (rc >= 0)
					return rc;
				p++;
			}
			if (p[1] == '=')
				value = p + 2;
			else if (p[1] != '\0')
				value = p + 1;
		}
		if (!f->takes_value) {
			int b = value != NULL ? run_bool(value) : 1;

			if (b < 0)
				return run_usage_error("flag '%s' takes true or false, not '%s'", arg, value);
			value = b ? "true" : "false";
		} else if (value == NULL) {
			if (i + 1 >= argc)
				return run_usage_error("flag '%s' needs a value", arg);
			value = argv[++i];
		}
		rc = run_apply(o, f, arg, value);
		if (rc >= 0)
			return rc;
	}
	o->command[o->n_command] = NULL;
	if (o->run_file != NULL) {
		if (o->other != NULL)
			return run_usage_error(
				"%s cannot go with -f (--run-file): set it for each app in the run "
				"file, or in its 'common' section",
				o->other);
		if (o->n_command > 0)
			return run_usage_error(
				"no command goes with -f (--run-file), but '%s' was given: each "
				"app's 'command' is in the run file",
				o->command[0]);
		return -1;
	}
	if (o->app_id != NULL && o->app_id[0] == '\0')
		return run_usage_error(
			"--app-id is empty; give one, e.g. outrig run --app-id myapp -- ./myapp");
	if (o->app_id == NULL) {
		/* `dapr run` makes one up too; a readable one, from the command's name. */
		const char *base = o->n_command > 0 ? strrchr(o->command[0], '/') : NULL;
		const char *name = o->n_command == 0 ? "outrig" : base != NULL ? base + 1 : o->command[0];

		if (asprintf(&o->app_id_buf, "%s-%ld", name[0] != '\0' ? name : "app", (long)getpid()) < 0) {
			perror("outrig run");
			return 1;
		}
		o->app_id = o->app_id_buf;
		fprintf(stderr, "outrig run: info: no --app-id given; the app id is '%s'\n", o->app_id);
	}
	return -1;
}

static void run_opts_free(struct run_opts *o)
{
	for (size_t i = 0; i < o->n_split; i++)
		free(o->split[i]);
	free(o->split);
	free(o->resources);
	free(o->configs);
	free(o->fwd);
	free(o->command);
	free(o->app_id_buf);
}

/* Next to this binary first, so an installed or in-tree pair always matches. */
static char *run_find_daemon(void)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	const char *env;

	if (n > 0) {
		char *slash, *path;

		self[n] = '\0';
		slash = strrchr(self, '/');
		if (slash != NULL) {
			*slash = '\0';
			path = malloc(strlen(self) + sizeof("/outrigd"));
			if (path != NULL) {
				strcpy(path, self);
				strcat(path, "/outrigd");
				if (access(path, X_OK) == 0)
					return path;
				free(path);
			}
		}
	}
	env = getenv("OUTRIGD");
	return strdup(env != NULL && env[0] != '\0' ? env : "outrigd");
}

/* The first API address; wildcards and names are probed on loopback. */
static void run_probe_host(const char *listen, char *host, size_t size)
{
	char first[INET6_ADDRSTRLEN] = "";
	unsigned char addr[sizeof(struct in6_addr)];
	const char *p = listen != NULL ? listen : "";
	size_t n;

	while (*p == ' ')
		p++;
	n = strcspn(p, ", ");
	if (n > 0 && p[0] == '[' && p[n - 1] == ']') {
		p++;
		n -= 2;
	}
	if (n < sizeof(first)) {
		memcpy(first, p, n);
		first[n] = '\0';
	}
	if (strcmp(first, "::") == 0)
		snprintf(host, size, "::1");
	else if (strcmp(first, "0.0.0.0") != 0 &&
		 (inet_pton(AF_INET, first, addr) == 1 || inet_pton(AF_INET6, first, addr) == 1))
		snprintf(host, size, "%s", first);
	else
		snprintf(host, size, "127.0.0.1");
}

/* outrigd's command line; the flags passed on are made into owned[] (n_fwd entries), which the caller frees. */
static char **run_daemon_argv(const struct run_opts *o, char *daemon, const char *port, const char *grpc_port,
			      const char *metrics_port, char **owned)
{
	char **argv = calloc(20 + 2 * (o->n_resources + o->n_configs + o->n_fwd), sizeof(*argv));
	size_t n = 0;

	if (argv == NULL)
		return NULL;
	argv[n++] = daemon;
	argv[n++] = "--app-id";
	argv[n++] = (char *)o->app_id;
	if (o->app_port != NULL) {
		argv[n++] = "--app-port";
		argv[n++] = (char *)o->app_port;
	}
	argv[n++] = "--dapr-http-port";
	argv[n++] = (char *)port;
	argv[n++] = "--dapr-grpc-port";
	argv[n++] = (char *)grpc_port;
	argv[n++] = "--metrics-port";
	argv[n++] = (char *)metrics_port;
	for (size_t i = 0; i < o->n_configs; i++) {
		argv[n++] = "--config";
		argv[n++] = (char *)o->configs[i];
	}
	if (o->app_protocol != NULL) {
		argv[n++] = "--app-protocol";
		argv[n++] = (char *)o->app_protocol;
	}
	for (size_t i = 0; i < o->n_resources; i++) {
		argv[n++] = "--resources-path";
		argv[n++] = (char *)o->resources[i];
	}
	if (o->log_level != NULL) {
		argv[n++] = "--log-level";
		argv[n++] = (char *)o->log_level;
	}
	/* outrigd checks these values and says what is wrong with them. */
	for (size_t i = 0; i < o->n_fwd; i++) {
		const struct run_fwd *f = &o->fwd[i];

		if (asprintf(&owned[i], f->boolean ? "--%s=%s" : "--%s", f->name, f->value) < 0) {
			owned[i] = NULL;
			free(argv);
			return NULL;
		}
		argv[n++] = owned[i];
		if (!f->boolean)
			argv[n++] = (char *)f->value;
	}
	argv[n] = NULL;
	return argv;
}

/*
 * What `outrig init` wrote is used when no flag says otherwise, as `dapr run` reads ~/.dapr.
 * Returns 0, or -1 (out of memory).
 */
static int run_defaults(struct run_opts *o, char **components, char **config)
{
	char home[PATH_MAX];
	struct stat st;

	*components = *config = NULL;
	if (init_home(home, sizeof(home)) != 0)
		return 0;
	if (o->n_resources == 0 && asprintf(components, "%s/components", home) >= 0 &&
	    stat(*components, &st) == 0 && S_ISDIR(st.st_mode)) {
		if (run_add_paths(o, *components) != 0)
			return -1;
	}
	if (o->n_configs == 0 && asprintf(config, "%s/config.yaml", home) >= 0 && stat(*config, &st) == 0)
		o->configs[o->n_configs++] = *config;
	return 0;
}

/* Returns -1 once the sidecar answers 204, else the exit code to leave with. */
static int run_wait_ready(struct sup *s, struct sup_child *d, const char *host, int port)
{
	long long deadline = sup_now_ms() + RUN_READY_TIMEOUT_MS;
	int code = -1, err = 0;
	char why[128];

	for (;;) {
		int sig;

		if (!d->exited) {
			code = probe_http(host, port, "GET", RUN_HEALTH_PATH, NULL, RUN_PROBE_TIMEOUT_MS);
			err = errno;
		}
		/* Pass on its output first, so a failure reads in order. */
		sig = sup_poll(s, code == 204 ? 0 : RUN_PROBE_INTERVAL_MS);
		if (sig != 0) {
			sup_stop(s, d, RUN_STOP_GRACE_MS);
			sup_drain(d, RUN_DRAIN_IDLE_MS);
			return 128 + sig;
		}
		if (d->exited) {
			sup_drain(d, RUN_DRAIN_IDLE_MS);
			sup_note(s, "outrigd %s before it was ready; its log is %s",
				 sup_describe(d->status, why, sizeof(why)),
				 run_cur->sidecar_no_console ? "in its log file"
							     : "above (the '== OUTRIG' lines)");
			return 1;
		}
		if (code == 204)
			return -1;
		if (sup_now_ms() >= deadline)
			break;
	}
	if (code >= 0)
		snprintf(why, sizeof(why), "it last answered %d", code);
	else
		snprintf(why, sizeof(why), "last attempt: %s", strerror(err));
	sup_note(s, "outrigd did not answer 204 on http://%s:%d%s within %d s (%s); stopping it", host, port,
		 RUN_HEALTH_PATH, RUN_READY_TIMEOUT_MS / 1000, why);
	sup_stop(s, d, RUN_STOP_GRACE_MS);
	sup_drain(d, RUN_DRAIN_IDLE_MS);
	return 1;
}

/* Tells the sidecar who its app is, as `dapr run` does; the sidecar may not care. */
static void run_put_metadata(const char *host, int port, pid_t app_pid, char **command)
{
	char num[32];
	size_t len = 1;
	char *joined;

	snprintf(num, sizeof(num), "%ld", (long)app_pid);
	probe_http(host, port, "PUT", "/v1.0/metadata/appPID", num, RUN_PROBE_TIMEOUT_MS);
	snprintf(num, sizeof(num), "%ld", (long)getpid());
	probe_http(host, port, "PUT", "/v1.0/metadata/cliPID", num, RUN_PROBE_TIMEOUT_MS);

	for (char **a = command; *a != NULL; a++)
		len += strlen(*a) + 1;
	joined = malloc(len);
	if (joined == NULL)
		return;
	joined[0] = '\0';
	for (char **a = command; *a != NULL; a++) {
		if (a != command)
			strcat(joined, " ");
		strcat(joined, *a);
	}
	probe_http(host, port, "PUT", "/v1.0/metadata/appCommand", joined, RUN_PROBE_TIMEOUT_MS);
	free(joined);
}

/*
 * Writes or rewrites this run's record for `outrig list` and `outrig stop`. Without it the
 * run goes on, unlisted; the first failure is reported.
 */
static void run_record(struct sup *s, struct reg_record *rec, bool *warned)
{
	char dir[PATH_MAX] = "the run folder";

	if (reg_write(rec) == 0 || *warned)
		return;
	*warned = true;
	reg_dir(dir, sizeof(dir), false);
	sup_note(s,
		 "cannot write this run's record in %s: %s; 'outrig list' and 'outrig stop' will not see it",
		 dir, strerror(errno));
}

/* Runs the sidecar alone (no command given) until we are told to stop or it exits. */
static int run_sidecar_only(struct sup *s, struct sup_child *d)
{
	char why[128];

	sup_note(s, "no app command given: outrigd runs alone until Ctrl-C");
	for (;;) {
		int sig = sup_poll(s, -1);

		if (sig != 0) {
			sup_stop(s, d, RUN_STOP_GRACE_MS);
			sup_drain(d, RUN_DRAIN_IDLE_MS);
			return 128 + sig;
		}
		if (d->exited) {
			sup_drain(d, RUN_DRAIN_IDLE_MS);
			sup_note(s, "outrigd %s", sup_describe(d->status, why, sizeof(why)));
			return WIFEXITED(d->status) && WEXITSTATUS(d->status) == 0 ? 0 : 1;
		}
	}
}

/* Runs the app until it exits or we are told to stop; returns outrig's exit code. */
static int run_app(struct sup *s, struct sup_child *d, const struct run_opts *o, const char *host, int port,
		   const char *port_text, const char *grpc_text, struct reg_record *rec, bool *warned)
{
	const char *base_env[] = {
		"DAPR_HTTP_PORT",
		port_text,
		"DAPR_GRPC_PORT",
		grpc_text,
		"APP_ID",
		o->app_id,
		"APP_CHANNEL_ADDRESS",
		o->app_channel_address != NULL ? o->app_channel_address : "127.0.0.1",
		"APP_PROTOCOL",
		o->app_protocol != NULL ? o->app_protocol : "http",
		"APP_PORT",
		o->app_port,
	};
	const size_t n_base = sizeof(base_env) / sizeof(base_env[0]) - (o->app_port != NULL ? 0 : 2);
	const char *env[sizeof(base_env) / sizeof(base_env[0]) + 2 * RUN_APP_ENV_MAX + 1];
	size_t n_env = 0;
	struct sup_spawn_opts app_opts = { .prefix = run_app_prefix, .own_group = true, .env = env };
	struct sup_child *app;
	bool stopped = false;
	char why[128];
	int rc;

	/* The run file's env first, so that the ports and ids outrig gives win, as in `dapr run`. */
	for (const char *const *e = run_cur->app_env;
	     e != NULL && e[0] != NULL && n_env < 2 * RUN_APP_ENV_MAX; e += 2) {
		env[n_env++] = e[0];
		env[n_env++] = e[1];
	}
	for (size_t i = 0; i < n_base; i++)
		env[n_env++] = base_env[i];
	env[n_env] = NULL;
	if (run_cur->app_log_fd >= 0) {
		sup_sink_init(&run_app_log, run_cur->app_log_fd);
		app_opts.file = &run_app_log;
		app_opts.no_console = run_cur->app_no_console;
	}
	/* Its own group, as dapr run does: stopping it stops what it started (npm start's node). */
	app = sup_spawn(s, o->command[0], o->command, &app_opts);
	if (app == NULL) {
		int err = errno;

		sup_note(s, "cannot run the app '%s': %s", o->command[0], strerror(err));
		sup_stop(s, d, RUN_STOP_GRACE_MS);
		sup_drain(d, RUN_DRAIN_IDLE_MS);
		return err == ENOENT ? 127 : 126;
	}
	rec->app_pid = app->pid;
	rec->app_pgid = app->pid;
	run_record(s, rec, warned);
	run_put_metadata(host, port, app->pid, o->command);

	for (;;) {
		int sig = sup_poll(s, -1);

		if (sig != 0) {
			/*
			 * Out of the terminal's group, the app gets Ctrl-C from us, as it got it from the
			 * terminal before; then SIGTERM, which also covers `outrig stop`.
			 */
			if (sig == SIGINT)
				sup_kill(app, SIGINT);
			sup_stop(s, app, RUN_STOP_GRACE_MS);
			rc = 128 + sig;
			stopped = true;
			break;
		}
		if (app->exited) {
			rc = sup_exit_code(app->status);
			/* What it left running in its group (a server it started) goes with it. */
			sup_stop(s, app, RUN_STOP_GRACE_MS);
			break;
		}
		if (d->exited) {
			sup_drain(d, RUN_DRAIN_IDLE_MS);
			sup_note(s, "outrigd %s while the app was running; stopping the app",
				 sup_describe(d->status, why, sizeof(why)));
			sup_stop(s, app, RUN_STOP_GRACE_MS);
			sup_drain(app, RUN_DRAIN_IDLE_MS);
			return 1;
		}
	}
	sup_drain(app, RUN_DRAIN_IDLE_MS);
	if (!stopped && rc != 0)
		sup_note(s, "app '%s' %s", o->command[0], sup_describe(app->status, why, sizeof(why)));
	sup_stop(s, d, RUN_STOP_GRACE_MS);
	sup_drain(d, RUN_DRAIN_IDLE_MS);
	if (!(WIFEXITED(d->status) && WEXITSTATUS(d->status) == 0) &&
	    !(WIFSIGNALED(d->status) && WTERMSIG(d->status) == SIGTERM))
		sup_note(s, "outrigd %s while stopping", sup_describe(d->status, why, sizeof(why)));
	return rc;
}

int run_main(int argc, char **argv)
{
	return run_main_ctx(argc, argv, NULL);
}

int run_main_ctx(int argc, char **argv, const struct run_ctx *ctx)
{
	static const struct run_ctx plain = { .app_log_fd = -1, .sidecar_log_fd = -1 };
	struct run_opts o;
	struct sup s;
	struct sup_child *d;
	struct reg_record rec;
	char host[INET6_ADDRSTRLEN], port_text[16], grpc_text[16], metrics_text[16];
	char *daemon = NULL, **daemon_argv = NULL, *def_components = NULL, *def_config = NULL;
	char **owned = NULL;
	int rc, port, grpc_port, metrics_port, code;
	bool warned = false;

	run_cur = ctx != NULL ? ctx : &plain;
	memset(&rec, 0, sizeof(rec));
	rc = run_parse(argc, argv, &o);
	if (rc >= 0)
		goto out;
	if (o.run_file != NULL) {
		rc = runfile_run(o.run_file, o.n_fwd > 0 ? o.fwd[0].value : NULL);
		goto out;
	}
	if (run_defaults(&o, &def_components, &def_config) != 0) {
		perror("outrig run");
		rc = 1;
		goto out;
	}
	if (run_cur->tag != NULL) {
		snprintf(run_app_prefix, sizeof(run_app_prefix), "== APP - %s == ", run_cur->tag);
		snprintf(run_sidecar_prefix, sizeof(run_sidecar_prefix), "== OUTRIG - %s == ", run_cur->tag);
	}
	rc = 1;
	run_probe_host(o.listen_addresses, host, sizeof(host));
	if (o.http_port != NULL) {
		port = atoi(o.http_port);
		/* A sidecar already there would pass the health probe in ours' stead. */
		code = probe_http(host, port, "GET", RUN_HEALTH_PATH, NULL, RUN_PROBE_TIMEOUT_MS);
		if (code >= 0 || errno != ECONNREFUSED) {
			fprintf(stderr,
				"outrig run: something already listens on %s:%d (another "
				"sidecar?); stop it, choose another --dapr-http-port, or leave the "
				"flag out to get a free port\n",
				host, port);
			goto out;
		}
	} else {
		port = probe_free_port(host);
		if (port < 0) {
			fprintf(stderr,
				"outrig run: cannot find a free port on %s: %s; pass "
				"--dapr-http-port\n",
				host, strerror(errno));
			goto out;
		}
	}
	snprintf(port_text, sizeof(port_text), "%d", port);
	if (o.grpc_port != NULL) {
		grpc_port = atoi(o.grpc_port);
	} else {
		/* A free port now; outrigd binds it and fails to start if another process took it since. */
		grpc_port = probe_free_port(host);
		for (int tries = 0; grpc_port == port && tries < 5; tries++)
			grpc_port = probe_free_port(host);
		if (grpc_port < 0 || grpc_port == port) {
			fprintf(stderr,
				"outrig run: cannot find a free port on %s for gRPC: %s; pass "
				"--dapr-grpc-port\n",
				host,
				grpc_port < 0 ? strerror(errno) : "the kernel keeps offering the HTTP port");
			goto out;
		}
	}
	snprintf(grpc_text, sizeof(grpc_text), "%d", grpc_port);
	if (o.metrics_port != NULL) {
		metrics_port = atoi(o.metrics_port);
	} else {
		/* As dapr run: each sidecar its own, so that two runs do not fight over daprd's 9090. */
		metrics_port = probe_free_port(host);
		for (int tries = 0; (metrics_port == port || metrics_port == grpc_port) && tries < 5; tries++)
			metrics_port = probe_free_port(host);
		if (metrics_port < 0 || metrics_port == port || metrics_port == grpc_port) {
			fprintf(stderr,
				"outrig run: cannot find a free port on %s for metrics: %s; pass --metrics-port\n",
				host,
				metrics_port < 0 ? strerror(errno)
						 : "the kernel keeps offering a port in use");
			goto out;
		}
	}
	snprintf(metrics_text, sizeof(metrics_text), "%d", metrics_port);
	fprintf(stderr, "outrig run: info: app '%s': metrics (Prometheus) on port %d, GET /metrics\n",
		o.app_id, metrics_port);

	daemon = run_find_daemon();
	owned = calloc(o.n_fwd + 1, sizeof(*owned));
	daemon_argv = daemon != NULL && owned != NULL
			      ? run_daemon_argv(&o, daemon, port_text, grpc_text, metrics_text, owned)
			      : NULL;
	if (daemon_argv == NULL || sup_init(&s) != 0) {
		perror("outrig run");
		goto out;
	}
	s.tag = run_cur->tag;
	{
		struct sup_spawn_opts d_opts = {
			.prefix = run_sidecar_prefix,
			.own_group = true,
			.null_stdin = true,
		};

		if (run_cur->sidecar_log_fd >= 0) {
			sup_sink_init(&run_sidecar_log, run_cur->sidecar_log_fd);
			d_opts.file = &run_sidecar_log;
			d_opts.no_console = run_cur->sidecar_no_console;
		}
		d = sup_spawn(&s, "outrigd", daemon_argv, &d_opts);
	}
	if (d == NULL) {
		fprintf(stderr,
			"outrig run: cannot start outrigd ('%s'): %s; install it next to "
			"outrig, put it on PATH, or set OUTRIGD to its path\n",
			daemon, strerror(errno));
		goto out;
	}
	/* Listed from now on, so `outrig stop` also reaches a run whose sidecar is starting. */
	snprintf(rec.app_id, sizeof(rec.app_id), "%s", o.app_id);
	if (run_cur->run_file != NULL)
		snprintf(rec.run_file, sizeof(rec.run_file), "%s", run_cur->run_file);
	rec.pid = getpid();
	rec.pid_start = reg_proc_start(rec.pid);
	rec.outrigd_pid = d->pid;
	rec.http_port = port;
	rec.grpc_port = grpc_port;
	rec.app_port = o.app_port != NULL ? atoi(o.app_port) : 0;
	rec.started = (long long)time(NULL);
	reg_join_command(o.command, rec.command, sizeof(rec.command));
	run_record(&s, &rec, &warned);

	rc = run_wait_ready(&s, d, host, port);
	if (rc >= 0)
		goto out;
	if (o.n_command == 0)
		rc = run_sidecar_only(&s, d);
	else
		rc = run_app(&s, d, &o, host, port, port_text, grpc_text, &rec, &warned);
out:
	reg_remove(&rec);
	free(daemon_argv);
	for (size_t i = 0; owned != NULL && i < o.n_fwd; i++)
		free(owned[i]);
	free(owned);
	free(daemon);
	free(def_components);
	free(def_config);
	run_opts_free(&o);
	return rc;
}
