/* SPDX-License-Identifier: Apache-2.0 */
/* A CloudEvent as OnTopicEvent's request to a gRPC app, shaped as daprd shapes it. */
#include "config.h"

#include "blocks/pubsub/grpc_envelope.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "blocks/pubsub/cloudevent.h"

/* The attributes that have fields of their own; every other one is an extension. */
static const char *const envelope_fields[] = { "id",	      "source", "datacontenttype", "type",
					       "specversion", "data",	"data_base64" };

/* True when content_type is expected, alone or with parameters ("application/json; charset=utf-8"). */
static bool envelope_type_is(const char *content_type, const char *expected)
{
	size_t n = strlen(expected);

	return strncasecmp(content_type, expected, n) == 0 &&
	       (content_type[n] == '\0' || content_type[n] == ';');
}

static const char *envelope_string(json_t *ce, const char *key)
{
	const char *s = json_string_value(json_object_get(ce, key));

	return s != NULL ? s : "";
}

int grpc_envelope_from_cloudevent(json_t *ce, const char *topic, const char *pubsub_name, const char *path,
				  struct grpc_envelope *out, char *err, size_t errlen)
{
	struct app_grpc_topic_event *ev = &out->ev;
	json_t *b64, *data, *v;
	const char *key, *ct;

	memset(out, 0, sizeof(*out));
	ev->id = envelope_string(ce, "id");
	ev->source = envelope_string(ce, "source");
	ev->type = envelope_string(ce, "type");
	ev->spec_version = envelope_string(ce, "specversion");
	ev->data_content_type = ct = envelope_string(ce, "datacontenttype");
	ev->topic = topic;
	ev->pubsub_name = pubsub_name;
	ev->path = path;
	b64 = json_object_get(ce, "data_base64");
	data = json_object_get(ce, "data");
	if (b64 != NULL && !json_is_null(b64)) {
		size_t len;

		if (!json_is_string(b64)) {
			snprintf(err, errlen, "the event's data_base64 is not a string");
			return -1;
		}
		if ((out->data = cloudevent_base64_decode(json_string_value(b64), &len)) == NULL) {
			snprintf(err, errlen, "the event's data_base64 is not base64");
			return -1;
		}
		ev->data = out->data;
		ev->len = len;
	} else if (data != NULL && !json_is_null(data)) {
		if (strncasecmp(ct, "text/", 5) == 0 || envelope_type_is(ct, "application/xml")) {
			if (!json_is_string(data)) {
				snprintf(err, errlen,
					 "the event's data is not a string, as its datacontenttype %s says",
					 ct);
				return -1;
			}
			ev->data = json_string_value(data);
			ev->len = json_string_length(data);
		} else if (envelope_type_is(ct, "application/json") ||
			   envelope_type_is(ct, "application/cloudevents+json")) {
			char *text = json_dumps(data, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);

			if (text == NULL) {
				snprintf(err, errlen, "out of memory serializing the event's data");
				return -1;
			}
			out->data = (unsigned char *)text;
			ev->data = text;
			ev->len = strlen(text);
		}
		/* daprd sends no data for any other type that came without data_base64. */
	}
	if ((out->extensions = json_object()) == NULL) {
		snprintf(err, errlen, "out of memory copying the event's extensions");
		return -1;
	}
	json_object_foreach(ce, key, v)
	{
		bool own = false;

		for (size_t i = 0; i < sizeof(envelope_fields) / sizeof(envelope_fields[0]); i++)
			own = own || strcmp(key, envelope_fields[i]) == 0;
		if (!own && json_object_set(out->extensions, key, v) != 0) {
			snprintf(err, errlen, "out of memory copying the event's extensions");
			return -1;
		}
	}
	ev->extensions = out->extensions;
	return 0;
}

void grpc_envelope_free(struct grpc_envelope *e)
{
	json_decref(e->extensions);
	free(e->data);
	memset(e, 0, sizeof(*e));
}
