/* SPDX-License-Identifier: Apache-2.0 */
/* A stand-in application for pub/sub tests: serves /dapr/subscribe, records and answers deliveries. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "test_app.h"

#include <ctype.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/thread.h>

#include "exchange.h"

#define POLL_MS 5

/* A delivery answered later (APP_SLOW): the request and the timer that answers it. */
struct pending {
	struct test_app *app;
	struct evhttp_request *req;
	struct event *timer;
	struct pending *next;
};

struct test_app {
	pthread_mutex_t lock; /* guards everything above `base` */
	char *subscribe;      /* NULL: 404 */
	app_policy policy;
	void *policy_arg;
	struct delivery **items;
	size_t n, cap;
	json_t *attempts; /* event id -> deliveries so far */
	long seq;
	int in_flight, max_in_flight;
	size_t subscribe_calls;
	char subscribe_app_id[128];

	/* Touched by the loop thread while it runs, by the caller otherwise. */
	int port;
	struct event_base *base;
	struct evhttp *http;
	pthread_t thread;
	bool running;
	struct pending *pending; /* loop thread only */
};

static pthread_once_t threads_once = PTHREAD_ONCE_INIT;

/* Lets test_app_stop() break the loop from the test's thread. */
static void enable_threads(void)
{
	evthread_use_pthreads();
}

/* Deliveries are small requests answered at once: Nagle would add 40 ms to each under load. */
static void set_nodelay(struct evhttp_request *req)
{
	struct evhttp_connection *evcon = evhttp_request_get_connection(req);
	struct bufferevent *bev = evcon ? evhttp_connection_get_bufferevent(evcon) : NULL;
	evutil_socket_t fd = bev ? bufferevent_getfd(bev) : -1;
	int one = 1;

	if (fd >= 0)
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

static void reply_json(struct evhttp_request *req, int code, const char *json)
{
	struct evbuffer *b = evbuffer_new();

	if (json != NULL) {
		evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", "application/json");
		evbuffer_add(b, json, strlen(json));
	}
	evhttp_send_reply(req, code, code == 200 ? "OK" : code == 404 ? "Not Found" : "Error", b);
	evbuffer_free(b);
}

static void send_answer(struct evhttp_request *req, enum app_answer a)
{
	switch (a) {
	case APP_RETRY: reply_json(req, 200, "{\"status\":\"RETRY\"}"); break;
	case APP_DROP: reply_json(req, 200, "{\"status\":\"DROP\"}"); break;
	case APP_404: reply_json(req, 404, NULL); break;
	case APP_500: reply_json(req, 500, NULL); break;
	case APP_EMPTY_200: reply_json(req, 200, NULL); break;
	case APP_SUCCESS:
	case APP_SLOW:
	default: reply_json(req, 200, "{\"status\":\"SUCCESS\"}"); break;
	}
}

static void answered(struct test_app *app)
{
	pthread_mutex_lock(&app->lock);
	app->in_flight--;
	pthread_mutex_unlock(&app->lock);
}

static void on_slow_done(evutil_socket_t fd, short what, void *arg)
{
	struct pending *p = arg, **pp;
	struct test_app *app = p->app;

	(void)fd;
	(void)what;
	for (pp = &app->pending; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == p) {
			*pp = p->next;
			break;
		}
	}
	/* If outrigd went away meanwhile, libevent has detached req and frees it here. */
	send_answer(p->req, APP_SLOW);
	event_free(p->timer);
	free(p);
	answered(app);
}

static void answer_later(struct test_app *app, struct evhttp_request *req, int delay_ms)
{
	struct pending *p = calloc(1, sizeof(*p));
	struct timeval tv = { delay_ms / 1000, (delay_ms % 1000) * 1000 };

	if (p == NULL || (p->timer = evtimer_new(app->base, on_slow_done, p)) == NULL) {
		free(p);
		send_answer(req, APP_SUCCESS);
		answered(app);
		return;
	}
	p->app = app;
	p->req = req;
	p->next = app->pending;
	app->pending = p;
	evtimer_add(p->timer, &tv);
}

static void serve_subscribe(struct test_app *app, struct evhttp_request *req)
{
	const char *id = evhttp_find_header(evhttp_request_get_input_headers(req), "dapr-app-id");
	char *json;

	pthread_mutex_lock(&app->lock);
	app->subscribe_calls++;
	snprintf(app->subscribe_app_id, sizeof(app->subscribe_app_id), "%s", id ? id : "");
	json = app->subscribe ? strdup(app->subscribe) : NULL;
	pthread_mutex_unlock(&app->lock);
	reply_json(req, json ? 200 : 404, json);
	free(json);
}

static const char *method_name(enum evhttp_cmd_type t)
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

/* Everything about req but its place in the sequence and its answer. NULL when out of memory. */
static struct delivery *read_delivery(struct evhttp_request *req)
{
	struct delivery *d = calloc(1, sizeof(*d));
	const char *uri = evhttp_request_get_uri(req), *q = strchr(uri, '?');
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	struct evkeyvalq *hdrs = evhttp_request_get_input_headers(req);
	struct evkeyval *h;

	if (d == NULL)
		return NULL;
	snprintf(d->method, sizeof(d->method), "%s", method_name(evhttp_request_get_command(req)));
	d->path = q ? strndup(uri, (size_t)(q - uri)) : strdup(uri);
	d->query = strdup(q ? q + 1 : "");
	d->headers = json_object();
	TAILQ_FOREACH(h, hdrs, next)
	{
		char *name = strdup(h->key);

		for (char *c = name; c && *c; c++)
			*c = (char)tolower((unsigned char)*c);
		if (name != NULL)
			json_object_set_new(d->headers, name, json_string(h->value ? h->value : ""));
		free(name);
	}
	d->body_len = evbuffer_get_length(in);
	d->body = malloc(d->body_len + 1);
	if (d->body != NULL) {
		evbuffer_copyout(in, d->body, d->body_len);
		d->body[d->body_len] = '\0';
		d->event = json_loadb(d->body, d->body_len, JSON_DECODE_ANY, NULL);
	}
	d->id = json_string_value(json_object_get(d->event, "id"));
	if (d->id == NULL)
		d->id = "";
	d->at_ms = xnow_ms();
	return d;
}

static void free_delivery(struct delivery *d)
{
	if (d == NULL)
		return;
	free(d->path);
	free(d->query);
	free(d->body);
	json_decref(d->headers);
	json_decref(d->event);
	free(d);
}

static struct app_reply decide(struct test_app *app, struct delivery *d)
{
	struct app_reply always = { APP_SUCCESS, 0 };
	app_policy policy;
	void *arg;

	pthread_mutex_lock(&app->lock);
	d->attempt = (int)json_integer_value(json_object_get(app->attempts, d->id)) + 1;
	json_object_set_new(app->attempts, d->id, json_integer(d->attempt));
	d->seq = ++app->seq;
	policy = app->policy;
	arg = app->policy_arg;
	if (++app->in_flight > app->max_in_flight)
		app->max_in_flight = app->in_flight;
	pthread_mutex_unlock(&app->lock);
	return policy ? policy(d, arg) : always;
}

static void record(struct test_app *app, struct delivery *d)
{
	pthread_mutex_lock(&app->lock);
	if (app->n == app->cap) {
		size_t cap = app->cap ? app->cap * 2 : 256;
		struct delivery **items = realloc(app->items, cap * sizeof(*items));

		if (items == NULL) {
			pthread_mutex_unlock(&app->lock);
			fprintf(stderr, "test app: out of memory, delivery %s not recorded\n", d->id);
			free_delivery(d);
			return;
		}
		app->items = items;
		app->cap = cap;
	}
	app->items[app->n++] = d;
	pthread_mutex_unlock(&app->lock);
}

/* Whether req is GET path, with or without a query string. */
static bool is_get_of(struct evhttp_request *req, const char *path)
{
	const char *uri = evhttp_request_get_uri(req);
	size_t n = strlen(path);

	return evhttp_request_get_command(req) == EVHTTP_REQ_GET && strncmp(uri, path, n) == 0 &&
	       (uri[n] == '\0' || uri[n] == '?');
}

static void on_request(struct evhttp_request *req, void *arg)
{
	struct test_app *app = arg;
	struct delivery *d;

	set_nodelay(req);
	if (is_get_of(req, "/dapr/subscribe")) {
		serve_subscribe(app, req);
		return;
	}
	/* The other start-up call (API.md §2.7): this app has no actors, so no configuration. It is
	 * not a delivery, so it is not recorded. */
	if (is_get_of(req, "/dapr/config")) {
		reply_json(req, 404, NULL);
		return;
	}
	d = read_delivery(req);
	if (d == NULL) {
		reply_json(req, 500, NULL);
		return;
	}
	d->reply = decide(app, d);
	/* Recorded before answering, so a test that sees the answer's effect also sees the record. */
	record(app, d);
	if (d->reply.answer == APP_SLOW && d->reply.delay_ms > 0) {
		answer_later(app, req, d->reply.delay_ms);
		return;
	}
	send_answer(req, d->reply.answer);
	answered(app);
}

static void *loop_main(void *arg)
{
	struct test_app *app = arg;

	event_base_dispatch(app->base);
	return NULL;
}

/* Binds port (0: any free one) and starts the loop thread. */
static int listen_on(struct test_app *app, int port)
{
	struct evhttp_bound_socket *sock;
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);

	app->base = event_base_new();
	app->http = app->base ? evhttp_new(app->base) : NULL;
	if (app->http == NULL)
		goto fail;
	evhttp_set_gencb(app->http, on_request, app);
	evhttp_set_allowed_methods(app->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_PUT |
						      EVHTTP_REQ_DELETE | EVHTTP_REQ_OPTIONS |
						      EVHTTP_REQ_PATCH | EVHTTP_REQ_HEAD);
	sock = evhttp_bind_socket_with_handle(app->http, "127.0.0.1", (ev_uint16_t)port);
	if (sock == NULL) {
		fprintf(stderr, "test app: cannot listen on 127.0.0.1:%d\n", port);
		goto fail;
	}
	if (getsockname(evhttp_bound_socket_get_fd(sock), (struct sockaddr *)&sa, &len) != 0)
		goto fail;
	app->port = ntohs(sa.sin_port);
	if (pthread_create(&app->thread, NULL, loop_main, app) != 0)
		goto fail;
	app->running = true;
	return 0;
fail:
	if (app->http)
		evhttp_free(app->http);
	if (app->base)
		event_base_free(app->base);
	app->http = NULL;
	app->base = NULL;
	return -1;
}

struct test_app *test_app_start(void)
{
	struct test_app *app = calloc(1, sizeof(*app));

	pthread_once(&threads_once, enable_threads);
	if (app == NULL)
		return NULL;
	pthread_mutex_init(&app->lock, NULL);
	app->attempts = json_object();
	if (listen_on(app, 0) != 0) {
		test_app_destroy(app);
		return NULL;
	}
	return app;
}

int test_app_port(const struct test_app *app)
{
	return app->port;
}

void test_app_set_subscribe(struct test_app *app, const char *json)
{
	pthread_mutex_lock(&app->lock);
	free(app->subscribe);
	app->subscribe = json ? strdup(json) : NULL;
	pthread_mutex_unlock(&app->lock);
}

void test_app_set_policy(struct test_app *app, app_policy policy, void *arg)
{
	pthread_mutex_lock(&app->lock);
	app->policy = policy;
	app->policy_arg = arg;
	pthread_mutex_unlock(&app->lock);
}

void test_app_stop(struct test_app *app)
{
	if (app == NULL || !app->running)
		return;
	/* Not loopbreak: it is lost when the thread has not entered its loop yet (a stop right after start). */
	event_base_loopexit(app->base, NULL);
	pthread_join(app->thread, NULL);
	app->running = false;
	/* Held deliveries die unanswered, as with a crash. A request libevent already detached from
	 * its closed connection is ours to free; the others go with their connection below. */
	while (app->pending != NULL) {
		struct pending *p = app->pending;

		app->pending = p->next;
		event_free(p->timer);
		if (evhttp_request_get_connection(p->req) == NULL)
			evhttp_request_free(p->req);
		free(p);
		answered(app);
	}
	evhttp_free(app->http);
	event_base_free(app->base);
	app->http = NULL;
	app->base = NULL;
}

int test_app_restart(struct test_app *app)
{
	if (app->running)
		return 0;
	return listen_on(app, app->port);
}

void test_app_destroy(struct test_app *app)
{
	if (app == NULL)
		return;
	test_app_stop(app);
	for (size_t i = 0; i < app->n; i++)
		free_delivery(app->items[i]);
	free(app->items);
	free(app->subscribe);
	json_decref(app->attempts);
	pthread_mutex_destroy(&app->lock);
	free(app);
}

size_t test_app_subscribe_calls(struct test_app *app, char *app_id, size_t size)
{
	size_t n;

	pthread_mutex_lock(&app->lock);
	n = app->subscribe_calls;
	if (app_id != NULL && size > 0)
		snprintf(app_id, size, "%s", app->subscribe_app_id);
	pthread_mutex_unlock(&app->lock);
	return n;
}

size_t test_app_count(struct test_app *app)
{
	return test_app_count_path(app, NULL);
}

size_t test_app_count_path(struct test_app *app, const char *path)
{
	size_t n = 0;

	pthread_mutex_lock(&app->lock);
	for (size_t i = 0; i < app->n; i++)
		n += path == NULL || strcmp(app->items[i]->path, path) == 0;
	pthread_mutex_unlock(&app->lock);
	return n;
}

static bool is_ack(enum app_answer a)
{
	return a == APP_SUCCESS || a == APP_EMPTY_200 || a == APP_SLOW;
}

static size_t count_ids(struct test_app *app, const char *path, bool acked_only)
{
	json_t *seen = json_object();
	size_t n;

	pthread_mutex_lock(&app->lock);
	for (size_t i = 0; i < app->n; i++) {
		const struct delivery *d = app->items[i];

		if ((path == NULL || strcmp(d->path, path) == 0) && (!acked_only || is_ack(d->reply.answer)))
			json_object_set_new(seen, d->id, json_true());
	}
	pthread_mutex_unlock(&app->lock);
	n = json_object_size(seen);
	json_decref(seen);
	return n;
}

size_t test_app_distinct_ids(struct test_app *app, const char *path)
{
	return count_ids(app, path, false);
}

size_t test_app_acked_ids(struct test_app *app, const char *path)
{
	return count_ids(app, path, true);
}

const struct delivery *test_app_delivery(struct test_app *app, size_t i)
{
	const struct delivery *d;

	pthread_mutex_lock(&app->lock);
	d = i < app->n ? app->items[i] : NULL;
	pthread_mutex_unlock(&app->lock);
	return d;
}

int test_app_max_in_flight(struct test_app *app)
{
	int n;

	pthread_mutex_lock(&app->lock);
	n = app->max_in_flight;
	pthread_mutex_unlock(&app->lock);
	return n;
}

bool test_app_wait(struct test_app *app, bool (*pred)(struct test_app *app, void *arg), void *arg,
		   long timeout_ms)
{
	long deadline = xnow_ms() + timeout_ms;

	for (;;) {
		if (pred(app, arg))
			return true;
		if (xnow_ms() >= deadline)
			return pred(app, arg);
		xsleep_ms(POLL_MS);
	}
}

struct at_least {
	const char *path;
	size_t n;
};

static bool enough_requests(struct test_app *app, void *arg)
{
	const struct at_least *w = arg;

	return test_app_count_path(app, w->path) >= w->n;
}

static bool enough_ids(struct test_app *app, void *arg)
{
	const struct at_least *w = arg;

	return test_app_distinct_ids(app, w->path) >= w->n;
}

static bool enough_acked(struct test_app *app, void *arg)
{
	const struct at_least *w = arg;

	return test_app_acked_ids(app, w->path) >= w->n;
}

bool test_app_wait_count(struct test_app *app, const char *path, size_t n, long timeout_ms)
{
	struct at_least w = { path, n };

	return test_app_wait(app, enough_requests, &w, timeout_ms);
}

bool test_app_wait_ids(struct test_app *app, const char *path, size_t n, long timeout_ms)
{
	struct at_least w = { path, n };

	return test_app_wait(app, enough_ids, &w, timeout_ms);
}

bool test_app_wait_acked(struct test_app *app, const char *path, size_t n, long timeout_ms)
{
	struct at_least w = { path, n };

	return test_app_wait(app, enough_acked, &w, timeout_ms);
}
