/* SPDX-License-Identifier: Apache-2.0 */
/* bindings.cron: an input binding that calls the app on a schedule, one tick in flight at a time. */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <outrig/plugin.h>

#include "cron_schedule.h"

/* The build passes the package version; an out-of-tree build may not. */
#ifndef PLUGIN_VERSION
#define PLUGIN_VERSION "0.1.0"
#endif

/* The longest the ticker sleeps before looking at the wall clock again (it may have been set). */
#define CRON_SLICE_MS 1000

typedef int cron_deliver_fn(struct outrig_binding_sink *sink, const struct outrig_binding_event *ev,
			    void (*done)(void *done_ctx, int outcome), void *done_ctx);

struct cron_binding {
	const struct outrig_host *host;
	struct outrig_handle *self;
	char *component;
	char *schedule_text;
	struct cron_schedule schedule;

	/* Guards everything below; wake signals the ticker (a tick settled, or destroy). */
	pthread_mutex_t lock;
	pthread_cond_t wake;
	pthread_t ticker;
	bool started;
	bool stopping;
	struct outrig_binding_sink *sink;
	bool inflight;	    /* a tick was handed to the core and done() has not come yet */
	bool pending;	    /* a tick fired that is not handed over yet */
	int64_t pending_ms; /* wall-clock time of the latest such tick */
	unsigned merged;    /* ticks that fired while inflight, folded into the pending one */
};

/* host->binding_deliver, or NULL when the core predates it (a host table older than ABI 1.4). */
static cron_deliver_fn *cron_deliver_of(const struct outrig_host *host)
{
	if (host->struct_size < offsetof(struct outrig_host, binding_deliver) + sizeof(host->binding_deliver))
		return NULL;
	return host->binding_deliver;
}

/* Go's time.Time.String() of a UTC time, as daprd's readTimeUTC: "2006-01-02 15:04:05.5 +0000 UTC". */
static void cron_go_utc(int64_t ms, char *buf, size_t len)
{
	time_t secs = (time_t)(ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
	int frac = (int)(ms - (int64_t)secs * 1000);
	struct tm tm;
	char digits[8] = "";
	size_t n;

	gmtime_r(&secs, &tm);
	if (frac != 0) {
		snprintf(digits, sizeof(digits), ".%03d", frac);
		for (n = strlen(digits); digits[n - 1] == '0'; n--)
			digits[n - 1] = '\0';
	}
	snprintf(buf, len, "%04d-%02d-%02d %02d:%02d:%02d%s +0000 UTC", tm.tm_year + 1900, tm.tm_mon + 1,
		 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, digits);
}

/*
 * The core settled a tick. Nothing is kept per tick: a schedule has no source to acknowledge,
 * and a tick the app never acknowledged (UNSETTLED: outrigd is stopping) is not worth replaying
 * after a restart, when the schedule fires anew. Runs on the core's event loop: only signal.
 */
static void cron_done(void *ctx, int outcome)
{
	struct cron_binding *c = ctx;

	pthread_mutex_lock(&c->lock);
	c->inflight = false;
	if (outcome != OUTRIG_PUBSUB_SETTLED)
		c->pending = false;
	pthread_cond_signal(&c->wake);
	pthread_mutex_unlock(&c->lock);
}

/* Hands the pending tick to the core. Called and returns with c->lock held. */
static void cron_hand_over(struct cron_binding *c)
{
	char read_time[64];
	struct outrig_kv items[2] = { { "timeZone", "Local" }, { "readTimeUTC", read_time } };
	struct outrig_binding_event ev = { .data = "", .data_len = 0, .metadata = { 2, items } };
	unsigned merged = c->merged;
	int rc;

	cron_go_utc(c->pending_ms, read_time, sizeof(read_time));
	c->pending = false;
	c->merged = 0;
	c->inflight = true;
	pthread_mutex_unlock(&c->lock);
	if (merged > 0)
		c->host->log(
			c->self, OUTRIG_LOG_INFO,
			"component \"%s\": %u ticks of schedule \"%s\" fired while the app was still handling the previous one; delivering them as one",
			c->component, merged + 1, c->schedule_text);
	rc = cron_deliver_of(c->host)(c->sink, &ev, cron_done, c);
	pthread_mutex_lock(&c->lock);
	if (rc != OUTRIG_OK) {
		c->inflight = false;
		if (rc != OUTRIG_EUNAVAIL) /* EUNAVAIL: outrigd is stopping; the tick goes with it */
			c->host->log(
				c->self, OUTRIG_LOG_WARN,
				"component \"%s\": the sidecar did not take the tick of %s (%s); it is skipped",
				c->component, read_time, outrig_status_name(rc));
	}
}

/* Sleeps on the monotonic clock up to ms, or until signalled. Called with c->lock held. */
static void cron_wait(struct cron_binding *c, int64_t ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += (time_t)(ms / 1000);
	ts.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_cond_timedwait(&c->wake, &c->lock, &ts);
}

/* The ticker: one thread per started instance, until destroy(). */
static void *cron_run(void *arg)
{
	struct cron_binding *c = arg;
	int64_t next;

	pthread_mutex_lock(&c->lock);
	next = cron_schedule_next(&c->schedule, c->host->now_unix_ms());
	while (!c->stopping) {
		int64_t now = c->host->now_unix_ms();

		if (next >= 0 && now >= next) {
			/* A tick while one is in flight folds into the one pending tick: no pile-up. */
			if (c->pending)
				c->merged++;
			c->pending = true;
			c->pending_ms = now;
			next = cron_schedule_next(&c->schedule, now);
			if (next < 0)
				c->host->log(
					c->self, OUTRIG_LOG_WARN,
					"component \"%s\": schedule \"%s\" has no fire time in the next five years; it stops ticking",
					c->component, c->schedule_text);
			continue;
		}
		if (c->pending && !c->inflight) {
			cron_hand_over(c);
			continue;
		}
		cron_wait(c, next < 0 || next - now > CRON_SLICE_MS ? CRON_SLICE_MS : next - now);
	}
	pthread_mutex_unlock(&c->lock);
	return NULL;
}

static int cron_start_input(void *instance, struct outrig_binding_sink *sink, struct outrig_error *err)
{
	struct cron_binding *c = instance;
	int rc;

	if (cron_deliver_of(c->host) == NULL)
		return outrig_err(
			err, OUTRIG_ENOTSUP,
			"component \"%s\": this outrigd cannot take input binding events (its host table has no binding_deliver); upgrade outrigd",
			c->component);
	pthread_mutex_lock(&c->lock);
	if (c->started) {
		pthread_mutex_unlock(&c->lock);
		return outrig_err(err, OUTRIG_EINVAL, "component \"%s\": the schedule is already running",
				  c->component);
	}
	c->sink = sink;
	rc = pthread_create(&c->ticker, NULL, cron_run, c);
	c->started = rc == 0;
	pthread_mutex_unlock(&c->lock);
	if (rc != 0)
		return outrig_err(err, OUTRIG_EINTERNAL,
				  "component \"%s\": cannot start the ticker thread: %s", c->component,
				  strerror(rc));
	c->host->log(c->self, OUTRIG_LOG_DEBUG, "component \"%s\": schedule \"%s\" started", c->component,
		     c->schedule_text);
	return OUTRIG_OK;
}

static void cron_destroy(void *instance)
{
	struct cron_binding *c = instance;

	if (c == NULL)
		return;
	pthread_mutex_lock(&c->lock);
	c->stopping = true;
	pthread_cond_signal(&c->wake);
	pthread_mutex_unlock(&c->lock);
	if (c->started)
		pthread_join(c->ticker, NULL);
	pthread_cond_destroy(&c->wake);
	pthread_mutex_destroy(&c->lock);
	free(c->schedule_text);
	free(c->component);
	free(c);
}

static int cron_create(const struct outrig_host *host, struct outrig_handle *self,
		       const struct outrig_config *cfg, void **instance, struct outrig_error *err)
{
	const char *component = cfg->component != NULL ? cfg->component : "";
	const char *text = outrig_config_string(cfg, "schedule", NULL);
	struct outrig_error why = { "" };
	struct cron_binding *c;
	pthread_condattr_t attr;
	int rc;

	if (text == NULL)
		return outrig_err(
			err, OUTRIG_EINVAL,
			"component \"%s\": metadata schedule is required, e.g. \"@every 15s\" or \"0 */5 * * * *\"",
			component);
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return outrig_err(err, OUTRIG_ENOMEM, "component \"%s\": out of memory", component);
	rc = cron_schedule_parse(text, &c->schedule, &why);
	if (rc == OUTRIG_OK && cron_schedule_next(&c->schedule, host->now_unix_ms()) < 0)
		rc = outrig_err(
			&why, OUTRIG_EINVAL,
			"it matches no date in the next five years (a day that month does not have?)");
	if (rc != OUTRIG_OK) {
		free(c);
		return outrig_err(err, rc, "component \"%s\": metadata schedule \"%s\": %s", component, text,
				  why.message);
	}
	c->host = host;
	c->self = self;
	c->component = strdup(component);
	c->schedule_text = strdup(text);
	if (c->component == NULL || c->schedule_text == NULL) {
		free(c->component);
		free(c->schedule_text);
		free(c);
		return outrig_err(err, OUTRIG_ENOMEM, "component \"%s\": out of memory", component);
	}
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	if (pthread_mutex_init(&c->lock, NULL) != 0 || pthread_cond_init(&c->wake, &attr) != 0) {
		pthread_condattr_destroy(&attr);
		free(c->component);
		free(c->schedule_text);
		free(c);
		return outrig_err(err, OUTRIG_EINTERNAL, "component \"%s\": cannot create a mutex",
				  component);
	}
	pthread_condattr_destroy(&attr);
	*instance = c;
	return OUTRIG_OK;
}

static const struct outrig_binding_ops cron_ops = {
	.struct_size = sizeof(struct outrig_binding_ops),
	.operations = NULL,
	.invoke = NULL,
	.start_input = cron_start_input,
};

static const struct outrig_field cron_fields_map[] = {
	{ .name = "schedule",
	  .type = OUTRIG_FIELD_STRING,
	  .required = true,
	  .description =
		  "when to fire: \"@every 15s\", six fields with seconds (\"*/5 * * * * *\"), five fields, or @hourly, @daily ..." },
	{ .name = NULL },
};

static const char *const cron_versions[] = { "v1", NULL };

static const struct outrig_plugin cron_plugin = {
	OUTRIG_PLUGIN_HEADER,
	.type = "bindings.cron",
	.versions = cron_versions,
	.plugin_version = PLUGIN_VERSION,
	.description = "cron input binding: calls the app on a schedule, one tick at a time",
	.fields = cron_fields_map,
	.flags = 0,
	.create = cron_create,
	.destroy = cron_destroy,
	.bindings = &cron_ops,
};

OUTRIG_PLUGIN(cron_plugin)
