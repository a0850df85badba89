/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Out of descriptors, accept() fails at once on every loop turn while clients wait: libevent's
 * listener would log and retry forever (issue 11: ~300k log lines a second, no one served).
 * Here the listener stops, the client at the head of the queue gets a closed connection
 * rather than silence (a descriptor held in reserve makes room to accept it), one line is
 * logged per interval, and accepting resumes after a pause.
 */
#include "config.h"

#include "api/http/http_listener.h"

#include <errno.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/listener.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "base/log.h"

#define LISTENER_PAUSE_MS 100
#define LISTENER_LOG_INTERVAL_S 10

struct http_listener {
	struct http_listener *next;
	struct evhttp *http;
	struct evconnlistener *lev;
	struct event *resume;
	const char *what;
	time_t logged_at;    /* when the last line was written */
	unsigned suppressed; /* failures since */
};

/* The reserve: one descriptor any listener can give up to accept a client it must refuse. */
static int listener_reserve = -1;
static struct http_listener *listeners;

static void listener_take_reserve(void)
{
	if (listener_reserve < 0)
		listener_reserve = open("/dev/null", O_RDONLY | O_CLOEXEC);
}

static void listener_resume(evutil_socket_t fd, short what, void *arg)
{
	struct http_listener *l = arg;

	(void)fd;
	(void)what;
	listener_take_reserve();
	evconnlistener_enable(l->lev);
}

static void listener_error(struct evconnlistener *lev, void *arg)
{
	int err = EVUTIL_SOCKET_ERROR();
	struct timeval pause = { 0, LISTENER_PAUSE_MS * 1000 };
	struct http_listener *l = listeners;
	time_t now = time(NULL);

	(void)arg; /* evhttp's own pointer: the listener is found by lev */
	while (l != NULL && l->lev != lev)
		l = l->next;
	if (l == NULL)
		return;
	if (err == EMFILE || err == ENFILE) {
		evutil_socket_t shed;

		if (listener_reserve >= 0) {
			close(listener_reserve);
			listener_reserve = -1;
		}
		shed = accept(evconnlistener_get_fd(lev), NULL, NULL);
		if (shed >= 0)
			close(shed);
	}
	evconnlistener_disable(lev);
	event_add(l->resume, &pause);
	if (l->logged_at != 0 && now - l->logged_at < LISTENER_LOG_INTERVAL_S) {
		l->suppressed++;
		return;
	}
	log_error("runtime",
		  "%s cannot accept connections: %s (%u more times in the last %d s); pausing %d ms "
		  "between tries and closing waiting clients; raise the descriptor limit (ulimit -n) "
		  "or lower the number of open connections",
		  l->what, strerror(err), l->suppressed, LISTENER_LOG_INTERVAL_S, LISTENER_PAUSE_MS);
	l->logged_at = now;
	l->suppressed = 0;
}

int http_listener_bind(struct event_base *base, struct evhttp *http, evutil_socket_t fd, const char *what)
{
	struct http_listener *l = calloc(1, sizeof(*l));

	listener_take_reserve();
	if (l == NULL) {
		errno = ENOMEM;
		return -1;
	}
	l->http = http;
	l->what = what;
	l->resume = evtimer_new(base, listener_resume, l);
	/* backlog 0: the socket is listening already. */
	l->lev = l->resume != NULL ? evconnlistener_new(base, NULL, NULL,
							LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, 0, fd)
				   : NULL;
	if (l->lev == NULL || evhttp_bind_listener(http, l->lev) == NULL) {
		if (l->lev != NULL)
			evconnlistener_free(l->lev); /* closes fd */
		else
			close(fd);
		if (l->resume != NULL)
			event_free(l->resume);
		free(l);
		errno = ENOMEM;
		return -1;
	}
	evconnlistener_set_error_cb(l->lev, listener_error);
	l->next = listeners;
	listeners = l;
	return 0;
}

void http_listener_release(struct evhttp *http)
{
	for (struct http_listener **p = &listeners; *p != NULL;) {
		struct http_listener *l = *p;

		if (l->http != http) {
			p = &l->next;
			continue;
		}
		*p = l->next;
		event_free(l->resume);
		free(l);
	}
	if (listeners == NULL && listener_reserve >= 0) {
		close(listener_reserve);
		listener_reserve = -1;
	}
}
