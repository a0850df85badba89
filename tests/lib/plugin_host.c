/* SPDX-License-Identifier: Apache-2.0 */
/* A test's stand-in for the core around one plugin: host table, loader, config view. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "plugin_host.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <check.h>

#include "components/config_map.h"
#include "exchange.h"
#include "components/loader.h"

/* The timers create() asked for, with PLUGIN_HOST_TIMERS_RECORD. */
struct timer {
	const struct outrig_handle *who;
	int64_t interval_ms;
	void (*fn)(void *instance);
};

#define MAX_TIMERS 64

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static struct plugin_host_options opts;
static struct loader ld;
static char data_dir[64];
static char *log_text;
static size_t log_len;
static struct timer timers[MAX_TIMERS];
static size_t ntimers;

static void host_log(const struct outrig_handle *who, enum outrig_log_level level, const char *fmt, ...)
{
	char line[2048];
	va_list ap;

	if (level < opts.min_level)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	fprintf(stderr, "[%s] %d %s\n", who != NULL ? who->name : "?", (int)level, line);
	pthread_mutex_lock(&mu);
	log_text = realloc(log_text, log_len + strlen(line) + 2);
	ck_assert_ptr_nonnull(log_text);
	memcpy(log_text + log_len, line, strlen(line));
	log_len += strlen(line);
	log_text[log_len++] = '\n';
	log_text[log_len] = '\0';
	pthread_mutex_unlock(&mu);
}

static int host_bytes_set(struct outrig_bytes *dst, const void *src, size_t len)
{
	void *copy = malloc(len > 0 ? len : 1);

	if (copy == NULL)
		return OUTRIG_ENOMEM;
	memcpy(copy, src, len);
	free(dst->data);
	dst->data = copy;
	dst->len = len;
	return OUTRIG_OK;
}

static int64_t host_now_unix_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t host_now_mono_ms(void)
{
	return xnow_ms();
}

static int host_every(struct outrig_handle *self, int64_t interval_ms, void (*fn)(void *instance))
{
	switch (opts.timers) {
	case PLUGIN_HOST_TIMERS_IGNORE: return OUTRIG_OK;
	case PLUGIN_HOST_TIMERS_FORBID:
		ck_abort_msg("%s",
			     opts.forbid_reason != NULL ? opts.forbid_reason : "the plugin needs no timer");
		return OUTRIG_EINVAL;
	case PLUGIN_HOST_TIMERS_RECORD: break;
	}
	if (interval_ms <= 0 || fn == NULL)
		return OUTRIG_EINVAL;
	pthread_mutex_lock(&mu);
	ck_assert_uint_lt(ntimers, MAX_TIMERS);
	timers[ntimers++] = (struct timer){ self, interval_ms, fn };
	pthread_mutex_unlock(&mu);
	return OUTRIG_OK;
}

static int host_kv_put(struct outrig_kv_sink *out, const char *group, const char *name, const char *value)
{
	(void)out;
	(void)group;
	(void)name;
	(void)value;
	return OUTRIG_OK;
}

static struct outrig_host host = {
	.struct_size = sizeof(struct outrig_host),
	.abi_major = OUTRIG_ABI_MAJOR,
	.abi_minor = OUTRIG_ABI_MINOR,
	.runtime_version = "test",
	.log = host_log,
	.bytes_set = host_bytes_set,
	.now_unix_ms = host_now_unix_ms,
	.now_mono_ms = host_now_mono_ms,
	.every = host_every,
	.data_dir = data_dir,
	.kv_put = host_kv_put,
};

const struct outrig_host *plugin_host_start(const struct plugin_host_options *o)
{
	/* Fresh state even when check does not fork (CK_FORK=no, e.g. under valgrind). */
	opts = *o;
	ntimers = 0;
	free(log_text);
	log_text = NULL;
	log_len = 0;
	host.pubsub_deliver = o->pubsub_deliver;
	host.binding_deliver = o->binding_deliver;
	if (o->temp_dir == NULL) {
		snprintf(data_dir, sizeof(data_dir), "/tmp");
	} else {
		snprintf(data_dir, sizeof(data_dir), "/tmp/%s-XXXXXX", o->temp_dir);
		ck_assert_ptr_nonnull(mkdtemp(data_dir));
	}
	ck_assert_int_eq(loader_init(&ld, NULL), 0);
	return &host;
}

const struct outrig_plugin *plugin_host_load(const char *type)
{
	char err[1024];
	struct plugin *p = loader_get(&ld, type, "v1", true, err, sizeof(err));

	ck_assert_msg(p != NULL, "%s", err);
	return &p->desc;
}

void plugin_host_stop(void)
{
	char cmd[600];

	loader_close(&ld);
	if (opts.temp_dir == NULL)
		return;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", data_dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", data_dir);
}

bool plugin_host_log_has(const char *needle)
{
	bool has;

	pthread_mutex_lock(&mu);
	has = log_text != NULL && strstr(log_text, needle) != NULL;
	pthread_mutex_unlock(&mu);
	return has;
}

size_t plugin_host_fire(const struct outrig_handle *who, int64_t interval_ms, void *instance)
{
	size_t fired = 0;

	for (size_t i = 0; i < ntimers; i++)
		if (timers[i].who == who && timers[i].interval_ms == interval_ms) {
			timers[i].fn(instance);
			fired++;
		}
	return fired;
}

void plugin_host_wait(pthread_cond_t *cond, pthread_mutex_t *lock, long ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_cond_timedwait(cond, lock, &ts);
}

/* The last value of name in pairs (name, value, ..., NULL); text when pairs does not name it. */
static const char *pick(const char *const *pairs, const char *name, const char *text)
{
	for (const char *const *o = pairs; o != NULL && *o != NULL; o += 2)
		if (strcasecmp(o[0], name) == 0)
			text = o[1];
	return text;
}

void plugin_host_config(struct plugin_host_config *tc, const struct outrig_plugin *p, const char *type,
			const char *component, const char *const *base, const char *const *overrides)
{
	size_t n = 0;

	memset(tc, 0, sizeof(*tc));
	for (const struct outrig_field *f = p->fields; f != NULL && f->name != NULL; f++, n++) {
		struct outrig_config_value *v = &tc->values[n];

		ck_assert_uint_lt(n, PLUGIN_HOST_MAX_FIELDS);
		v->name = f->name;
		v->type = f->type;
		v->known = true;
		v->text = pick(overrides, f->name, pick(base, f->name, f->default_value));
		v->is_set = v->text != NULL;
		if (v->is_set && f->type != OUTRIG_FIELD_STRING)
			ck_assert_msg(config_value_parse(f->type, v->text, &v->int_value),
				      "%s: bad test value %s", f->name, v->text);
	}
	tc->config.struct_size = sizeof(struct outrig_config);
	tc->config.component = component;
	tc->config.type = type != NULL ? type : p->type;
	tc->config.version = "v1";
	tc->config.app_id = "testapp";
	tc->config.count = n;
	tc->config.values = tc->values;
	tc->config.init_timeout_ms = 5000;
}
