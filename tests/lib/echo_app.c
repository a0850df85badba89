/* SPDX-License-Identifier: Apache-2.0 */
/* A stand-in application for invocation tests: records each request and echoes its body, method, path and query. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "echo_app.h"

#include <ctype.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/thread.h>
#include <openssl/ssl.h>

/* An answer held back (x-echo-delay-ms). */
struct echo_pending {
	struct echo_app *app;
	struct evhttp_request *req;
	struct event *timer;
	int status;
	struct echo_pending *next;
};

struct echo_app {
	pthread_mutex_t lock; /* guards the records and counters */
	struct echo_request **items;
	size_t n, cap;
	int in_flight, max_in_flight;
	/* The first start-up calls (GET /dapr/subscribe, /dapr/config), apart from the records. */
	struct echo_request *startup[ECHO_APP_STARTUP_MAX];
	size_t nstartup;

	char name[64];
	int port;
	struct event_base *base;
	struct evhttp *http;
	pthread_t thread;
	bool running;
	struct echo_pending *pending; /* loop thread only */
	SSL_CTX *tls;		      /* echo_app_start_tls: every connection is TLS */
	char sni[256];		      /* the server name the last handshake asked for; "" for none */
};

static pthread_once_t echo_threads_once = PTHREAD_ONCE_INIT;

static void echo_enable_threads(void)
{
	evthread_use_pthreads();
}

static const char *echo_method_name(enum evhttp_cmd_type t)
{
	switch (t) {
	case EVHTTP_REQ_GET: return "GET";
	case EVHTTP_REQ_POST: return "POST";
	case EVHTTP_REQ_PUT: return "PUT";
	case EVHTTP_REQ_DELETE: return "DELETE";
	case EVHTTP_REQ_OPTIONS: return "OPTIONS";
	case EVHTTP_REQ_PATCH: return "PATCH";
	case EVHTTP_REQ_HEAD: return "HEAD";
	default: return "OTHER";
	}
}

static void echo_free_request(struct echo_request *r)
{
	if (r == NULL)
		return;
	free(r->path);
	free(r->query);
	free(r->body);
	json_decref(r->headers);
	free(r);
}

static struct echo_request *echo_read(struct evhttp_request *req)
{
	struct echo_request *r = calloc(1, sizeof(*r));
	const char *uri = evhttp_request_get_uri(req), *q = strchr(uri, '?');
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	struct evkeyval *h;

	if (r == NULL)
		return NULL;
	snprintf(r->method, sizeof(r->method), "%s", echo_method_name(evhttp_request_get_command(req)));
	r->path = q ? strndup(uri, (size_t)(q - uri)) : strdup(uri);
	r->query = q ? strdup(q + 1) : NULL;
	r->headers = json_object();
	TAILQ_FOREACH(h, evhttp_request_get_input_headers(req), next)
	{
		char *name = strdup(h->key);

		for (char *c = name; c && *c; c++)
			*c = (char)tolower((unsigned char)*c);
		/* A repeated name is joined as HTTP folds it, so that a duplicate shows. */
		if (name != NULL) {
			const char *had = json_string_value(json_object_get(r->headers, name));
			char *joined = NULL;

			if (had != NULL && asprintf(&joined, "%s, %s", had, h->value ? h->value : "") < 0)
				joined = NULL;
			json_object_set_new(r->headers, name,
					    json_string(joined	   ? joined
							: h->value ? h->value
								   : ""));
			free(joined);
		}
		free(name);
	}
	r->body_len = evbuffer_get_length(in);
	r->body = malloc(r->body_len + 1);
	if (r->body != NULL) {
		evbuffer_copyout(in, r->body, r->body_len);
		r->body[r->body_len] = '\0';
	}
	return r;
}

static void echo_record(struct echo_app *app, struct echo_request *r)
{
	pthread_mutex_lock(&app->lock);
	if (app->n == app->cap) {
		size_t cap = app->cap ? app->cap * 2 : 64;
		struct echo_request **items = realloc(app->items, cap * sizeof(*items));

		if (items == NULL) {
			pthread_mutex_unlock(&app->lock);
			echo_free_request(r);
			return;
		}
		app->items = items;
		app->cap = cap;
	}
	app->items[app->n++] = r;
	if (++app->in_flight > app->max_in_flight)
		app->max_in_flight = app->in_flight;
	pthread_mutex_unlock(&app->lock);
}

/* Fills the answer's headers and body from the request; the status is sent by the caller. */
static void echo_prepare(struct echo_app *app, struct evhttp_request *req)
{
	struct evkeyvalq *in = evhttp_request_get_input_headers(req);
	struct evkeyvalq *out = evhttp_request_get_output_headers(req);
	const char *uri = evhttp_request_get_uri(req), *q = strchr(uri, '?');
	const char *type = evhttp_find_header(in, "Content-Type");
	const char *extra = evhttp_find_header(in, "x-echo-reply-header");
	char *path = q ? strndup(uri, (size_t)(q - uri)) : strdup(uri);
	char len[32];

	evhttp_add_header(out, "x-echo-app", app->name);
	evhttp_add_header(out, "x-echo-method", echo_method_name(evhttp_request_get_command(req)));
	evhttp_add_header(out, "x-echo-path", path != NULL ? path : "");
	if (q != NULL)
		evhttp_add_header(out, "x-echo-query", q + 1);
	snprintf(len, sizeof(len), "%zu", evbuffer_get_length(evhttp_request_get_input_buffer(req)));
	evhttp_add_header(out, "x-echo-length", len);
	if (evhttp_find_header(in, "x-echo-no-type") == NULL)
		evhttp_add_header(out, "Content-Type", type != NULL ? type : "application/octet-stream");
	if (extra != NULL) {
		char *copy = strdup(extra), *save = NULL;

		for (char *one = copy ? strtok_r(copy, "|", &save) : NULL; one != NULL;
		     one = strtok_r(NULL, "|", &save)) {
			char *colon = strchr(one, ':');

			if (colon == NULL)
				continue;
			*colon = '\0';
			for (colon++; *colon == ' ';)
				colon++;
			evhttp_add_header(out, one, colon);
		}
		free(copy);
	}
	free(path);
}

static void echo_send(struct echo_app *app, struct evhttp_request *req, int status)
{
	/* The request's body becomes the answer's: moved, not copied. */
	evhttp_send_reply(req, status, NULL, evhttp_request_get_input_buffer(req));
	pthread_mutex_lock(&app->lock);
	app->in_flight--;
	pthread_mutex_unlock(&app->lock);
}

static void echo_later(evutil_socket_t fd, short what, void *arg)
{
	struct echo_pending *p = arg, **pp;
	struct echo_app *app = p->app;

	(void)fd;
	(void)what;
	for (pp = &app->pending; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == p) {
			*pp = p->next;
			break;
		}
	}
	echo_send(app, p->req, p->status);
	event_free(p->timer);
	free(p);
}

static void echo_on_request(struct evhttp_request *req, void *arg)
{
	struct echo_app *app = arg;
	struct evkeyvalq *in = evhttp_request_get_input_headers(req);
	const char *status_h = evhttp_find_header(in, "x-echo-status");
	const char *delay_h = evhttp_find_header(in, "x-echo-delay-ms");
	const char *uri = evhttp_request_get_uri(req);
	int status = status_h != NULL ? atoi(status_h) : 200;
	int delay = delay_h != NULL ? atoi(delay_h) : 0;
	struct evhttp_connection *evcon = evhttp_request_get_connection(req);
	struct bufferevent *bev = evcon ? evhttp_connection_get_bufferevent(evcon) : NULL;
	evutil_socket_t fd = bev ? bufferevent_getfd(bev) : -1;
	struct echo_request *r;
	int one = 1;

	if (fd >= 0)
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	/* outrigd's start-up calls (API.md §2.7): no subscriptions, no actors; not recorded. */
	if (evhttp_request_get_command(req) == EVHTTP_REQ_GET &&
	    (strcmp(uri, "/dapr/subscribe") == 0 || strcmp(uri, "/dapr/config") == 0)) {
		r = echo_read(req);
		pthread_mutex_lock(&app->lock);
		if (r != NULL && app->nstartup < ECHO_APP_STARTUP_MAX)
			app->startup[app->nstartup++] = r;
		else
			echo_free_request(r);
		pthread_mutex_unlock(&app->lock);
		evhttp_send_reply(req, 404, "Not Found", NULL);
		return;
	}
	r = echo_read(req);
	if (r == NULL) {
		evhttp_send_reply(req, 500, "Out of memory", NULL);
		return;
	}
	echo_record(app, r);
	echo_prepare(app, req);
	if (strncmp(uri, "/echo-status/", 13) == 0)
		status = atoi(uri + 13);
	if (status < 100 || status > 599)
		status = 200;
	if (delay > 0) {
		struct echo_pending *p = calloc(1, sizeof(*p));
		struct timeval tv = { delay / 1000, (delay % 1000) * 1000 };

		if (p != NULL && (p->timer = evtimer_new(app->base, echo_later, p)) != NULL) {
			p->app = app;
			p->req = req;
			p->status = status;
			p->next = app->pending;
			app->pending = p;
			evtimer_add(p->timer, &tv);
			return;
		}
		free(p);
	}
	echo_send(app, req, status);
}

static void *echo_loop(void *arg)
{
	struct echo_app *app = arg;

	event_base_dispatch(app->base);
	return NULL;
}

/* A TLS connection for evhttp (echo_app_start_tls). */
static struct bufferevent *echo_tls_bev(struct event_base *base, void *arg)
{
	struct echo_app *app = arg;
	SSL *ssl = SSL_new(app->tls);

	return ssl != NULL ? bufferevent_openssl_socket_new(base, -1, ssl, BUFFEREVENT_SSL_ACCEPTING,
							    BEV_OPT_CLOSE_ON_FREE)
			   : NULL;
}

/* Records the server name (SNI) each handshake asks for. */
static int echo_tls_servername(SSL *ssl, int *alert, void *arg)
{
	struct echo_app *app = arg;
	const char *name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);

	(void)alert;
	pthread_mutex_lock(&app->lock);
	snprintf(app->sni, sizeof(app->sni), "%s", name != NULL ? name : "");
	pthread_mutex_unlock(&app->lock);
	return SSL_TLSEXT_ERR_OK;
}

void echo_app_tls_sni(struct echo_app *app, char *buf, size_t len)
{
	pthread_mutex_lock(&app->lock);
	snprintf(buf, len, "%s", app->sni);
	pthread_mutex_unlock(&app->lock);
}

struct echo_app *echo_app_start_tls(const char *name, const char *cert, const char *key)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	struct echo_app *app;

	if (ctx == NULL || SSL_CTX_use_certificate_chain_file(ctx, cert) != 1 ||
	    SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1) {
		fprintf(stderr, "echo app: cannot load %s and %s\n", cert, key);
		SSL_CTX_free(ctx);
		return NULL;
	}
	app = echo_app_start(name);
	if (app == NULL) {
		SSL_CTX_free(ctx);
		return NULL;
	}
	/* Before any connection: the thread only accepts once its loop runs this callback. */
	app->tls = ctx;
	SSL_CTX_set_tlsext_servername_callback(ctx, echo_tls_servername);
	SSL_CTX_set_tlsext_servername_arg(ctx, app);
	evhttp_set_bevcb(app->http, echo_tls_bev, app);
	return app;
}

int echo_app_tls_handshakes(struct echo_app *app)
{
	return app->tls != NULL ? (int)SSL_CTX_sess_accept_good(app->tls) : 0;
}

struct echo_app *echo_app_start(const char *name)
{
	struct echo_app *app = calloc(1, sizeof(*app));
	struct evhttp_bound_socket *sock;
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);

	pthread_once(&echo_threads_once, echo_enable_threads);
	if (app == NULL)
		return NULL;
	pthread_mutex_init(&app->lock, NULL);
	snprintf(app->name, sizeof(app->name), "%s", name);
	app->base = event_base_new();
	app->http = app->base ? evhttp_new(app->base) : NULL;
	if (app->http == NULL)
		goto fail;
	evhttp_set_gencb(app->http, echo_on_request, app);
	evhttp_set_allowed_methods(app->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_PUT |
						      EVHTTP_REQ_DELETE | EVHTTP_REQ_OPTIONS |
						      EVHTTP_REQ_PATCH | EVHTTP_REQ_HEAD);
	evhttp_set_max_body_size(app->http, 16 * 1024 * 1024);
	/* No default Content-Type: x-echo-no-type must really send none. */
	evhttp_set_default_content_type(app->http, NULL);
	sock = evhttp_bind_socket_with_handle(app->http, "127.0.0.1", 0);
	if (sock == NULL ||
	    getsockname(evhttp_bound_socket_get_fd(sock), (struct sockaddr *)&sa, &len) != 0) {
		fprintf(stderr, "echo app: cannot listen on 127.0.0.1\n");
		goto fail;
	}
	app->port = ntohs(sa.sin_port);
	if (pthread_create(&app->thread, NULL, echo_loop, app) != 0)
		goto fail;
	app->running = true;
	return app;
fail:
	echo_app_destroy(app);
	return NULL;
}

int echo_app_port(const struct echo_app *app)
{
	return app->port;
}

size_t echo_app_count(struct echo_app *app)
{
	size_t n;

	pthread_mutex_lock(&app->lock);
	n = app->n;
	pthread_mutex_unlock(&app->lock);
	return n;
}

const struct echo_request *echo_app_request(struct echo_app *app, size_t i)
{
	const struct echo_request *r;

	pthread_mutex_lock(&app->lock);
	r = i < app->n ? app->items[i] : NULL;
	pthread_mutex_unlock(&app->lock);
	return r;
}

const struct echo_request *echo_app_startup_request(struct echo_app *app, size_t i)
{
	const struct echo_request *r;

	pthread_mutex_lock(&app->lock);
	r = i < app->nstartup ? app->startup[i] : NULL;
	pthread_mutex_unlock(&app->lock);
	return r;
}

const struct echo_request *echo_app_last(struct echo_app *app)
{
	const struct echo_request *r;

	pthread_mutex_lock(&app->lock);
	r = app->n > 0 ? app->items[app->n - 1] : NULL;
	pthread_mutex_unlock(&app->lock);
	return r;
}

/* The first of app's requests (startup ones too) with method on path, or NULL. */
static const struct echo_request *echo_app_find(struct echo_app *app, const char *method, const char *path)
{
	const struct echo_request *r;

	for (size_t i = 0; (r = echo_app_startup_request(app, i)) != NULL; i++)
		if (strcmp(r->method, method) == 0 && strcmp(r->path, path) == 0)
			return r;
	for (size_t i = 0, n = echo_app_count(app); i < n; i++) {
		r = echo_app_request(app, i);
		if (strcmp(r->method, method) == 0 && strcmp(r->path, path) == 0)
			return r;
	}
	return NULL;
}

const struct echo_request *echo_app_wait(struct echo_app *app, const char *method, const char *path,
					 int timeout_ms)
{
	const struct echo_request *r;
	struct timespec nap = { 0, 10 * 1000 * 1000 };

	for (int waited = 0; (r = echo_app_find(app, method, path)) == NULL && waited < timeout_ms;
	     waited += 10)
		nanosleep(&nap, NULL);
	return r;
}

const char *echo_header(const struct echo_request *r, const char *name)
{
	return json_string_value(json_object_get(r->headers, name));
}

int echo_app_max_in_flight(struct echo_app *app)
{
	int n;

	pthread_mutex_lock(&app->lock);
	n = app->max_in_flight;
	pthread_mutex_unlock(&app->lock);
	return n;
}

void echo_app_destroy(struct echo_app *app)
{
	if (app == NULL)
		return;
	if (app->running) {
		/*
		 * loopexit, not loopbreak: the thread may not have entered its loop yet, and a loop that
		 * starts clears a break asked before it; loopexit's event waits for the loop and ends it.
		 */
		event_base_loopexit(app->base, NULL);
		pthread_join(app->thread, NULL);
	}
	while (app->pending != NULL) {
		struct echo_pending *p = app->pending;

		app->pending = p->next;
		event_free(p->timer);
		free(p);
	}
	if (app->http != NULL)
		evhttp_free(app->http);
	if (app->base != NULL)
		event_base_free(app->base);
	for (size_t i = 0; i < app->n; i++)
		echo_free_request(app->items[i]);
	for (size_t i = 0; i < app->nstartup; i++)
		echo_free_request(app->startup[i]);
	free(app->items);
	SSL_CTX_free(app->tls);
	pthread_mutex_destroy(&app->lock);
	free(app);
}
