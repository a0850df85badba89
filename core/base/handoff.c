/* SPDX-License-Identifier: Apache-2.0 */
/* Handing items from plugin threads to the event loop: a locked inbox and an event that wakes the loop. */
#include "config.h"

#include "base/handoff.h"

#include <event2/event.h>

#include <outrig/status.h>

static void handoff_wake(evutil_socket_t fd, short what, void *arg)
{
	struct handoff *h = arg;

	h->drain(h->arg);
}

int handoff_init(struct handoff *h, struct event_base *base, void (*drain)(void *arg), void *arg)
{
	h->head = h->tail = NULL;
	h->stopped = false;
	h->drain = drain;
	h->arg = arg;
	h->wake = event_new(base, -1, 0, handoff_wake, h);
	if (h->wake == NULL)
		return OUTRIG_ENOMEM;
	pthread_mutex_init(&h->lock, NULL);
	return 0;
}

int handoff_push(struct handoff *h, struct handoff_item *item)
{
	item->next = NULL;
	pthread_mutex_lock(&h->lock);
	if (h->stopped) {
		pthread_mutex_unlock(&h->lock);
		return OUTRIG_EUNAVAIL;
	}
	if (h->tail != NULL)
		h->tail->next = item;
	else
		h->head = item;
	h->tail = item;
	pthread_mutex_unlock(&h->lock);
	event_active(h->wake, EV_READ, 0);
	return 0;
}

struct handoff_item *handoff_take_all(struct handoff *h)
{
	struct handoff_item *all;

	pthread_mutex_lock(&h->lock);
	all = h->head;
	h->head = h->tail = NULL;
	pthread_mutex_unlock(&h->lock);
	return all;
}

struct handoff_item *handoff_stop(struct handoff *h)
{
	struct handoff_item *rest;

	pthread_mutex_lock(&h->lock);
	h->stopped = true;
	rest = h->head;
	h->head = h->tail = NULL;
	pthread_mutex_unlock(&h->lock);
	return rest;
}

bool handoff_stopped(const struct handoff *h)
{
	return h->stopped;
}

void handoff_free(struct handoff *h)
{
	event_free(h->wake);
	pthread_mutex_destroy(&h->lock);
}
