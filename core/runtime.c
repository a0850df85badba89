/* SPDX-License-Identifier: Apache-2.0 */
/* The sidecar's shared context: the graceful stop, and what front ends ask to be told when it begins. */
#include "config.h"

#include "runtime.h"

#include <event2/event.h>
#include <jansson.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "api/grpc/grpc_server.h"
#include "base/log.h"
#include "base/sd_notify.h"
#include "channels/app_channel.h"
#include "channels/app_grpc.h"
#include "channels/app_health.h"
#include "channels/grpc_client.h"
#include "channels/peer_channels.h"
#include "observe/trace.h"

/* Of the graceful period, what the last spans' send may take once work in flight is done, at most. */
#define RUNTIME_SPANS_MS 2000

/* Of the graceful period, what is kept for the teardown after work in flight: a fifth, at most 1 s. */
#define RUNTIME_TEARDOWN_MS(srv)                                                           \
	((int64_t)(srv)->opts->graceful_shutdown_seconds * 200 < 1000                      \
		 ? (int64_t)(srv)->opts->graceful_shutdown_seconds * 200                   \
		 : 1000)

/*
 * SIGTERM and SIGINT are taken by a thread of their own (runtime_signals_start), not by the loop,
 * so that a second one ends the process even while the loop is gone or busy tearing down.
 */
static pthread_mutex_t runtime_sig_lock = PTHREAD_MUTEX_INITIALIZER;
static struct event *runtime_sig_event; /* asks the loop to stop; NULL unless it is serving */
static unsigned runtime_sig_count;	/* signals received */
static int runtime_sig_first;		/* the one that began the stop */
static int64_t runtime_sig_deadline_ms; /* the graceful stop's end, once begun; 0 before */

static int64_t runtime_now_ms(void);

static const char *runtime_sig_name(int sig)
{
	return sig == SIGINT ? "SIGINT" : "SIGTERM";
}

/* Exits now, with a line saying why. Thread: the signal thread. */
static void runtime_exit_now(int sig, const char *when)
{
	log_error("runtime", "%s received %s: exiting now (status 1)", runtime_sig_name(sig), when);
	fflush(NULL);
	_exit(1);
}

static void *runtime_sig_thread(void *arg)
{
	sigset_t set;

	(void)arg;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	for (;;) {
		/* In slices, to see the end of the graceful period when no signal comes. */
		struct timespec slice = { 0, 100 * 1000 * 1000 };
		int sig = sigtimedwait(&set, NULL, &slice);
		int64_t deadline;

		pthread_mutex_lock(&runtime_sig_lock);
		deadline = runtime_sig_deadline_ms;
		if (sig < 0) {
			pthread_mutex_unlock(&runtime_sig_lock);
			if (deadline != 0 && runtime_now_ms() >= deadline) {
				log_error("runtime",
					  "the graceful stop is not done at the end of --dapr-graceful-shutdown-seconds: exiting now (status 1)");
				fflush(NULL);
				_exit(1);
			}
			continue;
		}
		if (runtime_sig_count++ == 0 && runtime_sig_event != NULL) {
			runtime_sig_first = sig;
			event_active(runtime_sig_event, 0, 0);
			pthread_mutex_unlock(&runtime_sig_lock);
			continue;
		}
		pthread_mutex_unlock(&runtime_sig_lock);
		if (runtime_sig_count == 1)
			runtime_exit_now(sig, "while outrigd is not serving (starting, or tearing down)");
		runtime_exit_now(sig, "again while stopping, abandoning work in flight");
	}
	return NULL;
}

int runtime_signals_start(void)
{
	sigset_t set;
	pthread_t thread;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	/* Blocked in every thread made from now on, so that only the signal thread takes them. */
	if (pthread_sigmask(SIG_BLOCK, &set, NULL) != 0 ||
	    pthread_create(&thread, NULL, runtime_sig_thread, NULL) != 0)
		return -1;
	pthread_detach(thread);
	return 0;
}

static void runtime_on_signal(evutil_socket_t fd, short what, void *arg)
{
	struct server *srv = arg;
	int sig;

	(void)fd;
	(void)what;
	pthread_mutex_lock(&runtime_sig_lock);
	sig = runtime_sig_first;
	pthread_mutex_unlock(&runtime_sig_lock);
	runtime_request_stop(srv, sig == SIGINT ? "interrupted (SIGINT)" : "terminated (SIGTERM)");
}

int runtime_signals_arm(struct server *srv)
{
	struct event *ev = event_new(srv->base, -1, 0, runtime_on_signal, srv);

	if (ev == NULL)
		return -1;
	pthread_mutex_lock(&runtime_sig_lock);
	runtime_sig_event = ev;
	/* A signal taken while starting has already ended the process. */
	pthread_mutex_unlock(&runtime_sig_lock);
	return 0;
}

void runtime_signals_disarm(void)
{
	struct event *ev;

	pthread_mutex_lock(&runtime_sig_lock);
	ev = runtime_sig_event;
	runtime_sig_event = NULL;
	pthread_mutex_unlock(&runtime_sig_lock);
	if (ev != NULL)
		event_free(ev);
}

static int64_t runtime_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Whether the loop must go on for the spans still queued (those of the last requests): they are
 * sent now, for at most RUNTIME_SPANS_MS and never into the time kept for the teardown. What is
 * still unsent then is counted as dropped by trace_stop.
 */
static bool runtime_spans_pending(struct server *srv, int64_t now)
{
	if (trace_unsent() == 0)
		return false;
	if (srv->spans_until_ms == 0) {
		srv->spans_until_ms = now + RUNTIME_SPANS_MS;
		if (srv->spans_until_ms > srv->stop_deadline_ms - RUNTIME_TEARDOWN_MS(srv))
			srv->spans_until_ms = srv->stop_deadline_ms - RUNTIME_TEARDOWN_MS(srv);
	}
	if (now >= srv->spans_until_ms)
		return false;
	trace_flush();
	return true;
}

static void runtime_stop_poll(evutil_socket_t fd, short what, void *arg)
{
	struct server *srv = arg;

	/*
	 * Work in flight: plugin calls, calls to the app, calls to other sidecars, proxied gRPC streams,
	 * and gRPC connections still writing answers whose streams nghttp2 already counts as ended.
	 */
	unsigned busy = (srv->workers != NULL ? workers_pending(srv->workers) : 0) +
			(srv->app != NULL ? app_channel_busy(srv->app) : 0) +
			(srv->app_grpc != NULL ? grpc_client_busy(app_grpc_client(srv->app_grpc)) : 0) +
			(srv->peers != NULL ? peer_channels_busy(srv->peers) : 0) + srv->proxied_calls +
			grpc_server_finishing(srv);
	int64_t now = runtime_now_ms();

	(void)fd;
	(void)what;
	/* The last part of the period is kept for the teardown: plugins closing, connections freed. */
	if (busy == 0 || now >= srv->stop_deadline_ms - RUNTIME_TEARDOWN_MS(srv)) {
		if (runtime_spans_pending(srv, now))
			return;
		if (busy != 0)
			log_warn("runtime",
				 "stopping with %u operations still running, %lld ms before the end of --dapr-graceful-shutdown-seconds %d (kept for closing components)",
				 busy, (long long)RUNTIME_TEARDOWN_MS(srv), srv->opts->graceful_shutdown_seconds);
		event_base_loopexit(srv->base, NULL);
	}
}

int runtime_on_stop(struct server *srv, void (*fn)(struct server *srv))
{
	if (srv->n_stop_hooks == RUNTIME_MAX_STOP_HOOKS)
		return -1;
	srv->stop_hooks[srv->n_stop_hooks++] = fn;
	return 0;
}

/* --dapr-block-shutdown-duration: polled until the time is up or the app is unhealthy. */
static void runtime_block_poll(evutil_socket_t fd, short what, void *arg)
{
	struct server *srv = arg;

	(void)fd;
	(void)what;
	if (runtime_now_ms() >= srv->block_until_ms)
		runtime_begin_stop(srv, srv->block_why);
	else if (!app_health_ok(srv))
		runtime_begin_stop(srv, "the app became unhealthy while the shutdown was blocked");
}

void runtime_request_stop(struct server *srv, const char *why)
{
	struct timeval tick = { 0, 100 * 1000 };

	if (srv->stopping || srv->block_timer != NULL)
		return;
	if (srv->opts->block_shutdown_ms <= 0) {
		runtime_begin_stop(srv, why);
		return;
	}
	/* daprd: everything keeps running (subscriptions too) until the time is up or the app is unhealthy. */
	log_info("runtime", "%s: still serving for %lld ms (--dapr-block-shutdown-duration) or until the app is unhealthy",
		 why, (long long)srv->opts->block_shutdown_ms);
	srv->block_why = why;
	srv->block_until_ms = runtime_now_ms() + srv->opts->block_shutdown_ms;
	srv->block_timer = event_new(srv->base, -1, EV_PERSIST, runtime_block_poll, srv);
	if (srv->block_timer == NULL || event_add(srv->block_timer, &tick) != 0)
		runtime_begin_stop(srv, why);
}

void runtime_begin_stop(struct server *srv, const char *why)
{
	struct timeval tick = { 0, 20 * 1000 };

	if (srv->stopping)
		return;
	log_info("runtime", "stopping: %s; work in flight has %d s to finish (--dapr-graceful-shutdown-seconds)", why,
		 srv->opts->graceful_shutdown_seconds);
	__atomic_store_n(&srv->stopping, true, __ATOMIC_RELAXED);
	if (srv->block_timer != NULL)
		event_del(srv->block_timer);
	if (sd_notify_send("STOPPING=1") != 0)
		log_warn("runtime", "cannot tell systemd (NOTIFY_SOCKET): STOPPING=1 not sent");
	/* Front ends are told first: gRPC clients get GOAWAY, so they go elsewhere while calls in flight finish. */
	for (size_t i = 0; i < srv->n_stop_hooks; i++)
		srv->stop_hooks[i](srv);
	srv->stop_deadline_ms = runtime_now_ms() + (int64_t)srv->opts->graceful_shutdown_seconds * 1000;
	/* Past the deadline the signal thread ends the process, whatever is still running. */
	pthread_mutex_lock(&runtime_sig_lock);
	runtime_sig_deadline_ms = srv->stop_deadline_ms;
	pthread_mutex_unlock(&runtime_sig_lock);
	srv->stop_timer = event_new(srv->base, -1, EV_PERSIST, runtime_stop_poll, srv);
	if (srv->stop_timer == NULL || event_add(srv->stop_timer, &tick) != 0)
		event_base_loopexit(srv->base, NULL);
}

void runtime_close(struct server *srv)
{
	if (srv->stop_timer != NULL)
		event_free(srv->stop_timer);
	if (srv->block_timer != NULL)
		event_free(srv->block_timer);
	srv->block_timer = NULL;
	json_decref(srv->extended);
	srv->stop_timer = NULL;
	srv->extended = NULL;
}
