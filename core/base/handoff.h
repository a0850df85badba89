/* SPDX-License-Identifier: Apache-2.0 */
/* Handing items from plugin threads to the event loop: a locked inbox and an event that wakes the loop. */
#ifndef OUTRIG_HANDOFF_H
#define OUTRIG_HANDOFF_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

struct event;
struct event_base;

/* Embedded in whatever is handed off; handoff_entry() gets back the containing struct. */
struct handoff_item {
	struct handoff_item *next;
};

#define handoff_entry(item, type, member) ((type *)(void *)((char *)(item)-offsetof(type, member)))

struct handoff {
	pthread_mutex_t lock;
	struct handoff_item *head, *tail; /* pushed, not yet taken: oldest first */
	bool stopped;
	struct event *wake;
	void (*drain)(void *arg);
	void *arg;
};

/*
 * Sets h up so that drain(arg) runs on base's loop after pushes; drain takes the items with
 * handoff_take_all(). Returns 0 or OUTRIG_ENOMEM (h then needs no handoff_free).
 * Ownership: h is the caller's. Thread: the loop's.
 */
int handoff_init(struct handoff *h, struct event_base *base, void (*drain)(void *arg), void *arg);

/*
 * Appends item and wakes the loop. Returns 0, or OUTRIG_EUNAVAIL once h is stopped (item is then
 * not taken). Ownership: item passes to h on 0, stays the caller's otherwise. Thread: any.
 */
int handoff_push(struct handoff *h, struct handoff_item *item);

/* Takes every pushed item, oldest first, linked through next; NULL if none. Thread: the loop's. */
struct handoff_item *handoff_take_all(struct handoff *h);

/*
 * Refuses further pushes and returns what was pushed and not taken, oldest first.
 * Ownership: the returned items pass to the caller. Thread: the loop's.
 */
struct handoff_item *handoff_stop(struct handoff *h);

/* Whether handoff_stop() ran. Thread: the loop's. */
bool handoff_stopped(const struct handoff *h);

/* Releases what handoff_init() made; items still pushed are not touched. Thread: the loop's. */
void handoff_free(struct handoff *h);

#endif
