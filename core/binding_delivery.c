/* SPDX-License-Identifier: Apache-2.0 */
/* placeholder until input bindings land */
#include "config.h"

#include "binding_delivery.h"

int binding_deliver(struct outrig_binding_sink *sink, const struct outrig_binding_event *ev,
		    void (*done)(void *done_ctx, int outcome), void *done_ctx)
{
	return OUTRIG_EUNAVAIL;
}
