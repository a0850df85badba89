/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Reloading the components on SIGHUP with nginx's rule: the whole new set is read and checked
 * first, and only a sound set replaces the one in service. Unchanged components stay as they are;
 * changed ones are made afresh beside the old ones; the old and the removed are destroyed once the
 * calls they have in flight are done.
 */
#ifndef OUTRIG_CORE_RELOAD_H
#define OUTRIG_CORE_RELOAD_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

struct component;
struct event;
struct reload_job;
struct res_set;
struct server;

struct reload {
	unsigned applied;	    /* reloads that replaced the set */
	unsigned refused;	    /* reloads that kept the previous set */
	char *last_error;	    /* why the last reload was refused; NULL once one is applied */
	char last_at[32];	    /* when the last reload ran, RFC 3339 UTC; "" before any */
	char *rest_spec;	    /* Subscription and Resiliency documents as read at start-up */
	struct component **retired; /* replaced or removed, waiting for their calls to finish */
	size_t nretired;
	struct event *sighup;
	struct event *drain_timer;

	/* The reload in progress: its thread makes the new instances, the loop applies them. */
	bool running;		   /* a reload thread runs (loop's) */
	bool again;		   /* a SIGHUP came meanwhile: one more reload follows */
	pthread_t thread;
	struct reload_job *job;	   /* the thread's until it activates finished, then the loop's */
	struct event *finished;	   /* activated by the thread when it is done */
};

/*
 * Sets up srv->reload: remembers rs's Subscription and Resiliency documents (to tell, at a reload,
 * that changes to them need a restart) and reloads on SIGHUP from now on. Call once the components
 * are up, before pubsub_runtime_start takes the subscriptions out of rs. Returns 0, or -1 when out
 * of memory. Thread: the loop's, before it runs.
 */
int reload_start(struct server *srv, const struct res_set *rs);

/*
 * Starts a reload: a thread reads the resources again as at start-up, checks them and makes the
 * new and changed instances (create() may block: the loop goes on serving meanwhile); then, on
 * the loop, when every check and every create() succeeded the new set is put in service (changed
 * and removed instances are drained, then destroyed), otherwise the reason is logged (file:line)
 * and the set in service kept. A reload asked for while one runs is coalesced: one more follows.
 * Tells systemd RELOADING=1, then READY=1. Returns 0 when started (or queued), -1 when it cannot
 * start (stopping, out of resources). Thread: the loop.
 */
int reload_run(struct server *srv);

/*
 * Destroys what is still retired and frees srv->reload. Call after the workers are stopped and
 * before components_destroy (which closes the plugins). Thread: the main thread.
 */
void reload_free(struct server *srv);

#endif /* OUTRIG_CORE_RELOAD_H */
