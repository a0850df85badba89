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

#include "channels/app_channel.h"

/* One question or delivery out to the app. */
struct app_binding_call {
	char *route;
	app_bindings_asked_fn asked;
	app_bindings_delivered_fn delivered;
	void *arg;
};

static struct app_binding_call *app_binding_call_new(const char *route, void *arg)
{
	struct app_binding_call *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	c->arg = arg;
	if ((c->route = strdup(route)) == NULL) {
		free(c);
		return NULL;
	}
	return c;
}

static void app_binding_call_free(struct app_binding_call *c)
{
	free(c->route);
	free(c);
}

const char *app_bindings_ask_name(const struct app_channel *ch, const char *route, char *buf, size_t size)
{
	snprintf(buf, size, "OPTIONS %s", route);
	return buf;
}

const char *app_bindings_deliver_name(const struct app_channel *ch, const char *route, char *buf, size_t size)
{
	snprintf(buf, size, "POST %s", route);
	return buf;
}

/* ---- asking ---- */

static void app_bindings_answered(void *arg, const struct app_response *r)
{
	struct app_binding_call *c = arg;
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
	app_binding_call_free(c);
}

int app_bindings_ask(struct app_channel *ch, const char *route, app_bindings_asked_fn cb, void *arg)
{
	struct app_binding_call *c = app_binding_call_new(route, arg);

	if (c == NULL)
		return -1;
	c->asked = cb;
	if (app_channel_send(ch, EVHTTP_REQ_OPTIONS, route, NULL, "application/json", NULL, 0,
			     app_bindings_answered, c) != 0) {
		app_binding_call_free(c);
		return -1;
	}
	return 0;
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
	struct app_binding_call *c = arg;
	char why[300];

	if (r->status >= 200 && r->status <= 299) {
		c->delivered(c->arg, true, NULL);
	} else {
		if (r->status == 0)
			snprintf(why, sizeof(why), "%s", r->error != NULL ? r->error : "no answer");
		else
			snprintf(why, sizeof(why), "the app answered HTTP %d", r->status);
		c->delivered(c->arg, false, why);
	}
	app_binding_call_free(c);
}

int app_bindings_deliver(struct app_channel *ch, const char *route, const struct outrig_metadata *md,
			 const void *data, size_t len, app_bindings_delivered_fn cb, void *arg)
{
	struct app_binding_call *c = app_binding_call_new(route, arg);
	const char *content_type = "application/json";
	struct evkeyvalq headers;
	int rc;

	if (c == NULL)
		return -1;
	c->delivered = cb;
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
	rc = app_channel_send(ch, EVHTTP_REQ_POST, route, &headers, content_type, data, len,
			      app_bindings_delivered, c);
	evhttp_clear_headers(&headers);
	if (rc != 0) {
		app_binding_call_free(c);
		return -1;
	}
	return 0;
}
