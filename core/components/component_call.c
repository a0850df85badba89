/* SPDX-License-Identifier: Apache-2.0 */
/* The one way the core calls a plugin operation (see component_call.h). */
#include "components/component_call.h"

#include "components/component.h"
#include "runtime.h"

void component_call_submit(struct server *srv, struct component *c, struct work *w)
{
	w->lane = component_lane(c);
	workers_submit(srv->workers, w);
}
