/* SPDX-License-Identifier: Apache-2.0 */
/* The one way the core calls a plugin operation (see component_call.h). */
#include "components/component_call.h"

#include <stdio.h>

#include "components/component.h"
#include "observe/trace.h"
#include "runtime.h"

/* A traced plugin call is back on the loop: its span ends, then the caller's done runs. */
static void component_call_traced_done(struct work *w)
{
	trace_end(w->span, false);
	w->span = NULL;
	w->done = w->traced_done;
	w->done(w);
}

void component_call_submit(struct server *srv, struct component *c, struct work *w)
{
	const struct trace_ctx *parent = trace_current();

	/* A child of the API call being served, when that call is sampled. */
	if (parent != NULL && (w->span = trace_begin(parent, c->type, TRACE_KIND_CLIENT, &(struct trace_ctx){ 0 })) != NULL) {
		trace_attr(w->span, "dapr.component.name", c->name);
		trace_attr(w->span, "dapr.component.type", c->type);
		w->traced_done = w->done;
		w->done = component_call_traced_done;
	}
	w->lane = component_lane(c);
	workers_submit(srv->workers, w);
}
