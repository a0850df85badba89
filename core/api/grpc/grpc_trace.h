/* SPDX-License-Identifier: Apache-2.0 */
/* Spans of gRPC API calls, and trace context in metadata (traceparent, tracestate, grpc-trace-bin). */
#ifndef OUTRIG_CORE_GRPC_TRACE_H
#define OUTRIG_CORE_GRPC_TRACE_H

struct grpc_call;

/*
 * With tracing on, starts call's span (a child of its traceparent, or else of its grpc-trace-bin,
 * or the root of a new trace), puts the span's context in the call's metadata in place of the
 * caller's (what the call passes on is a child of this span) and in its response headers as
 * daprd does (grpc-trace-bin, and traceparent). Health checks are not traced. Thread: the loop.
 */
void grpc_trace_begin(struct grpc_call *call);

/* Names an InvokeService call's span as daprd does, CallLocal/<app-id>/<method>, with net.peer.name. */
void grpc_trace_invoke(struct grpc_call *call, const char *app_id, const char *method);

/* Makes call's sampled span trace_current() (NULL: none) around its handler's synchronous part. */
void grpc_trace_set_current(const struct grpc_call *call);

/* Ends call's span with the call's grpc-status. Thread: the loop. */
void grpc_trace_end(struct grpc_call *call);

#endif /* OUTRIG_CORE_GRPC_TRACE_H */
