/* SPDX-License-Identifier: Apache-2.0 */
/* Opt-in app health checks (API.md §3.4): probing the app, and what stops while it is unhealthy. */
#include "config.h"

#include "channels/app_health.h"

#include <event2/event.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "channels/app_channel.h"
#include "channels/app_grpc.h"
#include "channels/grpc_client.h"
#include "base/log.h"
#include "runtime.h"

#define HEALTH_SCOPE "apphealth"

struct health_watch {
	void (*fn)(void *arg);
	void *arg;
};

struct app_health {
	struct server *srv;
	/*
	 * The probes' own channel, apart from the app's: a probe that outlives its timeout is
	 * cancelled by freeing the channel, which the shared one could not afford.
	 */
	struct app_channel *ch;
	struct app_grpc *ag; /* the same for a gRPC app (--app-protocol grpc): HealthCheck instead of GET */
	struct event *tick;  /* every --app-health-probe-interval */
	struct event *deadline; /* the probe in flight's --app-health-probe-timeout */
	bool in_flight;
	bool healthy;
	unsigned failures; /* probes failed in a row */
	unsigned threshold;
	struct health_watch *watches;
	size_t nwatches;
};

bool app_health_ok(const struct server *srv)
{
	return srv->health == NULL || srv->health->healthy;
}

const char *app_health_go_duration(int64_t ms, char *buf, size_t size)
{
	int64_t h, m, s, frac;
	size_t n = 0;

	if (ms == 0) {
		snprintf(buf, size, "0s");
		return buf;
	}
	if (ms > -1000 && ms < 1000) {
		snprintf(buf, size, "%" PRId64 "ms", ms);
		return buf;
	}
	if (ms < 0 && n + 1 < size) {
		buf[n++] = '-';
		ms = -ms;
	}
	h = ms / 3600000;
	m = ms / 60000 % 60;
	s = ms / 1000 % 60;
	frac = ms % 1000;
	buf[n] = '\0';
	if (h > 0)
		n += (size_t)snprintf(buf + n, size > n ? size - n : 0, "%" PRId64 "h", h);
	if (h > 0 || m > 0)
		n += (size_t)snprintf(buf + n, size > n ? size - n : 0, "%" PRId64 "m", m);
	if (frac == 0)
		snprintf(buf + n, size > n ? size - n : 0, "%" PRId64 "s", s);
	else if (frac % 100 == 0)
		snprintf(buf + n, size > n ? size - n : 0, "%" PRId64 ".%" PRId64 "s", s, frac / 100);
	else if (frac % 10 == 0)
		snprintf(buf + n, size > n ? size - n : 0, "%" PRId64 ".%02" PRId64 "s", s, frac / 10);
	else
		snprintf(buf + n, size > n ? size - n : 0, "%" PRId64 ".%03" PRId64 "s", s, frac);
	return buf;
}

json_t *app_health_describe(const struct server *srv)
{
	const struct options *o = srv->opts;
	char interval[32], timeout[32];

	if (srv->health == NULL)
		return NULL;
	return json_pack(
		"{s:s, s:s, s:s, s:i}", "healthCheckPath", o->app_health_path, "healthProbeInterval",
		app_health_go_duration((int64_t)o->app_health_interval_s * 1000, interval, sizeof(interval)),
		"healthProbeTimeout",
		app_health_go_duration(o->app_health_timeout_ms, timeout, sizeof(timeout)), "healthThreshold",
		(int)srv->health->threshold);
}

/* The probe, for logs: "GET /healthz", or the gRPC method. */
static const char *health_probe_name(const struct server *srv, char *buf, size_t size)
{
	if (srv->app_grpc != NULL)
		snprintf(buf, size, "AppCallbackHealthCheck/HealthCheck");
	else
		snprintf(buf, size, "GET %s", srv->opts->app_health_path);
	return buf;
}

static void health_record(struct app_health *h, bool ok, const char *what)
{
	char probe[300];

	health_probe_name(h->srv, probe, sizeof(probe));

	if (ok) {
		h->failures = 0;
		if (h->healthy)
			return;
		h->healthy = true;
		log_info(HEALTH_SCOPE, "app is healthy: %s %s; deliveries and calls to the app go on", probe,
			 what);
		/* A watcher may unwatch: go over a copy of the count, from the end. */
		for (size_t i = h->nwatches; i > 0 && h->srv->health == h; i--)
			if (i <= h->nwatches)
				h->watches[i - 1].fn(h->watches[i - 1].arg);
		return;
	}
	if (h->failures < h->threshold)
		h->failures++;
	log_debug(HEALTH_SCOPE, "probe %s failed (%u in a row): %s", probe, h->failures, what);
	if (h->healthy && h->failures >= h->threshold) {
		h->healthy = false;
		log_warn(
			HEALTH_SCOPE,
			"app is unhealthy: %u probes of %s failed in a row, the last: %s; pub/sub deliveries "
			"are paused and calls to the app fail until a probe succeeds",
			h->failures, probe, what);
	}
}

static void health_answered(void *arg, const struct app_response *r)
{
	struct app_health *h = arg;
	char what[300];

	evtimer_del(h->deadline);
	h->in_flight = false;
	if (r->status == 0)
		snprintf(what, sizeof(what), "%s", r->error != NULL ? r->error : "no answer");
	else
		snprintf(what, sizeof(what), "answered HTTP %d", r->status);
	health_record(h, r->status >= 200 && r->status <= 299, what);
}

static void health_answered_grpc(void *arg, const struct app_grpc_health_result *r)
{
	struct app_health *h = arg;
	char what[300];

	evtimer_del(h->deadline);
	h->in_flight = false;
	if (r->ok)
		snprintf(what, sizeof(what), "answered OK");
	else
		snprintf(what, sizeof(what), "answered gRPC status %d: %s", r->status, r->message);
	health_record(h, r->ok, what);
}

static void health_timed_out(evutil_socket_t fd, short what, void *arg)
{
	struct app_health *h = arg;
	char why[96];

	/* Freeing the channel drops the late probe: its callback is never called. */
	app_channel_free(h->ch);
	h->ch = NULL;
	app_grpc_free(h->ag);
	h->ag = NULL;
	h->in_flight = false;
	snprintf(why, sizeof(why), "no answer within %d ms", h->srv->opts->app_health_timeout_ms);
	health_record(h, false, why);
}

static void health_probe(evutil_socket_t fd, short what, void *arg)
{
	struct app_health *h = arg;
	const struct options *o = h->srv->opts;
	int64_t ms = o->app_health_timeout_ms > 0 ? o->app_health_timeout_ms : 1;
	struct timeval tv = { (time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000 };

	/* A probe slower than the interval is still bounded by its own timeout: no second one. */
	if (h->in_flight)
		return;
	if (h->srv->app_grpc != NULL) {
		/* As for HTTP, a client of its own, so that a late probe can be dropped with it. */
		if (h->ag == NULL)
			h->ag = app_grpc_new(h->srv->base, o->app_channel_address, o->app_port, 1,
					     (int)(ms / 1000) + 2, getenv("APP_API_TOKEN"));
		/* Probes go over TLS as every other call does (--app-protocol grpcs). */
		if (h->ag != NULL)
			grpc_client_set_tls(app_grpc_client(h->ag), h->srv->app_tls);
		if (h->ag == NULL || app_grpc_health_check(h->ag, (int)ms, health_answered_grpc, h) != 0) {
			health_record(h, false, "out of memory");
			return;
		}
		h->in_flight = true;
		evtimer_add(h->deadline, &tv);
		return;
	}
	if (h->ch == NULL) {
		/* Its own timeout (whole seconds) is only a backstop behind the deadline. */
		h->ch = app_channel_new(h->srv->base, o->app_channel_address, o->app_port, 1,
					(int)(ms / 1000) + 2);
		/* Probes carry the app's token as every other call does (main checked it at start). */
		if (h->ch == NULL || app_channel_set_token(h->ch, getenv("APP_API_TOKEN")) != 0) {
			health_record(h, false, "out of memory");
			return;
		}
		app_channel_set_tls(h->ch, h->srv->app_tls);
	}
	if (app_channel_send(h->ch, EVHTTP_REQ_GET, o->app_health_path, NULL, NULL, NULL, 0, health_answered,
			     h) != 0) {
		health_record(h, false, "out of memory");
		return;
	}
	h->in_flight = true;
	evtimer_add(h->deadline, &tv);
}

int app_health_start(struct server *srv)
{
	const struct options *o = srv->opts;
	struct timeval every = { o->app_health_interval_s > 0 ? o->app_health_interval_s : 1, 0 };
	struct app_health *h;
	char timeout[32], probe[300];

	if (!o->app_health_check)
		return 0;
	if (srv->app == NULL && srv->app_grpc == NULL) {
		log_warn(HEALTH_SCOPE, "--enable-app-health-check needs --app-port; no health checks");
		return 0;
	}
	h = calloc(1, sizeof(*h));
	if (h == NULL)
		return -1;
	h->srv = srv;
	h->threshold = o->app_health_threshold > 0 ? (unsigned)o->app_health_threshold : 1;
	/* daprd's start: unhealthy until proven otherwise. */
	h->failures = h->threshold;
	h->tick = event_new(srv->base, -1, EV_PERSIST, health_probe, h);
	h->deadline = evtimer_new(srv->base, health_timed_out, h);
	srv->health = h;
	if (h->tick == NULL || h->deadline == NULL || event_add(h->tick, &every) != 0)
		return -1;
	/* The first probe at once, not an interval later. */
	event_active(h->tick, EV_TIMEOUT, 0);
	log_info(HEALTH_SCOPE,
		 "app health checks: %s every %d s, timeout %s, unhealthy after %u failures; waiting for the "
		 "first probe to succeed",
		 health_probe_name(srv, probe, sizeof(probe)), (int)every.tv_sec,
		 app_health_go_duration(o->app_health_timeout_ms, timeout, sizeof(timeout)), h->threshold);
	return 0;
}

void app_health_free(struct server *srv)
{
	struct app_health *h = srv->health;

	if (h == NULL)
		return;
	srv->health = NULL;
	if (h->tick != NULL)
		event_free(h->tick);
	if (h->deadline != NULL)
		event_free(h->deadline);
	app_channel_free(h->ch);
	app_grpc_free(h->ag);
	free(h->watches);
	free(h);
}

int app_health_watch(struct server *srv, void (*fn)(void *arg), void *arg)
{
	struct app_health *h = srv->health;
	struct health_watch *grown;

	if (h == NULL)
		return 0;
	grown = realloc(h->watches, (h->nwatches + 1) * sizeof(*grown));
	if (grown == NULL)
		return -1;
	h->watches = grown;
	h->watches[h->nwatches].fn = fn;
	h->watches[h->nwatches].arg = arg;
	h->nwatches++;
	return 0;
}

void app_health_unwatch(struct server *srv, void (*fn)(void *arg), void *arg)
{
	struct app_health *h = srv->health;

	if (h == NULL)
		return;
	for (size_t i = 0; i < h->nwatches; i++) {
		if (h->watches[i].fn == fn && h->watches[i].arg == arg) {
			memmove(&h->watches[i], &h->watches[i + 1],
				(h->nwatches - i - 1) * sizeof(*h->watches));
			h->nwatches--;
			return;
		}
	}
}
