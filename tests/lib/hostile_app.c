/* SPDX-License-Identifier: Apache-2.0 */
/* An app that answers badly on purpose (huge bodies and headers, invalid statuses, bodies where none belong), over raw sockets. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "hostile_app.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#define HOSTILE_MAX_CONNS 64
#define HOSTILE_CHUNK (64 * 1024)

struct hostile_app {
	int listen_fd;
	int port;
	pthread_t acceptor;
	pthread_mutex_t lock;
	int fds[HOSTILE_MAX_CONNS];
	pthread_t threads[HOSTILE_MAX_CONNS];
	size_t nconns;
	size_t count;
	size_t last_sent;
	bool last_cut;
	bool stopping;
};

struct hostile_conn {
	struct hostile_app *app;
	int fd;
};

/* Zeros to stream from; static so that streaming costs this process no memory per byte. */
static const char hostile_zeros[HOSTILE_CHUNK];

static bool hostile_send(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		p += n;
		len -= (size_t)n;
	}
	return true;
}

static bool hostile_sendf(int fd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static bool hostile_sendf(int fd, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	return n > 0 && (size_t)n < sizeof(buf) && hostile_send(fd, buf, (size_t)n);
}

/* Streams n zero bytes; returns the bytes sent (fewer when the reader went away). */
static size_t hostile_stream(int fd, size_t n)
{
	size_t sent = 0;

	while (sent < n) {
		size_t k = n - sent < sizeof(hostile_zeros) ? n - sent : sizeof(hostile_zeros);

		if (!hostile_send(fd, hostile_zeros, k))
			break;
		sent += k;
	}
	return sent;
}

static void hostile_record(struct hostile_app *app, size_t sent, bool cut)
{
	pthread_mutex_lock(&app->lock);
	app->last_sent = sent;
	app->last_cut = cut;
	pthread_mutex_unlock(&app->lock);
}

/* Reads one request head and its Content-Length body into buf; false at EOF or on error. */
static bool hostile_read_request(int fd, char *buf, size_t size, char *method, char *path, size_t path_size)
{
	size_t len = 0;
	char *end = NULL, *cl;
	long long body = 0;

	while (end == NULL) {
		ssize_t n;

		if (len + 1 >= size)
			return false;
		n = recv(fd, buf + len, size - 1 - len, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		len += (size_t)n;
		buf[len] = '\0';
		end = strstr(buf, "\r\n\r\n");
	}
	if (sscanf(buf, "%15s %1023s", method, path) != 2)
		return false;
	(void)path_size;
	cl = strcasestr(buf, "\r\nContent-Length:");
	if (cl != NULL && cl < end)
		body = atoll(cl + 17);
	/* The body (small in these tests) is read and dropped. */
	body -= (long long)(len - (size_t)(end + 4 - buf));
	while (body > 0) {
		char sink[4096];
		ssize_t n = recv(fd, sink, sizeof(sink) < (size_t)body ? sizeof(sink) : (size_t)body, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		body -= n;
	}
	return true;
}

/* Answers one request; false when the connection is to close. */
static bool hostile_answer(struct hostile_app *app, int fd, const char *method, const char *path)
{
	static const char stale[] = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-Stale: 1\r\n\r\nstale";
	size_t n = 0, sent;
	char reply[512];

	/* Input bindings ask OPTIONS first: yes to everything. */
	if (strcmp(method, "OPTIONS") == 0)
		return hostile_sendf(fd, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	if (strcmp(path, "/dapr/subscribe") == 0) {
		static const char subs[] =
			"[{\"pubsubname\":\"pubsub\",\"topic\":\"huge\",\"route\":\"/length/268435456\"}]";

		return hostile_sendf(
			fd,
			"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
			sizeof(subs) - 1, subs);
	}
	if (strcmp(path, "/ok") == 0)
		return hostile_sendf(fd, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-Hostile: ok\r\n\r\nok");
	if (strncmp(path, "/status/", 8) == 0)
		return hostile_sendf(fd, "HTTP/1.1 %s Hostile\r\nContent-Length: 2\r\n\r\nno", path + 8);
	if (strcmp(path, "/204-body") == 0 || strcmp(path, "/head-body") == 0) {
		bool no_content = strcmp(path, "/204-body") == 0;
		int k = snprintf(reply, sizeof(reply), "HTTP/1.1 %s\r\nContent-Length: %zu\r\n\r\n%s",
				 no_content ? "204 No Content" : "200 OK", sizeof(stale) - 1, stale);

		return hostile_send(fd, reply, (size_t)k);
	}
	if (strcmp(path, "/head-late") == 0) {
		/* The body a HEAD answer must not have, in a later packet: after outrigd took the answer. */
		int k = snprintf(reply, sizeof(reply), "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n\r\n",
				 sizeof(stale) - 1);

		if (!hostile_send(fd, reply, (size_t)k))
			return false;
		usleep(200 * 1000);
		return hostile_send(fd, stale, sizeof(stale) - 1);
	}
	if (sscanf(strchr(path + 1, '/') != NULL ? strchr(path + 1, '/') + 1 : "", "%zu", &n) != 1)
		return hostile_sendf(fd, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
	if (strncmp(path, "/length/", 8) == 0) {
		if (!hostile_sendf(fd, "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n\r\n", n))
			return false;
		sent = hostile_stream(fd, n);
		hostile_record(app, sent, sent < n);
		return sent == n;
	}
	if (strncmp(path, "/close/", 7) == 0) {
		if (!hostile_sendf(fd, "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n"))
			return false;
		sent = hostile_stream(fd, n);
		hostile_record(app, sent, sent < n);
		return false;
	}
	if (strncmp(path, "/bigchunk/", 10) == 0) {
		if (!hostile_sendf(fd, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n%zx\r\n", n))
			return false;
		sent = hostile_stream(fd, n);
		hostile_record(app, sent, sent < n);
		return sent == n && hostile_sendf(fd, "\r\n0\r\n\r\n");
	}
	if (strncmp(path, "/chunked/", 9) == 0) {
		if (!hostile_sendf(fd, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"))
			return false;
		for (sent = 0; sent < n; sent += HOSTILE_CHUNK)
			if (!hostile_sendf(fd, "%x\r\n", HOSTILE_CHUNK) ||
			    hostile_stream(fd, HOSTILE_CHUNK) < HOSTILE_CHUNK || !hostile_sendf(fd, "\r\n"))
				break;
		hostile_record(app, sent, sent < n);
		return sent >= n && hostile_sendf(fd, "0\r\n\r\n");
	}
	if (strncmp(path, "/headers/", 9) == 0) {
		char line[1024];

		memset(line, 'h', sizeof(line));
		if (!hostile_sendf(fd, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n"))
			return false;
		for (sent = 0; sent < n; sent += sizeof(line)) {
			/* "X-Pad-0000000001: hhh...\r\n", 1 KiB in all */
			int k = snprintf(line, sizeof(line), "X-Pad-%010zu: ", sent / sizeof(line));

			line[k] = 'h';
			line[sizeof(line) - 2] = '\r';
			line[sizeof(line) - 1] = '\n';
			if (!hostile_send(fd, line, sizeof(line)))
				break;
		}
		hostile_record(app, sent, sent < n);
		return sent >= n && hostile_sendf(fd, "\r\nok");
	}
	return hostile_sendf(fd, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
}

static void *hostile_serve(void *arg)
{
	struct hostile_conn *c = arg;
	struct hostile_app *app = c->app;
	int fd = c->fd;
	char *buf = malloc(64 * 1024);
	char method[16], path[1024];

	free(c);
	while (buf != NULL && hostile_read_request(fd, buf, 64 * 1024, method, path, sizeof(path))) {
		bool more;

		pthread_mutex_lock(&app->lock);
		app->count++;
		pthread_mutex_unlock(&app->lock);
		more = hostile_answer(app, fd, method, path);
		if (!more)
			break;
	}
	free(buf);
	shutdown(fd, SHUT_RDWR);
	return NULL;
}

static void *hostile_accept(void *arg)
{
	struct hostile_app *app = arg;

	for (;;) {
		int fd = accept4(app->listen_fd, NULL, NULL, SOCK_CLOEXEC);
		struct timeval tv = { .tv_sec = 20 }; /* a reader that stalls ends the stream, not the run */
		struct hostile_conn *c;
		int one = 1;

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			return NULL;
		}
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		pthread_mutex_lock(&app->lock);
		c = malloc(sizeof(*c));
		if (app->stopping || app->nconns == HOSTILE_MAX_CONNS || c == NULL) {
			pthread_mutex_unlock(&app->lock);
			free(c);
			close(fd);
			continue;
		}
		c->app = app;
		c->fd = fd;
		app->fds[app->nconns] = fd;
		if (pthread_create(&app->threads[app->nconns], NULL, hostile_serve, c) != 0) {
			free(c);
			close(fd);
		} else {
			app->nconns++;
		}
		pthread_mutex_unlock(&app->lock);
	}
}

struct hostile_app *hostile_app_start(void)
{
	struct hostile_app *app = calloc(1, sizeof(*app));
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof(sa);
	int one = 1;

	if (app == NULL)
		return NULL;
	pthread_mutex_init(&app->lock, NULL);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	app->listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (app->listen_fd < 0 ||
	    setsockopt(app->listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    bind(app->listen_fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    listen(app->listen_fd, 64) != 0 ||
	    getsockname(app->listen_fd, (struct sockaddr *)&sa, &len) != 0 ||
	    pthread_create(&app->acceptor, NULL, hostile_accept, app) != 0) {
		fprintf(stderr, "hostile app: cannot listen: %s\n", strerror(errno));
		if (app->listen_fd >= 0)
			close(app->listen_fd);
		free(app);
		return NULL;
	}
	app->port = ntohs(sa.sin_port);
	return app;
}

int hostile_app_port(const struct hostile_app *app)
{
	return app->port;
}

size_t hostile_app_count(struct hostile_app *app)
{
	size_t n;

	pthread_mutex_lock(&app->lock);
	n = app->count;
	pthread_mutex_unlock(&app->lock);
	return n;
}

void hostile_app_last(struct hostile_app *app, size_t *sent, bool *cut)
{
	pthread_mutex_lock(&app->lock);
	*sent = app->last_sent;
	*cut = app->last_cut;
	pthread_mutex_unlock(&app->lock);
}

void hostile_app_destroy(struct hostile_app *app)
{
	if (app == NULL)
		return;
	/* shutdown wakes the threads blocked in accept and recv. */
	pthread_mutex_lock(&app->lock);
	app->stopping = true;
	pthread_mutex_unlock(&app->lock);
	shutdown(app->listen_fd, SHUT_RDWR);
	pthread_join(app->acceptor, NULL);
	for (size_t i = 0; i < app->nconns; i++)
		shutdown(app->fds[i], SHUT_RDWR);
	for (size_t i = 0; i < app->nconns; i++) {
		pthread_join(app->threads[i], NULL);
		close(app->fds[i]);
	}
	close(app->listen_fd);
	pthread_mutex_destroy(&app->lock);
	free(app);
}
