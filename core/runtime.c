/* SPDX-License-Identifier: Apache-2.0 */
/* The sidecar's shared context: the graceful stop, and what front ends ask to be told when it begins. */
#include "config.h"

#include "runtime.h"

#include <event2/event.h>
#include <jansson.h>
#include <time.h>

#include "base/log.h"
#include "channels/app_channel.h"
#include "channels/app_grpc.h"
#include "channels/grpc_client.h"
#include "channels/peer_channels.h"

static int64_t runtime_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void runtime_stop_poll(evutil_socket_t fd, short what, void *arg)
{
	struct server *srv = arg;

	/* Work in flight: plugin calls, calls to the app, calls to other sidecars, and proxied gRPC streams. */
	unsigned busy = workers_pending(srv->workers) + (srv->app != NULL ? app_channel_busy(srv->app) : 0) +
			(srv->app_grpc != NULL ? grpc_client_busy(app_grpc_client(srv->app_grpc)) : 0) +
			(srv->peers != NULL ? peer_channels_busy(srv->peers) : 0) + srv->proxied_calls;

	(void)fd;
	(void)what;
	if (busy == 0 || runtime_now_ms() >= srv->stop_deadline_ms) {
		if (busy != 0)
			log_warn("runtime", "stopping with %u operations still running after %d s", busy,
				 srv->opts->graceful_shutdown_seconds);
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

void runtime_begin_stop(struct server *srv, const char *why)
{
	struct timeval tick = { 0, 20 * 1000 };

	if (srv->stopping)
		return;
	log_info("runtime", "stopping: %s", why);
	srv->stopping = true;
	/* Front ends are told first: gRPC clients get GOAWAY, so they go elsewhere while calls in flight finish. */
	for (size_t i = 0; i < srv->n_stop_hooks; i++)
		srv->stop_hooks[i](srv);
	srv->stop_deadline_ms = runtime_now_ms() + (int64_t)srv->opts->graceful_shutdown_seconds * 1000;
	srv->stop_timer = event_new(srv->base, -1, EV_PERSIST, runtime_stop_poll, srv);
	if (srv->stop_timer == NULL || event_add(srv->stop_timer, &tick) != 0)
		event_base_loopexit(srv->base, NULL);
}

void runtime_close(struct server *srv)
{
	if (srv->stop_timer != NULL)
		event_free(srv->stop_timer);
	json_decref(srv->extended);
	srv->stop_timer = NULL;
	srv->extended = NULL;
}
