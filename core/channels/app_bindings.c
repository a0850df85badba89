/* SPDX-License-Identifier: Apache-2.0 */
/* Input bindings as the app sees them, over the HTTP app channel: OPTIONS and POST /{route}. */
#include "config.h"

#include "channels/app_bindings.h"

#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/queue.h>

#include "channels/app_bindings_grpc.h"
#include "channels/app_channel.h"
#include "channels/app_grpc.h"
#include "channels/grpc_client.h"

struct app_bindings {
	struct app_channel *ch; /* an HTTP app's, or NULL */
	struct app_grpc *ag;	/* a gRPC app's, or NULL */
	/* app_bindings_name's pairs, for the gRPC app. */
	struct {
		const char *route, *name;
	} *names;
	size_t nnames;
};

int app_bindings_name(struct app_bindings *ab, const char *route, const char *name)
{
	void *grown = realloc(ab->names, (ab->nnames + 1) * sizeof(*ab->names));

	if (grown == NULL)
		return -1;
	ab->names = grown;
	ab->names[ab->nnames].route = route;
	ab->names[ab->nnames].name = name;
	ab->nnames++;
	return 0;
}

void app_bindings_unname(struct app_bindings *ab, const char *route)
{
	size_t kept = 0;

	for (size_t i = 0; ab != NULL && i < ab->nnames; i++)
		if (ab->names[i].route != route)
			ab->names[kept++] = ab->names[i];
	if (ab != NULL)
		ab->nnames = kept;
}

/* The name of the binding behind route, as a gRPC app knows it. */
static const char *app_bindings_name_of(const struct app_bindings *ab, const char *route)
{
	for (size_t i = 0; i < ab->nnames; i++)
		if (strcmp(ab->names[i].route, route) == 0)
			return ab->names[i].name;
	return *route == '/' ? route + 1 : route;
}

struct app_bindings *app_bindings_new_http(struct app_channel *ch)
{
	struct app_bindings *ab = calloc(1, sizeof(*ab));

	if (ab != NULL)
		ab->ch = ch;
	return ab;
}

struct app_bindings *app_bindings_new_grpc(struct app_grpc *ag)
{
	struct app_bindings *ab = calloc(1, sizeof(*ab));

	if (ab != NULL)
		ab->ag = ag;
	return ab;
}

void app_bindings_free(struct app_bindings *ab)
{
	if (ab != NULL)
		free(ab->names);
	free(ab);
}

void app_bindings_when_ready(struct app_bindings *ab, void (*ready)(void *arg), void *arg)
{
	if (ab->ag != NULL)
		grpc_client_wait_ready(app_grpc_client(ab->ag), ready, arg);
	else
		app_channel_wait_ready(ab->ch, ready, arg);
}

const char *app_bindings_ask_name(const struct app_bindings *ab, const char *route, char *buf, size_t size)
{
	if (ab->ag != NULL)
		snprintf(buf, size, "ListInputBindings (for %s)", app_bindings_name_of(ab, route));
	else
		snprintf(buf, size, "OPTIONS %s", route);
	return buf;
}

const char *app_bindings_deliver_name(const struct app_bindings *ab, const char *route, char *buf,
				      size_t size)
{
	if (ab->ag != NULL)
		snprintf(buf, size, "OnBindingEvent %s", app_bindings_name_of(ab, route));
	else
		snprintf(buf, size, "POST %s", route);
	return buf;
}

/* ---- asking ---- */

static void app_bindings_answered(void *arg, const struct app_response *r)
{
	struct app_bindings_call *c = arg;
	char detail[700];

	/* API.md §4.2: 2xx, or 405 (what many frameworks answer to OPTIONS), means the app wants it. */
	if ((r->status >= 200 && r->status <= 299) || r->status == 405) {
		c->asked(c->arg, APP_BINDING_WANTED, NULL);
	} else if (r->status != 0) {
		snprintf(
			detail, sizeof(detail),
			"the app answered OPTIONS %s with HTTP %d (serve POST %s, or set the component's route metadata, to receive its events)",
			c->route, r->status, c->route);
		c->asked(c->arg, APP_BINDING_DECLINED, detail);
	} else {
		snprintf(detail, sizeof(detail), "OPTIONS %s failed: %s", c->route,
			 r->error != NULL ? r->error : "no answer");
		c->asked(c->arg, APP_BINDING_NO_ANSWER, detail);
	}
}

int app_bindings_ask(struct app_bindings *ab, const char *route, struct app_bindings_call *call,
		     app_bindings_asked_fn cb, void *arg)
{
	if (ab->ag != NULL)
		return app_bindings_grpc_ask(ab->ag, route, app_bindings_name_of(ab, route), call, cb, arg);
	*call = (struct app_bindings_call){ .asked = cb, .arg = arg, .route = route };
	return app_channel_send(ab->ch, EVHTTP_REQ_OPTIONS, route, NULL, "application/json", NULL, 0,
				app_bindings_answered, call);
}

/* ---- delivering ---- */

/* Headers that describe the HTTP message itself: the event's metadata may not set them. */
static bool app_bindings_reserved_header(const char *name)
{
	static const char *const reserved[] = { "content-length", "transfer-encoding", "connection", "host",
						"keep-alive",	  "upgrade",	       "te",	     NULL };

	for (const char *const *r = reserved; *r != NULL; r++)
		if (strcasecmp(name, *r) == 0)
			return true;
	return false;
}

static void app_bindings_delivered(void *arg, const struct app_response *r)
{
	struct app_bindings_call *c = arg;
	char why[300];

	c->code = r->status >= 200 && r->status <= 299 ? 0 : r->status;
	c->grpc = false;
	if (r->status >= 200 && r->status <= 299) {
		c->delivered(c->arg, true, NULL);
	} else {
		if (r->status == 0)
			snprintf(why, sizeof(why), "%s", r->error != NULL ? r->error : "no answer");
		else
			snprintf(why, sizeof(why), "the app answered HTTP %d", r->status);
		c->delivered(c->arg, false, why);
	}
}

int app_bindings_deliver(struct app_bindings *ab, const char *route, const struct outrig_metadata *md,
			 const void *data, size_t len, struct app_bindings_call *call,
			 app_bindings_delivered_fn cb, void *arg)
{
	const char *content_type = "application/json";
	struct evkeyvalq headers;
	int rc;

	if (ab->ag != NULL)
		return app_bindings_grpc_deliver(ab->ag, route, app_bindings_name_of(ab, route), md, data,
						 len, call, cb, arg);
	*call = (struct app_bindings_call){ .delivered = cb, .arg = arg, .route = route };
	TAILQ_INIT(&headers);
	for (size_t i = 0; md != NULL && i < md->count; i++) {
		const char *k = md->items[i].key, *v = md->items[i].value;

		if (k == NULL || v == NULL || *k == '\0' || app_bindings_reserved_header(k))
			continue;
		/* The last one wins, as it replaces the one before. */
		if (strcasecmp(k, "content-type") == 0) {
			content_type = v;
			continue;
		}
		/* evhttp refuses a value with a line break: such an entry cannot be a header. */
		evhttp_add_header(&headers, k, v);
	}
	rc = app_channel_send(ab->ch, EVHTTP_REQ_POST, route, &headers, content_type, data, len,
			      app_bindings_delivered, call);
	evhttp_clear_headers(&headers);
	return rc;
}
