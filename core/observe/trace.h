/* SPDX-License-Identifier: Apache-2.0 */
/* Distributed tracing: W3C trace context, sampling, spans, and their hand-off to the exporter. */
#ifndef OUTRIG_CORE_OBSERVE_TRACE_H
#define OUTRIG_CORE_OBSERVE_TRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* "00-" 32 hex "-" 16 hex "-" 2 hex, and the NUL. */
#define TRACE_PARENT_LEN 56
/* W3C trace context: a longer tracestate is dropped, as daprd drops it. */
#define TRACE_STATE_MAX 512

/* One position in a trace: what traceparent carries. */
struct trace_ctx {
	uint8_t trace_id[16];
	uint8_t span_id[8];
	uint8_t flags; /* bit 0: sampled */
};

/* The kinds of OTLP (Zipkin has no INTERNAL: exported without a kind). */
enum trace_kind {
	TRACE_KIND_INTERNAL = 1,
	TRACE_KIND_SERVER = 2,
	TRACE_KIND_CLIENT = 3,
	TRACE_KIND_PRODUCER = 4,
	TRACE_KIND_CONSUMER = 5,
};

/* What the Configuration's spec.tracing asks for (core/resources/configuration_tracing.c). */
struct trace_settings {
	bool enabled;	     /* a spec.tracing section was read */
	double rate;	     /* samplingRate, 0..1 */
	bool to_stdout;	     /* stdout: true, each span as a log line */
	char *zipkin_url;    /* zipkin.endpointAddress: http://host:port/path */
	char *otlp_url;	     /* otel.endpointAddress with protocol http: http://host:port/v1/traces */
	char *sampling_text; /* samplingRate as written, for messages */
};

/* Counters of the exporter, for metrics (read on the loop). Per exporter: with Zipkin and OTLP both
 * set, a span counts once for each. */
struct trace_counters {
	uint64_t started;   /* spans sampled and recorded */
	uint64_t exported;  /* accepted by a collector (2xx); with stdout only, written */
	uint64_t dropped;   /* queue full (once), or a collector down, slow or refusing (per exporter) */
	uint64_t abandoned; /* HTTP requests whose reply never went out (client gone) */
	uint64_t batches_failed;
};

struct span;
struct event_base;

/*
 * Parses a traceparent strictly (W3C level 1): version 00 (or a later version with at least the
 * same fields, read as 00), lower-case hex, ids not all zero, version ff refused. False for
 * anything else, and the caller starts a new trace. Thread: any.
 */
bool trace_parse(const char *traceparent, struct trace_ctx *out);

/* Writes ctx as "00-<trace>-<span>-<flags>" into buf (TRACE_PARENT_LEN bytes). Thread: any. */
void trace_format(const struct trace_ctx *ctx, char *buf);

/* Whether a tracestate value may travel: printable, list-shaped, at most TRACE_STATE_MAX. */
bool trace_state_ok(const char *tracestate);

/* Lower-case hex of n bytes into out (2n + 1 bytes). Thread: any. */
void trace_hex(const uint8_t *bytes, size_t n, char *out);

/*
 * Starts tracing with s (copied), exporting from base's loop. Returns 0, or -1 with a message
 * in err (an exporter address that cannot be resolved). Thread: the loop's, before it runs.
 */
int trace_start(struct event_base *base, const struct trace_settings *s, const char *service, char *err,
		size_t errlen);

/* Whether a Configuration turned tracing on: without it outrig only passes trace context along. */
bool trace_enabled(void);

/*
 * A child of parent (NULL: the root of a new trace) named name: its context goes into child
 * (always, sampled or not, so it can travel on), and the span is returned when it is sampled
 * (parent's sampled flag when there is a parent, as daprd's parent-based sampler; else the
 * trace id ratio of samplingRate). NULL when not sampled or tracing is off. Thread: the loop.
 */
struct span *trace_begin(const struct trace_ctx *parent, const char *name, enum trace_kind kind,
			 struct trace_ctx *child);

/* Renames a span (the name is known only once the route is). Thread: the loop. */
void trace_rename(struct span *sp, const char *name);

/* Adds a string attribute (both copied; silently cut when the span's room is full). */
void trace_attr(struct span *sp, const char *key, const char *value);

/* Ends sp with an error or not, and queues it for export; sp is gone after. NULL is a no-op. */
void trace_end(struct span *sp, bool error);

/* Frees sp without exporting it. */
void trace_discard(struct span *sp);

/*
 * Keeps sp for a callback that may never come (a reply to a client that left): the token
 * returned is what trace_release takes. After TRACE_HOLD_MAX_S an unreleased span is freed and
 * counted as abandoned; its token then releases nothing. Thread: the loop.
 */
#define TRACE_HOLD_MAX_S 900
void *trace_hold(struct span *sp);
struct span *trace_release(void *token);

/*
 * The sampled span whose request handler is running now on the loop (set around the handler's
 * synchronous part by the front ends), so that the plugin calls it makes become its children;
 * NULL when none. Thread: the loop.
 */
void trace_set_current(const struct trace_ctx *ctx);
const struct trace_ctx *trace_current(void);

/* The exporter's counters so far. Thread: the loop. */
struct trace_counters trace_counters(void);

/*
 * For a graceful stop: sends what is queued now rather than at the next tick, and every further
 * batch as soon as a collector answers the one before, on the loop as always. trace_unsent says
 * how many spans a collector has not yet accepted (queued or in flight; 0 without a collector).
 * Thread: the loop.
 */
void trace_flush(void);
size_t trace_unsent(void);

/* Frees the tracer; spans still unsent are counted as dropped and said in one warning. Thread: the loop. */
void trace_stop(void);

#endif /* OUTRIG_CORE_OBSERVE_TRACE_H */
