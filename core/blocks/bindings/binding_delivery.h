/* SPDX-License-Identifier: Apache-2.0 */
/* Input bindings: delivering their events to the app, in order, with retries until it acknowledges. */
#ifndef OUTRIG_CORE_BINDING_DELIVERY_H
#define OUTRIG_CORE_BINDING_DELIVERY_H

#include <outrig/binding.h>

struct binding_engine;
struct binding_runtime;

/*
 * An engine delivering rt's input events to rt->srv->app (which bounds the calls at once by
 * --app-max-concurrency). NULL when out of memory. Thread: the loop.
 */
struct binding_engine *binding_engine_new(struct binding_runtime *rt);

/*
 * host->binding_deliver: copies ev and queues it for the loop. Events of one sink go to the app
 * one at a time, in the order handed over; one the app does not acknowledge (what counts as an
 * acknowledgement is channels/app_bindings.h's to say) is tried again after a backoff (the
 * component's Resiliency inbound policy, else exponential forever) and holds back those after it. Returns 0, OUTRIG_EUNAVAIL when the core is stopping (or there is no
 * app), OUTRIG_ENOMEM or OUTRIG_EINVAL. Thread: any.
 */
int binding_deliver(struct outrig_binding_sink *sink, const struct outrig_binding_event *ev,
		    void (*done)(void *done_ctx, int outcome), void *done_ctx);

/* Events accepted and not yet settled. Thread: any. */
unsigned binding_engine_pending(struct binding_engine *e);

/*
 * Refuses new events from now on and settles every held one UNSETTLED. Call once the loop
 * stopped and the workers are joined. Thread: the main thread.
 */
void binding_engine_stop(struct binding_engine *e);

/* Frees a stopped engine, once no plugin can call binding_deliver (after components_destroy). */
void binding_engine_free(struct binding_engine *e);

#endif /* OUTRIG_CORE_BINDING_DELIVERY_H */
