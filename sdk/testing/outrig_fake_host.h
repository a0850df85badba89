/* SPDX-License-Identifier: Apache-2.0 */
/* A small stand-in for outrigd's host table, so a plugin's unit tests run without outrigd. */
#ifndef OUTRIG_FAKE_HOST_H
#define OUTRIG_FAKE_HOST_H

/*
 * Include this in a test program (never in the plugin itself), after building the plugin as
 * usual: the test opens the real .so with outrig_fake_open(), checks its descriptor, builds a
 * component's metadata with outrig_fake_config() and calls create(), the operations and
 * destroy() on the calling thread. Link the test with -ldl on C libraries that need it.
 *
 * What it does not do, because outrigd does it: validate metadata against the plugin's fields as
 * strictly (this parses values, fills defaults and refuses unknown types, nothing more), run
 * operations on worker threads, deliver to an app, retry. Test the plugin's own work here, and
 * the whole with `outrigd --check-create` and a running outrigd.
 *
 * Everything is static inline: one test file includes it once. Only libc types and the SDK's.
 */

#include <dlfcn.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <outrig/plugin.h>

/* The fake's handle: the core's is opaque to plugins, so a test may define its own. */
struct outrig_handle {
	const char *name;
	struct outrig_fake_host *fake;
};

#define OUTRIG_FAKE_MAX_TIMERS 8
#define OUTRIG_FAKE_MAX_PENDING 64

struct outrig_fake_timer {
	int64_t interval_ms;
	void (*fn)(void *instance);
};

/* A message or event handed to pubsub_deliver or binding_deliver, not yet settled. */
struct outrig_fake_pending {
	char *data; /* a NUL-terminated copy */
	size_t len;
	void (*done)(void *done_ctx, int outcome);
	void *done_ctx;
};

struct outrig_fake_host {
	struct outrig_host host; /* hand &fake.host to init() and create() */
	struct outrig_handle self;
	/* The clock the plugin sees: 0 means the real one; set it to test expiry. */
	int64_t now_unix_ms;
	/* The last line the plugin logged, and how many. */
	char last_log[OUTRIG_ERROR_MAX];
	unsigned log_lines;
	bool quiet; /* true: do not echo log lines to stderr */
	struct outrig_fake_timer timers[OUTRIG_FAKE_MAX_TIMERS];
	size_t ntimers;
	struct outrig_fake_pending pending[OUTRIG_FAKE_MAX_PENDING];
	size_t npending;
};

/* The fake host of a handle the plugin passed back. */
static inline struct outrig_fake_host *outrig_fake_of(const struct outrig_handle *who)
{
	return who != NULL ? who->fake : NULL;
}

static inline void outrig_fake_log(const struct outrig_handle *who, enum outrig_log_level level,
				   const char *fmt, ...)
{
	struct outrig_fake_host *f = outrig_fake_of(who);
	static const char *const names[] = { "debug", "info", "warn", "error", "fatal" };
	char line[OUTRIG_ERROR_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (f != NULL) {
		memcpy(f->last_log, line, sizeof(line));
		f->log_lines++;
	}
	if (f == NULL || !f->quiet)
		fprintf(stderr, "[%s] %s: %s\n", (unsigned)level < 5 ? names[level] : "?",
			who != NULL && who->name != NULL ? who->name : "plugin", line);
}

static inline int outrig_fake_bytes_set(struct outrig_bytes *dst, const void *src, size_t len)
{
	void *copy = malloc(len + 1);

	if (copy == NULL)
		return OUTRIG_ENOMEM;
	if (len > 0)
		memcpy(copy, src, len);
	((char *)copy)[len] = '\0'; /* so tests may compare as strings */
	free(dst->data);
	dst->data = copy;
	dst->len = len;
	return 0;
}

/* Frees what bytes_set put in b. Ownership: in outrigd the core frees; here the test does. */
static inline void outrig_fake_bytes_free(struct outrig_bytes *b)
{
	free(b->data);
	b->data = NULL;
	b->len = 0;
}

static inline int64_t outrig_fake_real_ms(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The fake's clock: set by outrig_fake_init(), moved by the test. One fake per test program. */
static struct outrig_fake_host *outrig_fake_current;

static inline int64_t outrig_fake_now_unix_ms(void)
{
	if (outrig_fake_current != NULL && outrig_fake_current->now_unix_ms != 0)
		return outrig_fake_current->now_unix_ms;
	return outrig_fake_real_ms(CLOCK_REALTIME);
}

static inline int64_t outrig_fake_now_mono_ms(void)
{
	return outrig_fake_real_ms(CLOCK_MONOTONIC);
}

/* Records the timer; the test runs it with outrig_fake_run_timers(). */
static inline int outrig_fake_every(struct outrig_handle *self, int64_t interval_ms,
				    void (*fn)(void *instance))
{
	struct outrig_fake_host *f = outrig_fake_of(self);

	if (f == NULL || fn == NULL || interval_ms <= 0 || f->ntimers == OUTRIG_FAKE_MAX_TIMERS)
		return OUTRIG_EINVAL;
	f->timers[f->ntimers].interval_ms = interval_ms;
	f->timers[f->ntimers++].fn = fn;
	return 0;
}

static inline int outrig_fake_hold(const void *data, size_t len, void (*done)(void *, int), void *done_ctx)
{
	struct outrig_fake_host *f = outrig_fake_current;
	struct outrig_fake_pending *p;

	if (f == NULL || f->npending == OUTRIG_FAKE_MAX_PENDING)
		return OUTRIG_EUNAVAIL; /* as outrigd when full: the plugin keeps the message */
	p = &f->pending[f->npending];
	p->data = malloc(len + 1);
	if (p->data == NULL)
		return OUTRIG_ENOMEM;
	if (len > 0)
		memcpy(p->data, data, len);
	p->data[len] = '\0';
	p->len = len;
	p->done = done;
	p->done_ctx = done_ctx;
	f->npending++;
	return 0;
}

static inline int outrig_fake_pubsub_deliver(struct outrig_pubsub_sink *sink,
					     const struct outrig_pubsub_message *msg,
					     void (*done)(void *done_ctx, int outcome), void *done_ctx)
{
	(void)sink;
	if (msg == NULL)
		return OUTRIG_EINVAL;
	return outrig_fake_hold(msg->data, msg->data_len, done, done_ctx);
}

static inline int outrig_fake_binding_deliver(struct outrig_binding_sink *sink,
					      const struct outrig_binding_event *ev,
					      void (*done)(void *done_ctx, int outcome), void *done_ctx)
{
	(void)sink;
	if (ev == NULL)
		return OUTRIG_EINVAL;
	return outrig_fake_hold(ev->data, ev->data_len, done, done_ctx);
}

/* A key/value list as secret stores and bindings fill it. Tests pass one where the core would. */
#define OUTRIG_FAKE_MAX_KV 32
struct outrig_kv_sink {
	size_t count;
	struct {
		char *group, *name, *value;
	} items[OUTRIG_FAKE_MAX_KV];
};

static inline int outrig_fake_kv_put(struct outrig_kv_sink *out, const char *group, const char *name,
				     const char *value)
{
	if (out->count == OUTRIG_FAKE_MAX_KV)
		return OUTRIG_ENOMEM;
	out->items[out->count].group = group != NULL ? strdup(group) : NULL;
	out->items[out->count].name = strdup(name);
	out->items[out->count].value = strdup(value);
	out->count++;
	return 0;
}

/* The value put under group/name (group NULL: none), or NULL. */
static inline const char *outrig_fake_kv_get(const struct outrig_kv_sink *out, const char *group,
					     const char *name)
{
	for (size_t i = 0; i < out->count; i++)
		if ((group == NULL
			     ? out->items[i].group == NULL
			     : out->items[i].group != NULL && strcmp(out->items[i].group, group) == 0) &&
		    strcmp(out->items[i].name, name) == 0)
			return out->items[i].value;
	return NULL;
}

static inline void outrig_fake_kv_free(struct outrig_kv_sink *out)
{
	for (size_t i = 0; i < out->count; i++) {
		free(out->items[i].group);
		free(out->items[i].name);
		free(out->items[i].value);
	}
	out->count = 0;
}

/*
 * Sets up f as the host a plugin gets, naming the component name and using data_dir as
 * host->data_dir (make it first). Thread: the test's.
 */
static inline void outrig_fake_init(struct outrig_fake_host *f, const char *name, const char *data_dir)
{
	memset(f, 0, sizeof(*f));
	f->host.struct_size = sizeof(f->host);
	f->host.abi_major = OUTRIG_ABI_MAJOR;
	f->host.abi_minor = OUTRIG_ABI_MINOR;
	f->host.runtime_version = "fake";
	f->host.log = outrig_fake_log;
	f->host.bytes_set = outrig_fake_bytes_set;
	f->host.now_unix_ms = outrig_fake_now_unix_ms;
	f->host.now_mono_ms = outrig_fake_now_mono_ms;
	f->host.every = outrig_fake_every;
	f->host.pubsub_deliver = outrig_fake_pubsub_deliver;
	f->host.data_dir = data_dir;
	f->host.kv_put = outrig_fake_kv_put;
	f->host.binding_deliver = outrig_fake_binding_deliver;
	f->self.name = name;
	f->self.fake = f;
	outrig_fake_current = f;
}

/* Calls every timer the plugin registered in create(), once, with its instance. */
static inline void outrig_fake_run_timers(struct outrig_fake_host *f, void *instance)
{
	for (size_t i = 0; i < f->ntimers; i++)
		f->timers[i].fn(instance);
}

/* Settles every pending delivery with outcome (OUTRIG_PUBSUB_SETTLED, ...), oldest first. */
static inline void outrig_fake_settle(struct outrig_fake_host *f, int outcome)
{
	for (size_t i = 0; i < f->npending; i++) {
		if (f->pending[i].done != NULL)
			f->pending[i].done(f->pending[i].done_ctx, outcome);
		free(f->pending[i].data);
	}
	f->npending = 0;
}

/*
 * Opens a plugin file as outrigd does (RTLD_NOW: an undefined symbol fails here) and returns its
 * descriptor after the checks a test most needs (magic, ABI major, struct_size), or NULL with the
 * reason in err. The file stays open until the process exits.
 */
static inline const struct outrig_plugin *outrig_fake_open(const char *path, struct outrig_error *err)
{
	const struct outrig_plugin *(*entry)(void);
	const struct outrig_plugin *d;
	void *dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);

	if (dl == NULL) {
		outrig_err(err, OUTRIG_EINVAL, "%s", dlerror());
		return NULL;
	}
	*(void **)&entry = dlsym(dl, OUTRIG_PLUGIN_ENTRY_NAME);
	if (entry == NULL) {
		outrig_err(err, OUTRIG_EINVAL, "%s: no %s symbol; define it with OUTRIG_PLUGIN()", path,
			   OUTRIG_PLUGIN_ENTRY_NAME);
		return NULL;
	}
	d = entry();
	if (d == NULL || d->magic != OUTRIG_PLUGIN_MAGIC || d->abi_major != OUTRIG_ABI_MAJOR ||
	    d->struct_size > sizeof(struct outrig_plugin) || d->versions == NULL || d->versions[0] == NULL) {
		outrig_err(
			err, OUTRIG_EINVAL,
			"%s: the descriptor is not one outrigd would load (magic, abi_major, struct_size or versions)",
			path);
		return NULL;
	}
	return d;
}

/* Parses a Go duration ("1h30m", "500ms") or bare seconds into milliseconds, as outrigd does. */
static inline bool outrig_fake_duration(const char *text, int64_t *ms)
{
	static const struct {
		const char *unit;
		double ms;
	} units[] = { { "ms", 1 }, { "h", 3600000 }, { "m", 60000 }, { "s", 1000 } };
	char *end;
	double total = 0, n;

	n = strtod(text, &end);
	if (end != text && *end == '\0') {
		*ms = (int64_t)(n * 1000);
		return n >= 0;
	}
	for (const char *p = text; *p != '\0'; p = end) {
		size_t i;

		n = strtod(p, &end);
		if (end == p || n < 0)
			return false;
		for (i = 0; i < sizeof(units) / sizeof(units[0]); i++)
			if (strncmp(end, units[i].unit, strlen(units[i].unit)) == 0)
				break;
		if (i == sizeof(units) / sizeof(units[0]))
			return false;
		total += n * units[i].ms;
		end += strlen(units[i].unit);
	}
	*ms = (int64_t)total;
	return *text != '\0';
}

/* A component's metadata as create() gets it; free with outrig_fake_config_free(). */
struct outrig_fake_config {
	struct outrig_config config;
	struct outrig_config_value values[32];
};

/*
 * Builds cfg for component name of type/version from the plugin's fields and NULL-terminated
 * name, value pairs (as spec.metadata), filling defaults. Returns 0, or OUTRIG_EINVAL with err
 * naming the field when a required one is missing, a value does not parse, or a name is unknown
 * (outrigd only warns about unknown names; a test is better off refusing them).
 * Ownership: cfg points into d's fields and the strings given; keep them while cfg is used.
 */
static inline int outrig_fake_config(struct outrig_fake_config *cfg, const struct outrig_plugin *d,
				     const char *name, const char *version, const char *const *pairs,
				     struct outrig_error *err)
{
	size_t n = 0;

	memset(cfg, 0, sizeof(*cfg));
	for (size_t p = 0; pairs != NULL && pairs[p] != NULL; p += 2) {
		bool known = false;

		for (const struct outrig_field *fl = d->fields; fl != NULL && fl->name != NULL; fl++)
			known |= strcasecmp(fl->name, pairs[p]) == 0 ||
				 (fl->alias != NULL && strcasecmp(fl->alias, pairs[p]) == 0);
		if (!known)
			return outrig_err(err, OUTRIG_EINVAL,
					  "spec.metadata[%s]: %s does not declare this field", pairs[p],
					  d->type);
	}
	for (const struct outrig_field *fl = d->fields; fl != NULL && fl->name != NULL; fl++) {
		struct outrig_config_value *v = &cfg->values[n];
		const char *text = fl->default_value;

		if (n == sizeof(cfg->values) / sizeof(cfg->values[0]))
			return outrig_err(err, OUTRIG_EINVAL, "more than %zu fields", n);
		for (size_t p = 0; pairs != NULL && pairs[p] != NULL; p += 2)
			if (strcasecmp(fl->name, pairs[p]) == 0 ||
			    (fl->alias != NULL && strcasecmp(fl->alias, pairs[p]) == 0))
				text = pairs[p + 1];
		v->name = fl->name;
		v->text = text;
		v->is_set = text != NULL;
		v->known = true;
		v->type = fl->type;
		if (text == NULL && fl->required)
			return outrig_err(err, OUTRIG_EINVAL, "spec.metadata: %s needs \"%s\"", d->type,
					  fl->name);
		if (text != NULL && fl->type == OUTRIG_FIELD_INT) {
			char *end;

			errno = 0;
			v->int_value = strtoll(text, &end, 10);
			if (end == text || *end != '\0' || errno != 0)
				return outrig_err(err, OUTRIG_EINVAL,
						  "spec.metadata[%s]: \"%s\" is not an integer", fl->name,
						  text);
		} else if (text != NULL && fl->type == OUTRIG_FIELD_BOOL) {
			if (strcasecmp(text, "true") == 0 || strcasecmp(text, "yes") == 0 ||
			    strcmp(text, "1") == 0 || strcasecmp(text, "on") == 0)
				v->int_value = 1;
			else if (strcasecmp(text, "false") == 0 || strcasecmp(text, "no") == 0 ||
				 strcmp(text, "0") == 0 || strcasecmp(text, "off") == 0)
				v->int_value = 0;
			else
				return outrig_err(err, OUTRIG_EINVAL,
						  "spec.metadata[%s]: \"%s\" is not a boolean", fl->name,
						  text);
		} else if (text != NULL && fl->type == OUTRIG_FIELD_DURATION &&
			   !outrig_fake_duration(text, &v->int_value)) {
			return outrig_err(err, OUTRIG_EINVAL, "spec.metadata[%s]: \"%s\" is not a duration",
					  fl->name, text);
		}
		n++;
	}
	cfg->config.struct_size = sizeof(cfg->config);
	cfg->config.component = name;
	cfg->config.type = d->type;
	cfg->config.version = version;
	cfg->config.app_id = "test";
	cfg->config.count = n;
	cfg->config.values = cfg->values;
	cfg->config.init_timeout_ms = 5000;
	return 0;
}

#endif /* OUTRIG_FAKE_HOST_H */
