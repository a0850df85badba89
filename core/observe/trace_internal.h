/* SPDX-License-Identifier: Apache-2.0 */
/* What trace.c and trace_export.c share: the span record and the exporter's entry points. */
#ifndef OUTRIG_CORE_OBSERVE_TRACE_INTERNAL_H
#define OUTRIG_CORE_OBSERVE_TRACE_INTERNAL_H

#include "observe/trace.h"

#define SPAN_NAME_MAX 160
#define SPAN_ATTRS_MAX 12
#define SPAN_ROOM 640

struct span {
	struct trace_ctx ctx;
	uint8_t parent[8];
	bool has_parent;
	bool error;
	uint8_t kind;
	uint8_t nattrs;
	uint16_t used;
	int64_t start_us, end_us; /* Unix time */
	char name[SPAN_NAME_MAX];
	uint16_t key_off[SPAN_ATTRS_MAX], val_off[SPAN_ATTRS_MAX];
	char room[SPAN_ROOM];
	struct span *next; /* in the export queue */
};

/* Starts the exporter on base. 0, or -1 with err set. Thread: the loop's, before it runs. */
int trace_export_start(struct event_base *base, const struct trace_settings *s, const char *service,
		       struct trace_counters *counters, char *err, size_t errlen);

/* Takes sp into the queue, or drops it (counted) when the queue is full. Thread: the loop. */
void trace_export_push(struct span *sp);

/* Spans queued or in a batch a collector has not answered yet (0 without a collector). */
size_t trace_export_unsent(void);

/* Sends what is queued now, and from then on every batch as soon as the one before is answered. */
void trace_export_flush(void);

/* Frees the exporter and what it still queues, counting spans not sent as dropped. */
void trace_export_stop(void);

/* Appends sp as one Zipkin v2 JSON object to buf (an evbuffer). */
struct evbuffer;
void trace_export_zipkin_span(struct evbuffer *buf, const struct span *sp, const char *service);

#endif /* OUTRIG_CORE_OBSERVE_TRACE_INTERNAL_H */
