/* SPDX-License-Identifier: Apache-2.0 */
/* Spans of HTTP requests to the API and internal listeners, and trace context in and out. */
#ifndef OUTRIG_CORE_HTTP_TRACE_H
#define OUTRIG_CORE_HTTP_TRACE_H

#include <stdbool.h>

struct evhttp_request;

/*
 * With tracing on (trace_enabled), starts the span of req (a child of its traceparent, or the
 * root of a new trace), puts the span's context in req's input headers in place of the caller's
 * (what the request then passes on, to an app, a peer or a CloudEvent, is a child of this span)
 * and in its output headers (as daprd answers), and ends the span when the reply has gone out.
 * internal: the sidecar-to-sidecar listener (the callee side of an invocation). Health probes
 * are not traced. A no-op with tracing off. A sampled span is also trace_current() until the
 * caller's trace_set_current(NULL), after the handler's synchronous part. Thread: the loop.
 */
void http_trace_begin(struct evhttp_request *req, bool internal);

#endif /* OUTRIG_CORE_HTTP_TRACE_H */
