/* SPDX-License-Identifier: Apache-2.0 */
/* The gRPC API's listeners on --dapr-grpc-port and the connections and calls they carry. */
#include "api/grpc/grpc_server.h"

#include <errno.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "api/grpc/grpc_call_internal.h"
#include "api/grpc/grpc_conn.h"
#include "api/grpc/api_bindings.h"
#include "api/grpc/api_invoke.h"
#include "api/grpc/api_meta.h"
#include "api/grpc/api_secrets.h"
#include "api/grpc/api_pubsub.h"
#include "api/grpc/api_state.h"
#include "api/grpc/grpc_health.h"
#include "api/grpc/grpc_proxy.h"
#include "channels/h2_upstream.h"
#include "base/log.h"
#include "options.h"
#include "runtime.h"

/* daprd's --dapr-grpc-port default. */
#define GRPC_DEFAULT_PORT 50001

static void grpc_server_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int salen,
			       void *arg)
{
	if (grpc_conn_accept(arg, fd) != 0)
		log_warn("grpc", "dropped a new gRPC connection: out of memory");
}

static void grpc_server_resume(evutil_socket_t fd, short what, void *arg)
{
	struct grpc_server *gs = arg;

	for (size_t i = 0; i < gs->n_listeners; i++)
		evconnlistener_enable(gs->listeners[i]);
}

/* Out of descriptors: pause accepting for a moment instead of spinning on the ready listener. */
static void grpc_server_accept_error(struct evconnlistener *l, void *arg)
{
	struct grpc_server *gs = arg;
	struct timeval pause = { 0, 200 * 1000 };
	int err = EVUTIL_SOCKET_ERROR();

	log_warn("grpc",
		 "cannot accept gRPC connections: %s; pausing 200 ms (raise the descriptor limit, ulimit -n)",
		 evutil_socket_error_to_string(err));
	for (size_t i = 0; i < gs->n_listeners; i++)
		evconnlistener_disable(gs->listeners[i]);
	if (gs->resume == NULL)
		gs->resume = evtimer_new(gs->srv->base, grpc_server_resume, gs);
	if (gs->resume != NULL)
		evtimer_add(gs->resume, &pause);
}

static int grpc_server_bind(struct grpc_server *gs, const char *addr, int port)
{
	struct sockaddr_storage ss;
	int sslen = sizeof(ss);
	char spec[300];
	evutil_socket_t fd = -1;
	struct evconnlistener *l;
	int one = 1;

	snprintf(spec, sizeof(spec), strchr(addr, ':') != NULL ? "[%s]:%d" : "%s:%d", addr, port);
	memset(&ss, 0, sizeof(ss));
	if (evutil_parse_sockaddr_port(spec, (struct sockaddr *)&ss, &sslen) != 0) {
		log_error(
			"grpc",
			"--dapr-listen-addresses: \"%s\" is not an IP address; give addresses such as 127.0.0.1 or ::1",
			addr);
		return -1;
	}
	if (gs->n_listeners == GRPC_MAX_LISTENERS) {
		log_error("grpc", "--dapr-listen-addresses: more than %d addresses; give fewer",
			  GRPC_MAX_LISTENERS);
		return -1;
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		goto fail;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	/* Accepted sockets inherit it on Linux; grpc_conn_accept sets it again for other systems. */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, (socklen_t)sslen) != 0)
		goto fail;
	l = evconnlistener_new(gs->srv->base, grpc_server_accept, gs,
			       LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, 1024, fd);
	if (l == NULL)
		goto fail;
	evconnlistener_set_error_cb(l, grpc_server_accept_error);
	gs->listeners[gs->n_listeners++] = l;
	log_info("runtime", "gRPC API listening on %s", spec);
	return 0;
fail:
	if (gs->srv->opts->grpc_port == 0) {
		/* Two sidecars on one machine would both want the default: the second goes on without gRPC. */
		log_warn(
			"grpc",
			"not serving the gRPC API: cannot listen on %s (the default port): %s; give --dapr-grpc-port to choose one",
			spec, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	log_error(
		"grpc",
		"cannot listen for the gRPC API on %s: %s; is another process (a daprd or outrigd?) using the port? pick another with --dapr-grpc-port",
		spec, strerror(errno));
	if (fd >= 0)
		close(fd);
	return -1;
}

/* A server with its limits and no listener yet. NULL when out of memory. */
static struct grpc_server *grpc_server_new(struct server *srv)
{
	struct grpc_server *gs = calloc(1, sizeof(*gs));

	if (gs == NULL)
		return NULL;
	gs->srv = srv;
	gs->request_timeout_ms = GRPC_REQUEST_TIMEOUT_MS;
	gs->idle_timeout_ms = GRPC_IDLE_TIMEOUT_MS;
	gs->max_held = GRPC_MAX_HELD_CALLS;
	gs->buffer_budget = GRPC_MAX_BUFFERED_BYTES;
	if (srv->opts->max_body_bytes > 0 && (size_t)srv->opts->max_body_bytes * 4 > gs->buffer_budget)
		gs->buffer_budget = (size_t)srv->opts->max_body_bytes * 4;
	gs->grant = event_new(srv->base, -1, 0, grpc_conn_grant, gs);
	if (gs->grant == NULL) {
		free(gs);
		return NULL;
	}
	return gs;
}

int grpc_server_internal_new(struct server *srv)
{
	srv->grpc_internal = grpc_server_new(srv);
	if (srv->grpc_internal == NULL)
		return -1;
	srv->grpc_internal->internal = true;
	return 0;
}

int grpc_server_listen(struct server *srv)
{
	struct grpc_server *gs;
	char *addrs = strdup(srv->opts->listen_addresses);
	int port = srv->opts->grpc_port != 0 ? srv->opts->grpc_port : GRPC_DEFAULT_PORT;
	int rc = 0;

	if (addrs == NULL || (gs = grpc_server_new(srv)) == NULL) {
		free(addrs);
		return -1;
	}
	srv->grpc = gs;
	/* A graceful stop tells every client GOAWAY at once, so they go elsewhere while calls finish. */
	if (runtime_on_stop(srv, grpc_server_drain) != 0)
		return -1;
	grpc_health_register();
	api_invoke_grpc_register();
	api_bindings_grpc_register();
	api_secrets_grpc_register();
	api_meta_grpc_register();
	api_pubsub_grpc_register();
	api_state_grpc_register();
	for (char *save = NULL, *a = strtok_r(addrs, ",", &save); a != NULL && rc == 0;
	     a = strtok_r(NULL, ",", &save))
		rc = grpc_server_bind(gs, a, port);
	free(addrs);
	if (rc != 0 && srv->opts->grpc_port == 0) {
		for (size_t i = 0; i < gs->n_listeners; i++)
			evconnlistener_free(gs->listeners[i]);
		gs->n_listeners = 0;
		return 0;
	}
	return rc;
}

static void grpc_server_stop_accepting(struct grpc_server *gs)
{
	for (size_t i = 0; i < gs->n_listeners; i++)
		evconnlistener_free(gs->listeners[i]);
	gs->n_listeners = 0;
}

static void grpc_server_drain_one(struct grpc_server *gs)
{
	struct grpc_conn *conn, *next;

	if (gs == NULL)
		return;
	grpc_server_stop_accepting(gs);
	/* Each may close (and unlink itself) at once when it has no streams open. */
	for (conn = gs->conns; conn != NULL; conn = next) {
		next = grpc_conn_next(conn);
		grpc_conn_goaway(conn);
	}
}

static unsigned grpc_server_finishing_one(const struct grpc_server *gs)
{
	unsigned n = 0;

	for (struct grpc_conn *conn = gs != NULL ? gs->conns : NULL; conn != NULL; conn = grpc_conn_next(conn))
		n += grpc_conn_finishing(conn);
	return n;
}

unsigned grpc_server_finishing(const struct server *srv)
{
	return grpc_server_finishing_one(srv->grpc) + grpc_server_finishing_one(srv->grpc_internal);
}

void grpc_server_drain(struct server *srv)
{
	grpc_server_drain_one(srv->grpc);
	grpc_server_drain_one(srv->grpc_internal);
}

static void grpc_server_close_one(struct grpc_server *gs)
{
	if (gs == NULL)
		return;
	grpc_server_stop_accepting(gs);
	if (gs->resume != NULL)
		event_free(gs->resume);
	gs->resume = NULL;
	while (gs->conns != NULL)
		grpc_conn_free(gs->conns);
	if (gs->grant != NULL)
		event_free(gs->grant);
	gs->grant = NULL;
}

void grpc_server_close(struct server *srv)
{
	grpc_server_close_one(srv->grpc);
	grpc_server_close_one(srv->grpc_internal);
	/* Proxied calls' upstream streams: their clients are gone with the connections above. */
	h2_upstream_free(srv->h2_upstream);
	srv->h2_upstream = NULL;
}

static void grpc_server_free_one(struct grpc_server *gs)
{
	if (gs == NULL)
		return;
	grpc_server_close_one(gs);
	/* Handlers that never completed (the loop stopped first): nobody will answer them now. */
	while (gs->orphans != NULL)
		grpc_call_free(gs->orphans);
	grpc_proxy_free_all(gs);
	free(gs);
}

void grpc_server_free(struct server *srv)
{
	grpc_server_close(srv);
	grpc_server_free_one(srv->grpc);
	grpc_server_free_one(srv->grpc_internal);
	srv->grpc = srv->grpc_internal = NULL;
}
