/* SPDX-License-Identifier: Apache-2.0 */
/* Input bindings: asking the app which it wants, and delivering their events with retries. */
#ifndef OUTRIG_CORE_BINDING_DELIVERY_H
#define OUTRIG_CORE_BINDING_DELIVERY_H

#include <outrig/binding.h>

/*
 * host->binding_deliver: copies ev and queues it for the app. Returns 0, OUTRIG_EUNAVAIL when
 * the core is stopping (or there is no app), OUTRIG_ENOMEM or OUTRIG_EINVAL. Thread: any.
 */
int binding_deliver(struct outrig_binding_sink *sink, const struct outrig_binding_event *ev,
		    void (*done)(void *done_ctx, int outcome), void *done_ctx);

#endif /* OUTRIG_CORE_BINDING_DELIVERY_H */
