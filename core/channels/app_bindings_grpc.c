/* SPDX-License-Identifier: Apache-2.0 */
/* Input bindings' calls to a gRPC app (ListInputBindings, OnBindingEvent), behind app_bindings.h's functions. */
#include "config.h"

#include "channels/app_bindings_grpc.h"

#include <stdio.h>
#include <string.h>

#include "base/kv.h"
#include "channels/app_grpc.h"

static void abg_listed(void *arg, const struct app_grpc_bindings_result *r)
{
	struct app_bindings_call *c = arg;
	const char *name = c->name;
	char detail[700];

	if (r->status != 0) {
		/* daprd: a listing that fails is an empty list. */
		snprintf(
			detail, sizeof(detail),
			"the app's ListInputBindings failed (gRPC status %d: %s), which counts as no bindings; implement ListInputBindings and list %s to receive its events",
			r->status, r->message, name);
		c->asked(c->arg, APP_BINDING_DECLINED, detail);
		return;
	}
	for (size_t i = 0; i < r->count; i++) {
		if (strcmp(r->names[i], name) == 0) {
			c->asked(c->arg, APP_BINDING_WANTED, NULL);
			return;
		}
	}
	snprintf(
		detail, sizeof(detail),
		"the app's ListInputBindings does not list %s (add it to the app's input bindings to receive its events)",
		name);
	c->asked(c->arg, APP_BINDING_DECLINED, detail);
}

int app_bindings_grpc_ask(struct app_grpc *ag, const char *route, const char *name,
			  struct app_bindings_call *call, app_bindings_asked_fn cb, void *arg)
{
	*call = (struct app_bindings_call){ .asked = cb, .arg = arg, .route = route, .name = name };
	/* One listing per binding: a few calls at start-up, each answered alone and freed with ag. */
	return app_grpc_list_bindings(ag, 0, abg_listed, call);
}

static void abg_delivered(void *arg, const struct app_grpc_binding_result *r)
{
	struct app_bindings_call *c = arg;
	char why[300];

	c->code = r->status;
	c->grpc = true;
	if (r->status == 0) {
		c->delivered(c->arg, true, NULL);
		return;
	}
	snprintf(why, sizeof(why), "the app answered OnBindingEvent with gRPC status %d: %s", r->status,
		 r->message);
	c->delivered(c->arg, false, why);
}

int app_bindings_grpc_deliver(struct app_grpc *ag, const char *route, const char *name,
			      const struct outrig_metadata *md, const void *data, size_t len,
			      struct app_bindings_call *call, app_bindings_delivered_fn cb, void *arg)
{
	struct app_grpc_binding_event ev = { 0 };
	struct kv_list meta = { 0 };
	int rc = -1;

	*call = (struct app_bindings_call){ .delivered = cb, .arg = arg, .route = route, .name = name };
	for (size_t i = 0; md != NULL && i < md->count; i++) {
		const char *k = md->items[i].key, *v = md->items[i].value;

		if (k != NULL && v != NULL && *k != '\0' && kv_set(&meta, k, v) != 0)
			goto out;
	}
	ev.name = name;
	ev.data = data;
	ev.len = len;
	ev.metadata = &meta;
	rc = app_grpc_binding_event(ag, &ev, abg_delivered, call);
out:
	kv_free(&meta);
	return rc;
}
