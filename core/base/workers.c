/* SPDX-License-Identifier: Apache-2.0 */
/* Worker threads that run plugin calls off the event loop, and hand results back to it. */
#include "base/workers.h"

#include <event2/event.h>
#include <pthread.h>
#include <stdlib.h>

struct work_queue {
	struct work *head, *tail;
};

struct workers {
	pthread_mutex_t lock;
	pthread_cond_t ready;
	struct work_queue todo;	    /* runnable work */
	struct work_queue finished; /* waiting for done() on the loop */
	bool stopping;
	unsigned pending;   /* loop thread only */
	struct event *wake; /* activated by workers when something finished */
	int nthreads;
	pthread_t *threads;
};

static void queue_push(struct work_queue *q, struct work *w)
{
	w->next = NULL;
	if (q->tail != NULL)
		q->tail->next = w;
	else
		q->head = w;
	q->tail = w;
}

static struct work *queue_pop(struct work_queue *q)
{
	struct work *w = q->head;

	if (w != NULL) {
		q->head = w->next;
		if (q->head == NULL)
			q->tail = NULL;
	}
	return w;
}

/*
 * Called with ws->lock held by the worker that just finished an item of lane: the lane's next
 * item, if any, becomes runnable. No other worker is woken for it: the caller looks at the
 * queue next and takes it itself, which saves a sleeping thread a futex wake-up per item.
 */
static void lane_advance(struct workers *ws, struct lane *lane)
{
	struct work *next = lane->head;

	if (next == NULL) {
		lane->running--;
		return;
	}
	lane->head = next->next;
	if (lane->head == NULL)
		lane->tail = NULL;
	queue_push(&ws->todo, next);
}

static void *workers_main(void *arg)
{
	struct workers *ws = arg;

	pthread_mutex_lock(&ws->lock);
	for (;;) {
		struct work *w;
		bool wake;

		while (ws->todo.head == NULL && !ws->stopping)
			pthread_cond_wait(&ws->ready, &ws->lock);
		w = queue_pop(&ws->todo);
		if (w == NULL)
			break;
		pthread_mutex_unlock(&ws->lock);
		w->run(w);
		pthread_mutex_lock(&ws->lock);
		if (w->lane != NULL)
			lane_advance(ws, w->lane);
		/*
		 * Only the first finished item wakes the loop: a non-empty queue already has a
		 * wake-up pending, and its delivery takes the whole queue. The wake-up is a
		 * syscall, so it goes outside the lock the loop needs to submit and deliver.
		 */
		wake = ws->finished.head == NULL;
		queue_push(&ws->finished, w);
		pthread_mutex_unlock(&ws->lock);
		if (wake)
			event_active(ws->wake, EV_READ, 0);
		pthread_mutex_lock(&ws->lock);
	}
	pthread_mutex_unlock(&ws->lock);
	return NULL;
}

static void workers_deliver(evutil_socket_t fd, short what, void *arg)
{
	struct workers *ws = arg;
	struct work_queue batch;

	pthread_mutex_lock(&ws->lock);
	batch = ws->finished;
	ws->finished.head = ws->finished.tail = NULL;
	pthread_mutex_unlock(&ws->lock);

	for (struct work *w = batch.head, *next; w != NULL; w = next) {
		next = w->next;
		ws->pending--;
		if (w->lane != NULL)
			w->lane->queued--;
		w->done(w);
	}
}

struct workers *workers_start(struct event_base *base, int n)
{
	struct workers *ws = calloc(1, sizeof(*ws));

	if (ws == NULL)
		return NULL;
	pthread_mutex_init(&ws->lock, NULL);
	pthread_cond_init(&ws->ready, NULL);
	ws->wake = event_new(base, -1, 0, workers_deliver, ws);
	ws->threads = calloc((size_t)n, sizeof(*ws->threads));
	if (ws->wake == NULL || ws->threads == NULL)
		goto fail;
	for (; ws->nthreads < n; ws->nthreads++)
		if (pthread_create(&ws->threads[ws->nthreads], NULL, workers_main, ws) != 0)
			goto fail;
	return ws;
fail:
	workers_stop(ws);
	return NULL;
}

void workers_submit(struct workers *ws, struct work *w)
{
	struct lane *lane = w->lane;

	ws->pending++;
	if (lane != NULL)
		lane->queued++;
	pthread_mutex_lock(&ws->lock);
	if (lane != NULL && lane->running >= (lane->limit > 0 ? lane->limit : 1)) {
		w->next = NULL;
		if (lane->tail != NULL)
			lane->tail->next = w;
		else
			lane->head = w;
		lane->tail = w;
	} else {
		if (lane != NULL)
			lane->running++;
		queue_push(&ws->todo, w);
		pthread_cond_signal(&ws->ready);
	}
	pthread_mutex_unlock(&ws->lock);
}

int workers_threads(const struct workers *ws)
{
	return ws->nthreads;
}

unsigned workers_pending(const struct workers *ws)
{
	return ws->pending;
}

void workers_stop(struct workers *ws)
{
	if (ws == NULL)
		return;
	pthread_mutex_lock(&ws->lock);
	ws->stopping = true;
	pthread_cond_broadcast(&ws->ready);
	pthread_mutex_unlock(&ws->lock);
	for (int i = 0; i < ws->nthreads; i++)
		pthread_join(ws->threads[i], NULL);
	if (ws->wake != NULL)
		event_free(ws->wake);
	pthread_mutex_destroy(&ws->lock);
	pthread_cond_destroy(&ws->ready);
	free(ws->threads);
	free(ws);
}
