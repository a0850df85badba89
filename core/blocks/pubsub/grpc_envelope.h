/* SPDX-License-Identifier: Apache-2.0 */
/* A CloudEvent as OnTopicEvent's request to a gRPC app, shaped as daprd shapes it (API.md §2.6 for the event). */
#ifndef OUTRIG_CORE_BLOCKS_PUBSUB_GRPC_ENVELOPE_H
#define OUTRIG_CORE_BLOCKS_PUBSUB_GRPC_ENVELOPE_H

#include <stddef.h>

#include <jansson.h>

#include "channels/app_grpc.h"

struct grpc_envelope {
	/* Ready for app_grpc_topic_event once metadata and timeout_ms are set; points into ce and into this. */
	struct app_grpc_topic_event ev;
	json_t *extensions;  /* owned */
	unsigned char *data; /* owned, when the data had to be decoded or serialized */
};

/*
 * Fills out from the CloudEvent ce (a JSON object) delivered on topic of pubsub_name to path:
 * id, source, type, specversion and datacontenttype (a non-string one as ""); data from
 * data_base64 (decoded), else from data: as its text for a text/... or application/xml
 * datacontenttype, as JSON for application/json or application/cloudevents+json (keys sorted,
 * compact, as Go writes it), and none for any other; every other attribute (topic, pubsubname,
 * traceparent, time, ...) in extensions. Returns 0, or -1 with the reason in err when the
 * event cannot be sent (data_base64 not base64 or not a string, a text type whose data is not a
 * string): daprd retries such an event. Ownership: ce must outlive out; free out with
 * grpc_envelope_free (also after a failure). Thread: any.
 */
int grpc_envelope_from_cloudevent(json_t *ce, const char *topic, const char *pubsub_name, const char *path,
				  struct grpc_envelope *out, char *err, size_t errlen);

void grpc_envelope_free(struct grpc_envelope *e);

#endif /* OUTRIG_CORE_BLOCKS_PUBSUB_GRPC_ENVELOPE_H */
