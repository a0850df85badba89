/* SPDX-License-Identifier: Apache-2.0 */
/* The sidecar's name resolver: announcing this sidecar, and finding others, through a nameresolution plugin. */
#include "config.h"

#include "blocks/invoke/nameres.h"

#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "components/component.h"
#include "components/component_call.h"
#include "base/log.h"
#include "runtime.h"

#define NAMERES_SCOPE "nameresolution"

/* This sidecar's announcement, from nameres_start until nameres_free. */
struct nameres {
	struct server *srv;
	struct component *c;
	char *app_id;
	char *ns;
	char *host;
	int port;
	int app_port;
	int64_t pid;
	struct work work;	 /* register_self */
	int rc;			 /* what it returned (worker, then read on the loop) */
	struct outrig_error err; /* why it failed */
	bool attempted;		 /* register_self ran at least once: withdraw at stop */
	bool busy;		 /* a register_self is queued or running */
	struct event *retry;	 /* the next attempt after a failure */
};

/* One nameres_resolve call. */
struct nameres_call {
	struct work work;
	struct component *c;
	char *app_id;
	char *ns;
	nameres_cb cb;
	void *arg;
	int rc;
	struct outrig_nr_address addr;
	struct outrig_error err;
};

const char *nameres_self_host(const char *address)
{
	if (address == NULL || *address == '\0' || strcmp(address, "0.0.0.0") == 0 ||
	    strcmp(address, "::") == 0 || strcmp(address, "[::]") == 0)
		return "127.0.0.1";
	return address;
}

/* $NAMESPACE, as daprd reads it; "" in self-hosted mode. */
static const char *nameres_own_ns(const struct server *srv)
{
	const char *ns;

	if (srv->nameres != NULL)
		return srv->nameres->ns;
	ns = getenv("NAMESPACE");
	return ns != NULL ? ns : "";
}

static const struct outrig_nr_ops *nameres_ops(const struct component *c)
{
	return c->plugin->desc.nameresolution;
}

/* ---- resolving ---- */

static struct nameres_call *call_of(struct work *w)
{
	return (struct nameres_call *)((char *)w - offsetof(struct nameres_call, work));
}

static void nameres_call_free(struct nameres_call *call)
{
	free(call->app_id);
	free(call->ns);
	free(call);
}

static void nameres_call_run(struct work *w)
{
	struct nameres_call *call = call_of(w);
	struct outrig_nr_query q = { call->app_id, call->ns, { 0, NULL } };

	call->rc = nameres_ops(call->c)->resolve(call->c->instance, &q, &call->addr, &call->err);
}

static void nameres_call_done(struct work *w)
{
	struct nameres_call *call = call_of(w);

	if (call->rc == 0) {
		call->cb(call->arg, 0, &call->addr, NULL);
	} else {
		char why[OUTRIG_ERROR_MAX + 200];

		if (call->err.message[0] != '\0')
			snprintf(why, sizeof(why), "%s", call->err.message);
		else
			snprintf(why, sizeof(why), "%s could not find app id %s (%s)", call->c->type,
				 call->app_id, outrig_status_name(call->rc));
		call->cb(call->arg, call->rc < 0 ? call->rc : OUTRIG_EINTERNAL, NULL, why);
	}
	nameres_call_free(call);
}

/* No resolver: answered on the loop all the same, never from inside nameres_resolve. */
static void nameres_call_none(evutil_socket_t fd, short what, void *arg)
{
	struct nameres_call *call = arg;
	char why[300];

	snprintf(why, sizeof(why),
		 "no name resolver is running, so app id %s cannot be found; see the start-up log for why",
		 call->app_id);
	call->cb(call->arg, OUTRIG_EUNAVAIL, NULL, why);
	nameres_call_free(call);
}

int nameres_resolve(struct server *srv, const char *app_id, const char *ns, nameres_cb cb, void *arg)
{
	struct component *c = srv->components != NULL ? srv->components->resolver : NULL;
	struct nameres_call *call = calloc(1, sizeof(*call));

	if (call == NULL)
		return -1;
	call->c = c;
	call->cb = cb;
	call->arg = arg;
	call->app_id = strdup(app_id != NULL ? app_id : "");
	/* "" means this sidecar's own namespace: the plugin is told which that is. */
	call->ns = strdup(ns != NULL && *ns != '\0' ? ns : nameres_own_ns(srv));
	if (call->app_id == NULL || call->ns == NULL)
		goto fail;
	if (c == NULL || c->instance == NULL || srv->workers == NULL) {
		if (event_base_once(srv->base, -1, EV_TIMEOUT, nameres_call_none, call, NULL) != 0)
			goto fail;
		return 0;
	}
	call->work.run = nameres_call_run;
	call->work.done = nameres_call_done;
	component_call_submit(srv, c, &call->work);
	return 0;
fail:
	nameres_call_free(call);
	return -1;
}

/* ---- announcing ---- */

static struct nameres *nameres_of(struct work *w)
{
	return (struct nameres *)((char *)w - offsetof(struct nameres, work));
}

static void nameres_register_run(struct work *w)
{
	struct nameres *nr = nameres_of(w);
	struct outrig_nr_self self = { nr->app_id, nr->ns, nr->host, nr->port, nr->app_port, nr->pid };

	nr->err.message[0] = '\0';
	nr->attempted = true;
	nr->rc = nameres_ops(nr->c)->register_self(nr->c->instance, &self, &nr->err);
}

static void nameres_register_done(struct work *w)
{
	struct nameres *nr = nameres_of(w);
	struct timeval tv = { NAMERES_RETRY_S, 0 };

	nr->busy = false;
	if (nr->rc == 0) {
		log_debug(NAMERES_SCOPE, "app id %s%s%s announced through %s at %s:%d", nr->app_id,
			  *nr->ns != '\0' ? " in namespace " : "", nr->ns, nr->c->type, nr->host, nr->port);
		return;
	}
	log_error(
		NAMERES_SCOPE,
		"cannot announce app id %s through %s: %s; other sidecars cannot call it yet, trying again in %d s",
		nr->app_id, nr->c->type,
		nr->err.message[0] != '\0' ? nr->err.message : outrig_status_name(nr->rc), NAMERES_RETRY_S);
	if (!nr->srv->stopping && nr->retry != NULL)
		evtimer_add(nr->retry, &tv);
}

static void nameres_register(struct nameres *nr)
{
	if (nr->busy || nr->srv->stopping)
		return;
	nr->busy = true;
	workers_submit(nr->srv->workers, &nr->work);
}

static void nameres_retry(evutil_socket_t fd, short what, void *arg)
{
	nameres_register(arg);
}

int nameres_start(struct server *srv)
{
	struct component *c = srv->components != NULL ? srv->components->resolver : NULL;
	const char *ns = getenv("NAMESPACE");
	struct nameres *nr;

	if (srv->opts->app_id == NULL || *srv->opts->app_id == '\0') {
		log_debug(NAMERES_SCOPE, "no --app-id: this sidecar is not announced to others");
		return 0;
	}
	if (c == NULL || c->instance == NULL) {
		log_warn(NAMERES_SCOPE,
			 "no name resolver: app id %s is not announced, so other sidecars cannot call it",
			 srv->opts->app_id);
		return 0;
	}
	if (srv->internal_port <= 0) {
		log_warn(
			NAMERES_SCOPE,
			"the internal listener is not bound: app id %s is not announced, so other sidecars cannot call it",
			srv->opts->app_id);
		return 0;
	}
	nr = calloc(1, sizeof(*nr));
	if (nr == NULL)
		return -1;
	nr->srv = srv;
	nr->c = c;
	nr->app_id = strdup(srv->opts->app_id);
	nr->ns = strdup(ns != NULL ? ns : "");
	nr->host = strdup(nameres_self_host(srv->opts->internal_listen_address));
	nr->port = srv->internal_port;
	nr->app_port = srv->opts->app_port > 0 ? srv->opts->app_port : 0;
	nr->pid = (int64_t)getpid();
	nr->work.run = nameres_register_run;
	nr->work.done = nameres_register_done;
	nr->work.lane = component_lane(c);
	nr->retry = evtimer_new(srv->base, nameres_retry, nr);
	srv->nameres = nr;
	if (nr->app_id == NULL || nr->ns == NULL || nr->host == NULL || nr->retry == NULL)
		return -1;
	nameres_register(nr);
	return 0;
}

void nameres_stop(struct server *srv)
{
	struct nameres *nr = srv->nameres;
	const struct outrig_nr_ops *ops;

	if (nr == NULL)
		return;
	if (nr->retry != NULL)
		evtimer_del(nr->retry);
	ops = nameres_ops(nr->c);
	/* The workers are joined: nothing else of the instance runs now. */
	if (nr->attempted && ops->unregister_self != NULL) {
		ops->unregister_self(nr->c->instance);
		nr->attempted = false;
		log_info(NAMERES_SCOPE, "app id %s withdrawn from %s", nr->app_id, nr->c->type);
	}
}

void nameres_free(struct server *srv)
{
	struct nameres *nr = srv->nameres;

	if (nr == NULL)
		return;
	if (nr->retry != NULL)
		event_free(nr->retry);
	free(nr->app_id);
	free(nr->ns);
	free(nr->host);
	free(nr);
	srv->nameres = NULL;
}
