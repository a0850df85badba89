/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The one way the core calls a plugin operation: on a worker thread, through the component's
 * lane, finishing on the loop. Every block submits its plugin work here, so that what later
 * applies to every call (deadlines, resiliency policies, metrics, spans) has one place to go.
 */
#ifndef OUTRIG_CORE_COMPONENT_CALL_H
#define OUTRIG_CORE_COMPONENT_CALL_H

#include "base/workers.h"

struct component;
struct server;

/*
 * Queues w on c's lane: w->run() calls the plugin on a worker thread (it may block), then
 * w->done() runs once on the loop thread. Both must be set. Thread: the loop.
 */
void component_call_submit(struct server *srv, struct component *c, struct work *w);

#endif /* OUTRIG_CORE_COMPONENT_CALL_H */
