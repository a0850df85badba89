/* SPDX-License-Identifier: Apache-2.0 */
/* `outrig run`: starts outrigd, waits until it is ready, runs the app beside it, stops both. */
#include "run.h"

#include "http_probe.h"
#include "registry.h"
#include "supervise.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
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

struct run_opts {
	const char *app_id;
	const char *app_port;
	const char *http_port;
	const char *grpc_port;
	const char *internal_port;
	const char *log_level;
	const char *plugin_dir;
	const char *listen_addresses;
	const char *app_max_concurrency;
	const char *app_protocol; /* --app-protocol, or NULL: outrigd's default (http) */
	bool log_as_json;
	const char **resources; /* --resources-path and --components-path, in the order given */
	size_t n_resources;
	const char **configs; /* --config, in the order given */
	size_t n_configs;
	char **command; /* the app's argv: everything after --, NULL-terminated */
};

enum run_flag_id {
	RUN_F_APP_ID,
	RUN_F_APP_PORT,
	RUN_F_HTTP_PORT,
	RUN_F_GRPC_PORT,
	RUN_F_INTERNAL_PORT,
	RUN_F_CONFIG,
	RUN_F_RESOURCES,
	RUN_F_LOG_LEVEL,
	RUN_F_PLUGIN_DIR,
	RUN_F_LISTEN,
	RUN_F_MAX_CONCURRENCY,
	RUN_F_APP_PROTOCOL,
	RUN_F_JSON,
	RUN_F_HELP,
};

/* Names and short forms as `dapr run` has them, so muscle memory carries over. */
static const struct run_flag {
	const char *name;
	char short_name;
	bool takes_value;
	enum run_flag_id id;
} run_flags[] = {
	{ "app-id", 'a', true, RUN_F_APP_ID },
	{ "app-port", 'p', true, RUN_F_APP_PORT },
	{ "dapr-http-port", 'H', true, RUN_F_HTTP_PORT },
	{ "dapr-grpc-port", 'G', true, RUN_F_GRPC_PORT },
	{ "dapr-internal-grpc-port", 'I', true, RUN_F_INTERNAL_PORT },
	{ "config", 'c', true, RUN_F_CONFIG },
	{ "resources-path", 0, true, RUN_F_RESOURCES },
	{ "components-path", 'd', true, RUN_F_RESOURCES },
	{ "log-level", 0, true, RUN_F_LOG_LEVEL },
	{ "plugin-dir", 0, true, RUN_F_PLUGIN_DIR },
	{ "dapr-listen-addresses", 0, true, RUN_F_LISTEN },
	{ "app-max-concurrency", 0, true, RUN_F_MAX_CONCURRENCY },
	{ "app-protocol", 'P', true, RUN_F_APP_PROTOCOL },
	{ "log-as-json", 0, false, RUN_F_JSON },
	{ "help", 'h', false, RUN_F_HELP },
};

static const char *const run_log_levels[] = { "debug", "info", "warn", "error", "fatal" };

void run_usage(FILE *f)
{
	fputs("Usage: outrig run --app-id ID [flags] -- COMMAND [ARGS...]\n"
	      "\n"
	      "Starts the outrigd sidecar, waits until it answers GET " RUN_HEALTH_PATH ",\n"
	      "then runs COMMAND with DAPR_HTTP_PORT, DAPR_GRPC_PORT, APP_ID, APP_PORT (with\n"
	      "--app-port), APP_CHANNEL_ADDRESS and APP_PROTOCOL set, as Dapr SDKs expect.\n"
	      "DAPR_API_TOKEN and APP_API_TOKEN, when set here, reach both the sidecar and the app.\n"
	      "Output is prefixed '== OUTRIG == ' (sidecar) and '== APP == '. When the app exits\n"
	      "the sidecar is stopped and outrig exits with the app's status; Ctrl-C or SIGTERM\n"
	      "(what 'outrig stop --app-id ID' sends) stops the app, then the sidecar.\n"
	      "While it runs, 'outrig list' shows it.\n"
	      "\n"
	      "Flags:\n"
	      "  -a, --app-id ID               the app's identity (required)\n"
	      "  -p, --app-port PORT           port the app listens on, if it serves requests\n"
	      "  -H, --dapr-http-port PORT     sidecar HTTP API port (default: a free port)\n"
	      "  -G, --dapr-grpc-port PORT     gRPC API port for DAPR_GRPC_PORT (default: a free\n"
	      "                                port); outrigd accepts it but serves no gRPC yet,\n"
	      "                                so SDKs must use HTTP\n"
	      "  -I, --dapr-internal-grpc-port PORT\n"
	      "                                sidecar-to-sidecar port (default: outrigd's choice)\n"
	      "  -c, --config FILE             Configuration YAML (name resolution ...; repeatable)\n"
	      "      --resources-path DIR      folder of component YAML (repeatable)\n"
	      "  -d, --components-path DIR     old name of --resources-path\n"
	      "      --log-level LEVEL         debug, info, warn, error or fatal (default info)\n"
	      "      --log-as-json             sidecar logs as JSON lines\n"
	      "      --plugin-dir DIR          where outrigd looks for plugins\n"
	      "      --dapr-listen-addresses A addresses the sidecar API binds (CSV)\n"
	      "      --app-max-concurrency N   most calls in flight to the app (default -1: no limit)\n"
	      "  -P, --app-protocol P          how the sidecar calls the app: http or grpc (default http)\n"
	      "  -h, --help                    this help\n"
	      "\n"
	      "outrigd is taken from the folder of this program, else $OUTRIGD, else PATH.\n",
	      f);
}

/*
 * Matches arg against one flag: "--name", "--name=value", "-x". Sets *inline_value to the
 * text after '=' if there is one.
 */
static const struct run_flag *run_flag_find(const char *arg, const char **inline_value)
{
	*inline_value = NULL;
	for (size_t i = 0; i < sizeof(run_flags) / sizeof(run_flags[0]); i++) {
		const struct run_flag *f = &run_flags[i];
		size_t n = strlen(f->name);

		if (arg[1] == '-' && strncmp(arg + 2, f->name, n) == 0 &&
		    (arg[2 + n] == '\0' || arg[2 + n] == '=')) {
			if (arg[2 + n] == '=')
				*inline_value = arg + 3 + n;
			return f;
		}
		if (f->short_name != 0 && arg[1] == f->short_name && arg[2] == '\0')
			return f;
	}
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

/* Returns -1 to go on, or the exit code: 0 after --help, 2 for a usage error. */
static int run_parse(int argc, char **argv, struct run_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->resources = calloc((size_t)argc, sizeof(*o->resources));
	o->configs = calloc((size_t)argc, sizeof(*o->configs));
	if (o->resources == NULL || o->configs == NULL) {
		perror("outrig run");
		return 1;
	}
	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i], *value = NULL;
		const struct run_flag *f;

		if (strcmp(arg, "--") == 0) {
			o->command = argv + i + 1;
			break;
		}
		if (arg[0] != '-' || arg[1] == '\0')
			return run_usage_error("unexpected argument '%s'; put the app's command after "
					       "--, e.g. outrig run --app-id myapp -- ./myapp",
					       arg);
		f = run_flag_find(arg, &value);
		if (f == NULL)
			return run_usage_error("unknown flag '%s'; see 'outrig run --help'", arg);
		if (f->takes_value && value == NULL) {
			if (i + 1 >= argc || strcmp(argv[i + 1], "--") == 0)
				return run_usage_error("flag '%s' needs a value", arg);
			value = argv[++i];
		} else if (!f->takes_value && value != NULL && f->id != RUN_F_JSON) {
			return run_usage_error("flag '%s' takes no value", arg);
		}

		switch (f->id) {
		case RUN_F_APP_ID: o->app_id = value; break;
		case RUN_F_APP_PORT:
			if (!run_port_ok(value))
				return run_usage_error("--app-port '%s' is not a port number (1-65535)",
						       value);
			o->app_port = value;
			break;
		case RUN_F_HTTP_PORT:
			if (!run_port_ok(value))
				return run_usage_error("--dapr-http-port '%s' is not a port number (1-65535)",
						       value);
			o->http_port = value;
			break;
		case RUN_F_GRPC_PORT:
			if (!run_port_ok(value))
				return run_usage_error("--dapr-grpc-port '%s' is not a port number (1-65535)",
						       value);
			o->grpc_port = value;
			break;
		case RUN_F_INTERNAL_PORT:
			if (!run_port_ok(value))
				return run_usage_error("--dapr-internal-grpc-port '%s' is not a port number "
						       "(1-65535)",
						       value);
			o->internal_port = value;
			break;
		case RUN_F_CONFIG: o->configs[o->n_configs++] = value; break;
		case RUN_F_RESOURCES: o->resources[o->n_resources++] = value; break;
		case RUN_F_MAX_CONCURRENCY: o->app_max_concurrency = value; break;
		case RUN_F_APP_PROTOCOL: o->app_protocol = value; break;
		case RUN_F_LOG_LEVEL:
			if (!run_level_ok(value))
				return run_usage_error("--log-level '%s' is not one of debug, info, "
						       "warn, error, fatal",
						       value);
			o->log_level = value;
			break;
		case RUN_F_PLUGIN_DIR: o->plugin_dir = value; break;
		case RUN_F_LISTEN: o->listen_addresses = value; break;
		case RUN_F_JSON:
			/* pflag booleans also take "=true" and "=false". */
			if (value == NULL || strcmp(value, "true") == 0)
				o->log_as_json = true;
			else if (strcmp(value, "false") == 0)
				o->log_as_json = false;
			else
				return run_usage_error("--log-as-json takes true or false, not '%s'", value);
			break;
		case RUN_F_HELP: run_usage(stdout); return 0;
		}
	}
	if (o->app_id == NULL || o->app_id[0] == '\0')
		return run_usage_error("--app-id is required, e.g. outrig run --app-id myapp "
				       "-- ./myapp");
	if (o->command == NULL || o->command[0] == NULL)
		return run_usage_error("no app command given; put it after --, e.g. "
				       "outrig run --app-id myapp -- ./myapp");
	return -1;
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

static char **run_daemon_argv(const struct run_opts *o, char *daemon, const char *port, const char *grpc_port)
{
	char **argv = calloc(26 + 2 * (o->n_resources + o->n_configs), sizeof(*argv));
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
	if (o->internal_port != NULL) {
		argv[n++] = "--dapr-internal-grpc-port";
		argv[n++] = (char *)o->internal_port;
	}
	for (size_t i = 0; i < o->n_configs; i++) {
		argv[n++] = "--config";
		argv[n++] = (char *)o->configs[i];
	}
	/* outrigd checks the value and says what is wrong with it. */
	if (o->app_max_concurrency != NULL) {
		argv[n++] = "--app-max-concurrency";
		argv[n++] = (char *)o->app_max_concurrency;
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
	if (o->log_as_json)
		argv[n++] = "--log-as-json";
	if (o->plugin_dir != NULL) {
		argv[n++] = "--plugin-dir";
		argv[n++] = (char *)o->plugin_dir;
	}
	if (o->listen_addresses != NULL) {
		argv[n++] = "--dapr-listen-addresses";
		argv[n++] = (char *)o->listen_addresses;
	}
	argv[n] = NULL;
	return argv;
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
			sup_note(s,
				 "outrigd %s before it was ready; its log is above "
				 "(the '== OUTRIG == ' lines)",
				 sup_describe(d->status, why, sizeof(why)));
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

/* Runs the app until it exits or we are told to stop; returns outrig's exit code. */
static int run_app(struct sup *s, struct sup_child *d, const struct run_opts *o, const char *host, int port,
		   const char *port_text, const char *grpc_text, struct reg_record *rec, bool *warned)
{
	const char *env[] = {
		"DAPR_HTTP_PORT",
		port_text,
		"DAPR_GRPC_PORT",
		grpc_text,
		"APP_ID",
		o->app_id,
		"APP_CHANNEL_ADDRESS",
		"127.0.0.1",
		"APP_PROTOCOL",
		o->app_protocol != NULL ? o->app_protocol : "http",
		/* Last, so leaving it out just ends the list early. */
		o->app_port != NULL ? "APP_PORT" : NULL,
		o->app_port,
		NULL,
	};
	/* Its own group, as dapr run does: stopping it stops what it started (npm start's node). */
	const struct sup_spawn_opts app_opts = { .prefix = "== APP == ", .own_group = true, .env = env };
	struct sup_child *app;
	bool stopped = false;
	char why[128];
	int rc;

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
	struct run_opts o;
	struct sup s;
	struct sup_child *d;
	struct reg_record rec;
	char host[INET6_ADDRSTRLEN], port_text[16], grpc_text[16];
	char *daemon = NULL, **daemon_argv = NULL;
	int rc, port, grpc_port, code;
	bool warned = false;

	memset(&rec, 0, sizeof(rec));
	rc = run_parse(argc, argv, &o);
	if (rc >= 0)
		goto out;
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

	daemon = run_find_daemon();
	daemon_argv = daemon != NULL ? run_daemon_argv(&o, daemon, port_text, grpc_text) : NULL;
	if (daemon_argv == NULL || sup_init(&s) != 0) {
		perror("outrig run");
		goto out;
	}
	{
		const struct sup_spawn_opts d_opts = {
			.prefix = "== OUTRIG == ",
			.own_group = true,
			.null_stdin = true,
		};

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
	rc = run_app(&s, d, &o, host, port, port_text, grpc_text, &rec, &warned);
out:
	reg_remove(&rec);
	free(daemon_argv);
	free(daemon);
	free(o.resources);
	free(o.configs);
	return rc;
}
