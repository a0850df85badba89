/* SPDX-License-Identifier: Apache-2.0 */
/* Worker threads that run plugin calls off the event loop, and hand results back to it. */
#ifndef OUTRIG_CORE_WORKERS_H
#define OUTRIG_CORE_WORKERS_H

#include <stdbool.h>

struct event_base;

/*
 * Work that runs in two halves: run() on a worker thread (it may block), then done()
 * on the event-loop thread (it may touch libevent and reply to clients).
 */
struct work {
	void (*run)(struct work *w);
	void (*done)(struct work *w);
	struct lane *lane; /* NULL, or the lane that serialises this work */
	struct work *next; /* the queue's own link */
	/* component_call_submit's, while the plugin call is traced: its span and the caller's done. */
	struct span *span;
	void (*traced_done)(struct work *w);
};

/*
 * A lane runs at most limit items of its work at a time, starting them in order. With limit
 * 1 (or 0) it serialises an instance that cannot take concurrent calls (OUTRIG_PLUGIN_SERIAL);
 * a larger limit keeps one component whose server hangs from taking every worker thread.
 * Zero-initialise it.
 */
struct lane {
	unsigned limit;
	unsigned running;
	struct work *head, *tail;
	unsigned queued; /* submitted and done() not yet called (loop thread): 0 once the lane is drained */
};

struct workers;

/* Starts n threads; results come back on base's loop. NULL on failure. Call after evthread_use_pthreads(). */
struct workers *workers_start(struct event_base *base, int n);

/* Queues w. Thread: the event-loop thread. */
void workers_submit(struct workers *ws, struct work *w);

/* How many threads ws runs. */
int workers_threads(const struct workers *ws);

/* Work submitted and not yet done (replied). Thread: the event-loop thread. */
unsigned workers_pending(const struct workers *ws);

/* Finishes queued work, joins the threads and frees ws. done() is not called for work still queued. */
void workers_stop(struct workers *ws);

#endif /* OUTRIG_CORE_WORKERS_H */
