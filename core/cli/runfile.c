/* SPDX-License-Identifier: Apache-2.0 */
/* `outrig run -f`: reads a Dapr multi-app run file and runs each app as an `outrig run` of its own. */
/* asprintf(), strndup() */
#define _GNU_SOURCE
#include "runfile.h"

#include "run.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <yaml.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#define RF_DEFAULT_NAME "dapr.yaml"
/* A run file is written by hand; anything bigger is not one. */
#define RF_FILE_MAX (1024 * 1024)
#define RF_APPS_MAX 64
#define RF_ENV_MAX 256

/* What a field of an app (or of `common`) does. */
enum rf_kind {
	RF_ID,	      /* appID */
	RF_DIR,	      /* appDirPath */
	RF_COMMAND,   /* command: a list of words */
	RF_ENV,	      /* env: a mapping */
	RF_PORT,      /* a port passed as --flag; 0 or less: a free one, as in dapr */
	RF_INT,	      /* a number passed as --flag; 0: outrigd's default */
	RF_STRING,    /* passed as --flag */
	RF_LEVEL,     /* logLevel */
	RF_PROTOCOL,  /* appProtocol: dapr accepts any case */
	RF_BOOL,      /* passed as --flag=true when true */
	RF_CONFIG,    /* configFilePath: a file, relative to its section's folder */
	RF_RESOURCES, /* resourcesPath (one) or resourcesPaths (a list) */
	RF_LOG_DEST,  /* appLogDestination, daprdLogDestination */
	RF_NO_EFFECT, /* accepted; one info line says outrig has nothing it configures */
	RF_REFUSE,    /* refused when set (not empty, not false) */
};

static const struct rf_field {
	const char *key;
	enum rf_kind kind;
	bool app_only;	  /* not taken from `common` */
	const char *flag; /* RF_PORT, RF_INT, RF_STRING, RF_BOOL: outrig run's flag; else the reason */
} rf_fields[] = {
	{ "appID", RF_ID, true, NULL },
	{ "appDirPath", RF_DIR, true, NULL },
	{ "command", RF_COMMAND, true, NULL },
	{ "env", RF_ENV, false, NULL },
	{ "appPort", RF_PORT, true, "app-port" },
	{ "daprHTTPPort", RF_PORT, true, "dapr-http-port" },
	{ "daprGRPCPort", RF_PORT, true, "dapr-grpc-port" },
	{ "daprInternalGRPCPort", RF_PORT, true, "dapr-internal-grpc-port" },
	{ "appChannelAddress", RF_STRING, true, "app-channel-address" },
	{ "apiListenAddresses", RF_STRING, false, "dapr-listen-addresses" },
	{ "maxBodySize", RF_STRING, false, "max-body-size" },
	{ "readBufferSize", RF_STRING, false, "read-buffer-size" },
	{ "appHealthCheckPath", RF_STRING, false, "app-health-check-path" },
	{ "appMaxConcurrency", RF_INT, false, "app-max-concurrency" },
	{ "appHealthProbeInterval", RF_INT, false, "app-health-probe-interval" },
	{ "appHealthProbeTimeout", RF_INT, false, "app-health-probe-timeout" },
	{ "appHealthThreshold", RF_INT, false, "app-health-threshold" },
	{ "enableAppHealthCheck", RF_BOOL, false, "enable-app-health-check" },
	{ "logLevel", RF_LEVEL, false, NULL },
	{ "appProtocol", RF_PROTOCOL, false, NULL },
	{ "configFilePath", RF_CONFIG, false, NULL },
	{ "resourcesPath", RF_RESOURCES, false, NULL },
	{ "resourcesPaths", RF_RESOURCES, false, NULL },
	{ "appLogDestination", RF_LOG_DEST, false, NULL },
	{ "daprdLogDestination", RF_LOG_DEST, false, NULL },
	{ "enableApiLogging", RF_BOOL, false, "enable-api-logging" },
	{ "metricsPort", RF_PORT, true, "metrics-port" },
	{ "enableProfiling", RF_NO_EFFECT, false, "outrigd has no profiling endpoint" },
	{ "profilePort", RF_NO_EFFECT, true, "outrigd has no profiling endpoint" },
	{ "placementHostAddress", RF_NO_EFFECT, false, "outrig has no actors, so no placement service" },
	{ "schedulerHostAddress", RF_NO_EFFECT, false, "outrig has no jobs or workflows, so no scheduler" },
	{ "runtimePath", RF_NO_EFFECT, false,
	  "outrigd is found next to outrig, else by $OUTRIGD, else on PATH" },
	{ "containerImage", RF_NO_EFFECT, true,
	  "it is used by 'dapr run -k' (Kubernetes), which outrig does not do" },
	{ "containerImagePullPolicy", RF_NO_EFFECT, true,
	  "it is used by 'dapr run -k' (Kubernetes), which outrig does not do" },
	{ "createService", RF_NO_EFFECT, true,
	  "it is used by 'dapr run -k' (Kubernetes), which outrig does not do" },
	{ "unixDomainSocket", RF_REFUSE, true, "outrigd serves its API on TCP ports only; remove the field" },
	{ "appSSL", RF_BOOL, false, "app-ssl" },
};
#define RF_N_FIELDS (sizeof(rf_fields) / sizeof(rf_fields[0]))

/* One app, ready to run: its `outrig run` command line and what goes around it. */
struct rf_app {
	char *id;
	char *dir;
	int line;
	char **argv; /* "run", flags, "--", command...; NULL-terminated */
	size_t argc, cap;
	const char **env; /* name, value, ..., NULL */
	size_t n_env;
	bool app_file, app_console, sidecar_file, sidecar_console;
};

struct rf {
	const char *path; /* absolute */
	char *dir;	  /* its folder: `common`'s paths are relative to it */
	yaml_document_t doc;
	bool loaded;
	yaml_node_t *common; /* mapping or NULL */
	struct rf_app apps[RF_APPS_MAX];
	size_t n_apps;
	const char *log_as_json; /* -f's --log-as-json value, for every sidecar, or NULL */
	char **owned;		 /* strings made here, freed at the end */
	size_t n_owned;
};

static int rf_error(const struct rf *rf, const yaml_node_t *n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* "outrig run: FILE:LINE: message" on stderr. Returns 2, the exit code for a wrong file. */
static int rf_error(const struct rf *rf, const yaml_node_t *n, const char *fmt, ...)
{
	va_list ap;

	if (n != NULL)
		fprintf(stderr, "outrig run: %s:%lu: ", rf->path, (unsigned long)n->start_mark.line + 1);
	else
		fprintf(stderr, "outrig run: %s: ", rf->path);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return 2;
}

static char *rf_own(struct rf *rf, char *s)
{
	char **grown;

	if (s == NULL)
		return NULL;
	grown = realloc(rf->owned, (rf->n_owned + 1) * sizeof(*grown));
	if (grown == NULL) {
		free(s);
		return NULL;
	}
	rf->owned = grown;
	rf->owned[rf->n_owned++] = s;
	return s;
}

static const char *rf_scalar(const yaml_node_t *n)
{
	return n != NULL && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

/* The value of key in mapping m, or NULL; *key_node gets the key's node. */
static yaml_node_t *rf_get(struct rf *rf, yaml_node_t *m, const char *key)
{
	if (m == NULL || m->type != YAML_MAPPING_NODE)
		return NULL;
	for (yaml_node_pair_t *p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top; p++) {
		const char *k = rf_scalar(yaml_document_get_node(&rf->doc, p->key));

		if (k != NULL && strcmp(k, key) == 0)
			return yaml_document_get_node(&rf->doc, p->value);
	}
	return NULL;
}

/* Warns about keys of m that are not in known (NULL-terminated) nor, with fields, rf_fields. */
static void rf_unknown_keys(struct rf *rf, yaml_node_t *m, const char *const *known, bool fields,
			    const char *where)
{
	for (yaml_node_pair_t *p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top; p++) {
		yaml_node_t *kn = yaml_document_get_node(&rf->doc, p->key);
		const char *k = rf_scalar(kn);
		bool ok = false;

		for (const char *const *q = known; k != NULL && *q != NULL && !ok; q++)
			ok = strcmp(k, *q) == 0;
		for (size_t i = 0; fields && k != NULL && i < RF_N_FIELDS && !ok; i++)
			ok = strcmp(k, rf_fields[i].key) == 0;
		if (!ok)
			fprintf(stderr,
				"outrig run: warning: %s:%lu: unknown field '%s' in %s is ignored; check its "
				"spelling against Dapr's run file reference\n",
				rf->path, (unsigned long)kn->start_mark.line + 1,
				k != NULL ? k : "(not a string)", where);
	}
}

static bool rf_false(const char *v)
{
	return v == NULL || v[0] == '\0' || strcmp(v, "false") == 0 || strcmp(v, "False") == 0 ||
	       strcmp(v, "FALSE") == 0 || strcmp(v, "0") == 0;
}

static bool rf_true(const char *v)
{
	return v != NULL && (strcmp(v, "true") == 0 || strcmp(v, "True") == 0 || strcmp(v, "TRUE") == 0 ||
			     strcmp(v, "1") == 0);
}

/* A whole number, as yaml.v2 reads into an int. Returns false if it is not one. */
static bool rf_int(const char *v, long *out)
{
	char *end;

	if (v == NULL)
		return false;
	errno = 0;
	*out = strtol(v, &end, 10);
	return end != v && *end == '\0' && errno == 0;
}

/* ~ and relative paths resolved against base; the result must exist. NULL after saying why. */
static char *rf_path(struct rf *rf, yaml_node_t *n, const char *base, const char *key, bool want_dir)
{
	const char *v = rf_scalar(n), *home = getenv("HOME");
	struct stat st;
	char *p = NULL;

	if (v == NULL || v[0] == '\0') {
		rf_error(rf, n, "'%s' must be a path", key);
		return NULL;
	}
	if (v[0] == '~' && (v[1] == '/' || v[1] == '\0') && home != NULL)
		p = asprintf(&p, "%s%s", home, v + 1) < 0 ? NULL : p;
	else if (v[0] == '/')
		p = strdup(v);
	else
		p = asprintf(&p, "%s/%s", base, v) < 0 ? NULL : p;
	if (rf_own(rf, p) == NULL) {
		rf_error(rf, n, "out of memory");
		return NULL;
	}
	if (stat(p, &st) != 0) {
		rf_error(rf, n, "'%s': %s: %s (relative paths of %s are relative to %s)", key, p,
			 strerror(errno), base == rf->dir ? "'common' and 'appDirPath'" : "an app", base);
		return NULL;
	}
	if (want_dir && !S_ISDIR(st.st_mode)) {
		rf_error(rf, n, "'%s': %s is not a folder", key, p);
		return NULL;
	}
	/* Canonical, so that the folder's name (the default app id) is its last part. */
	{
		char *real = realpath(p, NULL);

		if (real != NULL && rf_own(rf, real) != NULL)
			p = real;
	}
	return p;
}

static int rf_arg(struct rf *rf, struct rf_app *a, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Appends one word to the app's `outrig run` command line. Returns 0 or -1 (out of memory). */
static int rf_arg(struct rf *rf, struct rf_app *a, const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0 || rf_own(rf, s) == NULL)
		return -1;
	if (a->argc + 2 > a->cap) {
		size_t cap = a->cap * 2 + 16;
		char **grown = realloc(a->argv, cap * sizeof(*grown));

		if (grown == NULL)
			return -1;
		a->argv = grown;
		a->cap = cap;
	}
	a->argv[a->argc++] = s;
	a->argv[a->argc] = NULL;
	return 0;
}

/* The app's value of a shared field, else common's; *base gets the folder its paths are relative to. */
static yaml_node_t *rf_field(struct rf *rf, yaml_node_t *app, const struct rf_field *f, const char **base,
			     const struct rf_app *a)
{
	yaml_node_t *n = rf_get(rf, app, f->key);

	*base = a->dir;
	if (n == NULL && !f->app_only) {
		n = rf_get(rf, rf->common, f->key);
		*base = rf->dir;
	}
	return n;
}

/* Adds the --resources-path flags of one resourcesPath or resourcesPaths node. Returns 0 or 2. */
static int rf_resources(struct rf *rf, struct rf_app *a, yaml_node_t *n, const char *key, const char *base)
{
	if (n->type == YAML_SEQUENCE_NODE) {
		for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top;
		     it++) {
			char *p = rf_path(rf, yaml_document_get_node(&rf->doc, *it), base, key, true);

			if (p == NULL)
				return 2;
			if (rf_arg(rf, a, "--resources-path=%s", p) != 0)
				return rf_error(rf, n, "out of memory");
		}
		return 0;
	}
	{
		char *p = rf_path(rf, n, base, key, true);

		if (p == NULL)
			return 2;
		if (rf_arg(rf, a, "--resources-path=%s", p) != 0)
			return rf_error(rf, n, "out of memory");
	}
	return 0;
}

/*
 * Resources and Configuration, in dapr's order: the app's own fields, then <appDirPath>/.dapr/
 * (resources/ and config.yaml), then common's; with none, `outrig run`'s own default.
 */
static int rf_app_paths(struct rf *rf, yaml_node_t *app, struct rf_app *a)
{
	yaml_node_t *one = rf_get(rf, app, "resourcesPath"), *many = rf_get(rf, app, "resourcesPaths");
	yaml_node_t *conf = rf_get(rf, app, "configFilePath");
	char local[PATH_MAX];
	struct stat st;
	int rc;

	if (one != NULL || many != NULL) {
		if (many != NULL && (rc = rf_resources(rf, a, many, "resourcesPaths", a->dir)) != 0)
			return rc;
		if (one != NULL && (rc = rf_resources(rf, a, one, "resourcesPath", a->dir)) != 0)
			return rc;
	} else if (snprintf(local, sizeof(local), "%s/.dapr/resources", a->dir) < (int)sizeof(local) &&
		   stat(local, &st) == 0 && S_ISDIR(st.st_mode)) {
		if (rf_arg(rf, a, "--resources-path=%s", local) != 0)
			return rf_error(rf, app, "out of memory");
	} else {
		one = rf_get(rf, rf->common, "resourcesPath");
		many = rf_get(rf, rf->common, "resourcesPaths");
		if (many != NULL && (rc = rf_resources(rf, a, many, "resourcesPaths", rf->dir)) != 0)
			return rc;
		if (one != NULL && (rc = rf_resources(rf, a, one, "resourcesPath", rf->dir)) != 0)
			return rc;
	}

	if (conf != NULL) {
		char *p = rf_path(rf, conf, a->dir, "configFilePath", false);

		if (p == NULL)
			return 2;
		if (rf_arg(rf, a, "--config=%s", p) != 0)
			return rf_error(rf, app, "out of memory");
	} else if (snprintf(local, sizeof(local), "%s/.dapr/config.yaml", a->dir) < (int)sizeof(local) &&
		   stat(local, &st) == 0) {
		if (rf_arg(rf, a, "--config=%s", local) != 0)
			return rf_error(rf, app, "out of memory");
	} else if ((conf = rf_get(rf, rf->common, "configFilePath")) != NULL) {
		char *p = rf_path(rf, conf, rf->dir, "configFilePath", false);

		if (p == NULL)
			return 2;
		if (rf_arg(rf, a, "--config=%s", p) != 0)
			return rf_error(rf, app, "out of memory");
	}
	return 0;
}

/* env: common's entries, then the app's, which win. Returns 0 or 2. */
static int rf_env(struct rf *rf, yaml_node_t *app, struct rf_app *a)
{
	yaml_node_t *maps[2] = { rf_get(rf, rf->common, "env"), rf_get(rf, app, "env") };

	a->env = calloc(2 * RF_ENV_MAX + 1, sizeof(*a->env));
	if (a->env == NULL)
		return rf_error(rf, app, "out of memory");
	for (int m = 0; m < 2; m++) {
		yaml_node_t *map = maps[m];

		if (map == NULL)
			continue;
		if (map->type != YAML_MAPPING_NODE)
			return rf_error(
				rf, map,
				"'env' must be a mapping of names to values, e.g. env: {DEBUG: \"true\"}");
		for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
		     p++) {
			yaml_node_t *kn = yaml_document_get_node(&rf->doc, p->key);
			const char *k = rf_scalar(kn);
			const char *v = rf_scalar(yaml_document_get_node(&rf->doc, p->value));
			size_t i;

			if (k == NULL || k[0] == '\0' || strchr(k, '=') != NULL || v == NULL)
				return rf_error(rf, kn,
						"'env' entries must be NAME: value, with a name without '='");
			for (i = 0; i < a->n_env; i++)
				if (strcmp(a->env[2 * i], k) == 0)
					break;
			if (i == a->n_env) {
				if (a->n_env == RF_ENV_MAX)
					return rf_error(rf, kn, "more than %d 'env' entries", RF_ENV_MAX);
				a->n_env++;
			}
			a->env[2 * i] = k;
			a->env[2 * i + 1] = v;
		}
	}
	return 0;
}

/* Turns one entry of apps[] into its `outrig run` command line. Returns 0 or 2. */
static int rf_app(struct rf *rf, yaml_node_t *app, struct rf_app *a)
{
	static const char *const levels[] = { "debug", "info", "warn", "error", "fatal", NULL };
	yaml_node_t *n;
	const char *base;
	int rc;

	a->line = (int)app->start_mark.line + 1;
	if (app->type != YAML_MAPPING_NODE)
		return rf_error(rf, app,
				"each entry of 'apps' must be a mapping (appID, appDirPath, command, ...)");
	n = rf_get(rf, app, "appDirPath");
	if (n == NULL)
		return rf_error(rf, app,
				"this app has no 'appDirPath'; give the folder the app runs in, e.g. "
				"appDirPath: ./myapp");
	a->dir = rf_path(rf, n, rf->dir, "appDirPath", true);
	if (a->dir == NULL)
		return 2;
	n = rf_get(rf, app, "appID");
	if (n == NULL)
		n = rf_get(rf, app, "appId");
	if (n != NULL && (rf_scalar(n) == NULL || rf_scalar(n)[0] == '\0'))
		return rf_error(rf, n, "'appID' must be a name");
	/* As dapr: with no appID, the app is named after its folder. */
	a->id = (char *)(n != NULL ? rf_scalar(n) : strrchr(a->dir, '/') + 1);
	a->app_console = a->sidecar_console = true;
	if (rf_arg(rf, a, "run") != 0 || rf_arg(rf, a, "--app-id=%s", a->id) != 0 ||
	    (rf->log_as_json != NULL && rf_arg(rf, a, "--log-as-json=%s", rf->log_as_json) != 0))
		return rf_error(rf, app, "out of memory");

	for (size_t i = 0; i < RF_N_FIELDS; i++) {
		const struct rf_field *f = &rf_fields[i];
		const char *v;
		long num;

		n = rf_field(rf, app, f, &base, a);
		if (n == NULL)
			continue;
		v = rf_scalar(n);
		switch (f->kind) {
		case RF_ID:
		case RF_DIR:
		case RF_COMMAND:
		case RF_ENV:
		case RF_CONFIG:
		case RF_RESOURCES: break; /* below */
		case RF_PORT:
			if (!rf_int(v, &num) || num > 65535)
				return rf_error(rf, n, "'%s' must be a port number (1-65535)", f->key);
			if (num > 0 && rf_arg(rf, a, "--%s=%ld", f->flag, num) != 0)
				return rf_error(rf, n, "out of memory");
			break;
		case RF_INT:
			if (!rf_int(v, &num))
				return rf_error(rf, n, "'%s' must be a whole number", f->key);
			/* dapr passes these on only when set: 0 (and -1 for appMaxConcurrency) is the default. */
			if (num > 0 && rf_arg(rf, a, "--%s=%ld", f->flag, num) != 0)
				return rf_error(rf, n, "out of memory");
			break;
		case RF_STRING:
			if (v == NULL)
				return rf_error(rf, n, "'%s' must be a string", f->key);
			if (v[0] != '\0' && rf_arg(rf, a, "--%s=%s", f->flag, v) != 0)
				return rf_error(rf, n, "out of memory");
			break;
		case RF_BOOL:
			if (!rf_true(v) && !rf_false(v))
				return rf_error(rf, n, "'%s' must be true or false", f->key);
			if (rf_true(v) && rf_arg(rf, a, "--%s=true", f->flag) != 0)
				return rf_error(rf, n, "out of memory");
			break;
		case RF_LEVEL: {
			size_t k;

			for (k = 0; v != NULL && levels[k] != NULL && strcmp(levels[k], v) != 0; k++)
				;
			if (v == NULL || levels[k] == NULL)
				return rf_error(rf, n,
						"'logLevel' must be one of debug, info, warn, error, fatal");
			if (rf_arg(rf, a, "--log-level=%s", v) != 0)
				return rf_error(rf, n, "out of memory");
			break;
		}
		case RF_PROTOCOL: {
			char *lower = v != NULL ? rf_own(rf, strdup(v)) : NULL;

			if (lower == NULL)
				return rf_error(rf, n, "'appProtocol' must be http or grpc");
			for (char *c = lower; *c != '\0'; c++)
				*c = (char)tolower((unsigned char)*c);
			/* outrigd says which protocols it does not support. */
			if (rf_arg(rf, a, "--app-protocol=%s", lower) != 0)
				return rf_error(rf, n, "out of memory");
			break;
		}
		case RF_LOG_DEST: {
			bool is_app = f->key[0] == 'a';
			bool file, console;

			if (v != NULL && strcmp(v, "console") == 0)
				file = false, console = true;
			else if (v != NULL && strcmp(v, "file") == 0)
				file = true, console = false;
			else if (v != NULL && strcmp(v, "fileAndConsole") == 0)
				file = true, console = true;
			else
				return rf_error(rf, n, "'%s' must be console, file or fileAndConsole",
						f->key);
			if (is_app) {
				a->app_file = file;
				a->app_console = console;
			} else {
				a->sidecar_file = file;
				a->sidecar_console = console;
			}
			break;
		}
		case RF_NO_EFFECT:
			fprintf(stderr, "outrig run: info: %s:%lu: app '%s': '%s' has no effect: %s\n",
				rf->path, (unsigned long)n->start_mark.line + 1, a->id, f->key, f->flag);
			break;
		case RF_REFUSE:
			if (!rf_false(v))
				return rf_error(rf, n, "app '%s': '%s' is not supported: %s", a->id, f->key,
						f->flag);
			break;
		}
	}
	if ((rc = rf_app_paths(rf, app, a)) != 0 || (rc = rf_env(rf, app, a)) != 0)
		return rc;

	n = rf_get(rf, app, "command");
	if (n != NULL) {
		if (n->type != YAML_SEQUENCE_NODE)
			return rf_error(
				rf, n,
				"'command' must be a list of words, e.g. command: [\"python3\", \"app.py\"]");
		if (rf_arg(rf, a, "--") != 0)
			return rf_error(rf, n, "out of memory");
		for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top;
		     it++) {
			const char *w = rf_scalar(yaml_document_get_node(&rf->doc, *it));

			if (w == NULL || (it == n->data.sequence.items.start && w[0] == '\0'))
				return rf_error(rf, n,
						"'command' must be a list of words, the first not empty");
			if (rf_arg(rf, a, "%s", w) != 0)
				return rf_error(rf, n, "out of memory");
		}
	}
	return 0;
}

static int rf_load(struct rf *rf)
{
	static const char *const top[] = { "version", "common", "apps", "name", NULL };
	static const char *const app_keys[] = { "appId", NULL };
	yaml_parser_t parser;
	yaml_node_t *root, *n, *apps;
	struct stat st;
	FILE *f;
	long version;
	int rc;

	f = fopen(rf->path, "rb");
	if (f == NULL || fstat(fileno(f), &st) != 0) {
		rc = rf_error(rf, NULL, "cannot read it: %s", strerror(errno));
		if (f != NULL)
			fclose(f);
		return rc;
	}
	if (st.st_size > RF_FILE_MAX) {
		fclose(f);
		return rf_error(rf, NULL, "it is over %d bytes: not a run file", RF_FILE_MAX);
	}
	yaml_parser_initialize(&parser);
	yaml_parser_set_input_file(&parser, f);
	if (!yaml_parser_load(&parser, &rf->doc)) {
		fprintf(stderr, "outrig run: %s:%lu:%lu: %s; fix the YAML\n", rf->path,
			(unsigned long)parser.problem_mark.line + 1,
			(unsigned long)parser.problem_mark.column + 1,
			parser.problem != NULL ? parser.problem : "not YAML");
		rc = 2;
		yaml_parser_delete(&parser);
		fclose(f);
		return rc;
	}
	rf->loaded = true;
	yaml_parser_delete(&parser);
	fclose(f);

	root = yaml_document_get_root_node(&rf->doc);
	if (root == NULL || root->type != YAML_MAPPING_NODE)
		return rf_error(rf, root, "a run file is a mapping with version, common and apps");
	rf_unknown_keys(rf, root, top, false, "the run file");
	n = rf_get(rf, root, "version");
	if (n == NULL || !rf_int(rf_scalar(n), &version) || version == 0)
		return rf_error(rf, n,
				"'version' is missing or not a number; Dapr's run files have version: 1");
	rf->common = rf_get(rf, root, "common");
	if (rf->common != NULL) {
		static const char *const none[] = { NULL };

		if (rf->common->type != YAML_MAPPING_NODE)
			return rf_error(rf, rf->common, "'common' must be a mapping");
		rf_unknown_keys(rf, rf->common, none, true, "'common'");
		for (size_t i = 0; i < RF_N_FIELDS; i++) {
			yaml_node_t *c =
				rf_fields[i].app_only ? rf_get(rf, rf->common, rf_fields[i].key) : NULL;

			if (c != NULL)
				return rf_error(rf, c, "'%s' belongs to each app, not to 'common'",
						rf_fields[i].key);
		}
	}
	apps = rf_get(rf, root, "apps");
	if (apps == NULL || apps->type != YAML_SEQUENCE_NODE ||
	    apps->data.sequence.items.top == apps->data.sequence.items.start)
		return rf_error(rf, apps, "'apps' is missing or empty: list the apps to run");
	for (yaml_node_item_t *it = apps->data.sequence.items.start; it < apps->data.sequence.items.top;
	     it++) {
		yaml_node_t *app = yaml_document_get_node(&rf->doc, *it);
		struct rf_app *a = &rf->apps[rf->n_apps];

		if (rf->n_apps == RF_APPS_MAX)
			return rf_error(rf, app, "more than %d apps", RF_APPS_MAX);
		rf->n_apps++;
		if (app->type == YAML_MAPPING_NODE)
			rf_unknown_keys(rf, app, app_keys, true, "an app");
		if ((rc = rf_app(rf, app, a)) != 0)
			return rc;
		for (size_t j = 0; j + 1 < rf->n_apps; j++)
			if (strcmp(rf->apps[j].id, a->id) == 0)
				return rf_error(rf, app,
						"app id '%s' is also the id of the app at line %d; give each "
						"app an appID of its own",
						a->id, rf->apps[j].line);
	}
	return 0;
}

static void rf_free(struct rf *rf)
{
	for (size_t i = 0; i < rf->n_apps; i++) {
		free(rf->apps[i].argv);
		free(rf->apps[i].env);
	}
	for (size_t i = 0; i < rf->n_owned; i++)
		free(rf->owned[i]);
	free(rf->owned);
	free(rf->dir);
	if (rf->loaded)
		yaml_document_delete(&rf->doc);
}

int runfile_path(const char *who, const char *arg, char *buf, size_t size)
{
	char joined[PATH_MAX], real[PATH_MAX];
	struct stat st;
	size_t len = strlen(arg);

	if (strcmp(arg, "-") == 0) {
		fprintf(stderr,
			"%s: reading the run file from standard input (-f -) is not supported; give its "
			"path or its folder\n",
			who);
		return -1;
	}
	if (stat(arg, &st) != 0) {
		fprintf(stderr, "%s: run file %s: %s\n", who, arg, strerror(errno));
		return -1;
	}
	if (S_ISDIR(st.st_mode)) {
		if (snprintf(joined, sizeof(joined), "%s/" RF_DEFAULT_NAME, arg) >= (int)sizeof(joined) ||
		    stat(joined, &st) != 0) {
			fprintf(stderr,
				"%s: no " RF_DEFAULT_NAME " in the folder %s; give the run file's path\n",
				who, arg);
			return -1;
		}
		arg = joined;
	} else if (!(len > 5 && strcmp(arg + len - 5, ".yaml") == 0) &&
		   !(len > 4 && strcmp(arg + len - 4, ".yml") == 0)) {
		fprintf(stderr, "%s: run file %s is not a YAML file (.yaml or .yml), as dapr requires\n", who,
			arg);
		return -1;
	}
	if (realpath(arg, real) == NULL || strlen(real) >= size) {
		fprintf(stderr, "%s: run file %s: %s\n", who, arg, strerror(errno ? errno : ENAMETOOLONG));
		return -1;
	}
	strcpy(buf, real);
	return 0;
}

/* <appDirPath>/.dapr/logs/<id>_<kind>_<time>.log, as dapr names its log files. Returns an fd or -1. */
static int rf_log_file(const struct rf_app *a, const char *kind)
{
	char path[PATH_MAX], stamp[32];
	time_t now = time(NULL);
	struct tm tm;
	int fd;

	localtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%d%H%M%S", &tm);
	snprintf(path, sizeof(path), "%s/.dapr", a->dir);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/.dapr/logs", a->dir);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/.dapr/logs/%s_%s_%s.log", a->dir, a->id, kind, stamp);
	fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (fd < 0)
		fprintf(stderr, "outrig run: %s: cannot open the log file %s: %s\n", a->id, path,
			strerror(errno));
	else
		fprintf(stderr, "outrig run: %s: writing %s's log to %s\n", a->id,
			strcmp(kind, "app") == 0 ? "the app" : "outrigd", path);
	return fd;
}

/* SIGPIPE's disposition when we started, for the apps. */
static void (*rf_saved_pipe)(int) = SIG_DFL;

/* In the forked child: one app, as a plain `outrig run` with its context. Does not return. */
static void rf_child(const char *path, struct rf_app *a, pid_t parent)
{
	struct run_ctx ctx = { .tag = a->id, .run_file = path, .app_env = a->env };
	int fd;

	/*
	 * Our parent's handlers write to its pipe; this process installs its own. SIGPIPE as it
	 * was before the parent ignored it, so that the app and outrigd get it as from a shell.
	 */
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	signal(SIGPIPE, rf_saved_pipe);
	/* Out of the terminal's group: Ctrl-C reaches it through the parent, once. */
	setpgid(0, 0);
#ifdef __linux__
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	/* The parent may have died before the line above. */
	if (getppid() != parent)
		_exit(1);
#endif
	/* Apps of a run file share the terminal's output, not its input. */
	fd = open("/dev/null", O_RDONLY);
	if (fd >= 0 && fd != STDIN_FILENO) {
		dup2(fd, STDIN_FILENO);
		close(fd);
	}
	if (chdir(a->dir) != 0) {
		fprintf(stderr, "outrig run: %s: cannot enter %s: %s\n", a->id, a->dir, strerror(errno));
		_exit(1);
	}
	ctx.app_log_fd = a->app_file ? rf_log_file(a, "app") : -1;
	ctx.sidecar_log_fd = a->sidecar_file ? rf_log_file(a, "daprd") : -1;
	if ((a->app_file && ctx.app_log_fd < 0) || (a->sidecar_file && ctx.sidecar_log_fd < 0))
		_exit(1);
	ctx.app_no_console = !a->app_console;
	ctx.sidecar_no_console = !a->sidecar_console;
	fflush(NULL);
	fd = run_main_ctx((int)a->argc, a->argv, &ctx);
	fflush(NULL);
	_exit(fd);
}

static int rf_signal_fd = -1;

static void rf_on_signal(int sig)
{
	int saved = errno;
	unsigned char b = (unsigned char)sig;

	if (write(rf_signal_fd, &b, 1) < 0)
		errno = saved;
	errno = saved;
}

int runfile_run(const char *arg, const char *log_as_json)
{
	char path[PATH_MAX];
	struct rf rf;
	pid_t pids[RF_APPS_MAX];
	size_t running = 0;
	int p[2], rc, failed = 0;
	struct sigaction sa;
	bool stopping = false;
	pid_t self = getpid();

	memset(&rf, 0, sizeof(rf));
	if (runfile_path("outrig run", arg, path, sizeof(path)) != 0)
		return 2;
	rf.path = path;
	rf.dir = strdup(path);
	if (rf.dir == NULL) {
		perror("outrig run");
		return 1;
	}
	*strrchr(rf.dir, '/') = '\0';
	if (rf.dir[0] == '\0')
		strcpy(rf.dir, "/");
	rf.log_as_json = log_as_json;
	rc = rf_load(&rf);
	if (rc != 0 || pipe(p) != 0) {
		if (rc == 0) {
			perror("outrig run");
			rc = 1;
		}
		rf_free(&rf);
		return rc;
	}
	rf_signal_fd = p[1];
	fcntl(p[0], F_SETFL, O_NONBLOCK);
	fcntl(p[1], F_SETFL, O_NONBLOCK);
	fcntl(p[0], F_SETFD, FD_CLOEXEC);
	fcntl(p[1], F_SETFD, FD_CLOEXEC);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = rf_on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	rf_saved_pipe = signal(SIGPIPE, SIG_IGN);
	if (rf_saved_pipe == SIG_ERR)
		rf_saved_pipe = SIG_DFL;

	for (size_t i = 0; i < rf.n_apps; i++) {
		pid_t pid;

		fflush(NULL);
		pid = fork();
		if (pid == 0)
			rf_child(path, &rf.apps[i], self);
		if (pid < 0) {
			fprintf(stderr, "outrig run: cannot start app '%s': %s; stopping the others\n",
				rf.apps[i].id, strerror(errno));
			failed = 1;
			stopping = true;
			for (size_t j = 0; j < i; j++)
				kill(pids[j], SIGTERM);
			for (size_t j = i; j < rf.n_apps; j++)
				pids[j] = -1;
			break;
		}
		/* Here too, so that a signal forwarded at once reaches it in its own group. */
		setpgid(pid, pid);
		pids[i] = pid;
		running++;
	}
	if (!stopping)
		fprintf(stderr, "outrig run: started %zu app%s of %s; Ctrl-C stops them all\n", rf.n_apps,
			rf.n_apps == 1 ? "" : "s", path);

	while (running > 0) {
		struct pollfd pfd = { .fd = p[0], .events = POLLIN };
		unsigned char sigs[16];
		ssize_t n;
		pid_t pid;
		int status;

		poll(&pfd, 1, 200);
		while ((n = read(p[0], sigs, sizeof(sigs))) > 0) {
			for (ssize_t k = 0; k < n; k++) {
				/* Each app's `outrig run` stops its app and sidecar; a second signal hurries it. */
				int fwd = sigs[k] == SIGINT ? SIGINT : SIGTERM;

				if (!stopping)
					fprintf(stderr, "outrig run: stopping all apps of %s\n", path);
				stopping = true;
				for (size_t i = 0; i < rf.n_apps; i++)
					if (pids[i] > 0)
						kill(pids[i], fwd);
			}
		}
		while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
			for (size_t i = 0; i < rf.n_apps; i++) {
				if (pids[i] != pid)
					continue;
				pids[i] = -1;
				running--;
				if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
					break;
				/* 128 + a stop signal: told to stop, by us, `outrig stop -f` or `outrig stop --app-id`. */
				if (WIFEXITED(status) && (WEXITSTATUS(status) == 128 + SIGINT ||
							  WEXITSTATUS(status) == 128 + SIGTERM ||
							  WEXITSTATUS(status) == 128 + SIGHUP)) {
					if (!stopping)
						fprintf(stderr, "outrig run: app '%s' was stopped%s\n",
							rf.apps[i].id,
							running > 0 ? "; the other apps go on" : "");
					break;
				}
				failed = 1;
				if (WIFEXITED(status))
					fprintf(stderr,
						"outrig run: app '%s' (run file line %d) ended with status %d%s\n",
						rf.apps[i].id, rf.apps[i].line, WEXITSTATUS(status),
						running > 0 && !stopping ? "; the other apps go on" : "");
				else
					fprintf(stderr,
						"outrig run: app '%s' (run file line %d) ended by signal %d%s\n",
						rf.apps[i].id, rf.apps[i].line,
						WIFSIGNALED(status) ? WTERMSIG(status) : 0,
						running > 0 && !stopping ? "; the other apps go on" : "");
				break;
			}
		}
	}
	close(p[0]);
	close(p[1]);
	rf_free(&rf);
	return failed ? 1 : 0;
}
