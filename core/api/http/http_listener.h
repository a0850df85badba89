/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Accepting connections for an evhttp without spinning when descriptors run out: on EMFILE or
 * ENFILE the listener pauses, sheds the waiting client with a reserve descriptor, logs once per
 * interval and resumes on a timer.
 */
#ifndef OUTRIG_CORE_HTTP_LISTENER_H
#define OUTRIG_CORE_HTTP_LISTENER_H

#include <event2/util.h>

struct event_base;
struct evhttp;

/*
 * Serves http on fd, a listening socket (which http then owns). what names the listener in
 * logs ("the HTTP API"). Returns 0, or -1 with errno set.
 */
int http_listener_bind(struct event_base *base, struct evhttp *http, evutil_socket_t fd, const char *what);

/* Frees the pause timers of the listeners bound to http; call before evhttp_free(http). */
void http_listener_release(struct evhttp *http);

#endif /* OUTRIG_CORE_HTTP_LISTENER_H */
